"""Copy the subsets of the raw public corpora that the corpus builder needs into `data_sources/`.

Run once by a maintainer (`python -m modeling_speechverse.data.prepare_sources --raw /work/shared/data`); the
builder only ever reads the copies, so the repository is self-contained. Every output is a deterministic function
of the raw files (gzip with `mtime=0`, fixed line counts), so re-running it reproduces the committed bytes.
Filtering that decides *what goes into the corpus* (label rules, length limits, overlap removal) lives in
`sources.py`, not here: this script only trims fields and takes prefixes to keep the copies small.
"""

from __future__ import annotations

import argparse
import ast
import csv
import glob
import gzip
import json
import shutil
from pathlib import Path

from .sources import DEFAULT_SOURCES_DIR

# How much of each corpus the default scale can use, with headroom (see `planning.SCALES`).
MULTI30K_TRAIN_LINES = 10_000
GOEMOTIONS_TRAIN_LINES = 12_000
GOEMOTIONS_TEST_LINES = 3_000
SLURP_FIELDS = ("slurp_id", "sentence", "sentence_annotation", "scenario", "action")
NLU_EVAL_FIELDS = ("answerid", "scenario", "intent", "answer_annotation", "answer_from_anno")
FSDD_TEST_INDICES = range(5)


def _write_gz(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
        gz.write(text.encode("utf-8"))


def _copy_slurp(raw: Path, out: Path) -> None:
    for split in ("devel", "test"):
        rows = [json.loads(line) for line in (raw / "slurp" / f"{split}.jsonl").read_text().splitlines() if line]
        lines = [json.dumps({k: row[k] for k in SLURP_FIELDS}, ensure_ascii=False) for row in rows]
        _write_gz(out / "slurp" / f"{split}.jsonl.gz", "\n".join(lines) + "\n")
    unique_lm = dict.fromkeys(line.strip() for line in (raw / "slurp" / "lm.txt").read_text().splitlines())
    _write_gz(out / "slurp" / "lm.txt.gz", "\n".join(line for line in unique_lm if line) + "\n")
    shutil.copyfile(raw / "slurp" / "LICENSE.txt", out / "slurp" / "LICENSE.txt")


def _copy_nlu_eval(raw: Path, out: Path) -> None:
    lines = ["\t".join(NLU_EVAL_FIELDS)]
    for path in sorted(glob.glob(str(raw / "nlu-eval" / "csv" / "*.csv"))):
        with open(path, newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle, delimiter=";"):
                lines.append("\t".join((row.get(k) or "").replace("\t", " ").strip() for k in NLU_EVAL_FIELDS))
    _write_gz(out / "nlu-eval" / "utterances.tsv.gz", "\n".join(lines) + "\n")
    shutil.copyfile(raw / "nlu-eval" / "LICENSE", out / "nlu-eval" / "LICENSE")


def _copy_multi30k(raw: Path, out: Path) -> None:
    for lang in ("en", "de", "fr"):
        with gzip.open(raw / "multi30k" / f"train.{lang}.gz", "rt", encoding="utf-8") as handle:
            train = handle.read().splitlines()[:MULTI30K_TRAIN_LINES]
        _write_gz(out / "multi30k" / f"train.{lang}.gz", "\n".join(train) + "\n")
        with gzip.open(raw / "multi30k" / f"test_2016_flickr.{lang}.gz", "rt", encoding="utf-8") as handle:
            _write_gz(out / "multi30k" / f"test_2016_flickr.{lang}.gz", handle.read())


def _copy_goemotions(raw: Path, out: Path) -> None:
    for split, limit in (("train", GOEMOTIONS_TRAIN_LINES), ("test", GOEMOTIONS_TEST_LINES)):
        lines = (raw / "goemotions" / f"{split}.tsv").read_text(encoding="utf-8").splitlines()[:limit]
        _write_gz(out / "goemotions" / f"{split}.tsv.gz", "\n".join(lines) + "\n")
    shutil.copyfile(raw / "goemotions" / "labels.txt", out / "goemotions" / "labels.txt")


def _copy_alpaca(raw: Path, out: Path) -> None:
    items = json.loads((raw / "alpaca" / "alpaca_5000.json").read_text(encoding="utf-8"))
    with_input = [item for item in items if item["input"].strip()]
    _write_gz(out / "alpaca" / "alpaca_with_input.json.gz", json.dumps(with_input, ensure_ascii=False, indent=0))
    shutil.copyfile(raw / "alpaca" / "DATA_LICENSE", out / "alpaca" / "DATA_LICENSE")


def _copy_fsdd(raw: Path, out: Path) -> None:
    target = out / "fsdd" / "recordings"
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted((raw / "fsdd" / "recordings").glob("*.flac")):
        if int(path.stem.rsplit("_", 1)[1]) in FSDD_TEST_INDICES:
            shutil.copyfile(path, target / path.name)
    module = ast.parse((raw / "fsdd" / "metadata.py").read_text())
    literal = next(node.value for node in module.body if isinstance(node, ast.Assign))
    metadata = ast.literal_eval(literal)
    speakers = {name: {"gender": meta["gender"], "accent": meta["accent"]} for name, meta in metadata.items()}
    (out / "fsdd" / "speakers.json").write_text(json.dumps(speakers, indent=2, sort_keys=True) + "\n")
    shutil.copyfile(raw / "fsdd" / "README.source.md", out / "fsdd" / "README.source.md")  # holds the licence


def prepare_sources(raw_dir: str | Path, out_dir: str | Path = DEFAULT_SOURCES_DIR) -> None:
    """Write the trimmed copies of every corpus under `out_dir` (the licence notes are maintained by hand)."""
    raw, out = Path(raw_dir), Path(out_dir)
    if not (raw / "SOURCES.md").is_file():
        raise ValueError(f"{raw} does not look like the raw data folder (no SOURCES.md)")
    for copy in (_copy_slurp, _copy_nlu_eval, _copy_multi30k, _copy_goemotions, _copy_alpaca, _copy_fsdd):
        copy(raw, out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw", required=True, help="folder with the raw corpora (SOURCES.md, slurp/, ...)")
    parser.add_argument("--out", default=str(DEFAULT_SOURCES_DIR))
    args = parser.parse_args()
    prepare_sources(args.raw, args.out)


if __name__ == "__main__":
    main()
