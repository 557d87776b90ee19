"""``Client``: one FreeSWITCH server under control: a connection, its listener,
loaded apps, and call origination.

>>> async with Client("127.0.0.1:8021") as client:                # doctest: +SKIP
...     client.load_app(TonePlay, app_id="tone")
...     host, port = await client.sip_address("external")
...     job = client.originate(f"Fred@{host}:{port}", app_id="tone")
...     uuid = await job                       # the caller leg, once answered
...     call = client.listener.calls[job.call_id]
...     await call.first.hangup()
"""
from __future__ import annotations

import asyncio
import logging
import os
import re
import threading
import uuid as _uuid
from collections.abc import Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

from .apps import LoadedApp, app_name, load_app as _load_app, unload_app as _unload_app
from .esl import Connection, ConnectionState, Job, Reconnect, parse_address
from .errors import APIError, CommandError
from .wire import commands
from .wire.dialstring import originate_string
from .wire.validate import check_var_name
from .state import APP_ID_VAR, CALL_TRACKING_VAR, DEFAULT_EVENTS, EventListener

__all__ = ["Client", "get_client", "parse_sofia_url"]

log = logging.getLogger(__name__)

_URL_LINE = re.compile(r"^URL\s+sips?:[^@\s]*@?(\[[^\]]+\]|[^:;>\s]+)(?::(\d+))?", re.M)


#: the variant digit of a version-4 UUID for each random hex digit (RFC 4122: 10xx)
_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}
#: a uuid4 string (lowercase, as ``str(uuid.uuid4())``): what the originate template takes
_PLAIN_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").fullmatch
#: stands for the call's uuid while an originate command is built once per set of parameters
_UUID_SLOT = "00000000-0000-4000-8000-00000000c0de"
#: ... and for the Job-UUID
_JOB_SLOT = "00000000-0000-4000-8000-0000000006b1"
_TEMPLATES_MAX = 64


#: random bytes for the next uuids: one ``os.urandom`` system call per 256 uuids
#: (a launch takes two); emptied in a forked child, which must not repeat its parent's.
#: Taken under a lock: shards of a scale-out run may launch from threads of one process.
_RANDOM = bytearray()
_RANDOM_LOCK = threading.Lock()
os.register_at_fork(after_in_child=_RANDOM.clear)


def _uuid4() -> str:
    """A random (version 4) UUID string, like ``str(uuid.uuid4())`` at a third of its cost.

    >>> u = _uuid4(); str(_uuid.UUID(u)) == u and _uuid.UUID(u).version
    4
    """
    pool = _RANDOM
    with _RANDOM_LOCK:
        if not pool:
            pool += os.urandom(4096)
        h = pool[-16:].hex()
        del pool[-16:]
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"


def parse_sofia_url(body: str) -> tuple[str, int]:
    """``(host, port)`` from the ``URL`` line of ``sofia status profile <name>``.

    >>> parse_sofia_url("Name   \\texternal\\nURL              \\tsip:mod_sofia@127.0.0.1:5080\\n")
    ('127.0.0.1', 5080)
    """
    m = _URL_LINE.search(body)
    if m is None:
        raise ValueError(f"no 'URL sip:...' line in the profile status: {body[:200]!r}")
    host = m.group(1).strip("[]")
    return host, int(m.group(2) or 5060)


class Client:
    """Control of one FreeSWITCH server over its event socket.

    ``call_tracking_var`` and ``app_id_var`` name the channel variables (SIP
    X-headers by default, so they reach the callee leg too) that tie legs
    into calls and sessions to apps. ``events`` are subscribed at connect
    (``("ALL",)`` for everything); apps add what they need.
    """

    def __init__(self, host: str = "127.0.0.1", port: int | str | None = None,
                 password: str = "ClueCon", *, call_tracking_var: str = CALL_TRACKING_VAR,
                 app_id_var: str = APP_ID_VAR, events: Iterable[str] = DEFAULT_EVENTS,
                 reconnect: bool | Reconnect = False, connect_timeout: float = 5.0,
                 release_after_hangup: float = 30.0) -> None:
        self.host, self.port = parse_address(host, port)
        self._password = password
        self.call_tracking_var = check_var_name(call_tracking_var)
        self.app_id_var = check_var_name(app_id_var)
        self.events = tuple(events)
        self.reconnect = reconnect
        self.connect_timeout = connect_timeout
        self.release_after_hangup = release_after_hangup
        self.client_id = _uuid4()
        self.connection: Connection | None = None
        self.listener: EventListener | None = None
        self._loaded: dict[str, dict[str, LoadedApp]] = {}
        self._profiles: dict[str, tuple[str, int]] = {}
        self._subscribed: set[str] = set()
        # originate command per set of parameters, split where the call's uuid goes
        self._templates: dict[tuple[Any, ...], tuple[list[str], list[bytes]] | None] = {}

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def __repr__(self) -> str:
        state = self.connection.state.value if self.connection else "new"
        return f"<Client {self.address} {state} apps={sorted(self._loaded)}>"

    # -- life cycle ---------------------------------------------------------------
    async def connect(self) -> Client:
        """Connect, authenticate, start the listener and subscribe to events."""
        if self.connection is not None and self.connection.state is ConnectionState.CONNECTED:
            return self
        conn = Connection(self.host, self.port, self._password, reconnect=self.reconnect,
                          loop=asyncio.get_running_loop())
        await conn.open(self.connect_timeout)
        self.connection = conn
        self.listener = EventListener(conn, call_tracking_var=self.call_tracking_var,
                                      app_id_var=self.app_id_var,
                                      release_after_hangup=self.release_after_hangup)
        self._subscribed = set()
        await self._subscribe(self.events)
        return self

    def enable_reconnect(self, policy: Reconnect) -> None:
        """Reconnect with ``policy`` when the connection drops, if no policy was
        set yet (the originator's default; an explicit ``reconnect=`` is kept)."""
        if self.reconnect is False:
            self.reconnect = policy
        if self.connection is not None and self.connection.reconnect_policy is None:
            self.connection.reconnect_policy = policy

    async def subscribe(self, names: Iterable[str]) -> None:
        """Subscribe to more events (those already subscribed are skipped)."""
        await self._subscribe(names)

    async def _subscribe(self, names: Iterable[str]) -> None:
        want = {n for n in names if n not in self._subscribed}
        if "ALL" in self._subscribed or not want:
            return
        await self._conn.subscribe(*sorted(want))
        self._note_subscribed(want)

    def _note_subscribed(self, names: set[str]) -> None:
        """Record ``names``; sessions end at HANGUP_COMPLETE unless DESTROY (or ALL) comes."""
        subscribed = self._subscribed = self._subscribed | names
        if self.listener is not None:
            self.listener.destroy_comes = "CHANNEL_DESTROY" in subscribed or "ALL" in subscribed

    async def close(self) -> None:
        """Unload apps, close the listener and the connection."""
        for app_id in list(self._loaded):
            self.unload_app(app_id)
        if self.listener is not None:
            self.listener.close()
        if self.connection is not None:
            await self.connection.close()

    disconnect = close

    async def __aenter__(self) -> Client:
        return await self.connect()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def connected(self) -> bool:
        return self.connection is not None and self.connection.connected

    @property
    def _conn(self) -> Connection:
        if self.connection is None:
            raise CommandError(f"client for {self.address} is not connected; call connect() first")
        return self.connection

    # -- commands -----------------------------------------------------------------
    def api(self, cmd: str, *, check: bool = True, timeout: float | None = None) -> asyncio.Future[str]:
        """``api <cmd>``: the body (``-ERR`` raises APIError unless ``check=False``)."""
        return self._conn.api(cmd, check=check, timeout=timeout)

    def api_forget(self, cmd: str) -> None:
        """``api <cmd>`` that nobody waits for: sent, its reply read and dropped."""
        self._conn.api_forget(cmd)

    async def cmd(self, cmd: str) -> str:
        """``api <cmd>`` with the body stripped (switchio's ``cmd``)."""
        return (await self._conn.api(cmd)).strip()

    def bgapi(self, cmd: str) -> Job:
        return self._conn.bgapi(cmd)

    def originate_string(self, dest_url: str, profile: str = "external", proxy: str | None = None,
                         app_id: str | None = None, vars: Mapping[str, object] | None = None,
                         timeout: float = 60, uuid: str | None = None) -> str:
        """The exact ``originate`` command :meth:`originate` would send (validated)."""
        uuid = uuid or _uuid4()
        if timeout is not None and (not isinstance(timeout, (int, float)) or timeout <= 0):
            raise CommandError(f"timeout {timeout!r} must be a positive number of seconds")
        params: dict[str, object] = {
            "origination_uuid": uuid,
            self.call_tracking_var: uuid,
            self.app_id_var: app_id or self.client_id,
        }
        if timeout is not None:
            params["originate_timeout"] = int(timeout) if float(timeout).is_integer() else timeout
        for name, value in (vars or {}).items():
            if name in ("origination_uuid", self.call_tracking_var, self.app_id_var):
                raise CommandError(f"variable {name} is set by switchlab (use uuid_func / app_id "
                                   "instead)")
            params[name] = value
        return originate_string(dest_url, profile, proxy, params)

    def originate(self, dest_url: str, profile: str = "external", proxy: str | None = None,
                  app_id: str | None = None, vars: Mapping[str, object] | None = None,
                  timeout: float = 60, uuid_func: Callable[[], str] = _uuid4) -> Job:
        """``bgapi originate {vars}sofia/<profile>/<dest>[;fs_path=sip:<proxy>] &park()``.

        Returns the :class:`Job` (with ``sess_uuid`` = ``call_id`` = the
        caller leg's uuid and ``app_id``); ``await job`` gives the uuid once
        the call is answered and raises APIError with the cause otherwise.
        Every value is validated; one that could alter the command raises
        :class:`~switchlab.errors.CommandError` (a ValueError) and nothing is sent.
        """
        uuid = uuid_func()
        job_uuid = _uuid4()
        made = self._templated(dest_url, profile, proxy, app_id, vars, timeout, uuid, job_uuid)
        if made is None:
            cmd = self.originate_string(dest_url, profile, proxy, app_id, vars, timeout, uuid)
            job = self._conn.bgapi(cmd, job_uuid=job_uuid)
        else:
            job = self._conn.bgapi_bytes(*made, job_uuid)
        job.sess_uuid = job.call_id = uuid
        job.app_id = app_id or self.client_id
        return job

    def _templated(self, dest_url: str, profile: str, proxy: str | None, app_id: str | None,
                   vars: Mapping[str, object] | None, timeout: float, uuid: str, job_uuid: str
                   ) -> tuple[str, bytes] | None:
        """:meth:`originate_string`'s command and its ``bgapi`` bytes
        (``commands.bgapi(cmd, job_uuid=job_uuid)``) from a template built (and
        checked) once per set of parameters (a load test repeats the same few);
        None when the parameters or the uuids do not fit one (then the command is
        built and checked in full)."""
        if not (_PLAIN_UUID(uuid) and _PLAIN_UUID(job_uuid)):
            return None
        # a value's type is part of the key: True == 1 == 1.0, but they are written differently
        key = (dest_url, profile, proxy, app_id, timeout,
               *((k, type(v), v) for k, v in vars.items())) if vars else \
            (dest_url, profile, proxy, app_id, timeout)
        try:
            template = self._templates[key]
        except KeyError:
            template = self._template(key, dest_url, profile, proxy, app_id, vars, timeout)
        except TypeError:  # an unhashable value
            return None
        if template is None:
            return None
        text, raw = template
        u = uuid.encode()
        return uuid.join(text), b"".join((raw[0], u, raw[1], u, raw[2], job_uuid.encode(), raw[3]))

    def _template(self, key: tuple[Any, ...], dest_url: str, profile: str, proxy: str | None,
                  app_id: str | None, vars: Mapping[str, object] | None, timeout: float
                  ) -> tuple[list[str], list[bytes]] | None:
        if len(self._templates) >= _TEMPLATES_MAX:
            self._templates.clear()
        cmd = self.originate_string(dest_url, profile, proxy, app_id, vars, timeout, _UUID_SLOT)
        text = cmd.split(_UUID_SLOT)
        # checked as bgapi checks it, with uuids of the same shape as the real ones
        raw = commands.bgapi(cmd, job_uuid=_JOB_SLOT).split(_UUID_SLOT.encode())
        template = None
        # the uuid goes into origination_uuid and the tracking variable, nowhere else
        if len(text) == 3 and len(raw) == 3:
            last = raw[2].split(_JOB_SLOT.encode())
            if len(last) == 2:
                template = (text, [raw[0], raw[1], last[0], last[1]])
        self._templates[key] = template
        return template

    def hupall(self, app_id: str | None = None, cause: str = "NORMAL_CLEARING"
               ) -> asyncio.Future[list[str]]:
        """Hang up this client's calls: those of ``app_id``, or of every app it used."""
        if not re.fullmatch(r"[A-Z_]+", cause):
            raise CommandError(f"hangup cause {cause!r} must be a Q.850 name like NORMAL_CLEARING")
        ids = [app_id] if app_id else [*self._loaded, self.client_id]
        for i in ids:
            if not re.fullmatch(r"[^\s{},\[\]]+", i):
                raise CommandError(f"app id {i!r} cannot be used in hupall")
        return asyncio.gather(*(self._conn.api(f"hupall {cause} {self.app_id_var} {i}")
                                for i in ids))

    async def sip_address(self, profile: str = "external") -> tuple[str, int]:
        """``(host, port)`` a sofia profile listens on, from ``sofia status profile``."""
        if profile in self._profiles:
            return self._profiles[profile]
        check_var_name(profile)
        cmd = f"sofia status profile {profile}"
        body = await self._conn.api(cmd, check=False)
        try:
            addr = parse_sofia_url(body)
        except ValueError:
            raise APIError(cmd, body.strip() or "empty answer") from None
        self._profiles[profile] = addr
        return addr

    def own_calls(self) -> list[Any]:
        """Calls of this client: those tagged with one of its app ids (or its client id)."""
        if self.listener is None:
            return []
        ids = {*self._loaded, self.client_id}
        return [c for c in self.listener.calls.values() if c.app_id in ids]

    # -- apps -----------------------------------------------------------------------
    @property
    def apps(self) -> dict[str, dict[str, Any]]:
        """Loaded app instances: ``{app_id: {app name: instance}}``."""
        return {i: {n: a.instance for n, a in apps.items()} for i, apps in self._loaded.items()}

    def load_app(self, app: Any, app_id: str | None = None, *, prepend: bool = False,
                 funcargs: Mapping[str, Any] | None = None, **prepost_kwargs: Any) -> str:
        """Load an app (class or instance) under ``app_id`` (default: its class name).

        Several apps may share an ``app_id`` (their callbacks all run), but
        not two of the same class. Returns the app id to pass to ``originate``.
        """
        name = app_name(app)
        app_id = app_id or name
        if not re.fullmatch(r"[A-Za-z0-9_.\-]+", app_id):
            raise CommandError(f"app id {app_id!r} must be letters, digits, '_', '-' or '.'")
        if self.listener is None:
            raise CommandError(f"connect the client for {self.address} before loading apps")
        group = self._loaded.setdefault(app_id, {})
        if name in group:
            raise ValueError(f"an app {name!r} is already loaded under app id {app_id!r}; "
                             "use another app_id for a second instance")
        args = {"client": self, "listener": self.listener, **(funcargs or {})}
        try:
            loaded = _load_app(self.listener, app, app_id, prepend=prepend, funcargs=args,
                               **prepost_kwargs)
        except BaseException:
            if not group:
                del self._loaded[app_id]
            raise
        group[name] = loaded
        missing = loaded.events - self._subscribed
        if missing and "ALL" not in self._subscribed:
            fut = self._conn.subscribe(*sorted(missing))
            fut.add_done_callback(lambda f: f.cancelled() or f.exception())
            self._note_subscribed(missing)
        return app_id

    def unload_app(self, app_id: str, app: Any = None) -> None:
        """Unload the apps under ``app_id`` (only ``app``'s if given)."""
        group = self._loaded.get(app_id)
        if not group:
            return
        names = [app_name(app)] if app is not None else list(group)
        for name in names:
            loaded = group.pop(name, None)
            if loaded is not None and self.listener is not None:
                _unload_app(self.listener, loaded)
        if not group:
            del self._loaded[app_id]


@asynccontextmanager
async def get_client(host: str = "127.0.0.1", port: int | str | None = None,
                     password: str = "ClueCon", apps: Mapping[str, Any] | None = None,
                     **kwargs: Any) -> AsyncIterator[Client]:
    """A connected :class:`Client` with ``apps`` (``{app_id: AppClass}``) loaded; closed on exit.

    Values of ``apps`` may be ``(AppClass, {prepost kwargs})`` pairs.
    """
    client = Client(host, port, password, **kwargs)
    await client.connect()
    try:
        for app_id, spec in (apps or {}).items():
            app, ppkwargs = spec if isinstance(spec, tuple) else (spec, {})
            client.load_app(app, app_id, **ppkwargs)
        yield client
    finally:
        await client.close()
