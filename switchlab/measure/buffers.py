"""The variable-width column buffers of a :class:`~switchlab.measure.store.RowStore`:
dictionary-encoded categories and UTF-8 strings (Arrow's large_string layout)."""
from __future__ import annotations

from array import array
from typing import Any

import numpy as np
import pyarrow as pa

__all__ = ["Categories", "Strings"]


class Categories:
    """Dictionary encoder: value → small int code (``-1`` for None)."""

    __slots__ = ("codes", "index", "values")

    def __init__(self) -> None:
        self.codes = array("i")
        self.values: list[str] = []
        self.index: dict[str, int] = {}

    def append(self, value: Any) -> None:
        if value is None:
            self.codes.append(-1)
            return
        code = self.index.get(value)
        if code is None:
            code = self.code(str(value))
        self.codes.append(code)

    def code(self, text: str) -> int:
        """The code of ``text``, given one if it is new."""
        code = self.index.get(text)
        if code is None:
            code = self.index[text] = len(self.values)
            self.values.append(text)
        return code

    def pop(self) -> None:
        self.codes.pop()

    def nbytes(self) -> int:
        return self.codes.itemsize * len(self.codes)


class Strings:
    """UTF-8 strings in one buffer with int64 offsets (Arrow's large_string layout)."""

    __slots__ = ("data", "offsets", "valid")

    def __init__(self) -> None:
        self.data = bytearray()
        self.offsets = array("q", [0])
        self.valid = bytearray()

    def append(self, value: Any) -> None:
        self.add(None if value is None else str(value).encode("utf-8"))

    def add(self, data: bytes | None) -> None:
        """Append a value already encoded as UTF-8 (None: missing)."""
        if data is None:
            self.valid.append(0)
        else:
            self.data += data
            self.valid.append(1)
        self.offsets.append(len(self.data))

    def pop(self) -> None:
        self.offsets.pop()
        self.valid.pop()
        del self.data[self.offsets[-1]:]

    def nbytes(self) -> int:
        return len(self.data) + 8 * len(self.offsets) + len(self.valid)

    def to_arrow(self, n: int) -> pa.Array:
        offsets = np.frombuffer(self.offsets, dtype=np.int64, count=n + 1).copy()
        data = bytes(self.data[: int(offsets[-1])])
        valid = np.frombuffer(bytes(self.valid[:n]), dtype=np.uint8).astype(bool)
        mask_buf = None
        nulls = int(n - valid.sum())
        if nulls:
            mask_buf = pa.py_buffer(np.packbits(valid, bitorder="little").tobytes())
        return pa.LargeStringArray.from_buffers(
            n, pa.py_buffer(offsets.tobytes()), pa.py_buffer(data), mask_buf, nulls)
