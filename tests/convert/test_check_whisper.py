"""Scoring helpers of the Whisper conversion check (the model itself is exercised in test_whisper_ct2.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from modeling_speechverse.convert.check_whisper import digit_from_text, fsdd_test_split, load_audio, normalize_text


def test_normalize_text_lowercases_and_strips_punctuation():
    assert normalize_text(" Turn on the radio, now.") == "turn on the radio now"
    assert normalize_text("It's  ready!") == "its ready"


@pytest.mark.parametrize(
    ("hypothesis", "digit"),
    [(" Five.", 5), (" 7", 7), ("Zero!", 0), (" Number eight", 8), (" for", None), (" Bye.", None)],
)
def test_digit_from_text_reads_number_words_and_digits(hypothesis: str, digit: int | None):
    assert digit_from_text(hypothesis) == digit


def test_fsdd_test_split_keeps_recordings_0_to_4(tmp_path: Path):
    for name in ("3_theo_0", "3_theo_4", "3_theo_5", "7_lucas_12", "7_lucas_2"):
        (tmp_path / f"{name}.flac").touch()
    assert [(p.stem, d, s) for p, d, s in fsdd_test_split(tmp_path)] == [
        ("3_theo_0", 3, "theo"),
        ("3_theo_4", 3, "theo"),
        ("7_lucas_2", 7, "lucas"),
    ]


def test_fsdd_test_split_without_recordings_raises(tmp_path: Path):
    with pytest.raises(ValueError, match="no FSDD test recordings"):
        fsdd_test_split(tmp_path)


def test_load_audio_resamples_8khz_stereo_to_16khz_mono(tmp_path: Path):
    t = np.arange(8000) / 8000
    tone = np.sin(2 * np.pi * 440 * t).astype(np.float32)
    sf.write(tmp_path / "tone.flac", np.stack([tone, tone], axis=1), 8000)
    audio = load_audio(tmp_path / "tone.flac")
    assert audio.dtype == np.float32 and audio.shape == (16000,)
    spectrum = np.abs(np.fft.rfft(audio))
    assert np.argmax(spectrum) == 440  # 1 Hz bins over one second
