"""Stage 1: T5 span-corruption pretraining of the mini LLM on the project's text corpora.

T5's objective (15% noise in spans of mean length 3, each span replaced by a sentinel and predicted after it) on
single sentences rather than T5's packed blocks: the downstream inputs are one short sentence plus an instruction,
and at this size and step budget packing kept the encoder unused. Measured with the same model and optimizer: after
400 steps on 141-token packed blocks the loss was the same with every block's inputs swapped for another's (4.50 vs
4.51, so the decoder was a plain language model); on single sentences the encoder is read within 100 steps (2.04 vs
2.52 with swapped inputs after 300). Each batch corrupts its sentences afresh with a generator seeded by the step.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from transformers import PreTrainedTokenizerBase, T5Config, T5ForConditionalGeneration

from .span_corruption import SpanCorruptionCollator
from .training import Batch, TrainingConfig, length_grouped_batches, train_seq2seq

NOISE_DENSITY = 0.15
MEAN_NOISE_SPAN_LENGTH = 3.0
MIN_TOKENS = 4
MAX_TOKENS = 128


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


def sentence_token_ids(texts: Sequence[str], tokenizer: PreTrainedTokenizerBase) -> list[list[int]]:
    """The token ids of each text without `</s>` (the corruption adds it), cut at `MAX_TOKENS`; texts shorter than
    `MIN_TOKENS` tokens are dropped (too short to hide a span and keep context)."""
    rows = [ids[:-1][:MAX_TOKENS] for ids in tokenizer(list(texts))["input_ids"]]
    return [row for row in rows if len(row) >= MIN_TOKENS]


def span_corruption_batches(
    sentences: Sequence[Sequence[int]], collator: SpanCorruptionCollator, batch_size: int, seed: int
) -> Callable[[int], Batch]:
    """step -> batch of similar-length sentences (reshuffled every epoch), corrupted with a generator seeded by the
    step."""
    rows = length_grouped_batches([len(sentence) for sentence in sentences], batch_size, seed)

    def make_batch(step: int) -> Batch:
        return collator([sentences[i] for i in rows(step)], np.random.default_rng([seed, 1_000_003, step]))

    return make_batch


def pretrain(
    model: T5ForConditionalGeneration,
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    validation_texts: Sequence[str],
    config: TrainingConfig,
    checkpoint_dir: str | os.PathLike,
    seed: int = 0,
    log: Callable[[str], None] = print,
) -> list[dict[str, Any]]:
    """Span-corruption pretraining (see the module docs); returns the training history of `train_seq2seq`."""
    collator = SpanCorruptionCollator(tokenizer, NOISE_DENSITY, MEAN_NOISE_SPAN_LENGTH)
    sentences = sentence_token_ids(texts, tokenizer)
    validation_sentences = sentence_token_ids(validation_texts, tokenizer)
    validation_rng = np.random.default_rng([seed, 7])
    validation = [
        collator(validation_sentences[i : i + config.batch_size], validation_rng)
        for i in range(0, len(validation_sentences), config.batch_size)
    ]
    log(
        f"pretraining on {len(sentences)} sentences ({sum(map(len, sentences))} tokens); "
        f"{config.steps * config.batch_size / len(sentences):.2f} epochs"
    )
    make_batch = span_corruption_batches(sentences, collator, config.batch_size, seed)
    return train_seq2seq(model, make_batch, config, checkpoint_dir, validation=validation, log=log)
