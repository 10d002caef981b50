"""The task registry: codes, metrics, label sets, and target render -> parse round trips."""

from __future__ import annotations

import pytest

from modeling_speechverse.tasks import HELD_OUT_TASKS, METRICS, TASKS, TRAINING_TASKS, Task, get_task

PAPER_TASKS = ("ASR", "ST", "IC", "SF", "KWE", "KWS", "ER", "ASC", "SC", "AC", "SNS")


def test_registry_codes_and_splits():
    assert set(PAPER_TASKS) | {"INSTRUCT"} == set(TRAINING_TASKS)
    assert set(HELD_OUT_TASKS) == {"DC", "IC-UNSEEN", "SF-UNSEEN"}
    assert list(TASKS) == [*TRAINING_TASKS, *HELD_OUT_TASKS]
    for code, task in TASKS.items():
        assert isinstance(task, Task) and task.code == code
        assert task.held_out == (code in HELD_OUT_TASKS)
        assert task.metric in METRICS


@pytest.mark.parametrize(
    "code, metric",
    [("ASR", "wer"), ("ST", "bleu"), ("IC", "accuracy"), ("SF", "slu_f1"), ("KWE", "macro_f1"), ("KWS", "accuracy"),
     ("ER", "uar"), ("ASC", "uar"), ("SC", "uar"), ("AC", "uar"), ("SNS", "uar"), ("DC", "accuracy"),
     ("IC-UNSEEN", "accuracy"), ("SF-UNSEEN", "slu_f1")],
)
def test_metrics_follow_table_1(code, metric):
    assert get_task(code).metric == metric


def test_closed_label_sets():
    assert get_task("ER").labels == ("neutral", "happy", "sad", "angry")
    assert get_task("ASC").labels == ("positive", "negative", "neutral")
    assert get_task("SC").labels == ("one", "two")
    assert get_task("SNS").labels == ("speech", "non-speech")
    assert get_task("KWS").labels == ("yes", "no")
    for code in ("IC", "DC", "IC-UNSEEN", "ASR", "SF", "KWE"):
        assert get_task(code).labels is None


def test_accent_labels_cover_the_corpus_voices():
    task = get_task("AC")
    assert dict(task.label_map) == {
        "en-us": "american", "en-gb-x-rp": "british", "en-gb-scotland": "scottish", "en-029": "caribbean",
        "en-gb-x-gbclan": "lancastrian", "en-gb-x-gbcwmd": "west_midlands",
    }
    assert set(task.label_map.values()) == set(task.labels)


def test_get_task_is_lenient_on_spelling_and_rejects_unknown_codes():
    assert get_task("er") is TASKS["ER"]
    assert get_task("ic_unseen") is TASKS["IC-UNSEEN"]
    with pytest.raises(ValueError, match="unknown task 'XYZ'"):
        get_task("XYZ")


def test_unseen_tasks_share_seen_rendering_and_prompts():
    assert get_task("IC-UNSEEN").format == get_task("IC").format
    assert get_task("SF-UNSEEN").format == get_task("SF").format
    assert get_task("SF-UNSEEN").train_instructions == get_task("SF").train_instructions


def test_slurp_descriptions_are_attached():
    assert "radio" in get_task("IC").descriptions["play_radio"]
    assert get_task("SF").descriptions["place_name"]
    assert len(get_task("DC").descriptions) == 18


ROUND_TRIPS = [
    ("ASR", "turn on the radio now"),
    ("ST", "Schalten Sie jetzt das Radio ein."),
    ("INSTRUCT", "1. Preheat the oven.\n2. Mix the flour."),
    ("IC", "play_radio"),
    ("DC", "transport"),
    ("IC-UNSEEN", "iot_hue_lightoff"),
    ("SF", [("time", "now"), ("place_name", "new york")]),
    ("SF", []),
    ("SF-UNSEEN", [("date", "u.s. day"), ("person", "mary = jo")]),
    ("KWE", ["paris", "capital of france"]),
    ("KWE", []),
    ("KWS", "yes"),
    ("KWS", "no"),
    *[(code, label) for code in ("ER", "ASC", "SC", "AC", "SNS") for label in TASKS[code].labels],
]


@pytest.mark.parametrize("code, value", ROUND_TRIPS)
def test_render_parse_round_trip(code, value):
    task = get_task(code)
    assert task.parse_prediction(task.render_target(value)) == value


def test_renderings_follow_corpus_conventions():
    assert get_task("SF").render_target([("time", "now"), ("date", "tomorrow")]) == "time = now; date = tomorrow"
    assert get_task("SF").render_target([]) == "none"
    assert get_task("KWE").render_target(["paris", "france"]) == "paris, france"
    assert get_task("ER").render_target("angry") == "angry"


@pytest.mark.parametrize(
    "code, text, expected",
    [
        ("ER", "  Angry. ", "angry"),
        ("ER", "anger", "angry"),
        ("SNS", "Non speech", "non-speech"),
        ("SC", "2", "two"),
        ("KWS", "YES!", "yes"),
        ("AC", "West Midlands", "west_midlands"),
        ("ER", "excited", None),
        ("IC", "Play_Radio.", "play_radio"),
        ("SF", "Time = now;", [("time", "now")]),
        ("SF", "place name = new  york ; garbage ; date=tomorrow.", [("place_name", "new york"), ("date", "tomorrow")]),
        ("SF", "None.", []),
        ("SF", "no slots here", None),
        ("KWE", "paris ,  france.", ["paris", "france"]),
        ("KWE", " , ", None),
        ("ASR", "  hello world \n", "hello world"),
    ],
)
def test_lenient_parsing(code, text, expected):
    assert get_task(code).parse_prediction(text) == expected


def test_parse_against_per_example_label_sets():
    ic = get_task("IC")
    assert ic.parse_prediction("PLAY RADIO", labels=["play_radio", "play_music"]) == "play_radio"
    assert ic.parse_prediction("weather_query", labels=["play_radio", "play_music"]) is None
    sf = get_task("SF-UNSEEN")
    assert sf.parse_prediction("time = now; person = bob", labels=["person"]) == [("person", "bob")]


@pytest.mark.parametrize(
    "code, value, message",
    [
        ("ER", "excited", "not one of its labels"),
        ("SF", "time = now", "list of"),
        ("SF", [("time", "now; date")], "invalid value"),
        ("SF", [("", "x")], "invalid slot name"),
        ("KWE", ["a, b"], "invalid keyword"),
        ("KWE", "paris", "list of keywords"),
        ("IC", "", "must not be empty"),
        ("ASR", 3, "must be a string"),
    ],
)
def test_render_rejects_values_that_cannot_round_trip(code, value, message):
    with pytest.raises(ValueError, match=message):
        get_task(code).render_target(value)
