"""The inputs of ``switchlab serve``, checked before anything starts (one line, exit 2)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from ..esl.address import parse_address
from ..wire.validate import check_acl, check_host, check_listen_address
from .common import fail
from .inputs import check_interval, check_option, check_run_dir, load_app_spec, option_message


@dataclass(frozen=True)
class ServeInputs:
    """What ``switchlab serve`` was asked, checked."""

    mode: str                              # "outbound" or "inbound"
    outbound: str | None
    outbound_address: tuple[str, int]
    hosts: list[str]
    addresses: list[tuple[str, int]]
    apps: list[tuple[str, Any]]            # (spec as given, class)
    acl: list[str]
    call_timeout: float | None
    metrics_file: Path | None
    sim: bool
    max_calls: int | None
    interval: float


def _host_address(text: str) -> tuple[str, int]:
    host, port = parse_address(text)
    check_host("host", f"[{host}]" if ":" in host and not host.startswith("[") else host)
    return host, port


def check_serve_inputs(hosts: tuple[str, ...], *, outbound: str | None, apps: tuple[str, ...],
                       acl: tuple[str, ...], call_timeout: float | None,
                       metrics_file: Path | None, sim: bool, max_calls: int | None,
                       interval: float) -> ServeInputs:
    """Every input of ``switchlab serve``, or exit 2 with one line saying what is wrong."""
    if outbound is not None and hosts:
        fail("give either --outbound HOST:PORT (FreeSWITCH connects to us) or HOST... "
             "(we connect to FreeSWITCH's event socket), not both")
    if outbound is None and not hosts and not sim:
        fail("nothing to serve: give --outbound HOST:PORT (outbound mode) or HOST... "
             "(inbound mode), or --sim")
    address = ("127.0.0.1", 0)
    if outbound is not None:
        address = check_option("--outbound", check_listen_address, outbound)
    if acl and outbound is None:
        fail("--acl is for outbound mode: give --outbound HOST:PORT too")
    addresses = [check_option("HOST", _host_address, h) for h in hosts]
    specs = []
    for spec in apps:
        try:
            _app_id, cls, _weight = load_app_spec(spec)
        except click.BadParameter as exc:
            fail(option_message("--app", exc))
        specs.append((spec, cls))
    if call_timeout is not None and not call_timeout > 0:
        fail(f"--call-timeout: give seconds > 0, got {call_timeout!r}")
    if max_calls is not None and max_calls < 1:
        fail(f"--max-calls: give a whole number >= 1, got {max_calls}")
    return ServeInputs(
        mode="outbound" if outbound is not None else "inbound", outbound=outbound,
        outbound_address=address, hosts=list(hosts), addresses=addresses, apps=specs,
        acl=[str(n) for n in check_option("--acl", check_acl, acl)] if acl else [],
        call_timeout=call_timeout,
        metrics_file=None if metrics_file is None else check_option(
            "--metrics-file", check_run_dir, metrics_file),
        sim=sim, max_calls=max_calls, interval=check_option("--interval", check_interval, interval))
