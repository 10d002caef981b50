"""Build the offline multi-task speech corpus ("speechverse-synth") as a `datasets.DatasetDict`.

    python -m modeling_speechverse.data.build --out data/speechverse-synth [--scale tiny|small|default] [--workers N]

Real public text (SLURP, NLU-Evaluation-Data, Multi30k, GoEmotions, Alpaca; copies in `data_sources/`) is spoken by
espeak-ng voices (6 English accents x 12 voice variants, random speed and pitch), resampled to 16 kHz and stored as
FLAC bytes in an `Audio(sampling_rate=16000)` column. See `planning.py` for how every task is made.

The build is deterministic (same arguments -> identical rows and audio bytes), parallel (shards rendered by a process
pool), resumable (finished shards are kept in `<out>/_shards` and skipped on a rerun) and cached (a complete output
built with the same arguments is loaded instead of rebuilt). `<out>/build_info.json` records the arguments, per-split
row counts, hours of audio and content digests.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import shutil
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import datasets
from tqdm.auto import tqdm

from .corpora import Corpora
from .planning import SCALES, Spec, plan_task, split_sizes
from .render import render_rows
from .schema import ALL_TASKS, COLUMNS, FEATURES, SPLITS
from .skips import SkipReport
from .sources import DEFAULT_SOURCES_DIR

# Bump when a code change alters the output, so stale shards and caches are not reused.
BUILDER_VERSION = 1
SHARD_SIZE = 128
SHARDS_DIR = "_shards"
INFO_FILE = "build_info.json"
SHARD_INFO_FILE = "shard_info.json"
_SOURCE_FOLDERS = ("slurp", "nlu-eval", "multi30k", "goemotions", "alpaca")


@dataclass(frozen=True)
class BuildConfig:
    """What to build; two builds with equal configs (and equal source files) produce identical corpora."""

    scale: str = "default"
    seed: int = 0
    tasks: tuple[str, ...] = ALL_TASKS

    def __post_init__(self) -> None:
        if self.scale not in SCALES:
            raise ValueError(f"unknown scale {self.scale!r}; expected one of {sorted(SCALES)}")
        unknown = sorted(set(self.tasks) - set(ALL_TASKS))
        if unknown or not self.tasks:
            raise ValueError(f"unknown or no tasks {unknown or self.tasks}; expected a subset of {list(ALL_TASKS)}")


@dataclass(frozen=True)
class Shard:
    name: str
    split: str
    specs: list[Spec]


def sources_digest(sources_dir: Path) -> str:
    """SHA-256 over every source file the synthetic corpus reads."""
    digest = hashlib.sha256()
    for folder in _SOURCE_FOLDERS:
        for path in sorted((sources_dir / folder).rglob("*")):
            if path.is_file():
                digest.update(str(path.relative_to(sources_dir)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def build_fingerprint(config: BuildConfig, sources_dir: Path) -> str:
    payload = {"config": asdict(config), "version": BUILDER_VERSION, "sources": sources_digest(sources_dir)}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def plan_corpus(config: BuildConfig, sources_dir: Path) -> tuple[dict[str, list[Spec]], Corpora]:
    """Every example's spec, per split, tasks in `ALL_TASKS` order."""
    corpora = Corpora(sources_dir)
    scale = SCALES[config.scale]
    plan: dict[str, list[Spec]] = {split: [] for split in SPLITS}
    for task in (task for task in ALL_TASKS if task in config.tasks):
        for split, size in split_sizes(task, scale).items():
            plan[split].extend(plan_task(corpora, task, split, size, config.seed))
    return plan, corpora


def make_shards(plan: dict[str, list[Spec]], shard_size: int = SHARD_SIZE) -> list[Shard]:
    return [
        Shard(f"{split}-{start // shard_size:05d}", split, specs[start : start + shard_size])
        for split, specs in plan.items()
        for start in range(0, len(specs), shard_size)
    ]


def _render_shard(job: tuple[Shard, str]) -> dict[str, Any]:
    """Worker: render one shard and save it atomically (a directory appears only once complete)."""
    shard, shards_dir = job
    skips = SkipReport()
    columns, digest = render_rows(shard.specs, skips)
    final = Path(shards_dir) / shard.name
    partial = Path(shards_dir) / f"{shard.name}.partial-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    datasets.Dataset.from_dict(columns, features=FEATURES).save_to_disk(str(partial))
    info = {
        "name": shard.name,
        "num_planned": len(shard.specs),
        "num_rows": len(columns["id"]),
        "seconds_of_audio": sum(columns["duration"]),
        "digest": digest,
        "skipped": dict(skips.counts),
        "tasks": dict(Counter(columns["task"])),
    }
    (partial / SHARD_INFO_FILE).write_text(json.dumps(info, sort_keys=True))
    os.replace(partial, final)
    return info


def _read_shard_info(shards_dir: Path, name: str) -> dict[str, Any] | None:
    path = shards_dir / name / SHARD_INFO_FILE
    return json.loads(path.read_text()) if path.is_file() else None


def _prepare_output(out: Path, fingerprint: str, overwrite: bool) -> bool:
    """Return True when `out` already holds this exact build; clear stale state we own otherwise."""
    info_path = out / INFO_FILE
    if info_path.is_file():
        info = json.loads(info_path.read_text())
        if info["fingerprint"] == fingerprint and (out / "dataset_dict.json").is_file():
            return True
        if not overwrite:
            raise ValueError(
                f"{out} holds a corpus built with other arguments ({info['config']}); pass --overwrite to replace it"
            )
    elif out.is_dir() and any(p.name != SHARDS_DIR for p in out.iterdir()) and not overwrite:
        raise ValueError(f"{out} exists and is not a speechverse-synth build; choose another --out or --overwrite")
    for name in (INFO_FILE, "dataset_dict.json", *SPLITS):
        target = out / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    shards_dir = out / SHARDS_DIR
    plan_file = shards_dir / "fingerprint.txt"
    if shards_dir.is_dir() and (not plan_file.is_file() or plan_file.read_text() != fingerprint):
        shutil.rmtree(shards_dir)  # shards of another configuration cannot be resumed
    shards_dir.mkdir(parents=True, exist_ok=True)
    plan_file.write_text(fingerprint)
    return False


def _run_shards(jobs: list[tuple[Shard, str]], workers: int, progress: bool) -> list[dict[str, Any]]:
    infos = []
    with tqdm(total=sum(len(shard.specs) for shard, _ in jobs), unit="ex", disable=not progress) as bar:
        if workers == 1:
            results = map(_render_shard, jobs)
            pool = None
        else:
            # fork where available: workers need no re-import, and the callers' `__main__` need not be importable.
            methods = multiprocessing.get_all_start_methods()
            pool = multiprocessing.get_context("fork" if "fork" in methods else "spawn").Pool(workers)
            results = pool.imap_unordered(_render_shard, jobs)
        try:
            for info in results:
                infos.append(info)
                bar.update(info["num_planned"])
        finally:
            if pool is not None:
                pool.close()
                pool.join()
    return infos


def build_corpus(
    out_dir: str | Path,
    scale: str = "default",
    *,
    seed: int = 0,
    tasks: Sequence[str] | None = None,
    workers: int | None = None,
    sources_dir: str | Path = DEFAULT_SOURCES_DIR,
    overwrite: bool = False,
    progress: bool = True,
) -> datasets.DatasetDict:
    """Build (or resume, or load the cached) corpus into `out_dir` and return it.

    Args:
        out_dir: Output folder for `DatasetDict.save_to_disk` (train / validation / test).
        scale: `tiny` (348 examples, ~0.3 h of audio), `small` (3,720, ~3.4 h) or `default` (33,600, ~31 h).
        seed: Seed of every random choice (texts, voices, prosody, labels, noise).
        tasks: Subset of task codes to build (default: all, including the held-out test-only tasks).
        workers: Processes rendering shards in parallel (default: all cores).
        sources_dir: Folder with the source-text copies (default: the repository's `data_sources/`).
        overwrite: Replace an existing output built with other arguments.
        progress: Show a tqdm progress bar.
    """
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    config = BuildConfig(scale=scale, seed=seed, tasks=tuple(tasks) if tasks else ALL_TASKS)
    out, sources = Path(out_dir), Path(sources_dir)
    fingerprint = build_fingerprint(config, sources)
    if _prepare_output(out, fingerprint, overwrite):
        return datasets.load_from_disk(str(out))

    plan, corpora = plan_corpus(config, sources)
    shards = make_shards(plan)
    shards_dir = out / SHARDS_DIR
    pending = [(shard, str(shards_dir)) for shard in shards if _read_shard_info(shards_dir, shard.name) is None]
    _run_shards(pending, workers or os.cpu_count() or 1, progress)

    infos = {shard.name: _read_shard_info(shards_dir, shard.name) for shard in shards}
    skips = corpora.skips
    for info in infos.values():
        skips.counts.update(info["skipped"])
        skips.seen += info["num_planned"]
    skips.warn_if_any("speechverse-synth")

    splits, summary = {}, {}
    for split in SPLITS:
        names = [shard.name for shard in shards if shard.split == split]
        if not names:
            continue
        digest = hashlib.sha256("".join(infos[name]["digest"] for name in names).encode()).hexdigest()
        parts = [datasets.load_from_disk(str(shards_dir / name)) for name in names]
        # A content-derived fingerprint keeps the saved state files identical between identical builds.
        splits[split] = datasets.concatenate_datasets(parts).select_columns(list(COLUMNS), new_fingerprint=digest[:32])
        summary[split] = {
            "num_rows": sum(infos[name]["num_rows"] for name in names),
            "hours_of_audio": round(sum(infos[name]["seconds_of_audio"] for name in names) / 3600, 3),
            "tasks": dict(sorted(sum((Counter(infos[name]["tasks"]) for name in names), Counter()).items())),
            "digest": digest,
        }
    corpus = datasets.DatasetDict(splits)
    corpus.save_to_disk(str(out))
    info = {
        "fingerprint": fingerprint,
        "config": asdict(config),
        "builder_version": BUILDER_VERSION,
        "splits": summary,
        "skipped": dict(sorted(skips.counts.items())),
        "seen_intents": list(corpora.seen_intents),
        "unseen_intents": list(corpora.unseen_intents),
        "seen_slots": list(corpora.seen_slots),
        "unseen_slots": list(corpora.unseen_slots),
    }
    (out / INFO_FILE).write_text(json.dumps(info, indent=2) + "\n")
    shutil.rmtree(shards_dir)
    return datasets.load_from_disk(str(out))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Build the offline multi-task speech corpus with espeak-ng.")
    parser.add_argument("--out", required=True, help="output folder (DatasetDict.save_to_disk)")
    parser.add_argument("--scale", default="default", choices=sorted(SCALES))
    parser.add_argument("--workers", type=int, default=None, help="parallel processes (default: all cores)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tasks", default=None, help="comma-separated task codes (default: all)")
    parser.add_argument("--sources", default=str(DEFAULT_SOURCES_DIR), help="folder with the source-text copies")
    parser.add_argument("--overwrite", action="store_true", help="replace an output built with other arguments")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    corpus = build_corpus(
        args.out,
        args.scale,
        seed=args.seed,
        tasks=args.tasks.split(",") if args.tasks else None,
        workers=args.workers,
        sources_dir=args.sources,
        overwrite=args.overwrite,
    )
    info = json.loads((Path(args.out) / INFO_FILE).read_text())
    for split, summary in info["splits"].items():
        print(f"{split}: {summary['num_rows']} examples, {summary['hours_of_audio']:.2f} h of audio")
    print(f"{sum(len(ds) for ds in corpus.values())} examples in {args.out} ({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
