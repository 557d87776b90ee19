"""The wire blocks of a channel: its channel-data headers and its ``variable_*`` lines.

The header block FreeSWITCH adds to every channel event
(``switch_channel_event_set_basic_data``: ``Channel-State`` ... ``Answer-State``,
codecs, the ``Caller-*`` profile, ``Other-Leg-*``) and the variable block are
kept URL-encoded and cached; they are rebuilt only when something in them
changes, so firing an event costs a few string joins. :class:`ChannelBlocks` is
the rendering half of :class:`~.channel.Channel`.
"""
from __future__ import annotations

from typing import Any

from ...wire.urlcodec import fs_url_encode_fast as enc
from .event_builder import Pairs
from .template import LINE_MEMOS, line_memo, templated_line
from .varstore import Layout

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
#: (time key, its line's head, its line when the time is not set)
_TIME_LINES = tuple((key, f"Caller-{name}: ", f"Caller-{name}: 0\n") for name, key in TIME_FIELDS)


def _caller_times(times: dict[str, int]) -> str:
    """``Caller-Profile-Created-Time: ...`` .. ``Caller-Channel-Hold-Accum: ...`` lines
    (one short build per line: a ``%``-format of the eleven stamps cost twice as much).

    >>> _caller_times({"created": 5})[:70]
    'Caller-Profile-Created-Time: 0\\nCaller-Channel-Created-Time: 5\\nCaller-C'
    """
    parts: list[str] = []
    for key, head, zero in _TIME_LINES:
        stamp = times.get(key)
        parts.append(zero if not stamp else f"{head}{stamp}\n")
    return "".join(parts)


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


def var_line(name: str, value: str) -> str:
    """``variable_<name>: <url-encoded value>\\n`` (memoized by name and value).

    >>> var_line("sip_to_host", "127.0.0.1:5080")
    'variable_sip_to_host: 127.0.0.1%3A5080\\n'
    """
    known = LINE_MEMOS.get(name)
    if known is None:
        known = line_memo(name)
    else:
        line = known.get(value)
        if line is not None:
            return line
    return templated_line(known, name, value)


_UID_AT = PROFILE_FIELDS.index("Unique-ID")
_HEAD_FIELDS = PROFILE_FIELDS[:_UID_AT]
_TAIL_FIELDS = PROFILE_FIELDS[_UID_AT + 1:]
#: the values of the fields before ``Unique-ID`` and after it -> their encoded lines
#: (they recur from call to call; the UUID does not and is encoded apart)
_FIELDS_MEMO: dict[tuple[tuple[str | None, ...], tuple[str | None, ...]], tuple[str, str]] = {}
_FIELDS_MEMO_MAX = 1024


def _field_lines(names: tuple[str, ...], values: tuple[str | None, ...]) -> str:
    return "".join([f"Caller-{name}: {enc(value)}\n"
                    for name, value in zip(names, values) if value])


def _caller_fields(profile: dict[str, str]) -> str:
    """The ``Caller-*`` field lines of a caller profile, in FreeSWITCH's order.

    >>> _caller_fields({"Unique-ID": "u-1", "Direction": "inbound", "ANI": "a b"})
    'Caller-Direction: inbound\\nCaller-ANI: a%20b\\nCaller-Unique-ID: u-1\\n'
    """
    get = profile.get
    key = (tuple(map(get, _HEAD_FIELDS)), tuple(map(get, _TAIL_FIELDS)))
    parts = _FIELDS_MEMO.get(key)
    if parts is None:
        if len(_FIELDS_MEMO) >= _FIELDS_MEMO_MAX:
            _FIELDS_MEMO.clear()
        parts = _FIELDS_MEMO[key] = (_field_lines(_HEAD_FIELDS, key[0]),
                                     _field_lines(_TAIL_FIELDS, key[1]))
    uid = get("Unique-ID")
    if uid:
        return f"{parts[0]}Caller-Unique-ID: {enc(uid)}\n{parts[1]}"
    return parts[0] + parts[1]


def _cause_line(cause: str | None) -> str:
    return f"Hangup-Cause: {cause}\n" if cause else ""


#: (read codec, write codec set too) -> the codec lines of the channel-data block
_CODEC_LINES: dict[tuple[tuple[str, str, str], bool], str] = {}


def _codec_lines(codec: tuple[str, str, str] | None, write: bool) -> str:
    """The ``Channel-Read-Codec-*`` (and ``-Write-``) lines; the same few every call.

    >>> _codec_lines(("PCMU", "8000", "64000"), True).splitlines()[3]
    'Channel-Write-Codec-Name: PCMU'
    """
    if not codec:
        return ""
    text = _CODEC_LINES.get((codec, write))
    if text is None:
        name, rate, bits = codec
        text = (f"Channel-Read-Codec-Name: {name}\nChannel-Read-Codec-Rate: {rate}\n"
                f"Channel-Read-Codec-Bit-Rate: {bits}\n")
        if write:
            text += (f"Channel-Write-Codec-Name: {name}\nChannel-Write-Codec-Rate: {rate}\n"
                     f"Channel-Write-Codec-Bit-Rate: {bits}\n")
        if len(_CODEC_LINES) >= 256:
            _CODEC_LINES.clear()
        _CODEC_LINES[(codec, write)] = text
    return text


class ChannelBlocks:
    """Renders a channel's header and variable blocks (cached until they change)."""

    # set by Channel.__init__
    uuid: str
    direction: str
    profile: dict[str, str]
    profile_index: str | None
    times: dict[str, int]
    other: tuple[str, dict[str, str], dict[str, int]] | None
    #: the state part, with the fields it was rendered from (see :meth:`data_parts`)
    _state: tuple[tuple[object, ...], str] | None
    _tplain: str | None
    _fplain: str | None
    _oplain: str | None
    _name_enc: tuple[str, str] | None
    _uuid_enc: str | None
    #: the variables (see :mod:`.varstore`): every value and line set, in order, and
    #: which of them are live
    _layout: Layout
    _vals: list[str]
    _vlines: list[str]
    _vplain: str
    _vlayout: Layout | None
    # the channel-data fields: plain attributes, set from anywhere (the state part
    # is re-rendered when any of them differs from what it was rendered from)
    name: str
    state_name: str
    state_num: int
    callstate: str
    answer_state: str
    hit_dialplan: bool
    hangup_cause: str | None
    codec: tuple[str, str, str] | None
    write_codec: bool

    def get_var(self, name: str, default: str | None = None) -> str | None:
        """A variable's value, or ``default``."""
        at = self._layout.index.get(name)
        return default if at is None else self._vals[at]

    def var(self, name: str, default: str = "") -> str:
        """A variable's value, or ``default``."""
        at = self._layout.index.get(name)
        return default if at is None else self._vals[at]

    def has_var(self, name: str) -> bool:
        return name in self._layout.index

    def var_items(self) -> list[tuple[str, str]]:
        """``(name, value)`` of every variable, in FreeSWITCH's order."""
        layout = self._layout
        return list(zip(layout.names, layout.pick(self._vals)))

    @property
    def vars(self) -> dict[str, str]:
        """A copy of the variables, in order (set them with ``set_var``)."""
        return dict(self.var_items())

    def var_plain(self) -> str:
        """The ``variable_*`` lines, URL-encoded (each encoded when it was set).

        Kept with the layout it was rendered at (``_vlayout``). Every change that is not
        an append of new names (a name set again, an unset, a compaction) drops it and sets
        ``_vlayout`` to None, so a kept block is extended with the lines set since.
        """
        layout = self._layout
        done = self._vlayout
        if done is layout:
            return self._vplain
        if done is not None:  # only new names were set since (Channel._moved)
            block = self._vplain + "".join(self._vlines[done.size:layout.size])
        else:
            block = "".join(layout.pick(self._vlines))
        self._vplain = block
        self._vlayout = layout
        return block

    def var_pairs(self) -> Pairs:
        return [(f"variable_{k}", v) for k, v in self.var_items()]

    # -- channel data block -------------------------------------------------------------
    def profile_changed(self) -> None:
        """Invalidate the cached caller-profile parts (profile fields or times changed)."""
        self._tplain = None
        self._fplain = None

    def _state_key(self) -> tuple[object, ...]:
        """What the state part is rendered from: the channel-data fields and ``call_uuid``."""
        return (self.name, self.state_name, self.state_num, self.callstate, self.answer_state,
                self.hit_dialplan, self.hangup_cause, self.codec, self.write_codec,
                self.get_var("call_uuid"))

    def _state_plain(self) -> str:
        d = self.direction
        name = self.name
        cname = self._name_enc
        if cname is None or cname[0] != name:
            cname = self._name_enc = (name, enc(name))
        uid = self._uuid_enc
        if uid is None:
            uid = self._uuid_enc = enc(self.uuid)
        call_uuid = self.get_var("call_uuid")
        call_uuid = uid if call_uuid is None or call_uuid == self.uuid else enc(call_uuid)
        text = (f"Channel-State: {self.state_name}\nChannel-Call-State: {self.callstate}\n"
                f"Channel-State-Number: {self.state_num}\nChannel-Name: {cname[1]}\n"
                f"Unique-ID: {uid}\nCall-Direction: {d}\n"
                f"Presence-Call-Direction: {d}\n"
                f"Channel-HIT-Dialplan: {'true' if self.hit_dialplan else 'false'}\n"
                f"Channel-Call-UUID: {call_uuid}\n"
                f"Answer-State: {self.answer_state}\n"
                f"{_cause_line(self.hangup_cause)}{_codec_lines(self.codec, self.write_codec)}")
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
            ("Channel-Call-UUID", self.var("call_uuid", self.uuid)),
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
        parts: list[str] = []
        self.data_parts(parts)
        return "".join(parts)

    def data_parts(self, parts: list[str]) -> None:
        """Append the channel-data block's parts, URL-encoded, to ``parts`` (each cached
        until it changes: state, caller-profile fields, times, other leg; the event
        joins them once with its other parts)."""
        key = self._state_key()
        state = self._state
        if state is None or state[0] != key:
            state = self._state = (key, self._state_plain())
        parts.append(state[1])
        if not self.profile:
            return
        fields = self._fplain
        if fields is None:
            fields = self._fplain = _caller_fields(self.profile)
        parts.append(fields)
        index = self.profile_index
        if index is not None:
            parts.append(f"Caller-Profile-Index: {index}\n")
        times = self._tplain
        if times is None:
            times = self._tplain = _caller_times(self.times) + _CALLER_TAIL
        parts.append(times)
        if self.other is not None:
            other = self._oplain
            if other is None:  # a snapshot: encoded once
                other_type, oprofile, otimes = self.other
                other = self._oplain = f"Other-Type: {other_type}\n" + "".join(
                    [f"{k}: {enc(v)}\n"
                     for k, v in profile_pairs("Other-Leg", oprofile, otimes, None)])
            parts.append(other)
