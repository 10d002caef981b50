"""Target renderings shared by the corpus builder (``render``) and the metrics (``parse``).

Each output format turns a task value into the exact target string the model is trained on and maps a
(possibly sloppy) generated string back to the same value. ``parse`` is lenient about case, whitespace
and trailing punctuation, and returns ``None`` when the text cannot be read as a value of the format.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

NONE_TARGET = "none"
SLOT_SEPARATOR = "; "
SLOT_ASSIGN = " = "
KEYWORD_SEPARATOR = ", "

_TRAILING_PUNCTUATION = ".!?;:,"
_QUOTES = "\"'`"

SlotPairs = list[tuple[str, str]]


def _squash(text: str) -> str:
    """Collapse whitespace runs and strip surrounding quotes and trailing punctuation."""
    text = " ".join(text.split())
    return text.strip(_QUOTES).rstrip(_TRAILING_PUNCTUATION).strip().strip(_QUOTES).strip()


def label_key(label: str) -> str:
    """Comparison key for labels: case-folded, with ``_``/``-``/whitespace runs treated as one space."""
    return re.sub(r"[\s_\-]+", " ", _squash(label).casefold()).strip()


def _check_str(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string, got {type(value).__name__}: {value!r}")
    return value


class TextFormat:
    """Free text (ASR transcripts, translations, instruction responses)."""

    def render(self, value: str) -> str:
        return _check_str(value, "text target").strip()

    def parse(self, text: str, labels: Sequence[str] | None = None, aliases: Mapping[str, str] | None = None) -> str:
        return text.strip()


class LabelFormat:
    """One label out of a closed set (given by the task or per example) or, without a set, a free label."""

    def render(self, value: str) -> str:
        value = _check_str(value, "label").strip()
        if not value:
            raise ValueError("label target must not be empty")
        return value

    def parse(
        self, text: str, labels: Sequence[str] | None = None, aliases: Mapping[str, str] | None = None
    ) -> str | None:
        if labels is None:
            cleaned = _squash(text).casefold()
            return cleaned or None
        by_key = {label_key(alias): label for alias, label in (aliases or {}).items()}
        by_key.update({label_key(label): label for label in labels})
        return by_key.get(label_key(text))


class SlotFormat:
    """Slot filling pairs ``[(slot, value), ...]`` rendered ``"slot = value; slot = value"`` (``"none"`` if empty).

    Slot names are lowercase identifiers (SLURP's ``place_name``): parsing lowercases them and joins words with ``_``.
    """

    def render(self, value: Sequence[tuple[str, str]]) -> str:
        if isinstance(value, str):
            raise ValueError(f"slot target must be a list of (slot, value) pairs, got the string {value!r}")
        parts = []
        for pair in value:
            if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
                raise ValueError(f"slot target entries must be (slot, value) pairs, got {pair!r}")
            slot, slot_value = (_check_str(item, "slot name/value").strip() for item in pair)
            if not slot or any(char in slot for char in "=;") or slot.casefold() == NONE_TARGET:
                raise ValueError(f"invalid slot name {slot!r}: must be non-empty, not 'none', without '=' or ';'")
            if not slot_value or ";" in slot_value:
                raise ValueError(f"invalid value {slot_value!r} for slot {slot!r}: must be non-empty, without ';'")
            parts.append(f"{slot}{SLOT_ASSIGN}{' '.join(slot_value.split())}")
        return SLOT_SEPARATOR.join(parts) if parts else NONE_TARGET

    def parse(
        self, text: str, labels: Sequence[str] | None = None, aliases: Mapping[str, str] | None = None
    ) -> SlotPairs | None:
        """Read ``slot = value`` pieces; malformed pieces are skipped, ``None`` if nothing is readable.

        ``labels``, if given, are the allowed slot names: pieces with other names are dropped.
        """
        cleaned = _squash(text)
        if cleaned.casefold() == NONE_TARGET:
            return []
        allowed = None if labels is None else {label_key(label): label for label in labels}
        pairs: SlotPairs = []
        for piece in cleaned.split(";"):
            slot, sep, slot_value = piece.partition("=")
            slot, slot_value = "_".join(slot.split()).casefold(), " ".join(slot_value.split())
            if not sep or not slot or not slot_value:
                continue
            if allowed is not None:
                if label_key(slot) not in allowed:
                    continue
                slot = allowed[label_key(slot)]
            pairs.append((slot, slot_value))
        return pairs or None


class KeywordFormat:
    """Keyword lists rendered ``"kw1, kw2"`` (``"none"`` if empty)."""

    def render(self, value: Sequence[str]) -> str:
        if isinstance(value, str):
            raise ValueError(f"keyword target must be a list of keywords, got the string {value!r}")
        keywords = [" ".join(_check_str(keyword, "keyword").split()) for keyword in value]
        for keyword in keywords:
            if not keyword or "," in keyword or keyword.casefold() == NONE_TARGET:
                raise ValueError(f"invalid keyword {keyword!r}: must be non-empty, not 'none', without ','")
        return KEYWORD_SEPARATOR.join(keywords) if keywords else NONE_TARGET

    def parse(
        self, text: str, labels: Sequence[str] | None = None, aliases: Mapping[str, str] | None = None
    ) -> list[str] | None:
        cleaned = _squash(text)
        if cleaned.casefold() == NONE_TARGET:
            return []
        keywords = [" ".join(keyword.split()) for keyword in cleaned.split(",")]
        keywords = [keyword for keyword in keywords if keyword]
        return keywords or None


FORMATS = {"text": TextFormat(), "label": LabelFormat(), "slots": SlotFormat(), "keywords": KeywordFormat()}
