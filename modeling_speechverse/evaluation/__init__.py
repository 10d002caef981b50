"""SpeechVerse evaluation: metrics (local `evaluate` modules), the results schema and report, and the baselines."""

from .baselines import ParalinguisticClassifier, substring_kws
from .metrics import METRIC_NAMES, load_metric, metric_path, metric_score
from .metrics.text_normalization import normalize_text
from .report import (
    ResultEntry,
    Results,
    load_results,
    model_index_results,
    render_markdown,
    save_results,
    write_markdown,
)


__all__ = [
    "METRIC_NAMES",
    "ParalinguisticClassifier",
    "ResultEntry",
    "Results",
    "load_metric",
    "load_results",
    "metric_path",
    "metric_score",
    "model_index_results",
    "normalize_text",
    "render_markdown",
    "save_results",
    "substring_kws",
    "write_markdown",
]
