"""The source texts of the synthetic corpus, split into train / validation / test, and the seen / unseen labels.

Splits. Texts are assigned to a split by a stable hash of the text (5% validation), or by the corpus' own test split
(Multi30k test_2016_flickr, GoEmotions test, SLURP test), so no sentence is shared between train/validation and test.

Seen / unseen labels (paper Section 4.2, Appendix A.3). The IC/SF training pool is NLU-Evaluation-Data (minus every
sentence that also occurs in SLURP devel/test) plus SLURP devel; its 10 most frequent intents and 4 most frequent
slot types are "seen". SLURP test sentences with unseen intents, or with only unseen slot types, form the held-out
IC-UNSEEN / SF-UNSEEN test sets.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from pathlib import Path

import yake

from .skips import SkipReport
from .sources import (
    AlpacaItem,
    SluUtterance,
    TranslationPair,
    is_speakable,
    load_alpaca,
    load_goemotions,
    load_multi30k,
    load_nlu_eval,
    load_slurp,
    load_slurp_lm,
)

VALIDATION_FRACTION = 0.05
ALPACA_TEST_FRACTION = 0.10
NUM_SEEN_INTENTS = 10
NUM_SEEN_SLOTS = 4
STOPWORDS = frozenset(yake.KeywordExtractor(lan="en").stopword_set)
WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


def hash_fraction(namespace: str, text: str) -> float:
    """A stable pseudo-random number in [0, 1) for a text (same on every machine and Python run)."""
    digest = hashlib.sha256(f"{namespace}\0{text}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def train_or_validation(namespace: str, text: str) -> str:
    return "validation" if hash_fraction(namespace, text) < VALIDATION_FRACTION else "train"


def content_words(text: str) -> list[str]:
    """Lower-cased words of at least 3 letters that are not stopwords, in order, without repeats."""
    return list(dict.fromkeys(word for word in WORD.findall(text.lower()) if len(word) >= 3 and word not in STOPWORDS))


def _top_labels(counts: Counter[str], k: int) -> tuple[str, ...]:
    # Ties broken by name so the choice never depends on file order.
    return tuple(sorted(label for label, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:k]))


class Corpora:
    """All source texts, split into train / validation / test, with the seen / unseen label sets."""

    def __init__(self, sources_dir: Path) -> None:
        self.skips = SkipReport()
        slurp_devel = load_slurp(sources_dir, "devel", self.skips)
        slurp_test = load_slurp(sources_dir, "test", self.skips)
        test_texts = {utterance.text for utterance in slurp_test}
        slurp_texts = test_texts | {utterance.text for utterance in slurp_devel}
        nlu_eval = load_nlu_eval(sources_dir, exclude=slurp_texts, skips=self.skips)

        slu_pool = nlu_eval + [utterance for utterance in slurp_devel if utterance.text not in test_texts]
        # A few SLURP sentences are far too long for the audio length limit; they are dropped from every task.
        slu_pool = [utterance for utterance in slu_pool if is_speakable(utterance.text)]
        slurp_test = [utterance for utterance in slurp_test if is_speakable(utterance.text)]
        test_texts = {utterance.text for utterance in slurp_test}
        self.slu: dict[str, list[SluUtterance]] = {"train": [], "validation": [], "test": slurp_test}
        for utterance in slu_pool:
            self.slu[train_or_validation("slu", utterance.text)].append(utterance)
        self.seen_intents = _top_labels(Counter(u.intent for u in slu_pool), NUM_SEEN_INTENTS)
        self.seen_slots = _top_labels(Counter(slot for u in slu_pool for slot, _ in u.slots), NUM_SEEN_SLOTS)
        self.unseen_intents = tuple(sorted({u.intent for u in slurp_test} - set(self.seen_intents)))
        self.scenarios = tuple(sorted({u.scenario for u in slurp_test}))
        # SF-UNSEEN uses SLURP test sentences whose slots are all unseen; these are their slot types.
        seen_slots = set(self.seen_slots)
        self.unseen_slots = tuple(
            sorted({s for u in slurp_test if u.slots and not {t for t, _ in u.slots} & seen_slots for s, _ in u.slots})
        )

        # Short voice-assistant commands: SLURP train sentences; for test, the SLURP test sentences.
        self.commands: dict[str, list[str]] = {"train": [], "validation": [], "test": sorted(test_texts)}
        for text in load_slurp_lm(sources_dir, exclude=slurp_texts):
            self.commands[train_or_validation("commands", text)].append(text)

        self.captions: dict[str, list[TranslationPair]] = {"train": [], "validation": []}
        for pair in load_multi30k(sources_dir, "train"):
            self.captions[train_or_validation("multi30k", pair.en)].append(pair)
        self.captions["test"] = load_multi30k(sources_dir, "test_2016_flickr")

        self.sentiment: dict[str, list[tuple[str, str]]] = {"train": [], "validation": []}
        for text, label in load_goemotions(sources_dir, "train", self.skips):
            self.sentiment[train_or_validation("goemotions", text)].append((text, label))
        self.sentiment["test"] = load_goemotions(sources_dir, "test", self.skips)

        self.alpaca: dict[str, list[AlpacaItem]] = {"train": [], "validation": [], "test": []}
        for item in load_alpaca(sources_dir):
            fraction = hash_fraction("alpaca", item.instruction + "\0" + item.input)
            split = "test" if fraction >= 1 - ALPACA_TEST_FRACTION else train_or_validation("alpaca", item.input)
            self.alpaca[split].append(item)

        self.vocabulary = {
            split: sorted(
                {
                    word
                    for text in self.commands[split] + [pair.en for pair in self.captions[split]]
                    for word in content_words(text)
                }
            )
            for split in ("train", "validation", "test")
        }
