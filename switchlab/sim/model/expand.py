"""FreeSWITCH's ``switch_channel_expand_variables`` for application arguments:
``${name}`` becomes the channel variable ``name``, else the global one, else
nothing (``$${name}`` is expanded when the XML is loaded, so it is left alone).

>>> expand("${recordings_dir}/take.wav", {}.get, {"recordings_dir": "/rec"})
'/rec/take.wav'
>>> expand("${nosuch}x ${a}", {"a": "1"}.get, {})
'x 1'
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping

_VAR = re.compile(r"(?<!\$)\$\{([^${}]+)\}")


def expand(text: str, channel_var: Callable[[str], str | None],
           global_vars: Mapping[str, str]) -> str:
    """``text`` with every ``${name}`` replaced (``channel_var(name)`` first: a channel's
    ``get_var``)."""
    if "${" not in text:
        return text

    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        value = channel_var(name)
        return value if value is not None else global_vars.get(name, "")
    return _VAR.sub(sub, text)
