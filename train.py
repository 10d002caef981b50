"""Train SpeechVerse from a recipe (see docs/training.md).

accelerate launch --config_file accelerate_config.yaml train.py --recipe configuration/multitask-wlm.yaml
python train.py --recipe configuration/tiny.yaml [--set train.lr=1e-4] [--resume [CHECKPOINT]]
"""

from modeling_speechverse.training import parse_args, run

if __name__ == "__main__":
    recipe, resume = parse_args()
    run(recipe, resume=resume)
