"""A tiny trained-looking SpeechVerse checkpoint folder, as the training script leaves it, for the Hub tests."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from modeling_speechverse import SpeechVerseConfig, SpeechVerseForConditionalGeneration, SpeechVerseProcessor
from modeling_speechverse.testing_utils import save_tiny_backbones

RECIPE_YAML = """\
model:
  audio_backbone: builtin:whisper-tiny.en
  text_backbone: checkpoints/mini-t5
  lora_rank: 4
curriculum:
  - {name: align, lora: false, tasks: [ASR], max_steps: 1200}
  - {name: lora-warmup, lora: true, tasks: [ASR], max_steps: 400}
  - {name: multitask, lora: true, patience: 5}
train:
  lr: 0.00031
  warmup_steps: 250
  effective_batch_size: 64
data:
  corpus: data/speechverse-synth
  task_weights: {ASR: 3, ST: 2, IC: 1}
"""


def _entry(task: str, metric: str, value: float, **overrides) -> dict:
    entry = dict(task=task, dataset="speechverse-synth", split="test", metric=metric, value=value, n=200,
                 n_unparseable=0, prompts="seen", constrained=False, joint=False, system="e2e")
    return {**entry, **overrides}


RESULTS = {
    "schema_version": 1,
    "model": {"name": "speechverse-tiny"},
    "data": {"corpus": "speechverse-synth", "split": "test"},
    "settings": {"num_beams": 1},
    "results": [
        _entry("ASR", "wer", 12.5),
        _entry("IC", "accuracy", 81.0, constrained=True),
        _entry("ER", "uar", 55.5),
        _entry("ASR", "wer", 30.25, system="cascade"),  # a baseline: not this model's result
    ],
}


def build_model(directory: Path, seed: int = 0) -> tuple[SpeechVerseForConditionalGeneration, SpeechVerseProcessor]:
    """A tiny model whose config names backbones saved under `directory`, with adapters moved off their init."""
    audio_id, text_id = save_tiny_backbones(directory / "backbones", seed=seed)
    config = SpeechVerseConfig.from_backbones(audio_id, text_id, lora_rank=4)
    model = SpeechVerseForConditionalGeneration.from_backbones(config=config)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in model.parameters():
            if param.requires_grad:
                param.add_(0.05 * torch.randn(param.shape, generator=generator))
    processor = SpeechVerseProcessor.from_backbones(audio_id, text_id, max_audio_seconds=config.max_audio_seconds)
    return model.eval(), processor


def save_checkpoint(
    model, processor, directory: Path, *, recipe: bool = True, results: bool = True, save_full: bool = False
) -> Path:
    """Save like the training script: weights, config, processor, and optionally recipe.yaml and results.json."""
    model.save_pretrained(directory, save_full=save_full)
    processor.save_pretrained(directory)
    if recipe:
        (directory / "recipe.yaml").write_text(RECIPE_YAML)
    if results:
        (directory / "results.json").write_text(json.dumps(RESULTS))
    return directory
