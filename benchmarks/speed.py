"""Training-step and generate() speed of SpeechVerse against the plain reference loop, in one process.

The SpeechVerse side runs the code path of `train.py`: the model's own forward (layer weighting, masked downsampler,
gap-free packing), `accelerator.backward` and the optimizer step, on length-grouped batches padded to their own
longest clip. The reference side is `reference_loop.py`'s method (all hidden states stacked, every clip padded to the
batch's longest, no masks), parametrised by the same configs so the two can also run tiny on a CPU.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from modeling_speechverse import SpeechVerseConfig, SpeechVerseForConditionalGeneration
from modeling_speechverse.data.pipeline import LengthGroupedBatchSampler, padding_fraction

from flops import PEAK_BF16_FLOPS, StepShape, model_flops_utilization, train_step_flops

SAMPLING_RATE = 16000


@dataclass(frozen=True)
class Levers:
    """Speed levers of the SpeechVerse side (see docs/benchmarks.md for each one's predicted and measured gain)."""

    compile: bool = False
    gradient_checkpointing: bool = False
    fused_adamw: bool = False
    static_cache: bool = False


@dataclass
class Measurement:
    """Timings of one system on one workload; derived figures are properties."""

    system: str
    workload: str
    batch_size: int
    seconds_per_step: float
    audio_seconds_per_step: float
    flops_per_step: float
    peak_memory_gib: float | None
    peak_flops: float | None = None
    padding: float | None = None
    extra: dict = field(default_factory=dict)

    @property
    def samples_per_second(self) -> float:
        return self.batch_size / self.seconds_per_step

    @property
    def audio_hours_per_gpu_hour(self) -> float:
        return self.audio_seconds_per_step / self.seconds_per_step

    @property
    def mfu(self) -> float | None:
        if not self.peak_flops:
            return None
        return model_flops_utilization(self.flops_per_step, 1.0 / self.seconds_per_step, self.peak_flops)


def clip_lengths(workload: str, count: int, seed: int = 0) -> list[float]:
    """`fixed10`: 10 s clips; `mix`: LibriSpeech-like durations, mean ~12 s, clipped to 2-20 s."""
    if workload == "fixed10":
        return [10.0] * count
    if workload == "mix":
        rng = random.Random(seed)
        return [round(min(20.0, max(2.0, rng.gauss(12.0, 5.0))), 2) for _ in range(count)]
    raise ValueError(f"unknown workload {workload!r}; use 'fixed10' or 'mix'")


def peak_flops_of(device: torch.device) -> float | None:
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    return next((peak for key, peak in PEAK_BF16_FLOPS.items() if key in name), None)


def _waveforms(lengths: list[float], pad_to: float, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    samples = int(pad_to * SAMPLING_RATE)
    audio = torch.randn(len(lengths), samples, generator=generator)
    mask = torch.zeros(len(lengths), samples, dtype=torch.long)
    for row, seconds in enumerate(lengths):
        mask[row, : int(seconds * SAMPLING_RATE)] = 1
    return audio * mask, mask


def make_batches(
    lengths: list[float], batch_size: int, grouped: bool, prompt_tokens: int, target_tokens: int, vocab: int, seed: int
) -> tuple[list[dict[str, torch.Tensor]], float]:
    """Model-input batches over a pool of clip lengths, and their padding fraction. `grouped`: length-grouped batches
    (the project's sampler); otherwise batches in the pool's random order (the reference)."""
    if grouped:
        order = LengthGroupedBatchSampler(lengths, batch_size, seed=seed).batches()
    else:
        order = [list(range(i, min(i + batch_size, len(lengths)))) for i in range(0, len(lengths), batch_size)]
    generator = torch.Generator().manual_seed(seed)
    batches = []
    for rows in order:
        clip = [lengths[i] for i in rows]
        audio, mask = _waveforms(clip, max(clip), generator)
        batches.append(
            {
                "input_features": audio,
                "feature_attention_mask": mask,
                "input_ids": torch.randint(2, vocab, (len(rows), prompt_tokens), generator=generator),
                "attention_mask": torch.ones(len(rows), prompt_tokens, dtype=torch.long),
                "labels": torch.randint(2, vocab, (len(rows), target_tokens), generator=generator),
            }
        )
    return batches, padding_fraction(lengths, order)


def build_speechverse(config: SpeechVerseConfig, device: torch.device, dtype: torch.dtype, levers: Levers):
    """A random-weight SpeechVerse model: frozen backbones in `dtype`, trainable parts in float32 (as in training)."""
    model = SpeechVerseForConditionalGeneration(config)
    model.audio_encoder.to(dtype)
    model.language_model.to(dtype)
    for name, parameter in model.named_parameters():
        if parameter.requires_grad:
            parameter.data = parameter.data.float()
    model.to(device)
    if levers.gradient_checkpointing:
        model.language_model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    if levers.compile:
        model.audio_encoder.compile(dynamic=True)
        model.language_model.compile(dynamic=True)
    return model


def speechverse_step(model, device: torch.device, dtype: torch.dtype, levers: Levers) -> Callable[[dict], None]:
    """One training step exactly as the trainer takes it: forward, `accelerator.backward`, optimizer step."""
    from accelerate import Accelerator

    accelerator = Accelerator(cpu=device.type == "cpu", mixed_precision="bf16" if dtype == torch.bfloat16 else "no")
    parameters = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(parameters, lr=1e-4, fused=levers.fused_adamw and device.type == "cuda")
    model.train()

    def step(batch: dict[str, torch.Tensor]) -> None:
        batch = {k: v.to(device) for k, v in batch.items()}
        with accelerator.autocast():
            loss = model(**batch).loss
        accelerator.backward(loss)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    return step


class _ReferenceDownsampler(nn.Module):
    def __init__(self, config: SpeechVerseConfig):
        super().__init__()
        blocks, channels = [], config.audio_hidden_size
        for kernel, stride in zip(config.downsampler_kernel_sizes, config.downsampler_strides):
            blocks += [nn.Conv1d(channels, config.text_hidden_size, kernel, stride=stride, padding=kernel // 2),
                       nn.LayerNorm(config.text_hidden_size)]
            channels = config.text_hidden_size
        self.blocks = nn.ModuleList(blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv, norm in zip(self.blocks[::2], self.blocks[1::2]):
            x = norm(conv(x.transpose(1, 2)).transpose(1, 2))
        return x


def reference_parts(config: SpeechVerseConfig, device: torch.device, dtype: torch.dtype):
    """The reference loop's modules (`reference_loop.py`), built from `config`'s backbone shapes."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModel, T5ForConditionalGeneration

    encoder = AutoModel.from_config(config.audio_config).to(device, dtype).eval().requires_grad_(False)
    llm = T5ForConditionalGeneration(config.text_config).to(device, dtype).requires_grad_(False)
    llm = get_peft_model(llm, LoraConfig(r=config.lora_rank, lora_alpha=config.lora_alpha,
                                         target_modules=config.lora_target_modules, lora_dropout=0.0))
    down = _ReferenceDownsampler(config).to(device, dtype)
    layer_logits = nn.Parameter(torch.zeros(config.num_audio_layers, device=device))
    return encoder, llm, down, layer_logits


def reference_features(encoder, llm, down, layer_logits, batch, dtype):
    with torch.no_grad():
        hidden = torch.stack(encoder(batch["input_features"].to(dtype), output_hidden_states=True).hidden_states[1:], 0)
    weights = torch.softmax(layer_logits, 0).to(dtype)
    features = down((weights[:, None, None, None] * hidden).sum(0))
    return torch.cat([features, llm.get_input_embeddings()(batch["input_ids"])], 1)


def reference_step(config: SpeechVerseConfig, device: torch.device, dtype: torch.dtype) -> Callable[[dict], None]:
    encoder, llm, down, layer_logits = reference_parts(config, device, dtype)
    parameters = [p for p in llm.parameters() if p.requires_grad] + list(down.parameters()) + [layer_logits]
    optimizer = torch.optim.AdamW(parameters, lr=1e-4)

    def step(batch: dict[str, torch.Tensor]) -> None:
        batch = {k: v.to(device) for k, v in batch.items()}
        embeds = reference_features(encoder, llm, down, layer_logits, batch, dtype)
        llm(inputs_embeds=embeds, labels=batch["labels"]).loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    return step


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_steps(step: Callable[[dict], None], batches: list[dict], device: torch.device, warmup: int) -> tuple[float, float | None]:
    """Mean seconds per batch after `warmup` untimed batches, and peak GPU memory in GiB (None on CPU)."""
    for batch in batches[:warmup]:
        step(batch)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    _synchronize(device)
    timed = batches[warmup:] or batches
    start = time.perf_counter()
    for batch in timed:
        step(batch)
    _synchronize(device)
    seconds = (time.perf_counter() - start) / len(timed)
    memory = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None
    return seconds, memory


def measure_training(
    config: SpeechVerseConfig,
    system: str,
    workload: str,
    batch_size: int,
    steps: int,
    device: torch.device,
    dtype: torch.dtype,
    levers: Levers = Levers(),
    warmup: int = 2,
    prompt_tokens: int = 30,
    target_tokens: int = 30,
    seed: int = 0,
) -> Measurement:
    """Time `steps` training steps of `system` ("speechverse" or "reference") on a workload of clip lengths."""
    lengths = clip_lengths(workload, batch_size * (steps + warmup), seed)
    grouped = system == "speechverse"
    batches, padding = make_batches(
        lengths, batch_size, grouped, prompt_tokens, target_tokens, config.text_config.vocab_size, seed
    )
    if system == "speechverse":
        step = speechverse_step(build_speechverse(config, device, dtype, levers), device, dtype, levers)
    elif system == "reference":
        step = reference_step(config, device, dtype)
    else:
        raise ValueError(f"unknown system {system!r}")
    seconds, memory = time_steps(step, batches, device, warmup)
    timed_lengths = lengths[warmup * batch_size :] if len(batches) > warmup else lengths
    # Useful work only: padding frames are not counted as FLOPs for either system.
    per_step = len(timed_lengths) / batch_size
    flops = sum(train_step_flops(config, StepShape(s, prompt_tokens, target_tokens)) for s in timed_lengths) / per_step
    return Measurement(system, workload, batch_size, seconds, sum(timed_lengths) / per_step, flops, memory,
                       peak_flops_of(device), padding)


def format_table(rows: list[Measurement], baseline: dict[tuple[str, int], Measurement]) -> str:
    """A Markdown table; `ratio` is samples/s over the reference's on the same workload and batch size."""
    header = "| system | workload | batch | step s | samples/s | audio-h per GPU-h | MFU | peak GiB | padding | ratio |"
    lines = [header, "|" + "---|" * 10]
    for row in rows:
        reference = baseline.get((row.workload, row.batch_size))
        ratio = row.samples_per_second / reference.samples_per_second if reference else math.nan
        mfu = f"{100 * row.mfu:.1f}%" if row.mfu is not None else "–"
        memory = f"{row.peak_memory_gib:.1f}" if row.peak_memory_gib is not None else "–"
        padding = f"{100 * row.padding:.0f}%" if row.padding is not None else "–"
        lines.append(
            f"| {row.system} | {row.workload} | {row.batch_size} | {row.seconds_per_step:.3f} | "
            f"{row.samples_per_second:.1f} | {row.audio_hours_per_gpu_hour:.0f} | {mfu} | {memory} | {padding} | "
            f"{ratio:.2f}x |"
        )
    return "\n".join(lines)
