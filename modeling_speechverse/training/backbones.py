"""Backbones a recipe can name besides Hub ids and local folders: offline stand-ins built on this machine.

- `builtin:tiny-wavlm`, `builtin:tiny-t5`: tiny random backbones (`testing_utils.save_tiny_backbones`), for smoke runs.
- `builtin:whisper-tiny.en`: the Whisper tiny.en encoder converted from the installed CTranslate2 package.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

BUILTIN_PREFIX = "builtin:"
# Folder names `save_tiny_backbones` writes.
TINY_BACKBONES = ("tiny-wavlm", "tiny-t5")
WHISPER_TINY_EN = "whisper-tiny.en"
BUILTIN_BACKBONES = tuple(BUILTIN_PREFIX + name for name in (*TINY_BACKBONES, WHISPER_TINY_EN))


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
    raise ValueError(f"unknown backbone {spec!r}; built-in backbones are {list(BUILTIN_BACKBONES)}")
