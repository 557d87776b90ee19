"""``switchlab serve``: run apps on the calls a FreeSWITCH sends us, until interrupted.

Two modes, one command:

* outbound: ``switchlab serve --outbound 127.0.0.1:8084 --app module:Class``
  listens for the dialplan's ``socket`` application (one connection per call,
  docs/OUTBOUND.md);
* inbound: ``switchlab serve HOST... --app module:Class`` connects to each
  host's event socket and runs the apps on the calls that arrive there.

``--sim`` serves an embedded emulator's calls instead (outbound: its
``socket`` application dials the server; inbound: its hosts). A status line
shows the calls; SIGINT (Ctrl-C) or SIGTERM stops (a second one hangs the
calls up); with ``--metrics-file`` each call is a row of the run written there.
Bad input: one line, exit code 2.
"""
from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import click

from ..errors import AuthenticationError, ConnectionFailed, SwitchlabError
from .common import fail
from .serve_inputs import ServeInputs, check_serve_inputs


@click.command("serve")
@click.argument("hosts", nargs=-1)
@click.option("--outbound", default=None, metavar="HOST:PORT",
              help="outbound mode: listen here for FreeSWITCH's 'socket' application "
              "(e.g. 127.0.0.1:8084; port 0: any free port)")
@click.option("--app", "apps", multiple=True, required=True,
              help="app to run on each call: a built-in name, module:Class or path.py:Class "
              "(repeat for several)")
@click.option("--acl", multiple=True, metavar="NETWORK",
              help="outbound mode: admit FreeSWITCH peers of this network besides loopback "
              "(e.g. 10.0.0.0/8; repeat)")
@click.option("--call-timeout", type=float, default=None,
              help="outbound mode: hang up a call after this many seconds")
@click.option("--password", default="ClueCon", show_default=True, help="ESL password (inbound)")
@click.option("--metrics-file", type=click.Path(path_type=Path), default=None,
              help="run directory to write, one row per call (open it with switchlab.load)")
@click.option("--sim", is_flag=True, help="serve an embedded FreeSWITCH emulator's calls")
@click.option("--max-calls", type=int, default=None,
              help="stop after this many calls are done  [default: run until interrupted]")
@click.option("--interval", type=float, default=1.0, show_default=True,
              help="seconds between status lines")
def command(hosts: tuple[str, ...], outbound: str | None, apps: tuple[str, ...],
            acl: tuple[str, ...], call_timeout: float | None, password: str,
            metrics_file: Path | None, sim: bool, max_calls: int | None,
            interval: float) -> None:
    """Run apps on the calls FreeSWITCH sends: --outbound HOST:PORT, or HOST... (inbound)."""
    from .stopping import install_early

    inputs = check_serve_inputs(hosts, outbound=outbound, apps=apps, acl=acl,
                                call_timeout=call_timeout, metrics_file=metrics_file, sim=sim,
                                max_calls=max_calls, interval=interval)
    install_early()
    try:
        code = asyncio.run(_serve(inputs, password))
    except SwitchlabError as exc:
        fail(str(exc))
    sys.exit(code)


async def _serve(inputs: ServeInputs, password: str) -> int:
    from ..measure import Run
    from ..outbound import serve
    from ..sim import Emulator
    from .serve_inbound import inbound_calls
    from .stopping import Stopper

    stopper = Stopper()
    stopper.install(asyncio.get_running_loop())
    params = {"mode": inputs.mode, "apps": [spec for spec, _cls in inputs.apps],
              "outbound": inputs.outbound, "hosts": inputs.hosts}
    run = Run(params, directory=inputs.metrics_file)
    classes = [cls for _spec, cls in inputs.apps]
    counters: Any
    async with _maybe_emulator(inputs, Emulator) as emulator:
        if inputs.mode == "outbound":
            host, port = inputs.outbound_address
            server = serve(*classes, host=host, port=port, acl=inputs.acl,
                           call_timeout=inputs.call_timeout, run=run)
            await server.start()
            stopper.attach(server)
            if emulator is not None:
                emulator.socket_address = f"127.0.0.1:{server.port}"
                esl = "{}:{}".format(*emulator.esl_addresses[0])
                click.echo(f"Emulator event socket at {esl}")
                click.echo(f"  send it calls, e.g.: switchlab dial {esl} --dest-user outbound1 "
                           "--rate 5 --max-offered 20")
            click.echo(f"Serving outbound sockets on {server.host}:{server.port} with "
                       f"{', '.join(c.__name__ for c in classes)}")
            counters = server
            try:
                await _until_stopped(stopper, counters, inputs)
            finally:
                await server.close(timeout=0.5 if stopper.count > 1 else 5.0)
        else:
            addresses = inputs.addresses if emulator is None else list(emulator.esl_addresses)
            try:
                async with inbound_calls(addresses, password, classes, run) as counters:
                    stopper.attach(counters)
                    click.echo(f"Serving calls on {', '.join(f'{h}:{p}' for h, p in addresses)}"
                               f" with {', '.join(c.__name__ for c in classes)}")
                    await _until_stopped(stopper, counters, inputs)
            except AuthenticationError as exc:
                fail(f"{exc}; pass the right one with --password")
            except ConnectionFailed as exc:
                fail(str(exc))
    click.echo(counters.status())
    if inputs.metrics_file is not None:
        run.save(inputs.metrics_file)
        click.echo(f"Stored the run ({len(run)} calls) in {inputs.metrics_file}")
    else:
        run.close()
    return 0


class _maybe_emulator:
    """``async with``: an emulator for ``--sim`` (else None)."""

    def __init__(self, inputs: ServeInputs, factory: Any) -> None:
        self.emulator = factory(hosts=1, port=0) if inputs.sim else None

    async def __aenter__(self) -> Any:
        if self.emulator is not None:
            await self.emulator.start()
        return self.emulator

    async def __aexit__(self, *exc: object) -> None:
        if self.emulator is not None:
            await self.emulator.aclose()


async def _until_stopped(stopper: Any, counters: Any, inputs: ServeInputs) -> None:
    """Print the status line every ``interval`` until a stop signal (or ``--max-calls``)."""
    stop = stopper.stop
    done = 0
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), inputs.interval)
        except asyncio.TimeoutError:
            pass
        click.echo(counters.status())
        done = counters.completed + counters.failed
        if inputs.max_calls is not None and done >= inputs.max_calls:
            break
