"""The evaluation harness: run a SpeechVerse checkpoint over corpora under the paper's decoding settings, score it
and write `results.json` (schema: `report.py`) and the Markdown report.

One evaluation runs one or more `EvalConfig`s (prompt bank, constrained decoding, joint decoding, label descriptions,
one fixed instruction) over the selected tasks of each corpus; `table_configs` gives the configurations behind each
paper table. Baselines (paper Section 3.2) run on the same examples: the text pipelines of `cascade.py` next to every
plain configuration, and the classifier of `paralinguistic.py` once per paralinguistic task.

The CLI is `python -m modeling_speechverse.evaluate` (see `docs/evaluation.md`).
"""

from __future__ import annotations

import json
import logging
import os
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain
from pathlib import Path
from typing import Any

import datasets
from tqdm.auto import tqdm

from ..data.pipeline import NO_JOINT_TASKS, instruction_fields, load_corpus
from ..tasks import HELD_OUT_TASKS, TRAINING_TASKS, get_task, make_joint_example
from .cascade import CASCADE_SYSTEMS, CASCADE_TASKS, TEXT_ONLY_TEMPLATE, cascade_outputs
from .generation import BatchGenerator, encoded_audio
from .paralinguistic import ClassifierRecipe, run_classifier_baseline
from .report import PARALINGUISTIC_TASKS, ResultEntry, Results, load_results, save_results, write_markdown
from .scoring import Score, candidate_labels, entry_task, label_setting, parse_references, score_outputs


logger = logging.getLogger(__name__)

BASELINES = (*CASCADE_SYSTEMS, "classifier")
TABLES = ("2", "3", "5", "7", "9")
# The tasks of the paper's Table 5 (unseen prompts) and Table 9 (joint decoding).
PROMPT_ROBUSTNESS_TASKS = ("ASR", "ST", "AC")
JOINT_DECODING_TASKS = ("IC", "KWE", "ER")
# ST entries name their language pair in `dataset` ("corpus/en-de"), as the paper's tables do.
LANGUAGE_CODES = {"German": "de", "French": "fr", "Romanian": "ro", "Spanish": "es", "Italian": "it"}
_LIST_FIELDS = frozenset({"labels", "slots"})
_TRAINED_TEMPLATES = frozenset(chain.from_iterable(get_task(code).train_instructions for code in TRAINING_TASKS))


@dataclass(frozen=True)
class EvalConfig:
    """One decoding configuration of an evaluation.

    Args:
        prompts: "seen" draws each example's instruction from the training prompts, "unseen" from the held-out ones.
        constrained: Constrained decoding over the example's labels (label tasks) or slot names (slot filling).
        joint: Joint decoding: the instruction asks for the transcript first, then the answer (paper Table 8).
        label_descriptions: Label-list prompts describe each label (paper Table 7).
        template: Use this one template of the prompt bank for every example (Table 5 rows) instead of drawing one;
            tasks with fewer templates are skipped.
        tasks: Only these task codes; None: every selected task.
    """

    prompts: str = "seen"
    constrained: bool = False
    joint: bool = False
    label_descriptions: bool = False
    template: int | None = None
    tasks: frozenset[str] | None = None

    def __post_init__(self) -> None:
        if self.prompts not in ("seen", "unseen"):
            raise ValueError(f"prompts must be 'seen' or 'unseen', got {self.prompts!r}")
        if self.joint and self.constrained:
            raise ValueError("joint decoding cannot be combined with constrained decoding (the output is free text)")
        if self.template is not None and (not isinstance(self.template, int) or self.template < 0):
            raise ValueError(f"template must be a template index >= 0 or None, got {self.template!r}")
        if self.tasks is not None:
            object.__setattr__(self, "tasks", frozenset(get_task(code).code for code in self.tasks))

    @property
    def prompt_split(self) -> str:
        return "train" if self.prompts == "seen" else "heldout"

    @property
    def prompt_id(self) -> str | None:
        """The id of the fixed template: T<k> / H<k> for template k (1-based) of the training / held-out bank;
        None for drawn prompts."""
        return None if self.template is None else f"{'T' if self.prompts == 'seen' else 'H'}{self.template + 1}"

    @property
    def plain(self) -> bool:
        """Drawn prompts with free, single-task decoding: the setting baselines run in."""
        return not (self.constrained or self.joint or self.label_descriptions or self.template is not None)

    @property
    def name(self) -> str:
        parts = [self.prompts if self.template is None else f"{self.prompts}:{self.prompt_id}"]
        parts += [
            flag
            for flag, on in (("cd", self.constrained), ("joint", self.joint), ("desc", self.label_descriptions))
            if on
        ]
        return "+".join(parts)

    def applies_to(self, code: str) -> bool:
        task = get_task(code)
        if self.tasks is not None and task.code not in self.tasks:
            return False
        if self.joint and task.code in NO_JOINT_TASKS:
            return False
        return self.template is None or self.template < len(task.instructions(self.prompt_split))

    def constraint(self, code: str) -> str | None:
        """The decoding constraint for a task under this config: "labels", "slots" or None."""
        task_format = get_task(code).format
        if not self.constrained or task_format not in ("label", "slots"):
            return None
        return "labels" if task_format == "label" else "slots"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "prompts": self.prompts,
            "constrained": self.constrained,
            "joint": self.joint,
            "label_descriptions": self.label_descriptions,
            "prompt_id": self.prompt_id,
            "tasks": sorted(self.tasks) if self.tasks is not None else None,
        }


def table_configs(tables: Iterable[str]) -> list[EvalConfig]:
    """The configurations that fill the given paper tables ("2", "3", "5", "7", "9" or "all"), without repeats.

    - 2, 3: the trained tasks with seen prompts and free decoding.
    - 5: that, plus each held-out prompt as its own row for ASR, ST and AC (the paper's Table 5 tasks).
    - 7: the zero-shot tasks (DC, IC-UNSEEN, SF-UNSEEN) with and without label descriptions and constrained decoding.
    - 9: the plain setting plus joint decoding for IC, KWE and ER (the paper's Table 9 tasks).
    """
    tables = list(tables)
    if "all" in tables:
        tables = list(TABLES)
    unknown = sorted(set(tables) - set(TABLES))
    if unknown or not tables:
        raise ValueError(f"unknown or no table(s) {unknown or tables}; choose from {', '.join(TABLES)} or all")
    base = EvalConfig(tasks=frozenset(TRAINING_TASKS))
    configs: list[EvalConfig] = []
    for table in tables:
        if table in ("2", "3", "5", "9"):
            configs.append(base)
        if table == "5":
            banks = max(len(get_task(code).heldout_instructions) for code in PROMPT_ROBUSTNESS_TASKS)
            configs += [
                EvalConfig(prompts="unseen", template=index, tasks=frozenset(PROMPT_ROBUSTNESS_TASKS))
                for index in range(banks)
            ]
        if table == "7":
            configs += [
                EvalConfig(constrained=constrained, label_descriptions=described, tasks=frozenset(HELD_OUT_TASKS))
                for described in (False, True)
                for constrained in (False, True)
            ]
        if table == "9":
            configs.append(EvalConfig(joint=True, tasks=frozenset(JOINT_DECODING_TASKS)))
    return list(dict.fromkeys(configs))


def build_instruction(config: EvalConfig, code: str, example: Mapping[str, Any], seed: int = 0) -> str:
    """The instruction for one corpus example under `config`.

    Drawn prompts use a generator seeded by `seed` and the example id, so every configuration and baseline asks
    the same example the same way.
    """
    task = get_task(code)
    fields = instruction_fields(task.code, example)
    rng = random.Random(f"{seed}:{example['id']}")
    if config.joint:
        return make_joint_example(
            task.code, example["transcript"], example["target"], rng, config.prompt_split, **fields
        )[0]
    if config.template is not None:
        template = task.instructions(config.prompt_split)[config.template]
        return task.fill_instruction(template, describe=config.label_descriptions, **fields)
    return task.sample_instruction(rng, config.prompt_split, describe=config.label_descriptions, **fields)


def _prompt_setting(config: EvalConfig, code: str) -> str:
    """The entry's `prompts`: seen only if every template the instruction can come from was trained on (so never for
    the zero-shot DC)."""
    task = get_task(code)
    trained = config.prompts == "seen" and set(task.train_instructions) <= _TRAINED_TEMPLATES
    return "seen" if trained else "unseen"


@dataclass
class TaskData:
    """The examples of one task in one corpus split, with their parsed references."""

    dataset: str
    split: str
    code: str
    rows: datasets.Dataset  # encoded `audio` column

    @cached_property
    def examples(self) -> list[dict[str, Any]]:
        return self.rows.remove_columns("audio").to_list()

    @cached_property
    def references(self) -> list[Any]:
        return parse_references(self.code, self.examples)

    @property
    def audio(self) -> Sequence[Any]:
        return self.rows["audio"]

    def subsets(self) -> list[tuple[str, list[int]]]:
        """(dataset label, example indices) of the groups scored separately: one per language pair for ST."""
        if self.code != "ST":
            return [(self.dataset, list(range(len(self.examples))))]
        groups: dict[str, list[int]] = {}
        for index, example in enumerate(self.examples):
            language = example.get("target_language") or "unknown"
            pair = f"{self.dataset}/en-{LANGUAGE_CODES.get(language, language.lower())}"
            groups.setdefault(pair, []).append(index)
        return list(groups.items())


def select_tasks(
    corpora: Mapping[str, datasets.DatasetDict],
    split: str,
    tasks: Sequence[str] | None = None,
    max_examples: int | None = None,
) -> list[TaskData]:
    """The examples of each selected task in each corpus's `split`, references checked.

    Args:
        corpora: Corpora by name (the `dataset` of their result entries).
        split: Split to evaluate.
        tasks: Task codes; None: every registered task present.
        max_examples: Keep the first this many examples of each task of each corpus.

    Raises:
        ValueError: for a missing split, an unknown task, a requested task in no corpus, or a bad reference.
    """
    if max_examples is not None and max_examples < 1:
        raise ValueError(f"max_examples must be at least 1, got {max_examples}")
    wanted = None if tasks is None else list(dict.fromkeys(get_task(code).code for code in tasks))
    selected: list[TaskData] = []
    for name, corpus in corpora.items():
        if split not in corpus:
            raise ValueError(f"corpus {name!r} has no split {split!r}; it has {list(corpus)}")
        dataset = encoded_audio(corpus[split])
        rows_by_task: dict[str, list[int]] = {}
        for index, code in enumerate(dataset["task"]):
            rows_by_task.setdefault(code, []).append(index)
        for code in wanted if wanted is not None else rows_by_task:
            try:
                registered = get_task(code).code
            except ValueError:
                logger.warning("Corpus %s has examples of the unknown task %r; skipped", name, code)
                continue
            rows = rows_by_task.get(code, [])[:max_examples]
            if rows:
                selected.append(TaskData(name, split, registered, dataset.select(rows)))
    if wanted is not None:
        absent = sorted(set(wanted) - {item.code for item in selected})
        if absent:
            raise ValueError(f"no {split} examples of task(s) {absent} in {', '.join(corpora)}")
    if not selected:
        raise ValueError(f"no examples of registered tasks in the {split} split of {', '.join(corpora)}")
    for item in selected:
        _ = item.references  # a bad reference fails here, before any generation
    return selected


@dataclass
class Evaluation:
    """What `evaluate` measured: result entries, per-example predictions, and the run's settings and data."""

    entries: list[ResultEntry] = field(default_factory=list)
    predictions: list[dict[str, Any]] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)


def _entries(
    item: TaskData, dataset: str, scores: Sequence[Score], config: EvalConfig, system: str
) -> list[ResultEntry]:
    task = get_task(item.code)
    return [
        ResultEntry(
            task=entry_task(item.code),
            dataset=dataset,
            split=item.split,
            metric=score.metric,
            value=score.value,
            n=score.n,
            n_unparseable=score.n_unparseable,
            prompts=_prompt_setting(config, item.code),
            constrained=config.constraint(item.code) is not None,
            joint=config.joint,
            system=system,
            prompt_id=config.prompt_id,
            labels=label_setting(item.code),
            label_descriptions=config.label_descriptions and bool(task.fields & _LIST_FIELDS),
        )
        for score in scores
    ]


def _score_groups(item: TaskData, outputs: Sequence[str | None], config: EvalConfig, system: str) -> list[ResultEntry]:
    entries = []
    for dataset, indices in item.subsets():
        scores = score_outputs(
            item.code,
            [outputs[index] for index in indices],
            [item.examples[index] for index in indices],
            [item.references[index] for index in indices],
            joint=config.joint,
        )
        entries += _entries(item, dataset, scores, config, system)
    return entries


def _prediction_rows(
    item: TaskData, config: EvalConfig, system: str, instructions: Sequence[str], outputs: Sequence[str | None]
) -> list[dict[str, Any]]:
    return [
        {
            "dataset": item.dataset,
            "split": item.split,
            "id": example["id"],
            "task": item.code,
            "config": config.name,
            "system": system,
            "instruction": instruction,
            "output": output,
            "target": example["target"],
        }
        for example, instruction, output in zip(item.examples, instructions, outputs)
    ]


def _cascade_passes(item: TaskData, systems: Sequence[str]) -> int:
    """Generations the text-pipeline baselines make for one task group (for the progress bar)."""
    if item.code not in CASCADE_TASKS:
        return 0
    asr = "cascade" in systems or ("substring" in systems and item.code == "KWS")
    return len(item.examples) * (asr + ("cascade" in systems) + ("gt-llm" in systems))


def evaluate(
    model,
    processor,
    corpora: Mapping[str, datasets.DatasetDict],
    *,
    split: str = "test",
    tasks: Sequence[str] | None = None,
    configs: Sequence[EvalConfig] = (EvalConfig(),),
    baselines: Sequence[str] = (),
    batch_size: int = 8,
    num_beams: int = 1,
    max_new_tokens: int = 128,
    max_examples: int | None = None,
    seed: int = 0,
    recipe: ClassifierRecipe = ClassifierRecipe(),
    progress: bool = True,
) -> Evaluation:
    """Evaluate a SpeechVerse model (system "e2e") and the requested baselines.

    Args:
        model: A `SpeechVerseForConditionalGeneration` in eval mode.
        processor: Its `SpeechVerseProcessor`.
        corpora: Corpora by name, each a DatasetDict in the corpus schema (`load_corpus`).
        split: Split to evaluate.
        tasks: Task codes to evaluate; None: every registered task in the data.
        configs: Decoding configurations (`EvalConfig`, `table_configs`).
        baselines: Some of "cascade", "gt-llm", "substring" (run with every plain config) and "classifier"
            (the paralinguistic classifier, trained on the corpus's train split, stopped on its validation split).
        batch_size, num_beams, max_new_tokens: Generation settings (greedy search for num_beams=1).
        max_examples: At most this many examples per task and corpus.
        seed: Seed of the drawn instructions.
        recipe: Training settings of the baseline classifier.
        progress: Show a progress bar.

    Returns:
        The `Evaluation`; `settings["throughput"]` holds examples/s and audio seconds/s of the model and baselines.
    """
    unknown = sorted(set(baselines) - set(BASELINES))
    if unknown:
        raise ValueError(f"unknown baseline(s) {unknown}; choose from {', '.join(BASELINES)}")
    if not configs:
        raise ValueError("give at least one EvalConfig")
    cascade_systems = [system for system in CASCADE_SYSTEMS if system in baselines]
    selected = select_tasks(corpora, split, tasks, max_examples)
    if "classifier" in baselines:
        for item in selected:
            missing = {"train", "validation"} - set(corpora[item.dataset])
            if item.code in PARALINGUISTIC_TASKS and missing:
                raise ValueError(
                    f"the classifier baseline trains on the train split and stops on the validation split; corpus "
                    f"{item.dataset!r} lacks {sorted(missing)}"
                )
    model_generator = BatchGenerator(model, processor, batch_size, num_beams, max_new_tokens)
    baseline_generator = BatchGenerator(model, processor, batch_size, num_beams, max_new_tokens)
    plan = [(item, config) for item in selected for config in configs if config.applies_to(item.code)]
    total = sum(len(item.examples) for item, _ in plan)
    total += sum(_cascade_passes(item, cascade_systems) for item, config in plan if config.plain)
    evaluation = Evaluation()
    with tqdm(total=total, desc="Evaluating", unit="ex", disable=not progress) as bar:
        for item, config in plan:
            bar.set_postfix_str(f"{item.dataset} {item.code} {config.name}")
            instructions = [build_instruction(config, item.code, example, seed) for example in item.examples]
            outputs = model_generator.generate(
                instructions,
                item.audio,
                ids=[example["id"] for example in item.examples],
                durations=[example["duration"] for example in item.examples],
                constraint=config.constraint(item.code),
                label_sets=[candidate_labels(item.code, example) for example in item.examples],
                progress=bar,
            )
            evaluation.entries += _score_groups(item, outputs, config, "e2e")
            evaluation.predictions += _prediction_rows(item, config, "e2e", instructions, outputs)
            if not (config.plain and cascade_systems):
                continue
            baseline_outputs = cascade_outputs(
                baseline_generator, item.code, item.examples, item.audio, instructions, cascade_systems, seed, bar
            )
            for system, system_outputs in baseline_outputs.items():
                evaluation.entries += _score_groups(item, system_outputs, config, system)
                evaluation.predictions += _prediction_rows(item, config, system, instructions, system_outputs)
    classifier_runs = None
    if "classifier" in baselines:
        classifier_runs = _classifier_baselines(
            evaluation, model, processor, corpora, selected, split, recipe, max_examples, progress
        )
    if model_generator.failures:
        logger.warning(
            "%d examples had no usable audio and were scored as wrong: %s",
            sum(model_generator.failures.values()),
            dict(model_generator.failures),
        )
    evaluation.settings.update(
        split=split,
        batch_size=batch_size,
        num_beams=num_beams,
        decoding="greedy" if num_beams == 1 else "beam search",
        max_new_tokens=max_new_tokens,
        max_examples=max_examples,
        seed=seed,
        configs=[config.to_dict() for config in configs],
        baselines=list(baselines),
        throughput={"e2e": model_generator.throughput.as_dict(), "baselines": baseline_generator.throughput.as_dict()},
        audio_failures=dict(model_generator.failures),
    )
    if cascade_systems:
        evaluation.settings["text_only_template"] = TEXT_ONLY_TEMPLATE
    if classifier_runs is not None:
        evaluation.settings["baseline_classifier"] = classifier_runs
    templates = _fixed_templates(configs, {item.code for item in selected})
    if templates:
        evaluation.settings["prompt_templates"] = templates
    evaluation.data = {
        name: {
            "split": split,
            "examples": {item.code: len(item.examples) for item in selected if item.dataset == name},
        }
        for name in corpora
    }
    return evaluation


def _classifier_baselines(
    evaluation: Evaluation,
    model,
    processor,
    corpora: Mapping[str, datasets.DatasetDict],
    selected: Sequence[TaskData],
    split: str,
    recipe: ClassifierRecipe,
    max_examples: int | None,
    progress: bool,
) -> dict[str, Any]:
    """Train and score the classifier baseline for every selected paralinguistic task, adding its entries to
    `evaluation`; returns a summary per corpus/task (or the reason it could not run)."""
    runs: dict[str, Any] = {}
    for item in selected:
        if item.code not in PARALINGUISTIC_TASKS:
            continue
        key = f"{item.dataset}/{item.code}"
        try:
            entries, runs[key] = run_classifier_baseline(
                model, processor, corpora[item.dataset], item.code, item.dataset, split, recipe, max_examples, progress
            )
        except ValueError as error:  # e.g. no usable training clips: the other results still count
            logger.warning("Classifier baseline for %s not run: %s", key, error)
            runs[key] = {"error": str(error)}
            continue
        evaluation.entries += entries
    return runs


def _fixed_templates(configs: Sequence[EvalConfig], codes: set[str]) -> dict[str, dict[str, str]]:
    """prompt_id -> task -> template text, for the configs that use one fixed template."""
    templates: dict[str, dict[str, str]] = {}
    for config in configs:
        if config.template is None:
            continue
        for code in sorted(codes):
            if config.applies_to(code):
                bank = get_task(code).instructions(config.prompt_split)
                templates.setdefault(config.prompt_id, {})[code] = bank[config.template]
    return templates


# ---------------------------------------------------------------------------------------------------------------------
# Loading and writing


def load_model(path: str, device: str | None = None, dtype: str | None = None):
    """A SpeechVerse checkpoint and its processor, in eval mode on `device` (default: CUDA if available, else CPU).

    Args:
        path: Checkpoint folder (or Hub id) saved with `save_pretrained` (model and processor).
        device: Torch device string.
        dtype: "float32", "bfloat16" or "float16"; None keeps the checkpoint's.
    """
    import torch

    from ..modeling_speechverse import SpeechVerseForConditionalGeneration
    from ..processing_speechverse import SpeechVerseProcessor

    load_kwargs = {}
    if dtype is not None:
        if dtype not in ("float32", "bfloat16", "float16"):
            raise ValueError(f"dtype must be float32, bfloat16 or float16, got {dtype!r}")
        load_kwargs["dtype"] = getattr(torch, dtype)
    try:
        model = SpeechVerseForConditionalGeneration.from_pretrained(path, **load_kwargs)
        processor = SpeechVerseProcessor.from_pretrained(path)
    except OSError as error:
        raise ValueError(f"could not load a SpeechVerse checkpoint and processor from {path!r}: {error}") from error
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    return model.to(device).eval(), processor


def load_corpora(specs: Sequence[str]) -> dict[str, datasets.DatasetDict]:
    """Corpora by name from `--data` arguments: a folder or Hub id (named after its last path part) or NAME=PATH."""
    corpora: dict[str, datasets.DatasetDict] = {}
    for spec in specs:
        name, separator, location = spec.partition("=")
        if not separator:
            name, location = Path(spec.rstrip("/")).name if os.path.isdir(spec) else spec, spec
        if not name or not location:
            raise ValueError(f"--data {spec!r}: expected a folder, a Hub id or NAME=PATH")
        if not os.path.isdir(location) and (os.path.isabs(location) or location.startswith(".")):
            raise ValueError(f"--data {spec!r}: no corpus folder at {location}")
        if name in corpora:
            raise ValueError(f"two corpora are named {name!r}; name them apart with NAME=PATH")
        corpora[name] = load_corpus(location)
    return corpora


def results_for(
    model_path: str,
    model_name: str | None,
    data: Mapping[str, Any],
    settings: Mapping[str, Any],
    entries: Sequence[ResultEntry],
    model_config=None,
) -> Results:
    """Assemble a `Results`: model name (default: the checkpoint folder's name) and path, data and settings."""
    model_info: dict[str, Any] = {"name": model_name or Path(str(model_path).rstrip("/")).name, "path": str(model_path)}
    if model_config is not None:
        for key in ("audio_backbone_id", "text_backbone_id"):
            if getattr(model_config, key, None):
                model_info[key] = getattr(model_config, key)
    return Results(model=model_info, data=dict(data), settings=dict(settings), results=tuple(entries))


def merge_results(old: Results, new: Results) -> Results:
    """`old` with `new`'s entries added; a new entry replaces an old one of the same setting. Data and settings
    are merged key by key (one level deep); the model of `old` is kept."""
    replaced = {entry.setting for entry in new.results}

    def merged(first: Mapping[str, Any], second: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(first)
        for key, value in second.items():
            out[key] = {**out[key], **value} if isinstance(out.get(key), dict) and isinstance(value, dict) else value
        return out

    kept = tuple(entry for entry in old.results if entry.setting not in replaced)
    return Results(
        model=old.model,
        data=merged(old.data, new.data),
        settings=merged(old.settings, new.settings),
        results=kept + new.results,
    )


def write_outputs(
    results: Results, out_dir: str | os.PathLike, merge: bool = False, predictions: Sequence[Mapping] | None = None
) -> Results:
    """Write `results.json` and `report.md` (and `predictions.jsonl` if given) into `out_dir`.

    With `merge`, an existing `results.json` there is kept and `results` merged into it (`merge_results`), and the
    predictions are appended to `predictions.jsonl`. Returns what was written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "results.json"
    if merge and path.exists():
        results = merge_results(load_results(path), results)
    save_results(results, path)
    write_markdown(results, out / "report.md")
    if predictions is not None:
        with open(out / "predictions.jsonl", "a" if merge else "w", encoding="utf-8") as handle:
            handle.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in predictions)
    return results
