"""A minimal raw-socket event-socket client for the emulator tests (wire layer only).

It keeps replies (command/reply, api/response) and events apart, so a test can
send a command and then wait for events by predicate.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from switchlab.wire import Event, Frame, FrameParser

EVENT_TYPES = ("text/event-plain", "text/event-json", "text/event-xml")


class RawClient:
    """``async with RawClient(host, port) as c: await c.auth(); await c.api("status")``."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.parser = FrameParser()
        self.replies: asyncio.Queue[Frame] = asyncio.Queue()
        self.events: list[Event] = []
        self.frames: list[Frame] = []
        self.closed = asyncio.Event()
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> RawClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self._task = asyncio.create_task(self._read())
        greeting = await self.reply()
        assert greeting.content_type == "auth/request", greeting

    async def _read(self) -> None:
        assert self.reader is not None
        try:
            while True:
                data = await self.reader.read(1 << 16)
                if not data:
                    break
                for frame in self.parser.feed(data):
                    self.frames.append(frame)
                    if frame.content_type in EVENT_TYPES:
                        ev = Event.from_frame(frame)
                        ev.received = time.monotonic()
                        self.events.append(ev)
                    elif frame.content_type == "log/data":
                        pass
                    else:
                        self.replies.put_nowait(frame)
                    self._changed.set()
        finally:
            self.closed.set()
            self._changed.set()

    async def reply(self, timeout: float = 5.0) -> Frame:
        return await asyncio.wait_for(self.replies.get(), timeout)

    def send(self, data: str | bytes) -> None:
        assert self.writer is not None
        self.writer.write(data.encode() if isinstance(data, str) else data)

    async def command(self, line: str, timeout: float = 5.0) -> Frame:
        self.send(line + "\n\n")
        return await self.reply(timeout)

    async def auth(self, password: str = "ClueCon") -> Frame:
        frame = await self.command(f"auth {password}")
        assert frame.reply_text == "+OK accepted", frame
        return frame

    async def api(self, cmd: str, timeout: float = 10.0) -> str:
        frame = await self.command(f"api {cmd}", timeout)
        assert frame.content_type == "api/response", frame
        return frame.text

    async def bgapi(self, cmd: str) -> str:
        frame = await self.command(f"bgapi {cmd}")
        assert frame.reply_text.startswith("+OK Job-UUID: "), frame
        return frame.headers["Job-UUID"]

    async def wait_for(self, pred: Callable[[Event], bool], timeout: float = 5.0,
                       count: int = 1) -> list[Event]:
        """Events matching ``pred`` (waits until ``count`` of them arrived)."""
        deadline = time.monotonic() + timeout
        while True:
            found = [e for e in self.events if pred(e)]
            if len(found) >= count:
                return found
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                names = [(e.name, e.get("Unique-ID")) for e in self.events[-20:]]
                raise AssertionError(f"timed out waiting for {count} events; last: {names}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    async def job(self, job_uuid: str, timeout: float = 10.0) -> Event:
        events = await self.wait_for(
            lambda e: e.name == "BACKGROUND_JOB" and e.get("Job-UUID") == job_uuid, timeout)
        return events[0]

    def of(self, uuid: str) -> list[Event]:
        return [e for e in self.events if e.get("Unique-ID") == uuid]

    def names(self, uuid: str) -> list[str]:
        return [e.name for e in self.of(uuid)]

    async def close(self) -> None:
        if self.writer is not None and not self.writer.is_closing():
            self.writer.close()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
