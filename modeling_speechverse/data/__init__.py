"""Speech corpora for SpeechVerse, all in one schema (`FEATURES`): the offline espeak-ng multi-task corpus
(`build_corpus`), real FSDD digits for evaluation (`build_fsdd`) and the paper's Hub datasets (`load_hub_dataset`).

Names are imported lazily, so that `python -m modeling_speechverse.data.build` (or `.fsdd`) does not import its own
module twice.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "BuildConfig": "build",
    "build_corpus": "build",
    "build_fsdd": "fsdd",
    "HUB_DATASETS": "hub",
    "HubDatasetSpec": "hub",
    "load_hub_dataset": "hub",
    "map_to_schema": "hub",
    "SCALES": "planning",
    "ALL_TASKS": "schema",
    "FEATURES": "schema",
    "SPLITS": "schema",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
