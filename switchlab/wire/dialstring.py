"""Dial strings, both ways: the client builds them, the emulator parses them (sans I/O).

Building (client side): :func:`originate_string`, :func:`sofia_url` and
:func:`var_block` check every piece with :mod:`.validate` before joining it, so
a value cannot end the ESL command or break out of the dial string.

Parsing (server side, the emulator's ``originate`` and ``bridge``):
``originate <call_url> <exten>|&<app>(<args>) [<dialplan>] [<context>] [<cid_name>] [<cid_num>] [<timeout_sec>]``.
A call URL may start with ``{var=value,...}`` (variables for the call); each
leg may have its own ``[var=value,...]``. Endpoints understood:
``sofia/<profile>/<user>@<host>[:<port>][;fs_path=sip:<proxy>]`` (an IPv6 host
in brackets), ``loopback/<exten>[/<context>[/<dialplan>]]`` and
``error/<cause>``. Several legs (``,`` or ``|``) are accepted; the first one is
dialled.

>>> originate_string("Fred@127.0.0.1:5080", vars={"origination_uuid": "u1"})
'originate {origination_uuid=u1}sofia/external/Fred@127.0.0.1:5080 &park()'
>>> originate_string("x@h", proxy="127.0.0.1:5070")
'originate sofia/external/x@h;fs_path=sip:127.0.0.1:5070 &park()'
>>> req = parse_originate("{origination_uuid=u1,a='x,y'}sofia/external/answer@127.0.0.1:5080 &park()")
>>> req.variables, req.endpoint.kind, req.endpoint.user, req.app
({'origination_uuid': 'u1', 'a': 'x,y'}, 'sofia', 'answer', 'park')
>>> parse_originate("sofia/external/x@[::1]:5080 &park()").endpoint.host
'::1'
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from dataclasses import dataclass, field

from .dialscan import DialStringError, parse_vars, split_args, take_block
from .validate import (
    check_app_arg,
    check_app_name,
    check_dest,
    check_profile,
    check_proxy,
    check_var_name,
    format_value,
)

__all__ = ["ORIGINATE_USAGE", "DialStringError", "Endpoint", "OriginateRequest",
           "originate_string", "parse_call_url", "parse_endpoint", "parse_hostport",
           "parse_originate", "parse_sip_uri", "parse_vars", "sofia_url", "split_args",
           "var_block"]


# -- building (client) ---------------------------------------------------------------------
def var_block(vars: Mapping[str, object] | None) -> str:
    """``{name=value,...}`` (empty string for no variables).

    >>> var_block({"a": 1, "b": True})
    '{a=1,b=true}'
    """
    if not vars:
        return ""
    return "{" + ",".join(f"{check_var_name(k)}={format_value(k, v)}"
                          for k, v in vars.items()) + "}"


def sofia_url(dest: str, profile: str = "external", proxy: str | None = None) -> str:
    """``sofia/<profile>/<dest>[;fs_path=sip:<proxy>]``.

    >>> sofia_url("x@[::1]:5080", proxy="[::1]:5070")
    'sofia/external/x@[::1]:5080;fs_path=sip:[::1]:5070'
    """
    if type(dest) is str and type(profile) is str and (proxy is None or type(proxy) is str):
        return _checked_sofia_url(dest, profile, proxy)  # a load test repeats the same few
    return _sofia_url(dest, profile, proxy)


def _sofia_url(dest: str, profile: str, proxy: str | None) -> str:
    url = f"sofia/{check_profile(profile)}/{check_dest(dest)}"
    if proxy:
        url += f";fs_path=sip:{check_proxy(proxy)}"
    return url


_checked_sofia_url = lru_cache(maxsize=1024)(_sofia_url)


def originate_string(dest: str, profile: str = "external", proxy: str | None = None,
                     vars: Mapping[str, object] | None = None, app: str = "park",
                     app_arg: str = "") -> str:
    """The whole ``originate {vars}sofia/<profile>/<dest>[;fs_path=sip:<proxy>] &<app>(<arg>)``."""
    check_app_name(app)
    check_app_arg(app_arg)
    return f"originate {var_block(vars)}{sofia_url(dest, profile, proxy)} &{app}({app_arg})"


# -- parsing (emulator) --------------------------------------------------------------------
ORIGINATE_USAGE = ("-USAGE: <call url> <exten>|&<application_name>(<app_args>) [<dialplan>] "
                   "[<context>] [<cid_name>] [<cid_num>] [<timeout_sec>]\n")


@dataclass
class Endpoint:
    """One leg's endpoint, e.g. ``sofia/external/1000@127.0.0.1:5080``."""

    kind: str
    text: str
    profile: str = ""
    user: str = ""
    host: str = ""
    port: int | None = None
    params: dict[str, str] = field(default_factory=dict)
    proxy: tuple[str, int] | None = None
    context: str = "default"
    dialplan: str = "XML"
    cause: str = ""

    @property
    def hostport(self) -> str:
        """``host[:port]`` as written in a SIP URI (an IPv6 host in brackets)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}" if self.port is not None else host


@dataclass
class OriginateRequest:
    """A parsed ``originate`` command."""

    variables: dict[str, str]
    leg_variables: dict[str, str]
    endpoint: Endpoint
    app: str | None = None
    app_args: str = ""
    exten: str | None = None
    dialplan: str = "XML"
    context: str = "default"
    cid_name: str | None = None
    cid_num: str | None = None
    timeout: int | None = None
    raw: str = ""

    def var(self, name: str, default: str | None = None) -> str | None:
        if name in self.leg_variables:
            return self.leg_variables[name]
        return self.variables.get(name, default)

    def all_variables(self) -> dict[str, str]:
        out = dict(self.variables)
        out.update(self.leg_variables)
        return out


def parse_hostport(text: str, default_port: int | None = None) -> tuple[str, int | None]:
    """``host[:port]`` -> ``(host, port)``; a bracketed IPv6 host loses its brackets.

    >>> parse_hostport("[::1]:5080"), parse_hostport("h"), parse_hostport("[::1]")
    (('::1', 5080), ('h', None), ('::1', None))
    """
    if text.startswith("["):
        end = text.find("]")
        if end > 0:
            host, rest = text[1:end], text[end + 1:]
            if not rest:
                return host, default_port
            if rest[0] == ":" and rest[1:].isdigit():
                return host, int(rest[1:])
    host, sep, port = text.rpartition(":")
    if sep and port.isdigit() and host:
        return host, int(port)
    return text, default_port


def parse_sip_uri(text: str) -> tuple[str, str, int | None, dict[str, str]]:
    """``[sip:]user@host[:port][;params]`` -> (user, host, port, params)."""
    text = text.strip().strip("<>")
    if text.lower().startswith("sips:"):
        text = text[5:]
    elif text.lower().startswith("sip:"):
        text = text[4:]
    main, *param_items = text.split(";")
    params: dict[str, str] = {}
    for item in param_items:
        k, _, v = item.partition("=")
        if k:
            params[k] = v
    user, at, hostpart = main.rpartition("@")
    if not at:
        user, hostpart = "", main
    host, port = parse_hostport(hostpart)
    return user, host, port, params


def parse_endpoint(text: str) -> Endpoint:
    """One leg's endpoint string (after its ``[vars]``)."""
    kind, _, rest = text.partition("/")
    kind = kind.lower()
    if kind == "sofia":
        profile, _, dest = rest.partition("/")
        if profile == "gateway":
            raise DialStringError("INVALID_GATEWAY", f"no gateways are emulated ({text!r})")
        if not profile or not dest:
            raise DialStringError("INVALID_URL", f"sofia endpoint {text!r} lacks profile/dest")
        user, host, port, params = parse_sip_uri(dest)
        proxy = None
        fs_path = params.pop("fs_path", None)
        if fs_path:
            _, phost, pport, _ = parse_sip_uri(fs_path)
            proxy = (phost, pport or 5060)
        return Endpoint("sofia", text, profile=profile, user=user, host=host, port=port,
                        params=params, proxy=proxy)
    if kind == "loopback":
        parts = rest.split("/")
        if not parts or not parts[0]:
            raise DialStringError("INVALID_URL", f"loopback endpoint {text!r} lacks an exten")
        ep = Endpoint("loopback", text, user=parts[0])
        if len(parts) > 1 and parts[1]:
            ep.context = parts[1]
        if len(parts) > 2 and parts[2]:
            ep.dialplan = parts[2]
        return ep
    if kind == "error":
        return Endpoint("error", text, cause=rest or "NORMAL_UNSPECIFIED")
    raise DialStringError("CHAN_NOT_IMPLEMENTED", f"endpoint {kind!r} is not emulated")


_LEG_SPECIAL = re.compile(r"[\[{<\]}>,|]")


def first_leg(legs: str) -> str:
    """The first leg of ``legs`` (up to a ``,`` or ``|`` outside brackets).

    >>> first_leg("[a=1,b=2]sofia/e/x@h,sofia/e/y@h|loopback/1")
    '[a=1,b=2]sofia/e/x@h'
    """
    depth = 0
    for m in _LEG_SPECIAL.finditer(legs):  # only the brackets and separators
        ch = m.group()
        if ch in "[{<":
            depth += 1
        elif ch in "]}>":
            depth -= 1
        elif depth == 0:
            return legs[:m.start()]
    return legs


def parse_call_url(url: str) -> tuple[dict[str, str], dict[str, str], Endpoint]:
    """``{vars}[vars]endpoint,...`` -> (call vars, first leg vars, first endpoint)."""
    variables: dict[str, str] = {}
    block, rest = take_block(url, "{", "}")
    if block is not None:
        variables.update(parse_vars(block))
    block, rest = take_block(rest, "<", ">")
    if block is not None:
        variables.update(parse_vars(block))
    leg = first_leg(rest)
    leg_vars: dict[str, str] = {}
    block, leg = take_block(leg, "[", "]")
    if block is not None:
        leg_vars = parse_vars(block)
    if not leg:
        raise DialStringError("INVALID_URL", f"no endpoint in {url!r}")
    return variables, leg_vars, parse_endpoint(leg)


def parse_originate(arg: str) -> OriginateRequest:
    """Parse the argument of ``originate``; raises :class:`DialStringError`."""
    argv = split_args(arg.strip())
    if len(argv) < 2:
        raise DialStringError("USAGE", "originate needs a call url and a destination")
    variables, leg_vars, endpoint = parse_call_url(argv[0])
    req = OriginateRequest(variables, leg_vars, endpoint, raw=arg)
    target = argv[1]
    if target.startswith("&") and len(target) > 1:
        name = target[1:]
        if "(" in name:
            name, _, args = name.partition("(")
            if args.endswith(")"):
                args = args[:-1]
            req.app_args = args
        elif len(argv) > 2 and not argv[2].isdigit():
            req.app_args = argv[2]
        req.app = name
    else:
        req.exten = target
        if len(argv) > 2:
            req.dialplan = argv[2]
        if len(argv) > 3:
            req.context = argv[3]
    if len(argv) > 4 and argv[4] != "undef":
        req.cid_name = argv[4]
    if len(argv) > 5 and argv[5] != "undef":
        req.cid_num = argv[5]
    if len(argv) > 6 and argv[6].isdigit():
        req.timeout = int(argv[6])
    return req
