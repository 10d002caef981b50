"""Running sums behind the logged losses and throughput, merged over processes."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence

import torch
from accelerate.utils import gather_object


class LossMeter:
    """Per-task sums of token losses and token counts, with samples and audio seconds, on one process."""

    def __init__(self) -> None:
        self.loss: dict[str, float] = defaultdict(float)
        self.tokens: dict[str, int] = defaultdict(int)
        self.samples = 0
        self.audio_seconds = 0.0
        self.nonfinite = 0

    def add(self, tasks: Sequence[str], sums: torch.Tensor, counts: torch.Tensor, audio_seconds: float = 0.0) -> None:
        """Add a batch: its examples' tasks, summed token losses `(batch,)` and token counts `(batch,)`."""
        for task, loss, count in zip(tasks, sums.tolist(), counts.tolist()):
            if math.isfinite(loss):
                self.loss[task] += loss
                self.tokens[task] += count
        self.samples += len(tasks)
        self.audio_seconds += audio_seconds

    def gather(self) -> MeterTotals:
        """The sums over all processes (a collective: every process must call it)."""
        totals = MeterTotals()
        for part in gather_object([self]):
            for task, loss in part.loss.items():
                totals.loss[task] += loss
                totals.tokens[task] += part.tokens[task]
            totals.samples += part.samples
            totals.audio_seconds += part.audio_seconds
            totals.nonfinite += part.nonfinite
        return totals


class MeterTotals(LossMeter):
    """`LossMeter` sums over all processes, with the token-averaged losses they give."""

    def mean_loss(self) -> float:
        tokens = sum(self.tokens.values())
        return sum(self.loss.values()) / tokens if tokens else float("nan")

    def task_losses(self) -> dict[str, float]:
        return {task: self.loss[task] / self.tokens[task] for task in sorted(self.loss) if self.tokens[task]}
