"""Replay a recorded FreeSWITCH transcript against the emulator and compare.

A transcript ``NAME`` in ``tests/data/fs-wire`` is three files: ``NAME.raw`` (bytes
received), ``NAME.recv.txt`` (receive time of each frame) and ``NAME.sent.txt``
(what the client sent, and when). :func:`replay` sends the same commands to an
emulator, waiting before each one until the emulator has produced what the real
server had produced by then (so timing differences do not change the story),
and maps uuids the real server chose (learnt from events) to the emulator's.
:func:`compare` lists every difference:

* each channel's event sequence (names in order), and the header names of each
  event (in order);
* the sequence of command replies, api responses and disconnect notices (texts
  with uuids replaced by roles; host-specific numbers masked for status-like
  commands);
* BACKGROUND_JOB / API events (commands, bodies, header names), the presence and
  header names of HEARTBEAT/RE_SCHEDULE, and the log lines (level, file, function).

Any transcript of the same form dropped into the directory is picked up.
"""
from __future__ import annotations

import ast
import asyncio
import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

from switchlab.sim import DUTModel, Emulator
from switchlab.wire import FrameParser, Frame, fs_url_decode

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
SEND_RE = re.compile(r"^\[\s*([0-9.]+)\]\s+# SEND (.*)$")
RECV_RE = re.compile(r"^\[\s*([0-9.]+)\]\s+(\d+)\s+(\d+)\s+(\S+)")
EVENT_TYPES = ("text/event-plain", "text/event-json", "text/event-xml")
GLOBAL_EVENTS = {"HEARTBEAT", "RE_SCHEDULE"}
JOB_EVENTS = {"BACKGROUND_JOB", "API"}
#: api commands whose output depends on the host (numbers, names): compared masked
HOST_SPECIFIC = {"status", "uptime", "global_getvar", "show", "sofia", "eval", "hostname"}
#: headers whose values tell the story of a call; compared exactly (uuids mapped)
SEMANTIC = (
    "Channel-State", "Channel-Call-State", "Channel-State-Number", "Answer-State",
    "Call-Direction", "Hangup-Cause", "Original-Channel-Call-State", "Application",
    "Application-Data", "Application-Response", "DTMF-Digit", "DTMF-Source", "Playback-Status",
    "Record-Completion-Cause", "Bridge-A-Unique-ID", "Bridge-B-Unique-ID", "Other-Type",
    "Caller-Destination-Number", "Caller-Context", "Caller-Caller-ID-Name",
    "Caller-Caller-ID-Number", "Caller-Callee-ID-Name", "Caller-Callee-ID-Number",
    "Other-Leg-Destination-Number", "Other-Leg-Caller-ID-Number", "Other-Leg-Context",
    "Other-Leg-Callee-ID-Number", "Other-Leg-Logical-Direction", "Caller-Logical-Direction",
    "Channel-HIT-Dialplan", "Caller-Profile-Index", "variable_DIALSTATUS",
    "variable_originate_disposition", "variable_last_bridge_hangup_cause",
    "variable_audio_media_flow", "variable_hangup_cause",
    "variable_hangup_cause_q850", "variable_sip_term_status", "variable_sip_hangup_disposition",
    "variable_sip_invite_failure_status", "variable_sip_invite_failure_phrase",
    "variable_endpoint_disposition", "variable_current_application",
    "variable_proto_specific_hangup_cause", "variable_last_app",
)


# -- loading -------------------------------------------------------------------------------
@dataclass
class Transcript:
    name: str
    sends: list[tuple[float, bytes]]
    frames: list[tuple[float, Frame]]

    @property
    def uses_dut(self) -> bool:
        return any(b"127.0.0.1:5070" in data for _, data in self.sends)

    @property
    def duration(self) -> float:
        return max([t for t, _ in self.sends] + [t for t, _ in self.frames] + [0.0])


def available(directory: Path) -> list[str]:
    """Names of complete transcripts (raw + sent + recv) in ``directory``."""
    names = []
    for raw in sorted(directory.glob("*.raw")):
        name = raw.stem
        if (directory / f"{name}.sent.txt").exists() and (directory / f"{name}.recv.txt").exists():
            names.append(name)
    return names


def load(directory: Path, name: str) -> Transcript:
    sends = []
    for line in (directory / f"{name}.sent.txt").read_text().splitlines():
        m = SEND_RE.match(line)
        if m:
            value = ast.literal_eval(m.group(2))
            sends.append((float(m.group(1)),
                          value.encode("utf-8") if isinstance(value, str) else value))
    times = []
    for line in (directory / f"{name}.recv.txt").read_text().splitlines():
        m = RECV_RE.match(line)
        if m:
            times.append(float(m.group(1)))
    frames = FrameParser().feed((directory / f"{name}.raw").read_bytes())
    if len(times) != len(frames):
        raise ValueError(f"{name}: recv index lists {len(times)} frames, raw has {len(frames)}")
    return Transcript(name, sends, list(zip(times, frames)))


# -- parsing events with duplicates kept --------------------------------------------------
def event_headers(frame: Frame) -> list[tuple[str, str]]:
    """Ordered, decoded (name, value) pairs of an event frame (duplicates kept)."""
    ct = frame.content_type
    if ct == "text/event-plain":
        text = frame.body.decode("utf-8", "replace")
        block = text.split("\n\n", 1)[0]
        out = []
        for line in block.split("\n"):
            k, _, v = line.partition(": ")
            if k:
                out.append((k, fs_url_decode(v)))
        return out
    if ct == "text/event-json":
        pairs = json.loads(frame.body, object_pairs_hook=lambda p: p)
        return [(k, v) for k, v in pairs if k not in ("_body",) and not
                (k == "Content-Length" and pairs[-1][0] == "_body")]
    root = ElementTree.fromstring(frame.body)
    headers = root.find("headers")
    return [(el.tag, fs_url_decode(el.text or "")) for el in (headers if headers is not None
                                                              else [])]


def event_body(frame: Frame) -> str:
    ct = frame.content_type
    if ct == "text/event-plain":
        text = frame.body.decode("utf-8", "replace")
        parts = text.split("\n\n", 1)
        return parts[1] if len(parts) > 1 else ""
    if ct == "text/event-json":
        return json.loads(frame.body).get("_body", "")
    root = ElementTree.fromstring(frame.body)
    body = root.find("body")
    return (body.text or "").rstrip(" ") if body is not None else ""


@dataclass
class Item:
    """One frame, classified."""

    kind: str            # event, reply, api, notice, log, auth
    t: float
    frame: Frame
    name: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    uid: str | None = None

    def get(self, name: str) -> str | None:
        for k, v in self.headers:
            if k == name:
                return v
        return None


def classify(t: float, frame: Frame) -> Item:
    ct = frame.content_type
    if ct in EVENT_TYPES:
        headers = event_headers(frame)
        item = Item("event", t, frame, headers=headers)
        item.name = item.get("Event-Name") or ""
        item.uid = item.get("Unique-ID")
        return item
    if ct == "command/reply":
        return Item("reply", t, frame)
    if ct == "api/response":
        return Item("api", t, frame)
    if ct == "text/disconnect-notice":
        return Item("notice", t, frame)
    if ct == "log/data":
        return Item("log", t, frame)
    return Item("auth", t, frame)


def signature(item: Item) -> tuple[str, str]:
    """What identifies a channel's role across runs (direction, channel name)."""
    return (item.get("Call-Direction") or "", item.get("Channel-Name") or "")


class Roles:
    """Assigns channels (by uuid) to roles: same uuid, else same signature in order."""

    def __init__(self) -> None:
        self.by_uuid: dict[str, str] = {}
        self.order: list[str] = []
        self._sig_count: Counter[tuple[str, str]] = Counter()

    def see(self, item: Item, fixed: set[str]) -> str:
        uid = item.uid or ""
        role = self.by_uuid.get(uid)
        if role is None:
            if uid in fixed:
                role = f"uuid:{uid}"
            else:
                sig = signature(item)
                n = self._sig_count[sig]
                self._sig_count[sig] += 1
                role = f"{sig[0]}|{sig[1]}|{n}"
            self.by_uuid[uid] = role
            self.order.append(uid)
        return role


# -- DUT inferred from the real transcript --------------------------------------------------
def infer_dut(tr: Transcript) -> DUTModel:
    """A DUT that behaves as the recorded peer on 127.0.0.1:5070 did."""
    created = progress = media = answered = hung = None
    term_status = None
    cause = None
    for _, frame in tr.frames:
        if frame.content_type not in EVENT_TYPES:
            continue
        item = classify(0, frame)
        if ":5070" not in (item.get("Channel-Name") or ""):
            continue
        ts = int(item.get("Event-Date-Timestamp") or 0) / 1000.0
        if item.name == "CHANNEL_CREATE" and created is None:
            created = ts
        elif item.name == "CHANNEL_PROGRESS" and progress is None:
            progress = ts
        elif item.name == "CHANNEL_PROGRESS_MEDIA" and media is None:
            media = ts
        elif item.name == "CHANNEL_ANSWER" and answered is None:
            answered = ts
        elif item.name == "CHANNEL_HANGUP" and hung is None:
            hung = ts
            cause = item.get("Hangup-Cause")
            term_status = item.get("variable_sip_term_status")
    created = created or 0.0
    dut = DUTModel(seed=1, trying_ms=0, failures={}, answer_probability=1.0, knee_ms=0)
    if answered is None and term_status and term_status.isdigit():
        dut.failures = {int(term_status): 1.0}
        dut.failure_ms = max(0.0, (hung or created) - created)
        return dut
    dut.send_ringing = progress is not None
    dut.ringing_ms = max(0.0, (progress or created) - created)
    base = progress if progress is not None else created
    if media is not None:
        dut.early_media = 1.0
        dut.early_media_ms = max(0.0, media - base)
    if answered is not None:
        dut.ring_ms = max(0.0, answered - base)
    else:
        dut.answer_probability = 0.0
        if cause == "NO_ANSWER":
            dut.ring_timeout_s = 600.0
    return dut


def recorded_hostname(tr: Transcript) -> str | None:
    """The recorded server's hostname (from its events or ``global_getvar``)."""
    for _, frame in tr.frames:
        if frame.content_type in EVENT_TYPES:
            name = classify(0, frame).get("FreeSWITCH-Hostname")
            if name:
                return name
        if frame.content_type == "api/response":
            m = re.match(r"hostname=(\S+)\n", frame.text)
            if m:
                return m.group(1)
    return None


def late_negotiation(tr: Transcript) -> bool:
    """Did the recorded server's profiles use ``inbound-late-negotiation``? (sofia marks an
    inbound leg's CHANNEL_CREATE ``endpoint_disposition: DELAYED NEGOTIATION``)."""
    for _, frame in tr.frames:
        if frame.content_type in EVENT_TYPES and b"CHANNEL_CREATE" in frame.body[:200]:
            item = classify(0, frame)
            if item.get("Call-Direction") == "inbound":
                return item.get("variable_endpoint_disposition") == "DELAYED NEGOTIATION"
    return False


def park_expression(tr: Transcript) -> str:
    """The recorded dialplan's catch-all condition: one with a capture group sets DP_MATCH
    (mod_dialplan_xml), so a parked-only inbound leg without it had none."""
    for _, frame in tr.frames:
        if frame.content_type in EVENT_TYPES and b"CHANNEL_PARK" in frame.body[:200]:
            item = classify(0, frame)
            dest = item.get("Caller-Destination-Number") or ""
            if item.get("Call-Direction") == "inbound" and not dest.startswith("answer"):
                return "^(.*)$" if item.get("variable_DP_MATCH") else "^park"
    return "^(.*)$"


def emulator_for(tr: Transcript, tick_us: int = 20_000) -> Emulator:
    """An emulator set up like the recorded server (hostname, DUT on 5070, heartbeat,
    sofia's late negotiation)."""
    has_heartbeat = any(b"HEARTBEAT" in f.body[:40] for _, f in tr.frames)
    heartbeat = 0.4 if has_heartbeat else 3600.0
    dut = infer_dut(tr) if tr.uses_dut else DUTModel(seed=1)
    hostname = recorded_hostname(tr)
    return Emulator(hosts=1, port=0, dut=dut, tick_us=tick_us, heartbeat_s=heartbeat,
                    hostnames=[hostname] if hostname else None,
                    late_negotiation=late_negotiation(tr), park_expression=park_expression(tr))


# -- replay ----------------------------------------------------------------------------------
@dataclass
class Stream:
    """What one side (real or emulated) produced, split into comparable streams."""

    items: list[Item] = field(default_factory=list)
    roles: Roles = field(default_factory=Roles)
    channels: dict[str, list[Item]] = field(default_factory=dict)
    jobs: list[Item] = field(default_factory=list)
    globals_: list[Item] = field(default_factory=list)
    responses: list[Item] = field(default_factory=list)
    logs: list[Item] = field(default_factory=list)
    other_events: list[Item] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: events left out of :meth:`counts_before` (what a replay waits for)
    uncounted: frozenset[str] = frozenset()

    def add(self, item: Item, fixed: set[str]) -> None:
        self.items.append(item)
        if item.kind == "reply" and "Unique-ID" in item.frame.headers:
            # an outbound socket's connect reply: its header block is the channel data
            data = Item("event", item.t, item.frame,
                        headers=[(k, fs_url_decode(v)) for k, v in item.frame.headers.items()])
            data.uid = data.get("Unique-ID")
            self.roles.see(data, fixed)
        if item.kind == "event":
            if item.uid:
                role = self.roles.see(item, fixed)
                self.channels.setdefault(role, []).append(item)
            elif item.name in JOB_EVENTS:
                self.jobs.append(item)
            elif item.name in GLOBAL_EVENTS:
                self.globals_.append(item)
            else:
                self.other_events.append(item)
        elif item.kind == "log":
            self.logs.append(item)
        else:
            self.responses.append(item)

    def counts_before(self) -> dict[str, int]:
        skip = self.uncounted
        out = {role: len([e for e in evs if e.name not in skip]) if skip else len(evs)
               for role, evs in self.channels.items()}
        out["#jobs"] = len([j for j in self.jobs if j.name == "BACKGROUND_JOB"])
        out["#heartbeat"] = len([g for g in self.globals_ if g.name == "HEARTBEAT"])
        return out


def fixed_uuids(tr: Transcript) -> set[str]:
    """uuids the client chose itself (origination_uuid): the same in both runs."""
    out: set[str] = set()
    for _, data in tr.sends:
        for m in re.finditer(r"origination_uuid=(" + UUID_RE.pattern + ")", data.decode()):
            out.add(m.group(1))
    return out


def real_stream(tr: Transcript) -> Stream:
    fixed = fixed_uuids(tr)
    s = Stream()
    for t, frame in tr.frames:
        s.add(classify(t, frame), fixed)
    return s


async def replay(tr: Transcript, emulator: Emulator, sync_timeout: float = 8.0,
                 max_gap: float = 1.0, uncounted: frozenset[str] = frozenset()) -> Stream:
    """Send ``tr``'s commands to ``emulator``; return what it sent back."""
    host, port = emulator.esl_addresses[0]
    reader, writer = await asyncio.open_connection(host, port)
    return await replay_on(tr, reader, writer, sync_timeout, max_gap, uncounted)


async def replay_on(tr: Transcript, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    sync_timeout: float = 8.0, max_gap: float = 1.0,
                    uncounted: frozenset[str] = frozenset()) -> Stream:
    """Replay ``tr``'s commands on a connection (one we dialled, or one the emulator's
    ``socket`` application made to us); return what came back. Before each command
    it waits for what the real server had sent by then, ``uncounted`` events aside."""
    real = real_stream(tr)
    real.uncounted = uncounted
    fixed = fixed_uuids(tr)
    emu = Stream(uncounted=uncounted)
    parser = FrameParser()
    start = time.monotonic()
    eof = asyncio.Event()

    async def read() -> None:
        while True:
            data = await reader.read(1 << 16)
            if not data:
                eof.set()
                return
            for frame in parser.feed(data):
                emu.add(classify(time.monotonic() - start, frame), fixed)

    task = asyncio.create_task(read())
    # per command: what the real server had produced before it was sent
    real_items = [(t, classify(t, f)) for t, f in tr.frames]
    try:
        previous = 0.0
        last_sent = time.monotonic()
        for ts, data in tr.sends:
            # keep the recorded pauses (capped): some outcomes only depend on time passing
            gap = min(max(0.0, ts - previous), max_gap)
            previous = ts
            await asyncio.sleep(max(0.0, last_sent + gap - time.monotonic()))
            needed = _needed(real, real_items, ts, fixed, uncounted)
            deadline = time.monotonic() + sync_timeout
            while not _satisfied(emu, needed):
                if time.monotonic() > deadline:
                    emu.notes.append(f"before sending {data[:40]!r}: waited {sync_timeout} s "
                                     f"for {needed}, got {emu.counts_before()}")
                    break
                await asyncio.sleep(0.005)
            text = data.decode("utf-8")
            deadline = time.monotonic() + sync_timeout
            while True:
                mapped, missing = _map_uuids(text, real, emu, fixed)
                if not missing or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.005)
            writer.write(mapped.encode("utf-8"))
            await writer.drain()
            last_sent = time.monotonic()
        # the server may close by itself some time after the last command (linger N)
        tail = tr.duration - (tr.sends[-1][0] if tr.sends else 0.0)
        try:
            await asyncio.wait_for(eof.wait(), min(15.0, max(1.0, tail + 2.0)))
        except asyncio.TimeoutError:
            # the recording client half-closed its socket at the end (no exit sent)
            writer.write_eof()
            try:
                await asyncio.wait_for(eof.wait(), sync_timeout)
            except asyncio.TimeoutError:
                emu.notes.append("the emulator did not close the connection")
    finally:
        task.cancel()
        writer.close()
    return emu


def _needed(real: Stream, real_items: list[tuple[float, Item]], ts: float,
            fixed: set[str], uncounted: frozenset[str] = frozenset()) -> dict[str, int]:
    before = Stream(uncounted=uncounted)
    for t, item in real_items:
        if t >= ts:  # same millisecond: may well have been caused by this very command
            break
        before.add(item, fixed)
    return before.counts_before()


def _satisfied(emu: Stream, needed: dict[str, int]) -> bool:
    have = emu.counts_before()
    return all(have.get(k, 0) >= n for k, n in needed.items())


def _map_uuids(text: str, real: Stream, emu: Stream, fixed: set[str]) -> tuple[str, list[str]]:
    missing = []

    def sub(m: re.Match[str]) -> str:
        uid = m.group(0)
        if uid in fixed:
            return uid
        role = real.roles.by_uuid.get(uid)
        if role is None:
            return uid
        for euid, erole in emu.roles.by_uuid.items():
            if erole == role:
                return euid
        missing.append(uid)
        return uid

    return UUID_RE.sub(sub, text), missing


# -- comparison --------------------------------------------------------------------------
def _norm(text: str, roles: Roles, hostname: str | None) -> str:
    def sub(m: re.Match[str]) -> str:
        role = roles.by_uuid.get(m.group(0))
        return f"<{role}>" if role else "<uuid>"
    text = UUID_RE.sub(sub, text)
    if hostname:
        text = re.sub(rf"\b{re.escape(hostname)}\b", "<host>", text)
    return text


def _mask(text: str) -> str:
    text = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", "<date>", text)
    text = re.sub(r"\d+(\.\d+)?", "<n>", text)
    return re.sub(r"<n> (year|day|hour|minute|second|millisecond|microsecond)s\b", r"<n> \1",
                  text)


def _hostname(stream: Stream) -> str | None:
    for item in stream.items:
        if item.kind == "event":
            return item.get("FreeSWITCH-Hostname")
    return None


def _api_commands(tr: Transcript) -> list[str]:
    out = []
    for _, data in tr.sends:
        line = data.decode("utf-8", "replace").split("\n", 1)[0]
        if line.startswith("api "):
            out.append(line[4:].split(" ", 1)[0])
    return out


def response_texts(stream: Stream, tr: Transcript) -> list[str]:
    host = _hostname(stream)
    apis = iter(_api_commands(tr))
    out = []
    for item in stream.responses:
        f = item.frame
        if item.kind == "reply":
            out.append("reply " + _norm(f.reply_text, stream.roles, host))
        elif item.kind == "api":
            cmd = next(apis, "")
            body = _norm(f.text, stream.roles, host)
            if cmd == "uuid_dump" and body[:1] in ("E", "{"):
                body = _dump_shape(body)
            elif cmd == "global_getvar" and "=" in body:
                body = "\n".join(line.split("=", 1)[0] for line in body.splitlines())
            elif cmd in HOST_SPECIFIC:
                body = _mask(body)
            out.append(f"api[{cmd}] {body!r}")
        elif item.kind == "notice":
            extra = {k: v for k, v in f.headers.items() if k not in ("Content-Length",)}
            if "Controlled-Session-UUID" in extra:
                extra["Controlled-Session-UUID"] = _norm(
                    extra["Controlled-Session-UUID"], stream.roles, host)
            out.append(f"notice {sorted(extra.items())} {f.text!r}")
        else:
            out.append(item.kind)
    return out


def _dump_shape(body: str) -> str:
    """A ``uuid_dump`` (a CHANNEL_DATA event, plain or json): its format, header names in
    order and the values that tell the story (the rest differ from run to run)."""
    if body.startswith("{"):
        pairs = json.loads(body, object_pairs_hook=lambda p: p)
        fmt = "json"
    else:
        pairs = [tuple(line.split(": ", 1)) for line in body.rstrip("\n").split("\n")]
        pairs = [(k, fs_url_decode(v)) for k, v in pairs]
        fmt = "plain, ends " + repr(body[-2:])
    values = {k: v for k, v in pairs if k in SEMANTIC}
    return f"<{fmt} event: {[k for k, _ in pairs]} {sorted(values.items())}>"


def _names(item: Item) -> list[str]:
    return [k for k, _ in item.headers]


def compare(tr: Transcript, real: Stream, emu: Stream) -> list[str]:
    """Every difference between the real and the emulated run (empty if none)."""
    diffs: list[str] = list(emu.notes)
    # channels, matched by role
    for role, revents in real.channels.items():
        eevents = emu.channels.get(role)
        if eevents is None:
            diffs.append(f"channel {role}: missing in the emulator "
                         f"(emulated roles: {list(emu.channels)})")
            continue
        rnames = [e.name for e in revents]
        enames = [e.name for e in eevents]
        if rnames != enames:
            diffs.append(f"channel {role}: event sequence differs\n  real: {rnames}\n"
                         f"  emu:  {enames}")
        rh, eh = _hostname(real), _hostname(emu)
        for i, (r, e) in enumerate(zip(revents, eevents)):
            if r.name != e.name:
                break
            for h in SEMANTIC:
                rv, ev = r.get(h), e.get(h)
                if rv is not None:
                    rv = _norm(rv, real.roles, rh)
                if ev is not None:
                    ev = _norm(ev, emu.roles, eh)
                if rv != ev:
                    diffs.append(f"channel {role}: event #{i} {r.name}: {h} is {ev!r}, "
                                 f"FreeSWITCH said {rv!r}")
            rn, en = _names(r), _names(e)
            if rn != en:
                missing = [n for n in rn if n not in en]
                extra = [n for n in en if n not in rn]
                at = next((k for k, (x, y) in enumerate(zip(rn, en)) if x != y),
                          min(len(rn), len(en)))
                diffs.append(f"channel {role}: event #{i} {r.name}: header names differ; "
                             f"missing {missing}, extra {extra}"
                             + ("" if missing or extra else
                                f" (order from #{at}: real {rn[at:at + 4]} emu {en[at:at + 4]})"))
    for role in emu.channels:
        if role not in real.channels:
            diffs.append(f"channel {role}: only in the emulator")
    # replies and responses
    rr, er = response_texts(real, tr), response_texts(emu, tr)
    if rr != er:
        for i in range(max(len(rr), len(er))):
            a = rr[i] if i < len(rr) else None
            b = er[i] if i < len(er) else None
            if a != b:
                diffs.append(f"response #{i} differs\n  real: {a}\n  emu:  {b}")
    # jobs
    rh, eh = _hostname(real), _hostname(emu)

    def jobs(s: Stream, host: str | None) -> list[str]:
        out = []
        for j in s.jobs:
            if j.name == "BACKGROUND_JOB":
                out.append(f"BACKGROUND_JOB {j.get('Job-Command')} "
                           f"{_norm(event_body(j.frame), s.roles, host)!r}")
            else:
                arg = j.get("API-Command-Argument") or ""
                cmd = j.get("API-Command") or ""
                out.append(f"API {cmd} " + _norm(arg, s.roles, host))
        return sorted(out)

    rj, ej = jobs(real, rh), jobs(emu, eh)
    if rj != ej:
        diffs.append(f"jobs differ\n  real: {rj}\n  emu:  {ej}")
    for name in JOB_EVENTS | GLOBAL_EVENTS:
        r = next((j for j in real.jobs + real.globals_ if j.name == name), None)
        e = next((j for j in emu.jobs + emu.globals_ if j.name == name), None)
        if r is not None and e is None:
            diffs.append(f"no {name} event from the emulator")
        elif r is not None and e is not None and _names(r) != _names(e):
            diffs.append(f"{name}: header names differ\n  real: {_names(r)}\n"
                         f"  emu:  {_names(e)}")
    # events of no channel and no job (ADD_SCHEDULE, CUSTOM ...): names as a multiset,
    # header names of the first of each
    rc = Counter(e.name for e in real.other_events)
    ec = Counter(e.name for e in emu.other_events)
    if rc != ec:
        diffs.append(f"other events differ: missing {dict(rc - ec)}, extra {dict(ec - rc)}")
    for name in rc:
        r = next(e for e in real.other_events if e.name == name)
        e = next((x for x in emu.other_events if x.name == name), None)
        if e is not None and _names(r) != _names(e):
            diffs.append(f"{name}: header names differ\n  real: {_names(r)}\n"
                         f"  emu:  {_names(e)}")
    # logs: (level, file, function) as a multiset
    def logs(s: Stream) -> Counter[tuple[str, str, str]]:
        return Counter((i.frame.headers.get("Log-Level", ""), i.frame.headers.get("Log-File", ""),
                        i.frame.headers.get("Log-Func", "")) for i in s.logs)
    rl, el = logs(real), logs(emu)
    if rl != el:
        diffs.append(f"log lines differ: missing {dict(rl - el)}, extra {dict(el - rl)}")
    return diffs


async def run_scenario(directory: Path, name: str, tick_us: int = 20_000) -> tuple[
        Transcript, Stream, Stream]:
    tr = load(directory, name)
    emulator = emulator_for(tr, tick_us)
    async with emulator:
        emu = await replay(tr, emulator)
    return tr, real_stream(tr), emu


def outbound_pairs(directory: Path) -> list[str]:
    """Outbound-socket scenarios: ``NAME`` (the socket) with ``NAME_inbound`` beside it."""
    names = available(directory)
    return [n for n in names if f"{n}_inbound" in names]


async def run_outbound_scenario(directory: Path, name: str, tick_us: int = 20_000,
                                uncounted: frozenset[str] = frozenset()) -> tuple[tuple[Transcript, Stream, Stream],
                                           tuple[Transcript, Stream, Stream]]:
    """Replay an outbound-socket scenario: the inbound connection's commands (which
    originate the call) and, on a server the emulator's ``socket`` application
    connects to, the outbound server's commands. Both sides are returned as
    ``(transcript, real, emulated)`` for :func:`compare`."""
    out_tr = load(directory, name)
    in_tr = load(directory, f"{name}_inbound")
    accepted: asyncio.Future[Stream] = asyncio.get_running_loop().create_future()
    tasks: set[asyncio.Task[None]] = set()

    async def serve_one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if accepted.done():
            writer.close()
            return
        try:
            accepted.set_result(await replay_on(out_tr, reader, writer, sync_timeout=3.0,
                                                 uncounted=uncounted))
        except Exception as exc:  # noqa: BLE001 - reported by the caller
            if not accepted.done():
                accepted.set_exception(exc)

    def on_accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.get_running_loop().create_task(serve_one(reader, writer))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    server = await asyncio.start_server(on_accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    base = emulator_for(in_tr, tick_us)
    emulator = Emulator(hosts=1, port=0, dut=base.dut, tick_us=tick_us,
                        heartbeat_s=base.heartbeat_s, hostnames=[h.hostname for h in base.hosts],
                        socket_address=f"127.0.0.1:{port}")
    try:
        async with emulator:
            emu_in = await replay(in_tr, emulator, sync_timeout=3.0, uncounted=uncounted)
            emu_out = await asyncio.wait_for(accepted, 10.0)
    finally:
        server.close()
    # the recordings' server listened on 127.0.0.1:8084 (``socket`` argument, variables)
    ours = f"127.0.0.1:{port}"
    for item in emu_in.items + emu_out.items:
        item.headers = [(k, v.replace(ours, "127.0.0.1:8084")) for k, v in item.headers]
    return (out_tr, real_stream(out_tr), emu_out), (in_tr, real_stream(in_tr), emu_in)


def describe(stream: Stream) -> str:
    """Readable dump (for debugging a failing scenario)."""
    lines = []
    for item in stream.items:
        if item.kind == "event":
            role = stream.roles.by_uuid.get(item.uid or "", "")
            lines.append(f"{item.t:8.3f} EVENT {item.name} {role}")
        else:
            lines.append(f"{item.t:8.3f} {item.kind} {item.frame!r}")
    return "\n".join(lines)


__all__ = ["Transcript", "available", "load", "replay", "replay_on", "compare", "run_scenario",
           "outbound_pairs", "run_outbound_scenario",
           "real_stream", "infer_dut", "emulator_for", "describe"]
