"""The column schema shared by every corpus (synthetic, FSDD, Hub datasets) and the target-text conventions."""

from __future__ import annotations

from collections.abc import Sequence

import datasets

from .audio import SAMPLING_RATE

FEATURES = datasets.Features(
    {
        "id": datasets.Value("string"),
        "audio": datasets.Audio(sampling_rate=SAMPLING_RATE),
        "task": datasets.Value("string"),
        "target": datasets.Value("string"),
        "transcript": datasets.Value("string"),  # the spoken text; "" for non-speech
        "instruction": datasets.Value("string"),  # INSTRUCT only: the Alpaca instruction
        "keyword": datasets.Value("string"),  # KWS only
        "target_language": datasets.Value("string"),  # ST only: "German" / "French"
        "labels": datasets.List(datasets.Value("string")),  # closed label set offered in the prompt, or []
        "seen": datasets.Value("bool"),  # False for held-out generalisation data (DC, IC-UNSEEN, SF-UNSEEN)
        "source": datasets.Value("string"),
        "voice": datasets.Value("string"),
        "accent": datasets.Value("string"),
        "duration": datasets.Value("float32"),  # seconds
    }
)
COLUMNS = tuple(FEATURES)
TRAINING_TASKS = ("ASR", "ST", "IC", "SF", "KWE", "KWS", "ER", "ASC", "SC", "AC", "SNS", "INSTRUCT")
HELD_OUT_TASKS = ("DC", "IC-UNSEEN", "SF-UNSEEN")
ALL_TASKS = TRAINING_TASKS + HELD_OUT_TASKS
SPLITS = ("train", "validation", "test")

EMOTIONS = ("neutral", "happy", "sad", "angry")
SENTIMENTS = ("positive", "negative", "neutral")
SPEAKER_COUNTS = ("one", "two")
SNS_LABELS = ("speech", "non-speech")
KWS_LABELS = ("yes", "no")


def render_target(task: str, value: str | Sequence[str] | Sequence[tuple[str, str]]) -> str:
    """The target text for a task value.

    SF / SF-UNSEEN take `[(slot, value), ...]` -> `"slot = value; slot = value"` (`"none"` if empty); KWE takes
    `[kw, ...]` -> `"kw1, kw2"`; every other task takes its text or label unchanged.
    """
    if task in ("SF", "SF-UNSEEN"):
        return "; ".join(f"{slot} = {slot_value}" for slot, slot_value in value) or "none"
    if task == "KWE":
        return ", ".join(value) or "none"
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{task}: target must be a non-empty string, got {value!r}")
    return value.strip()
