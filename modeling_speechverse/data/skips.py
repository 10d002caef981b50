"""Counting and reporting of skipped bad data (unreadable audio, missing labels, ...)."""

from __future__ import annotations

import warnings
from collections import Counter


class SkipReport:
    """Counts items dropped for a named reason and warns once with the totals.

    Bad data never crashes a build: loaders call `skip(reason)` and move on, then `warn_if_any(what)` emits a single
    `UserWarning` such as ``"fsdd: skipped 3 of 303 recordings (empty=1, unreadable=2)"``.
    """

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.seen = 0

    def skip(self, reason: str) -> None:
        self.counts[reason] += 1

    def total(self) -> int:
        return sum(self.counts.values())

    def merge(self, other: SkipReport) -> None:
        self.counts.update(other.counts)
        self.seen += other.seen

    def warn_if_any(self, what: str) -> None:
        if self.total():
            reasons = ", ".join(f"{reason}={count}" for reason, count in sorted(self.counts.items()))
            warnings.warn(f"{what}: skipped {self.total()} of {self.seen} items ({reasons})", UserWarning, stacklevel=2)
