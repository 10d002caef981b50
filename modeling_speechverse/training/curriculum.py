"""The curriculum of Section 2.3: which parameters train in each stage, and when a stage ends.

Stage 1 trains only the convolution downsampler and the encoder layer weights, on ASR, with the LoRA adapters
switched out. Stage 2a switches the adapters in and warms them up on ASR; stage 2b adds the other tasks. A recipe
may describe any sequence of such stages (Task-FT recipes use the same three with one task in the last).
"""

from __future__ import annotations

import logging
import math

from torch import nn

from .recipe import StageRecipe
from .state import TrainerState

logger = logging.getLogger(__name__)

# The SpeechVerse modules trained in every stage: the layer weights of Eq. 1 and the downsampler.
ALWAYS_TRAINED_PREFIXES = ("downsampler.", "layer_weighting.")
LORA_MARKER = "lora_"


def stage_trainable_parameters(model: nn.Module, lora: bool) -> set[str]:
    """Names of the parameters a stage trains: downsampler and layer weights, plus the LoRA adapters if `lora`."""
    return {
        name
        for name, _ in model.named_parameters()
        if name.startswith(ALWAYS_TRAINED_PREFIXES) or (lora and LORA_MARKER in name)
    }


def apply_stage(model: nn.Module, stage: StageRecipe) -> list[str]:
    """
    Switch the LoRA adapters in or out for `stage` and check that exactly the stage's parameters require grad.

    Returns the sorted names of the trainable parameters.
    """
    model.set_lora_enabled(stage.lora)
    trainable = {name for name, param in model.named_parameters() if param.requires_grad}
    expected = stage_trainable_parameters(model, stage.lora)
    if trainable != expected:
        raise RuntimeError(
            f"stage {stage.name!r} should train {len(expected)} parameters but {len(trainable)} require grad; "
            f"unexpected: {sorted(trainable - expected)[:5]}, missing: {sorted(expected - trainable)[:5]}"
        )
    return sorted(trainable)


class Curriculum:
    """
    Stage bookkeeping as training callbacks: `on_evaluate` after each validation, `on_step_end` after each optimiser
    step; `begin_stage` / `end_stage` record the transitions in the `TrainerState` (so a resumed run continues the
    same stage).
    """

    def __init__(self, stages: list[StageRecipe], state: TrainerState, min_delta: float = 0.0):
        self.stages = stages
        self.state = state
        self.min_delta = min_delta

    @property
    def stage(self) -> StageRecipe:
        return self.stages[self.state.stage]

    @property
    def is_last_stage(self) -> bool:
        return self.state.stage == len(self.stages) - 1

    @property
    def stage_started(self) -> bool:
        """Whether the current stage was already begun (true when resuming inside it)."""
        return len(self.state.stages) > self.state.stage

    def begin_stage(self, tasks: list[str], trainable: list[str]) -> None:
        stage = self.stage
        self.state.stages.append(
            {
                "name": stage.name,
                "index": self.state.stage,
                "lora": stage.lora,
                "tasks": tasks,
                "trainable_parameters": trainable,
                "start_step": self.state.global_step,
                "end_step": None,
                "end_reason": None,
            }
        )
        logger.info(
            "Curriculum stage %d/%d %r begins at step %d: tasks %s, LoRA %s, %d trainable tensors",
            self.state.stage + 1,
            len(self.stages),
            stage.name,
            self.state.global_step,
            tasks,
            "on" if stage.lora else "off",
            len(trainable),
        )

    def on_evaluate(self, loss: float) -> None:
        best = self.state.best_loss
        if math.isfinite(loss) and (best is None or loss < best - self.min_delta):
            self.state.best_loss = loss
            self.state.evals_without_improvement = 0
        else:
            self.state.evals_without_improvement += 1

    def on_step_end(self) -> str | None:
        """Why the current stage is over after this step, or `None` while it goes on."""
        stage = self.stage
        steps_in_stage = self.state.global_step - self.state.stages[-1]["start_step"]
        if stage.max_steps is not None and steps_in_stage >= stage.max_steps:
            return f"step budget of {stage.max_steps} reached"
        if stage.patience is not None and self.state.evals_without_improvement >= stage.patience:
            return f"validation loss did not improve for {stage.patience} evaluations"
        return None

    def close_stage(self, reason: str) -> None:
        """Record the end of the current stage (training stops inside it, or it hands over to the next)."""
        record = self.state.stages[-1]
        record["end_step"], record["end_reason"] = self.state.global_step, reason
        logger.info("Curriculum stage %r ends at step %d: %s", record["name"], self.state.global_step, reason)

    def end_stage(self, reason: str) -> bool:
        """Close the current stage; move to the next one and return True, or return False after the last one."""
        self.close_stage(reason)
        if self.is_last_stage:
            return False
        self.state.stage += 1
        self.state.best_loss = None
        self.state.evals_without_improvement = 0
        self.state.epoch = self.state.batches_in_epoch = 0
        return True
