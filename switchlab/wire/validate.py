"""Checks for every value a client puts on the wire (client side, sans I/O).

One module holds the rules; the command encoders (:mod:`.commands`), the dial
string builder (:mod:`.dialstring`), sessions, the originator and the CLI call
these functions. Each returns the value it accepted (so calls chain) and
raises :class:`~switchlab.errors.CommandError` (a ``ValueError``) whose
message names the value, says why it is refused and what to write instead.

Why so strict: a line break ends an ESL command and would inject another one;
whitespace splits ``originate`` arguments; ``{``, ``}``, ``,``, ``[`` or quotes
break out of a dial string's variable block and change what FreeSWITCH runs.

>>> check_word("uuid", "4f2c-11")
'4f2c-11'
>>> check_dest("Fred@[::1]:5080")
'Fred@[::1]:5080'
>>> check_proxy("sip:127.0.0.1:5070")
'127.0.0.1:5070'
>>> check_var_name("origination_uuid")
'origination_uuid'
>>> format_value("ignore_early_media", True)
'true'
>>> check_word("uuid", "two words")
Traceback (most recent call last):
...
switchlab.errors.CommandError: uuid 'two words' must be one non-empty word without whitespace
"""
from __future__ import annotations

import re

from ..errors import CommandError

__all__ = ["check_app_arg", "check_app_name", "check_dest", "check_line", "check_profile",
           "check_proxy", "check_uuid", "check_var_name", "check_word", "format_value"]

_DEST = re.compile(r"[A-Za-z0-9\-._~!*+=$@:;/?%#]+")
_V6_DEST = re.compile(r"([^@\[\]]*@)\[[0-9A-Fa-f:.]+\]([^\[\]]*)")
_PROFILE = re.compile(r"[A-Za-z0-9_.\-]+(/[A-Za-z0-9_.\-]+)?")
_PROXY = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.\-]+)(:\d{1,5})?"
                    r"(;[A-Za-z0-9_\-]+(=[A-Za-z0-9_.\-]+)?)*")
_VAR_NAME = re.compile(r"[A-Za-z0-9_.\-]+")
_APP = re.compile(r"[A-Za-z0-9_]+")
_UNESCAPED_COMMA = re.compile(r"(?<!\\),")

_WHY = {
    "\n": "a line break ends the ESL command and would inject another one",
    "\r": "a line break ends the ESL command and would inject another one",
    "\x00": "a NUL byte truncates the command",
}


def _reason(value: str, extra: str) -> str:
    """Why ``value`` is refused: the first rule it breaks (``extra``: forbidden characters)."""
    for ch, why in _WHY.items():
        if ch in value:
            return why
    if any(c.isspace() for c in value):
        return "whitespace would split the originate arguments"
    bad = sorted({c for c in value if c in extra})
    if bad:
        return f"character(s) {' '.join(map(repr, bad))} would break out of the dial string"
    return "it contains characters that are not allowed here"


def check_line(what: str, value: str) -> str:
    """A value that must stay on one line (no CR, LF or NUL).

    >>> check_line("filter value", "CHANNEL_ANSWER")
    'CHANNEL_ANSWER'
    """
    if not isinstance(value, str):
        raise CommandError(f"{what} must be a str, not {type(value).__name__}")
    if "\n" in value or "\r" in value:
        raise CommandError(
            f"{what} {value[:60]!r} contains a line break, which would end the ESL command "
            "early and inject another one; remove it")
    if "\x00" in value:
        raise CommandError(f"{what} {value[:60]!r} contains a NUL byte; remove it")
    return value


def check_word(what: str, value: str) -> str:
    """One non-empty word: a line value without whitespace (event names, causes, ...).

    >>> check_word("hangup cause", "USER_BUSY")
    'USER_BUSY'
    """
    check_line(what, value)
    if not value or any(c.isspace() for c in value):
        raise CommandError(f"{what} {value!r} must be one non-empty word without whitespace")
    return value


def check_uuid(value: str, what: str = "uuid") -> str:
    """A channel or job uuid (any one word: FreeSWITCH accepts custom uuids).

    >>> check_uuid("a5d1-77")
    'a5d1-77'
    """
    return check_word(what, value)


def check_dest(dest: str) -> str:
    """A destination such as ``Fred@127.0.0.1:5080`` (``user@host[:port][;params]``);
    an IPv6 host goes in brackets: ``Fred@[::1]:5080``.

    >>> check_dest("answer@127.0.0.1:5080")
    'answer@127.0.0.1:5080'
    """
    if not isinstance(dest, str) or not dest:
        raise CommandError(f"destination {dest!r} must be a non-empty str like "
                           "'Fred@127.0.0.1:5080'")
    m = _V6_DEST.fullmatch(dest)  # user@[v6]:port: the only place a bracket is fine
    parts = [p for p in m.groups() if p] if m else [dest]
    if not all(_DEST.fullmatch(p) for p in parts):
        raise CommandError(f"destination {dest!r} is refused: "
                           f"{_reason(dest, '{}[]<>,|^&()' + chr(34) + chr(39) + chr(92) + chr(96))}")
    return dest


def check_profile(profile: str) -> str:
    """A sofia profile name (``external``) or ``gateway/<name>``.

    >>> check_profile("gateway/carrier1")
    'gateway/carrier1'
    """
    if not isinstance(profile, str) or not _PROFILE.fullmatch(profile):
        raise CommandError(f"profile {profile!r} is refused: a profile is one word such as "
                           f"'external' (or 'gateway/NAME'); {_reason(str(profile), '{}[],/&')}")
    return profile


def check_proxy(proxy: str) -> str:
    """A first-hop proxy ``host[:port][;param=value...]``; returns it without ``sip:``.
    An IPv6 host goes in brackets (``[::1]:5070``).

    >>> check_proxy("[::1]:5070")
    '[::1]:5070'
    """
    if not isinstance(proxy, str):
        raise CommandError(f"proxy {proxy!r} must be a str like '127.0.0.1:5070'")
    bare = proxy[4:] if proxy.startswith("sip:") else proxy
    if not _PROXY.fullmatch(bare):
        raise CommandError(f"proxy {proxy!r} is refused: expected host[:port] such as "
                           f"'127.0.0.1:5070' or '[::1]:5070'; {_reason(bare, '{}[],@&|')}")
    return bare


def check_var_name(name: str) -> str:
    """A channel variable name: letters, digits, ``_``, ``-`` and ``.``.

    >>> check_var_name("sip_h_X-Test")
    'sip_h_X-Test'
    """
    if not isinstance(name, str) or not _VAR_NAME.fullmatch(name):
        raise CommandError(f"variable name {name!r} is refused: use letters, digits, '_', '-' "
                           f"and '.' only; {_reason(str(name), '{}[]=,')}")
    return name


def check_app_name(app: str) -> str:
    """A dialplan application name: one word of letters, digits and ``_``.

    >>> check_app_name("park")
    'park'
    """
    if not isinstance(app, str) or not _APP.fullmatch(app):
        raise CommandError(f"application {app!r} must be one word such as 'park'")
    return app


def check_app_arg(arg: str) -> str:
    """The argument of an application run by ``originate ... &app(arg)`` (may be empty).

    >>> check_app_arg("silence_stream://1000")
    'silence_stream://1000'
    """
    if arg and (not isinstance(arg, str) or not _DEST.fullmatch(arg)):
        raise CommandError(f"application argument {arg!r} is refused: "
                           f"{_reason(str(arg), '{}[]<>,|^&()')}")
    return arg


def format_value(name: str, value: object) -> str:
    """A variable value as text, refused if it could leave the ``{...}`` block.

    >>> format_value("sip_h_X-List", "a\\\\,b")
    'a\\\\,b'
    """
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (int, float)):
        text = str(value)
    elif isinstance(value, str):
        text = value
    else:
        raise CommandError(f"variable {name}: value {value!r} must be a str, int, float or bool")
    why = None
    if any(c in text for c in "\r\n\x00"):
        why = _reason(text, "")
    elif "}" in text or "{" in text:
        why = "'{' or '}' would end the variable block and let the rest run as a dial string"
    elif _UNESCAPED_COMMA.search(text):
        why = "an unescaped ',' starts another variable; write it as '\\,'"
    elif any(c.isspace() for c in text):
        why = _reason(text, "")
    elif any(c in text for c in "'\"`"):
        why = "quotes would regroup the originate arguments"
    elif text.startswith("^^"):
        why = "a leading '^^' changes FreeSWITCH's list separator"
    elif text.endswith("\\"):
        why = "a trailing backslash would escape the next separator"
    if why:
        raise CommandError(f"variable {name}: value {text!r} is refused: {why}")
    return text
