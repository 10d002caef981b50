"""The `infer` command line: one clip, one instruction, an answer on standard output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CLIP = Path(__file__).resolve().parents[1] / "space" / "examples" / "turn_on_the_radio.wav"


def infer(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "modeling_speechverse.infer", *args]
    return subprocess.run(command, capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})


def test_constrained_answer_is_a_label(tiny_checkpoint):
    result = infer("--model", str(tiny_checkpoint), "--audio", str(CLIP), "--task", "KWS", "--labels", "yes,no",
                   "--constrained", "--max-new-tokens", "8")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() in {"yes", "no"}
    assert "radio" not in result.stdout and "[" in result.stderr  # the drawn instruction goes to stderr


def test_free_answer_and_given_instruction(tiny_checkpoint):
    result = infer("--model", str(tiny_checkpoint), "--audio", str(CLIP), "--instruction", "Transcribe the audio",
                   "--max-new-tokens", "4")
    assert result.returncode == 0, result.stderr
    assert "[Transcribe the audio]" in result.stderr


def test_bad_input_is_one_line_and_exit_2(tiny_checkpoint, tmp_path):
    notes = tmp_path / "notes.wav"
    notes.write_text("not audio")
    result = infer("--model", str(tiny_checkpoint), "--audio", str(notes))
    assert result.returncode == 2 and "not audio" in result.stderr and "Traceback" not in result.stderr
    missing = infer("--model", str(tmp_path / "nowhere"), "--audio", str(CLIP))
    assert missing.returncode == 2 and "No model found" in missing.stderr
