"""The task registry, loaded from ``tasks.yaml`` (one entry per task) and ``slurp_descriptions.yaml``."""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from types import MappingProxyType
from typing import Any

import yaml

from .task import Task

_ENTRY_KEYS = {
    "name", "description", "metric", "format", "labels", "held_out", "required_fields", "descriptions",
    "aliases", "label_map", "prompts", "prompts_from",
}


def _read_yaml(filename: str) -> dict[str, Any]:
    return yaml.safe_load(resources.files(__package__).joinpath(filename).read_text(encoding="utf-8"))


def _string_map(code: str, key: str, value: Mapping[Any, Any] | None) -> MappingProxyType:
    value = value or {}
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ValueError(f"tasks.yaml, task {code}: {key} must map strings to strings (quote yes/no), got {value}")
    return MappingProxyType(dict(value))


def _build_task(code: str, entry: dict[str, Any], entries: dict[str, Any], tables: dict[str, Any]) -> Task:
    unknown = set(entry) - _ENTRY_KEYS
    if unknown:
        raise ValueError(f"tasks.yaml, task {code}: unknown keys {sorted(unknown)}")
    table = entry.get("descriptions")
    if table is not None and table not in tables:
        raise ValueError(f"tasks.yaml, task {code}: no description table {table!r}; have {list(tables)}")
    prompts = entries[entry["prompts_from"]]["prompts"] if "prompts_from" in entry else entry["prompts"]
    labels = entry.get("labels")
    if labels is not None and not all(isinstance(label, str) for label in labels):
        raise ValueError(f"tasks.yaml, task {code}: labels must be strings (quote yes/no), got {labels}")
    return Task(
        code=code,
        name=entry["name"],
        description=entry["description"],
        metric=entry["metric"],
        format=entry["format"],
        labels=tuple(labels) if labels is not None else None,
        held_out=bool(entry["held_out"]),
        train_instructions=tuple(prompts["train"]),
        heldout_instructions=tuple(prompts["heldout"]),
        required_fields=tuple(entry.get("required_fields", ())),
        descriptions=_string_map(code, "descriptions", tables.get(table)),
        aliases=_string_map(code, "aliases", entry.get("aliases")),
        label_map=_string_map(code, "label_map", entry.get("label_map")),
    )


def load_tasks() -> Mapping[str, Task]:
    """Build every :class:`Task` from the package's YAML files, in file order."""
    entries = _read_yaml("tasks.yaml")
    tables = _read_yaml("slurp_descriptions.yaml")
    return MappingProxyType({code: _build_task(code, entry, entries, tables) for code, entry in entries.items()})


TASKS: Mapping[str, Task] = load_tasks()
"""Every task by code, in registry order."""

TRAINING_TASKS: tuple[str, ...] = tuple(code for code, task in TASKS.items() if not task.held_out)
"""Codes of the tasks trained on: the paper's 11 plus INSTRUCT."""

HELD_OUT_TASKS: tuple[str, ...] = tuple(code for code, task in TASKS.items() if task.held_out)
"""Codes of the zero-shot generalization tasks (DC, IC-UNSEEN, SF-UNSEEN)."""


def get_task(code: str) -> Task:
    """The task registered under ``code`` (case-insensitive, ``_`` accepted for ``-``)."""
    if not isinstance(code, str):
        raise ValueError(f"task code must be a string, got {code!r}")
    normalized = code.strip().upper().replace("_", "-")
    if normalized not in TASKS:
        raise ValueError(f"unknown task {code!r}; known tasks: {', '.join(TASKS)}")
    return TASKS[normalized]
