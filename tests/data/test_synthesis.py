"""Audio building blocks: espeak-ng synthesis, emotion prosody, non-speech generators, audio checks, voices."""

from __future__ import annotations

import numpy as np
import pytest

from modeling_speechverse.data.audio import BadAudioError, encode_flac, read_audio
from modeling_speechverse.data.nonspeech import NONSPEECH_KINDS, add_background_noise, make_nonspeech
from modeling_speechverse.data.planning import EMOTION_PROSODY
from modeling_speechverse.data.tts import synthesize
from modeling_speechverse.data.voices import ACCENTS, TEST_VARIANTS, accent_of, voices_for_split

TEXT = "A man in a blue shirt is standing on a ladder."


def _rms(waveform: np.ndarray) -> float:
    return float(np.sqrt(np.mean(waveform**2)))


def test_synthesis_is_deterministic_16khz_speech():
    first = synthesize(TEXT, "en-gb-scotland+f2", speed=170, pitch=45)
    second = synthesize(TEXT, "en-gb-scotland+f2", speed=170, pitch=45)
    assert first.dtype == np.float32 and np.array_equal(first, second)
    assert 1.5 < first.size / 16000 < 5.0
    assert not np.array_equal(first[:16000], synthesize(TEXT, "en-us+m3", speed=170, pitch=45)[:16000])


def test_text_is_escaped_not_parsed_as_markup_or_flags():
    waveform = synthesize("--help <b>Tom & Jerry</b>", "en-us+f1")
    assert waveform.size > 8000


def test_emotion_prosody_changes_loudness_and_rate():
    def render(emotion: str) -> np.ndarray:
        middle = {name: (low + high) // 2 for name, (low, high) in EMOTION_PROSODY[emotion].items()}
        prosody = {
            "pitch": f"{middle['pitch']:+d}%",
            "range": f"{middle['range']:+d}%",
            "rate": f"{middle['rate']}%",
            "volume": f"{middle['volume']:+d}%",
        }
        return synthesize(TEXT, "en-us+m2", speed=165, pitch=50, prosody=prosody)

    neutral, happy, sad, angry = (render(emotion) for emotion in ("neutral", "happy", "sad", "angry"))
    assert _rms(angry) > _rms(neutral) > _rms(sad)
    assert sad.size > neutral.size > angry.size
    assert happy.size < neutral.size


@pytest.mark.parametrize("kind", NONSPEECH_KINDS)
def test_nonspeech_is_seeded_and_sized(kind):
    clip = make_nonspeech(kind, 1.5, seed=3)
    assert clip.shape == (24000,) and clip.dtype == np.float32
    assert np.array_equal(clip, make_nonspeech(kind, 1.5, seed=3))
    assert not np.array_equal(clip, make_nonspeech(kind, 1.5, seed=4))
    assert np.max(np.abs(clip)) <= 1.0 and _rms(clip) > 0


def test_background_noise_snr():
    speech = synthesize(TEXT, "en-029+f3")
    noisy = add_background_noise(speech, snr_db=10.0, seed=0)
    measured = 20 * np.log10(_rms(speech) / _rms(noisy - speech))
    assert abs(measured - 10.0) < 0.5


def test_read_audio_rejects_bad_files(tmp_path):
    tone = (0.3 * np.sin(np.arange(8000) / 8000 * 2 * np.pi * 300)).astype(np.float32)
    good = encode_flac(tone, 8000)
    assert read_audio(good, expected_sampling_rate=8000).shape == (16000,)
    cases = {
        "unreadable": b"not audio at all",
        "empty": encode_flac(np.zeros(800, dtype=np.float32), 8000),
        "wrong_sampling_rate": encode_flac(tone, 4000),
    }
    for reason, data in cases.items():
        with pytest.raises(BadAudioError) as error:
            read_audio(data)
        assert error.value.reason == reason
    with pytest.raises(BadAudioError, match="expected 16000"):
        read_audio(good, expected_sampling_rate=16000)
    (tmp_path / "missing.flac").write_bytes(b"")
    with pytest.raises(BadAudioError, match="cannot decode"):
        read_audio(tmp_path / "missing.flac")


def test_voice_inventory_reserves_test_variants():
    train, test = set(voices_for_split("train")), set(voices_for_split("test"))
    assert not train & test and set(voices_for_split("validation")) == train
    assert {accent_of(v) for v in train} == {accent_of(v) for v in test} == set(ACCENTS.values())
    assert {v.split("+")[1] for v in test} == set(TEST_VARIANTS)
    with pytest.raises(ValueError, match="unknown split"):
        voices_for_split("dev")
