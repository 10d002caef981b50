"""Converters that turn pretrained checkpoints shipped in other formats into transformers folders."""

import importlib

__all__ = ["read_ct2_model", "convert_ct2_whisper", "ensure_whisper_tiny_en"]

_SUBMODULE_OF = {
    "read_ct2_model": ".ct2_binary",
    "convert_ct2_whisper": ".whisper_ct2",
    "ensure_whisper_tiny_en": ".whisper_ct2",
}


def __getattr__(name: str):
    # Imported lazily so `python -m modeling_speechverse.convert.whisper_ct2` does not import the module twice.
    if name in _SUBMODULE_OF:
        return getattr(importlib.import_module(_SUBMODULE_OF[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
