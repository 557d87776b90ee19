"""``originate`` parsed once per *shape* (server side, sans I/O).

A load test sends the same ``originate`` again and again but for its uuids
(``origination_uuid``, the call-tracking variable, a ``Job-UUID`` elsewhere):
switchlab's own command holds two. :func:`parse_originate_shaped` parses a
command whose uuids are replaced by placeholders once, remembers the result
by that shape, and gives each command the remembered request with its own
uuids put back: the same :class:`~.dialstring.OriginateRequest` as
:func:`~.dialstring.parse_originate` (``tests/test_wire_dialshape.py``) for a
fraction of the work (a uuid is hex digits and dashes, which no rule of the
parser looks at). A shape whose uuids end up anywhere but in variable values
(a uuid as the endpoint's user, say) is parsed in full every time. The
requests of one shape share their :class:`~.dialstring.Endpoint` (read it,
do not change it); their variable dicts are their own.

>>> a = parse_originate_shaped("{origination_uuid=0b0e6a3c-1f1e-4a8e-9d0d-4c7f1f8e2a11}"
...                            "sofia/external/answer@127.0.0.1:5080 &park()")
>>> b = parse_originate_shaped("{origination_uuid=5d1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b}"
...                            "sofia/external/answer@127.0.0.1:5080 &park()")
>>> a.variables["origination_uuid"], b.variables["origination_uuid"], b.endpoint.user
('0b0e6a3c-1f1e-4a8e-9d0d-4c7f1f8e2a11', '5d1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b', 'answer')
"""
from __future__ import annotations

import dataclasses
import re

from .dialstring import OriginateRequest, parse_originate

__all__ = ["parse_originate_shaped"]

#: a uuid as FreeSWITCH and switchlab write them (any case); captured for split()
_UUID = re.compile(r"([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}"
                   r"-[0-9a-fA-F]{12})")
#: the placeholder of the i-th uuid of a command: uuid-shaped, so parsed alike
_PREFIX = "00000000-0000-0000-0000-"
_PLACEHOLDERS = tuple(f"{_PREFIX}{i:012d}" for i in range(16))

# shape (the command's text between its uuids) -> the request parsed from the shape,
# or None: the shape's uuids are not only in variable values (parse in full)
_SHAPES: dict[tuple[str, ...], OriginateRequest | None] = {}
_SHAPES_MAX = 256


def parse_originate_shaped(arg: str) -> OriginateRequest:
    """:func:`~.dialstring.parse_originate` of ``arg``, reusing the parse of an
    earlier command that differed only in its uuids; raises
    :class:`~.dialscan.DialStringError` as it does."""
    parts = _UUID.split(arg)
    n = len(parts) >> 1  # the uuids are parts[1::2]
    if n > len(_PLACEHOLDERS):
        return parse_originate(arg)
    shape = tuple(parts[0::2])
    try:
        template = _SHAPES[shape]
    except KeyError:
        template = _learn(shape, n)
    if template is None:
        return parse_originate(arg)
    req = object.__new__(OriginateRequest)
    req.__dict__.update(template.__dict__)
    req.raw = arg
    real = dict(zip(_PLACEHOLDERS, parts[1::2]))
    req.variables = _put_back(template.variables, real)
    req.leg_variables = _put_back(template.leg_variables, real)
    return req


def _learn(shape: tuple[str, ...], n: int) -> OriginateRequest | None:
    """Parse the shape (placeholders for its uuids) and remember it. A shape
    that does not parse is not remembered: the command itself is parsed, for
    its own error message."""
    text = shape[0] + "".join(_PLACEHOLDERS[i] + shape[i + 1] for i in range(n))
    try:
        template = parse_originate(text)
    except ValueError:  # DialStringError: parse the real command, for its message
        return None
    used = _PLACEHOLDERS[:n]
    rest = repr(dataclasses.replace(template, variables={}, leg_variables={}, raw=""))
    names = "".join(template.variables) + "".join(template.leg_variables)
    if any(p in rest or p in names for p in used):
        kept: OriginateRequest | None = None  # a uuid outside the values: parse in full
    else:
        kept = template
    if len(_SHAPES) >= _SHAPES_MAX:
        _SHAPES.clear()
    _SHAPES[shape] = kept
    return kept


def _put_back(values: dict[str, str], real: dict[str, str]) -> dict[str, str]:
    """A copy of ``values`` with each placeholder replaced by its command's uuid."""
    out = {}
    for name, value in values.items():
        got = real.get(value)
        if got is None and _PREFIX in value:
            for placeholder, uuid in real.items():
                value = value.replace(placeholder, uuid)
            got = value
        out[name] = value if got is None else got
    return out
