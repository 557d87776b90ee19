"""atheris target: a client's side of the event socket, as the emulator reads it.

The input is a byte stream as a client would send it. It goes through
``switchlab.wire.CommandParser`` (at once and in chunks whose size the input's
last byte picks), then every command is run by the emulator's command handler on
a fresh emulated host with an in-memory transport; the host's replies must parse
as frames. An input that starts with ``auth`` runs on an unauthenticated
connection, any other on an authenticated one (so the fuzzer reaches every
command without first guessing the password). See fuzz/harness.py.

    python fuzz/fuzz_commands.py fuzz/corpus/commands -max_total_time=60 -rss_limit_mb=2048
"""
from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["switchlab", "fuzz"]):
    from fuzz.harness import CommandSandbox, check_commands, chunks_of, quiet

_BOX = CommandSandbox()


def test_one_input(data: bytes) -> None:
    authed = not data[:4].lower() == b"auth"
    check_commands(data, chunks_of(data, [1 + data[-1] % 31]) if data else [data],
                   authed=authed, sandbox=_BOX)


def main() -> None:
    quiet()
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
