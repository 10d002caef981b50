"""Reader for CTranslate2's `model.bin` container (binary versions 4 to 6).

Layout, all integers little-endian; a string is a u16 length (counting a trailing NUL) then UTF-8 bytes:

    u32 binary version | string spec name | u32 spec revision | u32 variable count
    per variable: string name | u8 rank | rank x u32 dims | u8 dtype id | u32 byte count | raw bytes
    u32 alias count | per alias: string alias | string variable name

Rank-0 variables are the spec's attributes (for Whisper: `encoder/num_heads`, `decoder/activation`...).
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np

# Binary versions 1-3 stored an item size instead of a dtype id; nothing current writes them.
SUPPORTED_BINARY_VERSIONS = (4, 5, 6)

# CTranslate2's `DataType` enum (include/ctranslate2/types.h); bfloat16 (5) has no numpy dtype.
_DTYPES: dict[int, np.dtype] = {
    0: np.dtype("<f4"),
    1: np.dtype("i1"),
    2: np.dtype("<i2"),
    3: np.dtype("<i4"),
    4: np.dtype("<f2"),
}


class _Cursor:
    """Sequential little-endian reads over a byte buffer that fail with a clear message when it runs out."""

    def __init__(self, data: bytes, path: Path) -> None:
        self.data = data
        self.path = path
        self.offset = 0

    def take(self, num_bytes: int) -> memoryview:
        end = self.offset + num_bytes
        if end > len(self.data):
            raise ValueError(
                f"{self.path} is truncated: needed {num_bytes} bytes at offset {self.offset}, "
                f"the file has {len(self.data)} bytes"
            )
        view = memoryview(self.data)[self.offset : end]
        self.offset = end
        return view

    def unpack(self, fmt: str) -> tuple[int, ...]:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))

    def string(self) -> str:
        (length,) = self.unpack("<H")
        return bytes(self.take(length)).rstrip(b"\0").decode("utf-8")


def read_ct2_model(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read every variable of a CTranslate2 `model.bin`.

    Args:
        path: the `model.bin` file.

    Returns:
        Variable name -> array with the stored shape and dtype (e.g. `decoder/embeddings/weight`:
        `(vocab_size, d_model)` float16; attributes are 0-d arrays). Aliases (e.g.
        `decoder/projection/weight`, the tied output projection) map to the same array object as
        their target. Arrays are read-only views of the file's bytes.

    Raises:
        ValueError: unsupported binary version, unknown dtype, a byte count that does not match the
            shape, or a truncated / over-long file.
    """
    path = Path(path)
    cursor = _Cursor(path.read_bytes(), path)
    (version,) = cursor.unpack("<I")
    if version not in SUPPORTED_BINARY_VERSIONS:
        raise ValueError(
            f"{path}: CTranslate2 binary version {version} is not supported "
            f"(supported: {', '.join(map(str, SUPPORTED_BINARY_VERSIONS))})"
        )
    cursor.string()  # spec name, e.g. "WhisperSpec"
    cursor.unpack("<I")  # spec revision

    (num_variables,) = cursor.unpack("<I")
    variables: dict[str, np.ndarray] = {}
    for _ in range(num_variables):
        name = cursor.string()
        (rank,) = cursor.unpack("<B")
        shape = cursor.unpack(f"<{rank}I")
        dtype_id, num_bytes = cursor.unpack("<BI")
        if dtype_id not in _DTYPES:
            raise ValueError(f"{path}: variable {name!r} has unsupported CTranslate2 dtype id {dtype_id}")
        dtype = _DTYPES[dtype_id]
        expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if num_bytes != expected:
            raise ValueError(
                f"{path}: variable {name!r} declares {num_bytes} bytes, shape {shape} of {dtype} needs {expected}"
            )
        variables[name] = np.frombuffer(cursor.take(num_bytes), dtype=dtype).reshape(shape)

    (num_aliases,) = cursor.unpack("<I")
    for _ in range(num_aliases):
        alias, target = cursor.string(), cursor.string()
        if target not in variables:
            raise ValueError(f"{path}: alias {alias!r} points to unknown variable {target!r}")
        variables[alias] = variables[target]

    if cursor.offset != len(cursor.data):
        raise ValueError(f"{path}: {len(cursor.data) - cursor.offset} unexpected trailing bytes after the aliases")
    return variables
