"""Joint ASR + task decoding: compound instructions, targets and tolerant parsing (paper Table 8)."""

from __future__ import annotations

import random

import pytest

from modeling_speechverse.tasks import JointPrediction, get_task, make_joint_example, parse_joint
from modeling_speechverse.testing_utils import tiny_t5_tokenizer


def test_make_joint_example_for_er():
    instruction, target = make_joint_example("ER", "can you shut up for a while", "angry", random.Random(0))
    assert target == "ASR: can you shut up for a while   Emotion: angry"
    asr_at, er_at = instruction.index("==== Task: ASR ===="), instruction.index("==== Task: Emotion ====")
    assert asr_at < er_at
    asr_part, er_part = instruction[asr_at:er_at], instruction[er_at:]
    assert any(prompt in asr_part for prompt in get_task("ASR").instructions("train"))
    assert '"ASR: ...   Emotion: ..."' in er_part


def test_make_joint_example_fills_task_fields_and_uses_code_as_name():
    instruction, target = make_joint_example(
        "KWS", "turn on the radio now", "yes", random.Random(3), keyword="radio"
    )
    assert "'radio'" in instruction and target.endswith("KWS: yes")
    _, target = make_joint_example("KWE", "paris is the capital of france", "paris, france", random.Random(0))
    assert target == "ASR: paris is the capital of france   KWE: paris, france"


def test_joint_example_is_seeded():
    make = lambda seed: make_joint_example("IC", "play jazz", "play_music", random.Random(seed), labels=["play_music"])
    assert make(5) == make(5)


def test_joint_with_asr_itself_raises():
    with pytest.raises(ValueError, match="ASR itself"):
        make_joint_example("ASR", "a", "a", random.Random(0))


@pytest.mark.parametrize(
    "text, task_code, expected",
    [
        ("ASR: paris is the capital of france   KWE: paris, france", None,
         ("paris is the capital of france", "paris, france")),
        # SentencePiece collapses the three-space separator.
        ("ASR: can you shut up for a while Emotion: angry", "ER", ("can you shut up for a while", "angry")),
        ("asr:turn on the radio now intent:play_radio", "IC", ("turn on the radio now", "play_radio")),
        ("ASR: emotion: is a word   Emotion: neutral", "ER", ("emotion: is a word", "neutral")),
        ("ASR: only a transcript", "ER", ("only a transcript", None)),
        ("ASR: a transcript   Emotion:", "ER", ("a transcript", None)),
        ("Emotion: sad", "ER", (None, "sad")),
        ("ASR:   Emotion: sad", "ER", (None, "sad")),
        ("complete garbage", None, (None, None)),
        ("", "ER", (None, None)),
        ("ASR: hello   Emotion: happy", "not-a-task", ("hello", "happy")),
    ],
)
def test_parse_joint(text, task_code, expected):
    assert parse_joint(text, task_code) == JointPrediction(*expected)


def test_parse_joint_never_raises_on_non_text():
    assert parse_joint(None) == JointPrediction(None, None)  # type: ignore[arg-type]


def test_joint_target_survives_tokenizer_round_trip():
    tokenizer = tiny_t5_tokenizer()
    _, target = make_joint_example("KWE", "paris is the capital of france", "paris, france", random.Random(0))
    decoded = tokenizer.decode(tokenizer(target).input_ids, skip_special_tokens=True)
    prediction = parse_joint(decoded, "KWE")
    assert prediction == JointPrediction("paris is the capital of france", "paris, france")
    assert get_task("KWE").parse_prediction(prediction.answer) == ["paris", "france"]
