"""DEBUG (7) log lines of the emulator, derived from FreeSWITCH 1.11.1's sources
(switch_core_state_machine.c, switch_channel.c, mod_sofia.c, switch_core_session.c):
the state machine of both legs of one answered self-loop call, over a real socket.
"""
from __future__ import annotations

import asyncio
from collections import Counter

from switchlab.sim import DUTModel, Emulator
from switchlab.wire import Frame, FrameParser

A = "22222222-2222-4222-8222-222222222222"
SM = "switch_core_state_machine.c"
RUN = "switch_core_session_run"


async def _session(steps: list[str], late: bool = False) -> list[Frame]:
    """Send each step (0.3 s apart) on one connection; the log/data frames received."""
    async with Emulator(hosts=1, port=0, dut=DUTModel(seed=1), late_negotiation=late) as fs:
        reader, writer = await asyncio.open_connection(*fs.esl_addresses[0])
        parser, frames = FrameParser(), []

        async def read() -> None:
            while data := await reader.read(1 << 16):
                frames.extend(parser.feed(data))
        task = asyncio.create_task(read())
        for step in ["auth ClueCon\n\n", *steps]:
            writer.write(step.encode())
            await asyncio.sleep(0.3)
        task.cancel()
        writer.close()
        assert not fs.hosts[0].channels, "every leg destroyed"
    return [f for f in frames if f.content_type == "log/data"]


def _originate(uid: str) -> str:
    return (f"bgapi originate {{origination_uuid={uid},origination_caller_id_number=1000}}"
            "sofia/external/answer@127.0.0.1:5080 &park()\n\n")


async def _call(log_cmds: str, late: bool = False) -> list[Frame]:
    """One answered self-loop call killed after 0.3 s; the log/data frames received."""
    return await _session([log_cmds + _originate(A), f"api uuid_kill {A}\n\n"], late)


def _key(f: Frame) -> tuple[str, str, str]:
    return (f.headers["Log-Level"], f.headers["Log-File"], f.headers["Log-Func"])


async def test_debug_lines_of_an_answered_self_loop_call() -> None:
    logs = await _call("log debug\n\napi fsctl loglevel debug\n\n")
    debug = [f for f in logs if f.headers["Log-Level"] == "7"]
    keys = Counter(_key(f) for f in debug)
    texts = {(f.headers["User-Data"], f.text.split(" ", 4)[-1].rstrip("\n"))
             for f in debug if "\n" not in f.text.rstrip("\n")}
    # switch_core_session_run: a Running State Change per state before DESTROY (a: INIT
    # ROUTING CONSUME_MEDIA EXECUTE HANGUP REPORTING, b: no CONSUME_MEDIA), "State X" +
    # "going to sleep" per STATE_MACRO of the loop (a: 4, b: 3), and the loop's own
    # HANGUP -> REPORTING and REPORTING -> DESTROY requests (2 per leg)
    assert keys[("7", SM, RUN)] == (6 + 5) + 2 * (4 + 3) + 2 * 2
    assert keys[("7", SM, "switch_core_session_destroy_state")] == 2 * 3
    assert keys[("7", "mod_sofia.c", "sofia_on_init")] == 2
    assert keys[("7", "mod_sofia.c", "sofia_on_hangup")] == 4  # hanging up + Sending BYE
    # originate_on_routing returns FALSE: no Standard ROUTING/CONSUME_MEDIA on the a-leg
    assert keys[("7", SM, "switch_core_standard_on_routing")] == 2  # b: Standard + -> EXECUTE
    assert ("7", SM, "switch_core_standard_on_consume_media") not in keys
    assert keys[("7", "switch_channel.c", "switch_channel_perform_mark_answered")] == 2
    assert keys[("7", "mod_commands.c", "originate_function")] == 1
    assert keys[("7", "switch_core_session.c", "switch_core_session_thread")] == 2
    b_name = "sofia/external/1000@127.0.0.1"
    a_name = "sofia/external/answer@127.0.0.1:5080"
    b_uid = next(uid for uid, t in texts if f"({b_name}) Callstate Change DOWN -> RINGING" in t)
    assert any(t.endswith(f"({a_name}) State Change CS_CONSUME_MEDIA -> CS_EXECUTE")
               for _, t in texts)
    assert any(t.endswith(f"{a_name} Standard HANGUP, cause: NORMAL_CLEARING") for _, t in texts)
    assert any(t.endswith(f"Channel {b_name} hanging up, cause: NORMAL_CLEARING")
               for _, t in texts)
    # switch_ivr_originate runs without a session for the api: no User-Data
    orig = {t for uid, t in texts if not uid}
    assert orig == {"switch_ivr_originate.c:2301 Parsing global variables",
                    f"switch_ivr_originate.c:3913 Originate Resulted in Success: [{a_name}] "
                    f"Peer UUID: {A}"}
    assert (A, f"switch_core_session.c:641 {a_name} set UUID={A}") in texts
    # media: switch_core_media_set_codec + switch_core_session_set_real_read_codec per leg,
    # sofia_answer_channel's Local SDP on the answered inbound leg
    assert keys[("7", "switch_core_media.c", "switch_core_media_set_codec")] == 2
    assert (b_uid, f"switch_core_codec.c:132 {b_name} Original read codec set to PCMU:0") in texts
    assert keys[("7", "mod_sofia.c", "sofia_answer_channel")] == 1
    # switch_core_media_activate_rtp on both legs, RFC 2833 agreed (rtp_2833_*_payload=101)
    assert keys[("7", "switch_core_media.c", "switch_core_media_activate_rtp")] == 2 * 3
    assert (b_uid, f"switch_core_media.c:8980 {b_name} Set 2833 dtmf send payload to 101") in texts
    invite = next(f.text for f in debug if f.headers["Log-Line"] == "1659")
    assert "sending invite version: 1.11.1-release  64bit\nLocal SDP:\nv=0" in invite
    at = {f.headers["Log-Line"] for f in debug if f.headers["Log-Func"] == RUN}
    assert at == {"581", "607", "616", "624", "640", "647", "659"}


async def test_info_level_unchanged_by_debug_modelling() -> None:
    """At INFO (the core's default) the same call sends no DEBUG line, and the lines it
    sends are exactly those of the core level INFO with a ``log debug`` listener."""
    info = await _call("log info\n\n")
    capped = await _call("log debug\n\n")  # core level stays INFO: nothing above 6
    assert info and all(int(f.headers["Log-Level"]) <= 6 for f in info + capped)
    assert Counter(map(_key, info)) == Counter(map(_key, capped))


async def test_uuid_bridge_state_handlers() -> None:
    """``uuid_bridge_state_handlers`` on both legs: CUSTOM RESET / SOFT_EXECUTE lines, and
    no standard HIBERNATE / EXCHANGE_MEDIA (their switch_ivr_bridge.c handlers return FALSE)."""
    uuids = [A[:-1] + "1", A[:-1] + "3"]
    logs = await _session(["log debug\n\napi fsctl loglevel debug\n\n" + _originate(uuids[0])
                           + _originate(uuids[1]),
                           f"api uuid_bridge {uuids[0]} {uuids[1]}\n\n", "api hupall\n\n"])
    keys = Counter(_key(f) for f in logs)
    assert keys[("7", "switch_ivr_bridge.c", "uuid_bridge_on_reset")] == 2
    assert keys[("7", "switch_ivr_bridge.c", "uuid_bridge_on_soft_execute")] == 2
    assert keys[("7", "mod_sofia.c", "sofia_on_hibernate")] == 2
    assert ("7", SM, "switch_core_standard_on_hibernate") not in keys
    assert ("7", SM, "switch_core_standard_on_exchange_media") not in keys
    assert keys[("7", SM, "switch_core_standard_on_reset")] == 2


async def test_late_negotiation_init_and_media() -> None:
    """sofia's late negotiation: the inbound leg enters CS_INIT from the DELAYED NEGOTIATION
    branch of ``sofia_handle_sip_i_state`` and sets its codec when ``answer`` needs media."""
    logs = await _call("log debug\n\napi fsctl loglevel debug\n\n", late=True)
    at = {(f.headers["Log-Func"], f.headers["Log-Line"]) for f in logs
          if f.headers["Log-File"] == "sofia.c" and f.headers["Log-Level"] == "7"}
    assert at == {("sofia_handle_sip_i_state", "7918")}
    keys = Counter(_key(f) for f in logs)
    assert keys[("7", "switch_core_media.c", "switch_core_media_set_codec")] == 2
    assert keys[("7", "switch_core_media.c", "switch_core_media_activate_rtp")] == 2 * 3
