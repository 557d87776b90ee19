"""The :class:`Emulator`: several emulated FreeSWITCH hosts on one event loop.

In-process::

    async with Emulator(hosts=2, port=0, dut=DUTModel(seed=1)) as fs:
        print(fs.esl_addresses)          # [("127.0.0.1", 40711), ("127.0.0.1", 40713)]

From synchronous code (a notebook cell), in its own thread::

    fs = Emulator(hosts=3).start_background()
    ...
    fs.stop()

SIP is virtual: no UDP socket is opened. Host ``k`` has sofia profiles
``internal`` on ``127.0.0.1:5060+1000*k`` and ``external`` on
``127.0.0.1:5080+1000*k`` (as ``sofia status`` reports). An INVITE to one of
those addresses creates the inbound leg on that host; one sent to the DUT
address (default ``127.0.0.1:5070``), through an ``fs_path`` proxy that is not
an emulated profile, or to any non-loopback address, is handled by the
:class:`~switchlab.sim.dut.DUTModel`. Other loopback ports are closed: the
originate fails at once with ``NORMAL_TEMPORARY_FAILURE``.
"""
from __future__ import annotations

import asyncio
import ipaddress
import logging
import threading
from functools import partial
from collections.abc import Iterable
from typing import Any

from .dut import DUTModel
from .esl.outbound import check_socket_address
from .esl.server import EslServerProtocol, protocol_factory
from .faultplan import api_sim_fault
from .faults import Faults
from .host import EmulatedHost
from .model.channel import Channel
from .model.clock import FAST_TICK_US, SimClock
from .model.ports import Profile

log = logging.getLogger("switchlab.sim")


def _is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Emulator:
    """Emulated FreeSWITCH 1.11 hosts serving the event socket on loopback.

    Parameters: ``hosts`` (how many), ``port`` (ESL port of host 0, the next
    hosts use the following ports; ``0`` picks free ports), ``password``,
    ``dut`` (a :class:`DUTModel`), ``tick_us`` (clock tick: 1000 like
    ``1ms-timer``, 20000 like a stock server), ``heartbeat_s`` (HEARTBEAT
    interval), ``bind`` (listen address, loopback only), ``dut_address`` (where
    the DUT answers), ``open_ports`` (extra loopback ports treated as the DUT),
    ``context`` (dialplan context of the profiles), ``socket_address``
    (``host:port`` the dialplan's ``socket`` application connects to for
    destinations ``outbound*``/``outsync*``; loopback only), ``hostnames``, ``fault_api``
    (answer ``api sim_fault ...``: :mod:`switchlab.sim.faultplan`),
    ``late_negotiation`` (the sofia profiles' ``inbound-late-negotiation``),
    ``park_expression`` (the dialplan's catch-all park condition). Faults are
    injected through :attr:`faults` (:class:`~switchlab.sim.faults.Faults`).
    """

    def __init__(self, hosts: int = 1, port: int = 8021, password: str = "ClueCon",
                 dut: DUTModel | None = None, tick_us: int = FAST_TICK_US,
                 heartbeat_s: float = 20.0, bind: str = "127.0.0.1",
                 dut_address: tuple[str, int] = ("127.0.0.1", 5070),
                 open_ports: Iterable[int] = (), context: str = "switchio",
                 hostnames: Iterable[str] | None = None, sip_ip: str = "127.0.0.1",
                 fault_api: bool = False, socket_address: str = "127.0.0.1:8084",
                 late_negotiation: bool = False, park_expression: str = "^(.*)$") -> None:
        if hosts < 1:
            raise ValueError(f"hosts must be >= 1, got {hosts}")
        if not _is_loopback(bind):
            raise ValueError(f"the emulator only listens on loopback addresses, not {bind!r}")
        if port < 0 or port + hosts - 1 > 65535:
            raise ValueError(f"ports {port}..{port + hosts - 1} are out of range")
        self.password = password
        self.socket_address = check_socket_address(socket_address)
        self.bind = bind
        self.port = port
        self.clock = SimClock(tick_us)
        self.dut = dut if dut is not None else DUTModel()
        self.dut_address = (dut_address[0], int(dut_address[1]))
        self.open_ports = frozenset(int(p) for p in open_ports)
        self.context = context
        self.park_expression = park_expression
        self.heartbeat_s = heartbeat_s
        names = list(hostnames) if hostnames is not None else [f"sim{k}" for k in range(hosts)]
        if len(names) != hosts:
            raise ValueError(f"{len(names)} hostnames given for {hosts} hosts")
        self.hosts: list[EmulatedHost] = [
            EmulatedHost(self, k, names[k], sip_ip, 5060 + 1000 * k, 5080 + 1000 * k,
                         heartbeat_s)
            for k in range(hosts)
        ]
        for host in self.hosts:  # sofia profile param inbound-late-negotiation
            for profile in host.profiles.values():
                profile.late_negotiation = late_negotiation
        self._profiles: dict[tuple[str, int], tuple[EmulatedHost, Profile]] = {}
        for h in self.hosts:
            for p in h.profiles.values():
                self._profiles[(p.ip, p.port)] = (h, p)
        self._servers: list[asyncio.base_events.Server] = []
        #: fault injection (:class:`~switchlab.sim.faults.Faults`): drop, notice, stall, ...
        self.faults = Faults(self)
        if fault_api:  # ``api sim_fault KIND[=ARG][@S][/HOST]`` over the event socket
            for k, h in enumerate(self.hosts):
                h.extra_api["sim_fault"] = partial(api_sim_fault, self.faults, k)
        self.loop: asyncio.AbstractEventLoop = None  # type: ignore[assignment]
        self._thread: threading.Thread | None = None
        self._started = False

    # -- addresses ---------------------------------------------------------------------
    @property
    def esl_addresses(self) -> list[tuple[str, int]]:
        """``(host, port)`` of each emulated host's event socket."""
        return [h.esl_address for h in self.hosts if h.esl_address is not None]

    def find_profile(self, ip: str, port: int) -> tuple[EmulatedHost, Profile] | None:
        """The emulated host and profile listening on a SIP address, if any."""
        if ip in ("localhost", "localhost.localdomain"):
            ip = "127.0.0.1"
        return self._profiles.get((ip, int(port)))

    def is_closed(self, ip: str, port: int) -> bool:
        """True when nothing listens there (a loopback port, neither a profile nor the DUT)."""
        if not _is_loopback(ip):
            return False
        if (ip if ip != "localhost" else "127.0.0.1", int(port)) == self.dut_address:
            return False
        if int(port) in self.open_ports or int(port) == self.dut_address[1]:
            return False
        return self.find_profile(ip, port) is None

    def find_channel(self, uuid: str) -> Channel | None:
        for h in self.hosts:
            chan = h.channels.get(uuid)
            if chan is not None and not chan.destroyed:
                return chan
        return None

    def set_dut(self, dut: DUTModel) -> None:
        """Replace the DUT model (calls in progress keep their plan)."""
        dut.validate()
        active = self.dut.stats.active
        dut.stats.active = active
        self.dut = dut

    # -- lifecycle ----------------------------------------------------------------------
    async def start(self) -> Emulator:
        """Open the event sockets and start the heartbeats (on the running loop)."""
        if self._started:
            return self
        self.loop = asyncio.get_running_loop()
        try:
            for k, h in enumerate(self.hosts):
                await self.listen(k)
                h.start()
        except OSError:
            await self._close()
            raise
        self._started = True
        log.info("emulated FreeSWITCH hosts: %s",
                 ", ".join(f"{h.hostname}@{h.esl_address[0]}:{h.esl_address[1]}"
                           for h in self.hosts if h.esl_address))
        return self

    async def listen(self, index: int) -> None:
        """Open host ``index``'s event socket (again: on the port it had before)."""
        h = self.hosts[index]
        if h.server is not None:
            return
        if h.esl_address is not None:
            port = h.esl_address[1]
        else:
            port = self.port + index if self.port else 0
        server = await self.loop.create_server(
            protocol_factory(partial(EslServerProtocol, h)), self.bind, port,
            reuse_address=True, backlog=1024)
        h.server = server
        self._servers.append(server)
        addr = server.sockets[0].getsockname()
        h.esl_address = (addr[0], addr[1])

    def stop_listening(self, index: int) -> None:
        """Close host ``index``'s listening socket: connecting is refused until :meth:`listen`."""
        h = self.hosts[index]
        server, h.server = h.server, None
        if server is not None:
            server.close()
            if server in self._servers:
                self._servers.remove(server)

    async def _close(self) -> None:
        self.faults.cancel()
        servers = list(self._servers)
        for server in servers:
            server.close()
        for h in self.hosts:
            h.server = None
            h.stop()
            for lst in list(h.listeners):
                lst.close(notice=False)
            for chan in list(h.channels.values()):
                chan.cancel_timers()
        for server in servers:
            try:
                await asyncio.wait_for(server.wait_closed(), 2.0)
            except (asyncio.TimeoutError, Exception):  # pragma: no cover - best effort
                pass
        self._servers.clear()
        self._started = False

    async def aclose(self) -> None:
        """Close every socket and stop the heartbeats."""
        await self._close()

    async def __aenter__(self) -> Emulator:
        return await self.start()

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    # -- background mode ------------------------------------------------------------------
    def start_background(self, timeout: float = 10.0) -> Emulator:
        """Serve from a daemon thread with its own event loop; returns once listening."""
        if self._thread is not None:
            raise RuntimeError("this emulator already runs in the background; call stop() first")
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start())
            except BaseException as exc:  # noqa: BLE001 - reported to the caller
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self._close())
                pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
                for t in pending:
                    t.cancel()
                if pending:
                    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.close()

        self._thread = threading.Thread(target=run, name="switchlab-sim", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise RuntimeError(f"the emulator did not start within {timeout} s")
        if failure:
            self._thread = None
            raise failure[0]
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop a background emulator (no-op if it is not running in the background)."""
        thread = self._thread
        if thread is None:
            return
        loop = self.loop
        if loop is not None and loop.is_running():
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        self._thread = None

    def call(self, fn: Any, *args: Any) -> Any:
        """Run ``fn(*args)`` on the emulator's loop and return its result (thread-safe)."""
        if self._thread is None or threading.current_thread() is self._thread:
            return fn(*args)
        fut: Any = asyncio.run_coroutine_threadsafe(self._call(fn, *args), self.loop)
        return fut.result(10)

    @staticmethod
    async def _call(fn: Any, *args: Any) -> Any:
        return fn(*args)

    def __repr__(self) -> str:
        return f"<Emulator hosts={len(self.hosts)} esl={self.esl_addresses}>"
