"""Stage 1: T5 span-corruption pretraining of the mini LLM on the project's text corpora.

As in T5, the tokenized sentences (each ending in `</s>`) are concatenated and cut into equal blocks of
`tokens_length` ids (`compute_input_and_target_lengths` picks it so the corrupted inputs are `inputs_length` long);
each batch corrupts its blocks afresh (15% noise, mean span 3), with a generator seeded by the step.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from transformers import PreTrainedTokenizerBase, T5Config, T5ForConditionalGeneration

from .span_corruption import SpanCorruptionCollator, compute_input_and_target_lengths
from .training import Batch, TrainingConfig, train_seq2seq

NOISE_DENSITY = 0.15
MEAN_NOISE_SPAN_LENGTH = 3.0


def mini_t5_config(vocab_size: int, **overrides: Any) -> T5Config:
    """The mini LLM's architecture: the Flan-T5 (T5 v1.1) layout at about 11M parameters.

    d_model 256, gated-GELU feed-forward of 1024, 4 encoder + 4 decoder layers, 4 heads of 64, no dropout (the short
    runs see most text only a few times). One departure from Flan-T5: the output layer shares the input embedding.
    transformers 5 always ties T5's `lm_head` to `shared` (`T5Config` forces `tie_word_embeddings=True`), and
    passing `tie_word_embeddings=False` would only switch off the `d_model**-0.5` output scaling, which is not saved
    and comes back on reload; so the model is tied and scaled like the original T5.
    """
    settings = {
        "vocab_size": vocab_size,
        "d_model": 256,
        "d_kv": 64,
        "d_ff": 1024,
        "num_layers": 4,
        "num_decoder_layers": 4,
        "num_heads": 4,
        "feed_forward_proj": "gated-gelu",
        "dropout_rate": 0.0,
        "pad_token_id": 0,
        "eos_token_id": 1,
        "decoder_start_token_id": 0,
    }
    settings.update(overrides)
    return T5Config(**settings)


def pack_blocks(texts: Sequence[str], tokenizer: PreTrainedTokenizerBase, tokens_length: int) -> np.ndarray:
    """Tokenize `texts` (each with `</s>`), concatenate them in order and cut into blocks.

    Returns:
        `(num_blocks, tokens_length)` int array; the incomplete tail is dropped.
    """
    ids = [token for row in tokenizer(list(texts))["input_ids"] for token in row]
    num_blocks = len(ids) // tokens_length
    if num_blocks == 0:
        raise ValueError(f"{len(ids)} tokens of text are fewer than one block of {tokens_length}")
    return np.asarray(ids[: num_blocks * tokens_length], dtype=np.int64).reshape(num_blocks, tokens_length)


def shuffled_texts(texts: Sequence[str], seed: int) -> list[str]:
    """`texts` in a seeded random order, so one block mixes sources instead of holding one corpus' sentences."""
    return [texts[i] for i in np.random.default_rng(seed).permutation(len(texts))]


def span_corruption_batches(
    blocks: np.ndarray, collator: SpanCorruptionCollator, batch_size: int, seed: int
) -> Callable[[int], Batch]:
    """step -> batch: blocks in a seeded order reshuffled every epoch, corrupted with a generator seeded by the step."""
    per_epoch = len(blocks) // batch_size
    if per_epoch == 0:
        raise ValueError(f"{len(blocks)} blocks are fewer than one batch of {batch_size}")
    orders: dict[int, np.ndarray] = {}

    def make_batch(step: int) -> Batch:
        epoch, index = divmod(step, per_epoch)
        if epoch not in orders:
            orders[epoch] = np.random.default_rng([seed, epoch]).permutation(len(blocks))
        rows = orders[epoch][index * batch_size : (index + 1) * batch_size]
        return collator(blocks[rows], np.random.default_rng([seed, 1_000_003, step]))

    return make_batch


def pretrain(
    model: T5ForConditionalGeneration,
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    validation_texts: Sequence[str],
    config: TrainingConfig,
    checkpoint_dir: str | os.PathLike,
    inputs_length: int = 64,
    seed: int = 0,
    log: Callable[[str], None] = print,
) -> list[dict[str, Any]]:
    """Span-corruption pretraining (see the module docs); returns the training history of `train_seq2seq`."""
    tokens_length, _ = compute_input_and_target_lengths(inputs_length, NOISE_DENSITY, MEAN_NOISE_SPAN_LENGTH)
    collator = SpanCorruptionCollator(tokenizer, NOISE_DENSITY, MEAN_NOISE_SPAN_LENGTH)
    blocks = pack_blocks(shuffled_texts(texts, seed), tokenizer, tokens_length)
    validation_blocks = pack_blocks(shuffled_texts(validation_texts, seed), tokenizer, tokens_length)
    validation_rng = np.random.default_rng([seed, 7])
    validation = [
        collator(validation_blocks[i : i + config.batch_size], validation_rng)
        for i in range(0, len(validation_blocks), config.batch_size)
    ]
    log(
        f"pretraining on {len(blocks)} blocks of {tokens_length} tokens ({len(blocks) * tokens_length} tokens); "
        f"{config.steps * config.batch_size / len(blocks):.2f} epochs"
    )
    make_batch = span_corruption_batches(blocks, collator, config.batch_size, seed)
    return train_seq2seq(model, make_batch, config, checkpoint_dir, validation=validation, log=log)
