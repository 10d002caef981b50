"""Macro F1 over keyword sets for keyword extraction (KWE, SpeechVerse Tables 2 and 9), as an `evaluate` metric."""

import datasets
import evaluate

from .text_normalization import normalize_text


_DESCRIPTION = """
Keyword-extraction "Macro F1" (paper Table 1): an F1 score per utterance, averaged over utterances with equal weight
(macro over examples, not over keywords).

For each utterance, predicted and gold keywords are normalised with `normalize_text` and turned into sets (duplicates
collapse; keywords that normalise to "" are dropped). With P the predicted set and G the gold set,

    F1 = 2 |P & G| / (|P| + |G|)

which is the harmonic mean of precision |P & G| / |P| and recall |P & G| / |G|. Edge cases: both sets empty -> 1.0
(nothing to extract and nothing extracted); exactly one empty -> 0.0.

Parsing the model's generated text into a keyword list is the caller's job; this metric takes the lists.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `list` of `str`): predicted keywords, one list per utterance.
    references (`list` of `list` of `str`): gold keywords, one list per utterance.

Returns:
    macro_f1 (`float`): mean per-utterance F1 in [0, 1].

Examples:
    >>> macro_f1 = evaluate.load("/path/to/modeling_speechverse/evaluation/metrics/macro_f1.py")
    >>> macro_f1.compute(predictions=[["Paris", "capital"]], references=[["paris", "france"]])["macro_f1"]
    0.5
"""


def _keyword_set(keywords: list[str]) -> set[str]:
    return {normalized for normalized in map(normalize_text, keywords) if normalized}


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class KeywordMacroF1(evaluate.Metric):
    """Per-utterance keyword-set F1, averaged over utterances."""

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {
                    "predictions": datasets.List(datasets.Value("string")),
                    "references": datasets.List(datasets.Value("string")),
                }
            ),
        )

    def _compute(self, predictions: list[list[str]], references: list[list[str]]) -> dict[str, float]:
        if not references:
            raise ValueError("macro_f1 needs at least one (prediction, reference) pair; got none.")
        scores = []
        for predicted_keywords, gold_keywords in zip(predictions, references):
            predicted, gold = _keyword_set(predicted_keywords), _keyword_set(gold_keywords)
            if not predicted and not gold:
                scores.append(1.0)
            else:
                scores.append(2 * len(predicted & gold) / (len(predicted) + len(gold)))
        return {"macro_f1": sum(scores) / len(scores)}
