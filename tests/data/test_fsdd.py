"""FSDD real-speech evaluation set: ASR + KWS rows at 16 kHz, and bad recordings skipped with a warning."""

from __future__ import annotations

import io
import shutil
import warnings

import datasets
import numpy as np
import pytest
import soundfile as sf

from modeling_speechverse.data.audio import encode_flac
from modeling_speechverse.data.fsdd import DEFAULT_FSDD_DIR, DIGIT_WORDS, build_fsdd


def _undecoded(dataset):
    return list(dataset.cast_column("audio", datasets.Audio(decode=False)))


def test_fsdd_test_split_as_asr_and_kws():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the committed recordings are all clean
        corpus = build_fsdd()
    rows = _undecoded(corpus["test"])
    asr = [row for row in rows if row["task"] == "ASR"]
    kws = [row for row in rows if row["task"] == "KWS"]
    assert len(asr) == len(kws) == 300
    for row in asr:
        digit, speaker, index = row["id"].removeprefix("fsdd-asr-").split("_")
        assert row["target"] == row["transcript"] == DIGIT_WORDS[int(digit)]
        assert row["voice"] == speaker and int(index) < 5 and row["accent"]
        info = sf.info(io.BytesIO(row["audio"]["bytes"]))
        assert info.samplerate == 16000 and abs(info.frames / 16000 - row["duration"]) < 1e-3
    assert sum(row["target"] == "yes" for row in kws) == 210
    for row in kws:
        assert (row["keyword"] == row["transcript"]) == (row["target"] == "yes")
        assert row["keyword"] in DIGIT_WORDS and row["labels"] == ["yes", "no"]


def test_bad_recordings_are_skipped_with_a_count(tmp_path):
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    good = ["0_george_0.flac", "7_jackson_3.flac", "9_theo_4.flac"]
    for name in good:
        shutil.copyfile(DEFAULT_FSDD_DIR / "recordings" / name, recordings / name)
    tone = (0.3 * np.sin(np.arange(4000) / 8000 * 2 * np.pi * 300)).astype(np.float32)
    (recordings / "1_george_1.flac").write_bytes(b"\x00garbage, not a flac file")
    (recordings / "2_george_2.flac").write_bytes(b"")
    (recordings / "3_george_3.flac").write_bytes(encode_flac(np.zeros(4000, dtype=np.float32), 8000))
    (recordings / "4_george_4.flac").write_bytes(encode_flac(tone, 44100))
    (recordings / "unlabelled_take.flac").write_bytes(encode_flac(tone, 8000))
    (recordings / "5_george_40.flac").write_bytes(b"training split: ignored, not counted")

    with pytest.warns(
        UserWarning,
        match=r"fsdd: skipped 5 of 8 items \(empty=1, missing_label=1, "
        r"unreadable=2, wrong_sampling_rate=1\)",
    ):
        corpus = build_fsdd(tmp_path)
    ids = sorted({row["id"].split("-", 2)[2] for row in _undecoded(corpus["test"])})
    assert ids == sorted(name.removesuffix(".flac") for name in good)
    assert corpus["test"]["accent"] == [""] * 6  # no speakers.json here


def test_folder_without_usable_recordings_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="no recordings/ folder"):
        build_fsdd(tmp_path)
    (tmp_path / "recordings").mkdir()
    (tmp_path / "recordings" / "1_x_1.flac").write_bytes(b"junk")
    with pytest.warns(UserWarning, match="unreadable=1"), pytest.raises(ValueError, match="no usable FSDD"):
        build_fsdd(tmp_path)
