"""Text-only evaluation of the mini LLM (the GT -> LLM model) on held-out sentences of the corpus test splits.

Each task is scored with its SpeechVerse metric (the project's local `evaluate` modules) on text-form examples built
exactly like the training ones (`instruct.text_examples`) but from the test split, with greedy decoding. Reference
points that make the numbers readable are reported next to them: the majority / chance rate of the classification
tasks and the BLEU of copying the English source for translation.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import sacrebleu
import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from ..data.planning import Corpora
from ..evaluation import load_metric, metric_score, normalize_text
from ..tasks import get_task
from .instruct import TEXT_TASKS, TextExample, text_examples

EVAL_TASKS = TEXT_TASKS + ("IC-UNSEEN",)
MAX_NEW_TOKENS = {"ASR": 64, "ST": 80, "INSTRUCT": 96, "KWE": 24, "SF": 48}
DEFAULT_MAX_NEW_TOKENS = 16


@torch.no_grad()
def generate_text(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    max_new_tokens: int = 64,
    batch_size: int = 32,
) -> list[str]:
    """Greedy generations for `texts`, batched by length, returned in input order."""
    model.eval()
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    outputs: list[str] = [""] * len(texts)
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        inputs = tokenizer([texts[i] for i in rows], return_tensors="pt", padding=True)
        generated = model.generate(**inputs, max_new_tokens=max_new_tokens, num_beams=1, do_sample=False)
        for i, text in zip(rows, tokenizer.batch_decode(generated, skip_special_tokens=True), strict=True):
            outputs[i] = text.strip()
    return outputs


def _score(task: str, examples: Sequence[TextExample], predictions: Sequence[str]) -> dict[str, Any]:
    """The task's SpeechVerse metric plus reference rates for the examples' generations."""
    spec = get_task(task)
    references = [example.target for example in examples]
    if spec.metric in ("slu_f1", "macro_f1"):
        parsed = [
            spec.parse_prediction(p, list(e.labels) or None) or [] for p, e in zip(predictions, examples, strict=True)
        ]
        gold = [spec.parse_prediction(reference) or [] for reference in references]
        result = load_metric(spec.metric).compute(predictions=parsed, references=gold)
    else:
        result = load_metric(spec.metric).compute(predictions=list(predictions), references=references)
    scores: dict[str, Any] = {
        "metric": spec.metric,
        "score": round(metric_score(spec.metric, result), 2),
        "n": len(examples),
    }
    if spec.format == "label":
        scores["majority_rate"] = round(100 * Counter(references).most_common(1)[0][1] / len(references), 2)
        candidates = [set(e.labels) or set(spec.labels or ()) for e in examples]
        scores["valid_label_rate"] = round(
            100
            * sum(spec.parse_prediction(p, sorted(c)) is not None for p, c in zip(predictions, candidates, strict=True))
            / len(examples),
            2,
        )
    if task == "ASR":
        exact = sum(normalize_text(p) == normalize_text(r) for p, r in zip(predictions, references, strict=True))
        scores["exact_match"] = round(100 * exact / len(examples), 2)
    return scores


def evaluate_text_model(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    corpora: Corpora,
    tasks: Sequence[str] = EVAL_TASKS,
    n: int = 200,
    seed: int = 0,
    batch_size: int = 32,
) -> dict[str, dict[str, Any]]:
    """Score the model on `n` test-split text examples per task (training prompts, greedy decoding).

    Returns:
        task -> `{"metric", "score" (0-100, WER lower is better), "n", ...}`; ST also has `bleu_German`,
        `bleu_French` and `copy_source_bleu`, ASR `exact_match`, label tasks `majority_rate` and
        `valid_label_rate` (share of generations that parse to one of the offered labels).
    """
    results = {}
    for task in tasks:
        examples = text_examples(corpora, task, "test", n, seed=seed)
        predictions = generate_text(
            model, tokenizer, [e.text for e in examples], MAX_NEW_TOKENS.get(task, DEFAULT_MAX_NEW_TOKENS), batch_size
        )
        results[task] = _score(task, examples, predictions)
        results[task]["samples"] = [
            {"input": e.text, "target": e.target, "prediction": p}
            for e, p in list(zip(examples, predictions, strict=True))[:3]
        ]
        if task == "ST":
            for language in ("German", "French"):
                rows = [i for i, e in enumerate(examples) if e.target_language == language]
                bleu = sacrebleu.corpus_bleu([predictions[i] for i in rows], [[examples[i].target for i in rows]])
                results[task][f"bleu_{language}"] = round(bleu.score, 2)
            copy = sacrebleu.corpus_bleu([e.transcript for e in examples], [[e.target for e in examples]])
            results[task]["copy_source_bleu"] = round(copy.score, 2)
    return results
