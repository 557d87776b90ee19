"""Access to the recorded FreeSWITCH 1.11 transcripts in ``tests/data/fs-wire``.

Each ``NAME.raw`` holds every byte FreeSWITCH sent; ``NAME.recv.txt`` indexes
it, one line per frame: ``[seconds] offset length Content-Type [extra]``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

WIRE = Path(__file__).parent / "data" / "fs-wire"

_INDEX_LINE = re.compile(r"\[\s*([\d.]+)\]\s+(\d+)\s+(\d+)\s+(\S+)\s*(.*)$")


@dataclass(frozen=True)
class IndexEntry:
    """One line of a ``.recv.txt`` index."""

    seconds: float
    offset: int
    length: int
    content_type: str
    extra: str


def transcript_names() -> list[str]:
    return sorted(p.stem for p in WIRE.glob("*.raw"))


@lru_cache(maxsize=None)
def raw(name: str) -> bytes:
    return (WIRE / f"{name}.raw").read_bytes()


@lru_cache(maxsize=None)
def index(name: str) -> tuple[IndexEntry, ...]:
    entries = []
    for line in (WIRE / f"{name}.recv.txt").read_text().splitlines():
        if not line.startswith("["):
            continue
        m = _INDEX_LINE.match(line)
        assert m, f"unparsable index line in {name}.recv.txt: {line!r}"
        entries.append(IndexEntry(float(m[1]), int(m[2]), int(m[3]), m[4], m[5]))
    return tuple(entries)


def frame_bytes(name: str, k: int) -> bytes:
    """The raw bytes of frame ``k`` of a transcript, cut by the index."""
    e = index(name)[k]
    return raw(name)[e.offset : e.offset + e.length]
