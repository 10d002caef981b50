"""Batched generation for evaluation: audio decoding, optional constrained decoding, throughput accounting."""

from __future__ import annotations

import logging
import re
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import datasets
import numpy as np
import torch

from ..data.pipeline import decode_audio
from ..decoding import constrain_slot_labels, constrain_to_labels


logger = logging.getLogger(__name__)

CONSTRAINTS = ("labels", "slots")


def encoded_audio(dataset: datasets.Dataset) -> datasets.Dataset:
    """`dataset` with its `audio` column left encoded, so clips are decoded one batch at a time (and a bad file
    costs one output, not the run)."""
    feature = dataset.features.get("audio")
    if feature is None:
        raise ValueError(f"the dataset has no audio column; its columns are {dataset.column_names}")
    if isinstance(feature, datasets.Audio) and feature.decode:
        return dataset.cast_column("audio", datasets.Audio(sampling_rate=feature.sampling_rate, decode=False))
    return dataset


@dataclass
class Throughput:
    """Examples and seconds of audio generated for, and the wall time it took (audio decoding included)."""

    examples: int = 0
    audio_seconds: float = 0.0
    wall_seconds: float = 0.0

    def add(self, other: Throughput) -> None:
        self.examples += other.examples
        self.audio_seconds += other.audio_seconds
        self.wall_seconds += other.wall_seconds

    def as_dict(self) -> dict[str, float]:
        seconds = max(self.wall_seconds, 1e-9)
        return {
            "examples": self.examples,
            "audio_seconds": round(self.audio_seconds, 3),
            "wall_seconds": round(self.wall_seconds, 3),
            "examples_per_second": round(self.examples / seconds, 3),
            "audio_seconds_per_second": round(self.audio_seconds / seconds, 3),
        }


class BatchGenerator:
    """Runs a SpeechVerse model's `generate()` over many (audio, instruction) or text-only inputs in batches.

    Audio inputs are sorted longest first, so batches hold clips of similar length (little padding) and a batch too
    large for memory fails at once. Clips the processor rejects (unreadable, empty, silent, too long) produce no
    output (None) and are counted in `failures`, so one bad file never stops an evaluation.

    Args:
        model: A `SpeechVerseForConditionalGeneration` (in eval mode, on its device).
        processor: Its `SpeechVerseProcessor`.
        batch_size: Examples per `generate()` call.
        num_beams: Beam width (1: greedy search).
        max_new_tokens: Generation limit for free text; label-constrained decoding needs only the longest label.
    """

    def __init__(self, model, processor, batch_size: int = 8, num_beams: int = 1, max_new_tokens: int = 128):
        for name, value in (("batch_size", batch_size), ("num_beams", num_beams), ("max_new_tokens", max_new_tokens)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        self.model = model
        self.processor = processor
        self.batch_size = batch_size
        self.num_beams = num_beams
        self.max_new_tokens = max_new_tokens
        self.throughput = Throughput()
        self.failures: Counter[str] = Counter()

    def _load_clip(self, audio: Any, example_id: str) -> np.ndarray | None:
        try:
            samples, sampling_rate = decode_audio(audio)
            return self.processor.load_audio(samples, sampling_rate)
        except ValueError as error:
            # Numbers (durations, sizes) are dropped so that failures of one kind share a count.
            reason = re.sub(r"\d+(\.\d+)?", "N", str(error).split(";")[0])[:80]
            self.failures[reason] += 1
            logger.debug("No output for example %s: %s", example_id, error)
            return None

    def _logits_processor(self, constraint: str | None, label_sets: list[list[str]]) -> tuple[Any, int]:
        tokenizer = self.processor.tokenizer
        if constraint == "labels":
            processors = constrain_to_labels(tokenizer, label_sets, num_beams=self.num_beams)
            return processors, processors[0].max_new_tokens
        if constraint == "slots":
            return constrain_slot_labels(tokenizer, label_sets, num_beams=self.num_beams), self.max_new_tokens
        return None, self.max_new_tokens

    def generate(
        self,
        instructions: Sequence[str],
        audio: Sequence[Any] | None = None,
        *,
        ids: Sequence[str] | None = None,
        durations: Sequence[float] | None = None,
        constraint: str | None = None,
        label_sets: Sequence[Sequence[str]] | None = None,
        progress=None,
    ) -> list[str | None]:
        """Generate one text per instruction.

        Args:
            instructions: The text inputs (instruction, or transcript and instruction for text-only inputs).
            audio: One audio value per instruction (`Audio` column values, encoded or decoded); None: text only.
            ids: Example ids, for warnings.
            durations: Clip lengths in seconds, used to batch similar lengths together.
            constraint: None (free text), "labels" (exactly one label of the example's set) or "slots" (slot names
                from the example's set).
            label_sets: One label (or slot name) list per instruction, for `constraint`.
            progress: A tqdm bar advanced by one per example.

        Returns:
            The decoded generations in input order; None where the audio could not be used.
        """
        count = len(instructions)
        if audio is not None and len(audio) != count:
            raise ValueError(f"got {count} instructions but {len(audio)} audio clips")
        if constraint is not None:
            if constraint not in CONSTRAINTS:
                raise ValueError(f"constraint must be one of {CONSTRAINTS} or None, got {constraint!r}")
            if label_sets is None or len(label_sets) != count:
                raise ValueError(f"constrained decoding needs one label set per instruction ({count})")
        ids = list(ids) if ids is not None else [str(index) for index in range(count)]
        order = list(range(count))
        if durations is not None:
            order.sort(key=lambda index: -durations[index])
        outputs: list[str | None] = [None] * count
        for start in range(0, count, self.batch_size):
            batch = order[start : start + self.batch_size]
            self._generate_batch(batch, instructions, audio, ids, constraint, label_sets, outputs)
            if progress is not None:
                progress.update(len(batch))
        return outputs

    def _generate_batch(self, batch, instructions, audio, ids, constraint, label_sets, outputs) -> None:
        started = time.perf_counter()
        clips: list[np.ndarray] = []
        if audio is not None:
            loaded = [(index, self._load_clip(audio[index], ids[index])) for index in batch]
            batch = [index for index, clip in loaded if clip is not None]
            clips = [clip for _, clip in loaded if clip is not None]
            if not batch:
                return
        inputs = self.processor(
            text=[instructions[index] for index in batch],
            audio=clips or None,
            sampling_rate=self.processor.sampling_rate if clips else None,
        ).to(self.model.device)
        logits_processor, max_new_tokens = self._logits_processor(
            constraint, [list(label_sets[index]) for index in batch] if constraint else []
        )
        with torch.inference_mode():
            generated = self.model.generate(
                **inputs,
                do_sample=False,
                num_beams=self.num_beams,
                max_new_tokens=max_new_tokens,
                logits_processor=logits_processor,
            )
        texts = self.processor.batch_decode(generated, skip_special_tokens=True)
        for index, text in zip(batch, texts):
            outputs[index] = text.strip()
        self.throughput.add(
            Throughput(
                examples=len(batch),
                audio_seconds=sum(len(clip) for clip in clips) / self.processor.sampling_rate,
                wall_seconds=time.perf_counter() - started,
            )
        )
