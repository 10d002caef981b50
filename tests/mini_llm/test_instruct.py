"""The text form of the tasks used to instruction-tune the mini LLM, and its evaluation glue."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from modeling_speechverse.data.planning import Corpora
from modeling_speechverse.data.sources import DEFAULT_SOURCES_DIR
from modeling_speechverse.mini_llm.evaluation import _score
from modeling_speechverse.mini_llm.instruct import TEXT_TASKS, TextExample, format_text_input, text_examples
from modeling_speechverse.tasks import HELD_OUT_TASKS, get_task
from modeling_speechverse.testing_utils import tiny_t5_tokenizer


@pytest.fixture(scope="module")
def corpora() -> Corpora:
    return Corpora(DEFAULT_SOURCES_DIR)


def test_text_input_is_transcript_tokens_then_instruction_tokens():
    """The audio of SpeechVerse takes exactly the transcript's place: ids = ids(transcript) + ids(instruction)."""
    tokenizer = tiny_t5_tokenizer()
    transcript, instruction = "play some music please", "is the word radio used in the audio"
    ids = tokenizer(format_text_input(transcript, instruction)).input_ids
    assert ids == tokenizer(transcript).input_ids[:-1] + tokenizer(instruction).input_ids
    assert format_text_input(" play music ", "Transcribe the preceding audio.") == (
        "play music\nTranscribe the preceding audio."
    )


@pytest.mark.parametrize("transcript, instruction", [("", "Transcribe."), ("hello", "  "), (None, "Transcribe.")])
def test_empty_or_missing_parts_are_value_errors(transcript, instruction):
    with pytest.raises(ValueError, match="transcript and instruction"):
        format_text_input(transcript, instruction)


def test_held_out_tasks_are_never_instruction_tuned():
    assert not set(TEXT_TASKS) & set(HELD_OUT_TASKS)
    assert not set(TEXT_TASKS) & {"ER", "AC", "SC", "SNS"}


def test_examples_are_seeded_and_use_training_prompts(corpora):
    examples = text_examples(corpora, "ASR", "train", 40, seed=3)
    assert examples == text_examples(corpora, "ASR", "train", 40, seed=3)
    assert {e.instruction for e in examples} <= set(get_task("ASR").train_instructions)
    assert all(e.target == e.transcript for e in examples)
    heldout = text_examples(corpora, "ASR", "test", 20, seed=3, prompt_split="heldout")
    assert {e.instruction for e in heldout} <= set(get_task("ASR").heldout_instructions)


def test_training_examples_never_contain_test_sentences(corpora):
    test_sentences = set(corpora.commands["test"]) | {pair.en for pair in corpora.captions["test"]}
    test_sentences |= {u.text for u in corpora.slu["test"]}
    for task in ("ASR", "IC", "KWS", "ST"):
        assert not {e.transcript for e in text_examples(corpora, task, "train", 300)} & test_sentences, task


def test_ic_uses_seen_intents_with_varied_label_lists(corpora):
    examples = text_examples(corpora, "IC", "train", 200)
    assert {e.target for e in examples} <= set(corpora.seen_intents)
    assert all(e.target in e.labels and e.target in e.instruction for e in examples)
    sizes = Counter(len(e.labels) for e in examples)
    assert sizes[len(corpora.seen_intents)] < len(examples) and min(sizes) < len(corpora.seen_intents)
    test = text_examples(corpora, "IC", "test", 50)
    assert all(e.labels == corpora.seen_intents for e in test)


def test_kws_is_balanced(corpora):
    examples = text_examples(corpora, "KWS", "train", 100)
    assert Counter(e.target for e in examples) == {"yes": 50, "no": 50}
    for example in examples:
        keyword = example.instruction.split("'")[1]
        assert (keyword in re.findall(r"[a-z']+", example.transcript.lower())) == (example.target == "yes")


def test_scores_use_the_task_metric_and_reference_rates():
    asr = [TextExample("ASR", "turn on the lights", "Transcribe.", "turn on the lights")] * 2
    result = _score("ASR", asr, ["turn on the lights", "turn off the lights"])
    assert result["metric"] == "wer" and result["score"] == pytest.approx(12.5)
    assert result["exact_match"] == 50.0
    kws = [
        TextExample("KWS", "a dog runs", "Is 'dog' said?", "yes", ("yes", "no")),
        TextExample("KWS", "a dog runs", "Is 'cat' said?", "no", ("yes", "no")),
    ]
    result = _score("KWS", kws, ["Yes.", "maybe"])
    assert result["score"] == 50.0 and result["majority_rate"] == 50.0 and result["valid_label_rate"] == 50.0
