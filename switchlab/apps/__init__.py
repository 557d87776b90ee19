"""Apps: classes whose methods are marked to run on events, as in switchio.

* ``@callback("EVENT")``: a plain function, called with the :class:`Session`
  (the :class:`Job` for ``BACKGROUND_JOB``) of every ``EVENT`` of a session
  that belongs to the app.
* ``@coroutine("EVENT")``: an ``async`` function started as a task for each
  such event; it can ``await sess.recv("CHANNEL_ANSWER")``. It runs up to its
  first ``await`` before the next event is dispatched.
* ``@handler("EVENT")``: a low-level handler called with the raw
  :class:`~switchlab.wire.Event` for every ``EVENT`` on the connection,
  whatever app (or none) the channel belongs to.

A session belongs to app ``app_id`` when its ``sip_h_X-switchlab_app``
variable says so (``Client.originate(..., app_id=...)`` sets it); sessions
without one go to the apps loaded as ``"default"``.

An optional ``prepost(self, client, **kwargs)`` method runs when the app is
loaded; if it is a generator, the code after its ``yield`` runs at unload.

>>> class Answer:
...     @callback("CHANNEL_PARK")
...     def on_park(self, sess):
...         if sess.is_inbound():
...             sess.answer()
>>> [(name, kind) for name, kind, _fn in get_callbacks(Answer())]
[('CHANNEL_PARK', 'callback')]
"""
from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..state.dispatch import EventListener

__all__ = ["LoadedApp", "app", "callback", "coroutine", "event_callback", "get", "get_callbacks",
           "handler", "iterapps", "load_app", "unload_app"]

F = TypeVar("F", bound=Callable[..., Any])
_MARKS = "_switchlab_marks"
KINDS = ("handler", "callback", "coroutine")


def _marker(kind: str) -> Callable[..., Callable[[F], F]]:
    def decorator_factory(*events: str) -> Callable[[F], F]:
        if not events or not all(isinstance(e, str) and e for e in events):
            raise TypeError(f"@{kind} needs one or more event names, e.g. @{kind}('CHANNEL_ANSWER')")

        def mark(fn: F) -> F:
            is_async = inspect.iscoroutinefunction(fn)
            if kind == "coroutine" and not is_async:
                raise TypeError(f"@coroutine marks async functions; {fn.__qualname__} is not "
                                "async (use @callback for plain functions)")
            if kind != "coroutine" and is_async:
                raise TypeError(f"{fn.__qualname__} is async: mark it @coroutine, not @{kind}")
            marks = fn.__dict__.setdefault(_MARKS, [])
            marks.extend((e, kind) for e in events)
            return fn
        return mark
    decorator_factory.__name__ = kind
    decorator_factory.__doc__ = f"Mark a method as an app {kind} for the given event names."
    return decorator_factory


callback = _marker("callback")
coroutine = _marker("coroutine")
handler = _marker("handler")
#: switchio's older name for :func:`callback`
event_callback = callback


def get_callbacks(obj: object) -> Iterator[tuple[str, str, Callable[..., Any]]]:
    """``(event name, kind, bound function)`` for every marked method; handlers first."""
    later = []
    for attr in dir(obj):
        try:
            fn = getattr(obj, attr)
        except AttributeError:
            continue
        marks = getattr(fn, _MARKS, None)
        if not marks or not callable(fn):
            continue
        for event, kind in marks:
            if kind == "handler":
                yield event, kind, fn
            else:
                later.append((event, kind, fn))
    yield from later


def has_callbacks(obj: object) -> bool:
    return next(get_callbacks(obj), None) is not None


# -- registry of app classes (optional, like switchio's @app) ------------------
_registry: dict[str, type] = {}


def app(cls: type | None = None, *, name: str | None = None) -> Any:
    """Register an app class under ``name`` (default: the class name)."""
    def register(c: type) -> type:
        if not has_callbacks(c):
            raise ValueError(f"{c.__qualname__} has no @callback, @coroutine or @handler methods")
        key = name or c.__name__
        if _registry.setdefault(key, c) is not c:
            raise ValueError(f"an app named {key!r} is already registered ({_registry[key]!r})")
        return c
    return register(cls) if cls is not None else register


def get(name: str) -> type | None:
    """A registered app class by name."""
    return _registry.get(name)


def iterapps() -> Iterator[type]:
    return iter(list(_registry.values()))


# -- loading -----------------------------------------------------------------
@dataclass
class LoadedApp:
    """An app instance loaded into a listener under ``app_id``."""

    app_id: str
    name: str
    instance: Any
    entries: list[tuple[str, str, Callable[..., Any]]] = field(default_factory=list)
    finalize: Any = None

    @property
    def events(self) -> set[str]:
        """Event names the app needs to receive: those of its marked methods and of
        its ``subscribe`` attribute (e.g. the completions its awaits wait for)."""
        return ({name for name, _kind, _fn in self.entries}
                | set(getattr(self.instance, "subscribe", ())))


def app_name(app_obj: Any) -> str:
    return app_obj.__name__ if isinstance(app_obj, type) else type(app_obj).__name__


def load_app(listener: EventListener, app_obj: Any, app_id: str | None = None, *,
             prepend: bool = False, funcargs: Mapping[str, Any] | None = None,
             **prepost_kwargs: Any) -> LoadedApp:
    """Instantiate (if given a class), run ``prepost`` and register the marked methods.

    ``funcargs`` supplies ``prepost``'s named arguments (``client``, ``pool``...).
    """
    name = app_name(app_obj)
    app_id = app_id or name
    instance = app_obj() if isinstance(app_obj, type) else app_obj
    entries = list(get_callbacks(instance))
    if not entries:
        raise TypeError(f"app {name!r} has no @callback, @coroutine or @handler methods")
    finalize = None
    prepost = getattr(instance, "prepost", None)
    if prepost is not None:
        funcargs = funcargs or {}
        params = inspect.signature(prepost).parameters
        args = {}
        for pname, param in params.items():
            if param.kind in (param.VAR_KEYWORD, param.VAR_POSITIONAL) or pname in prepost_kwargs:
                continue
            if pname in funcargs:
                args[pname] = funcargs[pname]
            elif param.default is param.empty:
                raise TypeError(f"{name}.prepost() needs {pname!r}; available: "
                                f"{', '.join(funcargs) or 'nothing'}")
        result = prepost(**args, **prepost_kwargs)
        if inspect.isgenerator(result):
            next(result)
            finalize = result
    elif prepost_kwargs:
        raise TypeError(f"{name} has no prepost() to take {sorted(prepost_kwargs)}")
    for event, kind, fn in entries:
        if kind == "handler":
            listener.add_handler(event, fn)
        elif kind == "callback":
            listener.add_callback(event, app_id, fn, prepend=prepend)
        else:
            listener.add_coroutine(event, app_id, fn, prepend=prepend)
    try:
        instance.app_id = app_id
    except AttributeError:
        pass
    return LoadedApp(app_id, name, instance, entries, finalize)


def unload_app(listener: EventListener, loaded: LoadedApp) -> None:
    """Remove a loaded app's methods and run its ``prepost`` teardown."""
    for event, kind, fn in loaded.entries:
        if kind == "handler":
            try:
                listener.remove_handler(event, fn)
            except (KeyError, ValueError):
                pass
        else:
            listener.remove_callback(event, loaded.app_id, fn)
    if loaded.finalize is not None:
        try:
            next(loaded.finalize)
        except StopIteration:
            pass
