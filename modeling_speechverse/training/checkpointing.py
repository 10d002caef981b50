"""Periodic checkpoints: written under a temporary name and renamed into place, the last N kept, resumable.

A checkpoint folder holds what `accelerate.Accelerator.save_state` writes (trainable weights, optimiser and
scheduler state, each process's RNG states; under DeepSpeed its engine checkpoint), the `TrainerState` (curriculum
stage, data position, counters) and the recipe. Only complete folders carry the `checkpoint-` name, so resuming never
reads a half-written one.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from pathlib import Path

from accelerate import Accelerator
from accelerate.utils import SAFE_WEIGHTS_NAME
from safetensors.torch import load_file

from .state import STATE_FILE, TrainerState

logger = logging.getLogger(__name__)

CHECKPOINTS_DIR = "checkpoints"
CHECKPOINT_PREFIX = "checkpoint-"
STAGING_PREFIX = ".tmp-"
RECIPE_FILE = "recipe.yaml"
_CHECKPOINT_NAME = re.compile(rf"^{CHECKPOINT_PREFIX}(\d+)$")


def list_checkpoints(root: str | Path) -> list[Path]:
    """Complete checkpoints under `root`, oldest first."""
    root = Path(root)
    if not root.is_dir():
        return []
    found = [
        (int(match.group(1)), path)
        for path in root.iterdir()
        if (match := _CHECKPOINT_NAME.match(path.name)) and (path / STATE_FILE).is_file()
    ]
    return [path for _, path in sorted(found)]


def find_resume_checkpoint(output_dir: str | Path, resume: bool | str) -> Path | None:
    """
    The checkpoint to resume from: `resume` is a checkpoint folder, or True for the latest one under
    `output_dir/checkpoints` (None when there is none yet, so a restarted job starts from scratch).
    """
    if resume is False or resume is None:
        return None
    if resume is True:
        checkpoints = list_checkpoints(Path(output_dir) / CHECKPOINTS_DIR)
        if not checkpoints:
            logger.warning("--resume: no checkpoint under %s yet, starting from scratch", output_dir)
            return None
        return checkpoints[-1]
    path = Path(resume)
    if not (path / STATE_FILE).is_file():
        raise ValueError(f"--resume {resume}: not a complete checkpoint folder (no {STATE_FILE})")
    return path


def remove_staging_folders(root: str | Path) -> None:
    """Delete checkpoints left half-written by a killed run."""
    root = Path(root)
    if root.is_dir():
        for path in root.glob(f"{STAGING_PREFIX}*"):
            shutil.rmtree(path, ignore_errors=True)


def save_checkpoint(
    accelerator: Accelerator,
    state: TrainerState,
    root: str | Path,
    keep_last: int,
    recipe_yaml: str,
    **save_state_kwargs,
) -> Path:
    """Save a checkpoint of step `state.global_step` from every process; returns its folder."""
    root = Path(root)
    name = f"{CHECKPOINT_PREFIX}{state.global_step:07d}"
    staging, target = root / f"{STAGING_PREFIX}{name}", root / name
    if accelerator.is_main_process:
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
    accelerator.wait_for_everyone()
    accelerator.save_state(str(staging), **save_state_kwargs)
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        (staging / RECIPE_FILE).write_text(recipe_yaml)
        state.save(staging)  # last: its presence marks a complete checkpoint
        if target.exists():  # the same step saved again by a resumed run
            shutil.rmtree(target)
        os.replace(staging, target)
        for old in list_checkpoints(root)[:-keep_last]:
            shutil.rmtree(old)
        logger.info("Saved checkpoint %s", target)
    accelerator.wait_for_everyone()
    return target


def register_adapter_checkpointing(accelerator: Accelerator, model) -> None:
    """
    Make `save_state` / `load_state` hold only the model's trainable weights (`model.adapter_state_dict()`), not the
    frozen backbones. DeepSpeed saves through its engine instead (see `Trainer` for its options).
    """

    def save_hook(models, weights, output_dir):
        if weights:
            weights[0] = model.adapter_state_dict()

    def load_hook(models, input_dir):
        if models:
            model.load_adapter_weights(load_file(Path(input_dir) / SAFE_WEIGHTS_NAME))
            models.pop(0)

    accelerator.register_save_state_pre_hook(save_hook)
    accelerator.register_load_state_pre_hook(load_hook)
