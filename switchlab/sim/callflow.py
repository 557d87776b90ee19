"""Call processing: originate, the virtual SIP dialogue, answer, hangup, destroy.

The event order of each leg follows the transcripts (see INDEX2.md, "Channel
event order"); the variables each step sets come from :mod:`.templates`.
Steps that FreeSWITCH performs one timer tick apart are scheduled one tick
apart here, so stamps and client receive times look the same.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import causes, sip
from . import templates as T
from .channel import Channel
from .clock import local_stamp
from .deferred import Deferred
from ..wire.dialstring import (
    ORIGINATE_USAGE,
    DialStringError,
    Endpoint,
    OriginateRequest,
    parse_originate,
)
from .dut import CallPlan

if TYPE_CHECKING:
    from .host import EmulatedHost, Profile
    from .listener import Listener

log = logging.getLogger("switchlab.sim")

DEFAULT_CID = "0000000000"
READ_HEADERS = ("channel-read-codec-name", "channel-read-codec-rate",
                "channel-read-codec-bit-rate")
WRITE_HEADERS = ("Channel-Write-Codec-Name", "Channel-Write-Codec-Rate",
                 "Channel-Write-codec-bit-rate")
PCMU = ("PCMU", "8000", "64000")
L16 = ("L16", "8000", "128000")
#: variables of the originate that are not copied onto the channel
_NOT_CHANNEL_VARS = frozenset()


# -- small helpers ------------------------------------------------------------------------
def fire_codecs(chan: Channel, codec: tuple[str, str, str] = PCMU,
                read_variant: str | None = None) -> None:
    """The two CODEC events of a leg whose media is set up."""
    chan.codec = codec
    # sofia sets the write codec first; loopback the read codec first
    chan.write_codec = read_variant != "read"
    chan.changed()
    name, rate, bits = codec
    chan.fire("CODEC", post=list(zip(READ_HEADERS, (name, rate, bits))), variant=read_variant)
    chan.write_codec = True
    chan.changed()
    chan.fire("CODEC", post=list(zip(WRITE_HEADERS, (name, rate, bits))), variant="write")


def log_new_channel(chan: Channel) -> None:
    chan.host.log(5, "switch_channel.c", "switch_channel_set_name", 1143,
                  f"New Channel {chan.name} [{chan.uuid}]", chan)


def copy_vars(chan: Channel, variables: dict[str, str]) -> None:
    for name, value in variables.items():
        chan.set_var(name, value)


def create_outbound_leg(chan: Channel, req: OriginateRequest, head: T.Template,
                        tail: T.Template) -> None:
    """Set an originated leg's variables (``head``, the originate's own, ``tail``) and
    take it from CS_INIT through CHANNEL_CREATE/CHANNEL_ORIGINATE to CS_CONSUME_MEDIA."""
    chan.apply(head)
    copy_vars(chan, req.all_variables())
    chan.apply(tail)
    chan.state_num = 2
    chan.changed()
    chan.fire("CHANNEL_CREATE")
    chan.fire("CHANNEL_ORIGINATE")
    chan.set_state("CS_ROUTING")
    chan.set_state("CS_CONSUME_MEDIA")


# -- originate ------------------------------------------------------------------------------
class Originate:
    """One ``originate``: creates the outbound leg and reports ``+OK uuid`` / ``-ERR cause``."""

    def __init__(self, host: EmulatedHost, req: OriginateRequest) -> None:
        self.host = host
        self.req = req
        self.deferred = Deferred()
        self.leg: Channel | None = None
        self.ignore_early = sip.truthy(req.var("ignore_early_media"))
        raw_timeout = req.var("originate_timeout") or req.var("leg_timeout")
        try:
            self.timeout = int(raw_timeout) if raw_timeout else (req.timeout or 60)
        except ValueError:
            self.timeout = 60

    @property
    def done(self) -> bool:
        return self.deferred.done

    def start(self) -> None:
        ep = self.req.endpoint
        if ep.kind == "loopback":
            start_loopback(self)
        else:
            start_sofia(self)
        if not self.done and self.leg is not None and self.timeout > 0:
            start_s = int(time.time())
            delay = start_s + self.timeout - time.time()
            self.host.later(max(delay, 0.0), self._timed_out, chan=self.leg)

    def _timed_out(self) -> None:
        leg = self.leg
        if self.done or leg is None or leg.dead:
            return
        hangup(leg, "NO_ANSWER")

    def succeed(self) -> None:
        """The leg is answered (or has early media): report and run the target."""
        leg = self.leg
        if self.done or leg is None:
            return
        self.deferred.resolve(f"+OK {leg.uuid}\n")
        start_target(self)

    def fail(self, cause: str) -> None:
        self.deferred.resolve(f"-ERR {cause}\n")


def originate(host: EmulatedHost, arg: str) -> str | Deferred:
    """The ``originate`` api: a Deferred, or an error text right away."""
    try:
        req = parse_originate(arg)
    except DialStringError as exc:
        if exc.cause == "USAGE":
            return ORIGINATE_USAGE
        return f"-ERR {exc.cause}\n"
    ep = req.endpoint
    if ep.kind == "error":
        return f"-ERR {ep.cause}\n"
    if ep.kind == "sofia" and ep.profile not in host.profiles:
        return "-ERR INVALID_PROFILE\n"
    uuid = req.var("origination_uuid")
    if uuid and host.emulator.find_channel(uuid) is not None:
        return "-ERR INVALID_NUMBER_FORMAT\n"
    orig = Originate(host, req)
    orig.start()
    return orig.deferred


def start_target(orig: Originate) -> None:
    """After a successful originate: run ``&app(args)`` or the exten's dialplan on the leg."""
    from .apps import run_apps
    from .dialplan import dialplan_apps
    leg = orig.leg
    if leg is None or leg.dead:
        return
    req = orig.req
    leg.hit_dialplan = True
    leg.set_state("CS_EXECUTE")
    if req.app:
        run_apps(leg, [(req.app, req.app_args)], source="originate")
    else:
        run_apps(leg, dialplan_apps(leg, req.exten or "", req.context), source="dialplan")


def outbound_profile(chan: Channel, req: OriginateRequest, dest_user: str,
                     cid_num: str, cid_name: str | None, source: str,
                     context: str = "default", callee_number: str | None = None,
                     dialplan: str | None = None) -> None:
    chan.set_profile(**{
        "Direction": "outbound", "Logical-Direction": "outbound",
        "Dialplan": dialplan or "", "Caller-ID-Name": cid_name or "",
        "Caller-ID-Number": cid_num, "Orig-Caller-ID-Name": cid_name or "",
        "Orig-Caller-ID-Number": cid_num, "Callee-ID-Name": "Outbound Call",
        "Callee-ID-Number": callee_number or dest_user, "ANI": cid_num,
        "Destination-Number": dest_user, "Unique-ID": chan.uuid, "Source": source,
        "Context": context, "Channel-Name": chan.name,
    })


def _caller_id(req: OriginateRequest) -> tuple[str, str | None]:
    num = req.var("origination_caller_id_number") or req.cid_num or DEFAULT_CID
    name = req.var("origination_caller_id_name") or req.cid_name
    return num, name


def start_sofia(orig: Originate) -> None:
    host = orig.host
    req = orig.req
    ep = req.endpoint
    profile = host.profiles[ep.profile]
    uuid = req.var("origination_uuid") or sip.new_uuid()
    dest = ep.text.split("/", 2)[2]
    chan = Channel(host, uuid, f"sofia/{profile.name}/{dest}", "outbound", "sofia",
                   profile.name)
    orig.leg = chan
    chan.originate = orig
    cid_num, cid_name = _caller_id(req)
    port = ep.port
    to_hostport = ep.hostport
    local_port = sip.media_port()
    f = chan.facts
    f.update(sip_ip=profile.ip, sip_port=profile.port, dest_user=ep.user, dest_host=ep.host,
             dest_port=port if port is not None else 5060, to_hostport=to_hostport,
             dest_url=f"sip:{ep.user}@{to_hostport}" if ep.user else f"sip:{to_hostport}",
             req_uri=f"{ep.user}@{to_hostport}" if ep.user else to_hostport,
             cid_num=cid_num, cid_name=cid_name or "", local_media_port=local_port,
             local_sdp=sip.fs_sdp(profile.ip, local_port, offer=True),
             call_id=sip.call_id(), from_tag=sip.sip_tag(), cseq=sip.cseq(),
             branch=sip.branch(), ssrc=sip.ssrc())
    outbound_profile(chan, req, ep.user, cid_num, cid_name, "src/switch_ivr_originate.c")
    chan.facts["initial_profile"] = dict(chan.profile)
    chan.set_time("created", host.clock.now_us())
    chan.set_time("profile_created", chan.times["created"])
    host.add_channel(chan)
    profile.calls_out += 1
    # CHANNEL_OUTGOING .. CS_CONSUME_MEDIA, all in one tick
    chan.state_name = "CS_NONE"
    chan.state_num = 1
    chan.fire("CHANNEL_OUTGOING")
    log_new_channel(chan)
    chan.set_state("CS_INIT")
    create_outbound_leg(chan, req, T.OUT_CREATE_HEAD, T.OUT_CREATE_TAIL)
    host.log(6, "sofia_glue.c", "sofia_glue_do_invite", 1656,
             f"{chan.name} sending invite call-id: (null)", chan)
    route_invite(chan, ep)


# -- routing of the virtual INVITE -------------------------------------------------------
def route_invite(chan: Channel, ep: Endpoint) -> None:
    """Send the leg's INVITE: to an emulated host, to the DUT, or nowhere (closed port)."""
    host = chan.host
    net = host.emulator
    target_port = ep.port if ep.port is not None else 5060
    hop = ep.proxy or (ep.host, target_port)
    hop_target = net.find_profile(*hop)
    if hop_target is not None:
        thost, tprofile = hop_target
        host.later(0, deliver_invite, chan, thost, tprofile, None, chan=chan)
        return
    if net.is_closed(*hop):
        # nothing listens: ICMP port unreachable, sofia fails the INVITE at once
        host.later(0.02, refused, chan, 503, None, False, chan=chan)
        return
    plan = net.dut.plan(now=time.monotonic())
    chan.dut_call = True
    chan.facts.update(dut_plan=plan)
    final = net.find_profile(ep.host, target_port) if ep.proxy else None
    if final is not None and plan.kind != "fail":
        thost, tprofile = final
        dut_peer_facts(chan, hop, fs_peer=True)
        host.later(plan.forward_at, deliver_invite, chan, thost, tprofile, hop, chan=chan)
        return
    dut_peer_facts(chan, hop, fs_peer=False)
    run_dut_plan(chan, plan)


def dut_peer_facts(chan: Channel, hop: tuple[str, int], fs_peer: bool) -> None:
    f = chan.facts
    ip, port = hop
    f.update(peer_ip=ip, peer_port=port, peer_media_ip=ip, contact_params="transport=UDP",
             contact_user="nobody", recover_contact=f"<sip:{ip}:{port};transport=UDP>",
             out_via=f"SIP/2.0/UDP {f['sip_ip']}:{f['sip_port']};rport;branch={f['branch']}",
             to_tag=sip.sipp_tag(chan.session_id), remote_sdp=sip.dut_sdp(ip),
             remote_media_port=6000, dtmf_type="info", fs_peer=fs_peer)


def run_dut_plan(chan: Channel, plan: CallPlan) -> None:
    """Drive the outbound leg through the DUT's planned 180/183/200 or failure."""
    host = chan.host
    if plan.kind == "fail":
        host.later(plan.fail_at or 0.0, refused, chan, plan.sip_code, plan.reason_q850, True,
                   chan=chan)
        return
    if plan.ringing_at is not None:
        host.later(plan.ringing_at, outbound_progress, chan, chan=chan)
    if plan.early_media_at is not None:
        host.later(plan.early_media_at, outbound_early_media, chan, chan=chan)
    if plan.kind == "answer":
        host.later(plan.answer_at or 0.0, dut_answer, chan, plan, chan=chan)
    else:
        host.later(plan.fail_at or 0.0, refused, chan, plan.sip_code, None, True, chan=chan)


def dut_answer(chan: Channel, plan: CallPlan) -> None:
    if chan.dead:
        return
    chan.host.emulator.dut.answered()
    outbound_answered(chan)
    if plan.hangup_after is not None:
        chan.host.later(plan.hangup_after, remote_bye, chan, "NORMAL_CLEARING", chan=chan)


def remote_bye(chan: Channel, cause: str) -> None:
    """The far end (DUT) sent BYE."""
    if chan.dead:
        return
    hangup(chan, cause, how="recv_bye")


# -- outbound leg reactions ----------------------------------------------------------------
def _first_reply(chan: Channel) -> None:
    if not chan.facts.get("replied"):
        chan.facts["replied"] = True
        chan.set_profile(**{"Network-Addr": chan.facts["peer_ip"]})
        chan.apply(T.REPLY_NET)
        if chan.facts.get("fs_peer"):
            chan.apply(T.PEER_SOFIA_HEADERS)


def outbound_progress(chan: Channel) -> None:
    """180 Ringing reached the outbound leg."""
    if chan.dead or chan.answered or chan.times.get("progress"):
        return
    _first_reply(chan)
    chan.apply(T.REPLY_DIALOG)
    chan.set_time("progress", chan.host.clock.now_us())
    chan.fire("CHANNEL_PROGRESS")
    if chan.callstate == "DOWN":
        chan.set_callstate("RINGING")


def outbound_early_media(chan: Channel) -> None:
    """183 with SDP reached the outbound leg: early media, and the originate returns."""
    if chan.dead or chan.answered or chan.early:
        return
    host = chan.host
    if not chan.facts.get("replied"):
        _first_reply(chan)
    chan.apply(T.EP_CODEC)
    chan.apply(T.REPLY_DIALOG)
    chan.apply(T.REMOTE_SDP)
    chan.set_var("endpoint_disposition", "EARLY MEDIA")
    chan.early = True
    chan.media = True
    chan.answer_state = "early"
    chan.set_time("progress_media", host.clock.now_us())
    chan.fire("CHANNEL_PROGRESS_MEDIA")
    chan.set_callstate("EARLY")
    fire_codecs(chan)
    host.later(host.tick(), _early_flip, chan, chan=chan)


def _early_flip(chan: Channel) -> None:
    if chan.dead:
        return
    chan.apply(T.OUT_EARLY_MEDIA)
    if chan.facts.get("dtmf_type") == "rfc2833":
        chan.apply(T.RFC2833)
    chan.apply(T.REMOTE_MEDIA)
    flip_cid(chan, "EARLY MEDIA")
    orig = chan.originate
    if orig is not None and not orig.ignore_early:
        orig.succeed()


def flip_cid(chan: Channel, disposition: str) -> None:
    """``switch_channel_flip_cid``: the outbound leg's caller-id becomes the callee's."""
    if chan.vars.get("channel_cid_flipped"):
        return
    p = chan.profile
    old_name, old_num = p.get("Caller-ID-Name", ""), p.get("Caller-ID-Number", "")
    new_name, new_num = p.get("Callee-ID-Name", ""), p.get("Callee-ID-Number", "")
    chan.host.log(6, "switch_channel.c", "switch_channel_flip_cid", 3291,
                  f'{chan.name} Flipping CID from "{old_name}" <{old_num}> to "{new_name}" '
                  f'<{new_num}>', chan)
    chan.set_profile(**{"Caller-ID-Name": new_name, "Caller-ID-Number": new_num,
                        "Callee-ID-Name": old_name, "Callee-ID-Number": old_num})
    chan.hit_dialplan = True
    chan.apply(T.CID_FLIP, endpoint_disposition=disposition)
    chan.fire("CALL_UPDATE", pre=[("Direction", "RECV")])


def outbound_answered(chan: Channel) -> None:
    """200 OK reached the outbound leg."""
    if chan.dead or chan.answered:
        return
    host = chan.host
    f = chan.facts
    was_early = chan.early
    if f.get("replied"):
        chan.apply(T.REPLY_NET)
    else:
        _first_reply(chan)
    if was_early:
        chan.apply(T.EP_CODEC)
        chan.apply(T.REPLY_DIALOG)
        chan.apply(T.REMOTE_SDP)
    else:
        chan.apply(T.REPLY_DIALOG)
        chan.apply(T.REMOTE_SDP)
        chan.apply(T.OUT_MEDIA)
        if f.get("dtmf_type") == "rfc2833":
            chan.apply(T.RFC2833)
        chan.apply(T.REMOTE_MEDIA)
        if chan.codec is None:
            fire_codecs(chan)
    chan.answered = True
    chan.media = True
    chan.answer_state = "answered"
    chan.set_time("answered", host.clock.now_us())
    chan.fire("CHANNEL_ANSWER")
    chan.set_callstate("ACTIVE")
    host.log(5, "sofia.c", "sofia_handle_sip_i_state", 8693,
             f"Channel [{chan.name}] has been answered", chan, text_channel=0)
    if was_early or chan.vars.get("channel_cid_flipped"):
        chan.set_var("endpoint_disposition", "ANSWER")
        orig = chan.originate
        if orig is not None and not orig.done:
            orig.succeed()
        return
    flip_cid(chan, "ANSWER")
    orig = chan.originate
    if orig is not None:
        orig.succeed()


def refused(chan: Channel, status: int, reason_q850: int | None, replied: bool) -> None:
    """A final failure response (or no response at all) to the outbound leg's INVITE."""
    if chan.dead:
        return
    cause = causes.sip_to_cause(status, reason_q850)
    f = chan.facts
    if replied:
        chan.set_var("sip_call_id", f["call_id"])
        if not f.get("replied"):
            f["replied"] = True
            chan.set_profile(**{"Network-Addr": f["peer_ip"]})
        chan.apply(T.REPLY_NET)
        chan.apply(T.OUT_REFUSED, sip_status=status, sip_phrase=causes.phrase(status),
                   q850=causes.Q850.get(cause, 0))
    profile = chan.host.profiles.get(chan.profile_name)
    if profile is not None:
        profile.failed_out += 1
    if chan.dut_call and status == 480:
        chan.host.emulator.dut.unanswered()
    hangup(chan, cause, how="refused")


# -- inbound leg ------------------------------------------------------------------------------
def deliver_invite(caller: Channel, host: EmulatedHost, profile: Profile,
                   via: tuple[str, int] | None) -> None:
    """An INVITE from ``caller`` arrives at ``host``'s ``profile``: create the inbound leg."""
    if caller.dead:
        return
    cf = caller.facts
    uuid = sip.new_uuid()
    cid_num = cf["cid_num"]
    from_host = cf["sip_ip"]
    chan = Channel(host, uuid, f"sofia/{profile.name}/{cid_num}@{from_host}", "inbound",
                   "sofia", profile.name)
    peer_ip, peer_port = via if via is not None else (cf["sip_ip"], cf["sip_port"])
    local_port = sip.media_port()
    chan.facts.update(
        sip_ip=profile.ip, sip_port=profile.port, cid_num=cid_num, from_host=from_host,
        call_id=cf["call_id"], peer_ip=peer_ip, peer_port=peer_port,
        invite_stamp=host.clock.now_us(), from_tag=cf["from_tag"], branch=sip.branch(),
        branch2=sip.branch(), dest_user=cf["dest_user"], remote_sdp=sip.remote_view(
            cf["local_sdp"]), remote_media_port=cf["local_media_port"],
        local_media_port=local_port, local_sdp=sip.fs_sdp(profile.ip, local_port, offer=False),
        ssrc=sip.ssrc(), to_tag=sip.sip_tag(), cseq=cf["cseq"])
    cid_name = cf.get("cid_name") or cid_num
    chan.peer = caller
    caller.peer = chan
    host.add_channel(chan)
    profile.calls_in += 1
    chan.fire("CHANNEL_STATE")
    log_new_channel(chan)
    chan.set_profile(**{
        "Direction": "inbound", "Logical-Direction": "inbound", "Username": cid_num,
        "Dialplan": "XML", "Caller-ID-Name": cid_name, "Caller-ID-Number": cid_num,
        "Orig-Caller-ID-Name": cid_name, "Orig-Caller-ID-Number": cid_num,
        "Network-Addr": peer_ip, "ANI": cid_num, "Destination-Number": cf["dest_user"],
        "Unique-ID": uuid, "Source": "mod_sofia", "Context": host.emulator.context,
        "Channel-Name": chan.name,
    })
    chan.facts["initial_profile"] = dict(chan.profile)
    chan.set_time("created", host.clock.now_us())
    chan.set_time("profile_created", chan.times["created"])
    fire_codecs(chan)
    chan.set_state("CS_INIT")
    chan.apply(T.IN_CREATE_HEAD)
    for name, value in caller.vars.items():
        if name.startswith("sip_h_"):
            chan.set_var(name, value)
    chan.apply(T.IN_CREATE_TAIL)
    chan.state_num = 2
    chan.changed()
    chan.fire("CHANNEL_CREATE")
    chan.state_name = "CS_ROUTING"
    chan.set_callstate("RINGING")
    chan.set_state("CS_ROUTING")
    host.log(6, "sofia.c", "sofia_handle_sip_i_invite", 10472,
             f"{chan.name} receiving invite from {peer_ip}:{peer_port} version: "
             f"1.11.1-release  64bit call-id: {cf['call_id']}", chan)
    # the caller now knows who answers for this INVITE
    cf.update(peer_ip=profile.ip if via is None else via[0],
              peer_port=profile.port if via is None else via[1], peer_media_ip=profile.ip,
              contact_params="transport=udp", contact_user=cf["dest_user"],
              recover_contact=f"<sip:{cf['dest_user']}@{profile.ip}:{profile.port};"
                              "transport=udp>",
              out_via=f"SIP/2.0/UDP {cf['sip_ip']}:{cf['sip_port']};rport={cf['sip_port']};"
                      f"branch={cf['branch']}",
              to_tag=chan.facts["to_tag"], remote_sdp=sip.remote_view(chan.facts["local_sdp"]),
              remote_media_port=local_port, dtmf_type="rfc2833", fs_peer=True)
    chan.set_state("CS_EXECUTE")
    from .apps import run_apps
    from .dialplan import dialplan_apps
    run_apps(chan, dialplan_apps(chan, cf["dest_user"], host.emulator.context), "dialplan")


def answer_channel(chan: Channel, pre_answer: bool = False) -> bool:
    """Answer (or pre-answer) a leg: events on it, and the 200/183 to its caller."""
    if chan.dead or chan.answered or (pre_answer and chan.early):
        return False
    host = chan.host
    if chan.kind == "sofia" and chan.direction == "inbound":
        if not chan.media:
            chan.apply(T.IN_ANSWER_MEDIA)
            chan.media = True
    if chan.kind == "loopback" and chan.direction == "inbound" and not pre_answer:
        other = chan.peer
        if other is not None and not other.answered and not other.dead:
            loopback_a_answered(other)
    now = host.clock.now_us()
    if pre_answer:
        chan.early = True
        chan.answer_state = "early"
        chan.set_time("progress_media", now)
        chan.fire("CHANNEL_PROGRESS_MEDIA")
        chan.set_callstate("EARLY")
    else:
        chan.answered = True
        chan.answer_state = "answered"
        chan.set_time("answered", now)
        chan.fire("CHANNEL_ANSWER")
        chan.set_callstate("ACTIVE")
        chan.set_var("endpoint_disposition", "ANSWER") if chan.app != "answer" else None
        host.log(5, "mod_dptools.c", "answer_function", 1406,
                 f"Channel [{chan.name}] has been answered", chan, text_channel=0)
    caller = chan.peer
    if chan.kind == "sofia" and chan.direction == "inbound" and caller is not None:
        if pre_answer:
            host.later(host.tick(), _caller_early, caller, chan=caller)
        else:
            host.later(host.tick(), _caller_answered, caller, chan, chan=caller)
    return True


def ring_ready(chan: Channel) -> None:
    """180 from an inbound leg (``ring_ready``) -> CHANNEL_PROGRESS on it and its caller."""
    if chan.dead or chan.answered or chan.times.get("progress"):
        return
    chan.set_time("progress", chan.host.clock.now_us())
    chan.fire("CHANNEL_PROGRESS")
    caller = chan.peer
    if chan.kind == "sofia" and chan.direction == "inbound" and caller is not None:
        chan.host.later(chan.host.tick(), outbound_progress, caller, chan=caller)


def _caller_early(caller: Channel) -> None:
    outbound_early_media(caller)


def _caller_answered(caller: Channel, callee: Channel) -> None:
    if caller.dead:
        return
    if caller.dut_call:
        caller.host.emulator.dut.answered()
    callee.host.log(6, "sofia.c", "sofia_update_callee_id", 1348,
                    f'{caller.name} Update Callee ID to "{caller.facts["dest_user"]}" '
                    f'<sip:{caller.facts["dest_user"]}@{caller.facts["sip_ip"]}>', None,
                    text_channel=0)
    caller.set_profile(**{"Callee-ID-Name": caller.facts["dest_user"]})
    outbound_answered(caller)
    if not callee.dead:
        callee.apply(T.IN_ACKED)


# -- loopback -------------------------------------------------------------------------------
def start_loopback(orig: Originate) -> None:
    host = orig.host
    req = orig.req
    ep = req.endpoint
    exten = ep.user
    tail = ep.text.split("/")[-1]
    a_uuid = req.var("origination_uuid") or sip.new_uuid()
    b_uuid = sip.new_uuid()
    a = Channel(host, a_uuid, f"loopback/{exten}/{ep.context}-a" if ep.context != "default"
                else f"loopback/{exten}-a", "outbound", "loopback")
    b = Channel(host, b_uuid, f"loopback/{exten}-b", "inbound", "loopback")
    a.peer, b.peer = b, a
    orig.leg = a
    a.originate = orig
    cid_num, cid_name = _caller_id(req)
    a.facts.update(peer_uuid=b_uuid, cid_num=cid_num)
    b.facts.update(peer_uuid=a_uuid, cid_num=cid_num)
    now = host.clock.now_us()
    for leg in (a, b):
        leg.set_time("created", now)
        leg.set_time("profile_created", now)
    host.add_channel(a)
    host.add_channel(b)
    a.state_name = b.state_name = "CS_NONE"
    fire_codecs(a, L16, read_variant="read")
    a.name = f"loopback/{exten}-a"
    a.facts["chan_name"] = a.name
    outbound_profile(a, req, exten, cid_num, cid_name, "mod_loopback", context=ep.context,
                     callee_number=tail, dialplan="xml")
    a.facts["initial_profile"] = dict(a.profile)
    a.state_num = 1
    a.fire("CHANNEL_OUTGOING")
    log_new_channel(a)
    a.set_state("CS_INIT")
    fire_codecs(b, L16, read_variant="read")
    create_outbound_leg(a, req, T.LOOP_A_CREATE, T.LOOP_A_CREATE_TAIL)
    b.set_profile(**{
        "Direction": "inbound", "Logical-Direction": "inbound", "Dialplan": "xml",
        "Caller-ID-Name": cid_name or "", "Caller-ID-Number": cid_num,
        "Orig-Caller-ID-Name": cid_name or "", "Orig-Caller-ID-Number": cid_num,
        "Callee-ID-Name": "Outbound Call", "Callee-ID-Number": tail, "ANI": cid_num,
        "Destination-Number": exten, "Unique-ID": b_uuid, "Source": "mod_loopback",
        "Context": ep.context, "Channel-Name": b.name,
    })
    host.later(host.tick(), _loopback_b_run, b, ep, chan=b)
    b.set_state("CS_INIT")
    b.apply(T.LOOP_B_CREATE)


def _loopback_b_run(b: Channel, ep: Endpoint) -> None:
    if b.dead:
        return
    from .apps import run_apps
    from .dialplan import dialplan_apps
    b.state_num = 2
    b.changed()
    b.fire("CHANNEL_CREATE")
    b.state_name = "CS_ROUTING"
    b.set_callstate("RINGING")
    b.set_state("CS_ROUTING")
    b.set_state("CS_EXECUTE")
    run_apps(b, dialplan_apps(b, ep.user, ep.context), "dialplan")


def loopback_a_answered(a: Channel) -> None:
    host = a.host
    a.answered = True
    a.answer_state = "answered"
    a.set_time("answered", host.clock.now_us())
    a.fire("CHANNEL_ANSWER")
    a.set_callstate("ACTIVE")
    host.later(0, _loopback_a_flip, a, chan=a)


def _loopback_a_flip(a: Channel) -> None:
    if a.dead:
        return
    flip_cid(a, "ANSWER")
    if a.originate is not None:
        a.originate.succeed()


# -- hangup and destroy -------------------------------------------------------------------
def hangup(chan: Channel, cause: str = "NORMAL_CLEARING", how: str = "local") -> None:
    """Hang a leg up; ``how``: ``local``, ``recv_bye``, ``recv_cancel``, ``refused``, ``bridge``."""
    if chan.dead:
        return
    host = chan.host
    chan.dead = True
    chan.cancel_timers()
    now = host.clock.now_us()
    if how == "recv_bye" and chan.kind == "sofia":
        chan.apply(T.RECV_BYE, q850=causes.Q850.get(cause, 0), cause=cause)
    from .bridge import before_hangup, partner_hangup, unbridge
    before_hangup(chan, cause)
    chan.hangup_cause = cause
    chan.answer_state = "hangup"
    chan.state_num = 10
    chan.set_time("hangup", now)
    chan.fire("CHANNEL_HANGUP")
    if how == "recv_bye" and chan.kind == "sofia":
        chan.apply(T.RECV_BYE_DONE)
    elif how == "recv_cancel" and chan.kind == "sofia":
        chan.apply(T.RECV_CANCEL)
    chan.facts["hangup_how"] = how
    if how in ("local", "bridge"):
        host.log(5, "switch_ivr.c", "switch_ivr_kill_uuid", 4404,
                 f"Hangup {chan.name} [{chan.state_name}] [{cause}]", chan, text_channel=0)
    elif how == "recv_bye":
        host.log(5, "sofia.c", "sofia_handle_sip_i_bye", 1065,
                 f"Hangup {chan.name} [{chan.state_name}] [{cause}]", chan, text_channel=0)
    for lst in list(chan.holders):
        lst.session_down(chan)
    if chan.app is not None:
        host.later(host.tick(), _finish_app_then_report, chan)
        _signal_peer(chan, cause, how)
        partner_hangup(chan, cause)
    elif chan.bridge is not None and chan.facts.get("bridge_role") == "originator":
        partner_hangup(chan, cause)
        host.later(host.tick(), _unbridge_then_report, chan, unbridge)
        _signal_peer(chan, cause, how)
    else:
        _signal_peer(chan, cause, how)
        partner_hangup(chan, cause)
        _report(chan)


def _signal_peer(chan: Channel, cause: str, how: str) -> None:
    peer = chan.peer
    if peer is None or peer.dead:
        return
    host = chan.host
    if chan.kind == "loopback":
        host.later(0, _loopback_peer_hangup, peer, cause)
        return
    if how in ("recv_bye", "recv_cancel", "refused"):
        return  # the message came from the peer; nothing to send back
    if chan.answered or peer.answered:
        host.later(host.tick(), remote_bye, peer, cause)
    elif chan.direction == "outbound":
        host.later(host.tick(), hangup, peer, "ORIGINATOR_CANCEL", "recv_cancel")
    else:
        status = causes.cause_to_sip(cause)
        host.later(host.tick(), refused, peer, status, causes.Q850.get(cause), True)


def _loopback_peer_hangup(peer: Channel, cause: str) -> None:
    if not peer.dead:
        hangup(peer, cause, how="peer")


def _unbridge_then_report(chan: Channel, unbridge: Callable[[Channel, str], None]) -> None:
    unbridge(chan, chan.hangup_cause or "NORMAL_CLEARING")
    _report(chan)


def _finish_app_then_report(chan: Channel) -> None:
    from .apps import interrupt_app
    interrupt_app(chan)
    _report(chan)


def _report(chan: Channel) -> None:
    """CS_HANGUP .. CHANNEL_HANGUP_COMPLETE, then destroy (unless a socket holds the leg)."""
    host = chan.host
    chan.set_state("CS_HANGUP")
    chan.set_callstate("HANGUP")
    chan.set_state("CS_REPORTING")
    apply_cdr(chan)
    chan.fire("CHANNEL_HANGUP_COMPLETE", pre=[("Hangup-Cause", chan.hangup_cause or "")])
    orig = chan.originate
    if orig is not None and not orig.done:
        orig.fail(chan.hangup_cause or "NORMAL_CLEARING")
    if chan.dut_call:
        chan.dut_call = False
        host.emulator.dut.release()
    chan.reported = True
    if chan.holders:
        return
    destroy(chan)


def destroy(chan: Channel) -> None:
    if chan.destroyed:
        return
    host = chan.host
    chan.destroyed = True
    chan.state_num = 12
    chan.changed()
    chan.fire("CHANNEL_DESTROY")
    chan.set_state("CS_DESTROY")
    host.remove_channel(chan)
    host.log(5, "switch_core_session.c", "switch_core_session_thread", 1766,
             f"Session {chan.session_id} ({chan.name}) Ended", chan)
    host.log(5, "switch_core_session.c", "switch_core_session_thread", 1770,
             f"Close Channel {chan.name} [CS_DESTROY]", chan, text_channel=0)
    for cb in chan.on_destroy:
        cb(chan)
    release(chan)


def release(chan: Channel) -> None:
    """Drop the references that tie a finished leg to others, so it is freed at once
    (no reference cycles left for the garbage collector to find)."""
    chan.cancel_timers()
    chan.peer = None
    chan.bridge = None
    chan.on_destroy = []
    chan.pending = []
    chan.app_task = None
    orig = chan.originate
    if orig is not None:
        orig.leg = None
        chan.originate = None
    facts = chan.facts
    facts.pop("_apps", None)
    facts.pop("bridge_run", None)


def release_session(chan: Channel, listener: Listener) -> None:
    """A socket that held the leg (``myevents``) closed: finish the destroy if it waited."""
    holders = chan.holders
    holders.discard(listener)
    if not holders and chan.reported and not chan.destroyed:
        destroy(chan)


# -- the hangup report (CDR variables) --------------------------------------------------
def _ms(us: int) -> int:
    return us // 1000


#: (unit in µs, names of the duration variables in that unit)
_CDR_UNITS = tuple(
    (unit, dur, f"bill{sfx}", f"progress{sfx}", f"answer{sfx}", f"wait{sfx}",
     f"progress_media{sfx}", f"flow_bill{sfx}")
    for unit, sfx, dur in ((1_000_000, "sec", "duration"), (1000, "msec", "mduration"),
                           (1, "usec", "uduration")))


def apply_cdr(chan: Channel) -> None:
    """Variables FreeSWITCH sets before CHANNEL_HANGUP_COMPLETE
    (``switch_channel_set_timestamps``)."""
    t = chan.times
    start = t.get("created", 0)
    prof = t.get("profile_created", start)
    answer = t.get("answered", 0)
    bridged = t.get("bridged", 0)
    progress = t.get("progress", 0)
    pmedia = t.get("progress_media", 0)
    end = t.get("hangup", chan.host.clock.now_us())
    cause = chan.hangup_cause or "NORMAL_CLEARING"
    out: list[tuple[str, str]] = [
        ("hangup_cause", cause), ("hangup_cause_q850", str(causes.Q850.get(cause, 0))),
        ("digits_dialed", "none"), ("start_stamp", local_stamp(start)),
        ("profile_start_stamp", local_stamp(prof)),
    ]
    if answer:
        out.append(("answer_stamp", local_stamp(answer)))
    if bridged:
        out.append(("bridge_stamp", local_stamp(bridged)))
    if progress:
        out.append(("progress_stamp", local_stamp(progress)))
    if pmedia:
        out.append(("progress_media_stamp", local_stamp(pmedia)))
    out.append(("end_stamp", local_stamp(end)))
    sec = 1_000_000
    zero = "0"
    out += [
        ("start_epoch", str(start // sec)), ("start_uepoch", str(start)),
        ("profile_start_epoch", str(prof // sec)), ("profile_start_uepoch", str(prof)),
        ("answer_epoch", str(answer // sec)), ("answer_uepoch", str(answer)),
        ("bridge_epoch", str(bridged // sec)), ("bridge_uepoch", str(bridged)),
        ("last_hold_epoch", zero), ("last_hold_uepoch", zero),
        ("hold_accum_seconds", zero), ("hold_accum_usec", zero), ("hold_accum_ms", zero),
        ("resurrect_epoch", zero), ("resurrect_uepoch", zero),
        ("progress_epoch", str(progress // sec)), ("progress_uepoch", str(progress)),
        ("progress_media_epoch", str(pmedia // sec)), ("progress_media_uepoch", str(pmedia)),
        ("end_epoch", str(end // sec)), ("end_uepoch", str(end)),
    ]
    if chan.last_app:
        out.append(("last_app", chan.last_app))
        if chan.last_arg:
            out.append(("last_arg", chan.last_arg))
    name, num = chan.cid_name, chan.cid_num
    out.append(("caller_id", f'"{name}" <{num}>' if name else num))
    for unit, n_dur, n_bill, n_progress, n_answer, n_wait, n_pmedia, n_flow in _CDR_UNITS:
        s0 = start // unit
        flow = str(end // unit - s0)
        out += [
            (n_dur, flow),
            (n_bill, str(end // unit - answer // unit) if answer else zero),
            (n_progress, str(progress // unit - s0) if progress else zero),
            (n_answer, str(answer // unit - s0) if answer else zero),
            (n_wait, str(bridged // unit - s0) if bridged else zero),
            (n_pmedia, str(pmedia // unit - s0) if pmedia else zero),
            (n_flow, flow),
        ]
    if chan.facts.get("bridge_role") == "originatee":
        out += [("bridge_hangup_cause", cause), ("call_uuid", chan.uuid)]
    chan.set_vars(out)
    how = chan.facts.get("hangup_how", "local")
    if chan.kind == "loopback":
        chan.set_var("is_loopback", "1")
        return
    if chan.kind != "sofia":
        return
    if how in ("local", "bridge", "peer"):
        if chan.answered or chan.early:
            chan.set_var("sip_hangup_disposition", "send_bye")
        elif chan.direction == "outbound":
            chan.apply(T.OUT_CANCELLED)
        else:
            chan.set_var("sip_hangup_disposition", "send_refuse")
    if chan.media:
        talk_ms = max(0, (end - (answer or pmedia or end)) // 1000)
        out_packets = chan.media_ms // 20
        in_packets = chan.facts.get("peer_media_ms", 0) // 20
        chan.apply(T.RTP_STATS, in_bytes=in_packets * 172, in_packets=in_packets,
                   skip_packets=max(0, talk_ms // 20 - in_packets), out_bytes=out_packets * 172,
                   out_packets=out_packets)


def find_channel(host: EmulatedHost, uuid: str) -> Channel | None:
    chan = host.channels.get(uuid)
    if chan is None or chan.destroyed:
        return None
    return chan


def schedule(chan: Channel, delay: float, fn: Callable[..., Any], *args: Any) -> None:
    chan.host.later(delay, fn, *args, chan=chan)


__all__ = ["Originate", "originate", "hangup", "answer_channel", "ring_ready", "destroy",
           "release_session", "find_channel"]
