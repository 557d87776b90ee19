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
from ...wire.urlcodec import fs_url_encode_fast as enc

Renderer = Callable[[dict[str, Any]], str]
#: (variable name, value template, encoded line of a constant value or None,
#:  renderer of a template value or None)
Op = tuple[str, str, Optional[str], Optional[Renderer]]


class Template:
    """An ordered list of variable assignments ``name=value`` (value may hold ``{fact}``).

    ``ops`` are ``(name, template, encoded constant line or None, renderer or None)``.
    For :meth:`~.channel.Channel.apply` it also keeps, computed once, the ``names``,
    the constant values and their encoded lines (``const_values``, ``const_lines``, None
    for a templated value), the positions of the templated values (``templated_at``),
    their names and the memos of their names' encoded lines by value (``templated_names``,
    ``templated_memos``: see :func:`templated_line`) and one
    ``%``-format over the templated values only (:meth:`render_templated`: one C call per
    template instead of one renderer call per value; the constants are not formatted,
    split or copied again for each call).
    """

    __slots__ = ("ops", "names", "const_lines", "const_values", "_batch",
                 "_templated", "_composite", "_slot_keys", "templated_at", "templated_memos",
                 "templated_names", "last_values", "last_lines")

    def __init__(self, ops: tuple[Op, ...]) -> None:
        self.ops = ops
        self.names = tuple(op[0] for op in ops)
        self.const_lines = tuple(op[2] for op in ops)
        #: a constant's value, or None for a templated one (see :meth:`render_templated`)
        self.const_values: tuple[str | None, ...] = tuple(
            op[1] if op[3] is None else None for op in ops)
        self._templated = tuple(op for op in ops if op[3] is not None)
        #: the positions of the templated values, and their names' line memos
        self.templated_at = tuple(i for i, op in enumerate(ops) if op[3] is not None)
        self.templated_memos = tuple(line_memo(op[0]) for op in self._templated)
        self.templated_names = tuple(op[0] for op in self._templated)
        #: each templated value's last value and its line (most recur from call to call:
        #: an equal string is found without hashing it for the memo); always a true pair
        self.last_values: list[str] = [""] * len(self._templated)
        self.last_lines = [templated_line({}, name, "") for name in self.templated_names]
        #: per templated value: the fact it is when it is one fact alone (``{uuid}``: the
        #: fact's own string is the value, nothing is formatted), else None
        self._slot_keys = tuple(_bare_key(op[1]) for op in self._templated)
        self._composite = tuple(op for op, key in zip(self._templated, self._slot_keys)
                                if key is None)
        # the constants and the bare facts stay out of the format: it scans and splits only
        # the values made of text and facts
        self._batch = _batch_format(self._composite) if self._composite else None

    def render_templated(self, facts: dict[str, Any]) -> list[str]:
        """The templated values only, in order, rendered from ``facts``: a value that is
        one fact is that fact (``str`` of it), the others come from one ``%``-format over
        them all; the constants are :attr:`const_values`.

        >>> variables("a={x}\\nb=1%\\nc={y}-{x}").render_templated({"x": 1, "y": "z"})
        ['1', 'z-1']
        """
        composite = self._composite
        made: list[str] = self._render_composite(facts) if composite else []
        out: list[str] = []
        k = 0
        for key in self._slot_keys:
            if key is None:
                out.append(made[k])
                k += 1
            else:
                value = facts[key]
                out.append(value if isinstance(value, str) else str(value))
        return out

    def _render_composite(self, facts: dict[str, Any]) -> list[str]:
        """The values made of text and facts, in order (one ``%``-format over them all)."""
        batch = self._batch
        if batch is not None:
            fmt, getter = batch
            values = (fmt % getter(facts)).split(_SEP)
            if len(values) == len(self._composite):
                return values
        # a spec/conversion, or a value holding the separator: one renderer per value
        return [render(facts) for _, _, _, render in self._composite
                if render is not None]

    def render_all(self, facts: dict[str, Any]) -> list[str]:
        """Every value, in order, rendered from ``facts``.

        >>> variables("a={x}\\nb=1%\\nc={y}-{x}").render_all({"x": 1, "y": "z"})
        ['1', '1%', 'z-1']
        """
        rendered = iter(self.render_templated(facts))
        return [next(rendered) if value is None else value for value in self.const_values]

    def __add__(self, other: Template) -> Template:
        return Template(self.ops + other.ops)

    def __getitem__(self, index: slice) -> Template:
        return Template(self.ops[index])

    def __len__(self) -> int:
        return len(self.ops)

    def __iter__(self) -> Iterator[Op]:
        return iter(self.ops)


#: variable name -> {value: its encoded ``variable_*`` line}: one memo per name, shared
#: by every template and ``set_var`` (a per-call value, a call-id or a tag set by several
#: templates of both legs, is encoded once)
LINE_MEMOS: dict[str, dict[str, str]] = {}
#: a memo holding this many values is emptied before the next one goes in: values that
#: do not recur (UUIDs, stamps) come and go, the recurring ones are learnt again at once
LINE_MEMO_MAX = 512


def line_memo(name: str) -> dict[str, str]:
    """The memo of variable ``name``'s encoded lines (see :data:`LINE_MEMOS`)."""
    memo = LINE_MEMOS.get(name)
    if memo is None:
        memo = LINE_MEMOS[name] = {}
    return memo


def templated_line(memo: dict[str, str], name: str, value: str) -> str:
    """The encoded line of a value that was not in ``memo``, ``name``'s memo (now it is;
    a full memo is emptied first; values of 128 characters or more are not kept).

    >>> memo = {}
    >>> templated_line(memo, "to", "a@b"), memo
    ('variable_to: a%40b\\n', {'a@b': 'variable_to: a%40b\\n'})
    """
    line = f"variable_{name}: {enc(value)}\n"
    if len(value) < 128:
        if len(memo) >= LINE_MEMO_MAX:
            memo.clear()
        memo[value] = line
    return line


#: joins the values inside the batch format (a NUL: no variable value holds one)
_SEP = "\x00"


def _bare_key(template: str) -> str | None:
    """The fact a value template is alone (``"{x}"`` -> ``"x"``), else None.

    >>> _bare_key("{uuid}"), _bare_key("sip:{user}"), _bare_key("{n:>3}")
    ('uuid', None, None)
    """
    parts = _parts(template)
    if parts is not None and parts[0] == "%s":
        return parts[1][0]
    return None


def _parts(template: str) -> tuple[str, list[str]] | None:
    """``"a{x}b"`` -> (``"a%sb"``, ``["x"]``); None if a field has a spec or conversion."""
    fmt: list[str] = []
    keys: list[str] = []
    for literal, field, spec, conv in Formatter().parse(template):
        if spec or conv:
            return None
        fmt.append(literal.replace("%", "%%"))
        if field is not None:
            fmt.append("%s")
            keys.append(field)
    return "".join(fmt), keys


Getter = Callable[[dict[str, Any]], tuple[Any, ...]]


def _batch_format(ops: tuple[Op, ...]) -> tuple[str, Getter] | None:
    """One ``%``-format for all values of ``ops``, the templated ones of a template (joined
    by :data:`_SEP`), and the getter of its facts; None if some value cannot be written
    that way."""
    fmts: list[str] = []
    keys: list[str] = []
    for _, value, _, _ in ops:
        parts = _parts(value)
        if parts is None:
            return None
        fmts.append(parts[0])
        keys.extend(parts[1])
    fmt = _SEP.join(fmts)
    if not keys:
        return fmt, lambda facts: ()
    if len(keys) == 1:
        key = keys[0]
        return fmt, lambda facts: (facts[key],)
    return fmt, itemgetter(*keys)


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
    bare = _bare_key(template)
    if bare is not None:  # the whole value is one fact
        return lambda facts: str(facts[bare])
    parts = _parts(template)
    if parts is None:
        return template.format_map
    text, keys = parts
    if not keys:
        constant = text % ()
        return lambda facts: constant
    if len(keys) == 1:
        key = keys[0]
        return lambda facts: text % (facts[key],)
    getter = itemgetter(*keys)
    return lambda facts: text % getter(facts)
