"""The espeak-ng voice inventory: English accents x voice variants, with some variants reserved for the test split.

A voice is `"{espeak_language}+{variant}"`, e.g. `"en-gb-scotland+f3"`. Variants in `TEST_VARIANTS` are never used
for train or validation, so the test split measures generalisation to unseen speakers (in every accent).
"""

from __future__ import annotations

from ..tasks import get_task

# espeak-ng English language -> accent label, as registered for the accent classification task.
ACCENTS: dict[str, str] = dict(get_task("AC").label_map)
VARIANTS = ("f1", "f2", "f3", "f4", "f5", "m1", "m2", "m3", "m4", "m5", "m6", "m7")
TEST_VARIANTS = ("f5", "m7")


def voices_for_split(split: str) -> list[str]:
    """All voices usable in `split` (`train`, `validation` or `test`), in a fixed order."""
    if split not in ("train", "validation", "test"):
        raise ValueError(f"unknown split {split!r}; expected train, validation or test")
    variants = TEST_VARIANTS if split == "test" else tuple(v for v in VARIANTS if v not in TEST_VARIANTS)
    return [f"{language}+{variant}" for language in ACCENTS for variant in variants]


def accent_of(voice: str) -> str:
    """`"en-029+m3"` -> `"caribbean"`."""
    language = voice.split("+", 1)[0]
    if language not in ACCENTS:
        raise ValueError(f"voice {voice!r} has no known English accent; expected one of {sorted(ACCENTS)}")
    return ACCENTS[language]


def variant_of(voice: str) -> str:
    return voice.split("+", 1)[1]
