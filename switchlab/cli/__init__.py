"""The ``switchlab`` command line: one module per sub-command."""
from __future__ import annotations

import importlib
from importlib import metadata

import click

from ..wire import native

#: sub-command name -> module defining a click command called ``command``
SUBCOMMANDS = {
    "sim": "switchlab.cli.sim",
    "dial": "switchlab.cli.dial",
    "demo": "switchlab.cli.demo",
    "list-apps": "switchlab.cli.apps",
    "plot": "switchlab.cli.plot",
    "serve": "switchlab.cli.serve",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        module = SUBCOMMANDS.get(name)
        if module is None:
            return None
        return importlib.import_module(module).command


_NOT_COMPILED = {
    "pure": f"plain Python ({native.PURE_ENV}=1)",
    "stale": "plain Python (a source was edited since the build: pip install -e .)",
    "not built": "plain Python (not compiled at install: see the README)",
}


def _how_it_runs(package: str) -> str:
    """``compiled (...)`` or ``plain Python (why)`` for one compiled group."""
    state = native.build_state(package)
    if state != "compiled":
        return _NOT_COMPILED[state]
    names = native.COMPILED_GROUPS[package]
    return f"compiled ({', '.join(names) if len(names) <= 3 else f'{len(names)} modules'})"


def _show_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """``--version``: the version, and whether the read path and the emulator run
    compiled (README). Worked out only when asked: it hashes every compiled source."""
    if not value or ctx.resilient_parsing:
        return
    click.echo(f"{ctx.find_root().info_name}, version {metadata.version('switchlab')}\n"
               f"read path: {_how_it_runs('switchlab.wire')}\n"
               f"emulator: {_how_it_runs('switchlab.sim')}")
    ctx.exit()


@click.group(cls=_LazyGroup)
@click.option("--version", is_flag=True, expose_value=False, is_eager=True,
              callback=_show_version, help="Show the version and exit.")
def main() -> None:
    """switchlab: drive FreeSWITCH call generators and measure every call."""
