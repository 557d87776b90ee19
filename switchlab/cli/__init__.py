"""The ``switchlab`` command line: one module per sub-command."""
from __future__ import annotations

import importlib

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


def _version_message() -> str:
    """``--version``: the version, and whether the read path and the emulator run
    compiled (README)."""
    return (f"%(prog)s, version %(version)s\nread path: {_how_it_runs('switchlab.wire')}"
            f"\nemulator: {_how_it_runs('switchlab.sim')}")


@click.group(cls=_LazyGroup)
@click.version_option(package_name="switchlab", message=_version_message())
def main() -> None:
    """switchlab: drive FreeSWITCH call generators and measure every call."""
