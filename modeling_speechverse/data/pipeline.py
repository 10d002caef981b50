"""Training input pipeline: instructions, joint examples, length filters, task mixing, collation, batching.

Data flows one way: a corpus split (`load_corpus`) -> `prepare_split` (instruction per example, joint ASR+task
examples, the paper's length filters) -> `mix_tasks` (weighted task sampling, Section 2.2) -> batches from
`LengthGroupedBatchSampler` -> `SpeechVerseCollator` -> model inputs.
"""

from __future__ import annotations

import io
import logging
import os
import random
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import datasets
import numpy as np
import torch
from torch.utils.data import Sampler

from ..tasks import get_task, make_joint_example

if TYPE_CHECKING:
    from ..training.encoder_cache import EncoderStateCache

logger = logging.getLogger(__name__)

# Tasks whose audio carries no words, or whose answer is the transcript itself: no joint ASR+task examples.
NO_JOINT_TASKS = frozenset({"ASR", "SNS", "SC", "INSTRUCT"})


def load_corpus(path_or_hub_id: str, **load_kwargs: Any) -> datasets.DatasetDict:
    """
    A corpus as a `DatasetDict`: a `save_to_disk` folder (e.g. from `modeling_speechverse.data.build`) or a Hub id.
    The audio column is left encoded; the collator decodes it, so a bad file costs one example, not the epoch.
    """
    if os.path.isdir(path_or_hub_id):
        corpus = datasets.load_from_disk(path_or_hub_id)
    else:
        corpus = datasets.load_dataset(path_or_hub_id, **load_kwargs)
    if not isinstance(corpus, datasets.DatasetDict):
        raise ValueError(f"{path_or_hub_id!r} holds a single split; expected a DatasetDict with train/validation/test")
    return corpus.cast_column("audio", datasets.Audio(decode=False))


def instruction_fields(task_code: str, example: dict[str, Any]) -> dict[str, Any]:
    """The prompt-template fields of a task, read from a corpus example's columns."""
    task = get_task(task_code)
    available = {
        "labels": example.get("labels") or None,
        "slots": example.get("labels") or None,
        "keyword": example.get("keyword") or None,
        "language": example.get("target_language") or None,
        "instruction": example.get("instruction") or None,
    }
    return {name: value for name, value in available.items() if name in task.fields and value is not None}


def _example_rng(seed: int, example_id: str) -> random.Random:
    # Seeded by the example's id, so an example gets the same prompt whatever order or subset it is read in.
    return random.Random(f"{seed}:{example_id}")


def prepare_split(
    dataset: datasets.Dataset,
    tasks: Sequence[str] | None = None,
    *,
    prompt_split: str = "train",
    joint_rate: float = 0.0,
    describe_rate: float = 0.5,
    seed: int = 0,
    tokenizer=None,
    max_audio_seconds: float | None = None,
    max_label_tokens: int | None = None,
    num_proc: int | None = None,
) -> tuple[datasets.Dataset, dict[str, int]]:
    """
    Select tasks, give every example an instruction and drop what the paper's length limits exclude.

    Args:
        dataset: one corpus split.
        tasks: task codes to keep (`None`: all).
        prompt_split: `"train"` samples training instructions, `"heldout"` the unseen ones (Table 5).
        joint_rate: fraction of eligible examples turned into joint "ASR: ... <TASK>: ..." examples (Sec. 4.3.2).
        describe_rate: fraction of label-list prompts that add one-line label descriptions (Appendix A.3).
        seed: prompt sampling seed.
        tokenizer, max_label_tokens: targets longer than this many tokens are dropped.
        max_audio_seconds: clips longer than this are dropped (900 encoder frames in the paper).

    Returns:
        The prepared dataset (adds `instruction`, `joint`; `target` becomes the joint target where drawn) and the
        number of examples dropped for each reason.
    """
    if not 0.0 <= joint_rate <= 1.0:
        raise ValueError(f"joint_rate must be within [0, 1], got {joint_rate}")
    dropped: Counter[str] = Counter()
    if tasks is not None:
        wanted = {get_task(code).code for code in tasks}
        dataset = dataset.filter(lambda task: task in wanted, input_columns="task", num_proc=num_proc)

    def add_instruction(example: dict[str, Any]) -> dict[str, Any]:
        rng = _example_rng(seed, example["id"])
        task = example["task"]
        fields = instruction_fields(task, example)
        target = example["target"]
        joint = task not in NO_JOINT_TASKS and bool(example["transcript"]) and rng.random() < joint_rate
        if joint:
            instruction, target = make_joint_example(task, example["transcript"], target, rng, prompt_split, **fields)
        else:
            describe = rng.random() < describe_rate and ("labels" in fields or "slots" in fields)
            instruction = get_task(task).sample_instruction(rng, prompt_split, describe=describe, **fields)
        return {"instruction": instruction, "target": target, "joint": joint}

    dataset = dataset.map(add_instruction, num_proc=num_proc, desc="Sampling instructions")
    if max_audio_seconds is not None:
        before = len(dataset)
        dataset = dataset.filter(lambda d: d <= max_audio_seconds, input_columns="duration", num_proc=num_proc)
        dropped["audio_too_long"] = before - len(dataset)
    if max_label_tokens is not None:
        if tokenizer is None:
            raise ValueError("max_label_tokens needs the tokenizer that counts the target's tokens")
        before = len(dataset)
        dataset = dataset.filter(
            lambda targets: [len(ids) <= max_label_tokens for ids in tokenizer(targets)["input_ids"]],
            input_columns="target",
            batched=True,
            num_proc=num_proc,
        )
        dropped["label_too_long"] = before - len(dataset)
    for reason, count in dropped.items():
        if count:
            logger.warning("Dropped %d examples: %s", count, reason.replace("_", " "))
    return dataset, dict(dropped)


def add_transcript_asr_examples(dataset: datasets.Dataset) -> datasets.Dataset:
    """
    Every speech clip of another task also becomes an ASR example, its transcript the target (same `id`: same
    audio). On a corpus whose ASR task has few clips this multiplies the speech the alignment stages see.
    """
    extra = dataset.filter(
        lambda task, transcript: task != "ASR" and bool(transcript), input_columns=["task", "transcript"]
    )
    extra = extra.map(
        lambda transcript: {"task": "ASR", "target": transcript, "labels": [], "keyword": "", "target_language": ""},
        input_columns="transcript",
        desc="ASR examples from transcripts",
    )
    return datasets.concatenate_datasets([dataset, extra])


def mix_tasks(
    dataset: datasets.Dataset,
    weights: dict[str, float],
    seed: int = 0,
    stopping_strategy: str = "all_exhausted",
) -> datasets.Dataset:
    """
    Weighted task sampling (Section 2.2): `weights[task]` is the weight of each *sample* of that task, so a task is
    drawn with probability proportional to `weight x number of examples`. Tasks without a weight are dropped.
    """
    counts = Counter(dataset["task"])
    unknown = set(weights) - set(counts)
    if unknown:
        raise ValueError(f"Task weights name tasks absent from the data: {sorted(unknown)}")
    if any(w < 0 for w in weights.values()) or not any(w > 0 for w in weights.values()):
        raise ValueError(f"Task weights must be non-negative with at least one positive, got {weights}")
    tasks = [task for task, weight in weights.items() if weight > 0]
    parts = [dataset.filter(lambda t, task=task: t == task, input_columns="task") for task in tasks]
    mass = np.array([weights[task] * counts[task] for task in tasks], dtype=np.float64)
    if len(parts) == 1:
        return parts[0].shuffle(seed=seed)
    return datasets.interleave_datasets(
        parts, probabilities=(mass / mass.sum()).tolist(), seed=seed, stopping_strategy=stopping_strategy
    )


def decode_audio(audio: Any) -> tuple[np.ndarray, int]:
    """An `Audio` column value (encoded `{"bytes", "path"}`, decoded `{"array", "sampling_rate"}`, or a
    torchcodec decoder) as `(mono float32 samples, sampling rate)`."""
    import soundfile

    if isinstance(audio, dict) and audio.get("array") is not None:
        return np.asarray(audio["array"], dtype=np.float32), int(audio["sampling_rate"])
    if isinstance(audio, dict) and (audio.get("bytes") or audio.get("path")):
        source = io.BytesIO(audio["bytes"]) if audio.get("bytes") else audio["path"]
        try:
            samples, sampling_rate = soundfile.read(source, dtype="float32", always_2d=True)
        except Exception as error:  # soundfile raises several types for unreadable data
            raise ValueError(f"unreadable audio ({error})") from None
        return samples.mean(axis=1), int(sampling_rate)
    if hasattr(audio, "get_all_samples"):
        samples = audio.get_all_samples()
        return samples.data.mean(dim=0).numpy().astype(np.float32), int(samples.sample_rate)
    raise ValueError(f"no audio in {type(audio).__name__}")


class SpeechVerseCollator:
    """
    Turns prepared examples into a padded batch of model inputs (labels padded with -100) plus `tasks`, the task
    code of each row, and `audio_seconds`, the seconds of audio in the batch. Examples whose audio is unreadable,
    empty, silent or too long are skipped with a warning and counted in `skipped`; a batch with nothing usable
    left is `None`.

    With `encoder_states`, audio comes as the encoder's cached outputs (`audio_layer_states`,
    `audio_frame_lengths`) instead of `input_features`.
    """

    def __init__(self, processor, encoder_states: EncoderStateCache | None = None):
        self.processor = processor
        self.encoder_states = encoder_states
        self.skipped: Counter[str] = Counter()

    def _audio(self, example: dict[str, Any]) -> tuple[np.ndarray | None, float]:
        """The example's clip (`None` when its encoder outputs are cached) and its seconds; ValueError if unusable."""
        if self.encoder_states is not None:
            if example["id"] not in self.encoder_states:
                raise ValueError("unreadable audio (it has no cached encoder outputs)")
            return None, float(example["duration"])
        samples, sampling_rate = decode_audio(example["audio"])
        clip = self.processor.load_audio(samples, sampling_rate)
        return clip, len(clip) / self.processor.sampling_rate

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, Any] | None:
        ids, clips, instructions, targets, tasks, seconds = [], [], [], [], [], 0.0
        for example in examples:
            try:
                if not example.get("target"):
                    raise ValueError("missing target")
                clip, clip_seconds = self._audio(example)
            except ValueError as error:
                self.skipped[str(error).split(";")[0][:60]] += 1
                logger.warning("Skipping example %s: %s", example.get("id", "?"), error)
                continue
            clips.append(clip)
            seconds += clip_seconds
            ids.append(example.get("id"))
            instructions.append(example["instruction"])
            targets.append(example["target"])
            tasks.append(example["task"])
        if not ids:
            return None
        if self.encoder_states is None:
            batch = self.processor(
                audio=clips, sampling_rate=self.processor.sampling_rate, text=instructions, text_target=targets
            )
        else:
            states, lengths = self.encoder_states.lookup(ids)
            batch = self.processor(text=instructions, text_target=targets)
            batch.update(audio_layer_states=states, audio_frame_lengths=lengths)
        return {**batch, "tasks": tasks, "audio_seconds": seconds}


class LengthGroupedBatchSampler(Sampler[list[int]]):
    """
    Batches of similar-length examples (transformers' megabatch grouping), so little compute goes to padding, in a
    seeded order that changes with `set_epoch`.

    Args:
        lengths: one length per example (e.g. duration in seconds).
        batch_size: examples per batch.
        shuffle: draw a new grouping every epoch; `False` keeps dataset order (evaluation).
    """

    def __init__(
        self, lengths: Sequence[float], batch_size: int, shuffle: bool = True, seed: int = 0, drop_last: bool = False
    ):
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        self.lengths = list(lengths)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.drop_last = drop_last
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def batches(self) -> list[list[int]]:
        from transformers.trainer_pt_utils import get_length_grouped_indices

        if self.shuffle:
            generator = torch.Generator().manual_seed(self.seed + self.epoch)
            order = get_length_grouped_indices(self.lengths, self.batch_size, generator=generator)
        else:
            order = list(range(len(self.lengths)))
        batches = [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        if self.drop_last and batches and len(batches[-1]) < self.batch_size:
            batches.pop()
        return batches

    def __iter__(self) -> Iterator[list[int]]:
        return iter(self.batches())

    def __len__(self) -> int:
        full, rest = divmod(len(self.lengths), self.batch_size)
        return full + (rest > 0 and not self.drop_last)


def padding_fraction(lengths: Sequence[float], batches: Sequence[Sequence[int]]) -> float:
    """Share of the padded batch area that is padding: `1 - sum(lengths) / sum(batch max x batch size)`."""
    padded = sum(max(lengths[i] for i in batch) * len(batch) for batch in batches if batch)
    real = sum(lengths[i] for batch in batches for i in batch)
    return 1.0 - real / padded if padded else 0.0
