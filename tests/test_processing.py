"""The processor: audio from files, arrays and tensors at any rate and channel count; errors; save/load."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile
import torch
from conftest import make_tiny, tone

from modeling_speechverse import SpeechVerseProcessor


@pytest.fixture
def processor():
    return make_tiny()[1]


def test_paths_arrays_tensors_give_the_same_features(processor, tmp_path):
    clip = tone(0.5)
    path = tmp_path / "clip.wav"
    soundfile.write(path, clip, 16000, subtype="FLOAT")
    from_array = processor(audio=clip, sampling_rate=16000)["input_features"]
    from_tensor = processor(audio=torch.from_numpy(clip), sampling_rate=16000)["input_features"]
    from_path = processor(audio=str(path))["input_features"]
    assert torch.allclose(from_array, from_tensor) and torch.allclose(from_array, from_path, atol=1e-6)


def test_resamples_and_downmixes(processor):
    clip_8k = tone(0.5, sampling_rate=8000)
    out = processor(audio=clip_8k, sampling_rate=8000)
    assert out["input_features"].shape[-1] == 8000  # 0.5 s at 16 kHz
    stereo = np.stack([tone(0.5), tone(0.5)])
    mono = processor(audio=tone(0.5), sampling_rate=16000)["input_features"]
    assert torch.allclose(processor(audio=stereo, sampling_rate=16000)["input_features"], mono, atol=1e-6)
    assert torch.allclose(processor(audio=stereo.T.copy(), sampling_rate=16000)["input_features"], mono, atol=1e-6)


def test_batch_of_different_lengths_has_masks_and_labels(processor):
    out = processor(
        audio=[tone(1.0), tone(0.25)], sampling_rate=16000, text=["Transcribe the audio", "Count speakers"],
        text_target=["turn on the radio", "one"],
    )
    assert out["feature_attention_mask"].sum(-1).tolist() == [16000, 4000]
    assert out["input_ids"].shape[0] == 2 and out["attention_mask"].shape == out["input_ids"].shape
    labels = out["labels"]
    assert (labels[1] == -100).any() and not (labels[0] == -100).any()
    eos = processor.tokenizer.eos_token_id
    assert labels[1][labels[1] != -100][-1] == eos
    decoded = processor.batch_decode(labels.masked_fill(labels == -100, 0), skip_special_tokens=True)
    assert decoded == ["turn on the radio", "one"]


@pytest.mark.parametrize(
    "audio, sampling_rate, message",
    [
        (np.zeros(0, dtype=np.float32), 16000, "empty audio"),
        (np.zeros(16000, dtype=np.float32), 16000, "silent"),
        (np.array([0.1, np.nan, 0.2], dtype=np.float32), 16000, "NaN"),
        (tone(3.0), 16000, "exceeds the model's limit"),
        (tone(0.5), 0, "sampling_rate must be a positive integer"),
        (tone(0.5), None, "Pass `sampling_rate`"),
        (np.ones((20, 20, 20), dtype=np.float32), 16000, "must be 1-D"),
    ],
)
def test_bad_audio_raises_clear_error(processor, audio, sampling_rate, message):
    with pytest.raises(ValueError, match=message):
        processor(audio=audio, sampling_rate=sampling_rate, text="Transcribe the audio")


def test_mismatched_batch_sizes_and_unreadable_files(processor, tmp_path):
    with pytest.raises(ValueError, match="2 audio clips but 1 instructions"):
        processor(audio=[tone(0.5), tone(0.5)], sampling_rate=16000, text=["Transcribe the audio"])
    junk = tmp_path / "notes.wav"
    junk.write_text("not audio")
    with pytest.raises(ValueError, match="Could not read audio file"):
        processor(audio=str(junk), text="Transcribe the audio")


def test_save_load_round_trip(processor, tmp_path):
    processor.save_pretrained(tmp_path)
    loaded = SpeechVerseProcessor.from_pretrained(tmp_path)
    assert loaded.max_audio_seconds == processor.max_audio_seconds
    kwargs = dict(audio=[tone(0.5)], sampling_rate=16000, text=["Transcribe the audio"])
    for key, value in processor(**kwargs).items():
        assert torch.equal(value, loaded(**kwargs)[key])
