"""``switchlab list-apps``: the built-in apps, one line each, with the events they
use and the per-call columns they add."""
from __future__ import annotations

import importlib
import re
from typing import Any

import click

from ..apps import get_callbacks
from .inputs import BUILTIN_APPS


def builtin_app(name: str) -> Any:
    """The class of built-in app ``name``."""
    module, _, attr = BUILTIN_APPS[name].partition(":")
    return getattr(importlib.import_module(module), attr)


def app_line(name: str, cls: Any) -> str:
    """``Name: first doc line [events: ...; columns: ...]``."""
    paragraph = (cls.__doc__ or "").strip().split("\n\n")[0]
    text = " ".join(paragraph.split()).replace("``", "")
    summary = re.split(r"(?<=\.) |; ", text)[0].rstrip(".")
    events = sorted({event for event, _kind, _fn in get_callbacks(cls)}
                    | set(getattr(cls, "subscribe", ())))
    cols = [spec.name for spec in getattr(cls, "columns", None) or ()]
    return (f"{name}: {summary} "
            f"[events: {', '.join(events)}; columns: {', '.join(cols) or '-'}]")


@click.command("list-apps")
def command() -> None:
    """List the built-in apps (use them with `switchlab dial --app NAME`)."""
    for name in BUILTIN_APPS:
        click.echo(app_line(name, builtin_app(name)))
