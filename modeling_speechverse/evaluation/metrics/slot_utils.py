"""Input checking and precision/recall/F1 shared by the slot metrics (`sd_f1`, `slu_f1`).

This module imports nothing from the rest of the package: the metric scripts next to it import it relatively, and
`evaluate.load` copies it beside them into its module cache.
"""

from typing import Sequence


def check_slot_pairs(examples: Sequence[Sequence[Sequence[str]]], side: str) -> list[list[tuple[str, str]]]:
    """Check that every example is a list of `(slot type, slot value)` pairs of strings.

    Args:
        examples: One list of pairs per utterance.
        side: "predictions" or "references", named in error messages.

    Returns:
        The same data as lists of `(slot_type, slot_value)` tuples.

    Raises:
        ValueError: if a pair does not hold exactly two strings.
    """
    checked = []
    for index, pairs in enumerate(examples):
        example = []
        for pair in pairs:
            if len(pair) != 2 or not all(isinstance(part, str) for part in pair):
                raise ValueError(
                    f"{side}[{index}] holds {list(pair)!r}; every slot must be a (slot type, slot value) pair of "
                    "two strings."
                )
            example.append((pair[0], pair[1]))
        checked.append(example)
    return checked


def precision_recall_f1(
    true_positives: float, false_positives: float, false_negatives: float
) -> tuple[float, float, float]:
    """Precision, recall and F1 from (possibly fractional) counts, with the SLURP convention for empty counts.

    As in the SLURP evaluation toolkit, precision is 0 when nothing was predicted, recall is 0 when nothing was to be
    found, and F1 is 0 when both are 0. So a corpus with no gold and no predicted slots scores F1 = 0.

    Returns:
        `(precision, recall, f1)`, each in [0, 1].
    """
    predicted = true_positives + false_positives
    relevant = true_positives + false_negatives
    precision = true_positives / predicted if predicted > 0 else 0.0
    recall = true_positives / relevant if relevant > 0 else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return precision, recall, f1
