"""Safe building of FreeSWITCH dial strings (``originate``, ``bridge``).

Every piece is checked before it is joined: a newline would end the ESL
command and start another one (command injection), and characters such as
``}``, ``,``, whitespace, quotes or ``[``/``{`` would break out of the
variable block or the dial string and change what FreeSWITCH runs. Such
values raise :class:`~switchlab.errors.CommandError` (a ``ValueError``) that
names the value and says why; nothing is escaped silently except through the
explicit ``\\,`` that FreeSWITCH itself understands.

>>> originate_string("Fred@127.0.0.1:5080", vars={"origination_uuid": "u1"})
'originate {origination_uuid=u1}sofia/external/Fred@127.0.0.1:5080 &park()'
>>> originate_string("x@h", proxy="127.0.0.1:5070")
'originate sofia/external/x@h;fs_path=sip:127.0.0.1:5070 &park()'
"""
from __future__ import annotations

import re
from collections.abc import Mapping

from ..errors import CommandError

_DEST = re.compile(r"[A-Za-z0-9\-._~!*+=$@:;/?%#]+")
_V6_DEST = re.compile(r"([^@\[\]]*@)\[[0-9A-Fa-f:.]+\]([^\[\]]*)")
_PROFILE = re.compile(r"[A-Za-z0-9_.\-]+(/[A-Za-z0-9_.\-]+)?")
_PROXY = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.\-]+)(:\d{1,5})?"
                    r"(;[A-Za-z0-9_\-]+(=[A-Za-z0-9_.\-]+)?)*")
_VAR_NAME = re.compile(r"[A-Za-z0-9_.\-]+")
_APP = re.compile(r"[A-Za-z0-9_]+")

_WHY = {
    "\n": "a line break ends the ESL command and would inject another one",
    "\r": "a line break ends the ESL command and would inject another one",
    "\x00": "a NUL byte truncates the command",
}


def _reason(value: str, extra: str) -> str:
    for ch, why in _WHY.items():
        if ch in value:
            return why
    if any(c.isspace() for c in value):
        return "whitespace would split the originate arguments"
    bad = sorted({c for c in value if c in extra})
    if bad:
        return f"character(s) {' '.join(map(repr, bad))} would break out of the dial string"
    return "it contains characters that are not allowed here"


def check_dest(dest: str) -> str:
    """A destination such as ``Fred@127.0.0.1:5080`` (SIP URI user@host[:port][;params])."""
    if not isinstance(dest, str) or not dest:
        raise CommandError(f"destination {dest!r} must be a non-empty str like 'Fred@127.0.0.1:5080'")
    m = _V6_DEST.fullmatch(dest)  # user@[v6]:port: the only place a bracket is fine
    parts = [p for p in m.groups() if p] if m else [dest]
    if not all(_DEST.fullmatch(p) for p in parts):
        raise CommandError(f"destination {dest!r} is refused: "
                           f"{_reason(dest, '{}[]<>,|^&()' + chr(34) + chr(39) + chr(92) + chr(96))}")
    return dest


def check_profile(profile: str) -> str:
    """A sofia profile name (``external``) or ``gateway/<name>``."""
    if not isinstance(profile, str) or not _PROFILE.fullmatch(profile):
        raise CommandError(f"profile {profile!r} is refused: a profile is one word such as "
                           f"'external' (or 'gateway/NAME'); {_reason(str(profile), '{}[],/&')}")
    return profile


def check_proxy(proxy: str) -> str:
    """A first-hop proxy ``host[:port][;param=value...]`` (``sip:`` prefix optional)."""
    if not isinstance(proxy, str):
        raise CommandError(f"proxy {proxy!r} must be a str like '127.0.0.1:5070'")
    bare = proxy[4:] if proxy.startswith("sip:") else proxy
    if not _PROXY.fullmatch(bare):
        raise CommandError(f"proxy {proxy!r} is refused: expected host[:port] such as "
                           f"'127.0.0.1:5070'; {_reason(bare, '{}[],@&|')}")
    return bare


def check_var_name(name: str) -> str:
    if not isinstance(name, str) or not _VAR_NAME.fullmatch(name):
        raise CommandError(f"variable name {name!r} is refused: use letters, digits, '_', '-' "
                           f"and '.' only; {_reason(str(name), '{}[]=,')}")
    return name


def format_value(name: str, value: object) -> str:
    """A variable value as text, refused if it could leave the ``{...}`` block."""
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
    elif re.search(r"(?<!\\),", text):
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


def var_block(vars: Mapping[str, object] | None) -> str:
    """``{name=value,...}`` (empty string for no variables)."""
    if not vars:
        return ""
    return "{" + ",".join(f"{check_var_name(k)}={format_value(k, v)}" for k, v in vars.items()) + "}"


def sofia_url(dest: str, profile: str = "external", proxy: str | None = None) -> str:
    """``sofia/<profile>/<dest>[;fs_path=sip:<proxy>]``."""
    url = f"sofia/{check_profile(profile)}/{check_dest(dest)}"
    if proxy:
        url += f";fs_path=sip:{check_proxy(proxy)}"
    return url


def originate_string(dest: str, profile: str = "external", proxy: str | None = None,
                     vars: Mapping[str, object] | None = None, app: str = "park",
                     app_arg: str = "") -> str:
    """The whole ``originate {vars}sofia/<profile>/<dest>[;fs_path=sip:<proxy>] &<app>(<arg>)``."""
    if not isinstance(app, str) or not _APP.fullmatch(app):
        raise CommandError(f"application {app!r} must be one word such as 'park'")
    if app_arg and (not _DEST.fullmatch(app_arg)):
        raise CommandError(f"application argument {app_arg!r} is refused: "
                           f"{_reason(app_arg, '{}[]<>,|^&()')}")
    return f"originate {var_block(vars)}{sofia_url(dest, profile, proxy)} &{app}({app_arg})"
