"""Unweighted average recall (UAR) for the paralinguistic tasks (SpeechVerse Table 3), as an `evaluate` metric."""

import datasets
import evaluate

from .text_normalization import normalize_text


_DESCRIPTION = """
Unweighted average recall: the recall of every class that occurs in the references, averaged with equal weight per
class, so a majority-class predictor scores 1 / (number of classes) however imbalanced the test set is:

    UAR = (1 / |C|) * sum over c in C of  #(prediction = c and reference = c) / #(reference = c)

where C is the set of classes present in the references. Labels on both sides are normalised with
`normalize_text` first. A prediction outside C (including an empty one) is a miss for its utterance's class and
adds no class to C. A reference that normalises to the empty string is not a label and raises a ValueError.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `str`): predicted labels.
    references (`list` of `str`): gold labels.

Returns:
    uar (`float`): unweighted average recall in [0, 1].
    recall_per_class (`dict` of `str` to `float`): recall of each normalised reference class.

Examples:
    >>> uar = evaluate.load("/path/to/modeling_speechverse/evaluation/metrics/uar.py")
    >>> uar.compute(predictions=["happy", "happy", "happy"], references=["happy", "happy", "sad"])["uar"]
    0.5
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class UnweightedAverageRecall(evaluate.Metric):
    """Mean per-class recall over the classes present in the references."""

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {"predictions": datasets.Value("string"), "references": datasets.Value("string")}
            ),
        )

    def _compute(self, predictions: list[str], references: list[str]) -> dict[str, float | dict[str, float]]:
        if not references:
            raise ValueError("uar needs at least one (prediction, reference) pair; got none.")
        gold = [normalize_text(reference) for reference in references]
        empty = [index for index, label in enumerate(gold) if not label]
        if empty:
            raise ValueError(f"uar: references at indices {empty[:10]} are empty after normalisation.")
        support: dict[str, int] = {}
        hits: dict[str, int] = {}
        for prediction, label in zip(predictions, gold):
            support[label] = support.get(label, 0) + 1
            hits[label] = hits.get(label, 0) + (normalize_text(prediction) == label)
        recall_per_class = {label: hits[label] / support[label] for label in sorted(support)}
        return {"uar": sum(recall_per_class.values()) / len(recall_per_class), "recall_per_class": recall_per_class}
