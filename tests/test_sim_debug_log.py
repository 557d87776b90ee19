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
    # CUSTOM RESET + the State Change -> CS_SOFT_EXECUTE it asks for, on each leg
    assert keys[("7", "switch_ivr_bridge.c", "uuid_bridge_on_reset")] == 2 * 2
    assert keys[("7", "switch_ivr_bridge.c", "uuid_bridge_on_soft_execute")] == 2
    # the State Change callers: switch_ivr_uuid_bridge (-> HIBERNATE), the hibernate
    # handler (-> RESET), switch_ivr_multi_threaded_bridge (originatee -> EXCHANGE_MEDIA)
    assert keys[("7", "switch_ivr_bridge.c", "switch_ivr_uuid_bridge")] == 2
    assert keys[("7", "switch_ivr_bridge.c", "uuid_bridge_on_hibernate")] == 2
    assert keys[("7", "switch_ivr_bridge.c", "switch_ivr_multi_threaded_bridge")] == 1
    assert keys[("7", "mod_sofia.c", "sofia_on_hibernate")] == 2
    assert ("7", SM, "switch_core_standard_on_hibernate") not in keys
    assert ("7", SM, "switch_core_standard_on_exchange_media") not in keys
    assert keys[("7", SM, "switch_core_standard_on_reset")] == 2


async def test_late_negotiation_init_and_media() -> None:
    """sofia's late negotiation: the inbound leg enters CS_INIT from the DELAYED NEGOTIATION
    branch of ``sofia_handle_sip_i_state`` and sets its codec when ``answer`` needs media."""
    logs = await _call("log debug\n\napi fsctl loglevel debug\n\n", late=True)
    at = {(f.headers["Log-Func"], f.headers["Log-Line"]) for f in logs
          if f.headers["Log-File"] == "sofia.c" and f.headers["Log-Level"] == "7"
          and "State Change" in f.text}
    assert at == {("sofia_handle_sip_i_state", "7918")}
    keys = Counter(_key(f) for f in logs)
    assert keys[("7", "switch_core_media.c", "switch_core_media_set_codec")] == 2
    assert keys[("7", "switch_core_media.c", "switch_core_media_activate_rtp")] == 2 * 3


#: the (file, function) pairs of sofia's nua callbacks, mod_dialplan_xml and SDP negotiation
NUA, DP, NEG = (("sofia.c", "sofia_handle_sip_i_state"), ("mod_dialplan_xml.c", "parse_exten"),
                ("switch_core_media.c", "switch_core_media_negotiate_sdp"))
HUNT, GONE = ("mod_dialplan_xml.c", "dialplan_hunt"), ("sofia.c", "our_sofia_event_callback")


def _debug_multiset(logs: list[Frame]) -> Counter[tuple[str, str]]:
    return Counter((f.headers["Log-File"], f.headers["Log-Func"]) for f in logs
                   if f.headers["Log-Level"] == "7"
                   and f.headers["Log-File"] in ("sofia.c", "mod_dialplan_xml.c"))


def _negotiation(logs: list[Frame], uid: str) -> list[str]:
    return [f.text.split(" ", 5)[-1].rstrip("\n") for f in logs
            if f.headers["Log-Func"] == NEG[1] and f.headers["User-Data"] == uid]


async def test_nua_dialplan_and_negotiation_lines_of_an_answered_call() -> None:
    """Answered self-loop killed by uuid_kill. a (UAC): calling[0], completing[200] with
    the answer's SDP, ready[200]; b (UAS): received[100] with the offer, completed[200],
    ready[200], then the BYE's nua_i_state + nua_i_terminated find it down ("already
    hungup"). b hits the first extension (^answer): one parsing, one Regex (PASS), two
    Actions. Negotiation: the offer (PCMU PCMA te CN) against the profile's PCMU,PCMA is 4
    compares + 2 matches, the answer (PCMU te CN) 2 + 1; both set telephone-event twice
    and the 2833 payloads once."""
    logs = await _call("log debug\n\napi fsctl loglevel debug\n\n")
    states = [f.text.rsplit(" entering state ", 1)[1].rstrip("\n") for f in logs
              if f.headers["Log-Line"] == "7505"]
    assert sorted(states) == sorted(["[calling][0]", "[received][100]", "[completing][200]",
                                     "[completed][200]", "[ready][200]", "[ready][200]"])
    assert _debug_multiset(logs) == Counter({NUA: 6 + 2 + 1, GONE: 2, HUNT: 1, DP: 3})
    remote = [f for f in logs if f.headers["Log-Line"] == "7515"]
    assert {f.headers["User-Data"] for f in remote} == {A} | {
        f.headers["User-Data"] for f in logs if "[received][100]" in f.text}
    a_neg = _negotiation(logs, A)
    assert a_neg == ["Audio Codec Compare [PCMU:0:8000:20:64000:1]/[PCMU:0:8000:20:64000:1]",
                     "Audio Codec Compare [PCMU:0:8000:20:64000:1] ++++ is saved as a match",
                     "Audio Codec Compare [PCMU:0:8000:20:64000:1]/[PCMA:8:8000:20:64000:1]",
                     "Set telephone-event payload to 101@8000",
                     "Set telephone-event payload to 101@8000",
                     "sofia/external/answer@127.0.0.1:5080 Set 2833 dtmf send payload to 101 "
                     "recv payload to 101"]
    b_neg = [t for f in logs for t in [f.text] if f.headers["Log-Func"] == NEG[1]
             and f.headers["User-Data"] != A]
    assert len(b_neg) == 4 + 2 + 2 + 1
    actions = [f.text.rstrip("\n") for f in logs if f.headers["Log-Line"] == "566"]
    assert actions == ["Dialplan: sofia/external/1000@127.0.0.1 Action answer() ",
                       "Dialplan: sofia/external/1000@127.0.0.1 Action park() "]
    assert all(f.headers["Text-Channel"] == "1" and not f.text[0].isdigit()
               for f in logs if f.headers["Log-File"] == "mod_dialplan_xml.c"
               and f.headers["Log-Level"] == "7")


async def test_nua_and_dialplan_lines_of_a_parked_call_then_hupall() -> None:
    """Unanswered (parked) self-loop, then hupall: a only reaches calling[0]; b received[100]
    (+ Remote SDP) and its State Change to CS_INIT; b's dialplan tests all four extensions
    (three Regex (FAIL), the catch-all's PASS, one Action park()); only b negotiates."""
    logs = await _session(["log debug\n\napi fsctl loglevel debug\n\n"
                           + _originate(A).replace("answer@", "9100@"), "api hupall\n\n"])
    assert _debug_multiset(logs) == Counter({NUA: 1 + 3, HUNT: 4, DP: 3 + 1 + 1})
    verdicts = [f.text.split(" Regex ")[1].split(" ")[0] for f in logs
                if f.headers["Log-Func"] == "parse_exten" and " Regex " in f.text]
    assert verdicts == ["(FAIL)", "(FAIL)", "(FAIL)", "(PASS)"]
    assert not _negotiation(logs, A)
    assert sum(f.headers["Log-Func"] == NEG[1] for f in logs) == 4 + 2 + 2 + 1
