"""Stage 2: instruction tuning on the *text form* of the SpeechVerse tasks (the paper's GT -> LLM model).

Text form. Each speech example of the corpus planner (`modeling_speechverse.data.planning.plan_task`) gives a
transcript, an instruction drawn from the task's prompt bank and a target. The LLM input is

    "<transcript>\\n<instruction>"          (`format_text_input`; the `</s>` is added by the tokenizer)

i.e. exactly SpeechVerse's encoder input (Eq. 2: audio features, then the instruction tokens, then `</s>`) with
the transcript's tokens standing where the audio frames will stand. The T5 tokenizer turns the newline into an
ordinary word boundary, so the token ids are `ids(transcript) + ids(instruction) + [</s>]`: nothing marks the
transcript, because nothing marks the audio in SpeechVerse either. A "Text:" label or a separator token would be
context the LLM learns to rely on that the speech model never provides; without it, swapping the transcript for
audio features is the only change, and the cascade baseline (ASR hypothesis -> LLM) uses the same function.

Tasks with a text form: ASR (copy the transcript), ST (Multi30k EN -> DE/FR), IC (seen intents only), SF (seen
slot types only), KWE (YAKE keywords), KWS (yes/no), ASC (GoEmotions sentiment) and INSTRUCT (Alpaca). ER, AC,
SC and SNS are about the voice, not the words, and have no text form. The held-out tasks (DC, IC-UNSEEN,
SF-UNSEEN) are never trained, so the speech model's zero-shot results stay zero-shot for the LLM as well.

Differences from the speech corpus, to make the LLM read the instruction rather than memorise answers: IC label
lists are, for half the examples, a random subset (gold included) in random order; KWS is balanced 50/50.
"""

from __future__ import annotations

import os
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from transformers import PreTrainedTokenizerBase, T5ForConditionalGeneration

from ..data.pipeline import instruction_fields
from ..data.planning import Corpora, plan_task
from ..tasks import get_task
from .training import Batch, TrainingConfig, length_grouped_batches, pad_seq2seq, train_seq2seq

TEXT_TASKS = ("ASR", "ST", "IC", "SF", "KWE", "KWS", "ASC", "INSTRUCT")
TEXT_INPUT_FORMAT = "{transcript}\n{instruction}"
DESCRIBE_RATE = 0.5  # as the speech pipeline (`prepare_split`): half the label-list prompts add descriptions
LABEL_SUBSET_RATE = 0.5
MAX_INPUT_TOKENS = 256
MAX_TARGET_TOKENS = 128


def format_text_input(transcript: str, instruction: str) -> str:
    """The LLM input of the text form of a task: the transcript, a newline, the instruction (see module docs)."""
    if not isinstance(transcript, str) or not isinstance(instruction, str):
        raise ValueError(f"transcript and instruction must be strings, got {transcript!r}, {instruction!r}")
    if not transcript.strip() or not instruction.strip():
        raise ValueError(f"transcript and instruction must not be empty, got {transcript!r}, {instruction!r}")
    return TEXT_INPUT_FORMAT.format(transcript=transcript.strip(), instruction=instruction.strip())


@dataclass(frozen=True)
class TextExample:
    """One text-form example.

    Args:
        task: task code, e.g. `"IC"`.
        transcript: the words that are spoken in the speech form.
        instruction: the filled instruction.
        target: the exact target string.
        labels: the candidate labels (IC intents, SF slot types, KWS yes/no) the instruction offered, or `()`.
        target_language: ST only, `"German"` or `"French"`.
    """

    task: str
    transcript: str
    instruction: str
    target: str
    labels: tuple[str, ...] = ()
    target_language: str = ""

    @property
    def text(self) -> str:
        return format_text_input(self.transcript, self.instruction)


def _label_subset(labels: Sequence[str], gold: str, rng: random.Random) -> list[str]:
    """A random subset of `labels` of size 2..all that contains `gold`, in random order."""
    others = [label for label in labels if label != gold]
    chosen = rng.sample(others, rng.randint(1, len(others))) + [gold]
    rng.shuffle(chosen)
    return chosen


def text_examples(
    corpora: Corpora, task: str, split: str, n: int, seed: int = 0, prompt_split: str = "train"
) -> list[TextExample]:
    """`n` text-form examples of `task` from a corpus split (see the module docs).

    Args:
        corpora: the loaded source corpora.
        task: one of `TEXT_TASKS`, or a held-out task (DC, IC-UNSEEN, SF-UNSEEN) for evaluation.
        split: `"train"`, `"validation"` or `"test"`.
        n: number of examples (fewer if the planner runs out, e.g. KWE sentences without keywords).
        seed: seeds the planner and each example's prompt draw.
        prompt_split: `"train"` or `"heldout"` instruction templates.
    """
    code = get_task(task).code
    augment = split == "train"
    # KWS is balanced by dropping extra positives, so plan enough examples for n/2 negatives.
    planned = plan_task(corpora, code, split, 2 * n if code == "KWS" else n, seed)
    if code == "KWS":
        by_answer = defaultdict(list)
        for spec in planned:
            by_answer[spec["target"]].append(spec)
        planned = [spec for pair in zip(by_answer["yes"], by_answer["no"], strict=False) for spec in pair][:n]
    examples = []
    for spec in planned:
        rng = random.Random(f"{seed}:{spec['id']}")
        fields = instruction_fields(code, spec)
        if augment and code == "IC" and rng.random() < LABEL_SUBSET_RATE:
            fields["labels"] = _label_subset(fields["labels"], spec["target"], rng)
        describe = rng.random() < DESCRIBE_RATE and ("labels" in fields or "slots" in fields)
        instruction = get_task(code).sample_instruction(rng, prompt_split, describe=describe, **fields)
        examples.append(
            TextExample(
                code,
                spec["transcript"],
                instruction,
                spec["target"],
                tuple(fields.get("labels", spec["labels"])),
                spec["target_language"],
            )
        )
    return examples


def tokenize_examples(
    examples: Sequence[TextExample], tokenizer: PreTrainedTokenizerBase
) -> list[tuple[list[int], list[int]]]:
    """`(input_ids, label_ids)` per example (both end in `</s>`); examples over `MAX_INPUT_TOKENS` /
    `MAX_TARGET_TOKENS` are dropped."""
    inputs = tokenizer([example.text for example in examples])["input_ids"]
    targets = tokenizer([example.target for example in examples])["input_ids"]
    return [
        (source, target)
        for source, target in zip(inputs, targets, strict=True)
        if len(source) <= MAX_INPUT_TOKENS and len(target) <= MAX_TARGET_TOKENS
    ]


def instruction_batches(
    pairs: Sequence[tuple[list[int], list[int]]], pad_token_id: int, batch_size: int, seed: int
) -> Callable[[int], Batch]:
    """step -> batch of similar-length examples, reshuffled every epoch (`training.length_grouped_batches`)."""
    rows = length_grouped_batches([len(source) + len(target) for source, target in pairs], batch_size, seed)

    def make_batch(step: int) -> Batch:
        chosen = [pairs[i] for i in rows(step)]
        return pad_seq2seq([source for source, _ in chosen], [target for _, target in chosen], pad_token_id)

    return make_batch


def instruction_tune(
    model: T5ForConditionalGeneration,
    tokenizer: PreTrainedTokenizerBase,
    examples: Sequence[TextExample],
    validation_examples: Sequence[TextExample],
    config: TrainingConfig,
    checkpoint_dir: str | os.PathLike,
    seed: int = 0,
    log: Callable[[str], None] = print,
) -> list[dict[str, Any]]:
    """Fine-tune on text-form examples (all tasks mixed); returns the training history of `train_seq2seq`."""
    pairs = tokenize_examples(examples, tokenizer)
    validation_pairs = tokenize_examples(validation_examples, tokenizer)
    validation = [
        pad_seq2seq(
            [source for source, _ in validation_pairs[i : i + config.batch_size]],
            [target for _, target in validation_pairs[i : i + config.batch_size]],
            tokenizer.pad_token_id,
        )
        for i in range(0, len(validation_pairs), config.batch_size)
    ]
    log(
        f"instruction tuning on {len(pairs)} examples ({len(examples) - len(pairs)} over the length limits); "
        f"{config.steps * config.batch_size / len(pairs):.2f} epochs"
    )
    make_batch = instruction_batches(pairs, tokenizer.pad_token_id, config.batch_size, seed)
    return train_seq2seq(model, make_batch, config, checkpoint_dir, validation=validation, log=log)
