"""Every ``switchlab dial`` input checked before anything is started or sent.

Pure checks only (no connection): host addresses, SIP values (with the wire
layer's rules, :mod:`switchlab.wire.validate`), numbers (with the
originator's rules, :mod:`switchlab.originator.settings`), app specs, check
expressions and the run directory. The first bad input ends the command with
one line on stderr naming the option and saying what to write, exit code 2.

>>> check_option("--rate", check_rate_option, 5)
5.0
>>> option_message("--proxy", ValueError("proxy 'x;y' is refused"))
"--proxy: proxy 'x;y' is refused"
"""
from __future__ import annotations

import importlib
import importlib.util
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from ..esl import parse_address
from ..originator.settings import (check_duration, check_limit, check_max_offered, check_rate,
                                   check_weight)
from ..wire.validate import (check_host, check_line, check_profile, check_proxy, check_sip_dest,
                             check_sip_user)
from .common import fail, parse_checks

T = TypeVar("T")

#: ``--app`` names that need no module path
BUILTIN_APPS = {
    "TonePlay": "switchlab.apps.players:TonePlay",
    "CalleeRingback": "switchlab.apps.blockers:CalleeRingback",
    "CalleeBlockOnInvite": "switchlab.apps.blockers:CalleeBlockOnInvite",
    "CalleeEarlyMedia": "switchlab.apps.blockers:CalleeEarlyMedia",
    "Bridger": "switchlab.apps.bridging:Bridger",
    "Proxier": "switchlab.apps.bridging:Proxier",
    "Router": "switchlab.apps.router:Router",
    "DtmfChecker": "switchlab.apps.dtmf:DtmfChecker",
    "PlayRec": "switchlab.apps.playrec:PlayRec",
    "Bert": "switchlab.apps.bert:Bert",
}
#: the most hosts ``--sim-hosts`` starts (as ``switchlab sim --hosts``)
MAX_SIM_HOSTS = 64


@dataclass(frozen=True)
class DialInputs:
    """The parsed, checked inputs of one ``switchlab dial``."""

    addresses: list[tuple[str, int]]
    app_specs: list[tuple[str, Any, float]]
    thresholds: dict[str, str]
    max_offered: int


def option_message(option: str, exc: BaseException) -> str:
    """``--option: what is wrong and what to write`` (one line)."""
    text = " ".join(str(exc).split("\n"))
    return f"{option}: {text}"


def check_option(option: str, check: Callable[[Any], T], value: Any) -> T:
    """``check(value)``, or exit 2 with one line naming ``option``."""
    try:
        return check(value)
    except (ValueError, click.BadParameter) as exc:
        fail(option_message(option, exc))


def check_rate_option(rate: float) -> float:
    """``--rate``: finite and > 0. Rate 0 is refused (the command line has no
    way to raise it later, so the run would idle for ever without a call)."""
    rate = check_rate(rate)
    if rate == 0:
        raise ValueError("rate 0 would never place a call; give calls per second > 0, "
                         "e.g. --rate 5 (the Python API's Originator(rate=0) idles until "
                         "you raise the rate)")
    return rate


def check_max_offered_option(value: int | None) -> int | None:
    value = check_max_offered(value)
    if value == 0:
        raise ValueError("max offered 0 would place no call; give a whole number >= 1 "
                         "or leave it out (rate x 10 s)")
    return value


def check_interval(value: float) -> float:
    if not 0 < value < math.inf:
        raise ValueError(f"interval must be a finite number of seconds > 0, got {value!r}")
    return value


def check_sim_hosts(value: int) -> int:
    if not 1 <= value <= MAX_SIM_HOSTS:
        raise ValueError(f"give 1 to {MAX_SIM_HOSTS} emulated hosts, got {value}")
    return value


def check_host_arg(text: str) -> tuple[str, int]:
    """A HOST argument: ``host[:port]``, IPv6 as ``[v6]:port``."""
    host, port = parse_address(text)
    if ":" in host and not host.startswith("["):
        check_host("host", f"[{host}]")
    else:
        check_host("host", host)
    return host, port


def check_dest_url(dest_url: str, profile: str) -> str:
    """``--dest-url``: ``user@host[:port]``; a bare user is fine through a gateway."""
    if profile.startswith("gateway/") and "@" not in dest_url:
        return check_sip_user(dest_url, "destination")
    return check_sip_dest(dest_url)


def check_run_dir(path: Path) -> Path:
    """``--metrics-file``: a directory that can be created or written now, not at the end."""
    if path.exists() and not path.is_dir():
        raise ValueError(f"{path} exists and is not a directory; give a new directory "
                         "for the run")
    parent = path if path.exists() else next((p for p in path.parents if p.exists()), Path("."))
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"cannot write the run into {path}: {parent} is not writable; "
                         "choose a directory you can write")
    return path


def load_app_spec(spec: str) -> tuple[str, Any, float]:
    """``Name[=weight]``, ``module:Class[=weight]`` or ``path.py:Class[=weight]``
    → ``(app_id, class, weight)``."""
    target, _, weight_text = spec.partition("=")
    try:
        weight = check_weight(weight_text, f"app weight in {spec!r}") if weight_text else 1.0
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    target = BUILTIN_APPS.get(target, target)
    path, sep, attr = target.rpartition(":")
    if not sep:
        known = ", ".join(sorted(BUILTIN_APPS))
        raise click.BadParameter(f"unknown app {spec!r}: use a built-in ({known}), "
                                 "module:Class or path/to/file.py:Class")
    try:
        if path.endswith(".py"):
            file = Path(path).expanduser()
            if not file.is_file():
                raise click.BadParameter(f"app file {file} does not exist")
            module_spec = importlib.util.spec_from_file_location(file.stem, file)
            assert module_spec is not None and module_spec.loader is not None
            module = importlib.util.module_from_spec(module_spec)
            module_spec.loader.exec_module(module)
        else:
            module = importlib.import_module(path)
        cls = getattr(module, attr)
    except (ImportError, AttributeError, SyntaxError) as exc:
        raise click.BadParameter(f"cannot load app {spec!r}: {exc}") from None
    if not isinstance(cls, type):
        raise click.BadParameter(f"app {spec!r} names {type(cls).__name__} {attr!r}, not a "
                                 "class; name the app class (module:Class)")
    return attr, cls, weight


def check_dial_inputs(hosts: tuple[str, ...], *, sim: bool, sim_hosts: int,
                      sim_seed: int | None = None, proxy: str | None,
                      dest_user: str, dest_url: str | None, profile: str, rate: float,
                      limit: int, max_offered: int | None, duration: float | None,
                      apps: tuple[str, ...], password: str, metrics_file: Path | None,
                      checks: tuple[str, ...], interval: float) -> DialInputs:
    """Check every input of ``switchlab dial``; the first bad one exits 2."""
    if not hosts and not sim:
        fail("give at least one FreeSWITCH host (ESL address host[:port]), or --sim")
    if hosts and sim:
        fail("--sim runs its own emulated hosts; drop the HOST arguments or --sim")
    addresses = [check_option(f"HOST {h!r}", check_host_arg, h) for h in hosts]
    check_option("--sim-hosts", check_sim_hosts, sim_hosts)
    if sim_seed is not None and not sim:
        fail("--sim-seed seeds the emulator that --sim starts; add --sim or drop --sim-seed")
    check_option("--profile", check_profile, profile)
    if proxy is not None:
        check_option("--proxy", check_proxy, proxy)
    check_option("--dest-user", lambda u: check_sip_user(u, "destination user"), dest_user)
    if dest_url is not None:
        check_option("--dest-url", lambda d: check_dest_url(d, profile), dest_url)
    rate = check_option("--rate", check_rate_option, rate)
    check_option("--limit", check_limit, limit)
    check_option("--duration", check_duration, duration)
    check_option("--max-offered", check_max_offered_option, max_offered)
    check_option("--interval", check_interval, interval)
    check_option("--password", lambda p: check_line("password", p), password)
    if metrics_file is not None:
        check_option("--metrics-file", check_run_dir, metrics_file)
    app_specs = [check_option("--app", load_app_spec, a) for a in apps]
    thresholds = check_option("--check", lambda c: parse_checks(c, [s[1] for s in app_specs]),
                              checks)
    if max_offered is None:
        max_offered = max(1, int(round(rate * 10)))
    return DialInputs(addresses, app_specs, thresholds, max_offered)
