"""Training recipes: a typed schema, YAML files with `extends`, and `--set section.field=value` overrides.

A recipe names the backbones (or a preset of Table 11), the data and task weights, the curriculum of Section 2.3,
the optimiser and schedule, and the evaluation, checkpoint and logging intervals. Every field is checked (unknown
fields and wrong types are errors naming the field) before anything is loaded.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ConfigDict, Field, TypeAdapter, ValidationError, model_validator
from pydantic.dataclasses import dataclass

from ..configuration_speechverse import PRESETS
from ..tasks import get_task

# Lax parsing on purpose: PyYAML reads `1e-3` as a string, and `--set` values arrive as text.
_SCHEMA = ConfigDict(extra="forbid")
EXTENDS_KEY = "extends"


@dataclass(config=_SCHEMA)
class ModelRecipe:
    """
    Backbones and architecture. `preset` is one of the paper's variants (Table 11); `audio_backbone` /
    `text_backbone` are Hub ids, local folders, or `builtin:` names (see `backbones.py`). The remaining fields
    override `SpeechVerseConfig` fields; unset ones keep the preset's or the config's default.
    """

    preset: str | None = None
    audio_backbone: str | None = None
    text_backbone: str | None = None
    layer_weighting: Literal["all", "last"] | None = None
    downsampler_kernel_sizes: list[int] | None = None
    downsampler_strides: list[int] | None = None
    lora_rank: int | None = Field(default=None, ge=0)
    lora_alpha: int | None = Field(default=None, gt=0)
    lora_dropout: float | None = Field(default=None, ge=0.0, lt=1.0)
    lora_target_modules: list[str] | None = None
    max_audio_frames: int | None = Field(default=None, gt=0)
    max_label_tokens: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _check_backbones(self) -> ModelRecipe:
        if self.preset is not None and self.preset not in PRESETS:
            raise ValueError(f"unknown preset {self.preset!r}; choose one of {sorted(PRESETS)}")
        if self.preset is None and (self.audio_backbone is None or self.text_backbone is None):
            raise ValueError("give a preset, or both audio_backbone and text_backbone")
        return self

    def config_overrides(self) -> dict[str, Any]:
        """The `SpeechVerseConfig` fields this recipe sets."""
        skip = {"preset", "audio_backbone", "text_backbone"}
        return {k: v for k, v in dataclasses.asdict(self).items() if k not in skip and v is not None}


def _check_task_codes(codes: list[str], where: str) -> list[str]:
    normalized = [get_task(code).code for code in codes]
    held_out = [code for code in normalized if get_task(code).held_out]
    if held_out:
        raise ValueError(f"{where}: {held_out} are held-out tasks, kept out of training by design")
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"{where}: a task is listed twice in {codes}")
    return normalized


@dataclass(config=_SCHEMA)
class DataRecipe:
    """
    The corpus (a `save_to_disk` folder or Hub id in the SpeechVerse column schema) and what to train on.

    `tasks` are the tasks of the full multitask stage; `task_weights` the sampling weight of each (Section 2.2,
    default 1.0). Validation comes from `validation_split`, or, when it is null, from a `validation_fraction`
    (5%, Appendix A.2) of the training split. `asr_from_transcripts` adds every transcribed clip of the other tasks
    to the training ASR examples (`data.pipeline.add_transcript_asr_examples`). `cache_encoder_states` runs the frozen audio encoder once over the
    corpus and trains on its stored outputs (float16, in the `datasets` cache; see `training.encoder_cache`).
    """

    corpus: str
    tasks: list[str]
    task_weights: dict[str, float] = Field(default_factory=dict)
    train_split: str = "train"
    validation_split: str | None = "validation"
    validation_fraction: float = Field(default=0.05, gt=0.0, lt=1.0)
    joint_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    num_workers: int = Field(default=0, ge=0)
    asr_from_transcripts: bool = False
    cache_encoder_states: bool = False

    @model_validator(mode="after")
    def _check_tasks(self) -> DataRecipe:
        if not self.tasks:
            raise ValueError("data.tasks is empty")
        self.tasks = _check_task_codes(self.tasks, "data.tasks")
        weights = {get_task(code).code: weight for code, weight in self.task_weights.items()}
        unknown = sorted(set(weights) - set(self.tasks))
        if unknown:
            raise ValueError(f"data.task_weights names tasks not in data.tasks: {unknown}")
        if any(weight <= 0 for weight in weights.values()):
            raise ValueError(f"data.task_weights must be positive, got {self.task_weights}")
        self.task_weights = weights
        return self

    def weights_for(self, tasks: list[str]) -> dict[str, float]:
        return {task: self.task_weights.get(task, 1.0) for task in tasks}


@dataclass(config=_SCHEMA)
class StageRecipe:
    """
    One curriculum stage (Section 2.3). It trains the downsampler and layer weights, plus the LoRA adapters when
    `lora` is true, on `tasks` (null: `data.tasks`). It ends after `max_steps` optimiser steps or after `patience`
    evaluations without a better validation loss, whichever comes first; the last stage's end ends training.
    """

    name: str
    lora: bool
    tasks: list[str] | None = None
    max_steps: int | None = Field(default=None, gt=0)
    patience: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _check_tasks(self) -> StageRecipe:
        if self.tasks is not None:
            if not self.tasks:
                raise ValueError(f"stage {self.name!r}: tasks is empty (use null for data.tasks)")
            self.tasks = _check_task_codes(self.tasks, f"stage {self.name!r}")
        return self


@dataclass(config=_SCHEMA)
class TrainRecipe:
    """
    Optimiser (AdamW) and schedule (linear warm-up, then constant or a decay to 0 at `max_steps`), batch size and
    clipping. `effective_batch_size` = `per_device_batch_size` x processes x gradient accumulation steps.
    """

    lr: float = Field(gt=0.0)
    max_steps: int = Field(gt=0)
    effective_batch_size: int = Field(gt=0)
    per_device_batch_size: int = Field(gt=0)
    warmup_steps: int = Field(default=0, ge=0)
    schedule: Literal["constant", "linear", "cosine"] = "constant"
    weight_decay: float = Field(default=0.0, ge=0.0)
    adam_betas: list[float] = Field(default_factory=lambda: [0.9, 0.999], min_length=2, max_length=2)
    adam_epsilon: float = Field(default=1e-8, gt=0.0)
    max_grad_norm: float = Field(default=1.0, gt=0.0)
    seed: int = 0


@dataclass(config=_SCHEMA)
class EvalRecipe:
    """Validation loss every `every_steps` steps, on at most `max_examples` examples of the stage's tasks."""

    every_steps: int = Field(gt=0)
    batch_size: int | None = Field(default=None, gt=0)
    max_examples: int | None = Field(default=None, gt=0)
    min_delta: float = Field(default=0.0, ge=0.0)


@dataclass(config=_SCHEMA)
class CheckpointRecipe:
    every_steps: int = Field(gt=0)
    keep_last: int = Field(default=3, gt=0)


@dataclass(config=_SCHEMA)
class LoggingRecipe:
    every_steps: int = Field(default=10, gt=0)
    tensorboard: bool = True


@dataclass(config=_SCHEMA)
class Recipe:
    name: str
    output_dir: str
    model: ModelRecipe
    data: DataRecipe
    curriculum: list[StageRecipe]
    train: TrainRecipe
    eval: EvalRecipe
    checkpoint: CheckpointRecipe
    logging: LoggingRecipe = Field(default_factory=LoggingRecipe)

    @model_validator(mode="after")
    def _check_curriculum(self) -> Recipe:
        if not self.curriculum:
            raise ValueError("curriculum has no stages")
        for index, stage in enumerate(self.curriculum[:-1]):
            if stage.max_steps is None and stage.patience is None:
                raise ValueError(f"curriculum.{index} ({stage.name!r}) never ends: give it max_steps, patience or both")
        if self.checkpoint.every_steps % self.logging.every_steps:
            # Checkpoints then always follow a log, which has folded every process's counters into the state.
            raise ValueError(
                f"checkpoint.every_steps ({self.checkpoint.every_steps}) must be a multiple of logging.every_steps "
                f"({self.logging.every_steps})"
            )
        return self

    def stage_tasks(self, index: int) -> list[str]:
        """The tasks trained in curriculum stage `index`."""
        return self.curriculum[index].tasks or self.data.tasks

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# ------------------------------------------------------------------------------------------------------ loading


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Deep merge of mappings; lists and scalars of `override` replace those of `base`."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def read_recipe_file(path: str | Path, _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """A recipe file as a mapping, with its `extends:` parent (a path relative to the file) merged under it."""
    path = Path(path).resolve()
    if path in _seen:
        raise ValueError(f"recipe {path} extends itself through {[str(p) for p in _seen]}")
    if not path.is_file():
        raise ValueError(f"recipe file {path} does not exist")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"recipe {path} must be a YAML mapping, got {type(data).__name__}")
    parent = data.pop(EXTENDS_KEY, None)
    if parent is None:
        return data
    return _merge(read_recipe_file(path.parent / parent, _seen + (path,)), data)


def apply_override(data: dict[str, Any], override: str) -> None:
    """Apply one `a.b.c=value` override in place; `value` is YAML (`[ASR, SC]`, `null`, `1e-4`, ...)."""
    key, sep, raw = override.partition("=")
    if not sep or not key.strip():
        raise ValueError(f"override {override!r} must look like section.field=value")
    *parents, leaf = key.strip().split(".")
    node: Any = data
    for depth, part in enumerate(parents):
        where = ".".join(parents[: depth + 1])
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ValueError(f"override {override!r}: {where} is not an index of a list of {len(node)}")
            node = node[int(part)]
        else:
            node = node.setdefault(part, {})
        if not isinstance(node, (dict, list)):
            raise ValueError(f"override {override!r}: {where} is a value, not a section")
    value = yaml.safe_load(raw)
    if isinstance(node, list):
        if not leaf.isdigit() or int(leaf) >= len(node):
            raise ValueError(f"override {override!r}: {leaf!r} is not an index of a list of {len(node)}")
        node[int(leaf)] = value
    else:
        node[leaf] = value


def _format_error(error: dict[str, Any]) -> str:
    location = ".".join(str(part) for part in error["loc"]) or "recipe"
    if error["type"] in ("unexpected_keyword_argument", "extra_forbidden"):
        return f"unknown field {location}"
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "missing_argument" or error["type"] == "missing":
        return f"missing field {location}"
    if "input" in error and not isinstance(error["input"], dict):
        return f"{location}: {message} (got {error['input']!r})"
    return f"{location}: {message}"


def validate_recipe(data: dict[str, Any], source: str = "recipe") -> Recipe:
    """Check a recipe mapping against the schema; every problem is listed in one `ValueError`."""
    try:
        return TypeAdapter(Recipe).validate_python(data)
    except ValidationError as error:
        problems = "\n  ".join(_format_error(e) for e in error.errors())
        raise ValueError(f"invalid {source}:\n  {problems}") from None


def load_recipe(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> Recipe:
    """Read, merge (`extends`), override (`--set`) and validate a recipe file."""
    data = read_recipe_file(path)
    for override in overrides:
        apply_override(data, override)
    return validate_recipe(data, source=f"recipe {path}")


def dump_recipe(recipe: Recipe) -> str:
    return yaml.safe_dump(recipe.to_dict(), sort_keys=False)
