"""The panel's error area: the last few errors (newest last), each with its
traceback folded under it, and a button to clear them."""
from __future__ import annotations

import html
import logging
import traceback

import ipywidgets as widgets

log = logging.getLogger(__name__)


class ErrorArea:
    """Shows errors in ``html`` (hidden while empty) with ``clear_button``;
    ``messages``: the texts shown (at most ``max_errors``)."""

    def __init__(self, max_errors: int = 6) -> None:
        self.max_errors = max_errors
        self.messages: list[str] = []
        self._tracebacks: list[str] = []
        self.html = widgets.HTML(value="", layout=widgets.Layout(display="none"))
        self.html.add_class("switchlab-errors")
        self.clear_button = widgets.Button(description="clear", layout=widgets.Layout(
            width="70px", display="none"))
        self.clear_button.add_class("switchlab-clear-errors")
        self.clear_button.on_click(lambda _: self.clear())

    def report(self, where: str, exc: BaseException | str) -> None:
        """Show an error (the same one twice in a row is shown once)."""
        if isinstance(exc, BaseException):
            head = f"{type(exc).__name__}: {exc}"
            tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        else:
            head, tb = str(exc), ""
        text = f"{where}: {head}"
        log.debug("panel error %s\n%s", text, tb)
        if self.messages and self.messages[-1] == text:
            return  # the same error again (e.g. every refresh): shown once
        self.messages.append(text)
        self._tracebacks.append(tb)
        del self.messages[:-self.max_errors]
        del self._tracebacks[:-self.max_errors]
        items = []
        for msg, tb in zip(self.messages, self._tracebacks):
            body = f"<span class='switchlab-error'>{html.escape(msg)}</span>"
            if tb:
                body = (f"<details><summary>{body}</summary><pre style='font-size:11px'>"
                        f"{html.escape(tb)}</pre></details>")
            items.append(f"<div>{body}</div>")
        self.html.value = ("<div style='color:#b00020;border-left:3px solid #b00020;"
                           "padding-left:6px'>" + "".join(items) + "</div>")
        self.html.layout.display = None
        self.clear_button.layout.display = None

    def clear(self) -> None:
        self.messages.clear()
        self._tracebacks = []
        self.html.value = ""
        self.html.layout.display = "none"
        self.clear_button.layout.display = "none"
