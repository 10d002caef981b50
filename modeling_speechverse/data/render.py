"""Turn planned example specs into dataset rows with encoded 16 kHz audio (runs in the build's worker processes)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np

from .audio import SAMPLING_RATE, BadAudioError, encode_flac
from .nonspeech import add_background_noise, make_nonspeech
from .schema import COLUMNS
from .skips import SkipReport
from .tts import synthesize


def render_audio(recipe: dict[str, Any]) -> np.ndarray:
    """Audio `(num_samples,)` at 16 kHz for a `render` recipe (see `planning._Planner.spec`).

    Speech segments are synthesised one by one and joined with `pauses[i]` seconds of silence between segment i and
    i + 1 (speaker counting); `noise` mixes in pink noise at an SNR; `nonspeech` replaces speech entirely.
    """
    if recipe["nonspeech"] is not None:
        return make_nonspeech(**recipe["nonspeech"])
    pieces = []
    for index, segment in enumerate(recipe["segments"]):
        if index:
            pieces.append(np.zeros(int(recipe["pauses"][index - 1] * SAMPLING_RATE), dtype=np.float32))
        pieces.append(
            synthesize(segment["text"], segment["voice"], segment["speed"], segment["pitch"], segment["prosody"])
        )
    waveform = np.concatenate(pieces)
    if recipe["noise"] is not None:
        waveform = add_background_noise(waveform, **recipe["noise"])
    return waveform


def render_rows(specs: list[dict[str, Any]], skips: SkipReport) -> tuple[dict[str, list[Any]], str]:
    """Render specs into column lists (the `schema.FEATURES` layout) and a SHA-256 digest of their content.

    An example whose audio cannot be made (espeak failure, empty output) is skipped and counted in `skips`.
    """
    columns: dict[str, list[Any]] = {name: [] for name in COLUMNS}
    digest = hashlib.sha256()
    for spec in specs:
        skips.seen += 1
        try:
            waveform = render_audio(spec["render"])
        except BadAudioError as error:
            skips.skip(error.reason)
            continue
        audio = encode_flac(waveform)
        row = {name: spec[name] for name in COLUMNS if name not in ("audio", "duration")}
        row["audio"] = {"bytes": audio, "path": f"{spec['id']}.flac"}
        row["duration"] = round(waveform.size / SAMPLING_RATE, 4)
        for name in COLUMNS:
            columns[name].append(row[name])
        digest.update(json.dumps({k: v for k, v in row.items() if k != "audio"}, sort_keys=True).encode())
        digest.update(hashlib.sha256(audio).digest())
    return columns, digest.hexdigest()
