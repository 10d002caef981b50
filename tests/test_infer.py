"""The `infer` command line: one clip, one instruction, an answer on standard output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from modeling_speechverse import SpeechVerseConfig, SpeechVerseForConditionalGeneration, SpeechVerseProcessor
from modeling_speechverse.testing_utils import save_tiny_backbones

CLIP = Path(__file__).resolve().parents[1] / "space" / "examples" / "turn_on_the_radio.wav"


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    work = tmp_path_factory.mktemp("infer")
    audio_id, text_id = save_tiny_backbones(work)
    torch.manual_seed(0)
    config = SpeechVerseConfig.from_backbones(audio_id, text_id, lora_rank=4, max_audio_frames=1500)
    model = SpeechVerseForConditionalGeneration.from_backbones(config=config)
    processor = SpeechVerseProcessor.from_backbones(audio_id, text_id, max_audio_seconds=config.max_audio_seconds)
    model.save_pretrained(work / "model")
    processor.save_pretrained(work / "model")
    return work / "model"


def infer(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "modeling_speechverse.infer", *args]
    return subprocess.run(command, capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})


def test_constrained_answer_is_a_label(checkpoint):
    result = infer("--model", str(checkpoint), "--audio", str(CLIP), "--task", "KWS", "--labels", "yes,no",
                   "--constrained", "--max-new-tokens", "8")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() in {"yes", "no"}
    assert "radio" not in result.stdout and "[" in result.stderr  # the drawn instruction goes to stderr


def test_free_answer_and_given_instruction(checkpoint):
    result = infer("--model", str(checkpoint), "--audio", str(CLIP), "--instruction", "Transcribe the audio",
                   "--max-new-tokens", "4")
    assert result.returncode == 0, result.stderr
    assert "[Transcribe the audio]" in result.stderr


def test_bad_input_is_one_line_and_exit_2(checkpoint, tmp_path):
    notes = tmp_path / "notes.wav"
    notes.write_text("not audio")
    result = infer("--model", str(checkpoint), "--audio", str(notes))
    assert result.returncode == 2 and "not audio" in result.stderr and "Traceback" not in result.stderr
    missing = infer("--model", str(tmp_path / "nowhere"), "--audio", str(CLIP))
    assert missing.returncode == 2 and "No model found" in missing.stderr
