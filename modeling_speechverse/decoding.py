"""Constrained decoding (paper Sec. 4.3.1): restrict generation to a closed set of labels.

Two :class:`~transformers.LogitsProcessor` s, both built on transformers'
:class:`~transformers.PrefixConstrainedLogitsProcessor` (which masks every token but an allowed list per row):

* :class:`LabelConstrainedLogitsProcessor` walks a token trie of the labels, so the generation is exactly one
  label followed by EOS (classification: IC, DC, ER, ...).
* :class:`SlotConstrainedLogitsProcessor` follows the slot-filling format ``"slot = value; slot = value"``
  (or ``"none"``): slot *names* must come from the allowed set, values stay free text.

Both take either one label list shared by the batch or one list per example, and work with greedy search,
sampling and beam search: the processor sees ``batch_size * num_beams`` rows and row ``r`` belongs to example
``r // num_beams``. The tokens before the first call (T5's decoder start token, or a causal LM's prompt; none
with ``inputs_embeds``) are not part of the output: the processor records their number at its first call of a
generation and constrains only what comes after.

Example:
    >>> processors = constrain_to_labels(tokenizer, ["play_radio", "play_music", "weather_query"], num_beams=3)
    >>> model.generate(**inputs, num_beams=3, logits_processor=processors, max_new_tokens=16)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import torch
from transformers import LogitsProcessorList, PrefixConstrainedLogitsProcessor, PreTrainedTokenizerBase

from .tasks.formats import NONE_TARGET

LabelSets = Sequence[str] | Sequence[Sequence[str]]


class LabelTrie:
    """A prefix tree over the token ids of a set of labels, each label ending with EOS.

    Args:
        sequences: One token id sequence per label (without EOS).
        eos_token_id: Appended to every sequence, so a label is complete only once EOS is generated.
    """

    def __init__(self, sequences: Sequence[Sequence[int]], eos_token_id: int):
        if not sequences or any(len(sequence) == 0 for sequence in sequences):
            raise ValueError("a label trie needs at least one label, and every label needs at least one token")
        self.root: dict[int, dict] = {}
        for sequence in sequences:
            node = self.root
            for token_id in (*sequence, eos_token_id):
                node = node.setdefault(int(token_id), {})
        self.max_length = max(len(sequence) for sequence in sequences) + 1
        """Longest path including EOS: the ``max_new_tokens`` a complete label needs."""

    def allowed(self, prefix: Sequence[int]) -> list[int]:
        """Token ids that may follow ``prefix``; empty if ``prefix`` left the trie or completed a label."""
        node = self.root
        for token_id in prefix:
            node = node.get(int(token_id))
            if node is None:
                return []
        return list(node)


def _label_sets(labels: LabelSets) -> tuple[list[list[str]], bool]:
    """Normalize ``labels`` to a list of label lists; the flag says whether one list is shared."""
    if isinstance(labels, str) or not labels:
        raise ValueError(f"labels must be a non-empty list of strings or of string lists, got {labels!r}")
    shared = all(isinstance(label, str) for label in labels)
    sets = [list(labels)] if shared else [list(label_set) for label_set in labels]
    for label_set in sets:
        if not label_set or not all(isinstance(label, str) and label.strip() for label in label_set):
            raise ValueError(f"every label set must be a non-empty list of non-empty strings, got {label_set!r}")
    return sets, shared


def _eos_token_id(tokenizer: PreTrainedTokenizerBase) -> int:
    if tokenizer.eos_token_id is None:
        raise ValueError("constrained decoding needs a tokenizer with an eos_token_id to end the label")
    return int(tokenizer.eos_token_id)


class _GeneratedSuffixConstraint(PrefixConstrainedLogitsProcessor):
    """Base: maps rows to examples, tracks where the generated tokens start, asks :meth:`allowed_tokens`."""

    def __init__(self, num_examples: int | None, num_beams: int, eos_token_id: int):
        if not isinstance(num_beams, int) or num_beams < 1:
            raise ValueError(f"num_beams must be a positive integer, got {num_beams!r}")
        super().__init__(self._allowed_for_row, num_beams)
        self.num_examples = num_examples
        self.eos_token_id = eos_token_id
        self._start: int | None = None
        self._last_length: int | None = None

    def allowed_tokens(self, example: int, generated: list[int]) -> list[int]:
        """Token ids allowed after ``generated`` for example ``example`` (index into the label sets)."""
        raise NotImplementedError

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        """Mask all disallowed tokens to ``-inf``.

        Args:
            input_ids: ``(batch_size * num_beams, sequence_length)`` tokens so far.
            scores: ``(batch_size * num_beams, vocab_size)`` next-token scores.
        """
        rows, length = input_ids.shape
        if self.num_examples is not None and rows != self.num_examples * self._num_beams:
            raise ValueError(
                f"generate produced {rows} rows but the constraint was built for {self.num_examples} label sets "
                f"x num_beams={self._num_beams}; pass one label set per example and the generate num_beams "
                "(or num_return_sequences when sampling)"
            )
        if rows % self._num_beams:
            raise ValueError(f"{rows} rows are not a multiple of num_beams={self._num_beams}")
        # A new generation starts when the length does not grow by one token (processor reused across calls).
        if self._last_length is None or length != self._last_length + 1:
            self._start = length
        self._last_length = length
        return super().__call__(input_ids, scores)

    def _allowed_for_row(self, example: int, row_ids: torch.Tensor) -> list[int]:
        generated = row_ids[self._start :].tolist()
        if self.eos_token_id in generated:
            # Finished rows (padded after EOS by greedy search) only need a finite score.
            return [self.eos_token_id]
        # An off-grammar row (a -inf beam kept to fill the beam width) is ended at once.
        return self.allowed_tokens(0 if self.num_examples is None else example, generated) or [self.eos_token_id]


class LabelConstrainedLogitsProcessor(_GeneratedSuffixConstraint):
    """Forces every generation to be exactly one label's tokens followed by EOS.

    Args:
        tries: One :class:`LabelTrie` shared by the batch, or one per example.
        shared: Whether ``tries`` holds a single trie for every example.
        num_beams: Rows per example (``num_beams`` for beam search, ``num_return_sequences`` when sampling).
        eos_token_id: The EOS id the tries end with.
    """

    def __init__(self, tries: Sequence[LabelTrie], shared: bool, num_beams: int, eos_token_id: int):
        super().__init__(None if shared else len(tries), num_beams, eos_token_id)
        self.tries = list(tries)

    @property
    def max_new_tokens(self) -> int:
        """Tokens needed to generate the longest label and EOS."""
        return max(trie.max_length for trie in self.tries)

    def allowed_tokens(self, example: int, generated: list[int]) -> list[int]:
        return self.tries[example].allowed(generated)


def constrain_to_labels(
    tokenizer: PreTrainedTokenizerBase, labels: LabelSets, num_beams: int = 1
) -> LogitsProcessorList:
    """A processor list restricting generation to one of ``labels`` then EOS.

    Args:
        tokenizer: The LLM's tokenizer; labels are tokenized without special tokens.
        labels: One label list for the whole batch, or a list of label lists (one per example, in batch order).
        num_beams: The ``num_beams`` passed to ``generate`` (``num_return_sequences`` when sampling). Beam search
            needs at least ``num_return_sequences`` labels per example to return only labels.

    Returns:
        A :class:`~transformers.LogitsProcessorList` holding one :class:`LabelConstrainedLogitsProcessor`; pass
        it as ``generate(..., logits_processor=...)`` for a single generate call.
    """
    eos_token_id = _eos_token_id(tokenizer)
    label_sets, shared = _label_sets(labels)
    tries = [
        LabelTrie([tokenizer(label, add_special_tokens=False)["input_ids"] for label in label_set], eos_token_id)
        for label_set in label_sets
    ]
    return LogitsProcessorList([LabelConstrainedLogitsProcessor(tries, shared, num_beams, eos_token_id)])


@lru_cache(maxsize=8)
def _token_texts(tokenizer: PreTrainedTokenizerBase) -> tuple[str | None, ...]:
    """The text each token adds when appended to other text (``None`` for special tokens).

    Decoding a token after an anchor token keeps its leading space (SentencePiece drops it at the start).
    """
    anchor = tokenizer("a", add_special_tokens=False)["input_ids"][-1]
    anchor_text = tokenizer.decode([anchor])
    special = set(tokenizer.all_special_ids)
    texts = tokenizer.batch_decode([[anchor, token_id] for token_id in range(len(tokenizer))])
    return tuple(
        None if token_id in special else (text[len(anchor_text) :] if text.startswith(anchor_text) else None)
        for token_id, text in enumerate(texts)
    )


class SlotGrammar:
    """Prefix checks for ``"none"`` or ``"slot = value; slot = value[;]"`` with slot names from a closed set.

    Whitespace inside the slot-name part is limited to single spaces, so a name position cannot loop on blanks.
    """

    def __init__(self, slot_names: Sequence[str]):
        self.names = frozenset(name.strip() for name in slot_names)
        self.name_prefixes = frozenset(name[:i] for name in self.names for i in range(len(name) + 1))

    @staticmethod
    def _none_prefix(text: str) -> bool:
        body = text[1:] if text[:1].isspace() else text
        return bool(body) and NONE_TARGET.startswith(body)

    def _name_part_ok(self, part: str) -> bool:
        """``part`` (text of one segment before ``=``) can still become ``<space?>name<space?>``."""
        body = part[1:] if part[:1].isspace() else part
        if "  " in part or body[:1].isspace():
            return False
        return body in self.name_prefixes or (body[-1:].isspace() and body.rstrip() in self.names)

    def _segment_ok(self, segment: str, complete: bool) -> bool:
        """One ``slot = value`` segment is a valid prefix (or, with ``complete``, a full pair)."""
        name, assign, value = segment.partition("=")
        if not assign:
            return not complete and self._name_part_ok(name)
        return self._name_part_ok(name) and name.strip() in self.names and (not complete or bool(value.strip()))

    def is_prefix(self, text: str) -> bool:
        """``text`` can be extended to a valid output."""
        if self._none_prefix(text):
            return True
        *done, last = text.split(";")
        return all(self._segment_ok(segment, complete=True) for segment in done) and self._segment_ok(
            last, complete=False
        )

    def is_complete(self, text: str) -> bool:
        """``text`` is a full valid output (EOS may follow)."""
        if text.strip() == NONE_TARGET:
            return True
        *done, last = text.split(";")
        if not done:
            return self._segment_ok(last, complete=True)
        return all(self._segment_ok(segment, complete=True) for segment in done) and (
            self._segment_ok(last, complete=True) or (last.strip() == "" and len(last) <= 1)
        )


class SlotConstrainedLogitsProcessor(_GeneratedSuffixConstraint):
    """Constrains slot names in ``"slot = value; slot = value"`` outputs; values remain free text.

    A small state machine over the generated text: at a slot-name position only continuations of allowed
    names are possible; after ``=`` any text may follow until ``;`` (a new slot) or EOS (non-empty value).
    ``"none"`` (no slots) is also allowed.

    Args:
        tokenizer: The LLM's tokenizer (token texts are read from it).
        grammars: One :class:`SlotGrammar` shared by the batch, or one per example.
        shared: Whether ``grammars`` holds a single grammar for every example.
        num_beams: Rows per example.
    """

    def __init__(
        self, tokenizer: PreTrainedTokenizerBase, grammars: Sequence[SlotGrammar], shared: bool, num_beams: int
    ):
        super().__init__(None if shared else len(grammars), num_beams, _eos_token_id(tokenizer))
        self.grammars = list(grammars)
        self.token_texts = _token_texts(tokenizer)
        self._free_ids = [i for i, text in enumerate(self.token_texts) if text is not None and ";" not in text]
        self._semicolon_ids = [i for i, text in enumerate(self.token_texts) if text is not None and ";" in text]
        self._name_cache: dict[tuple[int, str], list[int]] = {}

    def allowed_tokens(self, example: int, generated: list[int]) -> list[int]:
        grammar = self.grammars[example]
        text = "".join(self.token_texts[token_id] or "" for token_id in generated)
        if not grammar.is_prefix(text):
            return []
        last = text.rpartition(";")[2]
        eos = [self.eos_token_id] if grammar.is_complete(text) else []
        if "=" in last:
            # Inside a value: any token without ';' keeps it free text; ';' tokens must start a valid name.
            separators = [i for i in self._semicolon_ids if grammar.is_prefix(text + self.token_texts[i])]
            return self._free_ids + separators + eos
        # At a name position only the current segment matters (earlier ones are complete pairs), except in the
        # first segment, where "none" is also possible; the scan over the vocabulary is cached on that.
        key = (example, text if ";" not in text else ";" + last)
        if key not in self._name_cache:
            self._name_cache[key] = [
                token_id for token_id, piece in enumerate(self.token_texts)
                if piece and grammar.is_prefix(text + piece)
            ]
        return self._name_cache[key] + eos


def constrain_slot_labels(
    tokenizer: PreTrainedTokenizerBase, slot_labels: LabelSets, num_beams: int = 1
) -> LogitsProcessorList:
    """A processor list restricting slot names in SF outputs to ``slot_labels`` (values stay free).

    Args:
        tokenizer: The LLM's tokenizer.
        slot_labels: Allowed slot names for the whole batch, or one list per example.
        num_beams: The ``num_beams`` passed to ``generate`` (``num_return_sequences`` when sampling).
    """
    label_sets, shared = _label_sets(slot_labels)
    for label_set in label_sets:
        bad = [name for name in label_set if any(char in name for char in "=;") or name.strip() == NONE_TARGET]
        if bad:
            raise ValueError(f"slot names may not contain '=' or ';' or be 'none': {bad}")
    grammars = [SlotGrammar(label_set) for label_set in label_sets]
    return LogitsProcessorList([SlotConstrainedLogitsProcessor(tokenizer, grammars, shared, num_beams)])
