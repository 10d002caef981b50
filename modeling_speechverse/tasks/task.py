"""The :class:`Task` record: what a task is called, how it is scored, prompted, rendered and parsed."""

from __future__ import annotations

import random
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .formats import FORMATS

METRICS = ("wer", "bleu", "accuracy", "slu_f1", "macro_f1", "uar")
SPLITS = ("train", "heldout")
# Template fields filled from a list of labels (optionally with one-line descriptions).
LIST_FIELDS = ("labels", "slots")


def template_fields(template: str) -> frozenset[str]:
    """Names of the ``{field}`` placeholders in an instruction template."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)


def humanize_label(label: str) -> str:
    """A fallback description generated from a label name: ``"calendar_set"`` -> ``"calendar set"``."""
    return " ".join(label.replace("_", " ").replace("-", " ").split())


def format_label_list(labels: Sequence[str], descriptions: Mapping[str, str] | None = None) -> str:
    """Render labels for a prompt: ``"a, b, c"``, or one ``"- label: description;"`` line per label.

    Labels missing from ``descriptions`` get a description generated from their name.
    """
    if isinstance(labels, str) or not labels:
        raise ValueError(f"a label list must be a non-empty sequence of strings, got {labels!r}")
    if descriptions is None:
        return ", ".join(labels)
    return "\n" + "\n".join(f"- {label}: {descriptions.get(label) or humanize_label(label)};" for label in labels)


@dataclass(frozen=True)
class Task:
    """One speech task: its code, metric, closed label set, prompt banks and target rendering.

    Args:
        code: Registry key, e.g. ``"ER"``.
        name: Display name used as the answer header in joint decoding, e.g. ``"Emotion"``.
        description: One-line description, e.g. ``"Emotion recognition"``.
        metric: One of :data:`METRICS`.
        format: Target format, a key of :data:`~modeling_speechverse.tasks.formats.FORMATS`.
        labels: Closed label set, or ``None`` when labels are open or given per example (IC, DC).
        held_out: Whether the task is kept out of training (evaluated zero-shot).
        train_instructions: Instruction templates sampled for training.
        heldout_instructions: Templates never sampled for training, to test unseen wordings.
        required_fields: Template fields every instruction of the task uses, e.g. ``("keyword",)``.
        descriptions: Optional one-line descriptions of labels (for ``{labels}``/``{slots}`` lists).
        aliases: Extra spellings accepted when parsing, mapped to their label (``"anger"`` -> ``"angry"``).
        label_map: Source-corpus names mapped to labels (AC: espeak voice -> accent label).
    """

    code: str
    name: str
    description: str
    metric: str
    format: str
    labels: tuple[str, ...] | None
    held_out: bool
    train_instructions: tuple[str, ...]
    heldout_instructions: tuple[str, ...]
    required_fields: tuple[str, ...] = ()
    descriptions: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    aliases: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    label_map: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise ValueError(f"task {self.code}: metric {self.metric!r} is not one of {METRICS}")
        if self.format not in FORMATS:
            raise ValueError(f"task {self.code}: format {self.format!r} is not one of {tuple(FORMATS)}")
        for split in SPLITS:
            templates = self.instructions(split)
            if not templates:
                raise ValueError(f"task {self.code}: no {split} instructions")
            for template in templates:
                fields = template_fields(template)
                missing = set(self.required_fields) - fields
                unfillable = fields - set(self.required_fields) - ({"labels"} if self.labels else set())
                if missing or unfillable:
                    raise ValueError(
                        f"task {self.code}: template {template!r} lacks fields {sorted(missing)} "
                        f"or uses fields {sorted(unfillable)} that nothing fills"
                    )
        overlap = set(self.train_instructions) & set(self.heldout_instructions)
        if overlap:
            raise ValueError(f"task {self.code}: instructions in both splits: {sorted(overlap)}")
        unknown = set(self.label_map.values()) | set(self.aliases.values())
        if self.labels is not None and not unknown <= set(self.labels):
            raise ValueError(f"task {self.code}: aliases/label_map point at unknown labels {sorted(unknown)}")

    @property
    def fields(self) -> frozenset[str]:
        """Every field any template of this task may use."""
        return frozenset().union(*(template_fields(t) for t in self.train_instructions + self.heldout_instructions))

    def instructions(self, split: str = "train") -> tuple[str, ...]:
        """The instruction templates of ``split`` (``"train"`` or ``"heldout"``)."""
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        return self.train_instructions if split == "train" else self.heldout_instructions

    def sample_instruction(
        self,
        rng: random.Random,
        split: str = "train",
        *,
        describe: bool | Mapping[str, str] = False,
        **fields: str | Sequence[str],
    ) -> str:
        """Draw one instruction template of ``split`` uniformly with ``rng`` and fill its fields.

        Args:
            rng: The random generator (seed it for reproducible corpora).
            split: ``"train"`` or ``"heldout"``.
            describe: For ``labels``/``slots`` list fields: ``True`` adds this task's label descriptions (or
                descriptions generated from the names), a mapping gives the descriptions to use.
            **fields: Template fields, e.g. ``labels=["play_radio", ...]`` (IC), ``slots=[...]`` (SF),
                ``keyword="radio"`` (KWS), ``language="German"`` (ST), ``instruction="..."`` (INSTRUCT).
                ``labels`` defaults to the task's closed label set.
        """
        templates = self.instructions(split)
        return self.fill_instruction(rng.choice(templates), describe=describe, **fields)

    def fill_instruction(
        self, template: str, *, describe: bool | Mapping[str, str] = False, **fields: str | Sequence[str]
    ) -> str:
        """Fill one template's fields (see :meth:`sample_instruction`)."""
        unknown = set(fields) - self.fields
        if unknown:
            raise ValueError(
                f"task {self.code} has no instruction field(s) {sorted(unknown)}; it uses {sorted(self.fields)}"
            )
        missing = [name for name in self.required_fields if fields.get(name) in (None, "")]
        if missing:
            raise ValueError(f"task {self.code} needs instruction field(s) {missing}")
        if self.labels is not None:
            fields.setdefault("labels", self.labels)
        descriptions = self.descriptions if describe is True else (describe if isinstance(describe, Mapping) else None)
        values: dict[str, Any] = {}
        for name in template_fields(template):
            value = fields[name]
            if name in LIST_FIELDS:
                values[name] = format_label_list(value, descriptions)
            elif isinstance(value, str):
                values[name] = value
            else:
                raise ValueError(f"task {self.code}: field {name!r} must be a string, got {value!r}")
        return template.format(**values)

    def render_target(self, value: Any) -> str:
        """The exact target string for ``value`` (see the module docs of ``formats`` for conventions)."""
        if self.labels is not None and self.format == "label" and value not in self.labels:
            raise ValueError(f"task {self.code}: {value!r} is not one of its labels {self.labels}")
        return FORMATS[self.format].render(value)

    def parse_prediction(self, text: str, labels: Sequence[str] | None = None) -> Any | None:
        """Map generated text back to a value; ``None`` if it cannot be read.

        Args:
            text: The decoded generation.
            labels: Candidate labels for this example (IC/DC label sets, or allowed SF slot names); defaults
                to the task's closed label set.
        """
        if not isinstance(text, str):
            raise ValueError(f"prediction must be a string, got {type(text).__name__}")
        labels = self.labels if labels is None else labels
        return FORMATS[self.format].parse(text, labels, self.aliases)
