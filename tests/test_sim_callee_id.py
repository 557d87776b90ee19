"""sofia's callee-id rule on the emulator, beyond the recorded early_media_respond:
every 180 / 183 / 200 an inbound FreeSWITCH leg sends carries its callee id
(``generate_pai_str``: effective/initial/sip callee id variables, else its destination
number, none with ``sip_cid_in_1xx=false``); the outbound leg takes it at once
(``sofia_update_callee_id``, unless ``ignore_display_updates``), before the reply's
CHANNEL_PROGRESS, and ``switch_channel_flip_cid`` later flips what it holds. A leg that
hangs up in early media refuses (inbound) instead of sending BYE (``sofia_on_hangup``).
"""
from __future__ import annotations

from test_sim_rules import Raw, _raw

from switchlab.sim import DUTModel, Emulator

A = "22222222-2222-4222-8222-222222222222"


async def _ring1(raw: Raw, a_vars: str = "") -> str:
    """Originate A to the parking ``ring1`` extension of the host itself; B's uuid."""
    await raw.send("bgapi originate {origination_uuid=%s,origination_caller_id_number=1000%s}"
                   "sofia/external/ring1@127.0.0.1:5080 &park()\n\n" % (A, a_vars), wait=0.4)
    return next(e["Unique-ID"] for e in raw.events() if e["Event-Name"] == "CHANNEL_CREATE"
                and e["Call-Direction"] == "inbound")


async def _execute(raw: Raw, uuid: str, app: str, arg: str = "", wait: float = 0.2) -> None:
    extra = f"execute-app-arg: {arg}\n" if arg else ""
    await raw.send(f"sendmsg {uuid}\ncall-command: execute\nexecute-app-name: {app}\n"
                   f"{extra}\n", wait=wait)


def _first(raw: Raw, uuid: str, name: str) -> dict[str, str]:
    return next(e for e in raw.events(uuid) if e["Event-Name"] == name)


async def _run(b_set: str | None = None, a_vars: str = "") -> tuple[Raw, str]:
    async with Emulator(hosts=1, port=0, dut=DUTModel(seed=1)) as fs:
        raw = await _raw(fs)
        b = await _ring1(raw, a_vars)
        if b_set:
            await _execute(raw, b, "set", b_set)
        await _execute(raw, b, "ring_ready")
        await _execute(raw, b, "pre_answer", wait=0.3)
        await _execute(raw, b, "respond", "486 Busy Here", wait=0.4)
        await raw.close()
        return raw, b


async def test_callee_id_arrives_with_the_180_and_is_flipped_at_early_media() -> None:
    raw, b = await _run("effective_callee_id_name=Alice")
    progress = _first(raw, A, "CHANNEL_PROGRESS")
    assert (progress["Caller-Callee-ID-Name"], progress["Caller-Callee-ID-Number"]) == \
        ("Alice", "ring1")
    update = _first(raw, A, "CALL_UPDATE")
    assert (update["Caller-Caller-ID-Name"], update["Caller-Caller-ID-Number"]) == \
        ("Alice", "ring1")
    assert update["Caller-Callee-ID-Number"] == "1000"
    # B: sip_to_tag from its 180 on; refused (486), not BYE, although in early media
    assert "variable_sip_to_tag" in _first(raw, b, "CHANNEL_PROGRESS")
    done = _first(raw, b, "CHANNEL_HANGUP_COMPLETE")
    assert done["variable_sip_hangup_disposition"] == "send_refuse"
    assert done["variable_endpoint_disposition"] == "EARLY MEDIA"


async def test_no_callee_id_in_1xx_keeps_the_outbound_default() -> None:
    raw, _ = await _run("sip_cid_in_1xx=false")
    for name in ("CHANNEL_PROGRESS", "CHANNEL_PROGRESS_MEDIA"):
        assert _first(raw, A, name)["Caller-Callee-ID-Name"] == "Outbound Call", name
    assert _first(raw, A, "CALL_UPDATE")["Caller-Caller-ID-Name"] == "Outbound Call"


async def test_ignore_display_updates_on_the_outbound_leg() -> None:
    raw, _ = await _run(a_vars=",ignore_display_updates=true")
    assert _first(raw, A, "CHANNEL_PROGRESS")["Caller-Callee-ID-Name"] == "Outbound Call"

