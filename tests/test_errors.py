"""Every switchlab error says what went wrong and what to do about it."""
from __future__ import annotations

import asyncio
import inspect
import re
from pathlib import Path

import pytest

from switchlab import errors
from switchlab.connection import Connection, connect
from switchlab.errors import (APIError, AuthenticationError, CommandError, CommandFailed,
                              ConnectionFailed, Disconnected, MalformedFrameError,
                              MeasurementError, ProtocolError, RunDirectoryError, SessionGone,
                              SwitchlabError, UnknownKPIError)
from switchlab.esl import ESLProtocol, decoders
from switchlab.esl.decoders import AuthReply
from switchlab.measure import Run
from switchlab.wire import FrameParser, commands, serialize
from switchlab.wire.replies import api_error

#: words of an instruction (or of the rule to follow): a message must contain one
ACTION = re.compile(r"\b(check|use|call|remove|give|connect|await|strip|pass|choose|delete|fix|"
                    r"write|send|enable|must)\b", re.IGNORECASE)


def says_what_to_do(exc: BaseException) -> bool:
    return bool(ACTION.search(str(exc)))


def test_every_error_is_a_documented_switchlab_error() -> None:
    classes = [c for _n, c in inspect.getmembers(errors, inspect.isclass)
               if issubclass(c, Exception) and c.__module__ == errors.__name__]
    assert len(classes) >= 12
    for cls in classes:
        assert issubclass(cls, SwitchlabError), cls
        assert cls.__doc__ and cls.__doc__.strip(), f"{cls.__name__} has no docstring"
    assert issubclass(CommandError, ValueError) and issubclass(Disconnected, ConnectionError)
    assert issubclass(ConnectionFailed, ConnectionError) and issubclass(UnknownKPIError, ValueError)
    assert issubclass(MalformedFrameError, ProtocolError)
    assert issubclass(RunDirectoryError, (MeasurementError, OSError))


def test_command_error_says_what_to_remove() -> None:
    for bad in (lambda: commands.api("status\napi hupall"), lambda: commands.event(["A B"]),
                lambda: commands.command("x", {"Content-Length": "3"})):
        with pytest.raises(CommandError) as info:
            bad()
        assert says_what_to_do(info.value), info.value


async def test_connection_failed_says_where_to_look() -> None:
    with pytest.raises(ConnectionFailed) as info:
        await connect("127.0.0.1:1", timeout=2)
    assert "127.0.0.1:1" in str(info.value) and "event_socket.conf.xml" in str(info.value)
    assert says_what_to_do(info.value)


def _protocol(loop: asyncio.AbstractEventLoop) -> ESLProtocol:
    return ESLProtocol(loop.create_future, write=lambda data: None, address="fs1:8021")


def test_authentication_error_names_the_password_setting() -> None:
    loop = asyncio.new_event_loop()
    try:
        p = _protocol(loop)
        fut = p.request(b"auth x\n\n", AuthReply("fs1:8021"), "auth")
        p.receive_data(serialize.command_reply("-ERR invalid"))
        exc = fut.exception()
    finally:
        loop.close()
    assert isinstance(exc, AuthenticationError) and says_what_to_do(exc)
    assert "fs1:8021" in str(exc) and "ClueCon" in str(exc)


async def test_disconnected_says_how_to_get_connected() -> None:
    conn = Connection("127.0.0.1:1")
    with pytest.raises(Disconnected) as info:
        conn.api("status")
    assert says_what_to_do(info.value) and "127.0.0.1:1" in str(info.value)
    with pytest.raises(ConnectionFailed):
        await conn.open(1)
    with pytest.raises(Disconnected) as info:
        conn.api("status")
    assert says_what_to_do(info.value) and "closed" in str(info.value)
    with pytest.raises(Disconnected) as info:
        await conn.wait_connected(1)
    assert says_what_to_do(info.value)


def test_lost_requests_and_jobs_say_what_may_have_happened() -> None:
    loop = asyncio.new_event_loop()
    try:
        p = _protocol(loop)
        fut = p.request(b"api status\n\n", decoders.api_checked, "api status")
        job = p.new_job("j1", "originate x")
        p.connection_lost("FreeSWITCH closed the connection")
        for exc in (fut.exception(), job.exception()):
            assert isinstance(exc, Disconnected) and "fs1:8021" in str(exc)
            assert says_what_to_do(exc) or "may still have run" in str(exc)
    finally:
        loop.close()


def test_refusals_carry_the_command_and_freeswitchs_reason() -> None:
    failed = CommandFailed("filter Event-Name X", "-ERR invalid filter")
    assert "filter Event-Name X" in str(failed) and "invalid filter" in str(failed)
    assert says_what_to_do(failed)
    api = api_error("uuid_kill 0", "-ERR No such channel!\n")
    assert isinstance(api, APIError) and "uuid_kill 0" in str(api) and api.text == "No such channel!"


def test_protocol_errors_keep_the_bytes_and_name_the_place() -> None:
    with pytest.raises(MalformedFrameError) as info:
        FrameParser().feed(b"Content-Type: auth/request\n\nno colon here\n\n")
    assert "byte 28" in str(info.value) and "expected 'Name: value'" in str(info.value)
    assert info.value.data.startswith(b"no colon") and len(info.value.frames) == 1


def test_session_gone_names_the_channel() -> None:
    exc = SessionGone("session u1 has already ended", "u1")
    assert exc.session_uuid == "u1" and "u1" in str(exc)


def test_measurement_errors_say_what_to_do(tmp_path: Path) -> None:
    run = Run(directory=tmp_path / "r1")
    run.close()
    with pytest.raises(RunDirectoryError) as info:
        Run(directory=tmp_path / "r1")
    assert says_what_to_do(info.value)
    with pytest.raises(UnknownKPIError) as kpi:
        run.check(asr_minimum=0.9)
    assert says_what_to_do(kpi.value) or "e.g." in str(kpi.value)
