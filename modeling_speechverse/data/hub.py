"""Loaders for the paper's public speech datasets on the Hugging Face Hub, mapped to the corpus schema.

`HUB_DATASETS` is a table of column mappings (one `HubDatasetSpec` per dataset and task); `load_hub_dataset` calls
`datasets.load_dataset` and maps the rows to `schema.FEATURES` (audio cast to 16 kHz). Nothing is downloaded unless
you call it with network access; `path=` points a spec at a local copy or mirror with the same columns.

Bad rows never crash a load: rows with a missing label (empty target, unmapped accent) or unusable audio
(unreadable, empty, sampling rate outside 8-48 kHz) are dropped, counted and reported in one warning.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import datasets
import soundfile as sf

from ..tasks import FORMATS, get_task
from .audio import MAX_SAMPLING_RATE, MIN_SAMPLING_RATE, SAMPLING_RATE
from .schema import COLUMNS, FEATURES
from .skips import SkipReport
from .sources import parse_slots

Row = Mapping[str, Any]

# Common Voice `accent` values for the paper's five accent classes (Appendix A.3); other accents are not labelled.
COMMON_VOICE_ACCENTS = {
    "us": "american",
    "england": "british",
    "canada": "canadian",
    "australia": "australian",
    "indian": "indian",
}


def _slurp_intent(row: Row) -> str | None:
    return f"{row['scenario']}_{row['action']}" if row.get("scenario") and row.get("action") else None


def _slurp_slots(row: Row) -> list[tuple[str, str]] | None:
    annotation = row.get("sentence_annotation")
    return list(parse_slots(annotation)) if annotation else None


@dataclass(frozen=True)
class HubDatasetSpec:
    """How one Hub dataset's columns become corpus rows for one task.

    Args:
        name: Short name for `load_hub_dataset`, e.g. `"librispeech"`.
        hub_id: Hub repository id, or `None` when no official copy exists (then `path=` is required).
        task: Task code of the produced rows.
        target: Column holding the target value, or a function of the row returning it (`None` = missing).
        config: Default Hub configuration (e.g. a language pair).
        transcript: Column with the spoken text.
        audio: Column with the audio.
        example_id / voice / accent: Columns for `id`, `voice` (speaker id) and `accent`.
        label_map: Raw target values -> labels; values not in it count as missing labels.
        lowercase: Lower-case the target and transcript (LibriSpeech is upper-case).
        target_language: Value of the `target_language` column (ST).
        labels: Closed label set written to the `labels` column.
    """

    name: str
    hub_id: str | None
    task: str
    target: str | Callable[[Row], Any]
    config: str | None = None
    transcript: str | None = None
    audio: str = "audio"
    example_id: str | None = None
    voice: str | None = None
    accent: str | None = None
    label_map: Mapping[str, str] | None = None
    lowercase: bool = False
    target_language: str = ""
    labels: tuple[str, ...] = ()

    def target_value(self, row: Row) -> Any:
        value = self.target(row) if callable(self.target) else row.get(self.target)
        if isinstance(value, str):
            value = " ".join(value.split())
            if self.label_map is not None:
                value = self.label_map.get(value.lower())
            elif self.lowercase:
                value = value.lower()
        return None if value is None or value == "" else value  # an empty slot list is a valid SF target


_SLURP_COLUMNS = dict(hub_id=None, transcript="sentence", example_id="slurp_id")
HUB_DATASETS: dict[str, HubDatasetSpec] = {
    spec.name: spec
    for spec in (
        HubDatasetSpec(
            "librispeech",
            "openslr/librispeech_asr",
            "ASR",
            "text",
            config="clean",
            transcript="text",
            example_id="id",
            voice="speaker_id",
            lowercase=True,
        ),
        HubDatasetSpec(
            "common_voice",
            "mozilla-foundation/common_voice_5_1",
            "ASR",
            "sentence",
            config="en",
            transcript="sentence",
            example_id="path",
            voice="client_id",
            accent="accent",
        ),
        HubDatasetSpec(
            "common_voice_accent",
            "mozilla-foundation/common_voice_5_1",
            "AC",
            "accent",
            config="en",
            transcript="sentence",
            example_id="path",
            voice="client_id",
            accent="accent",
            label_map=COMMON_VOICE_ACCENTS,
            labels=tuple(COMMON_VOICE_ACCENTS.values()),
        ),
        HubDatasetSpec(
            "voxpopuli",
            "facebook/voxpopuli",
            "ASR",
            "normalized_text",
            config="en",
            transcript="normalized_text",
            example_id="audio_id",
            voice="speaker_id",
            accent="accent",
        ),
        # CoVoST 2 needs the Common Voice 4 English audio downloaded by hand: pass `data_dir=`.
        HubDatasetSpec(
            "covost2_en_de",
            "facebook/covost2",
            "ST",
            "translation",
            config="en_de",
            transcript="sentence",
            example_id="id",
            voice="client_id",
            target_language="German",
        ),
        HubDatasetSpec(
            "covost2_en_ca",
            "facebook/covost2",
            "ST",
            "translation",
            config="en_ca",
            transcript="sentence",
            example_id="id",
            voice="client_id",
            target_language="Catalan",
        ),
        # SLURP has no official Hub copy: point `path=` at a copy whose rows carry SLURP's own JSON fields
        # (sentence, sentence_annotation, scenario, action, slurp_id) next to an `audio` column.
        HubDatasetSpec("slurp_ic", task="IC", target=_slurp_intent, **_SLURP_COLUMNS),
        HubDatasetSpec("slurp_sf", task="SF", target=_slurp_slots, **_SLURP_COLUMNS),
        HubDatasetSpec("slurp_asr", task="ASR", target="sentence", **_SLURP_COLUMNS),
    )
}


def get_hub_spec(name_or_id: str, task: str | None = None) -> HubDatasetSpec:
    """Find a spec by short name, or by Hub id (and `task` when one Hub id serves several tasks)."""
    if name_or_id in HUB_DATASETS:
        return HUB_DATASETS[name_or_id]
    matches = [spec for spec in HUB_DATASETS.values() if spec.hub_id == name_or_id and task in (None, spec.task)]
    if not matches:
        raise ValueError(
            f"no mapping for {name_or_id!r} (task {task}); known names: {sorted(HUB_DATASETS)}, "
            f"Hub ids: {sorted({s.hub_id for s in HUB_DATASETS.values() if s.hub_id})}"
        )
    return matches[0]


def _audio_problem(audio: Mapping[str, Any] | None) -> tuple[str | None, float]:
    """(reason, 0.0) for unusable audio, else (None, duration in seconds); reads only the file header."""
    if not audio or not (audio.get("bytes") or audio.get("path")):
        return "unreadable", 0.0
    try:
        info = sf.info(io.BytesIO(audio["bytes"]) if audio.get("bytes") else audio["path"])
    except (sf.LibsndfileError, RuntimeError, OSError):
        return "unreadable", 0.0
    if not MIN_SAMPLING_RATE <= info.samplerate <= MAX_SAMPLING_RATE:
        return "wrong_sampling_rate", 0.0
    if info.frames <= 0:
        return "empty", 0.0
    return None, info.frames / info.samplerate


class _BatchMapper:
    """Maps a batch of source rows to schema rows, dropping (and counting in `skips`) unusable ones."""

    def __init__(self, spec: HubDatasetSpec, check_audio: bool, skips: SkipReport) -> None:
        self.spec, self.check_audio, self.skips = spec, check_audio, skips

    def _render(self, value: Any) -> str:
        task = get_task(self.spec.task)
        if self.spec.labels:
            # The corpus brings its own label set (e.g. Common Voice accents), not the synthetic corpus' one.
            return FORMATS[task.format].render(value)
        return task.render_target(value)

    def _row(self, row: Row, index: int) -> dict[str, Any] | None:
        spec = self.spec
        self.skips.seen += 1
        value = spec.target_value(row)
        if value is None:
            self.skips.skip("missing_label")
            return None
        duration = 0.0
        if self.check_audio:
            problem, duration = _audio_problem(row.get(spec.audio))
            if problem is not None:
                self.skips.skip(problem)
                return None
        transcript = " ".join(str(row.get(spec.transcript) or "").split()) if spec.transcript else ""
        return {
            "id": str(row[spec.example_id]) if spec.example_id else f"{spec.name}-{index:08d}",
            "audio": row[spec.audio],
            "task": spec.task,
            "target": self._render(value),
            "transcript": transcript.lower() if spec.lowercase else transcript,
            "instruction": "",
            "keyword": "",
            "target_language": spec.target_language,
            "labels": list(spec.labels),
            "seen": True,
            "source": spec.name,
            "voice": str(row.get(spec.voice) or "") if spec.voice else "",
            "accent": str(row.get(spec.accent) or "") if spec.accent else "",
            "duration": duration,
        }

    def __call__(self, batch: dict[str, list[Any]], indices: list[int]) -> dict[str, list[Any]]:
        names = list(batch)
        rows = (self._row(dict(zip(names, values)), index) for index, *values in zip(indices, *batch.values()))
        kept = [row for row in rows if row is not None]
        return {name: [row[name] for row in kept] for name in COLUMNS}


_UNDECODED_FEATURES = datasets.Features({**FEATURES, "audio": datasets.Audio(decode=False)})


def map_to_schema(
    dataset: datasets.Dataset | datasets.IterableDataset, spec: HubDatasetSpec, *, check_audio: bool = True
) -> datasets.Dataset | datasets.IterableDataset:
    """Map a dataset with `spec`'s columns to `schema.FEATURES` (audio decoded at 16 kHz), dropping unusable rows.

    A map-style `Dataset` is mapped in one pass and a single warning reports the skip counts; an `IterableDataset`
    is mapped lazily while streaming, so its bad rows are dropped without a report.
    """
    columns = dataset.column_names or []
    missing = [c for c in (spec.audio, spec.transcript, spec.example_id) if c and c not in columns]
    if missing:
        raise ValueError(f"{spec.name}: dataset has no column(s) {missing}; it has {columns}")
    skips = SkipReport()
    mapper = _BatchMapper(spec, check_audio, skips)
    dataset = dataset.cast_column(spec.audio, datasets.Audio(decode=False))
    if isinstance(dataset, datasets.IterableDataset):
        # Typed via `cast` afterwards: a streamed `map(features=...)` would not decode the audio column.
        mapped = dataset.map(mapper, batched=True, with_indices=True, remove_columns=columns)
        return mapped.cast(FEATURES)
    # In-process and uncached, so that every row passes through `mapper` and is counted.
    mapped = dataset.map(
        mapper,
        batched=True,
        with_indices=True,
        remove_columns=columns,
        features=_UNDECODED_FEATURES,
        load_from_cache_file=False,
    )
    skips.warn_if_any(spec.name)
    return mapped.cast_column("audio", datasets.Audio(sampling_rate=SAMPLING_RATE))


def load_hub_dataset(
    name_or_id: str,
    split: str,
    *,
    task: str | None = None,
    config: str | None = None,
    path: str | None = None,
    streaming: bool = False,
    check_audio: bool = True,
    **load_kwargs: Any,
) -> datasets.Dataset | datasets.IterableDataset:
    """Load a split of one of the paper's datasets with `datasets.load_dataset`, in the corpus schema.

    Args:
        name_or_id: A `HUB_DATASETS` name (`"librispeech"`, `"common_voice_accent"`, ...) or a Hub id.
        split: Source split, e.g. `"test"` or `"train.100"`.
        task: Picks the spec when a Hub id serves several tasks (e.g. Common Voice: `"ASR"` or `"AC"`).
        config: Hub configuration; defaults to the spec's unless `path` is given.
        path: Load from here instead of the spec's Hub id: a mirror id, a local folder, or a packaged builder
            such as `"parquet"` with `data_files=...`.
        streaming: Stream instead of downloading everything.
        check_audio: Drop rows whose audio header is unreadable, empty or has a wrong sampling rate.
        **load_kwargs: Passed to `datasets.load_dataset` (`data_dir`, `data_files`, `cache_dir`, `revision`...).
    """
    spec = get_hub_spec(name_or_id, task)
    source = path or spec.hub_id
    if source is None:
        raise ValueError(f"{spec.name} has no official Hub copy; pass path= (a mirror id or a local copy)")
    dataset = datasets.load_dataset(
        source, config if path else (config or spec.config), split=split, streaming=streaming, **load_kwargs
    )
    return map_to_schema(dataset, spec, check_audio=check_audio)
