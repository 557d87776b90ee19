"""Seed inputs from the recorded FreeSWITCH 1.11 transcripts (tests/data/fs-wire).

* frames: every frame FreeSWITCH sent (``NAME.raw`` cut by ``NAME.recv.txt``),
  alone, plus the first frames of each transcript together (greeting, replies,
  first events: a realistic conversation start);
* commands: every chunk a client sent (``# SEND '...'`` lines of ``NAME.sent.txt``),
  alone, plus each transcript's whole conversation.

Run as a script to write them as a libFuzzer corpus (one file per input):

    python fuzz/seeds.py [--out fuzz/corpus]      # -> fuzz/corpus/frames, fuzz/corpus/commands
"""
from __future__ import annotations

import argparse
import ast
import hashlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WIRE = ROOT / "tests" / "data" / "fs-wire"
_INDEX_LINE = re.compile(r"\[\s*[\d.]+\]\s+(\d+)\s+(\d+)\s+\S+")
_SEND_LINE = re.compile(r"# SEND (b?'.*'|b?\".*\")\s*$")
#: the largest seed kept (libFuzzer's -max_len is set above it by fuzz/run.py)
MAX_SEED = 64 * 1024


def _names() -> list[str]:
    return sorted(p.stem for p in WIRE.glob("*.raw"))


def transcript_frames(name: str) -> list[bytes]:
    """The frames of one transcript, as sent."""
    raw = (WIRE / f"{name}.raw").read_bytes()
    out = []
    for line in (WIRE / f"{name}.recv.txt").read_text().splitlines():
        m = _INDEX_LINE.match(line)
        if m:
            off, n = int(m[1]), int(m[2])
            out.append(raw[off : off + n])
    return out


def transcript_commands(name: str) -> list[bytes]:
    """What the client sent in one transcript, one item per ``send``."""
    out = []
    for line in (WIRE / f"{name}.sent.txt").read_text().splitlines():
        m = _SEND_LINE.search(line)
        if m:
            text = ast.literal_eval(m[1])
            out.append(text if isinstance(text, bytes) else text.encode("utf-8"))
    return out


def _unique(items: list[bytes]) -> list[bytes]:
    seen: set[bytes] = set()
    out = []
    for b in items:
        if b and len(b) <= MAX_SEED and b not in seen:
            seen.add(b)
            out.append(b)
    return out


def frame_seeds() -> list[bytes]:
    """Seeds for the frame parser target."""
    items: list[bytes] = []
    for name in _names():
        frames = transcript_frames(name)
        items.extend(frames)
        items.append(b"".join(frames[:6]))
    return _unique(items)


def command_seeds() -> list[bytes]:
    """Seeds for the command parser target."""
    items: list[bytes] = []
    for name in _names():
        sent = transcript_commands(name)
        items.extend(sent)
        items.append(b"".join(sent))
    return _unique(items)


def write_corpus(out: Path) -> dict[str, int]:
    """Write both seed sets under ``out/frames`` and ``out/commands``; returns the counts."""
    counts = {}
    for kind, seeds in (("frames", frame_seeds()), ("commands", command_seeds())):
        d = out / kind
        d.mkdir(parents=True, exist_ok=True)
        for b in seeds:
            (d / f"seed-{hashlib.sha1(b).hexdigest()[:16]}").write_bytes(b)
        counts[kind] = len(seeds)
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description="Write the fuzz seed corpus from the transcripts.")
    ap.add_argument("--out", type=Path, default=ROOT / "fuzz" / "corpus")
    args = ap.parse_args()
    for kind, n in write_corpus(args.out).items():
        print(f"{kind}: {n} seeds in {args.out / kind}")


if __name__ == "__main__":
    main()
