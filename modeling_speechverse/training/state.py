"""The training state saved with every checkpoint: position in the curriculum and the data, counters and logs."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STATE_FILE = "trainer_state.json"


@dataclass
class TrainerState:
    """
    Everything a resumed run needs besides the weights, optimiser, scheduler and RNG states (which accelerate saves).

    Args:
        global_step: optimiser steps done.
        stage: index of the current curriculum stage.
        epoch: passes over the current stage's training data.
        batches_in_epoch: micro-batches (of each process) consumed in the current epoch.
        best_loss: best validation loss of the current stage (`None` before its first evaluation).
        evals_without_improvement: evaluations of the current stage since `best_loss` last improved.
        stages: one entry per stage begun: name, tasks, trainable parameter names, start/end step, end reason.
        train_log / eval_log: logged training and validation losses (overall and per task).
        skipped_steps: optimiser steps dropped because the gradient was not finite.
        nonfinite_losses: micro-batches whose loss was not finite.
        empty_batches: micro-batches skipped because a process had no readable audio in its batch.
        samples / audio_seconds: examples and audio seen in training (all processes).
        dropped_examples: per stage, examples left out of training by the data pipeline, by reason.
        stop_reason: why training ended, once it has.
    """

    global_step: int = 0
    stage: int = 0
    epoch: int = 0
    batches_in_epoch: int = 0
    best_loss: float | None = None
    evals_without_improvement: int = 0
    stages: list[dict[str, Any]] = field(default_factory=list)
    train_log: list[dict[str, Any]] = field(default_factory=list)
    eval_log: list[dict[str, Any]] = field(default_factory=list)
    skipped_steps: int = 0
    nonfinite_losses: int = 0
    empty_batches: int = 0
    samples: int = 0
    audio_seconds: float = 0.0
    dropped_examples: dict[str, dict[str, int]] = field(default_factory=dict)
    stop_reason: str | None = None

    def save(self, directory: str | Path) -> None:
        (Path(directory) / STATE_FILE).write_text(json.dumps(dataclasses.asdict(self), indent=1) + "\n")

    @classmethod
    def load(cls, directory: str | Path) -> TrainerState:
        return cls(**json.loads((Path(directory) / STATE_FILE).read_text()))
