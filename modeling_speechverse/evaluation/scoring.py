"""Score generated outputs: parse them with the task registry, then compute the task's metrics.

An output that cannot be parsed (or that does not exist because the audio could not be read) is scored as wrong and
counted in `Score.n_unparseable`; scoring never fails on a bad prediction. A bad *reference* is a data error and
raises a ValueError naming the example (`parse_references` is called before any generation, so it fails fast).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from ..tasks import get_task, parse_joint
from .metrics import load_metric, metric_score


# Slot filling is reported with both SLU-F1 and slot-label detection F1 (paper Table 7).
SLOT_METRICS = ("slu_f1", "sd_f1")
_UNSEEN_SUFFIX = "-UNSEEN"
# What an unparseable output contributes to each metric's input: a value no reference can equal.
_NO_ANSWER: dict[str, Any] = {"label": "", "text": "", "slots": [], "keywords": []}


@dataclass(frozen=True)
class Score:
    """One metric over one group of outputs, on the paper's 0-100 scale (see `metrics.metric_score`)."""

    metric: str
    value: float
    n: int
    n_unparseable: int


def entry_task(code: str) -> str:
    """The results.json task of a registry task: IC-UNSEEN and SF-UNSEEN are IC and SF with unseen labels."""
    return get_task(code).code.removesuffix(_UNSEEN_SUFFIX)


def label_setting(code: str) -> str:
    """The entry's `labels`: unseen for the zero-shot tasks (DC, IC-UNSEEN, SF-UNSEEN; paper Table 7), else seen."""
    return "unseen" if get_task(code).held_out else "seen"


def task_metrics(code: str) -> tuple[str, ...]:
    """The metrics reported for a task: its registry metric, and SD-F1 as well for slot filling."""
    task = get_task(code)
    return SLOT_METRICS if task.format == "slots" else (task.metric,)


def candidate_labels(code: str, example: Mapping[str, Any]) -> list[str] | None:
    """The label set an example offers (its `labels` column: IC intents, DC domains, SF slot names), else the
    task's closed label set, else None (open output)."""
    task = get_task(code)
    labels = example.get("labels") or task.labels
    return list(labels) if labels else None


def parse_output(code: str, text: str | None, labels: Sequence[str] | None, joint: bool = False) -> Any | None:
    """The task value of one generated text, or None if it cannot be read.

    Args:
        code: Registry task code.
        text: The decoded generation; None when there is none (unreadable audio).
        labels: The example's candidate labels. Slot names are not restricted when parsing: a slot outside the
            allowed set is a wrong prediction, not a missing one.
        joint: The text is a joint "ASR: ...   <Name>: ..." generation; only the answer part is scored.
    """
    if text is None:
        return None
    if joint:
        text = parse_joint(text, code).answer
        if text is None:
            return None
    task = get_task(code)
    return task.parse_prediction(text, None if task.format == "slots" else labels)


def parse_references(code: str, examples: Sequence[Mapping[str, Any]]) -> list[Any]:
    """Parse every example's `target` as the task's value; raises ValueError on the first unreadable one."""
    task = get_task(code)
    references = []
    for example in examples:
        labels = candidate_labels(code, example)
        value = task.parse_prediction(example["target"], None if task.format == "slots" else labels)
        if value is None:
            raise ValueError(
                f"example {example.get('id', '?')!r}: target {example['target']!r} is not a valid {task.code} "
                f"target" + (f" (labels: {labels})" if labels and task.format == "label" else "")
            )
        references.append(value)
    return references


@cache
def _metric(name: str):
    return load_metric(name)


def _metric_input(task_format: str, value: Any | None) -> Any:
    if value is None:
        return _NO_ANSWER[task_format]
    if task_format == "slots":
        return [list(pair) for pair in value]
    return value


def score_outputs(
    code: str,
    outputs: Sequence[str | None],
    examples: Sequence[Mapping[str, Any]],
    references: Sequence[Any] | None = None,
    joint: bool = False,
) -> list[Score]:
    """Score one group of outputs with every metric of the task.

    Args:
        code: Registry task code (e.g. "IC-UNSEEN").
        outputs: One decoded generation per example; None where there is none.
        examples: The corpus rows (`target`, `labels`, `id`).
        references: Parsed targets (`parse_references`); parsed here when not given.
        joint: Outputs are joint ASR + task generations.

    Returns:
        One `Score` per metric of `task_metrics(code)`.
    """
    if len(outputs) != len(examples) or not examples:
        raise ValueError(
            f"need one output per example and at least one example; got {len(outputs)} and {len(examples)}"
        )
    task = get_task(code)
    references = parse_references(code, examples) if references is None else references
    parsed = [
        parse_output(code, output, candidate_labels(code, example), joint) for output, example in zip(outputs, examples)
    ]
    n_unparseable = sum(value is None for value in parsed)
    predictions = [_metric_input(task.format, value) for value in parsed]
    gold = [_metric_input(task.format, value) for value in references]
    scores = []
    for name in task_metrics(code):
        result = _metric(name).compute(predictions=predictions, references=gold)
        scores.append(Score(name, metric_score(name, result), len(examples), n_unparseable))
    return scores
