"""generate() speed: batched throughput and single-clip latency, SpeechVerse against the reference loop."""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from modeling_speechverse import SpeechVerseConfig

from speed import SAMPLING_RATE, Levers, _synchronize, build_speechverse, reference_features, reference_parts


@dataclass
class GenerateMeasurement:
    system: str
    batch_size: int
    audio_seconds: float
    new_tokens: int
    seconds: float
    first_token_seconds: float | None = None

    @property
    def tokens_per_second(self) -> float:
        return self.batch_size * self.new_tokens / self.seconds

    @property
    def real_time_factor(self) -> float:
        """Seconds of compute per second of audio (below 1 is faster than real time)."""
        return self.seconds / (self.batch_size * self.audio_seconds)


def _inputs(config: SpeechVerseConfig, batch_size: int, seconds: float, prompt_tokens: int, device: torch.device):
    generator = torch.Generator().manual_seed(0)
    samples = int(seconds * SAMPLING_RATE)
    return {
        "input_features": torch.randn(batch_size, samples, generator=generator).to(device),
        "feature_attention_mask": torch.ones(batch_size, samples, dtype=torch.long, device=device),
        "input_ids": torch.randint(2, config.text_config.vocab_size, (batch_size, prompt_tokens), generator=generator).to(device),
        "attention_mask": torch.ones(batch_size, prompt_tokens, dtype=torch.long, device=device),
    }


def generator_for(system: str, config: SpeechVerseConfig, device: torch.device, dtype: torch.dtype, levers: Levers):
    """A function `(inputs, new_tokens) -> ids` generating exactly `new_tokens` greedy tokens."""
    if system == "speechverse":
        model = build_speechverse(config, device, dtype, levers).eval()
        extra = {"cache_implementation": "static"} if levers.static_cache else {}

        def run(inputs, new_tokens):
            with torch.inference_mode(), torch.autocast(device.type, dtype=dtype, enabled=dtype != torch.float32):
                return model.generate(**inputs, max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False,
                                      num_beams=1, **extra)

        return run
    encoder, llm, down, layer_logits = reference_parts(config, device, dtype)

    def run(inputs, new_tokens):
        with torch.no_grad():
            embeds = reference_features(encoder, llm, down, layer_logits, inputs, dtype)
            return llm.generate(inputs_embeds=embeds, max_new_tokens=new_tokens, min_new_tokens=new_tokens,
                                do_sample=False, num_beams=1)

    return run


def measure_generate(
    config: SpeechVerseConfig,
    system: str,
    batch_size: int,
    device: torch.device,
    dtype: torch.dtype,
    seconds: float = 10.0,
    new_tokens: int = 30,
    prompt_tokens: int = 30,
    levers: Levers = Levers(),
    first_token: bool = False,
) -> GenerateMeasurement:
    """Time one greedy generation of `new_tokens` tokens for a batch of `seconds`-long clips (after one warm-up);
    with `first_token`, also the time to the first token (a 1-token generation: encoder, prefill, one step)."""
    run = generator_for(system, config, device, dtype, levers)
    inputs = _inputs(config, batch_size, seconds, prompt_tokens, device)

    def timed(tokens: int) -> float:
        run(inputs, tokens)  # warm-up (and compilation, with levers)
        _synchronize(device)
        start = time.perf_counter()
        run(inputs, tokens)
        _synchronize(device)
        return time.perf_counter() - start

    total = timed(new_tokens)
    first = timed(1) if first_token else None
    return GenerateMeasurement(system, batch_size, seconds, new_tokens, total, first)


def format_generate_table(rows: list[GenerateMeasurement], baseline: dict[int, GenerateMeasurement]) -> str:
    lines = ["| system | batch | clip s | tokens | total s | first token ms | tokens/s | RTF | ratio |",
             "|" + "---|" * 9]
    for row in rows:
        reference = baseline.get(row.batch_size)
        ratio = f"{reference.seconds / row.seconds:.2f}x" if reference else "–"
        first = f"{1000 * row.first_token_seconds:.0f}" if row.first_token_seconds is not None else "–"
        lines.append(f"| {row.system} | {row.batch_size} | {row.audio_seconds:g} | {row.new_tokens} | "
                     f"{row.seconds:.3f} | {first} | {row.tokens_per_second:.1f} | {row.real_time_factor:.4f} | {ratio} |")
    return "\n".join(lines)
