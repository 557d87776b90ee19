"""One emulated channel (a call leg): state, caller profile, variables, events.

The header block FreeSWITCH adds to every channel event
(``switch_channel_event_set_basic_data``: ``Channel-State`` ... ``Answer-State``,
codecs, the ``Caller-*`` profile, ``Other-Leg-*``) and the variable block
(``variable_*``) are kept URL-encoded and cached here; they are rebuilt only
when something in them changes, so firing an event costs a few string joins.

Variables follow FreeSWITCH's rule: setting one (even to the same value)
moves it to the end of the list.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .events import Pairs, SimEvent, enc, needs_encoding
from .templates import EXTENDED, SOURCE_VARIANTS, SOURCES, Template

if TYPE_CHECKING:
    from .host import EmulatedHost

STATE_NUMBERS = {
    "CS_NEW": 0, "CS_INIT": 1, "CS_ROUTING": 2, "CS_SOFT_EXECUTE": 3, "CS_EXECUTE": 4,
    "CS_EXCHANGE_MEDIA": 5, "CS_PARK": 6, "CS_CONSUME_MEDIA": 7, "CS_HIBERNATE": 8,
    "CS_RESET": 9, "CS_HANGUP": 10, "CS_REPORTING": 11, "CS_DESTROY": 12, "CS_NONE": 13,
}
CALLSTATE_NUMBERS = {
    "DOWN": 0, "DIALING": 1, "RINGING": 2, "EARLY": 3, "ACTIVE": 4, "HELD": 5,
    "RING_WAIT": 6, "HANGUP": 7, "UNHELD": 8,
}

#: caller-profile fields in FreeSWITCH's order (only the present ones are sent)
PROFILE_FIELDS = (
    "Direction", "Logical-Direction", "Username", "Dialplan", "Caller-ID-Name",
    "Caller-ID-Number", "Orig-Caller-ID-Name", "Orig-Caller-ID-Number", "Callee-ID-Name",
    "Callee-ID-Number", "Network-Addr", "ANI", "Destination-Number", "Unique-ID", "Source",
    "Transfer-Source", "Context", "Channel-Name",
)
TIME_FIELDS = (
    ("Profile-Created-Time", "profile_created"), ("Channel-Created-Time", "created"),
    ("Channel-Answered-Time", "answered"), ("Channel-Progress-Time", "progress"),
    ("Channel-Progress-Media-Time", "progress_media"), ("Channel-Hangup-Time", "hangup"),
    ("Channel-Transfer-Time", "transfer"), ("Channel-Resurrect-Time", "resurrect"),
    ("Channel-Bridged-Time", "bridged"), ("Channel-Last-Hold", "last_hold"),
    ("Channel-Hold-Accum", "hold_accum"),
)
PROFILE_TAIL = (("Screen-Bit", "true"), ("Privacy-Hide-Name", "false"),
                ("Privacy-Hide-Number", "false"))
_CALLER_TAIL = "".join(f"Caller-{k}: {v}\n" for k, v in PROFILE_TAIL)
#: ``times -> "Caller-Profile-Created-Time: ...\n..."``, one f-string (the source holds
#: only the constant names above)
_caller_times = eval(  # noqa: S307
    'lambda t: f"' + "".join(f"Caller-{name}: {{t.get('{key}', 0)}}\\n"
                             for name, key in TIME_FIELDS) + '"')


def profile_pairs(prefix: str, profile: dict[str, str], times: dict[str, int],
                  index: str | None) -> Pairs:
    """The ``<prefix>-*`` caller-profile headers, decoded."""
    out: Pairs = []
    other = index is None
    for name in PROFILE_FIELDS:
        value = profile.get(name)
        if value and not (other and name == "Transfer-Source"):
            out.append((f"{prefix}-{name}", value))
    if index is not None:
        out.append((f"{prefix}-Profile-Index", index))
    for name, key in TIME_FIELDS:
        out.append((f"{prefix}-{name}", str(times.get(key, 0))))
    for name, value in PROFILE_TAIL:
        out.append((f"{prefix}-{name}", value))
    return out


#: variable name -> {value: encoded line}: most values recur from call to call
_LINE_CACHE: dict[str, dict[str, str]] = {}


#: caller-profile field -> {value: encoded "Caller-<field>: <value>" line}
_FIELD_CACHE: dict[str, dict[str, str]] = {k: {} for k in PROFILE_FIELDS}


def _caller_fields(profile: dict[str, str]) -> str:
    """The ``Caller-*`` field lines of a caller profile, in FreeSWITCH's order."""
    out = []
    get = profile.get
    for name in PROFILE_FIELDS:
        value = get(name)
        if value:
            known = _FIELD_CACHE[name]
            line = known.get(value)
            if line is None:
                line = f"Caller-{name}: {enc(value)}\n"
                if len(known) > 200:
                    known.clear()
                known[value] = line
            out.append(line)
    return "".join(out)


def _state_field(attr: str) -> property:
    """An attribute shown in the channel-data block: setting it invalidates the cache."""
    private = "_" + attr

    def get(self: Channel) -> Any:
        return self.__dict__[private]

    def put(self: Channel, value: Any) -> None:
        self.__dict__[private] = value
        self._splain = None

    return property(get, put)


class Channel:
    """A call leg on one emulated host.

    ``kind`` is ``sofia`` or ``loopback``; ``direction`` is ``inbound`` or
    ``outbound``. ``facts`` holds the values the variable templates refer to.
    """

    name = _state_field("name")
    state_name = _state_field("state_name")
    state_num = _state_field("state_num")
    callstate = _state_field("callstate")
    answer_state = _state_field("answer_state")
    hit_dialplan = _state_field("hit_dialplan")
    hangup_cause = _state_field("hangup_cause")
    codec = _state_field("codec")
    write_codec = _state_field("write_codec")

    def __init__(self, host: EmulatedHost, uuid: str, name: str, direction: str,
                 kind: str = "sofia", profile_name: str = "") -> None:
        self._splain: str | None = None
        self._pplain: str | None = None
        self._fplain: str | None = None
        self._name_enc: tuple[str, str] | None = None
        self._uuid_enc: str | None = None
        self.host = host
        self.uuid = uuid
        self.name = name
        self.direction = direction
        self.kind = kind
        self.profile_name = profile_name
        self.session_id = host.next_session_id()
        self.state_name = "CS_NEW"
        self.state_num = 0
        self.callstate = "DOWN"
        self.answer_state = "ringing"
        self.hit_dialplan = direction == "inbound"
        self.hangup_cause = None
        self.codec = None
        self.write_codec = False
        self.profile: dict[str, str] = {}
        self.profile_index = "1"
        self.times: dict[str, int] = {}
        self.other: tuple[str, dict[str, str], dict[str, int]] | None = None
        self._oplain = None
        self.vars: dict[str, str] = {}
        self._vlines: dict[str, str | None] = {}
        self._vdirty: dict[str, None] = {}  # names whose line is still to encode
        self._vplain: str | None = None
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
    def set_var(self, name: str, value: str) -> None:
        """Set a variable (moves it to the end, as FreeSWITCH does)."""
        lines = self._vlines
        variables = self.vars
        line = None  # encoded when the block is next rendered
        if name in lines:
            if variables[name] == value:
                line = lines[name]
            del variables[name]
            del lines[name]
        variables[name] = value
        lines[name] = line
        if line is None:
            self._vdirty[name] = None
        self._vplain = None
        if name == "call_uuid":
            self._splain = None

    def unset_var(self, name: str) -> None:
        """Remove a variable if present."""
        if name in self._vlines:
            del self.vars[name]
            del self._vlines[name]
            self._vdirty.pop(name, None)
            self._vplain = None

    def get_var(self, name: str, default: str | None = None) -> str | None:
        return self.vars.get(name, default)

    def apply(self, tpl: Template, **extra: Any) -> None:
        """Set the variables of ``tpl`` in order, formatting with the facts (+ ``extra``)."""
        facts = self.facts
        if extra:
            facts = {**facts, **extra}
        variables = self.vars
        lines = self._vlines
        dirty = self._vdirty
        for name, tmpl, const_line, render in tpl.ops:
            if const_line is not None:
                value, line = tmpl, const_line
            else:
                value = render(facts)  # type: ignore[misc]
                line = None
            if name in lines:
                if line is None and variables[name] == value:
                    line = lines[name]
                del variables[name]
                del lines[name]
            variables[name] = value
            lines[name] = line
            if line is None:
                dirty[name] = None
        self._vplain = None
        if "call_uuid" in variables:
            self._splain = None

    def set_vars(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Set many variables in order (same rule as :meth:`set_var`, less overhead)."""
        variables = self.vars
        lines = self._vlines
        dirty = self._vdirty
        for name, value in pairs:
            line = None
            if name in lines:
                if variables[name] == value:
                    line = lines[name]
                del variables[name]
                del lines[name]
            variables[name] = value
            lines[name] = line
            if line is None:
                dirty[name] = None
        self._vplain = None
        self._splain = None

    def var_plain(self) -> str:
        """The ``variable_*`` lines, URL-encoded (cached; only new values are encoded)."""
        block = self._vplain
        if block is None:
            lines = self._vlines
            variables = self.vars
            dirty = self._vdirty
            if dirty:
                search = needs_encoding
                cache = _LINE_CACHE
                for name in dirty:
                    value = variables[name]
                    known = cache.get(name)
                    if known is None:
                        known = cache[name] = {}
                    line = known.get(value)
                    if line is None:
                        line = (f"variable_{name}: {value}\n" if search(value) is None
                                else f"variable_{name}: {enc(value)}\n")
                        if len(value) < 100:
                            if len(known) > 200:
                                known.clear()
                            known[value] = line
                    lines[name] = line
                dirty.clear()
            block = self._vplain = "".join(lines.values())  # type: ignore[arg-type]
        return block

    def var_pairs(self) -> Pairs:
        return [(f"variable_{k}", v) for k, v in self.vars.items()]

    # -- channel data block -------------------------------------------------------------
    def changed(self) -> None:
        """Invalidate the cached state part of the channel-data block."""
        self._splain = None

    def profile_changed(self) -> None:
        """Invalidate the cached caller-profile part (profile fields or times changed)."""
        self._pplain = None
        self._fplain = None

    def _state_plain(self) -> str:
        a = self.__dict__  # the private fields behind the properties: no getter calls
        d = self.direction
        name = a["_name"]
        cname = self._name_enc
        if cname is None or cname[0] != name:
            cname = self._name_enc = (name, enc(name))
        uid = self._uuid_enc
        if uid is None:
            uid = self._uuid_enc = enc(self.uuid)
        call_uuid = self.vars.get("call_uuid")
        call_uuid = uid if call_uuid is None or call_uuid == self.uuid else enc(call_uuid)
        text = (f"Channel-State: {a['_state_name']}\nChannel-Call-State: {a['_callstate']}\n"
                f"Channel-State-Number: {a['_state_num']}\nChannel-Name: {cname[1]}\n"
                f"Unique-ID: {uid}\nCall-Direction: {d}\n"
                f"Presence-Call-Direction: {d}\n"
                f"Channel-HIT-Dialplan: {'true' if a['_hit_dialplan'] else 'false'}\n"
                f"Channel-Call-UUID: {call_uuid}\n"
                f"Answer-State: {a['_answer_state']}\n")
        cause = a["_hangup_cause"]
        if cause:
            text += f"Hangup-Cause: {cause}\n"
        codec = a["_codec"]
        if codec:
            cname_, rate, bits = codec
            text += (f"Channel-Read-Codec-Name: {cname_}\nChannel-Read-Codec-Rate: {rate}\n"
                     f"Channel-Read-Codec-Bit-Rate: {bits}\n")
            if a["_write_codec"]:
                text += (f"Channel-Write-Codec-Name: {cname_}\n"
                         f"Channel-Write-Codec-Rate: {rate}\n"
                         f"Channel-Write-Codec-Bit-Rate: {bits}\n")
        return text

    def _state_pairs(self) -> Pairs:
        d = self.direction
        out: Pairs = [
            ("Channel-State", self.state_name),
            ("Channel-Call-State", self.callstate),
            ("Channel-State-Number", str(self.state_num)),
            ("Channel-Name", self.name),
            ("Unique-ID", self.uuid),
            ("Call-Direction", d),
            ("Presence-Call-Direction", d),
            ("Channel-HIT-Dialplan", "true" if self.hit_dialplan else "false"),
            ("Channel-Call-UUID", self.vars.get("call_uuid", self.uuid)),
            ("Answer-State", self.answer_state),
        ]
        if self.hangup_cause:
            out.append(("Hangup-Cause", self.hangup_cause))
        if self.codec:
            cname, rate, bits = self.codec
            out += [("Channel-Read-Codec-Name", cname), ("Channel-Read-Codec-Rate", rate),
                    ("Channel-Read-Codec-Bit-Rate", bits)]
            if self.write_codec:
                out += [("Channel-Write-Codec-Name", cname), ("Channel-Write-Codec-Rate", rate),
                        ("Channel-Write-Codec-Bit-Rate", bits)]
        return out

    def _profile_pairs(self) -> Pairs:
        out: Pairs = []
        if self.profile:
            out += profile_pairs("Caller", self.profile, self.times, self.profile_index)
        if self.other is not None:
            other_type, oprofile, otimes = self.other
            out.append(("Other-Type", other_type))
            out += profile_pairs("Other-Leg", oprofile, otimes, None)
        return out

    def data_pairs(self) -> Pairs:
        """``switch_channel_event_set_basic_data`` + caller profile + other leg, decoded."""
        return self._state_pairs() + self._profile_pairs()

    def data_plain(self) -> str:
        """The channel-data block, URL-encoded (each part cached until it changes)."""
        state = self._splain
        if state is None:
            state = self._splain = self._state_plain()
        prof = self._pplain
        if prof is None:
            fields = self._fplain
            if fields is None:
                fields = self._fplain = _caller_fields(self.profile)
            t = self.times
            prof = fields
            if self.profile_index is not None:
                prof += f"Caller-Profile-Index: {self.profile_index}\n"
            prof += _caller_times(t)
            prof += _CALLER_TAIL
            if self.other is not None:
                other = self._oplain
                if other is None:  # a snapshot: encoded once
                    other_type, oprofile, otimes = self.other
                    other = self._oplain = f"Other-Type: {other_type}\n" + "".join(
                        [f"{k}: {enc(v)}\n"
                         for k, v in profile_pairs("Other-Leg", oprofile, otimes, None)])
                prof += other
            if not self.profile:
                prof = ""
            self._pplain = prof
        return state + prof

    # -- state changes ------------------------------------------------------------------
    def fire(self, name: str, *, pre: Pairs = (), post: Pairs = (),  # type: ignore[assignment]
             extended: bool | None = None, variant: str | None = None,
             body: str | None = None, lead: Pairs = ()) -> None:  # type: ignore[assignment]
        """Fire a channel event (built only if some client subscribed to it).

        :meth:`EmulatedHost.make_event` + ``dispatch``, inlined: this runs a dozen
        times per call.
        """
        host = self.host
        host._seq += 1  # the sequence number is used even if nobody listens
        if not (host._want_all or name in host._want):
            return
        source = SOURCE_VARIANTS.get((name, variant)) if variant else None
        if source is None:
            source = SOURCES.get(name) or SOURCES["CUSTOM"]
        if extended is None:
            extended = name in EXTENDED
        ev = SimEvent(host, name, host._seq, host.clock.now_us(), source, lead, pre, self, post,
                      extended, body)
        for lst in host._event_listeners:
            lst.deliver(ev)

    def set_state(self, name: str, number: int | None = None) -> None:
        """Enter a running state and fire CHANNEL_STATE."""
        self.state_name = name
        self.state_num = STATE_NUMBERS[name] if number is None else number
        self._splain = None
        self.fire("CHANNEL_STATE")

    def set_callstate(self, new: str) -> None:
        """Change the call state and fire CHANNEL_CALLSTATE."""
        old = self.callstate
        self.callstate = new
        self._splain = None
        self.fire("CHANNEL_CALLSTATE", pre=[("Original-Channel-Call-State", old),
                                             ("Channel-Call-State-Number",
                                              str(CALLSTATE_NUMBERS[new]))])

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
            self._pplain = None
            self._fplain = None

    def set_time(self, key: str, stamp: int) -> None:
        self.times[key] = stamp
        self._pplain = None

    def link_other(self, other_type: str, other: Channel) -> None:
        """Add the ``Other-Type``/``Other-Leg-*`` block describing ``other``."""
        self.other = (other_type, dict(other.profile), dict(other.times))
        self._oplain: str | None = None
        self._pplain = None

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
