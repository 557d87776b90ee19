"""Faults on a schedule or on command: ``switchlab sim --fault drop@10`` and, with
``--fault-api``, the event-socket command ``api sim_fault drop``.

A fault is written ``KIND[=ARG][@SECONDS][/HOST]``: ``SECONDS`` after the emulator
started (0 if left out), on host ``HOST`` (0 if left out, ``*`` for every host).

==============  ==============================  =========================================
kind            ARG (default)                   what happens (:class:`~.faults.Faults`)
==============  ==============================  =========================================
``drop``        --                              TCP reset of every connection
``notice``      --                              disconnect notice, then close
``stall``       seconds (5)                     events held, then delivered in order
``slow``        seconds (5)                     queues full: events lost, MAX_MISSED kill
``restart``     seconds down (3)                SYSTEM_SHUTDOWN, port closed, new Core-UUID
``malformed``   bad-length, huge-length,        a frame FreeSWITCH never sends
                no-colon, binary (bad-length)
``blackhole``   probability (1; 0 ends it)      the DUT answers no INVITE
==============  ==============================  =========================================

>>> FaultSpec.parse("restart=3@8/1")
FaultSpec(kind='restart', arg='3', at=8.0, host=1)
>>> FaultSpec.parse("stall=2@5.5/*").host is None
True
>>> FaultSpec.parse("reboot@3")
Traceback (most recent call last):
...
ValueError: fault 'reboot@3': unknown kind 'reboot'; use one of drop, notice, stall, slow, restart, malformed, blackhole (KIND[=ARG][@SECONDS][/HOST], e.g. restart=3@8/1)
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .faults import MALFORMED, Faults

KINDS = ("drop", "notice", "stall", "slow", "restart", "malformed", "blackhole")
GRAMMAR = "KIND[=ARG][@SECONDS][/HOST], e.g. restart=3@8/1"
#: a fault asked for over the event socket waits this long, so that the api reply
#: leaves before the fault may cut the very connection that asked
API_DELAY_S = 0.05


def _number(spec: str, what: str, text: str, low: float = 0.0,
            high: float | None = None) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"fault {spec!r}: {what} {text!r} is not a number ({GRAMMAR})") from None
    if value < low or (high is not None and value > high) or value != value:
        bound = f"between {low:g} and {high:g}" if high is not None else f">= {low:g}"
        raise ValueError(f"fault {spec!r}: {what} must be {bound}, got {text}")
    return value


@dataclass(frozen=True)
class FaultSpec:
    """One fault to inject: ``kind``, its argument, when (seconds) and on which host."""

    kind: str
    arg: str | None = None
    at: float = 0.0
    host: int | None = 0

    @classmethod
    def parse(cls, text: str) -> FaultSpec:
        """Read ``KIND[=ARG][@SECONDS][/HOST]``; raises ``ValueError`` saying what is wrong."""
        spec = text.strip()
        rest, slash, host_text = spec.partition("/")
        rest, at_sign, at_text = rest.partition("@")
        kind, eq, arg = rest.partition("=")
        kind = kind.strip().lower()
        if kind not in KINDS:
            raise ValueError(f"fault {text!r}: unknown kind {kind!r}; use one of "
                             f"{', '.join(KINDS)} ({GRAMMAR})")
        at = _number(spec, "time", at_text) if at_sign else 0.0
        host: int | None = 0
        if slash:
            if host_text.strip() == "*":
                host = None
            else:
                host = int(_number(spec, "host", host_text))
                if str(host) != host_text.strip():
                    raise ValueError(f"fault {text!r}: host {host_text!r} is not a host index")
        value = arg.strip() if eq else None
        if eq and not value:
            raise ValueError(f"fault {text!r}: nothing after '=' ({GRAMMAR})")
        self = cls(kind, value, at, host)
        self._check(spec)
        return self

    def _check(self, spec: str) -> None:
        kind, arg = self.kind, self.arg
        if kind in ("drop", "notice") and arg is not None:
            raise ValueError(f"fault {spec!r}: {kind} takes no argument")
        if kind in ("stall", "slow", "restart") and arg is not None:
            _number(spec, "seconds", arg)
        if kind == "restart" and self.host is None:
            raise ValueError(f"fault {spec!r}: restart one host at a time (/0, /1, ...)")
        if kind == "blackhole":
            if arg is not None:
                _number(spec, "probability", arg, 0.0, 1.0)
            if self.host != 0:
                raise ValueError(f"fault {spec!r}: blackhole applies to the DUT; give no host")
        if kind == "malformed" and arg is not None and arg not in MALFORMED:
            raise ValueError(f"fault {spec!r}: malformed frame {arg!r} is not one of "
                             f"{', '.join(MALFORMED)}")

    def check_hosts(self, hosts: int) -> None:
        """Raise ``ValueError`` if the host index is not one of ``hosts`` hosts."""
        if self.host is not None and self.host >= hosts:
            raise ValueError(f"fault {self.kind}@{self.at:g}/{self.host}: there is no host "
                             f"{self.host} (hosts 0..{hosts - 1})")

    def apply(self, faults: Faults) -> str:
        """Inject the fault now; returns what happened, in one line."""
        kind, arg, host = self.kind, self.arg, self.host
        where = "every host" if host is None else f"host {host}"
        if kind == "drop":
            return f"drop: {faults.drop(host)} connections reset on {where}"
        if kind == "notice":
            return f"notice: {faults.disconnect(host)} connections closed on {where}"
        if kind == "stall":
            s = float(arg or 5)
            return f"stall: events of {faults.stall(s, host)} connections held {s:g} s on {where}"
        if kind == "slow":
            s = float(arg or 5)
            n = faults.slow_client(s, host)
            return f"slow: {n} connections treated as not reading for {s:g} s on {where}"
        if kind == "restart":
            down = float(arg or 3)
            core = faults.restart(host or 0, down_s=down)
            return f"restart: {where} down for {down:g} s, back with core {core}"
        if kind == "malformed":
            return f"malformed: {faults.malformed(host, arg or 'bad-length')} connections on {where}"
        p = float(arg if arg is not None else 1)
        faults.blackhole(p)
        return f"blackhole: the DUT leaves {p:.0%} of INVITEs unanswered"


def schedule(faults: Faults, specs: Iterable[FaultSpec], loop: asyncio.AbstractEventLoop,
             report: Callable[[FaultSpec, str], Any]) -> list[asyncio.TimerHandle]:
    """Inject each fault ``spec.at`` seconds from now; ``report(spec, what)`` after each."""
    def fire(spec: FaultSpec) -> None:
        try:
            report(spec, spec.apply(faults))
        except Exception as exc:  # noqa: BLE001 - a fault must not stop the emulator
            report(spec, f"{spec.kind} failed: {exc}")

    return [loop.call_later(spec.at, fire, spec) for spec in specs]


def api_sim_fault(faults: Faults, index: int, host: Any, arg: str) -> str:
    """``api sim_fault KIND[=ARG][/HOST]``: inject a fault (on this host by default)."""
    text = arg.strip()
    if not text:
        return f"-USAGE: sim_fault {GRAMMAR.split(',')[0].replace('[@SECONDS]', '')}\n"
    if "/" not in text:
        text = f"{text}/{index}" if not text.startswith("blackhole") else text
    try:
        spec = FaultSpec.parse(text)
        spec.check_hosts(len(faults.emulator.hosts))
    except ValueError as exc:
        return f"-ERR {exc}\n"
    delay = max(spec.at, API_DELAY_S)
    faults.emulator.loop.call_later(delay, spec.apply, faults)
    return f"+OK {spec.kind} in {delay:g} s\n"
