"""The column schema shared by every corpus (synthetic, FSDD, Hub datasets).

Task codes, label sets and target renderings come from the task registry (`modeling_speechverse.tasks`):
targets are always written with `get_task(code).render_target(value)`.
"""

from __future__ import annotations

import datasets

from ..tasks import HELD_OUT_TASKS, TRAINING_TASKS
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
ALL_TASKS = TRAINING_TASKS + HELD_OUT_TASKS
SPLITS = ("train", "validation", "test")
