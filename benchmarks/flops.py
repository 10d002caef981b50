"""Analytic FLOP counts of a SpeechVerse training step and of generation, for MFU.

A multiply-add counts as 2 FLOPs. Counted: every matrix multiply and convolution of the frozen encoder forward,
the LLM forward, the LLM backward for input gradients only (its weights are frozen: about one more forward), and the
downsampler forward plus its full backward (input and weight gradients: two more forwards). Layer norms, softmaxes,
activations and LoRA's rank-r products are left out: together they are well under 1% at the paper's scale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from modeling_speechverse import SpeechVerseConfig


@dataclass(frozen=True)
class StepShape:
    """One sample's sizes: seconds of 16 kHz audio, instruction tokens, target tokens."""

    audio_seconds: float
    prompt_tokens: int
    target_tokens: int


def _conv_out(length: int, kernel: int, stride: int, padding: int = 0) -> int:
    return (length + 2 * padding - kernel) // stride + 1


def _transformer_layer(tokens: int, hidden: int, ffn: int, ffn_matrices: int, attention_width: int) -> float:
    """Self-attention (q, k, v, o projections and the two attention products) plus the feed-forward block."""
    projections = 2 * tokens * hidden * attention_width * 4
    attention = 2 * 2 * tokens * tokens * attention_width
    feed_forward = 2 * tokens * hidden * ffn * ffn_matrices
    return projections + attention + feed_forward


def encoder_frames(config: SpeechVerseConfig, audio_seconds: float) -> int:
    """Encoder output frames for a clip (Whisper always encodes its fixed 30 s window)."""
    audio = config.audio_config
    if audio.model_type == "whisper":
        return audio.max_source_positions
    length = int(round(audio_seconds * 16000))
    for kernel, stride in zip(audio.conv_kernel, audio.conv_stride):
        length = _conv_out(length, kernel, stride)
    return length


def audio_encoder_flops(config: SpeechVerseConfig, audio_seconds: float) -> float:
    """Forward FLOPs of the frozen audio encoder on one clip."""
    audio = config.audio_config
    if audio.model_type == "whisper":
        frames_in = 2 * audio.max_source_positions
        convs = 2 * frames_in * audio.num_mel_bins * audio.d_model * 3
        convs += 2 * audio.max_source_positions * audio.d_model * audio.d_model * 3
        layer = _transformer_layer(audio.max_source_positions, audio.d_model, audio.encoder_ffn_dim, 2, audio.d_model)
        return convs + audio.encoder_layers * layer
    length, channels, flops = int(round(audio_seconds * 16000)), 1, 0.0
    for dim, kernel, stride in zip(audio.conv_dim, audio.conv_kernel, audio.conv_stride):
        length = _conv_out(length, kernel, stride)
        flops += 2 * length * channels * dim * kernel
        channels = dim
    hidden = audio.hidden_size
    flops += 2 * length * channels * hidden  # feature projection
    groups = audio.num_conv_pos_embedding_groups
    flops += 2 * length * hidden * (hidden // groups) * audio.num_conv_pos_embeddings
    layer = _transformer_layer(length, hidden, audio.intermediate_size, 2, hidden)
    return flops + audio.num_hidden_layers * layer


def downsampler_flops(config: SpeechVerseConfig, frames: int) -> tuple[float, int]:
    """Forward FLOPs of the convolution blocks and the number of audio tokens they emit."""
    flops, channels = 0.0, config.audio_hidden_size
    for kernel, stride in zip(config.downsampler_kernel_sizes, config.downsampler_strides):
        frames = _conv_out(frames, kernel, stride, kernel // 2)
        flops += 2 * frames * channels * config.text_hidden_size * kernel
        channels = config.text_hidden_size
    return flops, frames


def language_model_flops(config: SpeechVerseConfig, input_tokens: int, target_tokens: int) -> float:
    """Forward FLOPs of the LLM: encoder over audio + instruction, decoder over the target (T5), or one causal pass."""
    text = config.text_config
    vocab = text.vocab_size
    if config.is_encoder_decoder_llm:
        width = text.num_heads * text.d_kv
        ffn_matrices = 3 if text.is_gated_act else 2
        encoder = text.num_layers * _transformer_layer(input_tokens, text.d_model, text.d_ff, ffn_matrices, width)
        self_attention = _transformer_layer(target_tokens, text.d_model, 0, 0, width)
        cross = 2 * target_tokens * text.d_model * width * 2 + 2 * input_tokens * text.d_model * width * 2
        cross += 2 * 2 * target_tokens * input_tokens * width
        feed_forward = 2 * target_tokens * text.d_model * text.d_ff * ffn_matrices
        decoder = text.num_decoder_layers * (self_attention + cross + feed_forward)
        return encoder + decoder + 2 * target_tokens * text.d_model * vocab
    tokens = input_tokens + target_tokens
    hidden = text.hidden_size
    ffn = getattr(text, "intermediate_size", None) or 4 * hidden
    ffn_matrices = 3 if text.model_type in ("llama", "qwen2", "mistral") else 2
    layer = _transformer_layer(tokens, hidden, ffn, ffn_matrices, hidden)
    return text.num_hidden_layers * layer + 2 * tokens * hidden * vocab


def train_step_flops(config: SpeechVerseConfig, shape: StepShape) -> float:
    """FLOPs of one training sample: frozen encoder forward, downsampler forward+backward, LLM forward+input-grad."""
    frames = encoder_frames(config, shape.audio_seconds)
    down, audio_tokens = downsampler_flops(config, frames)
    llm = language_model_flops(config, audio_tokens + shape.prompt_tokens, shape.target_tokens)
    return audio_encoder_flops(config, shape.audio_seconds) + 3 * down + 2 * llm


def model_flops_utilization(flops_per_sample: float, samples_per_second: float, peak_flops: float) -> float:
    """Achieved FLOP/s over the device's peak."""
    if peak_flops <= 0 or not math.isfinite(peak_flops):
        raise ValueError(f"peak_flops must be a positive number, got {peak_flops}")
    return flops_per_sample * samples_per_second / peak_flops


# bf16 matrix-multiply rates by substring of `torch.cuda.get_device_name()`: for Hopper the ~790 TFLOP/s that dense
# bf16 matmuls reach in practice (the figure the project's speed targets use), elsewhere the datasheet dense peak.
PEAK_BF16_FLOPS = {"H200": 790e12, "H100": 790e12, "A100": 312e12, "L40S": 362e12, "A10G": 125e12}
