"""The FLOP formula behind the benchmarks' MFU, against hand counts."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from flops import StepShape, model_flops_utilization, train_step_flops  # noqa: E402

from modeling_speechverse import SpeechVerseConfig  # noqa: E402
from modeling_speechverse.testing_utils import tiny_audio_config, tiny_text_config  # noqa: E402


def test_tiny_step_matches_a_hand_count():
    config = SpeechVerseConfig.from_backbones(tiny_audio_config("wavlm"), tiny_text_config("t5"))
    # Encoder on 1 s: conv lengths 3199, 399, 49 frames (kernels 10/8/8, strides 5/8/8, 16 channels).
    convs = 2 * 3199 * 1 * 16 * 10 + 2 * 399 * 16 * 16 * 8 + 2 * 49 * 16 * 16 * 8
    projection = 2 * 49 * 16 * 32
    positional_conv = 2 * 49 * 32 * 16 * 16  # 32 channels, 2 groups, kernel 16
    layer = 2 * 49 * 32 * 32 * 4 + 4 * 49 * 49 * 32 + 2 * 49 * 32 * 64 * 2
    encoder = convs + projection + positional_conv + 2 * layer
    # Downsampler 49 -> 25 -> 13 frames, 32 -> 32 channels, kernel 3; forward + full backward = 3 forwards.
    downsampler = 3 * (2 * 25 * 32 * 32 * 3 + 2 * 13 * 32 * 32 * 3)
    # T5: 13 audio + 5 prompt = 18 encoder tokens, 4 target tokens, width 32, gated FFN 64, vocab 256.
    t5_encoder = 2 * (2 * 18 * 32 * 32 * 4 + 4 * 18 * 18 * 32 + 2 * 18 * 32 * 64 * 3)
    self_attention = 2 * 4 * 32 * 32 * 4 + 4 * 4 * 4 * 32
    cross_attention = 2 * 4 * 32 * 32 * 2 + 2 * 18 * 32 * 32 * 2 + 4 * 4 * 18 * 32
    t5_decoder = 2 * (self_attention + cross_attention + 2 * 4 * 32 * 64 * 3)
    lm_head = 2 * 4 * 32 * 256
    llm_forward_and_input_backward = 2 * (t5_encoder + t5_decoder + lm_head)
    expected = encoder + downsampler + llm_forward_and_input_backward
    assert train_step_flops(config, StepShape(1.0, 5, 4)) == expected


def test_paper_scale_sample_is_about_1_4_tflop():
    config = SpeechVerseConfig.from_preset("multitask-wlm", layer_weighting="all")
    flops = train_step_flops(config, StepShape(10.0, 30, 30))
    assert 1.35e12 < flops < 1.5e12  # the count: ~1.4 TFLOP, ~560 samples/s at 790 TFLOP/s
    assert model_flops_utilization(flops, 94, 790e12) == pytest.approx(0.17, abs=0.01)  # reference at B=64
    with pytest.raises(ValueError, match="peak_flops"):
        model_flops_utilization(flops, 1.0, 0)
