"""The tiny recipe end to end on CPU: DeepSpeed ZeRO-2 through `accelerate launch` with 1 and 2 processes, kill -9 and
resume, ZeRO-3 and optimiser offload, and the plain accelerate loop (no DeepSpeed) in this process."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import torch
from accelerate.state import AcceleratorState, GradientState
from conftest import tone
from safetensors.torch import load_file
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tiny_training_corpus import write_tiny_corpus

from modeling_speechverse import (
    SpeechVerseForConditionalGeneration,
    SpeechVerseProcessor,
)
from modeling_speechverse.training import load_recipe, run

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "configuration" / "tiny.yaml"
TASKS = "data.tasks=[ASR,SC,SNS]"
STAGES = [("align", 0, 8), ("lora-warmup", 8, 16), ("multitask", 16, 32)]
LAUNCH_TIMEOUT_S = 300


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return write_tiny_corpus(tmp_path_factory.mktemp("corpus") / "tones")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _launch_command(corpus: Path, output_dir: Path, processes: int, ds_config: str | None, *extra: str) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "accelerate.commands.accelerate_cli",
        "launch",
        "--config_file",
        "accelerate_config.yaml",
        "--num_processes",
        str(processes),
        "--mixed_precision",
        "no",
        "--main_process_port",
        str(_free_port()),
    ]
    if ds_config is not None:
        command += ["--deepspeed_config_file", ds_config]
    overrides = [f"data.corpus={corpus}", f"output_dir={output_dir}", TASKS]
    return command + ["train.py", "--recipe", str(TINY), *(x for o in overrides for x in ("--set", o)), *extra]


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "DS_ACCELERATOR": "cpu", "HF_HUB_OFFLINE": "1"}


def _launch(corpus: Path, output_dir: Path, processes: int, ds_config: str | None = None, *extra: str) -> str:
    result = subprocess.run(
        _launch_command(corpus, output_dir, processes, ds_config, *extra),
        cwd=REPO,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=LAUNCH_TIMEOUT_S,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    return result.stderr


def _summary(output_dir: Path) -> dict:
    return json.loads((output_dir / "summary.json").read_text())


def _final_weights(output_dir: Path) -> dict[str, torch.Tensor]:
    return load_file(output_dir / "final" / "model.safetensors")


def _check_tiny_run(output_dir: Path, processes: int) -> dict:
    """What every full tiny run must show: the curriculum as configured, learning, and a loadable final model."""
    summary = _summary(output_dir)
    assert (summary["processes"], summary["gradient_accumulation_steps"]) == (processes, 2 // processes)
    stages = summary["stages"]
    assert [(s["name"], s["start_step"], s["end_step"]) for s in stages] == STAGES
    assert [s["end_reason"] for s in stages] == [
        "step budget of 8 reached",
        "step budget of 8 reached",
        "train.max_steps (32) reached",
    ]
    assert [s["tasks"] for s in stages] == [["ASR"], ["ASR"], ["ASR", "SC", "SNS"]]
    assert summary["skipped_steps"] == summary["nonfinite_losses"] == 0

    final = output_dir / "final"
    model = SpeechVerseForConditionalGeneration.from_pretrained(final)
    adapters = set(model.adapter_state_dict())
    lora = {name for name in adapters if "lora_" in name}
    # Section 2.3: stage 1 trains the downsampler and layer weights; stage 2 adds LoRA; the backbones never train.
    assert set(stages[0]["trainable_parameters"]) == adapters - lora
    assert set(stages[1]["trainable_parameters"]) == set(stages[2]["trainable_parameters"]) == adapters
    assert set(_final_weights(output_dir)) == adapters

    # Loss falls: training loss, and validation loss per task.
    train_log, eval_log = summary["train_log"], summary["eval_log"]
    assert train_log[-1]["loss"] < 0.5 * train_log[0]["loss"]
    assert eval_log[-1]["tasks"]["ASR"] < 0.5 * eval_log[0]["tasks"]["ASR"]
    assert set(eval_log[-1]["tasks"]) == set(train_log[-1]["tasks"]) == {"ASR", "SC", "SNS"}

    processor = SpeechVerseProcessor.from_pretrained(final)
    inputs = processor(audio=[tone(0.5, 220.0)], sampling_rate=16000, text=["Transcribe the preceding audio."])
    generated = model.generate(**inputs, max_new_tokens=6)
    assert generated.shape[0] == 1 and generated.shape[1] > 1
    assert isinstance(processor.batch_decode(generated, skip_special_tokens=True)[0], str)

    # The last 2 checkpoints are kept, and nothing half-written is left behind.
    assert sorted(p.name for p in (output_dir / "checkpoints").iterdir()) == [
        "checkpoint-0000024",
        "checkpoint-0000028",
    ]
    return summary


@pytest.fixture(scope="module")
def zero2_two_processes(corpus, tmp_path_factory) -> tuple[Path, str]:
    output_dir = tmp_path_factory.mktemp("zero2-2") / "run"
    return output_dir, _launch(corpus, output_dir, 2)


@pytest.fixture(scope="module")
def zero2_one_process(corpus, tmp_path_factory) -> Path:
    output_dir = tmp_path_factory.mktemp("zero2-1") / "run"
    _launch(corpus, output_dir, 1)
    return output_dir


def test_deepspeed_zero2_with_two_processes(zero2_two_processes):
    output_dir, log = zero2_two_processes
    summary = _check_tiny_run(output_dir, processes=2)
    assert summary["deepspeed"] == {"zero_stage": 2, "optimizer": "AdamW"}
    assert summary["samples"] == 253  # 32 steps x 8 examples, less the short last batch of two multitask epochs
    # Progress bar and TensorBoard.
    assert "stage 3/3 multitask" in log and "samples_s=" in log and "audio_h_s=" in log
    events = EventAccumulator(str(next((output_dir / "tensorboard" / "tiny").glob("events.*"))))
    scalars = set(events.Reload().Tags()["scalars"])
    assert {
        "train/loss",
        "train/loss/ASR",
        "train/loss/SC",
        "train/loss/SNS",
        "eval/loss/SNS",
        "curriculum/stage",
        "train/samples_per_second",
        "train/audio_hours_per_second",
        "train/lr",
        "train/skipped_steps",
    } <= scalars


def test_deepspeed_zero2_with_one_process(zero2_one_process):
    summary = _check_tiny_run(zero2_one_process, processes=1)
    assert summary["deepspeed"] == {"zero_stage": 2, "optimizer": "AdamW"}


def _kill_tree(process: subprocess.Popen) -> None:
    """kill -9 the launcher and every process it started."""
    parent = psutil.Process(process.pid)
    for member in [parent, *parent.children(recursive=True)]:
        member.send_signal(signal.SIGKILL)
    process.wait()


def test_kill_9_then_resume_reaches_the_same_weights(zero2_two_processes, corpus, tmp_path):
    uninterrupted, _ = zero2_two_processes
    output_dir = tmp_path / "run"
    process = subprocess.Popen(
        _launch_command(corpus, output_dir, 2, None),
        cwd=REPO,
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + LAUNCH_TIMEOUT_S
    while not (output_dir / "checkpoints" / "checkpoint-0000012").is_dir():
        assert process.poll() is None and time.monotonic() < deadline, "the run ended before its first checkpoints"
        time.sleep(0.05)
    _kill_tree(process)  # in stage 2a, mid-epoch
    assert not (output_dir / "final").exists()

    log = _launch(corpus, output_dir, 2, None, "--resume")
    assert "Resumed from" in log
    resumed, expected = _final_weights(output_dir), _final_weights(uninterrupted)
    assert resumed.keys() == expected.keys()
    assert all(torch.equal(resumed[name], expected[name]) for name in expected)  # bit-identical
    assert [(s["name"], s["start_step"], s["end_step"]) for s in _summary(output_dir)["stages"]] == STAGES


@pytest.mark.parametrize(
    "ds_config, processes, zero_stage, optimizer",
    [("configuration/ds_zero3.json", 2, 3, "AdamW"), ("configuration/ds_zero2_offload.json", 1, 2, "DeepSpeedCPUAdam")],
)
def test_zero3_and_cpu_offload_train_like_zero2(
    ds_config, processes, zero_stage, optimizer, zero2_one_process, zero2_two_processes, corpus, tmp_path
):
    output_dir = tmp_path / "run"
    _launch(corpus, output_dir, processes, ds_config)
    summary = _check_tiny_run(output_dir, processes)
    assert summary["deepspeed"] == {"zero_stage": zero_stage, "optimizer": optimizer}
    reference = zero2_two_processes[0] if processes == 2 else zero2_one_process
    expected, weights = _final_weights(reference), _final_weights(output_dir)
    for name, value in expected.items():
        torch.testing.assert_close(weights[name], value, rtol=1e-3, atol=1e-4)


# ------------------------------------------------------------------------------------------ without DeepSpeed


@pytest.fixture
def in_process(corpus):
    """Run `run()` in this process (plain accelerate, no DeepSpeed) with fresh accelerate state."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)

    def train(output_dir: Path, *overrides: str, resume: bool = False) -> Path:
        recipe = load_recipe(TINY, [f"data.corpus={corpus}", f"output_dir={output_dir}", TASKS, *overrides])
        try:
            return run(recipe, resume=resume)
        finally:
            AcceleratorState._reset_state(reset_partial_state=True)
            GradientState._reset_state()

    yield train
    torch.set_num_threads(threads)


def test_stop_and_resume_without_deepspeed_is_bit_identical(in_process, tmp_path):
    uninterrupted = in_process(tmp_path / "a", "train.max_steps=16")
    # Stop at step 12 (its last checkpoint: step 8, just after the switch to stage 2a), then resume to step 16.
    in_process(tmp_path / "b", "train.max_steps=12")
    resumed = in_process(tmp_path / "b", "train.max_steps=16", resume=True)
    expected, weights = load_file(uninterrupted / "model.safetensors"), load_file(resumed / "model.safetensors")
    assert all(torch.equal(weights[name], expected[name]) for name in expected)
    assert _summary(tmp_path / "b")["deepspeed"] is None


def test_training_on_cached_encoder_states_follows_the_encoder_run(in_process, tmp_path):
    plain = in_process(tmp_path / "plain", "train.max_steps=16")
    cached = in_process(tmp_path / "cached", "train.max_steps=16", "data.cache_encoder_states=true")
    expected, weights = load_file(plain / "model.safetensors"), load_file(cached / "model.safetensors")
    assert weights.keys() == expected.keys()
    for name in expected:  # float16 storage of the states is the only difference
        drift = (weights[name] - expected[name]).norm() / expected[name].norm()
        assert drift < 1e-2, f"{name} drifted by {drift:.2%}"
    losses = [[entry["loss"] for entry in _summary(tmp_path / run)["train_log"]] for run in ("plain", "cached")]
    assert losses[1] == pytest.approx(losses[0], rel=1e-2)


def test_plateaus_early_stopping_and_a_non_finite_step(in_process, tmp_path, monkeypatch):
    forward = SpeechVerseForConditionalGeneration.forward
    training_calls = []

    def poisoned_forward(self, *args, **kwargs):
        outputs = forward(self, *args, **kwargs)
        if self.training:
            training_calls.append(1)
            if len(training_calls) == 3:  # step 2's first micro-batch (2 per step)
                outputs.loss = outputs.loss * float("nan")
        return outputs

    monkeypatch.setattr(SpeechVerseForConditionalGeneration, "forward", poisoned_forward)
    output_dir = tmp_path / "run"
    in_process(
        output_dir,
        "curriculum.0.max_steps=null",
        "curriculum.0.patience=2",
        "curriculum.2.patience=2",
        "eval.every_steps=2",
        "eval.min_delta=100",
        "logging.every_steps=1",
        "checkpoint.every_steps=1",
        "checkpoint.keep_last=100",
    )
    summary = _summary(output_dir)
    plateau = "validation loss did not improve for 2 evaluations"
    # Evaluations at steps 2, 4, 6...: the first sets the stage's best, two more without improvement end the stage.
    assert [(s["name"], s["start_step"], s["end_step"], s["end_reason"]) for s in summary["stages"]] == [
        ("align", 0, 6, plateau),
        ("lora-warmup", 6, 14, "step budget of 8 reached"),
        ("multitask", 14, 20, plateau),
    ]
    assert summary["global_step"] == 20 and summary["stop_reason"] == plateau  # early stopping before max_steps

    assert (summary["nonfinite_losses"], summary["skipped_steps"]) == (1, 1)
    weights = {
        step: load_file(output_dir / "checkpoints" / f"checkpoint-{step:07d}" / "model.safetensors")
        for step in (1, 2, 3, 6, 7)
    }
    assert all(torch.equal(weights[1][name], weights[2][name]) for name in weights[1])  # step 2 skipped
    assert not torch.equal(weights[2]["downsampler.convs.0.weight"], weights[3]["downsampler.convs.0.weight"])
    assert all(torch.isfinite(value).all() for value in load_file(output_dir / "final" / "model.safetensors").values())

    # LoRA is out of stage 1 (its B matrices stay at their zero init) and trains from stage 2a on.
    lora_b = [name for name in weights[6] if "lora_B" in name]
    assert lora_b and all(not weights[6][name].any() for name in lora_b)
    assert any(weights[7][name].any() for name in lora_b)
    assert not torch.equal(weights[1]["layer_weighting.layer_logits"], weights[6]["layer_weighting.layer_logits"])
