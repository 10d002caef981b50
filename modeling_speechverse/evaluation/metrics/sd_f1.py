"""Slot-label detection F1 (SD-F1, SpeechVerse paper Section 4.3.1 and Table 7), as an `evaluate` metric."""

from collections import Counter

import datasets
import evaluate

from .slot_utils import check_slot_pairs, precision_recall_f1
from .text_normalization import normalize_text


_DESCRIPTION = """
SD-F1 scores only whether the right slot types were detected, ignoring slot values; it is the part of slot filling
that constrained decoding can help with (paper Section 4.3.1).

Per utterance, the predicted and gold slot types (normalised with `normalize_text`) are compared as multisets:
true positives = size of their multiset intersection, false positives = predicted count - TP, false negatives =
gold count - TP. The counts are summed over the corpus (micro averaging) and

    precision = TP / (TP + FP),   recall = TP / (TP + FN),   SD-F1 = 2 P R / (P + R).

Empty cases follow the SLURP toolkit's convention: precision is 0 when nothing was predicted, recall is 0 when
nothing was to be found, F1 is 0 when both are 0 (so a corpus with no slots at all scores 0). An utterance with
neither gold nor predicted slots adds nothing to the counts.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `list` of `(str, str)`): predicted (slot type, slot value) pairs per utterance.
    references (`list` of `list` of `(str, str)`): gold (slot type, slot value) pairs per utterance.

Returns:
    sd_f1, precision, recall (`float`): micro-averaged, in [0, 1].
    true_positives, false_positives, false_negatives (`int`): summed counts.

Examples:
    >>> sd_f1 = evaluate.load("/path/to/modeling_speechverse/evaluation/metrics/sd_f1.py")
    >>> sd_f1.compute(predictions=[[("date", "monday")]], references=[[("date", "today")]])["sd_f1"]
    1.0
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class SlotDetectionF1(evaluate.Metric):
    """Micro F1 over slot types, values ignored."""

    def _info(self) -> evaluate.MetricInfo:
        pairs = datasets.List(datasets.List(datasets.Value("string")))
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features({"predictions": pairs, "references": pairs}),
        )

    def _compute(
        self, predictions: list[list[list[str]]], references: list[list[list[str]]]
    ) -> dict[str, float | int]:
        if not references:
            raise ValueError("sd_f1 needs at least one (prediction, reference) pair; got none.")
        true_positives = false_positives = false_negatives = 0
        for predicted_pairs, gold_pairs in zip(
            check_slot_pairs(predictions, "predictions"), check_slot_pairs(references, "references")
        ):
            predicted = Counter(normalize_text(slot_type) for slot_type, _ in predicted_pairs)
            gold = Counter(normalize_text(slot_type) for slot_type, _ in gold_pairs)
            matched = sum((predicted & gold).values())
            true_positives += matched
            false_positives += sum(predicted.values()) - matched
            false_negatives += sum(gold.values()) - matched
        precision, recall, f1 = precision_recall_f1(true_positives, false_positives, false_negatives)
        return {
            "sd_f1": f1,
            "precision": precision,
            "recall": recall,
            "true_positives": true_positives,
            "false_positives": false_positives,
            "false_negatives": false_negatives,
        }
