"""Build the mini text LLM from scratch, offline and deterministically (seeded):

    python -m modeling_speechverse.mini_llm.build --out checkpoints/mini-t5 [--work-dir runs/mini-t5-build]

1. a SentencePiece unigram tokenizer on the project's text, saved as a T5 tokenizer (`tokenizer.py`);
2. a ~11M-parameter T5 (`pretrain.mini_t5_config`) pretrained with span corruption (`pretrain.py`);
3. instruction tuning on the text form of the tasks (`instruct.py`);
4. the model saved in float16 safetensors shards under 15 MB, with its tokenizer, `training_log.json`,
   `eval_results.json` (the text-only evaluation of `evaluation.py`) and a model card.

Every stage writes resumable state under `--work-dir` every `save_every` steps; rerunning the same command after a
kill continues where it stopped and gives the same weights as an uninterrupted run.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from transformers import AutoModelForSeq2SeqLM, AutoTokenizer, T5ForConditionalGeneration

from ..data.planning import Corpora
from ..data.sources import DEFAULT_SOURCES_DIR
from .corpus import corpus_texts, tokenizer_texts
from .evaluation import evaluate_text_model
from .instruct import MAX_TARGET_TOKENS, TEXT_TASKS, instruction_tune, text_examples
from .model_card import render_model_card
from .pretrain import mini_t5_config, pretrain
from .tokenizer import train_t5_tokenizer
from .training import TrainingConfig

logger = logging.getLogger("modeling_speechverse.mini_llm.build")

MAX_SHARD_SIZE = "14MB"
# Training examples per task; ST has two target languages, ASR anchors SpeechVerse's curriculum.
EXAMPLES_PER_TASK = {
    "ASR": 6000,
    "ST": 8000,
    "IC": 4000,
    "SF": 4000,
    "KWE": 3000,
    "KWS": 4000,
    "ASC": 3000,
    "INSTRUCT": 2000,
}
VALIDATION_EXAMPLES_PER_TASK = 32


def save_checkpoint(model: T5ForConditionalGeneration, tokenizer, spm_model: bytes, out: Path) -> None:
    """Write float16 safetensors shards (< 15 MB each), the tokenizer (`tokenizer.json` and `spiece.model`) and a
    generation config. The config keeps `dtype: float32`, so a plain `from_pretrained` computes in float32 on CPU."""
    out.mkdir(parents=True, exist_ok=True)
    model.generation_config.max_new_tokens = MAX_TARGET_TOKENS
    # Tied weights (`shared`, both `embed_tokens`, `lm_head`) must stay one tensor so that only one copy is saved.
    converted: dict[int, torch.Tensor] = {}
    half = {
        name: converted.setdefault(tensor.data_ptr(), tensor.detach().to(torch.float16).contiguous())
        for name, tensor in model.state_dict().items()
    }
    model.save_pretrained(out, state_dict=half, max_shard_size=MAX_SHARD_SIZE)
    tokenizer.save_pretrained(out)
    (out / "spiece.model").write_bytes(spm_model)


def build(args: argparse.Namespace) -> dict[str, Any]:
    """Run every stage (see the module docs) and return the build info written into the model card."""
    torch.set_num_threads(args.threads)
    out, work = Path(args.out), Path(args.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    corpora = Corpora(Path(args.sources))

    tokenizer, spm_model = train_t5_tokenizer(tokenizer_texts(corpora), vocab_size=args.vocab_size, seed=args.seed)
    logger.info("tokenizer: %d ids", len(tokenizer))

    torch.manual_seed(args.seed)
    model = T5ForConditionalGeneration(mini_t5_config(len(tokenizer)))
    num_parameters = sum(p.numel() for p in model.parameters())
    logger.info("model: %.2fM parameters", num_parameters / 1e6)

    pretrain_config = TrainingConfig(
        steps=args.pretrain_steps,
        batch_size=args.pretrain_batch_size,
        learning_rate=args.pretrain_lr,
        warmup_steps=max(1, args.pretrain_steps // 10),
        log_every=args.log_every,
        save_every=args.save_every,
    )
    train_texts, validation_texts = corpus_texts(corpora, "train"), corpus_texts(corpora, "validation")
    pretrain_history = pretrain(
        model,
        tokenizer,
        train_texts,
        validation_texts,
        pretrain_config,
        work / "pretrain",
        seed=args.seed,
        log=logger.info,
    )

    counts = {task: max(1, round(count * args.examples_scale)) for task, count in EXAMPLES_PER_TASK.items()}
    examples = [e for task in TEXT_TASKS for e in text_examples(corpora, task, "train", counts[task], args.seed)]
    validation = [
        e
        for task in TEXT_TASKS
        for e in text_examples(corpora, task, "validation", VALIDATION_EXAMPLES_PER_TASK, args.seed)
    ]
    instruct_config = TrainingConfig(
        steps=args.instruct_steps,
        batch_size=args.batch_size,
        learning_rate=args.instruct_lr,
        warmup_steps=max(1, args.instruct_steps // 20),
        log_every=args.log_every,
        save_every=args.save_every,
    )
    instruct_history = instruction_tune(
        model, tokenizer, examples, validation, instruct_config, work / "instruct", seed=args.seed, log=logger.info
    )

    save_checkpoint(model, tokenizer, spm_model, out)
    # Evaluate what is shipped: the float16-rounded weights, reloaded the way users load them.
    shipped = AutoModelForSeq2SeqLM.from_pretrained(out, dtype=torch.float32)
    results = evaluate_text_model(
        shipped, AutoTokenizer.from_pretrained(out), corpora, n=args.eval_examples, seed=args.seed
    )
    info = {
        "seed": args.seed,
        "threads": args.threads,
        "num_parameters": num_parameters,
        "vocab_size": len(tokenizer),
        "train_texts": len(train_texts),
        "instruction_examples": {task: sum(e.task == task for e in examples) for task in TEXT_TASKS},
        "pretrain": {"config": asdict(pretrain_config), "history": pretrain_history},
        "instruct": {"config": asdict(instruct_config), "history": instruct_history},
        "seconds": round(time.monotonic() - started),
    }
    (out / "training_log.json").write_text(json.dumps(info, indent=1) + "\n")
    (out / "eval_results.json").write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    (out / "README.md").write_text(render_model_card(info, results))
    logger.info("saved %s", out)
    return info


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="output folder, e.g. checkpoints/mini-t5")
    parser.add_argument("--work-dir", default="runs/mini-t5-build", help="resumable training state")
    parser.add_argument("--sources", default=str(DEFAULT_SOURCES_DIR), help="the data_sources folder")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (1 is fastest on a busy 2-core box)")
    parser.add_argument("--vocab-size", type=int, default=8000)
    parser.add_argument("--pretrain-batch-size", type=int, default=64, help="sentences per pretraining step")
    parser.add_argument("--batch-size", type=int, default=32, help="examples per instruction-tuning step")
    parser.add_argument("--pretrain-steps", type=int, default=1500)
    parser.add_argument("--pretrain-lr", type=float, default=1e-2)
    parser.add_argument("--instruct-steps", type=int, default=1200)
    parser.add_argument("--instruct-lr", type=float, default=5e-3)
    parser.add_argument("--examples-scale", type=float, default=1.0, help="scales the training examples per task")
    parser.add_argument("--eval-examples", type=int, default=200, help="test examples per task")
    parser.add_argument("--log-every", type=int, default=20)
    parser.add_argument("--save-every", type=int, default=100)
    args = parser.parse_args(argv)
    if args.threads < 1 or args.pretrain_steps < 1 or args.instruct_steps < 1 or args.examples_scale <= 0:
        parser.error("--threads, --pretrain-steps and --instruct-steps must be positive, --examples-scale > 0")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    Path(args.work_dir).mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(message)s",
        handlers=[logging.StreamHandler(), logging.FileHandler(Path(args.work_dir) / "build.log")],
    )
    build(args)


if __name__ == "__main__":
    main()
