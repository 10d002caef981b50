"""T5 span corruption: span sampling, length arithmetic and the sentinel pairing of inputs and labels."""

from __future__ import annotations

import numpy as np
import pytest
from transformers import T5Tokenizer

from modeling_speechverse.mini_llm.span_corruption import SpanCorruptionCollator, random_spans_noise_mask

# 10 ordinary pieces (ids 3..12) and 5 sentinels laid out as T5 does: <extra_id_0> has the highest id (17).
VOCAB = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)] + [(c, -1.0) for c in "abcdefghij"]
SENTINELS = [(f"<extra_id_{i}>", 0.0) for i in reversed(range(5))]
S0, S1, S2 = 17, 16, 15
EOS = 1


@pytest.fixture(scope="module")
def collator() -> SpanCorruptionCollator:
    return SpanCorruptionCollator(T5Tokenizer(vocab=VOCAB + SENTINELS, extra_ids=5))


def test_fixed_mask_gives_t5_inputs_and_labels(collator):
    tokens = list(range(3, 13))
    noise = np.zeros(10, dtype=bool)
    noise[[2, 3, 7]] = True
    inputs, labels = collator.apply_noise_mask(tokens, noise)
    assert inputs == [3, 4, S0, 7, 8, 9, S1, 11, 12, EOS]
    assert labels == [S0, 5, 6, S1, 10, EOS]


def test_noise_span_at_the_start_still_pairs_sentinels_in_order(collator):
    noise = np.array([1, 0, 0, 1, 1, 0, 1], dtype=bool)
    inputs, labels = collator.apply_noise_mask([3, 4, 5, 6, 7, 8, 9], noise)
    assert inputs == [S0, 4, 5, S1, 8, S2, EOS]
    assert labels == [S0, 3, S1, 6, 7, S2, 9, EOS]


def _reconstruct(inputs: list[int], labels: list[int]) -> list[int]:
    """Put every label span back in place of its sentinel."""
    spans, current = {}, None
    for token in labels[:-1]:
        if token >= S2 - 2:
            current = spans.setdefault(token, [])
        else:
            current.append(token)
    return [t for token in inputs[:-1] for t in (spans[token] if token in spans else [token])]


def test_random_corruption_is_lossless_and_seeded(collator):
    tokens = [3 + i % 10 for i in range(40)]
    first = collator.corrupt(tokens, np.random.default_rng(5))
    assert first == collator.corrupt(tokens, np.random.default_rng(5))
    assert first != collator.corrupt(tokens, np.random.default_rng(6))
    inputs, labels = first
    assert _reconstruct(inputs, labels) == tokens
    assert inputs[-1] == labels[-1] == EOS


def test_noise_mask_density_and_span_count():
    mask = random_spans_noise_mask(100, 0.15, 3.0, np.random.default_rng(0))
    assert mask.sum() == 15
    starts = mask & ~np.pad(mask, [[1, 0]])[:-1]
    assert starts.sum() == 5
    assert not mask[0] and mask[-1]  # T5's layout: kept tokens first, a noise span last


def test_batch_is_padded_with_pad_and_minus_100(collator):
    batch = collator([[3, 4, 5, 6, 7, 8, 9, 10], [3, 4, 5, 6, 7, 8, 9, 10]], np.random.default_rng(0))
    assert batch["input_ids"].shape == batch["attention_mask"].shape
    assert batch["input_ids"].shape[0] == batch["labels"].shape[0] == 2
    assert ((batch["input_ids"] == 0) == (batch["attention_mask"] == 0)).all()


def test_bad_settings_raise_value_errors(collator):
    with pytest.raises(ValueError, match="noise_density"):
        SpanCorruptionCollator(T5Tokenizer(vocab=VOCAB + SENTINELS, extra_ids=5), noise_density=1.5)
    with pytest.raises(ValueError, match="sentinel"):
        SpanCorruptionCollator(T5Tokenizer(vocab=VOCAB, extra_ids=0))
    with pytest.raises(ValueError, match="noise mask"):
        collator.apply_noise_mask([3, 4, 5], np.array([True, False]))
    with pytest.raises(ValueError, match="at least 2 tokens"):
        random_spans_noise_mask(1, 0.15, 3.0, np.random.default_rng(0))
