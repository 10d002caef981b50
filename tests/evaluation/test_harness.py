"""The evaluation harness: configurations, instructions, scoring, and a full run of a tiny model on a tiny corpus."""

from __future__ import annotations

import io
import json

import datasets
import pytest
import soundfile
from conftest import make_tiny, tone

from modeling_speechverse.data.schema import FEATURES
from modeling_speechverse.evaluation.harness import (
    EvalConfig,
    build_instruction,
    evaluate,
    merge_results,
    results_for,
    write_outputs,
    select_tasks,
    table_configs,
)
from modeling_speechverse.evaluation.paralinguistic import ClassifierRecipe
from modeling_speechverse.evaluation.report import ResultEntry, Results, render_markdown
from modeling_speechverse.evaluation.scoring import entry_task, label_setting, parse_output, score_outputs
from modeling_speechverse.tasks import HELD_OUT_TASKS, get_task


INTENTS = ["play_radio", "weather_query", "calendar_set"]
UNSEEN_INTENTS = ["alarm_set", "cooking_recipe", "iot_coffee"]
DOMAINS = ["weather", "music", "alarm"]
SLOTS = ["date", "time", "place_name"]
# (task, target, extra columns); the 3-second ASR clip is longer than the tiny processor's 2.5 s limit.
TEST_ROWS = [
    ("ASR", "hello world", {}),
    ("ASR", "turn on the lights", {"seconds": 3.0}),
    ("IC", "play_radio", {"labels": INTENTS}),
    ("IC", "weather_query", {"labels": INTENTS}),
    ("IC-UNSEEN", "alarm_set", {"labels": UNSEEN_INTENTS}),
    ("IC-UNSEEN", "iot_coffee", {"labels": UNSEEN_INTENTS}),
    ("SF", "date = today", {"labels": SLOTS}),
    ("SF", "none", {"labels": SLOTS}),
    ("KWS", "yes", {"keyword": "hello", "labels": ["yes", "no"]}),
    ("KWS", "no", {"keyword": "radio", "labels": ["yes", "no"]}),
    ("ER", "happy", {}),
    ("ER", "sad", {}),
    ("SC", "one", {}),
    ("SC", "two", {}),
    ("SNS", "speech", {}),
    ("SNS", "non-speech", {}),
    ("DC", "weather", {"labels": DOMAINS}),
    ("DC", "music", {"labels": DOMAINS}),
]
# The classifier baseline trains on these (one clip per class, in train and validation).
TRAIN_ROWS = [(task, label, {}) for task in ("ER", "SC", "SNS") for label in get_task(task).labels]
CLOSED_TASKS = ("IC", "IC-UNSEEN", "KWS", "ER", "SC", "SNS", "DC")


def wav_bytes(seconds: float, freq: float) -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, tone(seconds, freq), 16000, format="WAV")
    return buffer.getvalue()


def corpus_split(split: str, rows) -> datasets.Dataset:
    examples = []
    for index, (task, target, extra) in enumerate(rows):
        extra = dict(extra)
        seconds = extra.pop("seconds", 0.5 + 0.1 * (index % 4))
        examples.append(
            {
                "id": f"{split}-{index:03d}",
                "audio": {"bytes": wav_bytes(seconds, 200.0 + 40 * index), "path": None},
                "task": task,
                "target": target,
                "transcript": "hello world",
                "instruction": "",
                "keyword": "",
                "target_language": "",
                "labels": [],
                "seen": not get_task(task).held_out,
                "source": "tones",
                "voice": "",
                "accent": "",
                "duration": seconds,
                **extra,
            }
        )
    return datasets.Dataset.from_list(examples, features=FEATURES)


def tiny_corpus() -> datasets.DatasetDict:
    """Tone clips in the corpus schema: test rows for nine tasks, train/validation rows for ER, SC and SNS."""
    return datasets.DatasetDict(
        {
            "train": corpus_split("train", TRAIN_ROWS),
            "validation": corpus_split("validation", TRAIN_ROWS),
            "test": corpus_split("test", TEST_ROWS),
        }
    )


def count(task: str) -> int:
    return sum(row[0] == task for row in TEST_ROWS)


@pytest.fixture(scope="module")
def corpus():
    return tiny_corpus()


@pytest.fixture(scope="module")
def tiny_model():
    return make_tiny()


@pytest.fixture(scope="module")
def table_run(tiny_model, corpus):
    """Every paper table's configurations and every baseline, on the tiny model and corpus."""
    model, processor = tiny_model
    return evaluate(
        model,
        processor,
        {"tones": corpus},
        configs=table_configs(["all"]),
        baselines=["cascade", "gt-llm", "substring", "classifier"],
        max_new_tokens=4,
        recipe=ClassifierRecipe(hidden_size=16, max_epochs=3),
        progress=False,
    )


def find(entries, **fields) -> list[ResultEntry]:
    return [entry for entry in entries if all(getattr(entry, key) == value for key, value in fields.items())]


# ---------------------------------------------------------------------------------------------------------------------
# Configurations and instructions


def test_table_configs_cover_the_paper_tables():
    table_7 = table_configs(["7"])
    assert {(config.label_descriptions, config.constrained) for config in table_7} == {
        (False, False),
        (False, True),
        (True, False),
        (True, True),
    }
    assert all(config.tasks == frozenset(HELD_OUT_TASKS) for config in table_7)
    table_5 = table_configs(["5"])
    assert [config.prompt_id for config in table_5] == [None, "H1", "H2", "H3"]
    assert all(config.prompts == "unseen" for config in table_5[1:])
    assert any(config.joint for config in table_configs(["9"]))
    everything = table_configs(["all"])
    assert len(everything) == len(set(everything)) == 1 + 3 + 4 + 1
    with pytest.raises(ValueError, match="table"):
        table_configs(["4"])


def test_eval_config_rejects_bad_combinations():
    with pytest.raises(ValueError, match="joint"):
        EvalConfig(joint=True, constrained=True)
    with pytest.raises(ValueError, match="prompts"):
        EvalConfig(prompts="heldout")
    with pytest.raises(ValueError, match="unknown task"):
        EvalConfig(tasks=frozenset({"XYZ"}))
    assert not EvalConfig(joint=True).applies_to("ASR")  # nothing to decode jointly with the transcript
    assert not EvalConfig(template=99).applies_to("ASR")


def test_instructions_come_from_the_requested_prompt_bank():
    example = {"id": "x-1", "task": "ASR", "target": "hi", "transcript": "hi", "labels": []}
    asr = get_task("ASR")
    assert build_instruction(EvalConfig(), "ASR", example) in asr.train_instructions
    assert build_instruction(EvalConfig(prompts="unseen"), "ASR", example) in asr.heldout_instructions
    assert build_instruction(EvalConfig(prompts="unseen", template=1), "ASR", example) == asr.heldout_instructions[1]
    # the same example gets the same drawn prompt every time, so configs and baselines ask alike
    assert build_instruction(EvalConfig(), "ASR", example, seed=3) == build_instruction(EvalConfig(), "ASR", example, 3)


def test_joint_and_described_instructions():
    example = {"id": "x-2", "task": "DC", "target": "music", "transcript": "play a song", "labels": DOMAINS}
    described = build_instruction(EvalConfig(label_descriptions=True), "DC", example)
    assert all(f"- {label}:" in described for label in DOMAINS)
    plain = build_instruction(EvalConfig(), "DC", example)
    assert "- music:" not in plain and "music" in plain
    er = {"id": "x-3", "task": "ER", "target": "sad", "transcript": "oh no", "labels": []}
    assert "==== Task: ASR ====" in build_instruction(EvalConfig(joint=True), "ER", er)


# ---------------------------------------------------------------------------------------------------------------------
# Scoring


def test_unparseable_outputs_are_counted_and_scored_wrong():
    examples = [{"id": str(i), "target": target, "labels": INTENTS} for i, target in enumerate(INTENTS)]
    [score] = score_outputs("IC", ["Play radio.", "I think it is about the weather", None], examples)
    assert (score.metric, score.n, score.n_unparseable) == ("accuracy", 3, 2)
    assert score.value == pytest.approx(100 / 3)


def test_slot_filling_gets_slu_f1_and_sd_f1_and_unseen_tasks_map_to_unseen_labels():
    examples = [{"id": "0", "target": "date = today; time = noon", "labels": SLOTS}]
    scores = score_outputs("SF-UNSEEN", ["date = today; time = noon"], examples)
    assert [(score.metric, score.value) for score in scores] == [("slu_f1", 100.0), ("sd_f1", 100.0)]
    # a wrong value keeps the slot label right: SD-F1 stays perfect, SLU-F1 drops
    slu, sd = score_outputs("SF", ["date = tomorrow; time = noon"], examples)
    assert sd.value == 100.0 and slu.value < 100.0
    assert (entry_task("SF-UNSEEN"), label_setting("SF-UNSEEN")) == ("SF", "unseen")
    assert (entry_task("IC-UNSEEN"), label_setting("IC-UNSEEN")) == ("IC", "unseen")
    assert (entry_task("DC"), label_setting("DC"), label_setting("IC")) == ("DC", "unseen", "seen")


def test_joint_outputs_are_scored_on_their_answer():
    examples = [{"id": "0", "target": "sad", "labels": []}, {"id": "1", "target": "happy", "labels": []}]
    [score] = score_outputs("ER", ["ASR: oh no   Emotion: sad", "ASR: what a day"], examples, joint=True)
    assert (score.n_unparseable, score.value) == (1, 50.0)
    assert parse_output("ER", "ASR: x Emotion: Sadness.", None, joint=True) == "sad"


def test_a_bad_reference_fails_before_any_generation(corpus):
    broken = corpus_split("test", [("IC", "not_an_intent", {"labels": INTENTS})])
    with pytest.raises(ValueError, match="test-000.*not_an_intent"):
        select_tasks({"bad": datasets.DatasetDict({"test": broken})}, "test")
    with pytest.raises(ValueError, match=r"no test examples of task\(s\) \['ST'\]"):
        select_tasks({"tones": corpus}, "test", tasks=["ST"])
    with pytest.raises(ValueError, match="no split 'dev'"):
        select_tasks({"tones": corpus}, "dev")


def test_st_is_scored_per_language_pair(corpus):
    rows = [("ST", "Hallo", {"target_language": "German"}), ("ST", "Salut", {"target_language": "French"})]
    [item] = select_tasks({"tones": datasets.DatasetDict({"test": corpus_split("test", rows)})}, "test")
    assert item.subsets() == [("tones/en-de", [0]), ("tones/en-fr", [1])]


def _old_and_new_results() -> tuple[Results, Results]:
    def entry(value: float, **overrides) -> ResultEntry:
        fields = dict(
            task="ER",
            dataset="d",
            split="test",
            metric="uar",
            value=value,
            n=4,
            n_unparseable=0,
            prompts="seen",
            constrained=False,
            joint=False,
            system="e2e",
        )
        return ResultEntry(**{**fields, **overrides})

    old = Results(
        {"name": "m"}, {"d": {"split": "test"}}, {"seed": 0, "nested": {"a": 1}}, (entry(10.0), entry(5.0, task="SC"))
    )
    new = Results({"name": "other"}, {}, {"nested": {"b": 2}}, (entry(20.0), entry(30.0, system="baseline-classifier")))
    return old, new


def test_merging_replaces_entries_of_the_same_setting():
    old, new = _old_and_new_results()
    merged = merge_results(old, new)
    assert sorted((entry.task, entry.system, entry.value) for entry in merged.results) == [
        ("ER", "baseline-classifier", 30.0),
        ("ER", "e2e", 20.0),
        ("SC", "e2e", 5.0),
    ]
    assert merged.model == {"name": "m"} and merged.settings == {"seed": 0, "nested": {"a": 1, "b": 2}}


def test_merged_runs_keep_every_prediction(tmp_path):
    old, new = _old_and_new_results()
    write_outputs(old, tmp_path, predictions=[{"id": "a"}])
    write_outputs(new, tmp_path, merge=True, predictions=[{"id": "b"}])
    lines = (tmp_path / "predictions.jsonl").read_text().splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["a", "b"]
    write_outputs(new, tmp_path, predictions=[{"id": "c"}])  # a fresh run starts the file again
    assert (tmp_path / "predictions.jsonl").read_text().splitlines() == ['{"id": "c"}']


# ---------------------------------------------------------------------------------------------------------------------
# A full run on the tiny model


def test_the_report_has_every_paper_table(table_run):
    results = results_for("models/tiny", None, table_run.data, table_run.settings, table_run.entries)
    assert results.model_name == "tiny"
    markdown = render_markdown(results)
    for title in ("Table 2", "Table 3", "Table 5", "Table 7", "Table 9"):
        body = markdown.split(f"## {title}", 1)[1].split("\n## ", 1)[0]
        assert "_No results._" not in body, title
    assert "Other results" not in markdown


def test_every_task_and_setting_is_scored_on_all_its_examples(table_run):
    entries = table_run.entries
    for task in ("ASR", "IC", "SF", "KWS", "ER", "SC", "SNS"):
        [entry] = find(
            entries,
            task=task,
            system="e2e",
            metric=get_task(task).metric,
            prompts="seen",
            constrained=False,
            joint=False,
            labels="seen",
        )
        assert entry.n == count(task)
    assert len(find(entries, task="SF", system="e2e", labels="seen")) == 2  # slu_f1 and sd_f1
    assert {entry.prompt_id for entry in find(entries, task="ASR", prompts="unseen")} == {"H1", "H2", "H3"}
    table_7 = find(entries, task="IC", labels="unseen")
    assert {(entry.label_descriptions, entry.constrained) for entry in table_7} == {
        (False, False),
        (False, True),
        (True, False),
        (True, True),
    }
    assert all(entry.n == count("IC-UNSEEN") for entry in table_7)
    assert {entry.task for entry in find(entries, joint=True)} == {"IC", "ER"}
    # DC was never trained on, so even its "train" prompts are unseen
    assert {entry.prompts for entry in find(entries, task="DC")} == {"unseen"}


def test_unreadable_audio_is_counted_not_fatal(table_run):
    [asr] = find(table_run.entries, task="ASR", system="e2e", prompts="seen")
    assert asr.n == 2 and asr.n_unparseable == 1  # the 3 s clip exceeds the processor's limit
    assert sum(table_run.settings["audio_failures"].values()) == 4  # once per ASR configuration
    assert [row["output"] for row in table_run.predictions if row["id"] == "test-001"] == [None] * 4


def test_random_model_outputs_are_unparseable_without_constraints(table_run):
    for task in ("IC", "KWS", "ER"):
        [entry] = find(table_run.entries, task=task, system="e2e", labels="seen", joint=False)
        assert entry.n_unparseable == entry.n == count(task)
        assert entry.value == 0.0


def test_constrained_decoding_makes_every_closed_task_output_parseable(tiny_model, corpus):
    model, processor = tiny_model
    run = evaluate(
        model,
        processor,
        {"tones": corpus},
        tasks=[*CLOSED_TASKS, "SF"],
        configs=[EvalConfig(constrained=True)],
        max_new_tokens=6,
        progress=False,
    )
    closed = [entry for entry in run.entries if entry.task != "SF"]
    assert len(closed) == len(CLOSED_TASKS)
    assert all(entry.constrained and entry.n_unparseable == 0 for entry in closed)
    for row in run.predictions:
        task = get_task(row["task"])
        if task.format == "label":
            labels = corpus["test"][int(row["id"].split("-")[1])]["labels"] or task.labels
            assert row["output"] in labels
        else:  # slot names are constrained, values are free
            parsed = task.parse_prediction(row["output"]) or []
            assert {slot for slot, _ in parsed} <= set(SLOTS)


def test_baselines_run_end_to_end(table_run):
    entries = table_run.entries
    for system in ("cascade", "gt-llm"):
        assert {entry.task for entry in find(entries, system=system)} == {"IC", "SF", "KWS"}
    [substring] = find(entries, system="substring")
    assert substring.task == "KWS" and substring.n == count("KWS")
    classifier = find(entries, system="baseline-classifier")
    assert {entry.task for entry in classifier} == {"ER", "SC", "SNS"}
    assert all(entry.metric == "uar" and entry.n == count(entry.task) for entry in classifier)
    trained = table_run.settings["baseline_classifier"]["tones/ER"]
    assert trained["examples"] == {"train": 4, "validation": 4, "test": 2} and trained["epochs"] >= 1
    assert table_run.settings["text_only_template"] == "{transcript}\n{instruction}"
    cascade_rows = [row for row in table_run.predictions if row["system"] == "gt-llm"]
    assert len(cascade_rows) == count("IC") + count("SF") + count("KWS")


def test_throughput_is_reported(table_run):
    speed = table_run.settings["throughput"]["e2e"]
    generated = sum(1 for row in table_run.predictions if row["system"] == "e2e" and row["output"] is not None)
    assert speed["examples"] == generated
    assert speed["examples_per_second"] > 0 and speed["audio_seconds_per_second"] > 0
    assert table_run.settings["throughput"]["baselines"]["examples"] > 0


def test_classifier_baseline_needs_train_and_validation_clips(tiny_model):
    model, processor = tiny_model
    test = corpus_split("test", [("SNS", "speech", {}), ("SNS", "non-speech", {})])
    er_only = {split: corpus_split(split, [("ER", "happy", {})]) for split in ("train", "validation")}
    with pytest.raises(ValueError, match=r"lacks \['validation'\]"):  # checked before any generation
        evaluate(
            model, processor, {"x": datasets.DatasetDict(train=er_only["train"], test=test)}, baselines=["classifier"]
        )
    # no SNS clip to train on: the classifier is skipped with a note, the model's results still count
    run = evaluate(
        model,
        processor,
        {"x": datasets.DatasetDict(**er_only, test=test)},
        baselines=["classifier"],
        max_new_tokens=2,
        progress=False,
    )
    assert [(entry.task, entry.system) for entry in run.entries] == [("SNS", "e2e")]
    assert "no train examples" in run.settings["baseline_classifier"]["x/SNS"]["error"]
