"""One emulated channel (a call leg): state, caller profile, variables, events.

Its wire blocks (channel-data headers, ``variable_*`` lines) are rendered and
cached by :class:`~.channel_render.ChannelBlocks`: the variable and profile
parts are dropped by the methods that change them, the state part is rendered
again when a channel-data field (plain attributes, set from anywhere) differs
from what it was rendered from.

Variables follow FreeSWITCH's rule: setting one (even to the same value)
moves it to the end of the list.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from .channel_render import ChannelBlocks, var_line
from .event_builder import Headers, Pairs
from .statelog import log_callstate, log_state
from .template import Template, templated_line
from .varstore import ROOT, Layout

if TYPE_CHECKING:
    from .ports import Host

STATE_NUMBERS = {
    "CS_NEW": 0, "CS_INIT": 1, "CS_ROUTING": 2, "CS_SOFT_EXECUTE": 3, "CS_EXECUTE": 4,
    "CS_EXCHANGE_MEDIA": 5, "CS_PARK": 6, "CS_CONSUME_MEDIA": 7, "CS_HIBERNATE": 8,
    "CS_RESET": 9, "CS_HANGUP": 10, "CS_REPORTING": 11, "CS_DESTROY": 12, "CS_NONE": 13,
}
CALLSTATE_NUMBERS = {
    "DOWN": 0, "DIALING": 1, "RINGING": 2, "EARLY": 3, "ACTIVE": 4, "HELD": 5,
    "RING_WAIT": 6, "HANGUP": 7, "UNHELD": 8,
}


class Channel(ChannelBlocks):
    """A call leg on one emulated host.

    ``kind`` is ``sofia`` or ``loopback``; ``direction`` is ``inbound`` or
    ``outbound``. ``facts`` holds the values the variable templates refer to.
    """

    def __init__(self, host: Host, uuid: str, name: str, direction: str,
                 kind: str = "sofia", profile_name: str = "") -> None:
        self._state: tuple[tuple[object, ...], str] | None = None
        self._tplain: str | None = None
        self._fplain: str | None = None
        self._name_enc: tuple[str, str] | None = None
        self._uuid_enc: str | None = None
        # the channel-data fields (ChannelBlocks)
        self.name = name
        self.state_name = "CS_NEW"
        self.state_num = 0
        self.callstate = "DOWN"
        self.answer_state = "ringing"
        self.hit_dialplan = direction == "inbound"
        self.hangup_cause: str | None = None
        self.codec: tuple[str, str, str] | None = None
        self.write_codec = False
        self.host = host
        self.bus = host.bus
        self.uuid = uuid
        self.direction = direction
        self.kind = kind
        self.profile_name = profile_name
        self.session_id = host.next_session_id()
        self.run_state = "CS_NEW"  # ``running_state``: the last one the state machine ran
        self.profile: dict[str, str] = {}
        self.profile_index = "1"
        self.times: dict[str, int] = {}
        self.other: tuple[str, dict[str, str], dict[str, int]] | None = None
        self._oplain = None
        self._layout = ROOT
        self._vals: list[str] = []
        self._vlines: list[str] = []
        self._vplain = ""
        self._vlayout: Layout | None = ROOT
        self.facts: dict[str, Any] = {"uuid": uuid, "session_id": self.session_id,
                                      "chan_name": name, "profile": profile_name}
        # call processing (driven by callflow/apps)
        self.peer: Channel | None = None          # other end of the SIP/loopback dialog
        self.bridge: Channel | None = None        # bridged partner (uuid_bridge/bridge app)
        self.answered = False
        self.early = False
        self.parked = False
        self.app: str | None = None              # application running now
        self.app_data = ""
        self.app_stack: list[Any] = []          # applications running (innermost last)
        self.last_app: str | None = None
        self.last_arg = ""
        self.app_task: Any = None                # handle of a running timed app
        self.pending: list[Any] = []             # queued sendmsg executes
        self.timers: list[Any] = []              # scheduled callbacks to cancel at hangup
        self.dead = False                        # hangup started
        self.destroyed = False
        self.media = False                       # RTP was set up (adds rtp stats at hangup)
        self.media_ms = 0                        # ms of audio "sent" (playback), for stats
        self.record: tuple[str, int] | None = None
        self.dtmf_seen = False
        self.originate: Any = None               # the originate this leg belongs to
        self.dut_call = False                    # the leg occupies the DUT
        self.on_destroy: list[Any] = []
        self.holders: set[Any] = set()           # sockets attached with myevents
        self.reported = False                    # CHANNEL_HANGUP_COMPLETE was fired
        self.sent_callee: tuple[str, str] | None = None

    # -- variables -----------------------------------------------------------------
    # Every value set is appended to ``_vals`` and its encoded ``variable_*`` line (from
    # a memo, or encoded) to ``_vlines``; which of them are live, and in what order, is
    # ``_layout``'s (shared by every channel that set the same names: see
    # :mod:`.varstore`). Rendering the block is one pick and one join, kept until the
    # next change.
    def set_var(self, name: str, value: str) -> None:
        """Set a variable (moves it to the end, as FreeSWITCH does)."""
        self._vals.append(value)
        self._vlines.append(var_line(name, value))
        self._moved(name, (name,))

    def _moved(self, key: object, names: Sequence[str]) -> None:
        """``names`` were appended to the lists (``key``: see :meth:`.varstore.Layout.after`):
        the next layout (the block follows it: see :meth:`var_plain`), the lists compacted
        if crowded."""
        layout = self._layout = self._layout.after(key, names)
        done = self._vlayout
        if done is not None and not layout.grown_since(done):
            self._drop_block()
        if layout.crowded:
            self._compact()

    def _drop_block(self) -> None:
        """Free the rendered block: it cannot be extended to the present layout."""
        self._vplain = ""
        self._vlayout = None

    def _compact(self) -> None:
        """Keep only the live values and lines (see :meth:`.varstore.Layout.compacted`)."""
        layout = self._layout
        self._vals = list(layout.pick(self._vals))
        self._vlines = list(layout.pick(self._vlines))
        self._layout = layout.compacted()
        self._drop_block()  # the lines moved

    def unset_var(self, name: str) -> None:
        """Remove a variable if present."""
        layout = self._layout
        if name in layout.index:
            self._layout = layout.without(name)
            self._drop_block()

    def apply(self, tpl: Template, **extra: Any) -> None:
        """Set the variables of ``tpl`` in order, formatting with the facts (+ ``extra``)."""
        facts = self.facts
        if extra:
            facts = {**facts, **extra}
        rendered = tpl.render_templated(facts)
        values = self._vals
        lines = self._vlines
        base = len(values)
        values.extend(tpl.const_values)  # type: ignore[arg-type]  # templated ones: below
        lines.extend(tpl.const_lines)  # type: ignore[arg-type]
        last_values = tpl.last_values
        last_lines = tpl.last_lines
        i = 0
        for at, value, memo, name in zip(tpl.templated_at, rendered, tpl.templated_memos,
                                         tpl.templated_names):
            values[base + at] = value
            if value == last_values[i]:  # as the last call's: no hash, no memo look-up
                lines[base + at] = last_lines[i]
            else:
                line = memo.get(value)
                if line is None:
                    line = templated_line(memo, name, value)
                lines[base + at] = last_lines[i] = line
                last_values[i] = value
            i += 1
        self._moved(tpl, tpl.names)

    def put_lines(self, names: Sequence[str], values: Iterable[str],
                  lines: Iterable[str]) -> None:
        """:meth:`set_vars` with the encoded ``lines`` given (one of each per name)."""
        key = tuple(names)
        self._vals.extend(values)
        self._vlines.extend(lines)
        self._moved(key, key)

    def set_vars(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Set many variables in order (same rule as :meth:`set_var`, less overhead)."""
        items = list(pairs)
        self.put_lines([name for name, _ in items], [value for _, value in items],
                       [var_line(name, value) for name, value in items])

    # -- state changes ------------------------------------------------------------------
    def fire(self, name: str, *, pre: Headers = (), post: Headers = (),
             extended: bool | None = None, variant: str | None = None,
             body: str | None = None, lead: Headers = ()) -> None:
        """Fire a channel event (built only if some client subscribed to it)."""
        bus = self.bus
        if bus.want_all or name in bus.want:
            bus.emit(name, self, pre, post, extended, variant, body, lead)
        else:
            bus.seq += 1  # the sequence number is used even if nobody listens

    def set_state(self, name: str, number: int | None = None) -> None:
        """Enter a running state and fire CHANNEL_STATE (+ DEBUG lines if wanted)."""
        bus = self.bus
        if bus.log_max_level >= 7:
            log_state(self, self.run_state, name)
        self.run_state = name
        self.state_name = name
        self.state_num = STATE_NUMBERS[name] if number is None else number
        if bus.want_all or "CHANNEL_STATE" in bus.want:  # Channel.fire, inlined
            bus.emit("CHANNEL_STATE", self, (), (), None, None, None, ())
        else:
            bus.seq += 1

    def set_callstate(self, new: str) -> None:
        """Change the call state and fire CHANNEL_CALLSTATE."""
        old = self.callstate
        bus = self.bus
        if bus.log_max_level >= 7:
            log_callstate(self, old, new)
        self.callstate = new
        if bus.want_all or "CHANNEL_CALLSTATE" in bus.want:
            bus.emit("CHANNEL_CALLSTATE", self, [("Original-Channel-Call-State", old),
                                                 ("Channel-Call-State-Number",
                                                  str(CALLSTATE_NUMBERS[new]))],
                     (), None, None, None, ())
        else:
            bus.seq += 1

    def set_profile(self, **fields: str) -> None:
        """Set caller-profile fields (``Caller_ID_Name='x'`` for ``Caller-ID-Name``)."""
        profile = self.profile
        changed = False
        for key, value in fields.items():
            name = key.replace("_", "-")
            if value is None or value == "":
                if profile.pop(name, None) is not None:
                    changed = True
            elif profile.get(name) != value:
                profile[name] = value
                changed = True
        if changed:
            self._fplain = None

    def set_time(self, key: str, stamp: int) -> None:
        self.times[key] = stamp
        self._tplain = None

    def link_other(self, other_type: str, other: Channel, times: bool = True,
                   profile: dict[str, str] | None = None) -> None:
        """Add the ``Other-Type``/``Other-Leg-*`` block describing ``other`` (``times``:
        with its channel times, a ``switch_caller_profile_clone`` has none; ``profile``:
        the clone taken earlier, default ``other``'s profile now)."""
        self.other = (other_type, dict(other.profile) if profile is None else profile,
                      dict(other.times) if times else {})
        self._oplain: str | None = None

    # -- helpers ----------------------------------------------------------------------------
    @property
    def alive(self) -> bool:
        return not self.dead

    @property
    def cid_name(self) -> str:
        return self.profile.get("Caller-ID-Name", "")

    @property
    def cid_num(self) -> str:
        return self.profile.get("Caller-ID-Number", "")

    def cancel_timers(self) -> None:
        for handle in self.timers:
            handle.cancel()
        self.timers.clear()

    def __repr__(self) -> str:
        return f"<Channel {self.name} {self.uuid} {self.state_name}/{self.callstate}>"
