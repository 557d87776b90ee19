"""Where a channel's variables sit: layouts shared by every channel that set the same names.

FreeSWITCH keeps a channel's variables in one list, in the order they were set; setting
one again moves it to the end, unsetting removes it. Which names a channel holds, and
in what order, depends only on the *names* it set, in order, never on the values. The
channels of one call flow set the same names in the same order, so that part is worked
out once per sequence and shared: a :class:`Layout` says, after a given sequence of
sets, where each live variable's value sits in the channel's own list of values (the
channel appends every value it sets, nothing else) and the order of their lines.

A set is then one lookup (the next layout, by the template or the names set) and one
``list.extend``: no dictionary per channel, no insert or delete per value. A block
rendered before sets of new names only is extended with their lines, not picked and
joined again (:meth:`Layout.grown_since`). A channel
whose lists hold many more values than it has live variables (a long call whose apps
set the same names again and again) is compacted to the :meth:`~Layout.compacted`
layout of its names: its lists stay bounded, and a loop of sets comes back to layouts
already worked out.

>>> root, vals = Layout({}, {}, 0), []
>>> first = root.after(("a", "b"), ("a", "b")); vals += ["1", "2"]
>>> again = first.after("a", ("a",)); vals += ["3"]
>>> [(name, vals[i]) for name, i in zip(again.names, again.live)]
[('b', '2'), ('a', '3')]
>>> again.pick(vals), again.index["a"]
(('2', '3'), 2)
>>> first.after("a", ("a",)) is again  # worked out once, then shared
True
>>> gone = again.without("b"); gone.names, gone.pick(vals)
(('a',), ('3',))
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import count
from operator import itemgetter
from typing import Any

#: numbers the chains of layouts that only append (see :meth:`Layout.grown_since`)
_chains = count()
Picker = Callable[[Sequence[str]], tuple[str, ...]]
#: layouts kept at most (each holds a dictionary of its live names); past it the known
#: ones are dropped from :data:`ROOT` and learnt again (channels keep the ones they hold)
MAX_LAYOUTS = 4096
#: a layout is :attr:`~Layout.crowded` when its positions exceed twice its live names
#: plus this many
SLACK = 64


def _picker(live: tuple[int, ...]) -> Picker:
    """A function giving the items of a list at ``live``'s positions, as a tuple (C)."""
    if not live:
        return _nothing
    if len(live) == 1:
        only = live[0]
        return lambda seq: (seq[only],)
    getter: Any = itemgetter(*live)
    return getter


def _nothing(seq: Sequence[str]) -> tuple[str, ...]:
    return ()


class Layout:
    """The live variables after one sequence of sets: ``names`` in FreeSWITCH's order,
    ``live`` their positions in the channel's value (and line) list, ``index`` name ->
    position, ``size`` how many positions the sequence used, ``pick`` the live items
    of such a list (see the module's example)."""

    def __init__(self, index: dict[str, int], order: dict[int, str], size: int) -> None:
        self.index = index
        self.live: tuple[int, ...] = tuple(order)
        self.names: tuple[str, ...] = tuple(order.values())
        self.size = size
        self.pick: Picker = _picker(self.live)
        #: the next layouts: by template, name (one set), names (many), (None, name) (unset)
        self.children: dict[object, Layout] = {}
        #: a channel at this layout should compact its lists (see :meth:`compacted`)
        self.crowded = size > 2 * len(self.live) + SLACK
        self._compact: Layout | None = None
        #: the layouts reached from one another by setting only names not live before
        #: share this number (see :meth:`grown_since`); a layout made otherwise, a new one
        self.chain = next(_chains)

    def after(self, key: object, names: Sequence[str]) -> Layout:
        """The layout once ``names`` are set in order. ``key`` names that step and must
        always come with the same names: a template (its names), a name (one set), a
        tuple of names (many at once); ``(None, name)`` is :meth:`without`'s."""
        child = self.children.get(key)
        if child is None:
            index = dict(self.index)
            order = dict(zip(self.live, self.names))
            pos = self.size
            for name in names:
                old = index.get(name)
                if old is not None:
                    del order[old]
                index[name] = pos
                order[pos] = name
                pos += 1
            child = Layout(index, order, pos)
            if len(order) == len(self.live) + len(names):  # nothing moved: appended only
                child.chain = self.chain
            _keep(self, key, child)
        return child

    def grown_since(self, earlier: Layout) -> bool:
        """Whether this layout, reached from ``earlier`` (an ancestor, no compaction
        between), holds ``earlier``'s live items and then every position from
        ``earlier.size`` on: only names not live before were set since.

        >>> root = Layout({}, {}, 0)
        >>> ab = root.after(("a", "b"), ("a", "b"))
        >>> abc = ab.after("c", ("c",))
        >>> abc.grown_since(ab), abc.after("a", ("a",)).grown_since(ab)
        (True, False)
        """
        return self.chain == earlier.chain

    def without(self, name: str) -> Layout:
        """The layout once ``name`` (a live one) is unset."""
        key = (None, name)
        child = self.children.get(key)
        if child is None:
            index = dict(self.index)
            order = dict(zip(self.live, self.names))
            del order[index.pop(name)]
            child = Layout(index, order, self.size)
            _keep(self, key, child)
        return child

    def compacted(self) -> Layout:
        """The layout of the same names at positions ``0, 1, ...`` (a channel's lists
        after ``list(layout.pick(values))``), one per sequence of names.

        >>> root = Layout({}, {}, 0)
        >>> moved = root.after(("a", "b"), ("a", "b")).after("a", ("a",))
        >>> (moved.size, moved.live), (moved.compacted().size, moved.compacted().live)
        ((3, (1, 2)), (2, (0, 1)))
        """
        compact = self._compact
        if compact is None:
            compact = _CANONICAL.get(self.names)
            if compact is None:
                names = self.names
                compact = Layout(dict(zip(names, range(len(names)))), dict(enumerate(names)),
                                 len(names))
                if _count[0] >= MAX_LAYOUTS:
                    forget_layouts()
                _CANONICAL[names] = compact
                _count[0] += 1
            self._compact = compact
        return compact


#: the layout of a channel that has set nothing
ROOT = Layout({}, {}, 0)
#: compacted layouts by their names
_CANONICAL: dict[tuple[str, ...], Layout] = {}
_count = [0]


def _keep(parent: Layout, key: object, child: Layout) -> None:
    """Remember ``child`` under ``parent``, within :data:`MAX_LAYOUTS`."""
    if _count[0] >= MAX_LAYOUTS:
        forget_layouts()
    parent.children[key] = child
    _count[0] += 1


def forget_layouts() -> None:
    """Drop the known layouts (channels keep the ones they hold): they are learnt again."""
    ROOT.children.clear()
    _CANONICAL.clear()
    _count[0] = 0


def known_layouts() -> int:
    """How many layouts were worked out since the last reset (for tests)."""
    return _count[0]
