"""Training and validation data of each curriculum stage, built with the data pipeline."""

from __future__ import annotations

from dataclasses import dataclass

import datasets
import torch
from torch.utils.data import DataLoader, Sampler

from ..configuration_speechverse import SpeechVerseConfig
from ..data.pipeline import (
    LengthGroupedBatchSampler,
    add_transcript_asr_examples,
    load_corpus,
    mix_tasks,
    prepare_split,
)
from .recipe import DataRecipe, Recipe


def load_training_corpus(data: DataRecipe, seed: int) -> datasets.DatasetDict:
    """
    The corpus's training split and its validation split, or (`validation_split: null`) a seeded
    `validation_fraction` of the training split held out as validation (Appendix A.2: 5%).

    Returns a `DatasetDict` with splits `train` and `validation`.
    """
    corpus = load_corpus(data.corpus)
    if data.train_split not in corpus:
        raise ValueError(f"corpus {data.corpus!r} has no split {data.train_split!r}; it has {list(corpus)}")
    if data.validation_split is None:
        held_out = corpus[data.train_split].train_test_split(test_size=data.validation_fraction, seed=seed)
        return datasets.DatasetDict(train=held_out["train"], validation=held_out["test"])
    if data.validation_split not in corpus:
        raise ValueError(
            f"corpus {data.corpus!r} has no split {data.validation_split!r} (it has {list(corpus)}); set "
            "data.validation_split: null to hold out data.validation_fraction of the training split instead"
        )
    return datasets.DatasetDict(train=corpus[data.train_split], validation=corpus[data.validation_split])


@dataclass
class StageData:
    """A stage's prepared training set (task-mixed), validation set, and the examples the pipeline dropped."""

    train: datasets.Dataset
    validation: datasets.Dataset
    dropped: dict[str, int]


def build_stage_data(
    corpus: datasets.DatasetDict, recipe: Recipe, stage_index: int, tokenizer, config: SpeechVerseConfig
) -> StageData:
    """Filter to the stage's tasks, sample instructions, drop over-long examples, and mix tasks by weight."""
    stage = recipe.curriculum[stage_index]
    tasks = recipe.stage_tasks(stage_index)
    # A different seed per stage gives the ASR-only stages different instructions for the same clips.
    seed = recipe.train.seed + stage_index
    options = {
        "joint_rate": recipe.data.joint_rate,
        "seed": seed,
        "tokenizer": tokenizer,
        "max_audio_seconds": config.max_audio_seconds,
        "max_label_tokens": config.max_label_tokens,
    }
    source = corpus["train"]
    if recipe.data.asr_from_transcripts and "ASR" in tasks:
        source = add_transcript_asr_examples(source)
    train, dropped = prepare_split(source, tasks, prompt_split="train", **options)
    missing = sorted(set(tasks) - set(train.unique("task")))
    if missing:
        raise ValueError(
            f"stage {stage.name!r}: the corpus {recipe.data.corpus!r} has no training examples of {missing}"
        )
    if len(tasks) > 1:
        train = mix_tasks(train, recipe.data.weights_for(tasks), seed=seed)
    validation, _ = prepare_split(corpus["validation"], tasks, prompt_split="train", **options)
    max_examples = recipe.eval.max_examples
    if max_examples is not None and len(validation) > max_examples:
        validation = validation.shuffle(seed=seed).select(range(max_examples))
    if len(validation) == 0:
        raise ValueError(f"stage {stage.name!r}: no validation examples of {tasks}")
    return StageData(train=train, validation=validation, dropped=dropped)


class ProcessBatchSampler(Sampler[list[int]]):
    """
    One process's share of a batch sampler's batches: global batches `process_index`, `process_index +
    num_processes`, ... Every process gets the same number, since DeepSpeed and DDP step all processes together:
    training drops the last `< num_processes` batches of a pass (different ones each epoch when shuffled),
    evaluation (`pad=True`) repeats the first batches instead, and `is_padding` tells those repeats apart.

    Set `start` to skip this process's first batches in the next pass (resuming mid-epoch).
    """

    def __init__(self, batch_sampler: LengthGroupedBatchSampler, num_processes: int, process_index: int, pad: bool):
        self.batch_sampler = batch_sampler
        self.num_processes = num_processes
        self.process_index = process_index
        self.pad = pad
        self.start = 0
        self.num_real_batches = 0

    def set_epoch(self, epoch: int) -> None:
        self.batch_sampler.set_epoch(epoch)

    def _global_batches(self) -> list[list[int]]:
        batches = list(self.batch_sampler)
        self.num_real_batches = len(batches)
        if not self.pad:
            return batches[: len(batches) - len(batches) % self.num_processes]
        while batches and len(batches) % self.num_processes:
            batches.append(batches[len(batches) - self.num_real_batches])
        return batches

    def __iter__(self):
        batches = self._global_batches()[self.process_index :: self.num_processes]
        start, self.start = self.start, 0
        return iter(batches[start:])

    def __len__(self) -> int:
        rounds, remainder = divmod(len(self.batch_sampler), self.num_processes)
        return rounds + int(self.pad and remainder > 0)

    def is_padding(self, local_index: int) -> bool:
        """Whether this process's `local_index`-th batch of the last pass repeats a batch of another process."""
        return self.process_index + local_index * self.num_processes >= self.num_real_batches


def make_loader(
    dataset: datasets.Dataset,
    batch_size: int,
    collator,
    *,
    shuffle: bool,
    seed: int,
    num_workers: int,
    num_processes: int,
    process_index: int,
) -> tuple[DataLoader, ProcessBatchSampler]:
    """
    A loader of this process's length-grouped batches and its sampler (call `sampler.set_epoch` before each pass).
    Training loaders (`shuffle=True`) drop a pass's last uneven batches; evaluation loaders pad instead. The loader
    has its own generator so that starting a pass never draws from the global RNG, which a resumed run restores to
    the state of the interrupted one.
    """
    lengths = list(dataset["duration"])
    batches = LengthGroupedBatchSampler(lengths, batch_size=batch_size, shuffle=shuffle, seed=seed)
    sampler = ProcessBatchSampler(batches, num_processes, process_index, pad=not shuffle)
    loader = DataLoader(
        dataset,
        batch_sampler=sampler,
        collate_fn=collator,
        num_workers=num_workers,
        generator=torch.Generator().manual_seed(seed),
    )
    return loader, sampler
