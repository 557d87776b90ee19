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


def _version_message() -> str:
    """``--version``: the version, and whether the read path runs compiled (README)."""
    compiled = native.compiled_modules()
    how = (f"compiled ({', '.join(compiled)})" if compiled
           else f"plain Python ({native.PURE_ENV}=1)" if native.pure_wanted()
           else "plain Python (not compiled at install: see the README)")
    return f"%(prog)s, version %(version)s\nread path: {how}"


@click.group(cls=_LazyGroup)
@click.version_option(package_name="switchlab", message=_version_message())
def main() -> None:
    """switchlab: drive FreeSWITCH call generators and measure every call."""
