"""SLU-F1 (Bastianelli et al., 2020) for SpeechVerse slot filling (paper Tables 2 and 7), as an `evaluate` metric."""

from typing import Callable

import datasets
import evaluate
import jiwer
from rapidfuzz.distance import Levenshtein

from .slot_utils import check_slot_pairs, precision_recall_f1
from .text_normalization import normalize_text


_DESCRIPTION = """
SLU-F1, the slot-filling metric introduced with SLURP (Bastianelli et al., EMNLP 2020), re-implemented from the
definition of the SLURP evaluation toolkit (`scripts/evaluation/metrics`). It gives partial credit to a slot whose
type is right but whose value is mis-transcribed, instead of counting it as wrong outright.

1. Distance-based span F1, for a distance d between a gold and a predicted value:
   for every utterance, each predicted (type, value), in order, is matched to a not-yet-matched gold slot of the same
   type, choosing the one with the smallest d(gold value, predicted value) (the first on ties). A match adds 1 to TP
   and d to both FP and FN; a prediction whose type has no unmatched gold slot left adds 1 to FP; every gold slot left
   unmatched adds 1 to FN. Counts are summed over the corpus.
2. Two distances are used:
   - word level: the word error rate of the predicted value against the gold value (word edits / gold words; it can
     exceed 1, as in the toolkit),
   - character level: the Levenshtein distance between the value strings divided by the longer string's length.
   When the gold value is empty, either distance is 0 for an empty prediction and 1 otherwise.
3. SLU-F1 adds up the word-level and the character-level TP, FP and FN and computes micro precision, recall and F1
   from the sums: F1 = 2 TP / (2 TP + FP + FN).

Types and values are normalised with `normalize_text` first; this is the one departure from the toolkit, which
compares the strings as given, so a generated "New York." still matches the gold "new york". Precision is 0 when
nothing was predicted, recall is 0 when nothing was to be found, and F1 is 0 when both are 0, as in the toolkit (a
corpus with no slots at all scores 0).
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `list` of `(str, str)`): predicted (slot type, slot value) pairs per utterance.
    references (`list` of `list` of `(str, str)`): gold (slot type, slot value) pairs per utterance.

Returns:
    slu_f1, slu_precision, slu_recall (`float`): from the summed word- and character-level counts, in [0, 1].
    word_f1, char_f1 (`float`): the distance-based span F1 of each distance alone.

Examples:
    >>> slu_f1 = evaluate.load("/path/to/modeling_speechverse/evaluation/metrics/slu_f1.py")
    >>> result = slu_f1.compute(predictions=[[("place", "new work")]], references=[[("place", "new york")]])
    >>> round(result["slu_f1"], 4)  # word: TP 1, FP = FN = 0.5; char: TP 1, FP = FN = 0.125
    0.7619
"""

_CITATION = """
@inproceedings{bastianelli-etal-2020-slurp,
    title = "{SLURP}: A Spoken Language Understanding Resource Package",
    author = "Bastianelli, Emanuele and Vanzo, Andrea and Swietojanski, Pawel and Rieser, Verena",
    booktitle = "Proceedings of the 2020 Conference on Empirical Methods in Natural Language Processing (EMNLP)",
    year = "2020",
    pages = "7252--7262",
}
"""


def _word_distance(gold: str, predicted: str) -> float:
    if not gold:
        return float(bool(predicted))
    return jiwer.wer(gold, predicted)


def _char_distance(gold: str, predicted: str) -> float:
    return Levenshtein.normalized_distance(gold, predicted)


def _span_distance_counts(
    predictions: list[list[tuple[str, str]]], references: list[list[tuple[str, str]]],
    distance: Callable[[str, str], float],
) -> tuple[float, float, float]:
    """TP, FP and FN of the distance-based span F1, summed over utterances (step 1 of the description)."""
    true_positives = false_positives = false_negatives = 0.0
    for predicted_pairs, gold_pairs in zip(predictions, references):
        unmatched = list(gold_pairs)
        for slot_type, value in predicted_pairs:
            candidates = [index for index, (gold_type, _) in enumerate(unmatched) if gold_type == slot_type]
            if not candidates:
                false_positives += 1
                continue
            # min() keeps the first of equal distances, as the toolkit does.
            best = min(candidates, key=lambda index: distance(unmatched[index][1], value))
            cost = distance(unmatched.pop(best)[1], value)
            true_positives += 1
            false_positives += cost
            false_negatives += cost
        false_negatives += len(unmatched)
    return true_positives, false_positives, false_negatives


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class SluF1(evaluate.Metric):
    """SLURP's SLU-F1: span F1 with word- and character-level partial credit for slot values."""

    def _info(self) -> evaluate.MetricInfo:
        pairs = datasets.List(datasets.List(datasets.Value("string")))
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features({"predictions": pairs, "references": pairs}),
            codebase_urls=["https://github.com/pswietojanski/slurp/tree/master/scripts/evaluation"],
        )

    def _compute(self, predictions: list[list[list[str]]], references: list[list[list[str]]]) -> dict[str, float]:
        if not references:
            raise ValueError("slu_f1 needs at least one (prediction, reference) pair; got none.")

        def normalized(examples: list[list[list[str]]], side: str) -> list[list[tuple[str, str]]]:
            return [
                [(normalize_text(slot_type), normalize_text(value)) for slot_type, value in pairs]
                for pairs in check_slot_pairs(examples, side)
            ]

        predicted, gold = normalized(predictions, "predictions"), normalized(references, "references")
        word_counts = _span_distance_counts(predicted, gold, _word_distance)
        char_counts = _span_distance_counts(predicted, gold, _char_distance)
        summed = [word + char for word, char in zip(word_counts, char_counts)]
        precision, recall, f1 = precision_recall_f1(*summed)
        return {
            "slu_f1": f1,
            "slu_precision": precision,
            "slu_recall": recall,
            "word_f1": precision_recall_f1(*word_counts)[2],
            "char_f1": precision_recall_f1(*char_counts)[2],
        }
