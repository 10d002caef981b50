"""results.json schema, validating loader, Markdown tables and model-index entries, on hand-made results."""

import copy
import json

import pytest
from huggingface_hub import EvalResult, ModelCardData

from modeling_speechverse.evaluation.report import (
    Results,
    load_results,
    model_index_results,
    render_markdown,
    save_results,
)


def entry(**overrides) -> dict:
    base = {
        "task": "ASR",
        "dataset": "librispeech",
        "split": "test-clean",
        "metric": "wer",
        "value": 2.5,
        "n": 100,
        "n_unparseable": 0,
        "prompts": "seen",
        "constrained": False,
        "joint": False,
        "system": "e2e",
    }
    return {**base, **overrides}


SLURP_UNSEEN = {"task": "IC", "dataset": "slurp-unseen", "split": "test", "metric": "accuracy", "labels": "unseen"}
SPEECHVERSE = {
    "schema_version": 1,
    "model": {"name": "sv-tiny", "variant": "Multitask-WLM"},
    "data": {"asr": "librispeech test-clean"},
    "settings": {"num_beams": 1},
    "results": [
        entry(),
        entry(split="test-other", value=4.7),
        entry(task="IC", dataset="slurp", split="test", metric="accuracy", value=90.3, n_unparseable=2),
        entry(task="ST", dataset="europarl_st/en-de", split="test", metric="bleu", value=25.9),
        entry(task="ER", dataset="msp_podcast", split="test1", metric="uar", value=62.0),
        # Table 5: one seen and two unseen prompts for ASR on voxpopuli
        entry(dataset="voxpopuli", split="test", prompt_id="P1", value=6.8),
        entry(dataset="voxpopuli", split="test", prompt_id="P2", prompts="unseen", value=7.1),
        entry(dataset="voxpopuli", split="test", prompt_id="P3", prompts="unseen", value=6.8),
        # Table 7: unseen labels, with and without descriptions and constrained decoding
        entry(**SLURP_UNSEEN, prompts="unseen", value=51.7),
        entry(**SLURP_UNSEEN, prompts="unseen", constrained=True, value=68.8),
        entry(**SLURP_UNSEEN, prompts="unseen", label_descriptions=True, constrained=True, value=70.2),
        entry(
            task="SF", dataset="slurp-unseen", split="test", metric="sd_f1", labels="unseen", prompts="unseen",
            label_descriptions=True, constrained=True, value=77.47,
        ),
        # Table 9: joint decoding
        entry(task="IC", dataset="slurp", split="test", metric="accuracy", joint=True, value=92.2),
    ],
}
CASCADE = {
    "schema_version": 1,
    "model": {"name": "whisper-flan"},
    "data": {},
    "settings": {},
    "results": [
        entry(task="IC", dataset="slurp", split="test", metric="accuracy", value=86.6, system="cascade"),
        entry(task="ER", dataset="msp_podcast", split="test1", metric="uar", value=60.3, system="baseline-classifier"),
    ],
}


def section(markdown: str, title_start: str) -> str:
    """The body of the `## <title>` section whose title starts with `title_start`."""
    parts = markdown.split("\n## ")
    matches = [part for part in parts if part.startswith(title_start)]
    assert len(matches) == 1, f"no single section {title_start!r}"
    return matches[0].split("\n", 1)[1].strip()


def test_round_trip_through_results_json(tmp_path):
    results = Results.from_dict(SPEECHVERSE)
    path = tmp_path / "results.json"
    save_results(results, path)
    reloaded = load_results(path)
    assert reloaded == results
    saved = json.loads(path.read_text())
    # Optional fields are written out with their defaults
    defaults = {"prompt_id": None, "labels": "seen", "label_descriptions": False}
    assert saved["results"][0] == {**SPEECHVERSE["results"][0], **defaults}


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d["results"][0].update(metric="cer"), r"results\[0\]: metric 'cer' is not one of"),
        (lambda d: d["results"][0].update(task="NER"), r"results\[0\]: task 'NER'"),
        (lambda d: d["results"][0].update(system="oracle"), r"system 'oracle'"),
        (lambda d: d["results"][0].update(prompts="new"), "prompts must be 'seen' or 'unseen'"),
        (lambda d: d["results"][0].update(constrained="no"), "constrained must be true or false"),
        (lambda d: d["results"][2].update(value=100.5), r"accuracy value 100.5 is outside \[0, 100"),
        (lambda d: d["results"][0].update(value=float("nan")), "value must be a finite number"),
        (lambda d: d["results"][0].update(value="2.5"), "value must be a finite number"),
        (lambda d: d["results"][0].update(n=0), "n must be an integer >= 1"),
        (lambda d: d["results"][0].update(n_unparseable=101), r"n_unparseable must be an integer in \[0, n=100\]"),
        (lambda d: d["results"][0].update(dataset=""), "dataset must be a non-empty string"),
        (lambda d: d["results"][0].update(beam=4), r"unknown key\(s\) \['beam'\]"),
        (lambda d: d["results"][0].pop("split"), r"missing key\(s\) \['split'\]"),
        (
            lambda d: d["results"].append(dict(d["results"][1], value=1.0)),
            r"results\[13\] repeats the setting of results\[1\]",
        ),
        (lambda d: d.update(schema_version=2), "schema_version 2 is not supported"),
        (lambda d: d.pop("settings"), r"missing key\(s\) \['settings'\]"),
        (lambda d: d.update(extra=1), r"unknown key\(s\) \['extra'\]"),
        (lambda d: d["model"].pop("name"), "model.name must be a non-empty string"),
        (lambda d: d.update(data=[]), "data must be a JSON object"),
    ],
)
def test_loader_rejects_bad_results(change, message, tmp_path):
    data = copy.deepcopy(SPEECHVERSE)
    change(data)
    path = tmp_path / "results.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match=message):
        load_results(path)


def test_wer_may_exceed_100():
    data = copy.deepcopy(SPEECHVERSE)
    data["results"][0]["value"] = 130.0
    assert Results.from_dict(data).results[0].value == 130.0


def test_table_2_pivots_systems_by_task_dataset_split():
    markdown = render_markdown([Results.from_dict(SPEECHVERSE), Results.from_dict(CASCADE)])
    assert section(markdown, "Table 2") == "\n".join(
        [
            "| System | ASR WER↓ librispeech (test-clean) | ASR WER↓ librispeech (test-other) "
            "| ASR WER↓ voxpopuli (test) | IC ACC↑ slurp (test) | ST BLEU↑ europarl_st/en-de (test) |",
            "|---|---|---|---|---|---|",
            "| sv-tiny (E2E) | 2.5 | 4.7 | 6.8 | 90.3 | 25.9 |",
            "| whisper-flan (ASR → LLM) | – | – | – | 86.6 | – |",
            "",
            "- sv-tiny (E2E), IC slurp (test) accuracy: 2 of 100 outputs could not be parsed (scored as wrong).",
        ]
    )


def test_table_3_has_the_baseline_classifier_row():
    markdown = render_markdown([Results.from_dict(SPEECHVERSE), Results.from_dict(CASCADE)])
    assert section(markdown, "Table 3") == "\n".join(
        [
            "| System | ER UAR↑ msp_podcast (test1) |",
            "|---|---|",
            "| sv-tiny (E2E) | 62.0 |",
            "| whisper-flan (encoder + GRU classifier) | 60.3 |",
        ]
    )


def test_table_5_lists_every_prompt_of_groups_with_an_unseen_prompt():
    assert section(render_markdown(Results.from_dict(SPEECHVERSE)), "Table 5") == "\n".join(
        [
            "| System | Task | Dataset | Prompt | Unseen | Metric | Result |",
            "|---|---|---|---|---|---|---|",
            "| sv-tiny (E2E) | ASR | voxpopuli (test) | P1 | ✗ | WER↓ | 6.8 |",
            "| sv-tiny (E2E) | ASR | voxpopuli (test) | P2 | ✓ | WER↓ | 7.1 |",
            "| sv-tiny (E2E) | ASR | voxpopuli (test) | P3 | ✓ | WER↓ | 6.8 |",
        ]
    )


def test_table_7_rows_by_label_descriptions_and_constrained_decoding():
    assert section(render_markdown(Results.from_dict(SPEECHVERSE), digits=2), "Table 7") == "\n".join(
        [
            "| System | Class label description | CD "
            "| IC ACC↑ slurp-unseen (test) | SF SD-F1↑ slurp-unseen (test) |",
            "|---|---|---|---|---|",
            "| sv-tiny (E2E) | No | No | 51.70 | – |",
            "| sv-tiny (E2E) | No | Yes | 68.80 | – |",
            "| sv-tiny (E2E) | Yes | Yes | 70.20 | 77.47 |",
        ]
    )


def test_table_9_puts_joint_decoding_next_to_single_task_decoding():
    assert section(render_markdown(Results.from_dict(SPEECHVERSE)), "Table 9") == "\n".join(
        [
            "| System | Task | Dataset | Metric | w/o | w/ |",
            "|---|---|---|---|---|---|",
            "| sv-tiny (E2E) | IC | slurp (test) | ACC↑ | 90.3 | 92.2 |",
            "",
            "- sv-tiny (E2E), IC slurp (test) accuracy: 2 of 100 outputs could not be parsed (scored as wrong).",
        ]
    )


def test_empty_tables_say_so():
    markdown = render_markdown(Results.from_dict(CASCADE))
    for title in ("Table 5", "Table 7", "Table 9"):
        assert section(markdown, title) == "_No results._"


def test_two_results_in_one_cell_is_a_clear_error():
    data = copy.deepcopy(SPEECHVERSE)
    # Two seen prompts for the same Table 2 cell: which one is "the" result is ambiguous.
    data["results"].append(entry(dataset="voxpopuli", split="test", prompt_id="P4", value=7.0))
    with pytest.raises(ValueError, match="Table 2: two results fall into the cell"):
        render_markdown(Results.from_dict(data))


def test_model_index_entries_build_a_model_card():
    entries = model_index_results(Results.from_dict(SPEECHVERSE))
    assert len(entries) == len(SPEECHVERSE["results"])
    assert entries[0] == {
        "task_type": "automatic-speech-recognition",
        "task_name": "Automatic Speech Recognition",
        "dataset_type": "librispeech",
        "dataset_name": "librispeech",
        "dataset_split": "test-clean",
        "metric_type": "wer",
        "metric_name": "Word Error Rate",
        "metric_value": 2.5,
    }
    constrained = entries[10]
    assert constrained["metric_name"] == (
        "Accuracy (unseen prompt, unseen labels, with label descriptions, constrained decoding)"
    )
    assert constrained["metric_config"] == "prompts=unseen,labels=unseen,label_descriptions,constrained"
    card = ModelCardData(model_name="sv-tiny", eval_results=[EvalResult(**kwargs) for kwargs in entries]).to_dict()
    metrics = [metric for result in card["model-index"][0]["results"] for metric in result["metrics"]]
    assert sorted(metric["value"] for metric in metrics) == sorted(e["value"] for e in SPEECHVERSE["results"])


def test_model_index_leaves_out_baselines_unless_asked():
    cascade = Results.from_dict(CASCADE)
    assert model_index_results(cascade) == []
    entries = model_index_results(cascade, systems=("cascade",))
    assert [e["metric_name"] for e in entries] == ["Accuracy (ASR → LLM)"]
    assert entries[0]["metric_config"] == "system=cascade"
    with pytest.raises(ValueError, match=r"unknown system\(s\) \['pipeline'\]"):
        model_index_results(cascade, systems=("pipeline",))


def test_entries_outside_the_paper_tables_are_listed_under_other_results():
    data = copy.deepcopy(CASCADE)
    data["results"] += [
        entry(task="INSTRUCT", dataset="alpaca-tts", split="test", metric="bleu", value=12.0, system="e2e"),
        entry(task="IC", dataset="slurp", split="test", metric="accuracy", value=91.0, constrained=True),
    ]
    markdown = render_markdown(Results.from_dict(data))
    assert section(markdown, "Other results") == "\n".join(
        [
            "| System | Task | Dataset | Metric | Setting | Result |",
            "|---|---|---|---|---|---|",
            "| whisper-flan (E2E) | INSTRUCT | alpaca-tts (test) | BLEU↑ | – | 12.0 |",
            "| whisper-flan (E2E) | IC | slurp (test) | ACC↑ | constrained decoding | 91.0 |",
        ]
    )
    assert "Other results" not in render_markdown(Results.from_dict(SPEECHVERSE))
