"""What the model and call layers need from the layers above them, as protocols.

The emulator's layers import only downward. A channel needs its host (clock,
scheduler, event bus, sofia profiles) and the host needs the emulator's
virtual network; both live above this layer, so the lower layers see them only
through these structural types (:class:`~switchlab.sim.host.EmulatedHost` and
:class:`~switchlab.sim.emulator.Emulator` satisfy them).
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .bus import EventBus
    from .channel import Channel
    from .clock import SimClock


class Profile:
    """A sofia profile (``internal``/``external``) of an emulated host, with its counters."""

    def __init__(self, name: str, ip: str, port: int) -> None:
        self.name = name
        self.ip = ip
        self.port = port
        #: sofia param ``inbound-late-negotiation``: an inbound leg negotiates the
        #: INVITE's offer only when it first needs media (pre-answer/answer)
        self.late_negotiation = False
        self.calls_in = 0
        self.failed_in = 0
        self.calls_out = 0
        self.failed_out = 0

    @property
    def url(self) -> str:
        return f"sip:mod_sofia@{self.ip}:{self.port}"


class Subscriber(Protocol):
    """An event-socket connection as the event bus sees it."""

    closed: bool
    events_on: bool
    all_events: bool
    event_names: set[str]
    log_level: int | None

    def deliver(self, ev: Any) -> None: ...

    def deliver_log(self, text: str, headers: list[tuple[str, str]]) -> None: ...


class Dut(Protocol):
    """The device under test as call processing sees it (:class:`~switchlab.sim.dut.DUTModel`)."""

    def plan(self, active: int | None = None, now: float | None = None) -> Any: ...

    def answered(self) -> None: ...

    def unanswered(self) -> None: ...

    def release(self) -> None: ...


class Network(Protocol):
    """The virtual SIP network shared by the hosts (the emulator)."""

    @property
    def dut(self) -> Dut: ...

    clock: SimClock
    context: str
    #: the catch-all extension's expression (its captures are ``DP_MATCH``)
    park_expression: str
    password: str
    #: where the dialplan's ``socket`` application connects (``"127.0.0.1:8084"``)
    socket_address: str
    loop: asyncio.AbstractEventLoop

    def find_profile(self, ip: str, port: int) -> tuple[Host, Profile] | None: ...

    def is_closed(self, ip: str, port: int) -> bool: ...

    def find_channel(self, uuid: str) -> Channel | None: ...


class Cancellable(Protocol):
    """What :meth:`Host.later` returns (an asyncio handle or a timer-wheel entry)."""

    def cancel(self) -> None: ...

    def cancelled(self) -> bool: ...


class Host(Protocol):
    """One emulated FreeSWITCH as its channels and call processing see it."""

    hostname: str
    clock: SimClock
    bus: EventBus
    emulator: Network
    profiles: dict[str, Profile]
    channels: dict[str, Channel]
    global_vars: dict[str, str]
    listeners: list[Any]
    max_sessions: int
    sps_max: int
    sessions_since_startup: int
    peak_sessions: int
    peak_sps: int
    #: shutting down (a restart fault): originates are refused with CHAN_NOT_IMPLEMENTED
    stopping: bool
    #: slow-client policy of its event sockets (None: the module defaults) and counters
    max_buffered: int | None
    max_missed: int | None
    lost_events: int
    slow_disconnects: int
    #: mod_event_socket's listener poll: queued events reach an idle client every this
    #: many seconds (0: at once)
    event_poll_s: float
    #: api commands beyond FreeSWITCH's own (``sim_fault`` when the emulator enables it)
    extra_api: dict[str, Callable[[Any, str], str]]
    #: recordings made on it: path -> length in ms (what a later playback of it lasts)
    recordings: dict[str, int]
    #: the last scheduler task id given (``sched_hangup``, ``sched_transfer``...)
    sched_task_id: int

    @property
    def loop(self) -> asyncio.AbstractEventLoop: ...

    def next_session_id(self) -> int: ...

    @property
    def sessions_created(self) -> int: ...

    def later(self, delay: float, fn: Callable[..., Any], *args: Any,
              chan: Channel | None = None) -> Cancellable: ...

    def tick(self) -> float: ...

    def log(self, level: int, file: str, func: str, line: int, text: str,
            chan: Channel | None = None, text_channel: int = 3, prefix: bool = True) -> None: ...

    def fire(self, name: str, **kw: Any) -> None: ...

    def add_channel(self, chan: Channel) -> None: ...

    def remove_channel(self, chan: Channel) -> None: ...

    def sessions_per_sec(self) -> int: ...

    def uptime_us(self) -> int: ...

    def uptime_text(self) -> str: ...

    def update_subscriptions(self) -> None: ...

    def add_listener(self, listener: Any) -> None: ...

    def remove_listener(self, listener: Any) -> None: ...
