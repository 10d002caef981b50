"""Real human speech for evaluation: the Free Spoken Digit Dataset (FSDD) test split as ASR and KWS examples.

    python -m modeling_speechverse.data.fsdd --out data/fsdd

FSDD recordings are `{digit}_{speaker}_{n}.flac`, 8 kHz mono; the official test split is n = 0..4 (300 files, copied
in `data_sources/fsdd/`). Each recording gives one ASR example (target: the digit word, e.g. "seven") and one KWS
example (70% asking for the spoken digit -> "yes", 30% for another digit -> "no"), resampled to 16 kHz, in the
same schema as the synthetic corpus. Bad files (unreadable, empty, wrong sampling rate, unparsable name = missing
label) are skipped with a count and a warning.
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass
from pathlib import Path

import datasets
import numpy as np

from ..tasks import get_task
from .audio import SAMPLING_RATE, BadAudioError, encode_flac, read_audio
from .schema import COLUMNS, FEATURES
from .skips import SkipReport
from .sources import DEFAULT_SOURCES_DIR

DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
FSDD_SAMPLING_RATE = 8_000
TEST_INDICES = range(5)
KWS_POSITIVE_FRACTION = 0.7
KWS_LABELS = get_task("KWS").labels
DEFAULT_FSDD_DIR = DEFAULT_SOURCES_DIR / "fsdd"
_NAME = re.compile(r"^(\d)_([a-z]+)_(\d+)$")


@dataclass(frozen=True)
class FsddRecording:
    stem: str
    digit: str
    speaker: str
    index: int
    waveform: np.ndarray  # (num_samples,) float32 at 16 kHz


def read_fsdd_recordings(
    recordings_dir: str | Path, skips: SkipReport, indices: range = TEST_INDICES
) -> list[FsddRecording]:
    """Read and check every recording with an index in `indices`, in file-name order; bad files are counted."""
    recordings = []
    for path in sorted(Path(recordings_dir).iterdir()):
        if path.suffix not in (".flac", ".wav"):
            continue
        match = _NAME.match(path.stem)
        if match is None:
            skips.seen += 1
            skips.skip("missing_label")
            continue
        if int(match.group(3)) not in indices:
            continue
        skips.seen += 1
        try:
            waveform = read_audio(path, expected_sampling_rate=FSDD_SAMPLING_RATE)
        except BadAudioError as error:
            skips.skip(error.reason)
            continue
        digit = DIGIT_WORDS[int(match.group(1))]
        recordings.append(FsddRecording(path.stem, digit, match.group(2), int(match.group(3)), waveform))
    return recordings


def _row(recording: FsddRecording, task: str, target: str, accent: str, **fields: object) -> dict[str, object]:
    row = {
        "id": f"fsdd-{task.lower()}-{recording.stem}",
        "audio": {"bytes": encode_flac(recording.waveform), "path": f"{recording.stem}.flac"},
        "task": task,
        "target": target,
        "transcript": recording.digit,
        "instruction": "",
        "keyword": "",
        "target_language": "",
        "labels": [],
        "seen": True,
        "source": "fsdd",
        "voice": recording.speaker,
        "accent": accent,
        "duration": round(recording.waveform.size / SAMPLING_RATE, 4),
    }
    row.update(fields)
    return row


def build_fsdd(fsdd_dir: str | Path = DEFAULT_FSDD_DIR, *, seed: int = 0) -> datasets.DatasetDict:
    """FSDD test recordings as a `DatasetDict` with one `test` split holding ASR rows then KWS rows.

    Args:
        fsdd_dir: Folder with `recordings/` and `speakers.json` (speaker -> accent metadata).
        seed: Seed for the KWS keyword choice.
    """
    fsdd_dir = Path(fsdd_dir)
    if not (fsdd_dir / "recordings").is_dir():
        raise ValueError(f"{fsdd_dir} has no recordings/ folder")
    speakers_file = fsdd_dir / "speakers.json"
    speakers = json.loads(speakers_file.read_text()) if speakers_file.is_file() else {}
    skips = SkipReport()
    recordings = read_fsdd_recordings(fsdd_dir / "recordings", skips)
    skips.warn_if_any("fsdd")
    if not recordings:
        raise ValueError(f"no usable FSDD test recordings in {fsdd_dir / 'recordings'}")

    rng = np.random.default_rng(seed)
    num_positive = round(len(recordings) * KWS_POSITIVE_FRACTION)
    positive = np.zeros(len(recordings), dtype=bool)
    positive[rng.permutation(len(recordings))[:num_positive]] = True
    rows = []
    for recording in recordings:
        accent = speakers.get(recording.speaker, {}).get("accent", "")
        rows.append(_row(recording, "ASR", recording.digit, accent))
    for recording, is_positive in zip(recordings, positive):
        accent = speakers.get(recording.speaker, {}).get("accent", "")
        others = [word for word in DIGIT_WORDS if word != recording.digit]
        keyword = recording.digit if is_positive else str(rng.choice(others))
        answer = KWS_LABELS[0] if is_positive else KWS_LABELS[1]
        rows.append(_row(recording, "KWS", answer, accent, keyword=keyword, labels=list(KWS_LABELS)))
    columns = {name: [row[name] for row in rows] for name in COLUMNS}
    return datasets.DatasetDict({"test": datasets.Dataset.from_dict(columns, features=FEATURES)})


def main() -> None:
    parser = argparse.ArgumentParser(description="Build the FSDD test split (real speech) as ASR + KWS examples.")
    parser.add_argument("--out", required=True, help="output folder (DatasetDict.save_to_disk)")
    parser.add_argument("--fsdd", default=str(DEFAULT_FSDD_DIR), help="folder with recordings/ and speakers.json")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    corpus = build_fsdd(args.fsdd, seed=args.seed)
    corpus.save_to_disk(args.out)
    print(f"{len(corpus['test'])} FSDD examples in {args.out}")


if __name__ == "__main__":
    main()
