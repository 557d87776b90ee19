"""The dial string's scanners (sans I/O): split an ``originate`` command into its
arguments, a ``{...}``/``[...]``/``<...>`` block off the front, a variable list into
names and values. Each visits only the characters it acts on (a regular expression finds
them); :mod:`.dialstring` parses with them.
"""
from __future__ import annotations

import re


class DialStringError(ValueError):
    """A dial string the emulator cannot parse; ``cause`` is the -ERR text."""

    def __init__(self, cause: str, message: str) -> None:
        super().__init__(message)
        self.cause = cause


#: the characters :func:`split_args` and :func:`take_block` act on (others are copied)
_SPLIT_SPECIAL = re.compile(r"[{}\[\]<>()' ]")


def split_args(text: str) -> list[str]:
    """Split on spaces outside ``{}``, ``[]``, ``<>``, ``()`` and single quotes.

    >>> split_args("{a='x y'}sofia/e/u@h  &sleep(1 2) XML")
    ["{a='x y'}sofia/e/u@h", '&sleep(1 2)', 'XML']
    """
    out: list[str] = []
    start = 0
    depth = 0
    quote = False
    for m in _SPLIT_SPECIAL.finditer(text):  # only the special characters are visited
        ch = m.group()
        if ch == "'" and depth == 0:
            quote = not quote
        elif not quote:
            if ch in "{[<(":
                depth += 1
            elif ch in "}]>)":
                if depth > 0:
                    depth -= 1
            elif ch == " " and depth == 0:
                i = m.start()
                if i > start:
                    out.append(text[start:i])
                start = i + 1
    if start < len(text):
        out.append(text[start:])
    return out


#: delimiter -> the characters :func:`parse_vars` acts on: an escaped delimiter
#: (backslash + delimiter, tried first), a quote, the delimiter
_VARS_SPECIAL: dict[str, re.Pattern[str]] = {}


def _vars_special(delim: str) -> re.Pattern[str]:
    pattern = _VARS_SPECIAL.get(delim)
    if pattern is None:
        d = re.escape(delim)
        pattern = _VARS_SPECIAL[delim] = re.compile(f"\\\\{d}|'|{d}")
    return pattern


def parse_vars(text: str) -> dict[str, str]:
    """``a=1,b='x,y',c=z\\,w`` (or ``^^:a=1:b=2``) -> dict.

    Only the special characters are visited (a regular expression finds them): an
    escaped delimiter stands for the delimiter, a quote toggles quoting (and is kept),
    an unquoted delimiter ends an item.

    >>> parse_vars("a=1,b='x,y',c=z\\\\,w, d = 2 ,e")
    {'a': '1', 'b': 'x,y', 'c': 'z,w', 'd': '2'}
    >>> parse_vars("^^:a=1:b=x,y")
    {'a': '1', 'b': 'x,y'}
    """
    delim, text = _delimiter(text)
    items: list[str] = []
    cur: list[str] = []
    quote = False
    start = 0
    for m in _vars_special(delim).finditer(text):
        ch = m.group()
        if len(ch) == 2:  # an escaped delimiter
            cur.append(text[start:m.start()])
            cur.append(delim)
            start = m.end()
        elif ch == "'":
            quote = not quote
        elif not quote:
            cur.append(text[start:m.start()])
            items.append("".join(cur))
            cur = []
            start = m.end()
    cur.append(text[start:])
    items.append("".join(cur))
    return _vars_dict(items)


def _delimiter(text: str) -> tuple[str, str]:
    """A variable list's delimiter (``,``, or the one ``^^`` names) and its items' text."""
    if text.startswith("^^") and len(text) > 2:
        return text[2], text[3:]
    return ",", text


def _vars_dict(items: list[str]) -> dict[str, str]:
    """``name=value`` items -> dict (blank and ``=``-less items skipped, one pair of
    single quotes around a value removed)."""
    out: dict[str, str] = {}
    for item in items:
        item = item.strip()
        if not item:
            continue
        name, sep, value = item.partition("=")
        if not sep:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == "'" and value[-1] == "'":
            value = value[1:-1]
        out[name.strip()] = value
    return out


#: (open, close) -> the characters :func:`take_block` acts on
_BLOCK_SPECIAL = {pair: re.compile("['" + re.escape(pair[0] + pair[1]) + "]")
                  for pair in (("{", "}"), ("<", ">"), ("[", "]"))}


def take_block(text: str, open_ch: str, close_ch: str) -> tuple[str | None, str]:
    """``{...}rest`` -> (``...``, ``rest``) for a balanced block outside quotes; (None,
    text) when ``text`` does not start with ``open_ch``.

    >>> take_block("{a='}',b={c}}x", "{", "}")
    ("a='}',b={c}", 'x')
    """
    if not text.startswith(open_ch):
        return None, text
    depth = 0
    quote = False
    for m in _BLOCK_SPECIAL[open_ch, close_ch].finditer(text):  # only the specials
        ch = m.group()
        if ch == "'":
            quote = not quote
        elif quote:
            continue
        elif ch == open_ch:
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                i = m.start()
                return text[1:i], text[i + 1:]
    raise DialStringError("INVALID_URL", f"unbalanced {open_ch}{close_ch} in {text!r}")
