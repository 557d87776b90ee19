"""``switchlab sim``: serve emulated FreeSWITCH hosts until interrupted.

Example::

    switchlab sim --port 8021 --hosts 3 --tick-ms 1 --seed 7 --capacity 200 \\
        --ring-ms 500-2000 --failure 486=0.02 --failure NORMAL_CIRCUIT_CONGESTION=0.01

Faults (docs/EMULATOR.md, "Faults"): ``--fault restart=3@8/1`` restarts host 1 eight
seconds after start, down for 3 s; ``--fault-api`` lets clients inject them with
``api sim_fault drop``.
"""
from __future__ import annotations

import asyncio
import logging
import signal
import sys
import time

import click

from ..loops import MAX_POLL_MS, run
from ..sim import DUTModel, Emulator, Latency
from ..sim.collector import EmulatorGC
from ..sim.faultplan import GRAMMAR, FaultSpec, schedule


def _latency(ctx: click.Context, param: click.Parameter, value: str | None) -> Latency | None:
    if value is None:
        return None
    try:
        return Latency.parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _failures(ctx: click.Context, param: click.Parameter,
              values: tuple[str, ...]) -> dict[int | str, float] | None:
    if not values:
        return None
    out: dict[int | str, float] = {}
    for item in values:
        key, sep, prob = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r}: use CODE=PROBABILITY or CAUSE=PROBABILITY, "
                                     "e.g. 486=0.02")
        try:
            p = float(prob)
        except ValueError:
            raise click.BadParameter(f"{item!r}: {prob!r} is not a probability") from None
        out[int(key) if key.isdigit() else key.upper()] = p
    return out


def _faults(ctx: click.Context, param: click.Parameter,
            values: tuple[str, ...]) -> list[FaultSpec]:
    try:
        return [FaultSpec.parse(v) for v in values]
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command(name="sim")
@click.option("--port", default=8021, show_default=True, type=click.IntRange(0, 65535),
              help="event-socket port of host 0; host k listens on PORT+k (0: any free port)")
@click.option("--hosts", default=1, show_default=True, type=click.IntRange(1, 64),
              help="number of emulated FreeSWITCH hosts")
@click.option("--bind", default="127.0.0.1", show_default=True,
              help="listen address (loopback only)")
@click.option("--password", default="ClueCon", show_default=True, help="event-socket password")
@click.option("--tick-ms", default="1", show_default=True, type=click.Choice(["1", "20"]),
              help="clock tick: 1 ms (1ms-timer) or 20 ms (stock FreeSWITCH)")
@click.option("--heartbeat-s", default=20.0, show_default=True, type=float,
              help="HEARTBEAT interval")
@click.option("--seed", default=None, type=int, help="seed of the DUT's random source")
@click.option("--dut-port", default=5070, show_default=True, type=int,
              help="SIP port where the DUT answers on 127.0.0.1")
@click.option("--capacity", default=None, type=int, help="DUT concurrent-call capacity")
@click.option("--cps-limit", default=None, type=float, help="DUT new calls per second limit")
@click.option("--answer-probability", default=None, type=click.FloatRange(0, 1),
              help="probability that a ringing call is answered")
@click.option("--early-media", default=None, type=click.FloatRange(0, 1),
              help="probability of a 183 with SDP before the answer")
@click.option("--no-ringing", is_flag=True, help="answer without sending 180 first")
@click.option("--ringing-ms", default=None, callback=_latency,
              help="100 Trying -> 180 Ringing delay (150, 100-300, lognormal:40:0.3)")
@click.option("--ring-ms", default=None, callback=_latency,
              help="ring time: 180 -> 200 OK")
@click.option("--failure-ms", default=None, callback=_latency,
              help="100 Trying -> failure response delay")
@click.option("--call-duration-ms", default=None, callback=_latency,
              help="if set, the DUT hangs answered calls up after this long")
@click.option("--knee-ms", default=None, type=float,
              help="extra setup delay scale as load nears capacity")
@click.option("--failure", "failures", multiple=True, callback=_failures,
              help="CODE=P or CAUSE=P, e.g. 486=0.02 (repeatable)")
@click.option("--fault", "faults", multiple=True, callback=_faults, metavar="SPEC",
              help=f"inject a fault: {GRAMMAR} (kinds: drop, notice, stall, slow, restart, "
                   "malformed, blackhole; repeatable)")
@click.option("--fault-api", is_flag=True,
              help="answer 'api sim_fault KIND[=ARG][@SECONDS][/HOST]' on the event socket")
@click.option("--socket-address", default="127.0.0.1:8084", show_default=True,
              metavar="HOST:PORT", help="where the dialplan's socket application connects "
              "(destinations outbound*, outsync*; loopback only)")
@click.option("--uvloop/--no-uvloop", "use_uvloop", default=True, show_default=True,
              help="run on uvloop when it is installed (faster socket I/O)")
@click.option("--poll-ms", type=click.FloatRange(0, MAX_POLL_MS), default=0.0,
              show_default=True, help="wake at most once every N ms (asyncio loop; less CPU "
              "per call below capacity, steps and stamps up to N ms late); 0: not paced")
@click.option("-v", "--verbose", count=True, help="log more (-v info, -vv debug)")
def command(port: int, hosts: int, bind: str, password: str, tick_ms: str, heartbeat_s: float,
            seed: int | None, dut_port: int, capacity: int | None, cps_limit: float | None,
            answer_probability: float | None, early_media: float | None, no_ringing: bool,
            ringing_ms: Latency | None, ring_ms: Latency | None, failure_ms: Latency | None,
            call_duration_ms: Latency | None, knee_ms: float | None,
            failures: dict[int | str, float] | None, faults: list[FaultSpec], fault_api: bool,
            use_uvloop: bool, verbose: int, socket_address: str = "127.0.0.1:8084",
            poll_ms: float = 0.0) -> None:
    """Serve emulated FreeSWITCH 1.11 hosts (event socket) until interrupted."""
    logging.basicConfig(level=logging.WARNING - 10 * min(verbose, 2),
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    kwargs: dict[str, object] = {"seed": seed}
    for name, value in (("capacity", capacity), ("cps_limit", cps_limit),
                        ("answer_probability", answer_probability),
                        ("early_media", early_media), ("ringing_ms", ringing_ms),
                        ("ring_ms", ring_ms), ("failure_ms", failure_ms),
                        ("call_duration_ms", call_duration_ms), ("knee_ms", knee_ms),
                        ("failures", failures)):
        if value is not None:
            kwargs[name] = value
    if no_ringing:
        kwargs["send_ringing"] = False
    try:
        dut = DUTModel(**kwargs)  # type: ignore[arg-type]
        emulator = Emulator(hosts=hosts, port=port, password=password, dut=dut,
                            tick_us=int(tick_ms) * 1000, heartbeat_s=heartbeat_s, bind=bind,
                            dut_address=("127.0.0.1", dut_port), fault_api=fault_api,
                            socket_address=socket_address)
        for spec in faults:
            spec.check_hosts(hosts)
    except (ValueError, TypeError) as exc:
        raise click.UsageError(str(exc)) from None
    try:
        run(_serve(emulator, faults), loop=None if use_uvloop and not poll_ms else "asyncio",
            poll_ms=poll_ms)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {bind}:{port}: {exc}") from None
    except KeyboardInterrupt:
        pass


async def _collect_garbage(emulator: Emulator) -> None:
    """The cyclic garbage collector on :class:`~switchlab.sim.collector.EmulatorGC`'s
    schedule, one step a second (what survived frozen, strays probed, a full pass
    every five minutes or when no call is up)."""
    policy = EmulatorGC()
    policy.start(time.monotonic())
    try:
        while True:
            await asyncio.sleep(1.0)
            policy.tick(time.monotonic(), not any(h.channels for h in emulator.hosts))
    finally:
        policy.stop()


def _report_fault(spec: FaultSpec, what: str) -> None:
    click.echo(f"fault at {spec.at:g} s: {what}")
    sys.stdout.flush()


async def _serve(emulator: Emulator, faults: list[FaultSpec] | None = None) -> None:
    await emulator.start()
    collector = asyncio.ensure_future(_collect_garbage(emulator))
    timers = schedule(emulator.faults, faults or (), asyncio.get_running_loop(), _report_fault)
    for h in emulator.hosts:
        ip, esl = h.esl_address or ("?", 0)
        sips = ", ".join(f"{p.name} {p.ip}:{p.port}" for p in h.profiles.values())
        click.echo(f"{h.hostname}: event socket {ip}:{esl}  sip {sips}  core {h.core_uuid}")
    click.echo(f"DUT at {emulator.dut_address[0]}:{emulator.dut_address[1]}; Ctrl-C to stop")
    sys.stdout.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - non-POSIX
            pass
    try:
        await stop.wait()
    finally:
        for timer in timers:
            timer.cancel()
        collector.cancel()
        await emulator.aclose()
        click.echo("stopped")
