"""atheris target: FreeSWITCH's side of the event socket.

The input is a byte stream as FreeSWITCH would send it. It goes through
``switchlab.wire.FrameParser`` (at once and in chunks whose size the input's last
byte picks) and through ``ESLProtocol``; every event frame is decoded lazily and
fully (plain, JSON, XML). See fuzz/harness.py for what counts as a crash.

    python fuzz/fuzz_frames.py fuzz/corpus/frames -max_total_time=60 -rss_limit_mb=2048
    (or fuzz/run.py, which seeds the corpus and runs both targets)
"""
from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["switchlab", "fuzz"]):
    from fuzz.harness import check_frames, chunks_of, quiet


def test_one_input(data: bytes) -> None:
    check_frames(data, chunks_of(data, [1 + data[-1] % 31]) if data else [data])


def main() -> None:
    quiet()
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
