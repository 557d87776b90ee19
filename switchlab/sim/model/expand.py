"""FreeSWITCH's ``switch_channel_expand_variables`` for application arguments:
``${name}`` becomes the channel variable ``name``, else the global one, else
nothing (``$${name}`` is expanded when the XML is loaded, so it is left alone).

>>> expand("${recordings_dir}/take.wav", {}, {"recordings_dir": "/rec"})
'/rec/take.wav'
>>> expand("${nosuch}x ${a}", {"a": "1"}, {})
'x 1'
"""
from __future__ import annotations

import re
from collections.abc import Mapping

_VAR = re.compile(r"(?<!\$)\$\{([^${}]+)\}")


def expand(text: str, channel_vars: Mapping[str, str], global_vars: Mapping[str, str]) -> str:
    """``text`` with every ``${name}`` replaced (channel variables first)."""
    if "${" not in text:
        return text

    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        value = channel_vars.get(name)
        return value if value is not None else global_vars.get(name, "")
    return _VAR.sub(sub, text)
