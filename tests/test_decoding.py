"""Constrained decoding on tiny random T5 / GPT-2 / Llama models: only allowed labels (or slot names) come out."""

from __future__ import annotations

import pytest
import torch
from transformers import GPT2LMHeadModel, LlamaForCausalLM, LogitsProcessorList, T5ForConditionalGeneration

from modeling_speechverse.decoding import (
    LabelConstrainedLogitsProcessor,
    LabelTrie,
    constrain_slot_labels,
    constrain_to_labels,
)
from modeling_speechverse.tasks import get_task
from modeling_speechverse.testing_utils import tiny_t5_tokenizer, tiny_text_config

# Multi-token labels, shared prefixes ("play" is itself a prefix of two others), and casing variants.
LABELS = ["play_radio", "play_music", "play", "Play_Radio", "datetime_query", "west_midlands"]
MODEL_CLASSES = {"t5": T5ForConditionalGeneration, "gpt2": GPT2LMHeadModel, "llama": LlamaForCausalLM}
EMBED_SEED_BATCH = 4


@pytest.fixture(scope="module")
def tokenizer():
    return tiny_t5_tokenizer()


@pytest.fixture(scope="module", params=list(MODEL_CLASSES))
def model(request):
    torch.manual_seed(0)
    return MODEL_CLASSES[request.param](tiny_text_config(request.param)).eval()


def embeds(batch_size: int = EMBED_SEED_BATCH, seed: int = 0) -> torch.Tensor:
    """``(batch, 5, 32)`` input embeddings, the way SpeechVerse feeds the LLM (audio features + prompt)."""
    return torch.randn(batch_size, 5, 32, generator=torch.Generator().manual_seed(seed))


def generated_texts(model, tokenizer, inputs: dict, **generate_kwargs) -> list[str]:
    """Generate and decode only the new tokens (causal LMs return the prompt ids first)."""
    output = model.generate(**inputs, do_sample=generate_kwargs.pop("do_sample", False), **generate_kwargs)
    if not model.config.is_encoder_decoder and "input_ids" in inputs:
        output = output[:, inputs["input_ids"].shape[1] :]
    return tokenizer.batch_decode(output, skip_special_tokens=True)


def test_unconstrained_output_is_not_a_label(model, tokenizer):
    texts = generated_texts(model, tokenizer, {"inputs_embeds": embeds()}, max_new_tokens=16)
    assert not set(texts) & set(LABELS)


def test_greedy_from_inputs_embeds_gives_labels(model, tokenizer):
    processors = constrain_to_labels(tokenizer, LABELS)
    assert processors[0].max_new_tokens <= 16
    texts = generated_texts(
        model, tokenizer, {"inputs_embeds": embeds()}, max_new_tokens=16, logits_processor=processors
    )
    assert len(texts) == EMBED_SEED_BATCH and set(texts) <= set(LABELS)


def test_prompt_ids_are_not_constrained(model, tokenizer):
    """Causal LMs see the prompt in input_ids; only tokens after the first call are constrained."""
    input_ids = tokenizer(["transcribe the audio", "play some music please"], padding=True, return_tensors="pt")
    texts = generated_texts(
        model, tokenizer, dict(input_ids), max_new_tokens=16, logits_processor=constrain_to_labels(tokenizer, LABELS)
    )
    assert set(texts) <= set(LABELS)


def test_beam_search_per_example_label_sets(model, tokenizer):
    label_sets = [LABELS[:3], ["yes", "no", "maybe"], ["neutral", "happy", "sad", "angry"], LABELS]
    texts = generated_texts(
        model, tokenizer, {"inputs_embeds": embeds()}, max_new_tokens=16, num_beams=3, num_return_sequences=3,
        logits_processor=constrain_to_labels(tokenizer, label_sets, num_beams=3),
    )
    for example, label_set in enumerate(label_sets):
        returned = texts[3 * example : 3 * example + 3]
        assert set(returned) <= set(label_set)
        assert len(set(returned)) == 3  # the three best distinct labels, not padding or repeats


def test_greedy_mixed_label_sets(model, tokenizer):
    label_sets = [["one", "two"], ["speech", "non-speech"], ["positive", "negative", "neutral"], ["play_radio"]]
    texts = generated_texts(
        model, tokenizer, {"inputs_embeds": embeds()}, max_new_tokens=16,
        logits_processor=constrain_to_labels(tokenizer, label_sets),
    )
    assert [text in label_set for text, label_set in zip(texts, label_sets)] == [True] * 4
    assert texts[3] == "play_radio"


def test_sampling_stays_on_labels(model, tokenizer):
    torch.manual_seed(1)
    texts = generated_texts(
        model, tokenizer, {"inputs_embeds": embeds(8)}, max_new_tokens=16, do_sample=True,
        logits_processor=constrain_to_labels(tokenizer, LABELS),
    )
    assert set(texts) <= set(LABELS)


def test_processor_reused_across_generate_calls(model, tokenizer):
    processors = constrain_to_labels(tokenizer, LABELS)
    for seed in (1, 2):
        texts = generated_texts(
            model, tokenizer, {"inputs_embeds": embeds(seed=seed)}, max_new_tokens=16, logits_processor=processors
        )
        assert set(texts) <= set(LABELS)


def test_slot_name_constraint(model, tokenizer):
    slots = ["time", "date", "place_name"]
    sf = get_task("SF")
    free = generated_texts(model, tokenizer, {"inputs_embeds": embeds()}, max_new_tokens=20)
    assert all(sf.parse_prediction(text, labels=slots) is None for text in free)
    texts = generated_texts(
        model, tokenizer, {"inputs_embeds": embeds()}, max_new_tokens=20,
        logits_processor=constrain_slot_labels(tokenizer, slots),
    )
    for text in texts:
        strict = sf.parse_prediction(text)
        assert strict is not None and {slot for slot, _ in strict} <= set(slots)


def test_slot_name_constraint_beam_per_example(model, tokenizer):
    slot_sets = [["time"], ["date", "person"], ["place_name"], ["time", "date"]]
    texts = generated_texts(
        model, tokenizer, {"inputs_embeds": embeds()}, max_new_tokens=20, num_beams=3,
        logits_processor=constrain_slot_labels(tokenizer, slot_sets, num_beams=3),
    )
    for text, slot_set in zip(texts, slot_sets):
        pairs = get_task("SF").parse_prediction(text)
        assert pairs is not None and {slot for slot, _ in pairs} <= set(slot_set)


def _allowed_after(processors: LogitsProcessorList, tokenizer, text: str) -> set[int]:
    """Token ids the processor allows after ``text``, fed step by step as T5 does (decoder start token first)."""
    ids = [0, *(tokenizer(text, add_special_tokens=False).input_ids if text else [])]
    for length in range(1, len(ids) + 1):
        scores = processors[0](torch.tensor([ids[:length]]), torch.zeros(1, 256))
    return set(torch.nonzero(scores[0].isfinite()).flatten().tolist())


def _texts(tokenizer, ids: set[int]) -> set[str]:
    return {tokenizer.convert_ids_to_tokens(i) for i in ids}


def test_slot_state_machine_transitions(tokenizer):
    eos = tokenizer.eos_token_id
    make = lambda: constrain_slot_labels(tokenizer, ["time", "date"])
    start = _allowed_after(make(), tokenizer, "")
    assert eos not in start and {"▁date", "▁no"} <= _texts(tokenizer, start)
    after_name = _allowed_after(make(), tokenizer, "time")
    assert "=" in _texts(tokenizer, after_name) and "▁now" not in _texts(tokenizer, after_name)
    assert eos not in after_name
    after_assign = _allowed_after(make(), tokenizer, "time =")
    assert eos not in after_assign and "▁now" in _texts(tokenizer, after_assign)
    in_value = _allowed_after(make(), tokenizer, "time = now")
    assert {eos, tokenizer.convert_tokens_to_ids(";")} <= in_value and len(in_value) > 100
    after_separator = _allowed_after(make(), tokenizer, "time = now;")
    assert eos in after_separator and "▁date" in _texts(tokenizer, after_separator)
    assert "▁weather" not in _texts(tokenizer, after_separator)
    assert _allowed_after(make(), tokenizer, "none") == {eos}


def test_label_trie_prefixes():
    trie = LabelTrie([[5, 6], [5, 7, 8], [5]], eos_token_id=1)
    assert trie.allowed([]) == [5]
    assert set(trie.allowed([5])) == {6, 7, 1}
    assert trie.allowed([5, 7]) == [8]
    assert trie.allowed([5, 6, 1]) == [] and trie.allowed([9]) == []
    assert trie.max_length == 4


def test_finished_rows_only_allow_eos(tokenizer):
    processors = constrain_to_labels(tokenizer, ["yes", "no"])
    assert _allowed_after(processors, tokenizer, "yes</s><pad>") == {tokenizer.eos_token_id}


@pytest.mark.parametrize("labels", [[], "yes", ["yes", ""], [["yes"], []]])
def test_bad_label_sets_raise(tokenizer, labels):
    with pytest.raises(ValueError, match="labels|label set"):
        constrain_to_labels(tokenizer, labels)


def test_batch_mismatch_raises_clear_error(tokenizer):
    processor = constrain_to_labels(tokenizer, [["yes"], ["no"]], num_beams=1)[0]
    assert isinstance(processor, LabelConstrainedLogitsProcessor)
    with pytest.raises(ValueError, match="num_beams"):
        processor(torch.zeros(6, 1, dtype=torch.long), torch.zeros(6, 256))


def test_bad_slot_names_raise(tokenizer):
    with pytest.raises(ValueError, match="slot names"):
        constrain_slot_labels(tokenizer, ["time", "a=b"])


@pytest.mark.parametrize("backbone", ["tiny_t5", "tiny_causal"])
def test_speechverse_generate_forwards_the_constraint(backbone, request):
    """SpeechVerse.generate passes ``logits_processor`` to the LLM, which decodes from ``inputs_embeds``."""
    model, processor = request.getfixturevalue(backbone)
    clips = [torch.randn(16000, generator=torch.Generator().manual_seed(seed)).numpy() * 0.1 for seed in range(2)]
    inputs = processor(text=["identify the intent of the speaker"] * 2, audio=clips, sampling_rate=16000)
    label_sets = [LABELS[:3], ["yes", "no", "maybe"]]
    output = model.generate(
        **inputs, max_new_tokens=16, num_beams=3, num_return_sequences=3,
        logits_processor=constrain_to_labels(processor.tokenizer, label_sets, num_beams=3),
    )
    texts = processor.batch_decode(output, skip_special_tokens=True)
    assert set(texts[:3]) == set(label_sets[0]) and set(texts[3:]) == set(label_sets[1])
