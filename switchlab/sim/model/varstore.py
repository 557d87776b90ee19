"""A channel's variables, kept as the assignments that set them (:class:`VarStore`).

FreeSWITCH's rule: setting a variable (even to the same value) moves it to the end
of the list. The store does not put each value into an ordered dict of its own: a
template application is appended as one *segment* (the template's names and the
rendered values), plain sets go into a small open segment at the end, and ``owner``
maps each live name to the segment that set it last (filled from C in one
``dict.update`` per segment). :meth:`VarStore.get` is two lookups; the
``variable_*`` block is the join of each segment's lines (a template's are encoded,
or found in the per-name line memos, when the segment is first rendered); a name
set again or unset has its old line blanked.

>>> from .template import variables
>>> store = VarStore()
>>> store.apply(variables("a={x}\\nb=1"), ["x y", "1"])
>>> store.set("a", "2", "variable_a: 2\\n")
>>> store.get("a"), list(store.items()), store.block()
('2', [('b', '1'), ('a', '2')], 'variable_b: 1\\nvariable_a: 2\\n')
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .template import Template, templated_line

#: a segment is a list (cheaper to build than an object): [names, index (name -> its
#: last position), values, lines (a template's shared tuple until resolved, then the
#: segment's own list, a dead position's line blanked), line memos of a template (None
#: once resolved), positions a template sets again itself, rendered block (None: to
#: render), open (plain sets may be appended to it)]
Segment = list[Any]


def _resolve(seg: Segment) -> list[str]:
    """A template segment's own lines: each value's line from its name's memo (or
    encoded), a position the template sets again itself blanked."""
    lines = [line if memo is None else (memo.get(value) or templated_line(memo, name, value))
             for name, value, line, memo in zip(seg[0], seg[2], seg[3], seg[4])]
    for i in seg[5]:
        lines[i] = ""
    seg[3] = lines
    seg[4] = None
    return lines


class VarStore(Mapping[str, str]):
    """A channel's variables in FreeSWITCH's order (read-only as a mapping; written by
    :meth:`apply`, :meth:`set`, :meth:`put` and :meth:`unset`)."""

    __slots__ = ("segs", "owner", "_block")

    def __init__(self) -> None:
        self.segs: list[Segment] = []
        self.owner: dict[str, Segment] = {}  # a name set and not unset -> its segment
        self._block: str | None = None

    # -- reading ----------------------------------------------------------------------
    def get(self, name: str, default: Any = None) -> Any:
        seg = self.owner.get(name)
        if seg is None:
            return default
        return seg[2][seg[1][name]]

    def __getitem__(self, name: str) -> str:
        seg = self.owner[name]
        return seg[2][seg[1][name]]

    def __contains__(self, name: object) -> bool:
        return name in self.owner

    def __len__(self) -> int:
        return len(self.owner)

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self.pairs())

    def pairs(self) -> list[tuple[str, str]]:
        """``(name, value)`` in order (each name once: where it was last set)."""
        owner = self.owner
        out: list[tuple[str, str]] = []
        for seg in self.segs:
            index = seg[1]
            out += [(name, value) for i, (name, value) in enumerate(zip(seg[0], seg[2]))
                    if owner.get(name) is seg and index[name] == i]
        return out

    def block(self) -> str:
        """The ``variable_*`` lines, URL-encoded (kept until the next change)."""
        block = self._block
        if block is None:
            parts = []
            for seg in self.segs:
                text = seg[6]
                if text is None:
                    text = seg[6] = "".join(seg[3] if seg[4] is None else _resolve(seg))
                    seg[7] = False  # rendered: a later set starts a new segment
                parts.append(text)
            block = self._block = "".join(parts)
        return block

    # -- writing ----------------------------------------------------------------------
    def _drop(self, name: str) -> None:
        """Blank the line of live ``name`` where it was last set (before it is set again
        or unset)."""
        seg = self.owner[name]
        lines = seg[3] if seg[4] is None else _resolve(seg)
        lines[seg[1][name]] = ""
        seg[6] = None

    def apply(self, tpl: Template, values: list[str]) -> None:
        """Append a template application (``values``: its rendered values, not copied)."""
        owner = self.owner
        names = tpl.nameset
        live = owner.keys()
        if not live.isdisjoint(names):
            for name in live & names:
                self._drop(name)
        seg = [tpl.names, tpl.index, values, tpl.const_lines, tpl.line_memos, tpl.shadowed,
               None, False]
        owner.update(dict.fromkeys(names, seg))
        self.segs.append(seg)
        self._block = None

    def set(self, name: str, value: str, line: str) -> None:
        """Set one variable (``line``: its encoded ``variable_*`` line) at the end."""
        owner = self.owner
        if name in owner:
            self._drop(name)
        segs = self.segs
        self._block = None
        if segs:
            seg = segs[-1]
            if seg[7]:  # open: append
                names = seg[0]
                seg[1][name] = len(names)
                names.append(name)
                seg[2].append(value)
                seg[3].append(line)
                seg[6] = None
                owner[name] = seg
                return
        seg = [[name], {name: 0}, [value], [line], None, (), None, True]
        owner[name] = seg
        segs.append(seg)

    def put(self, names: list[str], values: list[str], lines: list[str]) -> None:
        """Set many variables in order (the lists are kept, not copied)."""
        index = dict(zip(names, range(len(names))))
        owner = self.owner
        live = owner.keys()
        if not live.isdisjoint(index):
            for name in live & index.keys():
                self._drop(name)
        if len(index) != len(names):  # a name twice: its last position stays
            for i, name in enumerate(names):
                if index[name] != i:
                    lines[i] = ""
        seg = [names, index, values, lines, None, (), None, True]
        owner.update(dict.fromkeys(index, seg))
        self.segs.append(seg)
        self._block = None

    def unset(self, name: str) -> bool:
        """Remove a variable; False if it was not set."""
        if name not in self.owner:
            return False
        self._drop(name)
        del self.owner[name]
        self._block = None
        return True
