"""The event-socket password: checked once, never shown."""
from __future__ import annotations

from ..errors import CommandError

__all__ = ["Secret", "check_password"]


class Secret:
    """Holds the password; its repr and str never show it.

    >>> Secret("ClueCon")
    <hidden>
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The password itself (only for the ``auth`` command)."""
        return self._value

    def __repr__(self) -> str:
        return "<hidden>"

    __str__ = __repr__


def check_password(password: object) -> Secret:
    """A :class:`Secret` for ``password``; refuses what cannot be sent (never echoing it)."""
    if not isinstance(password, str):
        raise CommandError(f"the event-socket password must be a str, not {type(password).__name__}")
    if any(c in password for c in "\r\n\x00"):
        raise CommandError("the event-socket password contains a line break or NUL byte and cannot "
                           "be sent (value not shown); check the password you passed")
    return Secret(password)
