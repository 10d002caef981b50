"""Backbones a recipe can name besides Hub ids and local folders: offline stand-ins built on this machine.

- `builtin:tiny-wavlm`, `builtin:tiny-t5`: tiny random backbones (`testing_utils.save_tiny_backbones`), for smoke runs.
- `builtin:whisper-tiny.en`: the Whisper tiny.en encoder converted from the installed CTranslate2 package.
- `builtin:whisper-tiny.en-10s`: the same on a 10 s input window instead of 30 s (the first 500 of its sinusoidal
  positions, and a feature extractor padding to 10 s): 3x less encoder compute for short clips. A model trained on
  it records `max_source_positions=500` in its config, so it can also name `builtin:whisper-tiny.en` and be cut
  to the same window when loaded (`load_audio_encoder`).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

BUILTIN_PREFIX = "builtin:"
# Folder names `save_tiny_backbones` writes.
TINY_BACKBONES = ("tiny-wavlm", "tiny-t5")
WHISPER_TINY_EN = "whisper-tiny.en"
WHISPER_WINDOW_SECONDS = 10
WHISPER_TINY_EN_SHORT = f"{WHISPER_TINY_EN}-{WHISPER_WINDOW_SECONDS}s"
BUILTIN_BACKBONES = tuple(BUILTIN_PREFIX + name for name in (*TINY_BACKBONES, WHISPER_TINY_EN, WHISPER_TINY_EN_SHORT))


def _tiny_backbones(directory: Path) -> Path:
    """Save the tiny backbones into `directory/tiny` once; built under a temporary name and renamed into place."""
    target = directory / "tiny"
    if all((target / folder / "config.json").is_file() for folder in TINY_BACKBONES):
        return target
    from ..testing_utils import save_tiny_backbones

    staging = directory / f".tiny.{os.getpid()}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    save_tiny_backbones(staging)
    try:
        os.replace(staging, target)
    except OSError:
        # Another process renamed its identical copy into place first.
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _short_window_whisper(source: Path, target: Path, seconds: int) -> Path:
    """Save the Whisper model at `source` cut to a `seconds` input window into `target` once (staged, renamed)."""
    if (target / "config.json").is_file():
        return target
    from transformers import AutoFeatureExtractor, WhisperModel

    from ..modeling_speechverse import _shorten_whisper_window

    model = WhisperModel.from_pretrained(source)
    feature_extractor = AutoFeatureExtractor.from_pretrained(source, chunk_length=seconds)
    # 100 mel frames per second, halved by the encoder's stride-2 convolution.
    _shorten_whisper_window(model.get_encoder(), feature_extractor.nb_max_frames // 2)
    staging = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    model.save_pretrained(staging)
    feature_extractor.save_pretrained(staging)
    try:
        os.replace(staging, target)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def resolve_backbone(spec: str, directory: str | Path) -> str:
    """
    A Hub id or local path for a recipe's backbone: `builtin:` names are built (once) under `directory`, anything
    else is returned as is.
    """
    if not spec.startswith(BUILTIN_PREFIX):
        return spec
    name = spec.removeprefix(BUILTIN_PREFIX)
    if name in TINY_BACKBONES:
        return str(_tiny_backbones(Path(directory).resolve()) / name)
    if name == WHISPER_TINY_EN:
        from ..convert.whisper_ct2 import ensure_whisper_tiny_en

        return str(ensure_whisper_tiny_en())
    if name == WHISPER_TINY_EN_SHORT:
        from ..convert.whisper_ct2 import ensure_whisper_tiny_en

        source = ensure_whisper_tiny_en()
        return str(_short_window_whisper(source, source.with_name(WHISPER_TINY_EN_SHORT), WHISPER_WINDOW_SECONDS))
    raise ValueError(f"unknown backbone {spec!r}; built-in backbones are {list(BUILTIN_BACKBONES)}")
