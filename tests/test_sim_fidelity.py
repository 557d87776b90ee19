"""The emulator against the recorded FreeSWITCH 1.11 transcripts (tests/data/fs-wire).

Every complete transcript in the directory (``NAME.raw`` + ``NAME.sent.txt`` +
``NAME.recv.txt``) is replayed against a fresh emulator set up like the recorded
server (hostname, a DUT that behaves like the recorded sipp peer on 5070) and
compared: per-channel event sequences and header names, reply and response
texts, causes, job bodies, log lines. Drop a new transcript in the directory and
it is checked too. All scenarios run concurrently once per session.
"""
from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from simreplay import available, compare, real_stream, run_scenario

WIRE = Path(__file__).parent / "data" / "fs-wire"

SCENARIOS = available(WIRE)


@pytest.fixture(scope="module")
def replays() -> dict[str, object]:
    async def run_all() -> dict[str, object]:
        results = await asyncio.gather(*(run_scenario(WIRE, name) for name in SCENARIOS),
                                       return_exceptions=True)
        return dict(zip(SCENARIOS, results))

    return asyncio.run(run_all())


def test_transcripts_found() -> None:
    assert len(SCENARIOS) >= 25, SCENARIOS
    assert {"bridge_fail_busy", "uuid_commands", "loglevel_info",
            "ten_calls_answer_mix"} <= set(SCENARIOS)


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_matches_freeswitch(name: str, replays: dict[str, object]) -> None:
    result = replays[name]
    if isinstance(result, BaseException):
        raise result
    transcript, real, emulated = result  # type: ignore[misc]
    diffs = compare(transcript, real, emulated)
    assert not diffs, f"{name}: {len(diffs)} differences from FreeSWITCH:\n" + \
        "\n".join(f"- {d}" for d in diffs[:20])


def test_comparison_detects_a_difference(replays: dict[str, object]) -> None:
    """The comparison is not vacuous: a tampered run is reported."""
    result = replays["call_selfloop_plain"]
    assert not isinstance(result, BaseException)
    transcript, real, emulated = result  # type: ignore[misc]
    tampered = real_stream(transcript)
    role = next(iter(tampered.channels))
    tampered.channels[role] = tampered.channels[role][:-1]
    tampered.responses = tampered.responses[:-1]
    diffs = compare(transcript, real, tampered)
    assert any("event sequence differs" in d for d in diffs)
    assert any(d.startswith("response #") for d in diffs)
