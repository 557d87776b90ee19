"""``show channels`` / ``show calls`` in FreeSWITCH's formats (api_catalog transcript).

With no rows the text form is ``\\n0 total.\\n`` (no header line) and the JSON
form ``{"row_count": 0}\\n``; with rows: a CSV header, the rows, a blank line and
``N total.\\n``, or ``{"row_count":N,"rows":[...]}`` with no trailing newline.
Every JSON value is a string.
"""
from __future__ import annotations

import json

from ..model.channel import Channel
from ..model.clock import local_stamp
from ..model.fsdata import SHOW_CALLS_B_COLUMNS, SHOW_CALLS_LEG_COLUMNS, SHOW_CHANNELS_COLUMNS
from ..model.ports import Host


def channel_row(chan: Channel) -> dict[str, str]:
    """One row of the channels table."""
    p = chan.profile
    created = chan.times.get("created", 0)
    outbound = chan.direction == "outbound"
    init = chan.facts.get("initial_profile") or p
    codec = chan.codec or ("", "", "")
    flipped = bool(chan.get_var("channel_cid_flipped"))
    return {
        "uuid": chan.uuid, "direction": chan.direction, "created": local_stamp(created),
        "created_epoch": str(created // 1_000_000), "name": chan.name,
        "state": chan.state_name, "cid_name": p.get("Caller-ID-Name", ""),
        "cid_num": p.get("Caller-ID-Number", ""),
        "ip_addr": "" if outbound else p.get("Network-Addr", ""),
        "dest": p.get("Destination-Number", ""), "application": chan.app or "",
        "application_data": chan.app_data or "", "dialplan": p.get("Dialplan", "") if not
        outbound else "", "context": p.get("Context", ""), "read_codec": codec[0],
        "read_rate": codec[1], "read_bit_rate": codec[2], "write_codec": codec[0],
        "write_rate": codec[1], "write_bit_rate": codec[2], "secure": "",
        "hostname": chan.host.hostname, "presence_id": "", "presence_data": "",
        "accountcode": "", "callstate": chan.callstate,
        "callee_name": p.get("Callee-ID-Name", "") if flipped or not outbound else "",
        "callee_num": p.get("Callee-ID-Number", "") if flipped or not outbound else "",
        "callee_direction": "RECV" if flipped else "",
        "call_uuid": chan.var("call_uuid", chan.uuid) if outbound else "",
        "sent_callee_name": "", "sent_callee_num": "",
        "initial_cid_name": init.get("Caller-ID-Name", ""),
        "initial_cid_num": init.get("Caller-ID-Number", ""),
        "initial_ip_addr": "" if outbound else init.get("Network-Addr", ""),
        "initial_dest": init.get("Destination-Number", ""),
        "initial_dialplan": "" if outbound else init.get("Dialplan", ""),
        "initial_context": init.get("Context", ""),
    }


def _live(host: Host) -> list[Channel]:
    return [c for c in host.channels.values() if not c.destroyed]


def _calls(host: Host) -> list[tuple[Channel, Channel | None]]:
    """Bridged pairs count as one call; every other leg is a call of its own."""
    out: list[tuple[Channel, Channel | None]] = []
    seen: set[str] = set()
    for chan in _live(host):
        if chan.uuid in seen:
            continue
        seen.add(chan.uuid)
        other = chan.bridge
        if other is not None and not other.destroyed and other.host is host:
            seen.add(other.uuid)
            a, b = (chan, other) if chan.facts.get("bridge_role") == "originator" else \
                (other, chan)
            out.append((a, b))
        else:
            out.append((chan, None))
    return out


def _text(columns: tuple[str, ...], rows: list[dict[str, str]]) -> str:
    if not rows:
        return "\n0 total.\n"
    lines = [",".join(columns)]
    lines += [",".join(row.get(c, "") for c in columns) for row in rows]
    return "\n".join(lines) + f"\n\n{len(rows)} total.\n"


def _json(columns: tuple[str, ...], rows: list[dict[str, str]]) -> str:
    if not rows:
        return '{"row_count": 0}\n'
    payload = {"row_count": len(rows), "rows": [{c: row.get(c, "") for c in columns}
                                               for row in rows]}
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def show(host: Host, arg: str) -> str:
    """``show channels|calls [count] [as json|xml|delim X]``."""
    words = arg.split()
    if not words:
        return "-USAGE: codec|endpoint|application|api|dialplan|file|timer|calls [count]|" \
               "channels [count|like <match string>]|calls|detailed_calls|bridged_calls|" \
               "detailed_bridged_calls|aliases|complete|chat|management|modules|nat_map|" \
               "say|interfaces|interface_types|tasks|limits|status\n"
    what = words[0].lower()
    rest = [w.lower() for w in words[1:]]
    as_json = "json" in rest and "as" in rest
    like = None
    if "like" in rest:
        i = rest.index("like")
        if i + 1 < len(words) - 1:
            like = words[1 + i + 1]
    if what in ("channels", "detailed_channels"):
        chans = _live(host)
        if like:
            chans = [c for c in chans if like in c.uuid or like in c.name or
                     like in c.cid_num or like in c.profile.get("Destination-Number", "")]
        if "count" in rest:
            return f"\n{len(chans)} total.\n"
        rows = [channel_row(c) for c in chans]
        return _json(SHOW_CHANNELS_COLUMNS, rows) if as_json else \
            _text(SHOW_CHANNELS_COLUMNS, rows)
    if what in ("calls", "bridged_calls", "detailed_calls", "detailed_bridged_calls"):
        calls = _calls(host)
        if what.startswith("bridged") or what.startswith("detailed_bridged"):
            calls = [c for c in calls if c[1] is not None]
        if "count" in rest:
            return f"\n{len(calls)} total.\n"
        columns = SHOW_CALLS_LEG_COLUMNS + SHOW_CALLS_B_COLUMNS
        rows = []
        for a, b in calls:
            row = {k: v for k, v in channel_row(a).items() if k in SHOW_CALLS_LEG_COLUMNS}
            if b is not None:
                brow = channel_row(b)
                for col in SHOW_CALLS_B_COLUMNS[:-1]:
                    row[col] = brow.get(col[2:], "")
                row["call_created_epoch"] = str(a.times.get("bridged", 0) // 1_000_000)
            rows.append(row)
        return _json(columns, rows) if as_json else _text(columns, rows)
    if what == "status":
        return f"\n{len(_live(host))} total.\n"
    return f"-ERR Cannot find show for {words[0]}\n"
