"""Shared fixtures: tiny random SpeechVerse models over every supported backbone family."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from modeling_speechverse import SpeechVerseConfig, SpeechVerseForConditionalGeneration, SpeechVerseProcessor
from modeling_speechverse.testing_utils import (
    save_tiny_backbones,
    tiny_audio_config,
    tiny_feature_extractor,
    tiny_t5_tokenizer,
    tiny_text_config,
)

AUDIO_FAMILIES = ("wavlm", "wav2vec2", "hubert", "whisper")
TEXT_FAMILIES = ("t5", "llama")


def make_tiny(audio: str = "wavlm", text: str = "t5", seed: int = 0, **config_kwargs):
    """A tiny random SpeechVerse model and its processor."""
    torch.manual_seed(seed)
    config_kwargs.setdefault("lora_rank", 4)
    config = SpeechVerseConfig.from_backbones(tiny_audio_config(audio), tiny_text_config(text), **config_kwargs)
    model = SpeechVerseForConditionalGeneration(config).eval()
    processor = SpeechVerseProcessor(tiny_feature_extractor(audio), tiny_t5_tokenizer(), max_audio_seconds=2.5)
    return model, processor


def tone(seconds: float, freq: float = 440.0, sampling_rate: int = 16000) -> np.ndarray:
    t = np.arange(int(seconds * sampling_rate)) / sampling_rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.fixture
def tiny_t5():
    return make_tiny("wavlm", "t5")


@pytest.fixture
def tiny_causal():
    return make_tiny("wavlm", "llama")


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory):
    """A saved adapter-only checkpoint folder (model + processor) over tiny backbones in local folders."""
    work = tmp_path_factory.mktemp("tiny-checkpoint")
    audio_id, text_id = save_tiny_backbones(work)
    torch.manual_seed(0)
    config = SpeechVerseConfig.from_backbones(audio_id, text_id, lora_rank=4, max_audio_frames=1500)
    model = SpeechVerseForConditionalGeneration.from_backbones(config=config)
    processor = SpeechVerseProcessor.from_backbones(audio_id, text_id, max_audio_seconds=config.max_audio_seconds)
    model.save_pretrained(work / "model")
    processor.save_pretrained(work / "model")
    return work / "model"
