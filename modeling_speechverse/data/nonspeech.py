"""Non-speech audio made with numpy (noises, tones, chords, near-silence) and background noise for speech.

All generators are seeded and return float32 `(num_samples,)` at 16 kHz.
"""

from __future__ import annotations

import numpy as np

from .audio import SAMPLING_RATE

NONSPEECH_KINDS = ("white_noise", "pink_noise", "brown_noise", "tone", "chord", "near_silence")


def _colored_noise(rng: np.random.Generator, num_samples: int, exponent: float) -> np.ndarray:
    """Noise with power spectrum ~ 1/f**exponent (0 white, 1 pink, 2 brown), unit RMS."""
    spectrum = np.fft.rfft(rng.standard_normal(num_samples))
    frequencies = np.fft.rfftfreq(num_samples)
    frequencies[0] = frequencies[1] if num_samples > 1 else 1.0
    noise = np.fft.irfft(spectrum / frequencies ** (exponent / 2), n=num_samples)
    return noise / (np.sqrt(np.mean(noise**2)) + 1e-12)


def _fade(waveform: np.ndarray, seconds: float = 0.02) -> np.ndarray:
    ramp = min(int(seconds * SAMPLING_RATE), waveform.size // 2)
    if ramp:
        envelope = np.linspace(0.0, 1.0, ramp)
        waveform[:ramp] *= envelope
        waveform[-ramp:] *= envelope[::-1]
    return waveform


def _tone(rng: np.random.Generator, time: np.ndarray) -> np.ndarray:
    frequency = rng.uniform(150, 1500)
    vibrato = rng.uniform(0, 0.01) * np.sin(2 * np.pi * rng.uniform(3, 7) * time)
    phase = 2 * np.pi * frequency * np.cumsum(1 + vibrato) / SAMPLING_RATE
    return np.sin(phase) * (1 + rng.uniform(0, 0.5) * np.sin(2 * np.pi * rng.uniform(0.5, 4) * time))


def _chords(rng: np.random.Generator, time: np.ndarray) -> np.ndarray:
    """A few major/minor triads with harmonics and a decaying envelope, played one after another."""
    num_chords = int(rng.integers(1, 4))
    boundaries = np.linspace(0, time.size, num_chords + 1).astype(int)
    waveform = np.zeros_like(time)
    for start, end in zip(boundaries[:-1], boundaries[1:]):
        root = rng.uniform(110, 440)
        intervals = (0, 4, 7) if rng.random() < 0.5 else (0, 3, 7)
        local = time[start:end] - time[start]
        for semitones in intervals:
            frequency = root * 2 ** (semitones / 12)
            for harmonic in (1, 2, 3):
                waveform[start:end] += np.sin(2 * np.pi * frequency * harmonic * local) / harmonic**1.5
        waveform[start:end] *= np.exp(-local * rng.uniform(0.5, 3))
    return waveform


def make_nonspeech(kind: str, duration_s: float, seed: int) -> np.ndarray:
    """One non-speech clip of `duration_s` seconds; loudness is random but in the range of the synthetic speech."""
    if kind not in NONSPEECH_KINDS:
        raise ValueError(f"unknown non-speech kind {kind!r}; expected one of {NONSPEECH_KINDS}")
    rng = np.random.default_rng(seed)
    num_samples = int(duration_s * SAMPLING_RATE)
    time = np.arange(num_samples) / SAMPLING_RATE
    if kind == "near_silence":
        # Room tone: silence is never digitally zero in real recordings.
        return (_colored_noise(rng, num_samples, 1.0) * rng.uniform(0.001, 0.004)).astype(np.float32)
    if kind in ("white_noise", "pink_noise", "brown_noise"):
        waveform = _colored_noise(rng, num_samples, {"white_noise": 0.0, "pink_noise": 1.0, "brown_noise": 2.0}[kind])
    elif kind == "tone":
        waveform = _tone(rng, time)
    else:
        waveform = _chords(rng, time)
    waveform = waveform / (np.sqrt(np.mean(waveform**2)) + 1e-12) * rng.uniform(0.02, 0.15)
    return _fade(np.clip(waveform, -1, 1)).astype(np.float32)


def add_background_noise(waveform: np.ndarray, snr_db: float, seed: int) -> np.ndarray:
    """Mix pink noise into `waveform` `(num_samples,)` at the given signal-to-noise ratio (dB)."""
    rng = np.random.default_rng(seed)
    signal_rms = np.sqrt(np.mean(waveform**2)) + 1e-12
    noise = _colored_noise(rng, waveform.size, 1.0) * signal_rms / 10 ** (snr_db / 20)
    return np.clip(waveform + noise, -1, 1).astype(np.float32)
