"""The mini LLM's SentencePiece -> T5 tokenizer: T5's special ids, sentinels, German/French round trips."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
import sentencepiece as spm
from transformers import AutoTokenizer

from modeling_speechverse.mini_llm.tokenizer import train_t5_tokenizer

ROOT = Path(__file__).resolve().parents[2]
CHECKPOINT = ROOT / "checkpoints" / "mini-t5"
SENTENCES = [
    "Ein kleines Mädchen klettert in ein Spielhaus aus Holz.",
    "Zwei Männer stehen an der Straße, während ein Hund über die Brücke läuft.",
    "Une fille en robe rose grimpe à l'échelle près d'un œuf.",
    "Un garçon français mange une crème brûlée à côté de sa sœur.",
    "place_name = paris; date = tomorrow",
    "wake me up at seven am tomorrow",
]


def _captions(language: str, count: int) -> list[str]:
    with gzip.open(ROOT / "data_sources" / "multi30k" / f"train.{language}.gz", "rt", encoding="utf-8") as handle:
        return [next(handle).strip() for _ in range(count)]


@pytest.fixture(scope="module")
def small_tokenizer():
    texts = [text for language in ("en", "de", "fr") for text in _captions(language, 300)]
    return train_t5_tokenizer(texts, vocab_size=600, extra_ids=10, seed=0)


@pytest.fixture(scope="module")
def shipped():
    return AutoTokenizer.from_pretrained(CHECKPOINT)


def test_training_is_deterministic_with_t5_layout(small_tokenizer):
    tokenizer, model = small_tokenizer
    texts = [text for language in ("en", "de", "fr") for text in _captions(language, 300)]
    assert train_t5_tokenizer(texts, vocab_size=600, extra_ids=10, seed=0)[1] == model
    assert len(tokenizer) == 600
    assert (tokenizer.pad_token_id, tokenizer.eos_token_id, tokenizer.unk_token_id) == (0, 1, 2)
    assert tokenizer.convert_tokens_to_ids("<extra_id_0>") == 599
    assert tokenizer.convert_tokens_to_ids("<extra_id_9>") == 590


@pytest.mark.parametrize("text", SENTENCES)
def test_small_tokenizer_round_trips_without_unknowns(small_tokenizer, text):
    tokenizer, _ = small_tokenizer
    ids = tokenizer(text).input_ids
    assert ids[-1] == tokenizer.eos_token_id and tokenizer.unk_token_id not in ids
    assert tokenizer.decode(ids, skip_special_tokens=True) == text


def test_too_small_vocabulary_is_a_value_error():
    with pytest.raises(ValueError, match="too small"):
        train_t5_tokenizer(["a b c"], vocab_size=50, extra_ids=10)


def test_shipped_tokenizer_has_t5_special_ids_and_sentinels(shipped):
    assert len(shipped) == 8000
    assert (shipped.pad_token_id, shipped.eos_token_id, shipped.unk_token_id) == (0, 1, 2)
    sentinels = shipped.convert_tokens_to_ids([f"<extra_id_{i}>" for i in range(100)])
    assert sentinels == list(range(7999, 7899, -1))
    assert shipped("a <extra_id_0> b <extra_id_1>").input_ids == shipped("a").input_ids[:-1] + [7999] + shipped(
        "b"
    ).input_ids[:-1] + [7998, 1]


@pytest.mark.parametrize("text", SENTENCES)
def test_shipped_tokenizer_round_trips_and_matches_its_sentencepiece_model(shipped, text):
    ids = shipped(text).input_ids
    assert shipped.unk_token_id not in ids
    assert shipped.decode(ids, skip_special_tokens=True) == text
    processor = spm.SentencePieceProcessor(model_file=str(CHECKPOINT / "spiece.model"))
    assert ids[:-1] == processor.encode(text)
