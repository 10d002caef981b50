"""Pretraining data: one sentence per example, corrupted afresh by a generator seeded with the step."""

from __future__ import annotations

import torch
from transformers import T5ForConditionalGeneration, T5Tokenizer

from modeling_speechverse.mini_llm.pretrain import (
    MAX_TOKENS,
    MIN_TOKENS,
    mini_t5_config,
    sentence_token_ids,
    span_corruption_batches,
)
from modeling_speechverse.mini_llm.span_corruption import SpanCorruptionCollator
from modeling_speechverse.testing_utils import tiny_t5_tokenizer

SENTENCES = [
    "turn on the radio now",
    "play some music please",
    "set an alarm for seven am tomorrow",
    "what is the weather like in berlin",
    "no",
    " ".join(["radio"] * 300),
]


def test_batches_are_a_function_of_the_step():
    vocab = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)] + [(c, -1.0) for c in "abcdefghij"]
    tokenizer = T5Tokenizer(vocab=vocab + [(f"<extra_id_{i}>", 0.0) for i in reversed(range(10))], extra_ids=10)
    sentences = [[3 + (i + j) % 10 for j in range(5 + i % 7)] for i in range(40)]
    make_batch = span_corruption_batches(sentences, SpanCorruptionCollator(tokenizer), batch_size=8, seed=0)
    again = span_corruption_batches(sentences, SpanCorruptionCollator(tokenizer), batch_size=8, seed=0)
    for step in (0, 3, 7):
        assert all(torch.equal(make_batch(step)[k], again(step)[k]) for k in ("input_ids", "labels"))
    assert not torch.equal(make_batch(0)["labels"], make_batch(5)["labels"])  # same sentences, new corruption
    assert (make_batch(1)["labels"][:, 0] == tokenizer.convert_tokens_to_ids("<extra_id_0>")).all()


def test_sentences_lose_eos_and_are_filtered_and_truncated():
    tokenizer = tiny_t5_tokenizer()
    rows = sentence_token_ids(SENTENCES, tokenizer)
    assert len(rows) == len(SENTENCES) - 1  # "no" is shorter than MIN_TOKENS
    assert all(MIN_TOKENS <= len(row) <= MAX_TOKENS and tokenizer.eos_token_id not in row for row in rows)
    assert rows[0] == tokenizer("turn on the radio now").input_ids[:-1]
    assert len(rows[-1]) == MAX_TOKENS


def test_mini_config_is_the_flan_t5_layout_at_about_ten_million_parameters():
    config = mini_t5_config(8000)
    layout = (config.d_model, config.d_ff, config.num_layers, config.num_decoder_layers, config.num_heads)
    assert layout == (256, 1024, 4, 4, 4)
    assert config.is_gated_act and config.dropout_rate == 0.0
    with torch.device("meta"):
        parameters = T5ForConditionalGeneration(config).num_parameters()
    assert 9_000_000 < parameters < 13_000_000
