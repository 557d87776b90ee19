"""One reading of api/job reply bodies, shared by APIError, Job and the recorder."""
from __future__ import annotations

import asyncio
import gc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from switchlab.errors import APIError
from switchlab.esl.job import Job
from switchlab.measure import parse_job_result
from switchlab.wire.events import Event
from switchlab.wire.replies import (ERR, OK, OTHER, UNKNOWN_ERROR, USAGE, api_error, is_error,
                                    originate_outcome, parse_reply)

WORD = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=20)


@pytest.mark.parametrize("body, kind, text", [
    ("+OK 3d4bb68e\n", OK, "3d4bb68e"),
    ("+OK\n", OK, ""),
    ("-ERR USER_BUSY\n", ERR, "USER_BUSY"),
    ("-ERR No such channel!\n", ERR, "No such channel!"),
    ("-ERR\n", ERR, UNKNOWN_ERROR),
    ("-ERROR\n", ERR, "ERROR"),
    ("-USAGE: <uuid> [cause]\n", USAGE, "USAGE: <uuid> [cause]"),
    ("UP 0 years, 0 days\n", OTHER, "UP 0 years, 0 days"),
    ("", OTHER, ""),
    (b"-ERR NO_ANSWER\n", ERR, "NO_ANSWER"),
])
def test_reply_kinds(body: str | bytes, kind: str, text: str) -> None:
    assert parse_reply(body) == (kind, text)


def _job_outcome(body: str) -> tuple[bool, str | None]:
    loop = asyncio.new_event_loop()
    try:
        job = Job("j", "originate x", loop.create_future(), "fs1")
        job.resolve(Event.from_headers({"Event-Name": "BACKGROUND_JOB"}, body.encode()))
        return job.successful(), job.cause
    finally:
        loop.close()


@settings(deadline=None)
@given(st.sampled_from(["+OK", "-ERR", "-ERROR", "-USAGE:", "", "OK", "-", " -ERR"]),
       st.sampled_from(["", " ", "\n"]), st.text(max_size=30))
def test_job_apierror_and_recorder_agree(prefix: str, sep: str, rest: str) -> None:
    body = prefix + sep + rest
    reply = parse_reply(body)
    ok, cause = _job_outcome(body)
    assert ok is not reply.failed
    assert is_error(body) is reply.failed
    if reply.failed:
        err = api_error("originate x", body)
        assert cause == err.text == reply.text == parse_job_result(body)[1]
        assert parse_job_result(body)[0] is False and err.text  # a cause is never empty
    elif reply.kind == OK:
        assert parse_job_result(body) == (True, None) == originate_outcome(body)
    else:  # neither +OK nor an error: a result for bgapi, a failed originate for the recorder
        assert parse_job_result(body) == (False, reply.text or UNKNOWN_ERROR)


@settings(deadline=None)
@given(WORD)
def test_err_cause_round_trip(cause: str) -> None:
    assert parse_reply(f"-ERR {cause}\n").text == cause
    assert parse_reply(f"+OK {cause}\n") == (OK, cause)


def test_the_error_body_of_issue_8() -> None:
    """``-ERROR\\n`` used to give APIError.text "ERROR" but a row cause "OR"."""
    assert api_error("uuid_answer x", "-ERROR\n").text == "ERROR"
    assert parse_job_result("-ERROR\n") == (False, "ERROR")
    assert _job_outcome("-ERROR\n") == (False, "ERROR")


def test_apierror_built_by_hand_keeps_the_text() -> None:
    err = APIError("sofia status profile x", "Invalid Profile!\n")
    assert err.text == "Invalid Profile!" and "Invalid Profile!" in str(err)


def test_a_failed_job_nobody_awaits_is_silent() -> None:
    """A failed job is a normal outcome: its future's exception is marked retrieved
    when the job fails (FreeSWITCH's -ERR, or failed locally), so dropping it unawaited
    logs nothing; awaiting it still raises."""
    loop = asyncio.new_event_loop()
    said: list[dict[str, object]] = []
    loop.set_exception_handler(lambda _loop, ctx: said.append(ctx))
    try:
        err = Job("j1", "originate x", loop.create_future(), "fs1")
        err.resolve(Event.from_headers({"Event-Name": "BACKGROUND_JOB"}, b"-ERR USER_BUSY\n"))
        gone = Job("j2", "originate x", loop.create_future(), "fs1")
        gone.fail(ConnectionError("closed"))
        with pytest.raises(APIError):
            loop.run_until_complete(asyncio.wait_for(err.future, 1))
        assert gone.failed and gone.cause == "ConnectionError"
        del err, gone
        gc.collect()
        loop.run_until_complete(asyncio.sleep(0))
    finally:
        loop.close()
    assert said == []


def test_a_failed_job_is_logged_by_asyncio_without_the_silencing() -> None:
    """The check above can fail: a bare failed future dropped unawaited is reported."""
    loop = asyncio.new_event_loop()
    said: list[dict[str, object]] = []
    loop.set_exception_handler(lambda _loop, ctx: said.append(ctx))
    try:
        fut = loop.create_future()
        fut.set_exception(ConnectionError("closed"))
        del fut
        gc.collect()
    finally:
        loop.close()
    assert len(said) == 1 and "never retrieved" in str(said[0]["message"])
