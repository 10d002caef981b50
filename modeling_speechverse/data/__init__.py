"""Speech corpora for SpeechVerse, all in one schema (`FEATURES`): the offline espeak-ng multi-task corpus
(`build_corpus`), real FSDD digits for evaluation (`build_fsdd`) and the paper's Hub datasets (`load_hub_dataset`)."""

from .build import BuildConfig, build_corpus
from .fsdd import build_fsdd
from .hub import HUB_DATASETS, HubDatasetSpec, load_hub_dataset, map_to_schema
from .planning import SCALES
from .schema import ALL_TASKS, FEATURES, HELD_OUT_TASKS, TRAINING_TASKS

__all__ = [
    "ALL_TASKS",
    "FEATURES",
    "HELD_OUT_TASKS",
    "HUB_DATASETS",
    "SCALES",
    "TRAINING_TASKS",
    "BuildConfig",
    "HubDatasetSpec",
    "build_corpus",
    "build_fsdd",
    "load_hub_dataset",
    "map_to_schema",
]
