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

import ipaddress
import re
from collections.abc import Iterable

from ..errors import CommandError

__all__ = ["check_app_arg", "check_app_name", "check_dest", "check_host", "check_line",
           "check_profile", "check_proxy", "check_sip_dest", "check_sip_user", "check_uuid",
           "check_var_name", "check_word", "format_value"]

_DEST = re.compile(r"[A-Za-z0-9\-._~!*+=$@:;/?%#]+")
_V6_DEST = re.compile(r"([^@\[\]]*@)\[[0-9A-Fa-f:.]+\]([^\[\]]*)")
_PROFILE = re.compile(r"[A-Za-z0-9_.\-]+(/[A-Za-z0-9_.\-]+)?")
#: ``host[:port]`` then ``;params``: the host bracketed (IPv6) or without ``:;[]@``
_HOSTPORT = re.compile(r"(?P<host>\[[^\]]*\]|[^:;\[\]@]*)(?::(?P<port>[^;]*))?(?P<params>;.*)?",
                       re.DOTALL)
_LABEL = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_\-]*")
#: a URI parameter FreeSWITCH routes on: ``;name=value`` (or the loose-routing flag ``;lr``)
_PARAM = re.compile(r"[A-Za-z0-9_\-.]+=[A-Za-z0-9_.\-]+|lr")
_SIP_USER = re.compile(r"[A-Za-z0-9\-_.!~*+=$%#]+")
_VAR_NAME = re.compile(r"[A-Za-z0-9_.\-]+")
_APP = re.compile(r"[A-Za-z0-9_]+")
_UNESCAPED_COMMA = re.compile(r"(?<!\\),")
#: the first character for which ``str.isspace()`` is true (``\s`` is that same set for str)
_SPACE = re.compile(r"\s").search

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
    if _SPACE(value):
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
    if not value or _SPACE(value):
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


def _host_problem(host: str) -> str | None:
    """Why ``host`` is not a host name, IPv4 or (bracketed) IPv6 address, or None."""
    if not host:
        return "it is empty; give a host name or IP address such as '127.0.0.1' or '[::1]'"
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if ":" in bare or bare != host:
        try:
            ipaddress.IPv6Address(bare)
        except ValueError:
            return "it is not a valid IPv6 address; write it in brackets such as '[::1]'"
        return None
    if re.fullmatch(r"[0-9.]+", bare):
        try:
            ipaddress.IPv4Address(bare)
        except ValueError:
            return "it is not a valid IPv4 address; write 4 numbers 0-255 such as '127.0.0.1'"
        return None
    labels = bare[:-1].split(".") if bare.endswith(".") else bare.split(".")
    if len(bare) > 253 or not all(_LABEL.fullmatch(label) and len(label) <= 63
                                  for label in labels):
        return ("it is not a valid host name: use letters, digits, '-' and '.' (e.g. "
                f"'fs1.example.com') or an IP address; {_reason(host, '{}[],@&|;:/')}")
    return None


def check_host(what: str, host: str) -> str:
    """A host name, IPv4 address or IPv6 address (bracketed or not).

    >>> check_host("host", "fs1.example.com"), check_host("host", "[::1]")
    ('fs1.example.com', '[::1]')
    >>> check_host("proxy host", "999.1.1.1")
    Traceback (most recent call last):
    ...
    switchlab.errors.CommandError: proxy host '999.1.1.1' is refused: it is not a valid IPv4 address; write 4 numbers 0-255 such as '127.0.0.1'
    """
    why = _host_problem(host) if isinstance(host, str) else "it is not a str"
    if why:
        raise CommandError(f"{what} {host!r} is refused: {why}")
    return host


def _hostport(what: str, text: str, example: str, shown: str | None = None
              ) -> tuple[str, int | None, str]:
    """Split and check ``host[:port][;name=value...]`` → (host, port, params);
    messages quote ``shown`` (default ``text``)."""
    m = _HOSTPORT.fullmatch(text)
    if not m:
        raise CommandError(f"{what} {text!r} is refused: expected {example}; "
                           f"{_reason(text, '{}[],@&|')}")
    host, port_text, params = m.group("host"), m.group("port"), m.group("params") or ""
    text = text if shown is None else shown
    if port_text is not None and ":" in port_text:
        raise CommandError(f"{what} {text!r} is refused: expected {example} (an IPv6 "
                           "address goes in brackets)")
    why = _host_problem(host)
    if why:
        raise CommandError(f"{what} {text!r} is refused: host {host!r}: {why}")
    port = None
    if port_text is not None:
        if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
            raise CommandError(f"{what} {text!r}: port {port_text!r} must be a number "
                               f"1-65535; expected {example}")
        port = int(port_text)
    for param in params.split(";")[1:]:
        if not _PARAM.fullmatch(param):
            raise CommandError(f"{what} {text!r}: parameter ';{param}' is refused: FreeSWITCH "
                               f"routes only ';name=value' parameters (e.g. ';transport=tcp'); "
                               f"expected {example}")
    return host, port, params


def check_proxy(proxy: str) -> str:
    """A first-hop proxy ``host[:port][;name=value...]``; returns it without ``sip:``.
    An IPv6 host goes in brackets (``[::1]:5070``).

    >>> check_proxy("[::1]:5070")
    '[::1]:5070'
    >>> check_proxy("x;y")
    Traceback (most recent call last):
    ...
    switchlab.errors.CommandError: proxy 'x;y': parameter ';y' is refused: FreeSWITCH routes only ';name=value' parameters (e.g. ';transport=tcp'); expected host[:port] such as '127.0.0.1:5070' or '[::1]:5070'
    """
    if not isinstance(proxy, str):
        raise CommandError(f"proxy {proxy!r} must be a str like '127.0.0.1:5070'")
    bare = proxy[4:] if proxy.startswith("sip:") else proxy
    _hostport("proxy", bare, "host[:port] such as '127.0.0.1:5070' or '[::1]:5070'")
    return bare


def check_listen_address(text: str, what: str = "listen address") -> tuple[str, int]:
    """``host:port`` to listen on (``[v6]:port``; port 0: any free port).

    >>> check_listen_address("127.0.0.1:8084"), check_listen_address("[::1]:0")
    (('127.0.0.1', 8084), ('::1', 0))
    >>> check_listen_address("127.0.0.1")
    Traceback (most recent call last):
    ...
    switchlab.errors.CommandError: listen address '127.0.0.1' is refused: expected host:port such as '127.0.0.1:8084' or '[::1]:8084'
    """
    example = "host:port such as '127.0.0.1:8084' or '[::1]:8084'"
    if not isinstance(text, str):
        raise CommandError(f"{what} {text!r} must be a str: {example}")
    host, sep, port = text.rpartition(":")
    if not sep or not host or (":" in host and not host.startswith("[")):
        raise CommandError(f"{what} {text!r} is refused: expected {example}")
    why = _host_problem(host)
    if why:
        raise CommandError(f"{what} {text!r} is refused: host {host!r}: {why}")
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise CommandError(f"{what} {text!r}: port {port!r} must be a number 0-65535 "
                           "(0: any free port)")
    return host.strip("[]"), int(port)


def check_acl(entries: Iterable[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The networks of an ACL (``"10.0.0.0/8"``, ``"192.0.2.7"``, ``"::1"``).

    >>> [str(n) for n in check_acl(["10.0.0.0/8", "192.0.2.7"])]
    ['10.0.0.0/8', '192.0.2.7/32']
    """
    out: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for item in entries:
        try:
            out.append(ipaddress.ip_network(str(item).strip(), strict=False))
        except ValueError:
            raise CommandError(f"ACL entry {item!r} is not an IP address or network "
                               "(e.g. 10.0.0.0/8 or 192.0.2.7)") from None
    return out


def check_sip_user(user: str, what: str = "destination user") -> str:
    """The user part of a SIP URI (``Fred``, ``+15551234``, ``*98``).

    >>> check_sip_user("+1555")
    '+1555'
    """
    if not isinstance(user, str) or not _SIP_USER.fullmatch(user):
        raise CommandError(f"{what} {user!r} is refused: use letters, digits and "
                           f"- _ . ! ~ * + = $ % # only (e.g. 'switchlab' or '+15551234'); "
                           f"{_reason(str(user), '{}[]<>,|^&()@:;/?' + chr(34) + chr(39))}")
    return user


def check_sip_dest(dest: str, what: str = "destination") -> str:
    """A SIP destination ``user@host[:port][;name=value...]``, checked part by part.

    >>> check_sip_dest("Fred@[::1]:5080")
    'Fred@[::1]:5080'
    """
    if not isinstance(dest, str) or "@" not in dest:
        raise CommandError(f"{what} {dest!r} is refused: expected user@host[:port] such as "
                           "'Fred@127.0.0.1:5080'")
    user, _, hostport = dest.partition("@")
    check_sip_user(user, f"{what} user")
    _hostport(what, hostport, "user@host[:port] such as 'Fred@127.0.0.1:5080'", dest)
    return check_dest(dest)


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


#: a value made only of these characters passes every check of format_value
_PLAIN_VALUE = re.compile(r"[A-Za-z0-9_.:@+/=;-]*").fullmatch


def format_value(name: str, value: object) -> str:
    """A variable value as text, refused if it could leave the ``{...}`` block.

    >>> format_value("sip_h_X-List", "a\\\\,b")
    'a\\\\,b'
    """
    if type(value) is str and _PLAIN_VALUE(value):  # the common case (uuids, ids, numbers)
        return value
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
    elif _SPACE(text):
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
