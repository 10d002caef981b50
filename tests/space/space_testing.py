"""Shared by the Space tests: the `space/` folder on `sys.path` (as when running `python space/app.py`) and a tiny
checkpoint folder for `SPEECHVERSE_MODEL`."""

from __future__ import annotations

import sys
from pathlib import Path

from modeling_speechverse import SpeechVerseConfig, SpeechVerseForConditionalGeneration, SpeechVerseProcessor
from modeling_speechverse.testing_utils import save_tiny_backbones

SPACE_DIR = Path(__file__).resolve().parents[2] / "space"
if str(SPACE_DIR) not in sys.path:
    sys.path.insert(0, str(SPACE_DIR))


def save_tiny_space_model(directory: Path) -> Path:
    """A tiny random SpeechVerse checkpoint (adapters + processor) whose backbones are saved next to it."""
    audio_id, text_id = save_tiny_backbones(directory / "backbones")
    config = SpeechVerseConfig.from_backbones(audio_id, text_id, lora_rank=4)
    model = SpeechVerseForConditionalGeneration.from_backbones(config=config)
    processor = SpeechVerseProcessor.from_backbones(audio_id, text_id, max_audio_seconds=config.max_audio_seconds)
    checkpoint = directory / "checkpoint"
    model.save_pretrained(checkpoint)
    processor.save_pretrained(checkpoint)
    return checkpoint
