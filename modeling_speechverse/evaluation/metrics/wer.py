"""Corpus-level word error rate (WER) for the SpeechVerse ASR results (paper Table 2), as an `evaluate` metric."""

import datasets
import evaluate
import jiwer

from .text_normalization import normalize_text


_DESCRIPTION = """
Corpus-level word error rate:

    WER = (S + D + I) / N

where S, D and I are the substitutions, deletions and insertions of the word-level Levenshtein alignments (jiwer) of
every (reference, prediction) pair, summed over the corpus, and N is the total number of reference words. It is not
the mean of per-utterance WERs.

Both sides are first normalised with `normalize_text`: NFKC, lower-case, every punctuation character except the
apostrophe replaced by a space, whitespace collapsed.

Empty references: an utterance whose normalised reference is empty adds no reference words, and each word of its
prediction counts as an insertion. If the whole corpus has no reference word (N = 0), WER is 0.0 when no prediction
has a word either and `inf` otherwise (any insertion over nothing to recognise).
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `str`): hypotheses, one per utterance.
    references (`list` of `str`): reference transcripts, one per utterance.

Returns:
    wer (`float`): corpus WER as a fraction (0.05 is 5 %); can exceed 1.
    substitutions, deletions, insertions, hits (`int`): summed alignment counts.
    reference_words (`int`): N, the number of normalised reference words.

Examples:
    >>> wer = evaluate.load("/path/to/modeling_speechverse/evaluation/metrics/wer.py")
    >>> wer.compute(predictions=["Hello there, world"], references=["hello world"])["wer"]
    0.5
"""

_CITATION = """
@inproceedings{morris2004,
  author = {Morris, Andrew and Maier, Viktoria and Green, Phil},
  title = {From WER and RIL to MER and WIL: improved evaluation measures for connected speech recognition.},
  booktitle = {Interspeech},
  year = {2004}
}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class WordErrorRate(evaluate.Metric):
    """Corpus-level WER over normalised text (see the module description for the exact definition)."""

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {"predictions": datasets.Value("string"), "references": datasets.Value("string")}
            ),
            codebase_urls=["https://github.com/jitsi/jiwer"],
        )

    def _compute(self, predictions: list[str], references: list[str]) -> dict[str, float | int]:
        if not references:
            raise ValueError("wer needs at least one (prediction, reference) pair; got none.")
        alignment = jiwer.process_words(
            [normalize_text(reference) for reference in references],
            [normalize_text(prediction) for prediction in predictions],
        )
        errors = alignment.substitutions + alignment.deletions + alignment.insertions
        reference_words = alignment.substitutions + alignment.deletions + alignment.hits
        if reference_words == 0:
            wer = 0.0 if errors == 0 else float("inf")
        else:
            wer = errors / reference_words
        return {
            "wer": wer,
            "substitutions": alignment.substitutions,
            "deletions": alignment.deletions,
            "insertions": alignment.insertions,
            "hits": alignment.hits,
            "reference_words": reference_words,
        }
