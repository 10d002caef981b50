"""A tiny corpus in the SpeechVerse column schema, written in a second: tones for ASR, speaker counting and
speech/non-speech, so the training tests do not wait for the espeak-ng corpus builder."""

from __future__ import annotations

import io
from pathlib import Path

import datasets
import numpy as np
import soundfile

from modeling_speechverse.data.schema import FEATURES

SAMPLING_RATE = 16000
# Each ASR sentence has its own pitch, so the tiny model can tell them apart; words from the tiny tokenizer's corpus.
SENTENCES = {
    "turn on the radio now": 220.0,
    "play some music please": 330.0,
    "set an alarm for seven am tomorrow": 440.0,
    "what is the weather like in berlin": 550.0,
}
SPLIT_SIZES = {"train": 6, "validation": 1, "test": 1}


def _wav(waveform: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, waveform, SAMPLING_RATE, format="WAV")
    return buffer.getvalue()


def _tone(seconds: float, *freqs: float) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLING_RATE)) / SAMPLING_RATE
    return (0.4 * sum(np.sin(2 * np.pi * f * t) for f in freqs) / len(freqs)).astype(np.float32)


def _row(example_id: str, task: str, target: str, waveform: np.ndarray, transcript: str = "") -> dict:
    return {
        "id": example_id,
        "audio": {"bytes": _wav(waveform), "path": None},
        "task": task,
        "target": target,
        "transcript": transcript,
        "instruction": "",
        "keyword": "",
        "target_language": "",
        "labels": [],
        "seen": True,
        "source": "tones",
        "voice": "",
        "accent": "",
        "duration": len(waveform) / SAMPLING_RATE,
    }


def _split_rows(split: str, copies: int, rng: np.random.Generator) -> list[dict]:
    rows = []
    for copy in range(copies):
        seconds = float(rng.uniform(0.4, 0.8))
        noise = (0.3 * rng.standard_normal(int(seconds * SAMPLING_RATE))).astype(np.float32)
        examples = [("ASR", sentence, _tone(seconds, freq), sentence) for sentence, freq in SENTENCES.items()]
        examples += [
            ("SC", "one", _tone(seconds, 300.0), ""),
            ("SC", "two", _tone(seconds, 300.0, 700.0), ""),
            ("SNS", "speech", _tone(seconds, 250.0, 500.0), ""),
            ("SNS", "non-speech", noise, ""),
        ]
        for task, target, waveform, transcript in examples:
            rows.append(_row(f"{split}-{len(rows)}", task, target, waveform, transcript))
    return rows


def write_tiny_corpus(path: str | Path, seed: int = 0) -> Path:
    """Write the corpus (`DatasetDict.save_to_disk`) with splits train/validation/test; returns `path`."""
    rng = np.random.default_rng(seed)
    splits = {
        split: datasets.Dataset.from_list(_split_rows(split, copies, rng), features=FEATURES)
        for split, copies in SPLIT_SIZES.items()
    }
    datasets.DatasetDict(splits).save_to_disk(str(path))
    return Path(path)
