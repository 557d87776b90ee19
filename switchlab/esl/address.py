"""Where FreeSWITCH's event socket is: ``"host"``, ``"host:port"``, ``"[v6]:port"``."""
from __future__ import annotations

import re

__all__ = ["DEFAULT_PORT", "format_address", "parse_address"]

#: mod_event_socket's default listen-port
DEFAULT_PORT = 8021

_BRACKETED = re.compile(r"\[([0-9A-Fa-f:.]+)\](?::(\d+))?")


def _as_port(value: int | str, what: str) -> int:
    try:
        p = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} {value!r} is not a port number") from None
    if not 0 < p < 65536:
        raise ValueError(f"{what} {p} is out of range 1..65535")
    return p


def parse_address(host: str, port: int | str | None = None) -> tuple[str, int]:
    """Split ``"host"``, ``"host:port"`` or ``"[v6]:port"`` into ``(host, port)``.

    An explicit ``port`` argument wins over none in ``host``; both given and
    different is an error.

    >>> parse_address("127.0.0.1:8022")
    ('127.0.0.1', 8022)
    >>> parse_address("fs1", "8021")
    ('fs1', 8021)
    >>> parse_address("[::1]:8021")
    ('::1', 8021)
    """
    if not isinstance(host, str) or not host.strip():
        raise ValueError(f"host must be a non-empty str like '127.0.0.1' or '127.0.0.1:8021', got {host!r}")
    host = host.strip()
    in_host: str | None = None
    m = _BRACKETED.fullmatch(host)
    if m:
        host, in_host = m.group(1), m.group(2)
    elif host.count(":") == 1:
        host, in_host = host.split(":")
    if any(c.isspace() for c in host) or not host:
        raise ValueError(f"host {host!r} is not a valid host name or address")
    if in_host is not None:
        p = _as_port(in_host, "port in host")
        if port is not None and _as_port(port, "port") != p:
            raise ValueError(f"host {host}:{p} and port={port} disagree; give the port once")
        return host, p
    return host, _as_port(port, "port") if port is not None else DEFAULT_PORT


def format_address(host: str, port: int) -> str:
    """``host:port`` as used in messages (IPv6 in brackets).

    >>> format_address("::1", 8021), format_address("fs1", 8021)
    ('[::1]:8021', 'fs1:8021')
    """
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
