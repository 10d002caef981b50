"""T5 span corruption (Raffel et al. 2020, Sec. 3.1.4): drop random spans, predict them after sentinels.

The span sampling follows `random_spans_noise_mask` of transformers'
`examples/flax/language-modeling/run_t5_mlm_flax.py`, written here for numpy generators passed in by the caller so that
every batch is a pure function of its seed.

Example (noise spans marked): tokens `a b [c d] e f [g] h </s>` become

    inputs:  a b <extra_id_0> e f <extra_id_1> h </s>
    labels:  <extra_id_0> c d <extra_id_1> g </s>
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from transformers import PreTrainedTokenizerBase

from .training import pad_seq2seq


def _random_segmentation(num_items: int, num_segments: int, rng: np.random.Generator) -> np.ndarray:
    """Split `num_items` into `num_segments` non-empty runs of random lengths; returns the run lengths."""
    first_in_segment = np.arange(num_items - 1) < (num_segments - 1)
    rng.shuffle(first_in_segment)
    segment_id = np.cumsum(np.pad(first_in_segment, [[1, 0]]))
    return np.bincount(segment_id, minlength=num_segments)


def random_spans_noise_mask(
    length: int, noise_density: float, mean_noise_span_length: float, rng: np.random.Generator
) -> np.ndarray:
    """A boolean mask `(length,)` with about `noise_density * length` noise tokens in spans of mean length
    `mean_noise_span_length`; the sequence always starts with kept tokens and ends with a noise span."""
    if length < 2:
        raise ValueError(f"span corruption needs at least 2 tokens, got {length}")
    num_noise_tokens = min(max(int(np.round(length * noise_density)), 1), length - 1)
    num_nonnoise_tokens = length - num_noise_tokens
    num_noise_spans = max(int(np.round(min(num_noise_tokens, num_nonnoise_tokens) / mean_noise_span_length)), 1)
    noise_span_lengths = _random_segmentation(num_noise_tokens, num_noise_spans, rng)
    nonnoise_span_lengths = _random_segmentation(num_nonnoise_tokens, num_noise_spans, rng)
    interleaved = np.stack([nonnoise_span_lengths, noise_span_lengths], axis=1).reshape(-1)
    span_start = np.zeros(length, dtype=np.int64)
    span_start[np.cumsum(interleaved)[:-1]] = 1
    return np.cumsum(span_start) % 2 == 1


class SpanCorruptionCollator:
    """Turns equal-length blocks of token ids into T5 span-corruption batches.

    Each noise span is replaced by one sentinel in the inputs (`<extra_id_0>`, `<extra_id_1>`, ... in order); the
    labels list each sentinel followed by the tokens it replaced, then `</s>`.

    Args:
        tokenizer: a T5-style tokenizer with `<extra_id_N>` sentinels and an `eos_token_id`.
        noise_density: fraction of tokens dropped (T5: 0.15).
        mean_noise_span_length: mean length of a dropped span (T5: 3).
    """

    def __init__(
        self, tokenizer: PreTrainedTokenizerBase, noise_density: float = 0.15, mean_noise_span_length: float = 3.0
    ) -> None:
        if not 0.0 < noise_density < 1.0:
            raise ValueError(f"noise_density must be in (0, 1), got {noise_density}")
        if mean_noise_span_length < 1.0:
            raise ValueError(f"mean_noise_span_length must be at least 1, got {mean_noise_span_length}")
        vocab = tokenizer.get_vocab()
        sentinels = []
        while f"<extra_id_{len(sentinels)}>" in vocab:
            sentinels.append(vocab[f"<extra_id_{len(sentinels)}>"])
        if not sentinels:
            raise ValueError("the tokenizer has no <extra_id_N> sentinel tokens")
        self.sentinel_ids = np.array(sentinels, dtype=np.int64)
        self.eos_token_id = tokenizer.eos_token_id
        self.pad_token_id = tokenizer.pad_token_id
        self.noise_density = noise_density
        self.mean_noise_span_length = mean_noise_span_length

    def corrupt(self, tokens: Sequence[int], rng: np.random.Generator) -> tuple[list[int], list[int]]:
        """`(input_ids, labels)` of one block of token ids, with noise spans drawn from `rng`."""
        noise = random_spans_noise_mask(len(tokens), self.noise_density, self.mean_noise_span_length, rng)
        return self.apply_noise_mask(tokens, noise)

    def apply_noise_mask(self, tokens: Sequence[int], noise: np.ndarray) -> tuple[list[int], list[int]]:
        """`(input_ids, labels)` for a boolean noise mask `(len(tokens),)`.

        Noise span k becomes `<extra_id_k>` in the inputs; the labels are `<extra_id_k>` + span k for every span, then
        `</s>`. For the masks of `random_spans_noise_mask` (kept tokens first, noise last) this equals T5's targets,
        which replace each *kept* run by a sentinel.
        """
        tokens = np.asarray(tokens, dtype=np.int64)
        noise = np.asarray(noise, dtype=bool)
        if noise.shape != tokens.shape:
            raise ValueError(f"noise mask of shape {noise.shape} for {tokens.shape[0]} tokens")
        span_starts = noise & ~np.pad(noise, [[1, 0]])[:-1]
        num_spans = int(span_starts.sum())
        if num_spans > len(self.sentinel_ids):
            raise ValueError(f"{num_spans} noise spans but only {len(self.sentinel_ids)} sentinels")
        inputs = tokens.copy()
        inputs[span_starts] = self.sentinel_ids[:num_spans]
        labels, span = [], 0
        for token, is_noise, starts in zip(tokens.tolist(), noise, span_starts, strict=True):
            if starts:
                labels.append(int(self.sentinel_ids[span]))
                span += 1
            if is_noise:
                labels.append(token)
        return inputs[~noise | span_starts].tolist() + [self.eos_token_id], labels + [self.eos_token_id]

    def __call__(self, blocks: Sequence[Sequence[int]], rng: np.random.Generator) -> dict[str, torch.Tensor]:
        """A batch: `input_ids`, `attention_mask` `(batch, max input length)` and `labels` `(batch, max label
        length)`, padded with `<pad>` (inputs) and -100 (labels)."""
        pairs = [self.corrupt(block, rng) for block in blocks]
        return pad_seq2seq([inputs for inputs, _ in pairs], [labels for _, labels in pairs], self.pad_token_id)
