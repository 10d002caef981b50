"""The evaluation CLIs: `python -m modeling_speechverse.evaluate` (run once, as a subprocess) and the paralinguistic
baseline CLI merging its results into the same folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from test_harness import tiny_corpus

from modeling_speechverse import SpeechVerseForConditionalGeneration, SpeechVerseProcessor
from modeling_speechverse.evaluate import main as evaluate_main
from modeling_speechverse.evaluation.paralinguistic import main as paralinguistic_main
from modeling_speechverse.evaluation.report import load_results
from modeling_speechverse.testing_utils import save_tiny_backbones

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """An adapter-only checkpoint over tiny local backbones (as a real one names Hub ids), and the tiny corpus."""
    root = tmp_path_factory.mktemp("cli")
    audio_backbone, text_backbone = save_tiny_backbones(root / "backbones")
    torch.manual_seed(0)
    model = SpeechVerseForConditionalGeneration.from_backbones(audio_backbone, text_backbone, lora_rank=4)
    processor = SpeechVerseProcessor.from_backbones(audio_backbone, text_backbone, max_audio_seconds=2.5)
    model.save_pretrained(root / "tiny-model")
    processor.save_pretrained(root / "tiny-model")
    assert model.config.checkpoint_contents == "adapters"
    tiny_corpus().save_to_disk(root / "tones")
    return root


@pytest.fixture(scope="module")
def cli_run(saved):
    out = saved / "out"
    options = "--tasks ASR,KWS,ER --table 2 3 --baselines substring --max-new-tokens 4 --batch-size 2".split()
    paths = ["--model", str(saved / "tiny-model"), "--data", str(saved / "tones"), "--out", str(out)]
    command = [sys.executable, "-m", "modeling_speechverse.evaluate", *paths, *options]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    completed = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return out, completed


def test_cli_writes_results_report_and_throughput(cli_run):
    out, completed = cli_run
    results = load_results(out / "results.json")
    assert results.model_name == "tiny-model"
    assert results.model["text_backbone_id"].endswith("tiny-t5")
    systems = {(entry.task, entry.system) for entry in results.results}
    assert systems == {("ASR", "e2e"), ("KWS", "e2e"), ("ER", "e2e"), ("KWS", "substring")}
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
    paths = ["--model", str(saved / "tiny-model"), "--data", str(saved / "tones"), "--out", str(out)]
    paralinguistic_main([*paths, *"--task ER --max-epochs 2 --hidden-size 16".split()])
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
