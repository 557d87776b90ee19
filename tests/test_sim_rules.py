"""FreeSWITCH's rules the emulator follows beyond the recorded transcripts (the same
rules are checked against real recordings in test_sim_fidelity.py): a dialplan
``bridge`` that succeeds, ``fsctl loglevel``, ``sched_hangup``, uuid errors and
``uuid_dump``, sofia's late negotiation.
"""
from __future__ import annotations

import asyncio
import json

from switchlab.sim import DUTModel, Emulator
from switchlab.wire import Frame, FrameParser, fs_url_decode

A = "11111111-1111-4111-8111-111111111111"


class Raw:
    """A raw event-socket client collecting every frame."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.frames: list[Frame] = []
        self.parser = FrameParser()
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        while data := await self.reader.read(1 << 16):
            self.frames.extend(self.parser.feed(data))

    async def send(self, text: str, wait: float = 0.1) -> None:
        self.writer.write(text.encode())
        await asyncio.sleep(wait)

    def events(self, uid: str | None = None) -> list[dict[str, str]]:
        out = []
        for f in self.frames:
            if f.content_type == "text/event-plain":
                block = f.body.decode().split("\n\n", 1)[0]
                ev: dict[str, str] = {}
                for line in block.split("\n"):
                    k, _, v = line.partition(": ")
                    ev.setdefault(k, fs_url_decode(v))
                if uid is None or ev.get("Unique-ID") == uid:
                    out.append(ev)
        return out

    def api_bodies(self) -> list[str]:
        return [f.text for f in self.frames if f.content_type == "api/response"]

    async def close(self) -> None:
        self.task.cancel()
        self.writer.close()


async def _raw(fs: Emulator) -> Raw:
    host, port = fs.esl_addresses[0]
    raw = Raw(*await asyncio.open_connection(host, port))
    await raw.send("auth ClueCon\n\nevent plain ALL\n\n")
    return raw


async def _self_loop(raw: Raw) -> str:
    """Originate A to the host's own ``answer`` extension; the inbound leg's uuid."""
    await raw.send("bgapi originate {origination_uuid=%s,origination_caller_id_number=1000}"
                   "sofia/external/answer@127.0.0.1:5080 &park()\n\n" % A, wait=0.4)
    return next(e["Unique-ID"] for e in raw.events() if e["Event-Name"] == "CHANNEL_CREATE"
                and e["Call-Direction"] == "inbound")


async def test_dialplan_bridge_profiles_and_call_states() -> None:
    async with Emulator(hosts=1, port=0, dut=DUTModel(seed=1)) as fs:
        raw = await _raw(fs)
        b = await _self_loop(raw)
        await raw.send(f"sendmsg {b}\ncall-command: execute\nexecute-app-name: bridge\n"
                       "execute-app-arg: sofia/external/answer2@127.0.0.1:5080\n\n", wait=0.5)
        owner = [e for e in raw.events(b) if e["Event-Name"] in
                 ("CHANNEL_CALLSTATE", "CHANNEL_BRIDGE")][-3:]
        # CF_ORIGINATOR on an answered channel: RING_WAIT while dialling, ACTIVE before BRIDGE
        assert [(e["Event-Name"], e["Channel-Call-State"]) for e in owner] == [
            ("CHANNEL_CALLSTATE", "RING_WAIT"), ("CHANNEL_CALLSTATE", "ACTIVE"),
            ("CHANNEL_BRIDGE", "ACTIVE")]
        bridge = owner[-1]
        leg = bridge["Bridge-B-Unique-ID"]
        assert bridge["Other-Type"] == "originatee" and bridge["Other-Leg-Unique-ID"] == leg
        out = raw.events(leg)
        assert out[0]["Event-Name"] == "CHANNEL_OUTGOING"
        for ev in out:  # every event of the dialled leg: the caller as its originator
            assert ev["Other-Type"] == "originator" and ev["Other-Leg-Unique-ID"] == b
            assert ev["Other-Leg-Channel-Created-Time"] == "0"  # a profile clone: no times
            assert ev["Caller-Context"] == "switchio"  # cloned from the caller
        create = next(e for e in out if e["Event-Name"] == "CHANNEL_CREATE")
        assert create["variable_originator"] == b and create["variable_call_uuid"] == b
        assert create["variable_max_forwards"] == "69"
        await raw.close()


async def test_fsctl_loglevel_names_and_sets_the_level() -> None:
    async with Emulator(hosts=1, port=0, dut=DUTModel(seed=1)) as fs:
        raw = await _raw(fs)
        await raw.send("log debug\n\napi fsctl loglevel debug\n\napi fsctl loglevel 4\n\n"
                       "api fsctl loglevel loud\n\n")
        assert raw.api_bodies() == ["+OK log level: DEBUG [7]\n",
                                    "+OK log level: WARNING [4]\n",
                                    "-ERR syntax error, log level not set!\n"]
        await _self_loop(raw)  # the core logs nothing above WARNING now
        levels = {f.headers.get("Log-Level") for f in raw.frames if f.content_type == "log/data"}
        assert levels <= {"0", "1", "2", "3", "4"}
        await raw.send("api fsctl loglevel info\n\n")
        await raw.send(f"api uuid_kill {A}\n\n", wait=0.3)
        assert any(f.headers.get("Log-Level") == "5" for f in raw.frames
                   if f.content_type == "log/data")
        await raw.close()


async def test_uuid_family_dump_sched_hangup_and_gone_uuids() -> None:
    async with Emulator(hosts=1, port=0, dut=DUTModel(seed=1)) as fs:
        raw = await _raw(fs)
        await _self_loop(raw)
        await raw.send(f"api uuid_setvar_multi {A} foo=1;bar=two\n\n"
                       f"api uuid_getvar {A} bar\n\napi uuid_dump {A} json\n\n"
                       f"api sched_hangup +1 {A} USER_BUSY\n\n")
        setvar, getvar, dump, sched = raw.api_bodies()
        assert (setvar, getvar, sched) == ("+OK\n", "two", "+OK\n")
        data = json.loads(dump)
        assert data["Event-Name"] == "CHANNEL_DATA" and data["variable_foo"] == "1"
        assert data["Event-Calling-Function"] == "uuid_dump_function"
        # whole-second scheduler: +1 runs when the next epoch second begins
        await asyncio.sleep(1.2)
        hangup = next(e for e in raw.events(A) if e["Event-Name"] == "CHANNEL_HANGUP")
        assert hangup["Hangup-Cause"] == "USER_BUSY"
        names = [e["Event-Name"] for e in raw.events() if "SCHEDULE" in e["Event-Name"]]
        assert names == ["ADD_SCHEDULE", "DEL_SCHEDULE"]
        await raw.send(f"api uuid_getvar {A} foo\n\napi uuid_dump {A}\n\n"
                       f"api uuid_setvar_multi {A} a=b\n\n")
        assert raw.api_bodies()[-3:] == ["-ERR No such channel!\n"] * 3
        await raw.close()


async def test_late_negotiation_negotiates_at_answer() -> None:
    async with Emulator(hosts=1, port=0, dut=DUTModel(seed=1), late_negotiation=True) as fs:
        raw = await _raw(fs)
        b = await _self_loop(raw)
        evs = raw.events(b)
        create = next(e for e in evs if e["Event-Name"] == "CHANNEL_CREATE")
        assert create["variable_endpoint_disposition"] == "DELAYED NEGOTIATION"
        assert "Channel-Read-Codec-Name" not in create
        names = [e["Event-Name"] for e in evs]
        at = names.index("CODEC")
        assert names[at:at + 6] == ["CODEC", "CODEC", "CHANNEL_PROGRESS_MEDIA",
                                    "CHANNEL_CALLSTATE", "CHANNEL_ANSWER", "CHANNEL_CALLSTATE"]
        assert names.index("CHANNEL_EXECUTE") < at  # negotiated by the answer app
        await raw.close()
