"""How ``switchlab dial`` stops on SIGINT (Ctrl-C) and SIGTERM: the same way.

The first signal stops launching; calls in progress end on their own and the
run is written as usual. The second hangs up every call at once (the run is
still written). Before the event loop runs (input checks, the emulator's
start) a signal ends the command at once: no call has been placed yet.
"""
from __future__ import annotations

import asyncio
import signal
import sys
from types import FrameType
from typing import Any, NoReturn

import click

#: the signals that stop a dial
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
#: exit code when a signal arrives before the first call (128 + SIGINT, as a shell does)
EXIT_INTERRUPTED = 130


def stopped_early(signum: int) -> NoReturn:
    """End the command: a stop signal came before any call was placed."""
    click.echo(f"Stopped by {signal.Signals(signum).name} before the first call; "
               "nothing was sent", err=True)
    sys.exit(EXIT_INTERRUPTED)


def _before_loop(signum: int, frame: FrameType | None) -> None:
    stopped_early(signum)


class StoppedEarly(Exception):
    """A stop signal came while connecting, before the originator existed."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def install_early() -> None:
    """Until :class:`Stopper` takes over: a signal ends the command cleanly."""
    for sig in STOP_SIGNALS:
        signal.signal(sig, _before_loop)


class Stopper:
    """Counts stop signals on the running loop; ``stop`` is set by the first.

    ``attach(orig)`` names the originator to stop and, on a second signal, to
    hang up (:meth:`Originator.hupall`). A signal before that (while
    connecting) cancels the set-up task: :meth:`check` then raises
    :class:`StoppedEarly`."""

    def __init__(self) -> None:
        self.stop = asyncio.Event()
        self.count = 0
        self.orig: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._hupall: asyncio.Task[None] | None = None
        self._setup: asyncio.Task[Any] | None = None
        self.early: int | None = None

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        """Handle the stop signals on ``loop`` (the set-up runs in the current task)."""
        self._loop = loop
        self._setup = asyncio.current_task()
        for sig in STOP_SIGNALS:
            try:
                loop.add_signal_handler(sig, self.on_signal, sig)
            except (NotImplementedError, RuntimeError):  # not the main thread / Windows
                pass

    def attach(self, orig: Any) -> None:
        """From now on signals stop (and hang up) ``orig`` instead of cancelling the set-up."""
        self.orig = orig
        self._setup = None
        if self.stop.is_set():
            orig.stop()

    def check(self, exc: BaseException) -> None:
        """Raise :class:`StoppedEarly` if ``exc`` is the cancellation a signal caused."""
        if self.early is not None and isinstance(exc, asyncio.CancelledError):
            raise StoppedEarly(self.early) from None

    def on_signal(self, sig: signal.Signals = signal.SIGINT) -> None:
        self.count += 1
        orig = self.orig
        if orig is None and self._setup is not None and not self._setup.done():
            self.early = int(sig)  # still connecting: nothing was sent, stop right here
            self._setup.cancel()
            self.stop.set()
            return
        if self.count == 1:
            click.echo(f"{signal.Signals(sig).name}: stopping; calls in progress end on their "
                       "own (send it again to hang up every call)")
        elif orig is not None and self._hupall is None and self._loop is not None:
            click.echo("Hanging up every call")
            self._hupall = self._loop.create_task(orig.hupall())
        self.stop.set()
        if orig is not None:
            orig.stop()

    @property
    def hanging_up(self) -> bool:
        """True once a second signal asked to hang up every call."""
        return self._hupall is not None
