"""``switchlab dial``: an auto-dialer on one or many FreeSWITCH hosts.

Each host calls its own SIP address back through ``--proxy`` (the device
under test), as switchio's ``dial`` did; every attempt is measured and the run
directory (``--metrics-file``) holds the per-call rows, KPIs and parameters.
"""
from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import click

from ..errors import AuthenticationError, ConfigError, ConnectionFailed, SwitchlabError
from ..loops import LOOP_CHOICES, MAX_POLL_MS, describe, loop_kind
from ..loops import run as run_on_loop
from .common import fail, run_to_end
from .outcome import EXIT_CODES_HELP, Asked, exit_code

#: ``switchlab.originator.setup.DEFAULT_USER`` (a literal here: the originator,
#: and pandas with it, is imported only when a load test runs, not for ``--help``)
DEFAULT_USER = "switchlab"



@click.command("dial", epilog=EXIT_CODES_HELP)
@click.argument("hosts", nargs=-1)
@click.option("--proxy", default=None, help="SIP address (host[:port], IPv6 as [v6]:port, "
              "optional ;name=value parameters) of the device under test; calls go through "
              "it and back to the calling host.  [default: no proxy]")
@click.option("--dest-user", default=DEFAULT_USER, show_default=True,
              help="user part of the Request-URI each host calls")
@click.option("--dest-url", default=None,
              help="full destination user@host[:port] instead of each host's own SIP address")
@click.option("--profile", default="external", show_default=True,
              help="sofia profile to originate from")
@click.option("--rate", type=float, default=1.0, show_default=True,
              help="calls per second, > 0 (0 is refused: it would never place a call)")
@click.option("--limit", type=int, default=1, show_default=True, help="maximum concurrent calls")
@click.option("--max-offered", type=int, default=None,
              help="stop after this many calls  [default: rate x 10 s]")
@click.option("--duration", type=float, default=None,
              help="seconds each answered call is held  [default: limit / rate]")
@click.option("--app", "apps", multiple=True, default=("TonePlay",), show_default=True,
              help="app to run on the calls: a built-in name, module:Class or path.py:Class, "
              "optionally '=weight' (repeat for a weighted mix)")
@click.option("--password", default="ClueCon", show_default=True, help="ESL password")
@click.option("--metrics-file", type=click.Path(path_type=Path), default=None,
              help="run directory to write (open it with switchlab.load(PATH))")
@click.option("--csv", "write_csv", is_flag=True, help="also write calls.csv in the run directory")
@click.option("--check", "checks", multiple=True, metavar="KPI<OP>VALUE",
              help="threshold, e.g. 'asr>=0.99' or 'setup_latency.p95<200ms'; a failed "
              "one makes the exit code 1")
@click.option("--sim", is_flag=True, help="run against an embedded FreeSWITCH emulator "
              "(no HOST needed)")
@click.option("--sim-hosts", type=int, default=1, show_default=True,
              help="with --sim: how many emulated hosts")
@click.option("--sim-seed", type=int, default=None,
              help="with --sim: seed of the emulated DUT's random source (same seed, same "
              "outcomes in call order); default: a new one each run (2026 with --workers)")
@click.option("--progress/--no-progress", default=None,
              help="live display (default: on a terminal); plain lines otherwise")
@click.option("--interval", type=float, default=1.0, show_default=True,
              help="seconds between progress lines")
@click.option("--host-down-deadline", type=click.FloatRange(min=0, min_open=True), default=60.0,
              show_default=True, help="seconds a host whose event socket dropped is retried "
              "before it is given up (the run ends short, exit code 3)")
@click.option("--workers", type=int, default=None,
              help="spread the load over a local Dask cluster of N worker processes, one "
              "shard of the hosts each (with --sim: each worker emulates --sim-hosts hosts)")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="spread the load over the workers of an existing Dask cluster "
              "(tcp://host:port of its scheduler), one shard each")
@click.option("--loop", "loop_choice", type=click.Choice(LOOP_CHOICES), default=None,
              help="event loop: uvloop where installed (auto, the default; or $SWITCHLAB_LOOP), "
              "uvloop (required) or asyncio")
@click.option("--poll-ms", type=click.FloatRange(0, MAX_POLL_MS), default=None,
              help="wake only every N ms, handling what arrived and fell due in between in one "
              "go (fewer wake-ups, less CPU per call; launches and receive times up to N ms "
              "late; asyncio loop). Default: $SWITCHLAB_POLL_MS, else 0 (not paced)")
def command(hosts: tuple[str, ...], proxy: str | None, dest_user: str, dest_url: str | None,
            profile: str, rate: float, limit: int, max_offered: int | None,
            duration: float | None, apps: tuple[str, ...], password: str,
            metrics_file: Path | None, write_csv: bool, checks: tuple[str, ...], sim: bool,
            sim_hosts: int, progress: bool | None, interval: float,
            host_down_deadline: float = 60.0, workers: int | None = None,
            scheduler: str | None = None, loop_choice: str | None = None,
            poll_ms: float | None = None, sim_seed: int | None = None) -> None:
    """Spin up an auto-dialer on HOST... (ESL addresses, host[:port]).

    Every input is checked before anything starts (one line, exit code 2).
    SIGINT (Ctrl-C) and SIGTERM stop the same way: the first stops launching,
    lets calls end and writes the run; a second hangs up every call.
    """
    from .inputs import check_dial_inputs
    from .stopping import StoppedEarly, install_early, stopped_early

    checked = check_dial_inputs(hosts, sim=sim, sim_hosts=sim_hosts, sim_seed=sim_seed,
                                proxy=proxy, dest_user=dest_user, dest_url=dest_url,
                                profile=profile, rate=rate, limit=limit, max_offered=max_offered,
                                duration=duration, apps=apps, password=password,
                                metrics_file=metrics_file, checks=checks, interval=interval)
    addresses, app_specs, thresholds = checked.addresses, checked.app_specs, checked.thresholds
    max_offered = checked.max_offered
    try:
        loop_kind(loop_choice, poll_ms)
    except ConfigError as exc:
        fail(str(exc))
    install_early()
    if workers is not None or scheduler is not None:
        _scaled(checked.addresses, workers, scheduler, sim, sim_hosts, proxy, dest_user,
                dest_url, profile, rate, limit, max_offered, duration, app_specs, password,
                metrics_file, write_csv, thresholds, progress, interval, host_down_deadline,
                loop_choice, poll_ms, sim_seed)
    emulator = None
    if sim:
        from ..sim import DUTModel, Emulator

        emulator = Emulator(hosts=sim_hosts, port=0, password=password,
                            dut=DUTModel(seed=sim_seed)).start_background()
        addresses = list(emulator.esl_addresses)
        proxy = proxy or "{}:{}".format(*emulator.dut_address)
    live = sys.stdout.isatty() if progress is None else progress
    try:
        code = run_on_loop(_dial(addresses, proxy, dest_user, dest_url, profile, rate, limit,
                                 max_offered, duration, app_specs, password, metrics_file,
                                 write_csv, thresholds, live, interval, host_down_deadline),
                           loop=loop_choice, poll_ms=poll_ms)
    except StoppedEarly as exc:
        stopped_early(exc.signum)
    finally:
        if emulator is not None:
            emulator.stop()
    sys.exit(code)


async def _dial(addresses: list[tuple[str, int]], proxy: str | None, dest_user: str,
                dest_url: str | None, profile: str, rate: float, limit: int, max_offered: int,
                duration: float | None, app_specs: list[tuple[str, Any, float]], password: str,
                metrics_file: Path | None, write_csv: bool, thresholds: dict[str, str],
                live: bool, interval: float, host_down_deadline: float = 60.0) -> int:
    from ..client import Client
    from ..originator import NoSipProfile, Originator, loopback_destinations
    from .stopping import Stopper

    loop = asyncio.get_running_loop()
    stopper = Stopper()
    stopper.install(loop)
    stop = stopper.stop

    try:  # a stop signal while connecting cancels this set-up (nothing sent yet)
        clients = [Client(h, p, password) for h, p in addresses]
        for client in clients:
            try:
                await client.connect()
            except AuthenticationError:
                fail(f"{client.address} refused the ESL password; "
                     "pass the right one with --password")
            except ConnectionFailed as exc:
                fail(str(exc))
        try:
            loopback = await loopback_destinations(clients, profile, user=dest_user)
        except NoSipProfile as exc:
            fail(f"host {exc.host} has no SIP profile named {profile!r} running; "
                 "choose one with --profile (see 'sofia status' on that host)")
        for client in clients:
            ip, port = loopback.sip_addresses[client.address]
            click.echo(f"Slave {client.host} SIP address is at {ip}:{port}")
        try:
            orig = Originator(clients, dest=dest_url or loopback, profile=profile, proxy=proxy,
                              rate=rate, limit=limit, duration=duration, max_offered=max_offered,
                              apps={app_id: (cls, w) for app_id, cls, w in app_specs},
                              run_dir=None if metrics_file is None else str(metrics_file),
                          host_down_deadline=host_down_deadline)
        except (SwitchlabError, ValueError, OSError) as exc:
            fail(str(exc))
    except asyncio.CancelledError as exc:
        stopper.check(exc)
        raise
    orig.run.params["event_loop"] = describe(loop)  # which loop, and its poll interval, in run.json
    stopper.attach(orig)
    await orig.connect()
    click.echo(f"Starting load test for server {proxy or 'none'} at {orig.rate:g}cps "
               f"using {len(clients)} slaves")
    click.echo(repr(orig))
    if not stop.is_set():
        orig.start()
    await run_to_end(orig, stop, live=live, interval=interval)
    run = await orig.close()
    click.echo(repr(orig))
    if metrics_file is not None:
        if write_csv:
            run.to_csv(metrics_file / "calls.csv")
        run.save(metrics_file)
        click.echo(f"Stored the run ({len(run)} calls) in {metrics_file}")
    return _outcome(run, thresholds, Asked(max_offered, stopped_by_user=stop.is_set()))


def _scaled(addresses: list[tuple[str, int]], workers: int | None, scheduler: str | None,
            sim: bool, sim_hosts: int, proxy: str | None, dest_user: str,
            dest_url: str | None, profile: str, rate: float, limit: int, max_offered: int,
            duration: float | None, app_specs: list[tuple[str, Any, float]], password: str,
            metrics_file: Path | None, write_csv: bool, thresholds: dict[str, str],
            progress: bool | None, interval: float, host_down_deadline: float,
            loop_choice: str | None, poll_ms: float | None, sim_seed: int | None) -> None:
    """``--workers`` / ``--scheduler``: the load test on Dask (switchlab.scale), the driver
    and every shard on the ``--loop`` event loop (with ``--poll-ms``); exits."""
    from .dial_scale import check_scale_options, dial_scaled
    from .stopping import StoppedEarly, stopped_early

    check_scale_options(workers, scheduler, [f"{h}:{p}" for h, p in addresses], sim=sim)
    live = sys.stdout.isatty() if progress is None else progress
    try:
        run, by_user = run_on_loop(dial_scaled(
            [] if sim else addresses, workers=workers, scheduler=scheduler,
            sim_hosts=sim_hosts if sim else None, proxy=proxy, dest_user=dest_user,
            dest_url=dest_url, profile=profile, rate=rate, limit=limit,
            max_offered=max_offered, duration=duration, app_specs=app_specs,
            password=password, metrics_file=metrics_file, write_csv=write_csv, live=live,
            interval=interval, host_down_deadline=host_down_deadline,
            loop_choice=loop_choice, poll_ms=poll_ms, sim_seed=sim_seed), loop=loop_choice,
            poll_ms=poll_ms)
    except StoppedEarly as exc:
        stopped_early(exc.signum)
    sys.exit(_outcome(run, thresholds, Asked(max_offered, stopped_by_user=by_user)))


def _outcome(run: Any, thresholds: dict[str, str], asked: Asked) -> int:
    """Print the checks and the end-of-run verdict (the last lines say why); the exit code."""
    result = run.check(thresholds) if thresholds else None
    if result is not None:
        click.echo(str(result))
    code, reasons = exit_code(run, asked, result)
    if code == 0:
        click.echo("Dialing session completed!")
    else:
        click.echo(f"Dialing session did not do what was asked (exit code {code}):")
        for reason in reasons:
            click.echo(f"  {reason}")
    return code
