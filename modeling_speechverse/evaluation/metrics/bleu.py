"""Corpus BLEU (sacrebleu) for the SpeechVerse speech translation results (paper Table 2), as an `evaluate` metric."""

import datasets
import evaluate
from sacrebleu.metrics import BLEU


_DESCRIPTION = """
Corpus-level BLEU computed by sacrebleu (Post, 2018): modified n-gram precisions for n = 1..4 pooled over the whole
corpus, their geometric mean, times the brevity penalty exp(1 - r / c) when the total hypothesis length c is shorter
than the total reference length r. Scores are on sacrebleu's 0-100 scale.

No extra normalisation is applied: BLEU is scored on the detokenised text with sacrebleu's own tokenizer (13a by
default) and is case-sensitive unless `lowercase=True`, which is the standard way to report it. An empty prediction
adds nothing to the n-gram counts but its reference still adds to r; an empty reference adds nothing to r while its
prediction's n-grams count as unmatched.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `str`): translations, one per utterance.
    references (`list` of `str`): one reference translation per utterance.
    tokenize (`str`, default "13a"): sacrebleu tokenizer name.
    lowercase (`bool`, default False): score case-insensitively.

Returns:
    score (`float`): BLEU on a 0-100 scale.
    counts, totals (`list` of `int`): matched and total hypothesis n-grams for n = 1..4.
    precisions (`list` of `float`): n-gram precisions in percent.
    bp (`float`): brevity penalty.
    sys_len, ref_len (`int`): total hypothesis and (effective) reference lengths in tokens.
    signature (`str`): sacrebleu signature, to report with the score.

Examples:
    >>> bleu = evaluate.load("/path/to/modeling_speechverse/evaluation/metrics/bleu.py")
    >>> round(bleu.compute(predictions=["the cat sat on mat"], references=["the cat sat on the mat"])["score"], 2)
    57.89
"""

_CITATION = """
@inproceedings{post-2018-call,
    title = "A Call for Clarity in Reporting {BLEU} Scores",
    author = "Post, Matt",
    booktitle = "Proceedings of the Third Conference on Machine Translation: Research Papers",
    year = "2018",
    pages = "186--191",
}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class CorpusBleu(evaluate.Metric):
    """sacrebleu corpus BLEU, one reference per utterance."""

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {"predictions": datasets.Value("string"), "references": datasets.Value("string")}
            ),
            codebase_urls=["https://github.com/mjpost/sacrebleu"],
        )

    def _compute(
        self,
        predictions: list[str],
        references: list[str],
        tokenize: str = "13a",
        lowercase: bool = False,
    ) -> dict[str, float | int | str | list]:
        if not references:
            raise ValueError("bleu needs at least one (prediction, reference) pair; got none.")
        bleu = BLEU(tokenize=tokenize, lowercase=lowercase)
        score = bleu.corpus_score(predictions, [references])
        return {
            "score": score.score,
            "counts": score.counts,
            "totals": score.totals,
            "precisions": score.precisions,
            "bp": score.bp,
            "sys_len": score.sys_len,
            "ref_len": score.ref_len,
            "signature": bleu.get_signature().format(),
        }
