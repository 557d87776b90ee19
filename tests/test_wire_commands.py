"""Command encoders: exact bytes, and no way to smuggle a second command.

``CommandParser`` reads commands the way ``mod_event_socket``'s read_packet
does, so "the parser reads back exactly one command, identical to what was
asked" means FreeSWITCH would too.
"""
from __future__ import annotations

import ast
import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from fswire import WIRE
from switchlab.errors import CommandError
from switchlab.wire import Command, CommandParser, commands
from switchlab.wire.validate import check_word

SEND = re.compile(r"# SEND (.*)$")


def sent_commands() -> list[bytes]:
    """Every command the recording client sent to FreeSWITCH 1.11."""
    out = []
    for path in sorted(WIRE.glob("*.sent.txt")):
        for line in path.read_text().splitlines():
            m = SEND.search(line)
            if m:
                out.append(ast.literal_eval(m[1]).encode())
    return out


def encode_like(data: bytes) -> bytes:
    """Re-create a recorded command with switchlab's encoders."""
    text = data.decode()
    line, _, rest = text[:-2].partition("\n")
    verb, _, arg = line.partition(" ")
    if verb == "sendmsg":
        h = dict(x.split(": ", 1) for x in rest.split("\n"))
        assert h.pop("call-command") == "execute"
        return commands.execute(arg, h.pop("execute-app-name"), h.pop("execute-app-arg", ""))
    if verb == "auth":
        return commands.auth(arg)
    if verb == "api":
        return commands.api(arg)
    if verb == "bgapi":
        return commands.bgapi(arg)
    if verb == "event":
        fmt, *names = arg.split(" ")
        return commands.event(names, fmt)
    if verb == "nixevent":
        return commands.nixevent(arg.split(" "))
    if verb == "filter":
        words = arg.split(" ")
        if words[0] == "delete":
            return commands.filter_delete(*words[1:])
        return commands.filter_add(words[0], " ".join(words[1:]))
    if verb == "myevents":
        return commands.myevents(arg, None)
    if verb == "log":
        return commands.log(int(arg) if arg.isdigit() else arg)
    simple = {"exit": commands.exit_, "noevents": commands.noevents, "nolog": commands.nolog,
              "linger": commands.linger, "nolinger": commands.nolinger}
    return simple[verb]()


def test_encoders_reproduce_the_recorded_commands() -> None:
    recorded = sent_commands()
    assert len(recorded) > 100
    checked = 0
    for data in recorded:
        if data in (b"api\n\n", b"api \n\n"):
            # probes of FreeSWITCH's answers to an empty api command: refused here
            with pytest.raises(CommandError, match="empty"):
                commands.api("")
            with pytest.raises(CommandError, match="empty"):
                commands.api(" ")
            continue
        assert encode_like(data) == data
        (cmd,) = CommandParser().feed(data)
        assert cmd.line == data.decode().split("\n", 1)[0]
        checked += 1
    assert checked == len(recorded) - 2


def test_examples() -> None:
    assert commands.api("status") == b"api status\n\n"
    assert commands.bgapi("originate loopback/1 &park()", job_uuid="j-1") == (
        b"bgapi originate loopback/1 &park()\nJob-UUID: j-1\n\n")
    assert commands.myevents("u1") == b"myevents u1 plain\n\n"
    assert commands.linger(10) == b"linger 10\n\n"
    assert commands.hangup("u1", "USER_BUSY") == (
        b"sendmsg u1\ncall-command: hangup\nhangup-cause: USER_BUSY\n\n")
    assert commands.execute("u1", "playback", "x", event_lock=True, loops=2, event_uuid="e1") == (
        b"sendmsg u1\ncall-command: execute\nexecute-app-name: playback\nexecute-app-arg: x\n"
        b"loops: 2\nevent-lock: true\nEvent-UUID: e1\n\n")
    assert commands.sendmsg("u1", {"call-command": "nomedia"}, b"body\n") == (
        b"sendmsg u1\ncall-command: nomedia\nContent-Length: 5\n\nbody\n")


def test_multiline_or_space_led_argument_goes_in_the_body() -> None:
    for arg in ("line1\nline2", " leading space", "a\r\nexecute-app-name: hangup"):
        data = commands.execute("u1", "playback", arg)
        (cmd,) = CommandParser().feed(data)
        assert cmd.headers["content-type"] == "text/plain"
        assert "execute-app-arg" not in cmd.headers
        assert cmd.headers["execute-app-name"] == "playback"
        assert cmd.body.decode() == arg


@pytest.mark.parametrize("make", [
    lambda: commands.api("status\n\nexit"),
    lambda: commands.api("status\rexit"),
    lambda: commands.bgapi("originate x &park()", job_uuid="j\nevent plain ALL"),
    lambda: commands.auth("ClueCon\n\napi hupall"),
    lambda: commands.filter_add("Unique-ID", "x\n\nexit"),
    lambda: commands.filter_add("delete", "Unique-ID"),
    lambda: commands.filter_add("ADD", "Unique-ID x"),
    lambda: commands.event(["ALL\n\napi hupall"]),
    lambda: commands.event(["CHANNEL_CREATE CHANNEL_ANSWER"]),
    lambda: commands.sendmsg("u1", {"call-command": "execute\nexecute-app-name: hangup"}),
    lambda: commands.sendmsg("u1", {"call-command: execute\n": "x"}),
    lambda: commands.sendmsg("u1", {"Content-Length": "100"}),
    lambda: commands.sendmsg("u1", {"content-length": "0"}),
    lambda: commands.sendmsg("u1", {"call-command": " execute"}),
    lambda: commands.sendmsg("u1 u2", {"call-command": "hangup"}),
    lambda: commands.sendmsg("u1", {"call-command": "x"}, b"a\x00b"),
    lambda: commands.execute("u1", "playback\n", "x"),
    lambda: commands.execute("u1", "playback", "x\x00y"),
    lambda: commands.hangup("u1", "NORMAL_CLEARING\ncall-command: execute"),
    lambda: commands.myevents("u1\n"),
    lambda: commands.command(""),
    lambda: commands.api("\ud800"),
])
def test_injection_attempts_are_refused(make) -> None:
    with pytest.raises(CommandError):
        make()


# -- property: one command, read back identically, or CommandError -------------------

def read_back(data: bytes) -> Command:
    """The single command ``data`` holds; the parser is left with nothing, and a
    following command is still read as its own."""
    parser = CommandParser()
    cmds = parser.feed(data + b"exit\n\n")
    assert parser.pending == 0
    assert len(cmds) == 2, cmds
    assert cmds[1] == Command("exit")
    return cmds[0]


def check(make, expected) -> None:
    try:
        data = make()
    except CommandError:
        return
    assert read_back(data) == expected()


text = st.text()
headers = st.dictionaries(st.text(min_size=1), st.text(), max_size=4)


@settings(max_examples=300, deadline=None)
@given(text)
def test_api_and_auth(s: str) -> None:
    check(lambda: commands.api(s), lambda: Command(f"api {s}"))
    check(lambda: commands.auth(s), lambda: Command(f"auth {s}"))
    check(lambda: commands.log(s), lambda: Command(f"log {s}"))


@settings(max_examples=300, deadline=None)
@given(text, text)
def test_bgapi_filter_myevents(a: str, b: str) -> None:
    check(lambda: commands.bgapi(a, b), lambda: Command(f"bgapi {a}", {"Job-UUID": b}))
    check(lambda: commands.filter_add(a, b), lambda: Command(f"filter {a} {b}"))
    check(lambda: commands.filter_delete(a, b), lambda: Command(f"filter delete {a} {b}"))
    check(lambda: commands.myevents(a, b), lambda: Command(f"myevents {a} {b}"))
    check(lambda: commands.hangup(a, b), lambda: Command(
        f"sendmsg {a}", {"call-command": "hangup", "hangup-cause": b}))


@settings(max_examples=300, deadline=None)
@given(st.lists(text, max_size=4), st.sampled_from(["plain", "json", "xml", "yaml"]))
def test_event_and_nixevent(names: list[str], fmt: str) -> None:
    # FreeSWITCH reads CUSTOM subclasses (a "::" in the name) after the word CUSTOM
    subs = [n for n in names if "::" in n]
    words = names if not subs else (
        [n for n in names if "::" not in n and n.upper() != "CUSTOM"] + ["CUSTOM", *subs])
    check(lambda: commands.event(names, fmt), lambda: Command(f"event {fmt} {' '.join(words)}"))
    check(lambda: commands.nixevent(names), lambda: Command(f"nixevent {' '.join(names)}"))


@settings(max_examples=500, deadline=None)
@given(text, headers, st.binary(max_size=40))
@example("u1", {"call-command": "execute", "x-h": "a: b\u2028c ", "é": ""}, b"\n\nexit\n\n")
def test_sendmsg_and_command(uuid: str, hdrs: dict[str, str], body: bytes) -> None:
    def expected() -> Command:
        h = dict(hdrs)
        if body:
            h["Content-Length"] = str(len(body))
        return Command(f"sendmsg {uuid}", h, body)
    check(lambda: commands.sendmsg(uuid, hdrs, body), expected)

    def expected_cmd() -> Command:
        h = dict(hdrs)
        if body:
            h["Content-Length"] = str(len(body))
        return Command(uuid, h, body)
    check(lambda: commands.command(uuid, hdrs, body), expected_cmd)


@settings(max_examples=500, deadline=None)
@given(text, text, text)
@example("u1", "playback", "tone_stream://%(100,0,440)")
@example("u1", "playback", "a\n\nsendmsg u1\ncall-command: hangup")
def test_execute(uuid: str, app: str, arg: str) -> None:
    try:
        data = commands.execute(uuid, app, arg)
    except CommandError:
        return
    cmd = read_back(data)
    assert cmd.line == f"sendmsg {uuid}"
    assert cmd.headers["call-command"] == "execute"
    assert cmd.headers["execute-app-name"] == app
    if "execute-app-arg" in cmd.headers:
        assert cmd.headers["execute-app-arg"] == arg and cmd.body == b""
    elif arg:
        assert cmd.headers["content-type"] == "text/plain"
        assert cmd.body.decode("utf-8") == arg
    else:
        assert cmd.body == b""


def test_auth_errors_never_quote_the_password():
    from switchlab.errors import CommandError
    from switchlab.wire import commands

    secret = "s3cr3t\nauth other"
    with pytest.raises(CommandError) as info:
        commands.auth(secret)
    assert "s3cr3t" not in str(info.value)


def _outcome(make):
    try:
        return make()
    except CommandError as exc:
        return ("CommandError", str(exc))


@settings(max_examples=400, deadline=None)
@given(text, st.one_of(st.none(), text))
@example("originate {a=b}sofia/x/y &park()", "4f2c11aa-0000-4000-8000-000000000001")
@example("status", "a b")
@example("status", "\u2028")
@example("\ud800", "j")
def test_api_and_bgapi_fast_paths_equal_command(cmd: str, job_uuid: str | None) -> None:
    """``api``/``bgapi`` write their bytes directly: the same bytes, or the same error,
    as checking the line and building it with :func:`commands.command`."""
    def plain_api() -> bytes:
        if not commands.check_line("api command", cmd).strip():
            raise CommandError("api command is empty; give e.g. 'status'")
        return commands.command(f"api {cmd}")

    def plain_bgapi() -> bytes:
        if not commands.check_line("bgapi command", cmd).strip():
            raise CommandError("bgapi command is empty; give e.g. 'originate ...'")
        if job_uuid is None:
            return commands.command(f"bgapi {cmd}")
        return commands.command(f"bgapi {cmd}",
                                {"Job-UUID": commands.check_word("Job-UUID", job_uuid)})

    assert _outcome(lambda: commands.api(cmd)) == _outcome(plain_api)
    assert _outcome(lambda: commands.bgapi(cmd, job_uuid)) == _outcome(plain_bgapi)


def test_check_word_whitespace_is_str_isspace() -> None:
    """``check_word`` refuses exactly the words holding a character ``str.isspace()``
    calls whitespace (it searches with ``\\s`` in C, not character by character)."""
    for cp in range(0x3100):  # every whitespace code point is below U+3100
        ch = chr(cp)
        if ch in "\r\n\x00":
            continue
        try:
            check_word("w", f"a{ch}b")
            refused = False
        except CommandError:
            refused = True
        assert refused == ch.isspace(), hex(cp)
