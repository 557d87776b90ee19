"""Variable templates: ordered ``name=value`` assignments whose values may hold ``{fact}``.

A value is rendered from a channel's *facts* (a dict) by a precompiled
``%``-format string and an :func:`operator.itemgetter`: no code is generated or
evaluated, so a template can only ever look facts up and join text.

>>> tpl = variables('''
... a=sip:{user}@{host}
... b=100%
... ''')
>>> [(name, render(f) if render else value) for name, value, line, render in tpl.ops
...  for f in [{"user": "u", "host": "h"}]]
[('a', 'sip:u@h'), ('b', '100%')]
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from operator import itemgetter
from string import Formatter
from typing import Any, Optional

from ...wire.urlcodec import fs_url_encode

Renderer = Callable[[dict[str, Any]], str]
#: (variable name, value template, encoded line of a constant value or None,
#:  renderer of a template value or None)
Op = tuple[str, str, Optional[str], Optional[Renderer]]


class Template:
    """An ordered list of variable assignments ``name=value`` (value may hold ``{fact}``).

    ``ops`` are ``(name, template, encoded constant line or None, renderer or None)``.
    """

    __slots__ = ("ops",)

    def __init__(self, ops: tuple[Op, ...]) -> None:
        self.ops = ops

    def __add__(self, other: Template) -> Template:
        return Template(self.ops + other.ops)

    def __getitem__(self, index: slice) -> Template:
        return Template(self.ops[index])

    def __len__(self) -> int:
        return len(self.ops)

    def __iter__(self) -> Iterator[Op]:
        return iter(self.ops)


def variables(text: str) -> Template:
    """``name=value`` lines -> a :class:`Template` (constant values encoded once)."""
    out: list[Op] = []
    for line in text.strip().splitlines():
        line = line.strip()
        if not line:
            continue
        name, sep, value = line.partition("=")
        if not sep:
            raise ValueError(f"template line {line!r} lacks '='; write name=value")
        if "{" in value:
            out.append((name, value, None, compile_template(value)))
        else:
            out.append((name, value, f"variable_{name}: {fs_url_encode(value)}\n", None))
    return Template(tuple(out))


def compile_template(template: str) -> Renderer:
    """``"a{x}b"`` -> a function of a facts dict (a ``%``-format over an itemgetter,
    about twice as fast as ``str.format_map``; a spec or conversion falls back to it).

    >>> compile_template("sip:{user}@{host}")({"user": "a", "host": "h"})
    'sip:a@h'
    >>> compile_template("{n}%")({"n": 5})
    '5%'
    """
    fmt: list[str] = []
    keys: list[str] = []
    for literal, field, spec, conv in Formatter().parse(template):
        if spec or conv:
            return template.format_map
        fmt.append(literal.replace("%", "%%"))
        if field is not None:
            fmt.append("%s")
            keys.append(field)
    text = "".join(fmt)
    if not keys:
        constant = text % ()
        return lambda facts: constant
    if len(keys) == 1:
        key = keys[0]
        if text == "%s":  # the whole value is one fact
            return lambda facts: str(facts[key])
        return lambda facts: text % (facts[key],)
    getter = itemgetter(*keys)
    return lambda facts: text % getter(facts)
