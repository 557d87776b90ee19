"""What the fuzz targets check, shared by the atheris targets (``fuzz/fuzz_*.py``)
and the hypothesis tests (``tests/test_fuzz_hypothesis.py``).

Two entry points, the two places where switchlab reads bytes written by someone else:

* :func:`check_frames` - FreeSWITCH's side: :class:`switchlab.wire.FrameParser`
  (alone and inside :class:`switchlab.esl.protocol.ESLProtocol`) and the lazy and
  full decoding of every event (plain, JSON, XML);
* :func:`check_commands` - a client's side, as the emulator reads it:
  :class:`switchlab.wire.CommandParser`, then every command run by the emulator's
  command handler (:func:`switchlab.sim.esl.commands.handle`) on a fresh emulated
  host with an in-memory transport (no socket, no running server).

Rules: only :class:`~switchlab.errors.ProtocolError` (and its subclass
``MalformedFrameError``) may come out of the parsers and event decoding; the
emulator's command handler may raise nothing (a client's bytes only ever earn it
an ``-ERR`` reply). Anything else is a crash and is raised as :class:`FuzzFailure`
(or as the original exception). Invariants checked besides: parsing in chunks
gives the same frames as parsing at once; a lazy header lookup gives what the full
decoding gives; whatever the emulator writes back parses as frames.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from switchlab.errors import MalformedFrameError, ProtocolError
from switchlab.esl.protocol import ESLProtocol
from switchlab.sim.emulator import Emulator
from switchlab.sim.esl.commands import handle
from switchlab.sim.esl.server import EslServerProtocol
from switchlab.wire import Command, CommandParser, Event, Frame, FrameParser
from switchlab.wire.frames import EVENT_TYPES

__all__ = ["FuzzFailure", "check_commands", "check_frames", "chunks_of", "quiet"]


class FuzzFailure(AssertionError):
    """An invariant of the parsers or the emulator does not hold for an input."""


def quiet() -> None:
    """Silence the loggers the targets make noisy on purpose (bad input is logged)."""
    for name in ("switchlab", "switchlab.sim", "asyncio"):
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)


def chunks_of(data: bytes, sizes: Iterable[int]) -> list[bytes]:
    """``data`` cut in chunks of the given sizes (cycled; sizes < 1 count as 1)."""
    sizes = [max(1, s) for s in sizes] or [len(data) or 1]
    out: list[bytes] = []
    pos = k = 0
    while pos < len(data):
        n = sizes[k % len(sizes)]
        out.append(data[pos : pos + n])
        pos += n
        k += 1
    return out


# -- FreeSWITCH -> client ------------------------------------------------------------
def _feed_all(parser: FrameParser | CommandParser, chunks: Sequence[bytes]
              ) -> tuple[list[Any], ProtocolError | None]:
    """Feed ``chunks`` in order; (everything parsed, the error that stopped it)."""
    got: list[Any] = []
    for chunk in chunks:
        try:
            got.extend(parser.feed(chunk))
        except MalformedFrameError as exc:
            got.extend(exc.frames)
            try:  # a broken stream stays broken: the next feed raises again
                parser.feed(b"x")
            except MalformedFrameError:
                pass
            else:
                raise FuzzFailure("a parser accepted bytes after a MalformedFrameError") from exc
            return got, exc
        except ProtocolError as exc:
            raise FuzzFailure(f"feed raised a bare ProtocolError, not MalformedFrameError: {exc}"
                              ) from exc
    return got, None


def _same_parse(make: type[FrameParser] | type[CommandParser], data: bytes,
                chunks: Sequence[bytes] | None) -> list[Any]:
    """Parse ``data`` at once and in ``chunks`` (which must concatenate to it);
    both must give the same items and fail alike. Returns the items."""
    if chunks is None:
        chunks = [data]
    if b"".join(chunks) != data:
        raise ValueError("chunks must concatenate to data")
    whole, err_whole = _feed_all(make(), [data])
    parts, err_parts = _feed_all(make(), chunks)
    if (err_whole is None) != (err_parts is None):
        raise FuzzFailure(f"{make.__name__}: error at once={err_whole!r}, in chunks={err_parts!r}")
    if not _equal_items(whole, parts):
        raise FuzzFailure(f"{make.__name__}: {len(whole)} items at once, {len(parts)} in chunks "
                          f"{[len(c) for c in chunks]}: {whole[:3]!r} / {parts[:3]!r}")
    return whole


def _equal_items(a: list[Any], b: list[Any]) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if isinstance(x, Command):
            if (x.line, x.headers, x.body) != (y.line, y.headers, y.body):
                return False
        elif x != y:
            return False
    return True


def check_event(frame: Frame) -> None:
    """Decode one event frame every way there is; only ProtocolError may escape."""
    probe = Event.from_frame(frame)
    for read in (lambda e: e.name, lambda e: e.uuid, lambda e: e.job_uuid,
                 lambda e: e.subclass, lambda e: e.timestamp_us, lambda e: e.sequence,
                 lambda e: e.body, repr):
        try:
            read(Event.from_frame(frame))
        except ProtocolError:
            pass
    try:
        pairs = probe.header_list()
    except ProtocolError:
        pairs = []
    full_ev = Event.from_frame(frame)
    try:
        full: dict[str, str] | None = full_ev.headers
        len(full_ev)
        list(full_ev)
        _ = full_ev.body
    except ProtocolError:
        full = None
    lazy_ev = Event.from_frame(frame)
    names = [n for n, _ in pairs] + ["Event-Name", "Content-Length", "Unique-ID", "",
                                     "Event-Name: x", "a\nb"]
    for name in names:
        try:
            value = lazy_ev.get(name)
            inside = name in lazy_ev
        except ProtocolError:
            continue
        if inside != (value is not None):
            raise FuzzFailure(f"{name!r} in event is {inside} but get() gives {value!r}")
        if full is not None and value != full.get(name):
            raise FuzzFailure(f"lazy lookup of {name!r} gives {value!r}, full decoding "
                              f"{full.get(name)!r} ({frame.content_type})")


def check_frames(data: bytes, chunks: Sequence[bytes] | None = None) -> int:
    """Parse ``data`` as FreeSWITCH's output and decode every event in it.

    ``chunks`` (default: ``data`` whole) is how the bytes arrive; they must
    concatenate to ``data``. Returns how many frames were parsed.
    """
    frames = _same_parse(FrameParser, data, chunks)
    for f in frames:
        if f.content_type in EVENT_TYPES:
            check_event(f)
        _ = f.ok, f.text, f.reply_text, f.disposition, repr(f)
    _through_protocol(chunks or [data], len(frames))
    return len(frames)


def _through_protocol(chunks: Sequence[bytes], expected: int) -> None:
    """The same bytes through ESLProtocol: every event reaches ``emit`` and decodes."""
    proto = ESLProtocol(_no_future, write=lambda _b: None, host="fuzz")
    seen: list[Any] = []
    failures: list[BaseException] = []

    def emit(ev: Event) -> None:
        seen.append(ev)
        try:
            _ = ev.name, ev.uuid, ev.body
        except ProtocolError:
            pass
        except Exception as exc:  # the protocol would swallow it: keep it
            failures.append(exc)

    proto.emit = emit
    proto.on_notice = seen.append
    for chunk in chunks:
        frames, error = proto.parse(chunk)
        proto._process_all(frames)
        if error is not None:
            break
    proto.connection_lost("fuzz input ended")
    if failures:
        raise failures[0]
    if len(seen) > expected:
        raise FuzzFailure(f"ESLProtocol handled {len(seen)} frames, the parser gave {expected}")


def _no_future() -> asyncio.Future[Any]:
    raise FuzzFailure("ESLProtocol made a future although no request was sent")


# -- client -> emulator ------------------------------------------------------------
class _Transport(asyncio.Transport):
    """What the emulator's connection writes to: bytes kept in memory."""

    def __init__(self) -> None:
        super().__init__()
        self.out = bytearray()
        self.closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.out += data

    def writelines(self, list_of_data: Iterable[bytes | bytearray | memoryview]) -> None:
        for d in list_of_data:
            self.out += d

    def close(self) -> None:
        self.closing = True

    def abort(self) -> None:
        self.closing = True

    def is_closing(self) -> bool:
        return self.closing

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 40000) if name == "peername" else default


class CommandSandbox:
    """A fresh emulated host per input on one (non-running) event loop, renewed
    every ``renew`` inputs so timers left by commands never pile up."""

    def __init__(self, renew: int = 200) -> None:
        self.renew = renew
        self.used = 0
        self.loop: asyncio.AbstractEventLoop | None = None
        self.errors: list[BaseException] = []

    def _loop(self) -> asyncio.AbstractEventLoop:
        if self.loop is None or self.used >= self.renew:
            self.close()
            self.loop = asyncio.new_event_loop()
            self.loop.set_exception_handler(self._on_loop_error)
            self.used = 0
        self.used += 1
        return self.loop

    def _on_loop_error(self, _loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        self.errors.append(exc if exc is not None else FuzzFailure(str(context.get("message"))))

    def close(self) -> None:
        loop, self.loop = self.loop, None
        if loop is None:
            return
        tasks = asyncio.all_tasks(loop)
        for t in tasks:
            t.cancel()
        if tasks:
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        loop.close()

    def run(self, commands: list[Command], authed: bool) -> bytes:
        """Run ``commands`` on a fresh host; returns what the host wrote back."""
        loop = self._loop()
        emu = Emulator(hosts=1, port=0)
        emu.loop = loop
        srv = EslServerProtocol(emu.hosts[0])
        transport = _Transport()
        srv.connection_made(transport)
        srv.authed = authed
        self.errors.clear()
        for cmd in commands:
            if srv.closed:
                break
            pending = handle(srv, cmd)  # any exception here is a crash
            if pending is not None:
                task = loop.create_task(_bounded(pending))
                loop.run_until_complete(asyncio.wait([task], timeout=0.1))
                if task.done() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
                srv.unhold()
            loop.run_until_complete(asyncio.sleep(0))
        loop.run_until_complete(asyncio.sleep(0))
        if not srv.closed:
            srv.close()
        for chan in list(emu.hosts[0].channels.values()):
            chan.cancel_timers()
        if self.errors:
            raise self.errors[0]
        return bytes(transport.out)


async def _bounded(pending: Any) -> None:
    try:
        await asyncio.wait_for(pending, 0.05)
    except asyncio.TimeoutError:
        pass


def check_commands(data: bytes, chunks: Sequence[bytes] | None = None, *, authed: bool = False,
                   sandbox: CommandSandbox | None = None) -> int:
    """Parse ``data`` as a client's commands and run them on an emulated host.

    Returns how many commands were parsed. The host's replies must parse as
    event-socket frames.
    """
    commands = _same_parse(CommandParser, data, chunks)
    for cmd in commands:
        _ = cmd.verb, cmd.arg
    box = sandbox or CommandSandbox()
    try:
        out = box.run(commands, authed)
    finally:
        if sandbox is None:
            box.close()
    try:
        FrameParser().feed(out)
    except ProtocolError as exc:
        raise FuzzFailure(f"the emulator wrote bytes that are not frames: {exc}") from exc
    return len(commands)
