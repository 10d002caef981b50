"""The evaluation CLIs: `python -m modeling_speechverse.evaluate` (run once, as a subprocess) and the paralinguistic
baseline CLI merging its results into the same folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import make_tiny
from test_harness import tiny_corpus

from modeling_speechverse.evaluate import main as evaluate_main
from modeling_speechverse.evaluation.paralinguistic import main as paralinguistic_main
from modeling_speechverse.evaluation.report import load_results


REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A tiny checkpoint (model and processor) and the tiny corpus, saved as the CLI reads them."""
    root = tmp_path_factory.mktemp("cli")
    model, processor = make_tiny()
    model.save_pretrained(root / "tiny-model")
    processor.save_pretrained(root / "tiny-model")
    tiny_corpus().save_to_disk(root / "tones")
    return root


@pytest.fixture(scope="module")
def cli_run(saved):
    out = saved / "out"
    command = [
        sys.executable,
        "-m",
        "modeling_speechverse.evaluate",
        "--model",
        str(saved / "tiny-model"),
        "--data",
        str(saved / "tones"),
        "--tasks",
        "ASR,KWS,ER",
        "--table",
        "2",
        "3",
        "--baselines",
        "substring",
        "--max-new-tokens",
        "4",
        "--batch-size",
        "2",
        "--out",
        str(out),
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    completed = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return out, completed


def test_cli_writes_results_report_and_throughput(cli_run):
    out, completed = cli_run
    results = load_results(out / "results.json")
    assert results.model_name == "tiny-model"
    assert {(entry.task, entry.system) for entry in results.results} == {
        ("ASR", "e2e"),
        ("KWS", "e2e"),
        ("ER", "e2e"),
        ("KWS", "substring"),
    }
    assert all(entry.dataset == "tones" and entry.split == "test" for entry in results.results)
    assert results.settings["throughput"]["e2e"]["examples"] == 5  # 6 test clips, one too long for the processor
    assert results.settings["device"] == "cpu" and results.settings["batch_size"] == 2
    report = (out / "report.md").read_text()
    assert "## Table 2" in report and "| tiny-model (ASR → substring search) |" in report
    assert "examples/s" in completed.stdout and "audio s/s" in completed.stdout
    assert "Evaluating" in completed.stderr  # the progress bar
    predictions = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert len(predictions) == 6 + 2  # e2e outputs for every example, substring answers for KWS


def test_paralinguistic_cli_merges_into_the_results(cli_run, saved):
    out, _ = cli_run
    before = load_results(out / "results.json")
    paralinguistic_main(
        [
            "--model",
            str(saved / "tiny-model"),
            "--data",
            str(saved / "tones"),
            "--task",
            "ER",
            "--out",
            str(out),
            "--max-epochs",
            "2",
            "--hidden-size",
            "16",
        ]
    )
    after = load_results(out / "results.json")
    [classifier] = [entry for entry in after.results if entry.system == "baseline-classifier"]
    assert (classifier.task, classifier.metric, classifier.n) == ("ER", "uar", 2)
    assert set(before.results) < set(after.results) and len(after.results) == len(before.results) + 1
    assert after.settings["baseline_classifier"]["tones/ER"]["recipe"]["hidden_size"] == 16
    assert "encoder + GRU classifier" in (out / "report.md").read_text()


def test_cli_rejects_conflicting_options(saved, capsys):
    with pytest.raises(SystemExit) as raised:
        evaluate_main(["--model", "m", "--data", "d", "--out", "o", "--table", "all", "--constrained"])
    assert raised.value.code == 2 and "--table runs its own configurations" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        evaluate_main(["--model", "m", "--data", "d", "--out", "o", "--joint", "--constrained"])
    with pytest.raises(SystemExit) as raised:
        evaluate_main(["--model", str(saved / "tiny-model"), "--data", str(saved / "missing"), "--out", "o"])
    assert raised.value.code == 2 and "error:" in capsys.readouterr().err
