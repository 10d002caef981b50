"""Check that the converted Whisper tiny.en transcribes real and synthetic English speech.

(a) the Free Spoken Digit Dataset test split (real human recordings, one digit each, 8 kHz): digit accuracy;
(b) `SENTENCES` spoken by espeak-ng (en-us, 22.05 kHz): WER and exact-match rate.

Greedy decoding, batched, on CPU. Audio is resampled to 16 kHz with soxr; text is compared lowercased with
punctuation stripped.

    python -m modeling_speechverse.convert.check_whisper [--model DIR] [--fsdd DIR] [--batch-size 16]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import jiwer
import numpy as np
import soundfile as sf
import soxr
import torch
from transformers import WhisperForConditionalGeneration, WhisperProcessor

from ..data.sources import DEFAULT_SOURCES_DIR
from .whisper_ct2 import ensure_whisper_tiny_en

SAMPLING_RATE = 16_000
# The project's own copy of the FSDD test split (data_sources/fsdd, with its licence).
DEFAULT_FSDD_DIR = DEFAULT_SOURCES_DIR / "fsdd" / "recordings"
# The official FSDD test split: recordings 0-4 of every speaker and digit.
FSDD_TEST_INDICES = range(5)

SENTENCES: tuple[str, ...] = (
    "turn on the radio now",
    "what is the weather like in berlin today",
    "set an alarm for tomorrow morning",
    "play some jazz music in the kitchen",
    "remind me to call my mother tonight",
    "how long does it take to drive to the airport",
    "please turn off the lights in the living room",
    "what time does the train leave",
    "send an email to my boss about the meeting",
    "tell me a joke about cats",
    "the quick brown fox jumps over the lazy dog",
    "she sells sea shells by the sea shore",
    "i would like to order a large pizza",
    "where is the nearest coffee shop",
    "add milk and bread to my shopping list",
    "what is on my calendar for friday",
    "make the music a little louder",
    "how do you say thank you in french",
    "the meeting has been moved to next week",
    "please read me the latest news headlines",
    "is it going to rain this afternoon",
    "open the garage door",
    "who won the football game last night",
    "book a table for dinner at seven",
    "the children are playing in the garden",
    "can you recommend a good book to read",
    "stop the timer",
    "what is the capital of australia",
    "my flight has been delayed by an hour",
    "the library closes early on sundays",
)

_DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_DIGIT_OF_TOKEN = {**{word: digit for digit, word in enumerate(_DIGIT_WORDS)}, **{str(d): d for d in range(10)}}


def normalize_text(text: str) -> str:
    """Lowercase, drop punctuation, collapse whitespace: `" Turn on the radio, now."` -> `"turn on the radio now"`."""
    return " ".join(re.sub(r"[^\w\s]", "", text.lower()).split())


def digit_from_text(text: str) -> int | None:
    """First spoken number word or digit in `text` (`"Five."` -> 5, `" 7"` -> 7), else `None`."""
    for token in re.findall(r"[a-z]+|\d", text.lower()):
        if token in _DIGIT_OF_TOKEN:
            return _DIGIT_OF_TOKEN[token]
    return None


def load_audio(path: str | os.PathLike) -> np.ndarray:
    """Read an audio file as mono float32 at 16 kHz; shape `(num_samples,)`."""
    audio, rate = sf.read(path, dtype="float32", always_2d=True)
    return soxr.resample(audio.mean(axis=1), rate, SAMPLING_RATE).astype(np.float32)


def synthesize_espeak(text: str, wav_path: str | os.PathLike, voice: str = "en-us") -> np.ndarray:
    """Speak `text` with espeak-ng into `wav_path` and return it as 16 kHz mono float32."""
    subprocess.run(["espeak-ng", "-v", voice, "-w", str(wav_path), text], check=True, capture_output=True)
    return load_audio(wav_path)


def fsdd_test_split(recordings_dir: str | os.PathLike) -> list[tuple[Path, int, str]]:
    """`(path, digit, speaker)` of every `{digit}_{speaker}_{n}.flac` with n in 0..4, sorted by name."""
    items = []
    for path in sorted(Path(recordings_dir).glob("*.flac")):
        digit, speaker, index = path.stem.split("_")
        if int(index) in FSDD_TEST_INDICES:
            items.append((path, int(digit), speaker))
    if not items:
        raise ValueError(f"no FSDD test recordings ({{digit}}_{{speaker}}_{{0..4}}.flac) in {recordings_dir}")
    return items


@torch.inference_mode()
def transcribe(
    model: WhisperForConditionalGeneration,
    processor: WhisperProcessor,
    audios: Sequence[np.ndarray],
    batch_size: int = 16,
) -> list[str]:
    """Greedy transcription of 16 kHz mono clips (each at most 30 s), `batch_size` clips per `generate`."""
    texts: list[str] = []
    for start in range(0, len(audios), batch_size):
        features = processor.feature_extractor(
            list(audios[start : start + batch_size]), sampling_rate=SAMPLING_RATE, return_tensors="pt"
        ).input_features  # (batch, num_mel_bins, 3000)
        generated = model.generate(features.to(model.device, model.dtype), do_sample=False, num_beams=1)
        texts.extend(processor.batch_decode(generated, skip_special_tokens=True))
    return texts


def check_sentences(
    model: WhisperForConditionalGeneration, processor: WhisperProcessor, batch_size: int
) -> dict[str, object]:
    """WER and exact-match rate on `SENTENCES` spoken by espeak-ng."""
    with tempfile.TemporaryDirectory() as tmp:
        audios = [synthesize_espeak(text, Path(tmp) / f"{i}.wav") for i, text in enumerate(SENTENCES)]
    hypotheses = [normalize_text(text) for text in transcribe(model, processor, audios, batch_size)]
    references = [normalize_text(text) for text in SENTENCES]
    return {
        "sentences": len(references),
        "wer": jiwer.wer(references, hypotheses),
        "exact_match": float(np.mean([h == r for h, r in zip(hypotheses, references)])),
        "errors": [{"reference": r, "hypothesis": h} for r, h in zip(references, hypotheses) if r != h],
    }


def check_fsdd(
    model: WhisperForConditionalGeneration, processor: WhisperProcessor, recordings_dir: Path, batch_size: int
) -> dict[str, object]:
    """Digit accuracy (overall and per speaker) on the FSDD test split."""
    items = fsdd_test_split(recordings_dir)
    hypotheses = transcribe(model, processor, [load_audio(path) for path, _, _ in items], batch_size)
    per_speaker: dict[str, list[bool]] = defaultdict(list)
    confusions: dict[str, int] = defaultdict(int)
    for (_, digit, speaker), hypothesis in zip(items, hypotheses):
        correct = digit_from_text(hypothesis) == digit
        per_speaker[speaker].append(correct)
        if not correct:
            confusions[f"{digit} -> {normalize_text(hypothesis)!r}"] += 1
    all_correct = [c for results in per_speaker.values() for c in results]
    return {
        "clips": len(all_correct),
        "digit_accuracy": float(np.mean(all_correct)),
        "per_speaker_accuracy": {speaker: float(np.mean(r)) for speaker, r in sorted(per_speaker.items())},
        "errors": dict(sorted(confusions.items(), key=lambda item: -item[1])),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="converted folder (default: ensure_whisper_tiny_en())")
    parser.add_argument("--fsdd", type=Path, default=DEFAULT_FSDD_DIR, help="FSDD recordings folder")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args(argv)

    model_dir = args.model or ensure_whisper_tiny_en()
    model = WhisperForConditionalGeneration.from_pretrained(model_dir).eval()
    processor = WhisperProcessor.from_pretrained(model_dir)

    report: dict[str, object] = {"model": str(model_dir), "device": "cpu", "threads": torch.get_num_threads()}
    for name, run in (
        ("espeak_sentences", lambda: check_sentences(model, processor, args.batch_size)),
        ("fsdd_test", lambda: check_fsdd(model, processor, args.fsdd, args.batch_size)),
    ):
        start = time.perf_counter()
        report[name] = {**run(), "seconds": round(time.perf_counter() - start, 1)}
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
