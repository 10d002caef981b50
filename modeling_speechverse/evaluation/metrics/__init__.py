"""SpeechVerse evaluation metrics as local `evaluate` modules.

Each metric is an `evaluate.Metric` subclass in its own script in this folder, loadable offline with
`evaluate.load("<absolute path to the script>")`; `load_metric(name)` does exactly that. The scripts import only
installed libraries and their sibling helper modules (`text_normalization`, `slot_utils`), which `evaluate` copies
with them into its module cache, so they never touch the Hugging Face Hub.
"""

from pathlib import Path
from typing import Any, Mapping

import evaluate


METRICS_DIR = Path(__file__).resolve().parent

# name -> (key of the headline number in the metric's result, factor that puts it on the paper's 0-100 scale)
_HEADLINE: dict[str, tuple[str, float]] = {
    "wer": ("wer", 100.0),
    "bleu": ("score", 1.0),
    "accuracy": ("accuracy", 100.0),
    "slu_f1": ("slu_f1", 100.0),
    "sd_f1": ("sd_f1", 100.0),
    "macro_f1": ("macro_f1", 100.0),
    "uar": ("uar", 100.0),
}
METRIC_NAMES: tuple[str, ...] = tuple(_HEADLINE)


def metric_path(name: str) -> Path:
    """Absolute path of the `evaluate` script of metric `name` (one of `METRIC_NAMES`)."""
    if name not in _HEADLINE:
        raise ValueError(f"Unknown metric {name!r}; expected one of {', '.join(METRIC_NAMES)}.")
    return METRICS_DIR / f"{name}.py"


def load_metric(name: str, **load_kwargs: Any) -> evaluate.EvaluationModule:
    """Load metric `name` (one of `METRIC_NAMES`) from its local script, without any network access.

    Args:
        name: Metric name, e.g. "wer" or "slu_f1".
        **load_kwargs: Passed to `evaluate.load`. `keep_in_memory` defaults to True so that single-process
            evaluation writes no cache files; pass `keep_in_memory=False` with `num_process`/`process_id` for
            distributed evaluation.

    Returns:
        The loaded `evaluate.EvaluationModule`; call `.compute(predictions=..., references=...)` on it.
    """
    load_kwargs.setdefault("keep_in_memory", True)
    return evaluate.load(str(metric_path(name)), **load_kwargs)


def metric_score(name: str, result: Mapping[str, Any]) -> float:
    """The headline number of a metric's `compute()` result on the paper's 0-100 scale (e.g. WER 0.052 -> 5.2).

    This is the `value` that goes into a `results.json` entry (see `modeling_speechverse.evaluation.report`).
    """
    if name not in _HEADLINE:
        raise ValueError(f"Unknown metric {name!r}; expected one of {', '.join(METRIC_NAMES)}.")
    key, scale = _HEADLINE[name]
    if key not in result:
        raise ValueError(f"The {name} result has no {key!r} entry; got keys {sorted(result)}.")
    return float(result[key]) * scale


__all__ = ["METRICS_DIR", "METRIC_NAMES", "load_metric", "metric_path", "metric_score"]
