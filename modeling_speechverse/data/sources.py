"""Readers for the public text corpora copied in `data_sources/` (see `data_sources/SOURCES.md`).

Each reader returns clean, typed records and applies the corpus' own label rules (SLURP intent =
`scenario_action`, slots from inline `[type : value]`, GoEmotions single group labels); rows with missing labels are
counted in a `SkipReport` instead of raising.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
from dataclasses import dataclass
from pathlib import Path

from .skips import SkipReport

DEFAULT_SOURCES_DIR = Path(__file__).resolve().parents[2] / "data_sources"

# Spoken inputs longer than this would exceed the paper's 900-frame audio limit (18 s at 50 Hz) for slow voices.
MAX_SPOKEN_WORDS = 30
MAX_ALPACA_OUTPUT_WORDS = 60
_SLOT = re.compile(r"\[\s*([^\[\]:]+?)\s*:\s*([^\[\]]*?)\s*\]")
# Inputs with markup or code read badly through TTS.
_UNSPEAKABLE = re.compile(r"[{}<>|\\=_#`$^~\[\]@*]|https?:")
# Alpaca's spellings of "this item has no input" ("<noinput>" is already unspeakable markup).
_ALPACA_NO_INPUT = re.compile(r"^\s*(no\s*input|n/a|none)\W*$", re.IGNORECASE)
GOEMOTIONS_GROUPS = {"1": "negative", "2": "neutral", "3": "positive"}  # 0 = ambiguous is not a sentiment label


@dataclass(frozen=True)
class SluUtterance:
    """One SLURP / NLU-Evaluation-Data sentence with its intent, scenario (domain) and slots."""

    text: str
    intent: str
    scenario: str
    slots: tuple[tuple[str, str], ...]
    source: str


@dataclass(frozen=True)
class TranslationPair:
    """A Multi30k sentence with its German and French translations."""

    en: str
    de: str
    fr: str


@dataclass(frozen=True)
class AlpacaItem:
    instruction: str
    input: str
    output: str


def normalize_space(text: str) -> str:
    return " ".join(text.split())


def is_speakable(text: str) -> bool:
    """True for plain ASCII text of 1..MAX_SPOKEN_WORDS words without markup, code or links."""
    return text.isascii() and 0 < len(text.split()) <= MAX_SPOKEN_WORDS and not _UNSPEAKABLE.search(text)


def parse_slots(annotation: str) -> tuple[tuple[str, str], ...]:
    """`"wake me at [time : nine am]"` -> `(("time", "nine am"),)`, in order of appearance."""
    return tuple((slot_type.strip(), value.strip()) for slot_type, value in _SLOT.findall(annotation))


def _complete(slots: tuple[tuple[str, str], ...]) -> bool:
    """False when an annotated slot has an empty value (a broken annotation, i.e. a missing label)."""
    return all(slot_value for _, slot_value in slots)


def _read_lines(path: Path) -> list[str]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return handle.read().splitlines()


def load_slurp(sources_dir: Path, split: str, skips: SkipReport) -> list[SluUtterance]:
    """SLURP `devel` or `test` sentences; intent is recomputed as `scenario_action` (the raw field is inconsistent)."""
    utterances = []
    for line in _read_lines(sources_dir / "slurp" / f"{split}.jsonl.gz"):
        if not line:
            continue
        row = json.loads(line)
        skips.seen += 1
        slots = parse_slots(row.get("sentence_annotation") or "")
        if not (row.get("scenario") and row.get("action") and row.get("sentence")) or not _complete(slots):
            skips.skip("missing_label")
            continue
        utterances.append(
            SluUtterance(
                text=normalize_space(row["sentence"]),
                intent=f"{row['scenario']}_{row['action']}",
                scenario=row["scenario"],
                slots=slots,
                source=f"slurp-{split}",
            )
        )
    return utterances


def load_nlu_eval(sources_dir: Path, exclude: set[str], skips: SkipReport) -> list[SluUtterance]:
    """NLU-Evaluation-Data utterances minus any sentence in `exclude` (the SLURP devel/test sentences)."""
    utterances, seen_texts = [], set()
    with gzip.open(sources_dir / "nlu-eval" / "utterances.tsv.gz", "rt", encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
            skips.seen += 1
            text = normalize_space(row["answer_from_anno"] or "").lower()
            slots = parse_slots(row["answer_annotation"] or "")
            if not (row["scenario"] and row["intent"] and text and row["answer_annotation"]) or not _complete(slots):
                skips.skip("missing_label")
                continue
            if text in exclude or text in seen_texts:
                continue
            seen_texts.add(text)
            utterances.append(
                SluUtterance(
                    text=text,
                    intent=f"{row['scenario']}_{row['intent']}",
                    scenario=row["scenario"],
                    slots=slots,
                    source="nlu-eval",
                )
            )
    return utterances


def load_slurp_lm(sources_dir: Path, exclude: set[str]) -> list[str]:
    """Unique SLURP training sentences (no labels), minus `exclude`."""
    return [
        text
        for text in (normalize_space(line) for line in _read_lines(sources_dir / "slurp" / "lm.txt.gz"))
        if text and text not in exclude and is_speakable(text)
    ]


def load_multi30k(sources_dir: Path, split: str) -> list[TranslationPair]:
    """Aligned EN/DE/FR Multi30k sentences (`split` is `train` or `test_2016_flickr`)."""
    columns = [_read_lines(sources_dir / "multi30k" / f"{split}.{lang}.gz") for lang in ("en", "de", "fr")]
    if len({len(column) for column in columns}) != 1:
        raise ValueError(f"multi30k {split}: EN/DE/FR files have different line counts")
    return [
        TranslationPair(*(normalize_space(text) for text in texts))
        for texts in zip(*columns)
        if all(texts) and is_speakable(texts[0])
    ]


def load_goemotions(sources_dir: Path, split: str, skips: SkipReport) -> list[tuple[str, str]]:
    """(text, sentiment) pairs with a single GoEmotions group label (positive / negative / neutral)."""
    pairs = []
    for line in _read_lines(sources_dir / "goemotions" / f"{split}.tsv.gz"):
        if not line:
            continue
        fields = line.split("\t")
        skips.seen += 1
        if len(fields) < 2 or not fields[1]:
            skips.skip("missing_label")
            continue
        if fields[1] not in GOEMOTIONS_GROUPS:  # multi-label rows ("1,3") and "ambiguous" have no single sentiment
            continue
        text = normalize_space(fields[0])
        # "[NAME]" / "[RELIGION]" placeholders would be read out literally.
        if len(text.split()) >= 3 and is_speakable(text):
            pairs.append((text, GOEMOTIONS_GROUPS[fields[1]]))
    return pairs


def load_alpaca(sources_dir: Path) -> list[AlpacaItem]:
    """Alpaca items whose input is short plain text (it is spoken) and whose output is at most 60 words."""
    with gzip.open(sources_dir / "alpaca" / "alpaca_with_input.json.gz", "rt", encoding="utf-8") as handle:
        items = json.load(handle)
    return [
        AlpacaItem(normalize_space(item["instruction"]), normalize_space(item["input"]), item["output"].strip())
        for item in items
        if is_speakable(normalize_space(item["input"]))
        and not _ALPACA_NO_INPUT.match(item["input"])
        and 0 < len(item["output"].split()) <= MAX_ALPACA_OUTPUT_WORDS
        and item["instruction"].strip()
    ]
