"""Blocking use of the engine: in a plain script and inside a running Jupyter kernel.

When a loop already runs in this thread (a Jupyter kernel), the engine runs
on that loop and blocking calls re-enter it (``nest_asyncio``), so between
cells the kernel keeps handling events. Otherwise a private loop runs only
while a blocking call is in progress.

>>> from switchlab import sync_caller
>>> from switchlab.apps.players import TonePlay
>>> with sync_caller('127.0.0.1', apps={"tone": TonePlay}) as caller:      # doctest: +SKIP
...     sess, waitfor = caller('Fred@{}:{}'.format(caller.client.host, 5080), "tone")
...     time.sleep(5)
...     sess.hangup()
"""
from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

from .apps.players import TonePlay
from .client import Client
from .esl import Job
from .errors import SessionGone
from .loops import new_event_loop
from .state.session import Session

__all__ = ["SyncCaller", "SyncClient", "sync_caller", "sync_client"]

T = TypeVar("T")
log = logging.getLogger(__name__)


def apply_nest_asyncio(loop: asyncio.AbstractEventLoop) -> None:
    """Let blocking calls re-enter the running ``loop`` (a Jupyter kernel's).

    ``nest_asyncio2`` is preferred: with ipykernel >= 7, which runs queued
    cells as tasks in copied contexts, ``nest_asyncio`` 1.6 makes every queued
    cell fail ("cannot enter context ... is already entered": *Run All* stops
    after the first blocking cell). Both mark a patched loop the same way."""
    try:
        import nest_asyncio2 as nest
    except ImportError:  # pragma: no cover - older kernels
        import nest_asyncio as nest
    nest.apply(loop)


class LoopRunner:
    """Runs awaitables to completion from blocking code, on the right loop."""

    def __init__(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None:
            apply_nest_asyncio(loop)
            self.owned = False
        else:
            loop = new_event_loop()  # uvloop where installed (switchlab.loops)
            self.owned = True
        self.loop = loop
        self.thread = threading.get_ident()

    def run(self, aw: Awaitable[T], timeout: float | None = None) -> T:
        """Run ``aw`` to completion (a Future is shielded from a timeout)."""
        if threading.get_ident() != self.thread:
            raise RuntimeError("switchlab's blocking API must be used from the thread that created it")
        if self.loop.is_closed():
            raise RuntimeError("this blocking client is closed")
        if timeout is not None:
            if isinstance(aw, asyncio.Future):
                aw = asyncio.shield(aw)
            aw = asyncio.wait_for(aw, timeout)
        if self.owned:
            return self.loop.run_until_complete(aw)
        return self.loop.run_until_complete(asyncio.ensure_future(aw, loop=self.loop))

    def close(self) -> None:
        if not self.owned or self.loop.is_closed():
            return
        loop = self.loop
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for t in pending:
            t.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


class SyncClient:
    """A :class:`~switchlab.client.Client` with blocking methods.

    ``aio`` is the underlying async Client; its attributes (``host``,
    ``listener``, ``apps``...) are readable here too.
    """

    def __init__(self, host: str = "127.0.0.1", port: int | str | None = None,
                 password: str = "ClueCon", **client_kwargs: Any) -> None:
        self.runner = LoopRunner()
        self.aio = Client(host, port, password, **client_kwargs)

    def __getattr__(self, name: str) -> Any:
        if name in ("aio", "runner"):
            raise AttributeError(name)
        return getattr(self.aio, name)

    def __repr__(self) -> str:
        return f"<SyncClient {self.aio!r}>"

    def run(self, aw: Awaitable[T], timeout: float | None = None) -> T:
        """Run an awaitable on the engine's loop and return its result."""
        return self.runner.run(aw, timeout)

    def connect(self) -> SyncClient:
        self.run(self.aio.connect())
        return self

    def close(self) -> None:
        try:
            if not self.runner.loop.is_closed():
                self.run(self.aio.close())
        finally:
            self.runner.close()

    def __enter__(self) -> SyncClient:
        return self.connect()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def api(self, cmd: str, *, check: bool = True, timeout: float | None = 30) -> str:
        return self.run(self.aio.api(cmd, check=check), timeout)

    def cmd(self, cmd: str, timeout: float | None = 30) -> str:
        return self.run(self.aio.cmd(cmd), timeout)

    def bgapi(self, cmd: str) -> Job:
        """Start a background job (wait for it with :meth:`wait`)."""
        return self.aio.bgapi(cmd)

    def originate(self, dest_url: str, **kwargs: Any) -> Job:
        """Start a call (see :meth:`Client.originate`); wait for it with :meth:`wait`."""
        return self.aio.originate(dest_url, **kwargs)

    def wait(self, job: Job, timeout: float | None = None) -> str:
        """Block until ``job`` is done; its result, or its APIError."""
        return self.run(job.future, timeout)

    def hupall(self, app_id: str | None = None, cause: str = "NORMAL_CLEARING",
               timeout: float | None = 30) -> list[str]:
        return self.run(self.aio.hupall(app_id, cause), timeout)

    def load_app(self, app: Any, app_id: str | None = None, **kwargs: Any) -> str:
        return self.aio.load_app(app, app_id, **kwargs)

    def unload_app(self, app_id: str, app: Any = None) -> None:
        self.aio.unload_app(app_id, app)

    def sip_address(self, profile: str = "external", timeout: float | None = 30) -> tuple[str, int]:
        return self.run(self.aio.sip_address(profile), timeout)

    def waitfor(self, sess: Session, varname: str, timeout: float | None = None) -> bool:
        """Block until an app sets ``sess.vars[varname]`` to something true."""
        try:
            self.run(sess.wait_var(varname), timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(f"{varname!r} was not set on session {sess.uuid} within "
                               f"{timeout} seconds") from None
        return True

    def sleep(self, seconds: float) -> None:
        """Sleep while the engine keeps handling events (unlike ``time.sleep``)."""
        self.run(asyncio.sleep(seconds))

    def drain(self, timeout: float = 5.0) -> bool:
        """Let events flow until this client's calls (those of its apps) are gone (or ``timeout``)."""
        async def _drain() -> None:
            while self.aio.own_calls():
                await asyncio.sleep(0.02)
        try:
            self.run(_drain(), timeout)
        except asyncio.TimeoutError:
            return False
        return True


@contextmanager
def sync_client(host: str = "127.0.0.1", port: int | str | None = None, password: str = "ClueCon",
                apps: Mapping[str, Any] | None = None, **client_kwargs: Any) -> Iterator[SyncClient]:
    """A connected :class:`SyncClient` with ``apps`` (``{app_id: AppClass}``) loaded."""
    client = SyncClient(host, port, password, **client_kwargs)
    try:
        client.connect()
        for app_id, spec in (apps or {}).items():
            app, ppkwargs = spec if isinstance(spec, tuple) else (spec, {})
            client.load_app(app, app_id, **ppkwargs)
        yield client
    finally:
        client.close()


class SyncCaller:
    """Makes one call at a time and returns once it is up (see :func:`sync_caller`).

    ``caller(dest_url, app_id, timeout=30, waitfor=None, **originate_kwargs)``
    returns ``(caller_session, waitfor)``; ``waitfor(sess, varname,
    timeout=None)`` blocks until an app sets ``sess.vars[varname]``.
    Attributes: ``client`` (a :class:`SyncClient`), ``apps``, ``app_names``.
    """

    def __init__(self, client: SyncClient) -> None:
        self.client = client

    @property
    def apps(self) -> dict[str, dict[str, Any]]:
        return self.client.aio.apps

    @property
    def app_names(self) -> list[str]:
        return list(self.client.aio.apps)

    def waitfor(self, sess: Session, varname: str, timeout: float | None = None) -> bool:
        return self.client.waitfor(sess, varname, timeout)

    def __call__(self, dest_url: str, app_name: str, timeout: float = 30,
                 waitfor: tuple[str, float | None] | None = None,
                 **orig_kwargs: Any) -> tuple[Session, Any]:
        if app_name not in self.client.aio.apps:
            raise ValueError(f"no app loaded under {app_name!r}; loaded: {self.app_names}")
        job = self.client.originate(dest_url, app_id=app_name, **orig_kwargs)
        try:
            self.client.run(job.future, timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(f"the call to {dest_url} was not up within {timeout} s") from None
        listener = self.client.aio.listener
        sess = listener.sessions.get(job.sess_uuid or "") if listener is not None else None
        if sess is None or sess.call is None:
            raise SessionGone(f"the call to {dest_url} ended right after it was answered",
                              job.sess_uuid)
        orig = sess.call.first or sess
        if waitfor:
            var, wait_time = waitfor
            self.waitfor(orig, var, wait_time)
        return orig, self.waitfor


@contextmanager
def sync_caller(host: str, port: int | str | None = None, password: str = "ClueCon",
                apps: Mapping[str, Any] | None = None, **client_kwargs: Any
                ) -> Iterator[SyncCaller]:
    """A synchronous caller, as in switchio.

    ``apps`` maps app ids to app classes (default ``{"TonePlay": TonePlay}``).
    On exit the calls of the loaded apps are hung up and the client closed.
    """
    apps = {"TonePlay": TonePlay} if apps is None else apps
    client = SyncClient(host, port, password, **client_kwargs)
    try:
        client.connect()
        for app_id, spec in apps.items():
            app, ppkwargs = spec if isinstance(spec, tuple) else (spec, {})
            client.load_app(app, app_id, **ppkwargs)
        yield SyncCaller(client)
    finally:
        try:
            if client.aio.connected:
                client.hupall()
                client.drain(5.0)
        except Exception as exc:  # cleanup must not hide the user's error
            log.warning("could not hang up the calls of %s: %s", client.aio.address, exc)
        finally:
            client.close()
