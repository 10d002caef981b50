"""Instruction banks: sizes, split separation, seeded sampling and template filling."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from modeling_speechverse.tasks import TASKS, get_task

FIELDS = {
    "ST": {"language": "German"},
    "IC": {"labels": ["play_radio", "datetime_query"]},
    "IC-UNSEEN": {"labels": ["iot_coffee", "qa_maths"]},
    "DC": {"labels": ["weather", "transport"]},
    "SF": {"slots": ["time", "place_name"]},
    "SF-UNSEEN": {"slots": ["person", "date"]},
    "KWS": {"keyword": "radio"},
    "INSTRUCT": {"instruction": "Summarize the input in one sentence."},
}


@pytest.mark.parametrize("code", list(TASKS))
def test_bank_sizes_and_distinct_prompts(code):
    task = get_task(code)
    train, heldout = task.instructions("train"), task.instructions("heldout")
    assert len(set(train)) == len(train) >= 15
    assert len(set(heldout)) == len(heldout) >= 3
    assert not set(train) & set(heldout)


@pytest.mark.parametrize("code", list(TASKS))
def test_heldout_prompts_never_sampled_for_training(code):
    task, rng = get_task(code), random.Random(0)
    fields = FIELDS.get(code, {})
    heldout = {task.fill_instruction(template, **fields) for template in task.instructions("heldout")}
    samples = Counter(task.sample_instruction(rng, "train", **fields) for _ in range(10_000))
    assert not heldout & set(samples)
    # Uniform: every training template shows up, none far from 10k / n.
    assert len(samples) == len(task.instructions("train"))
    expected = 10_000 / len(samples)
    assert all(0.7 * expected < count < 1.3 * expected for count in samples.values())


def test_sampling_is_seeded():
    task = get_task("ASR")
    first = [task.sample_instruction(random.Random(7)) for _ in range(3)]
    assert first == [task.sample_instruction(random.Random(7)) for _ in range(3)]
    rng = random.Random(7)
    assert len({task.sample_instruction(rng) for _ in range(50)}) > 5


@pytest.mark.parametrize("split", ["train", "heldout"])
@pytest.mark.parametrize("code", list(TASKS))
def test_fields_are_filled(code, split):
    task, rng = get_task(code), random.Random(1)
    for _ in range(30):
        instruction = task.sample_instruction(rng, split, **FIELDS.get(code, {}))
        assert "{" not in instruction and "}" not in instruction
        for value in FIELDS.get(code, {}).values():
            for item in [value] if isinstance(value, str) else value:
                assert item in instruction


def test_closed_label_tasks_fill_their_own_labels():
    task = get_task("ER")
    templates = [t for t in task.instructions("train") if "{labels}" in t]
    assert templates
    assert task.fill_instruction(templates[0]) == templates[0].format(labels="neutral, happy, sad, angry")


def test_label_descriptions_in_prompt():
    task = get_task("IC")
    template = task.instructions("train")[0]
    plain = task.fill_instruction(template, labels=["play_radio", "made_up_intent"])
    assert plain.endswith("play_radio, made_up_intent")
    described = task.fill_instruction(template, labels=["play_radio", "made_up_intent"], describe=True)
    assert f"- play_radio: {task.descriptions['play_radio']};" in described
    assert "- made_up_intent: made up intent;" in described  # generated from the name
    custom = task.fill_instruction(template, labels=["play_radio"], describe={"play_radio": "radio please"})
    assert "- play_radio: radio please;" in custom


def test_st_accepts_any_target_language():
    instruction = get_task("ST").sample_instruction(random.Random(0), language="Klingon")
    assert "Klingon" in instruction


@pytest.mark.parametrize(
    "code, kwargs, message",
    [
        ("IC", {}, "needs instruction field"),
        ("KWS", {"keyword": ""}, "needs instruction field"),
        ("ASR", {"keyword": "radio"}, "has no instruction field"),
        ("IC", {"labels": "play_radio"}, "non-empty sequence"),
        ("ST", {"language": ["German"]}, "must be a string"),
    ],
)
def test_bad_fields_raise(code, kwargs, message):
    with pytest.raises(ValueError, match=message):
        get_task(code).sample_instruction(random.Random(0), **kwargs)


def test_unknown_split_raises():
    with pytest.raises(ValueError, match="split must be one of"):
        get_task("ASR").sample_instruction(random.Random(0), "test")
