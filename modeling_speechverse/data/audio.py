"""Audio reading, resampling to 16 kHz and FLAC encoding shared by every corpus builder."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

SAMPLING_RATE = 16_000
# Below 8 kHz the speech band is cut off; above 48 kHz is not audio we expect. Either means a broken or foreign file.
MIN_SAMPLING_RATE = 8_000
MAX_SAMPLING_RATE = 48_000
# Anything quieter than this peak (full scale = 1.0) is digital silence, i.e. an empty recording.
SILENCE_PEAK = 1e-4


class BadAudioError(ValueError):
    """An audio file that cannot be used; `reason` is a short tag for skip counts (e.g. ``"unreadable"``)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def resample(waveform: np.ndarray, sampling_rate: int, target_rate: int = SAMPLING_RATE) -> np.ndarray:
    """Resample a mono waveform `(num_samples,)` with soxr (high quality); returns float32 `(num_samples',)`."""
    waveform = np.asarray(waveform, dtype=np.float32)
    if sampling_rate == target_rate:
        return waveform
    return soxr.resample(waveform, sampling_rate, target_rate, quality="HQ").astype(np.float32)


def check_waveform(waveform: np.ndarray, sampling_rate: int, name: str) -> None:
    """Raise `BadAudioError` for an empty or silent waveform or an out-of-range sampling rate."""
    if not MIN_SAMPLING_RATE <= sampling_rate <= MAX_SAMPLING_RATE:
        raise BadAudioError(
            "wrong_sampling_rate",
            f"{name}: sampling rate {sampling_rate} Hz is outside [{MIN_SAMPLING_RATE}, {MAX_SAMPLING_RATE}]",
        )
    if waveform.size == 0 or float(np.max(np.abs(waveform))) < SILENCE_PEAK:
        raise BadAudioError("empty", f"{name}: no audio samples (empty or digital silence)")


def read_audio(source: str | Path | bytes, expected_sampling_rate: int | None = None) -> np.ndarray:
    """Read a file (path or encoded bytes), check it and return mono float32 `(num_samples,)` at 16 kHz.

    Raises `BadAudioError` (reasons ``unreadable``, ``empty``, ``wrong_sampling_rate``) instead of crashing deep in
    a decoder; `expected_sampling_rate` rejects files whose rate differs from what the corpus documents.
    """
    name = "<bytes>" if isinstance(source, bytes) else str(source)
    try:
        waveform, sampling_rate = sf.read(io.BytesIO(source) if isinstance(source, bytes) else source, dtype="float32")
    except (sf.LibsndfileError, RuntimeError, OSError) as error:
        raise BadAudioError("unreadable", f"{name}: cannot decode audio ({error})") from error
    if waveform.ndim == 2:
        waveform = waveform.mean(axis=1)
    if expected_sampling_rate is not None and sampling_rate != expected_sampling_rate:
        raise BadAudioError(
            "wrong_sampling_rate", f"{name}: sampling rate {sampling_rate} Hz, expected {expected_sampling_rate} Hz"
        )
    check_waveform(waveform, sampling_rate, name)
    return resample(waveform, sampling_rate)


def encode_flac(waveform: np.ndarray, sampling_rate: int = SAMPLING_RATE) -> bytes:
    """Encode a float waveform `(num_samples,)` in [-1, 1] as 16-bit FLAC bytes (clipped, deterministic)."""
    pcm = np.round(np.clip(waveform, -1.0, 1.0) * 32767.0).astype(np.int16)
    buffer = io.BytesIO()
    sf.write(buffer, pcm, sampling_rate, format="FLAC", subtype="PCM_16")
    return buffer.getvalue()
