"""The `results.json` schema, its validating loader, the Markdown report and Hugging Face `model-index` entries.

`results.json` (schema version 1) is one JSON object per evaluated model:

```
{
  "schema_version": 1,
  "model": {"name": "speechverse-multitask-wlm", ...},   # "name" required, other keys free (str/num/bool/...)
  "data": {...},                                          # free JSON object: corpora, versions, sizes
  "settings": {...},                                      # free JSON object: decoding settings, seeds, ...
  "results": [                                            # one entry per measured number
    {
      "task": "ASR",                 # one of TASKS: ASR ST IC SF KWE KWS ER ASC SC AC SNS DC INSTRUCT
      "dataset": "librispeech",      # corpus id, free text (ST language pairs go here: "europarl_st/en-de")
      "split": "test-clean",         # split name, free text
      "metric": "wer",               # one of METRIC_NAMES: wer bleu accuracy slu_f1 sd_f1 macro_f1 uar
      "value": 5.2,                  # on the paper's 0-100 scale (see `metrics.metric_score`); WER may exceed 100
      "n": 2620,                     # utterances scored (>= 1)
      "n_unparseable": 0,            # of those, outputs that could not be parsed (scored as wrong), 0 <= . <= n
      "prompts": "seen",             # "seen" | "unseen": was the instruction used in training?
      "constrained": false,          # constrained decoding over the label set (paper Sec 4.3.1)
      "joint": false,                # joint decoding with the ASR transcript first (paper Sec 4.3.2)
      "system": "e2e",               # "e2e" | "cascade" | "gt-llm" | "substring" | "baseline-classifier"
      "prompt_id": "P2",             # optional, default null: which instruction (rows of Table 5)
      "labels": "seen",              # optional, default "seen": "unseen" for unseen tasks / class labels (Table 7)
      "label_descriptions": false    # optional, default false: prompt describes each class label (Table 7)
    }
  ]
}
```

Unknown keys are rejected, so typos fail loudly. Two entries may not share every field except `value`, `n` and
`n_unparseable`. Systems: "e2e" is the SpeechVerse model itself; "cascade" an ASR -> LLM pipeline; "gt-llm" the LLM
on ground-truth transcripts; "substring" the KWS substring-search baseline; "baseline-classifier" the
paralinguistic encoder + GRU classifier (`modeling_speechverse.evaluation.baselines`).

The Markdown report has one table per paper table; which entries go where:

- Table 2 (ASR and SLU): tasks ASR, IC, SF, ST, KWE, KWS; seen prompts, seen labels, free and single-task decoding.
- Table 3 (paralinguistic): tasks ER, ASC, SC, AC, SNS; same filter.
- Table 5 (unseen prompts): every (system, task, dataset, split, metric) with an unseen-prompt entry, one line per
  prompt; seen labels, free and single-task decoding.
- Table 7 (unseen tasks and labels): entries with `labels == "unseen"` and single-task decoding, rows by
  (label descriptions, constrained decoding).
- Table 9 (joint decoding): every (system, task, dataset, split, metric) with a joint-decoding entry, without (w/o)
  and with (w/) joint decoding side by side; seen prompts, seen labels, free decoding.

Entries that fit none of these (e.g. INSTRUCT, constrained decoding on seen labels) are listed under "Other results",
so nothing is dropped silently. Missing cells render as "–". Two entries landing in one cell raise a ValueError.
"""

import json
import math
from dataclasses import MISSING, asdict, dataclass, fields
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from .metrics import METRIC_NAMES


SCHEMA_VERSION = 1

TASKS: dict[str, str] = {
    "ASR": "Automatic Speech Recognition",
    "ST": "Speech Translation",
    "IC": "Intent Classification",
    "SF": "Slot Filling",
    "KWE": "Keyword Extraction",
    "KWS": "Keyword Search",
    "ER": "Emotion Recognition",
    "ASC": "Audio Sentiment Classification",
    "SC": "Speaker Counting",
    "AC": "Accent Classification",
    "SNS": "Speech/Non-Speech Detection",
    "DC": "Domain Classification",
    "INSTRUCT": "Spoken Instruction Following",
}
ASR_SLU_TASKS = ("ASR", "IC", "SF", "ST", "KWE", "KWS")
PARALINGUISTIC_TASKS = ("ER", "ASC", "SC", "AC", "SNS")

METRIC_LABELS: dict[str, str] = {
    "wer": "WER↓",
    "bleu": "BLEU↑",
    "accuracy": "ACC↑",
    "slu_f1": "SLU-F1↑",
    "sd_f1": "SD-F1↑",
    "macro_f1": "F1↑",
    "uar": "UAR↑",
}
_METRIC_LONG_NAMES: dict[str, str] = {
    "wer": "Word Error Rate",
    "bleu": "BLEU",
    "accuracy": "Accuracy",
    "slu_f1": "SLU-F1",
    "sd_f1": "SD-F1",
    "macro_f1": "Macro F1",
    "uar": "Unweighted Average Recall",
}
SYSTEMS: dict[str, str] = {
    "e2e": "E2E",
    "cascade": "ASR → LLM",
    "gt-llm": "GT → LLM",
    "substring": "ASR → substring search",
    "baseline-classifier": "encoder + GRU classifier",
}
# Hub task ids (https://hf.co/tasks) for model-index entries; the hub has no dedicated id for slot filling or
# keyword extraction from audio, so those use the generic audio-text-to-text.
HF_TASK_TYPES: dict[str, str] = {
    "ASR": "automatic-speech-recognition",
    "ST": "translation",
    "IC": "audio-classification",
    "SF": "audio-text-to-text",
    "KWE": "audio-text-to-text",
    "KWS": "audio-classification",
    "ER": "audio-classification",
    "ASC": "audio-classification",
    "SC": "audio-classification",
    "AC": "audio-classification",
    "SNS": "audio-classification",
    "DC": "audio-classification",
    "INSTRUCT": "audio-text-to-text",
}
_SEEN_UNSEEN = ("seen", "unseen")
_EMPTY_CELL = "–"


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class ResultEntry:
    """One measured number of a `results.json` file; see the module docstring for the meaning of each field.

    Construction validates every field and raises a ValueError naming the first bad one.
    """

    task: str
    dataset: str
    split: str
    metric: str
    value: float
    n: int
    n_unparseable: int
    prompts: str
    constrained: bool
    joint: bool
    system: str
    prompt_id: str | None = None
    labels: str = "seen"
    label_descriptions: bool = False

    def __post_init__(self) -> None:
        _require(self.task in TASKS, f"task {self.task!r} is not one of {', '.join(TASKS)}")
        for name in ("dataset", "split"):
            value = getattr(self, name)
            _require(
                isinstance(value, str) and value.strip() != "", f"{name} must be a non-empty string, got {value!r}"
            )
        _require(self.metric in METRIC_NAMES, f"metric {self.metric!r} is not one of {', '.join(METRIC_NAMES)}")
        _require(
            isinstance(self.value, (int, float)) and not isinstance(self.value, bool) and math.isfinite(self.value),
            f"value must be a finite number, got {self.value!r}",
        )
        upper = math.inf if self.metric == "wer" else 100.0
        _require(0.0 <= self.value <= upper, f"{self.metric} value {self.value} is outside [0, {upper}] (0-100 scale)")
        _require(_is_int(self.n) and self.n >= 1, f"n must be an integer >= 1, got {self.n!r}")
        _require(
            _is_int(self.n_unparseable) and 0 <= self.n_unparseable <= self.n,
            f"n_unparseable must be an integer in [0, n={self.n}], got {self.n_unparseable!r}",
        )
        _require(self.prompts in _SEEN_UNSEEN, f"prompts must be 'seen' or 'unseen', got {self.prompts!r}")
        _require(self.labels in _SEEN_UNSEEN, f"labels must be 'seen' or 'unseen', got {self.labels!r}")
        for name in ("constrained", "joint", "label_descriptions"):
            flag = getattr(self, name)
            _require(isinstance(flag, bool), f"{name} must be true or false, got {flag!r}")
        _require(self.system in SYSTEMS, f"system {self.system!r} is not one of {', '.join(SYSTEMS)}")
        _require(
            self.prompt_id is None or (isinstance(self.prompt_id, str) and self.prompt_id.strip() != ""),
            f"prompt_id must be null or a non-empty string, got {self.prompt_id!r}",
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ResultEntry":
        """Build an entry from its JSON object, rejecting missing and unknown keys."""
        _require(isinstance(data, Mapping), f"a result entry must be a JSON object, got {type(data).__name__}")
        known = {entry_field.name for entry_field in fields(cls)}
        required = {entry_field.name for entry_field in fields(cls) if entry_field.default is MISSING}
        missing = sorted(required - set(data))
        unknown = sorted(set(data) - known)
        _require(not missing, f"missing key(s) {missing}")
        _require(not unknown, f"unknown key(s) {unknown}; allowed: {sorted(known)}")
        return cls(**data)

    @property
    def setting(self) -> tuple:
        """Every field except the measurement itself (`value`, `n`, `n_unparseable`): unique within a file."""
        return (
            self.task,
            self.dataset,
            self.split,
            self.metric,
            self.prompts,
            self.prompt_id,
            self.constrained,
            self.joint,
            self.system,
            self.labels,
            self.label_descriptions,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Results:
    """A validated `results.json`: the evaluated model, its data and settings, and the result entries."""

    model: dict[str, Any]
    data: dict[str, Any]
    settings: dict[str, Any]
    results: tuple[ResultEntry, ...]

    def __post_init__(self) -> None:
        _require(isinstance(self.model, dict), f"model must be a JSON object, got {type(self.model).__name__}")
        name = self.model.get("name")
        _require(isinstance(name, str) and name.strip() != "", f"model.name must be a non-empty string, got {name!r}")
        for key in ("data", "settings"):
            value = getattr(self, key)
            _require(isinstance(value, dict), f"{key} must be a JSON object, got {type(value).__name__}")
        seen: dict[tuple, int] = {}
        for index, entry in enumerate(self.results):
            _require(isinstance(entry, ResultEntry), f"results[{index}] is not a ResultEntry")
            _require(
                entry.setting not in seen,
                f"results[{index}] repeats the setting of results[{seen.get(entry.setting)}]: {entry.setting}",
            )
            seen[entry.setting] = index

    @property
    def model_name(self) -> str:
        return self.model["name"]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Results":
        """Validate a parsed `results.json` object; raises ValueError naming the first problem."""
        _require(isinstance(data, Mapping), f"results.json must hold a JSON object, got {type(data).__name__}")
        expected = {"schema_version", "model", "data", "settings", "results"}
        _require(not expected - set(data), f"results.json is missing key(s) {sorted(expected - set(data))}")
        _require(not set(data) - expected, f"results.json has unknown key(s) {sorted(set(data) - expected)}")
        _require(
            _is_int(data["schema_version"]) and data["schema_version"] == SCHEMA_VERSION,
            f"schema_version {data['schema_version']!r} is not supported (expected {SCHEMA_VERSION})",
        )
        _require(isinstance(data["results"], list), "results must be a JSON list of entries")
        entries = []
        for index, entry in enumerate(data["results"]):
            try:
                entries.append(ResultEntry.from_dict(entry))
            except (TypeError, ValueError) as error:
                raise ValueError(f"results[{index}]: {error}") from error
        return cls(model=data["model"], data=data["data"], settings=data["settings"], results=tuple(entries))

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "model": self.model,
            "data": self.data,
            "settings": self.settings,
            "results": [entry.to_dict() for entry in self.results],
        }


def load_results(path: str | Path) -> Results:
    """Read and validate a `results.json` file."""
    with open(path, encoding="utf-8") as handle:
        try:
            data = json.load(handle)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path} is not valid JSON: {error}") from error
    try:
        return Results.from_dict(data)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from error


def save_results(results: Results, path: str | Path) -> None:
    """Write `results` as `results.json` (strict JSON: non-finite numbers are impossible by validation)."""
    text = json.dumps(results.to_dict(), indent=2, ensure_ascii=False, allow_nan=False)
    Path(path).write_text(text + "\n", encoding="utf-8")


# ---------------------------------------------------------------------------------------------------------------------
# Markdown report

_Tagged = tuple[str, ResultEntry]  # (model name, entry)


def _system_label(model_name: str, entry: ResultEntry) -> str:
    return f"{model_name} ({SYSTEMS[entry.system]})"


def _format_value(entry: ResultEntry | None, digits: int) -> str:
    return _EMPTY_CELL if entry is None else f"{entry.value:.{digits}f}"


def _yes_no(flag: bool) -> str:
    return "Yes" if flag else "No"


def _markdown_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    def line(cells: Sequence[str]) -> str:
        # A "|" inside free-text fields such as dataset names would otherwise split the cell.
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    return "\n".join([line(header), "|" + "|".join("---" for _ in header) + "|", *map(line, rows)])


def _claim(cells: dict[Any, ResultEntry], key: Any, entry: ResultEntry, table: str) -> None:
    _require(
        key not in cells,
        f"{table}: two results fall into the cell {key}: {cells.get(key)} and {entry}. Give them distinct settings "
        "(e.g. prompt_id, label_descriptions) or render them from separate files.",
    )
    cells[key] = entry


def _pivot(
    tagged: list[_Tagged],
    task_order: Sequence[str],
    table: str,
    digits: int,
    extra_header: Sequence[str] = (),
    extra_key: Callable[[ResultEntry], tuple[bool, ...]] = lambda entry: (),
) -> str:
    """One row per (model, system, *extra_key(entry)), one column per (task, dataset, split, metric).

    Rows keep the order in which their (model, system) first appears, then sort by the extra key (False before True);
    columns follow `task_order`, then first appearance. `extra_header` names the Yes/No columns of the extra key.
    """
    systems: list[tuple[str, str]] = []
    rows: dict[tuple, list[str]] = {}
    columns: dict[tuple, str] = {}
    cells: dict[tuple, ResultEntry] = {}
    for model_name, entry in tagged:
        system = (model_name, entry.system)
        if system not in systems:
            systems.append(system)
        extra = extra_key(entry)
        row = (*system, *extra)
        rows.setdefault(row, [_system_label(model_name, entry), *map(_yes_no, extra)])
        column = (entry.task, entry.dataset, entry.split, entry.metric)
        columns.setdefault(column, f"{entry.task} {METRIC_LABELS[entry.metric]} {entry.dataset} ({entry.split})")
        _claim(cells, (row, column), entry, table)
    first_use = list(columns)
    column_order = sorted(columns, key=lambda column: (task_order.index(column[0]), first_use.index(column)))
    row_order = sorted(rows, key=lambda row: (systems.index(row[:2]), *row[2:]))
    body = [
        rows[row] + [_format_value(cells.get((row, column)), digits) for column in column_order] for row in row_order
    ]
    return _markdown_table(["System", *extra_header, *(columns[column] for column in column_order)], body)


def _group_key(model_name: str, entry: ResultEntry) -> tuple:
    return (model_name, entry.system, entry.task, entry.dataset, entry.split, entry.metric)


def _groups_with(tagged: list[_Tagged], condition: Callable[[ResultEntry], bool]) -> list[_Tagged]:
    """All entries of each (model, system, task, dataset, split, metric) group with an entry meeting `condition`."""
    selected = {_group_key(model_name, entry) for model_name, entry in tagged if condition(entry)}
    return [(model_name, entry) for model_name, entry in tagged if _group_key(model_name, entry) in selected]


def _prompt_table(tagged: list[_Tagged], digits: int) -> str:
    """Table 5: one line per prompt, seen prompts first, grouped by (model, system, task, dataset, split, metric)."""
    groups: dict[tuple, dict[tuple[str, str | None], ResultEntry]] = {}
    for model_name, entry in tagged:
        group = groups.setdefault(_group_key(model_name, entry), {})
        _claim(group, (entry.prompts, entry.prompt_id), entry, "Table 5")
    body = []
    for (model_name, *_), by_prompt in groups.items():
        for (prompts, prompt_id), entry in sorted(by_prompt.items(), key=lambda item: (item[0][0], item[0][1] or "")):
            body.append(
                [
                    _system_label(model_name, entry),
                    entry.task,
                    f"{entry.dataset} ({entry.split})",
                    prompt_id or _EMPTY_CELL,
                    "✓" if prompts == "unseen" else "✗",
                    METRIC_LABELS[entry.metric],
                    _format_value(entry, digits),
                ]
            )
    return _markdown_table(["System", "Task", "Dataset", "Prompt", "Unseen", "Metric", "Result"], body)


def _joint_table(tagged: list[_Tagged], digits: int) -> str:
    """Table 9: without (w/o) and with (w/) joint decoding side by side."""
    groups: dict[tuple, dict[bool, ResultEntry]] = {}
    for model_name, entry in tagged:
        _claim(groups.setdefault(_group_key(model_name, entry), {}), entry.joint, entry, "Table 9")
    body = []
    for (model_name, *_), by_joint in groups.items():
        entry = by_joint.get(True) or by_joint[False]
        body.append(
            [
                _system_label(model_name, entry),
                entry.task,
                f"{entry.dataset} ({entry.split})",
                METRIC_LABELS[entry.metric],
                _format_value(by_joint.get(False), digits),
                _format_value(by_joint.get(True), digits),
            ]
        )
    return _markdown_table(["System", "Task", "Dataset", "Metric", "w/o", "w/"], body)


def _other_table(tagged: list[_Tagged], digits: int) -> str:
    """Entries outside the paper's tables, one per line with their non-default settings spelled out."""
    body = [
        [
            _system_label(model_name, entry),
            entry.task,
            f"{entry.dataset} ({entry.split})",
            METRIC_LABELS[entry.metric],
            ", ".join(text for _, text in _variant(entry, with_system=False)) or _EMPTY_CELL,
            _format_value(entry, digits),
        ]
        for model_name, entry in tagged
    ]
    return _markdown_table(["System", "Task", "Dataset", "Metric", "Setting", "Result"], body)


def _unparseable_notes(tagged: list[_Tagged]) -> list[str]:
    return [
        f"- {_system_label(model_name, entry)}, {entry.task} {entry.dataset} ({entry.split}) {entry.metric}: "
        f"{entry.n_unparseable} of {entry.n} outputs could not be parsed (scored as wrong)."
        for model_name, entry in tagged
        if entry.n_unparseable
    ]


def render_markdown(results: Results | Sequence[Results], digits: int = 1) -> str:
    """Render one Markdown table per paper table (2, 3, 5, 7, 9) from one or several `Results`.

    Several `Results` (e.g. the SpeechVerse model and its cascade baseline, from separate files) share the tables;
    rows are labelled "<model name> (<system>)". Which entries each table takes is listed in the module docstring.

    Args:
        results: One `Results` or a sequence of them.
        digits: Decimals shown for each value.

    Returns:
        The Markdown document; missing cells are "–", empty tables say so.

    Raises:
        ValueError: if two entries fall into the same cell of a table.
    """
    runs = [results] if isinstance(results, Results) else list(results)
    _require(bool(runs) and all(isinstance(run, Results) for run in runs), "render_markdown needs one or more Results")
    tagged = [(run.model_name, entry) for run in runs for entry in run.results]

    def select(condition: Callable[[ResultEntry], bool]) -> list[_Tagged]:
        return [(model_name, entry) for model_name, entry in tagged if condition(entry)]

    def single_task(entry: ResultEntry) -> bool:
        return entry.labels == "seen" and not entry.constrained and not entry.joint

    def main_table(tasks: Sequence[str]) -> list[_Tagged]:
        return select(lambda entry: entry.task in tasks and single_task(entry) and entry.prompts == "seen")

    table_2, table_3 = main_table(ASR_SLU_TASKS), main_table(PARALINGUISTIC_TASKS)
    table_5 = _groups_with(select(single_task), lambda entry: entry.prompts == "unseen")
    table_7 = select(lambda entry: entry.labels == "unseen" and not entry.joint)
    table_9 = _groups_with(
        select(lambda entry: entry.labels == "seen" and entry.prompts == "seen" and not entry.constrained),
        lambda entry: entry.joint,
    )
    sections: list[tuple[str, list[_Tagged], Callable[[], str]]] = [
        ("Table 2: ASR and SLU tasks", table_2, lambda: _pivot(table_2, ASR_SLU_TASKS, "Table 2", digits)),
        ("Table 3: paralinguistic tasks", table_3, lambda: _pivot(table_3, PARALINGUISTIC_TASKS, "Table 3", digits)),
        ("Table 5: seen vs unseen prompts", table_5, lambda: _prompt_table(table_5, digits)),
        (
            "Table 7: unseen tasks and labels, with and without constrained decoding (CD)",
            table_7,
            lambda: _pivot(
                table_7,
                tuple(TASKS),
                "Table 7",
                digits,
                extra_header=("Class label description", "CD"),
                extra_key=lambda entry: (entry.label_descriptions, entry.constrained),
            ),
        ),
        (
            "Table 9: without (w/o) and with (w/) joint decoding with ASR",
            table_9,
            lambda: _joint_table(table_9, digits),
        ),
    ]
    lines = [
        "# SpeechVerse evaluation results",
        "",
        "Models: " + ", ".join(f"`{run.model_name}`" for run in runs) + ".",
        "Values are on the paper's 0-100 scale (WER, accuracy, F1 and UAR in %, BLEU as sacrebleu reports it); "
        f"{_EMPTY_CELL} marks a missing result.",
    ]
    shown = {item for _, chosen, _ in sections for item in chosen}
    others = [item for item in tagged if item not in shown]
    if others:
        sections.append(("Other results", others, lambda: _other_table(others, digits)))
    for title, chosen, render in sections:
        lines += ["", f"## {title}", "", render() if chosen else "_No results._"]
        notes = _unparseable_notes(chosen)
        if notes:
            lines += ["", *notes]
    return "\n".join(lines) + "\n"


def write_markdown(results: Results | Sequence[Results], path: str | Path, digits: int = 1) -> None:
    """Write `render_markdown(results, digits)` to `path`."""
    Path(path).write_text(render_markdown(results, digits), encoding="utf-8")


# ---------------------------------------------------------------------------------------------------------------------
# Hugging Face model card


def _variant(entry: ResultEntry, with_system: bool = True) -> list[tuple[str, str]]:
    """(metric_config token, human description) for every non-default setting of an entry."""
    variant = []
    if with_system and entry.system != "e2e":
        variant.append((f"system={entry.system}", SYSTEMS[entry.system]))
    if entry.prompts == "unseen":
        variant.append(("prompts=unseen", "unseen prompt"))
    if entry.prompt_id is not None:
        variant.append((f"prompt_id={entry.prompt_id}", f"prompt {entry.prompt_id}"))
    if entry.labels == "unseen":
        variant.append(("labels=unseen", "unseen labels"))
    if entry.label_descriptions:
        variant.append(("label_descriptions", "with label descriptions"))
    if entry.constrained:
        variant.append(("constrained", "constrained decoding"))
    if entry.joint:
        variant.append(("joint", "joint decoding with ASR"))
    return variant


def model_index_results(results: Results, systems: Sequence[str] = ("e2e",)) -> list[dict[str, Any]]:
    """`huggingface_hub.EvalResult` keyword arguments for the model card's `model-index`, one dict per entry.

    Use as `ModelCardData(model_name=..., eval_results=[EvalResult(**kwargs) for kwargs in model_index_results(r)])`.
    Non-default settings (unseen prompt, constrained/joint decoding, ...) are spelled out in `metric_name` and, as
    comma-separated tokens, in `metric_config`, so entries of one dataset stay distinguishable.

    Args:
        results: A validated `Results`.
        systems: Which systems' entries to include. Only "e2e" by default: baselines are not this model's results.

    Returns:
        Dicts with task_type, task_name, dataset_type, dataset_name, dataset_split, metric_type, metric_name,
        metric_value (0-100 scale) and, for non-default settings, metric_config.
    """
    unknown = sorted(set(systems) - set(SYSTEMS))
    _require(not unknown, f"unknown system(s) {unknown}; expected some of {', '.join(SYSTEMS)}")
    index = []
    for entry in results.results:
        if entry.system not in systems:
            continue
        variant = _variant(entry)
        metric_name = _METRIC_LONG_NAMES[entry.metric]
        item: dict[str, Any] = {
            "task_type": HF_TASK_TYPES[entry.task],
            "task_name": TASKS[entry.task],
            "dataset_type": entry.dataset,
            "dataset_name": entry.dataset,
            "dataset_split": entry.split,
            "metric_type": entry.metric,
            "metric_name": f"{metric_name} ({', '.join(text for _, text in variant)})" if variant else metric_name,
            "metric_value": entry.value,
        }
        if variant:
            item["metric_config"] = ",".join(token for token, _ in variant)
        index.append(item)
    return index
