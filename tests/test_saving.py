"""Checkpoints: adapter-only saves that find their backbones by id, full saves, and Hub remote code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch
from conftest import make_tiny, tone
from safetensors.torch import load_file

from modeling_speechverse import SpeechVerseConfig, SpeechVerseForConditionalGeneration
from modeling_speechverse.modeling_speechverse import build_audio_encoder, language_model_class
from modeling_speechverse.testing_utils import tiny_audio_config, tiny_text_config


def trained_a_little(model, processor):
    """Move the adapters off their initial values so a round trip that drops them would show."""
    with torch.no_grad():
        for name, param in model.named_parameters():
            if param.requires_grad:
                param.add_(0.05 * torch.randn_like(param))
    return model


def logits(model, processor):
    inputs = processor(audio=[tone(0.7)], sampling_rate=16000, text=["Transcribe the audio"], text_target=["hi"])
    with torch.no_grad():
        return model(**inputs).logits


@pytest.fixture
def model_with_backbones(tmp_path):
    """A tiny model whose config names backbones saved to local folders, as a real checkpoint names Hub ids."""
    _, processor = make_tiny()
    torch.manual_seed(0)
    config = SpeechVerseConfig.from_backbones(tiny_audio_config("wavlm"), tiny_text_config("t5"), lora_rank=4)
    audio_encoder = build_audio_encoder(config.audio_config)
    language_model = language_model_class(config.text_config).from_config(config.text_config)
    audio_encoder.save_pretrained(tmp_path / "audio-backbone")
    language_model.save_pretrained(tmp_path / "text-backbone")
    config.audio_backbone_id = str(tmp_path / "audio-backbone")
    config.text_backbone_id = str(tmp_path / "text-backbone")
    model = SpeechVerseForConditionalGeneration(config, audio_encoder=audio_encoder, language_model=language_model)
    return trained_a_little(model.eval(), processor), processor


def test_adapter_checkpoint_holds_only_trainable_weights(model_with_backbones, tmp_path):
    model, processor = model_with_backbones
    model.save_pretrained(tmp_path / "ckpt")
    saved = load_file(tmp_path / "ckpt" / "model.safetensors")
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    assert set(saved) == trainable
    assert not any(f.endswith(".bin") for f in os.listdir(tmp_path / "ckpt"))
    loaded = SpeechVerseForConditionalGeneration.from_pretrained(tmp_path / "ckpt")
    assert torch.equal(logits(model, processor), logits(loaded, processor))


def test_full_checkpoint_round_trip(tmp_path):
    model, processor = make_tiny()
    trained_a_little(model, processor)
    model.save_pretrained(tmp_path / "full", save_full=True)
    loaded = SpeechVerseForConditionalGeneration.from_pretrained(tmp_path / "full")
    assert json.loads((tmp_path / "full" / "config.json").read_text())["checkpoint_contents"] == "full"
    assert torch.equal(logits(model, processor), logits(loaded, processor))


def test_without_backbone_ids_saves_everything(tmp_path):
    model, _ = make_tiny()
    model.save_pretrained(tmp_path / "ckpt")
    assert model.config.checkpoint_contents == "full"
    assert any(k.startswith("audio_encoder.") for k in load_file(tmp_path / "ckpt" / "model.safetensors"))


def test_backbone_mismatch_is_a_clear_error(model_with_backbones, tmp_path):
    model, _ = model_with_backbones
    model.save_pretrained(tmp_path / "ckpt")
    bigger_text = tiny_text_config("t5")
    bigger_text.d_model = 48
    language_model_class(bigger_text).from_config(bigger_text).save_pretrained(tmp_path / "text-backbone")
    with pytest.raises(ValueError, match="does not match this checkpoint's config"):
        SpeechVerseForConditionalGeneration.from_pretrained(tmp_path / "ckpt")


def test_remote_code_load_without_the_package(model_with_backbones, tmp_path):
    """A saved folder is a Hub repo with custom code: it loads where `modeling_speechverse` cannot be imported."""
    model, processor = model_with_backbones
    folder = tmp_path / "repo"
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    config = json.loads((folder / "config.json").read_text())
    assert config["auto_map"]["AutoModel"].endswith("SpeechVerseForConditionalGeneration")
    # One thread on both sides: a different thread count changes float summation order, not the model.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.save(logits(model, processor), tmp_path / "expected.pt")
    finally:
        torch.set_num_threads(threads)
    script = textwrap.dedent(
        f"""
        import sys
        sys.modules["modeling_speechverse"] = None  # make the installed package unimportable
        import numpy as np, torch
        torch.set_num_threads(1)
        from transformers import AutoConfig, AutoModel, AutoProcessor
        folder = {str(folder)!r}
        config = AutoConfig.from_pretrained(folder, trust_remote_code=True)
        model = AutoModel.from_pretrained(folder, trust_remote_code=True)
        processor = AutoProcessor.from_pretrained(folder, trust_remote_code=True)
        assert type(model).__module__.startswith("transformers_modules"), type(model).__module__
        t = np.arange(int(0.7 * 16000)) / 16000
        clip = (0.5 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32)
        inputs = processor(audio=[clip], sampling_rate=16000, text=["Transcribe the audio"], text_target=["hi"])
        with torch.no_grad():
            got = model(**inputs).logits
        expected = torch.load({str(tmp_path / "expected.pt")!r})
        assert torch.equal(got, expected), (got - expected).abs().max()
        inputs.pop("labels")
        print(processor.batch_decode(model.generate(**inputs, max_new_tokens=4), skip_special_tokens=True))
        print("REMOTE-OK")
        """
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_MODULES_CACHE": str(tmp_path / "modules")}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert "REMOTE-OK" in result.stdout, result.stderr[-3000:]
