"""A SentencePiece unigram tokenizer trained on the project's text and wrapped as a transformers `T5Tokenizer`.

The layout is T5's: `<pad>` = 0, `</s>` = 1, `<unk>` = 2, then the learnt pieces, then the sentinels
`<extra_id_{N-1}> ... <extra_id_0>` as the last ids (so `<extra_id_0>` has the highest id, as in T5). Text is
normalised with SentencePiece's `nmt_nfkc` rule, whose compiled character map the `T5Tokenizer` reuses, so the
transformers tokenizer splits exactly like the SentencePiece model.
"""

from __future__ import annotations

import io
import string
from collections.abc import Iterable

import sentencepiece as spm
from sentencepiece import sentencepiece_model_pb2
from transformers import T5Tokenizer

SPECIAL_PIECES = ("<pad>", "</s>", "<unk>")
# Every character the tasks may need even if rare in the corpus: printable ASCII and the German / French letters.
REQUIRED_CHARS = (
    string.ascii_letters + string.digits + string.punctuation + "äöüÄÖÜßéèêëàâæçîïôœùûüÿÉÈÊÀÂÇÎÔŒÙÛ€°«»’“”–"
)


def train_sentencepiece(
    texts: Iterable[str], vocab_size: int = 7900, seed: int = 0, max_sentence_length: int = 4192
) -> bytes:
    """Train a unigram SentencePiece model with T5's special ids and return its serialized proto.

    Args:
        texts: training sentences (one per item; order matters for reproducibility).
        vocab_size: pieces including `<pad>`, `</s>`, `<unk>` (sentinels are added later, on top).
        seed: SentencePiece's random seed; with one thread the model is then identical on every run.
    """
    if vocab_size <= len(SPECIAL_PIECES) + len(REQUIRED_CHARS):
        raise ValueError(f"vocab_size {vocab_size} is too small to hold the special pieces and required characters")
    spm.set_random_generator_seed(seed)
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter([text for text in texts if text.strip()]),
        model_writer=model,
        model_type="unigram",
        vocab_size=vocab_size,
        character_coverage=1.0,
        required_chars=REQUIRED_CHARS,
        normalization_rule_name="nmt_nfkc",
        pad_id=0,
        eos_id=1,
        unk_id=2,
        bos_id=-1,
        input_sentence_size=0,
        shuffle_input_sentence=False,
        max_sentence_length=max_sentence_length,
        num_threads=1,
        minloglevel=2,
    )
    return model.getvalue()


def t5_tokenizer_from_sentencepiece(model_proto: bytes, extra_ids: int = 100) -> T5Tokenizer:
    """A `T5Tokenizer` with the pieces, scores and normaliser of a SentencePiece model plus `extra_ids` sentinels."""
    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(model_proto)
    pieces = [(piece.piece, piece.score) for piece in proto.pieces]
    if tuple(piece for piece, _ in pieces[:3]) != SPECIAL_PIECES:
        raise ValueError(f"the SentencePiece model must start with {SPECIAL_PIECES}, got {pieces[:3]}")
    sentinels = [(f"<extra_id_{i}>", 0.0) for i in reversed(range(extra_ids))]
    return T5Tokenizer(
        vocab=pieces + sentinels,
        extra_ids=extra_ids,
        _spm_precompiled_charsmap=proto.normalizer_spec.precompiled_charsmap,
    )


def train_t5_tokenizer(
    texts: Iterable[str], vocab_size: int = 8000, extra_ids: int = 100, seed: int = 0
) -> tuple[T5Tokenizer, bytes]:
    """Train the mini LLM's tokenizer: `vocab_size` ids in all, the last `extra_ids` of them sentinels.

    Returns:
        The `T5Tokenizer` and the SentencePiece model proto (saved next to it as `spiece.model`).
    """
    model_proto = train_sentencepiece(texts, vocab_size=vocab_size - extra_ids, seed=seed)
    tokenizer = t5_tokenizer_from_sentencepiece(model_proto, extra_ids=extra_ids)
    if len(tokenizer) != vocab_size:
        raise ValueError(f"expected {vocab_size} ids, the tokenizer has {len(tokenizer)}")
    return tokenizer, model_proto
