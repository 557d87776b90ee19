"""Pieces shared by the ways a leg is created: codecs, caller-id, the originate's
variables, the "New Channel" log line and the caller-id flip.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..model import milestones as T
from ..model.channel import Channel
from ..model.template import Template
from .medialog import log_read_codec

if TYPE_CHECKING:
    from ...wire.dialstring import OriginateRequest

DEFAULT_CID = "0000000000"
READ_HEADERS = ("channel-read-codec-name", "channel-read-codec-rate",
                "channel-read-codec-bit-rate")
WRITE_HEADERS = ("Channel-Write-Codec-Name", "Channel-Write-Codec-Rate",
                 "Channel-Write-codec-bit-rate")
PCMU = ("PCMU", "8000", "64000")
L16 = ("L16", "8000", "128000")


def fire_codecs(chan: Channel, codec: tuple[str, str, str] = PCMU,
                read_variant: str | None = None) -> None:
    """The two CODEC events of a leg whose media is set up."""
    chan.codec = codec
    # sofia sets the write codec first; loopback the read codec first
    chan.write_codec = read_variant != "read"
    name, rate, bits = codec
    if read_variant is None:  # switch_core_session_set_real_read_codec
        log_read_codec(chan, name, rate, bits)
    chan.fire("CODEC", post=list(zip(READ_HEADERS, (name, rate, bits))), variant=read_variant)
    chan.write_codec = True
    chan.fire("CODEC", post=list(zip(WRITE_HEADERS, (name, rate, bits))), variant="write")


def log_new_channel(chan: Channel) -> None:
    if chan.bus.log_max_level >= 5:
        chan.host.log(5, "switch_channel.c", "switch_channel_set_name", 1143,
                      f"New Channel {chan.name} [{chan.uuid}]", chan)


def log_set_uuid(chan: Channel, req: OriginateRequest) -> None:
    """``switch_core_session_outgoing_channel``: an ``origination_uuid`` taken (DEBUG)."""
    if chan.bus.log_max_level >= 7 and req.var("origination_uuid"):
        chan.host.log(7, "switch_core_session.c", "switch_core_session_outgoing_channel", 641,
                      f"{chan.name} set UUID={chan.uuid}", chan)


def copy_vars(chan: Channel, variables: dict[str, str]) -> None:
    for name, value in variables.items():
        chan.set_var(name, value)


def create_outbound_leg(chan: Channel, req: OriginateRequest, head: Template,
                        tail: Template) -> None:
    """Set an originated leg's variables (``head``, the originate's own, ``tail``) and
    take it from CS_INIT through CHANNEL_CREATE/CHANNEL_ORIGINATE to CS_CONSUME_MEDIA."""
    chan.apply(head)
    copy_vars(chan, req.all_variables())
    chan.apply(tail)
    chan.state_num = 2
    chan.fire("CHANNEL_CREATE")
    chan.fire("CHANNEL_ORIGINATE")
    chan.set_state("CS_ROUTING")
    chan.set_state("CS_CONSUME_MEDIA")


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


def originator_clone(chan: Channel, owner: Channel, dest_user: str, cid_num: str,
                     cid_name: str | None) -> None:
    """switch_ivr_originate with a caller session (``bridge``): the new leg's caller profile
    is ``switch_caller_profile_clone`` of the caller's (its username, dialplan, context,
    network address, ANI, source...) with the new destination, uuid and channel name; the
    caller's own profile becomes the leg's originator profile
    (``switch_channel_set_originator_caller_profile``: ``Other-Type: originator``)."""
    profile = dict(owner.profile)
    profile.update({
        "Direction": "outbound", "Logical-Direction": "outbound",
        "Caller-ID-Name": cid_name or owner.cid_name, "Caller-ID-Number": cid_num,
        "Callee-ID-Name": "Outbound Call", "Callee-ID-Number": dest_user,
        "Destination-Number": dest_user, "Unique-ID": chan.uuid, "Channel-Name": chan.name,
    })
    chan.profile.clear()
    chan.set_profile(**profile)
    chan.link_other("originator", owner, times=False)


def caller_id(req: OriginateRequest) -> tuple[str, str | None]:
    """The originate's caller-id number and name."""
    num = req.var("origination_caller_id_number") or req.cid_num or DEFAULT_CID
    name = req.var("origination_caller_id_name") or req.cid_name
    return num, name


def flip_cid(chan: Channel, disposition: str) -> None:
    """``switch_channel_flip_cid``: the outbound leg's caller-id becomes the callee's."""
    if chan.get_var("channel_cid_flipped"):
        return
    p = chan.profile
    old_name, old_num = p.get("Caller-ID-Name", ""), p.get("Caller-ID-Number", "")
    new_name, new_num = p.get("Callee-ID-Name", ""), p.get("Callee-ID-Number", "")
    if chan.bus.log_max_level >= 6:
        chan.host.log(6, "switch_channel.c", "switch_channel_flip_cid", 3291,
                      f'{chan.name} Flipping CID from "{old_name}" <{old_num}> to '
                      f'"{new_name}" <{new_num}>', chan)
    chan.set_profile(**{"Caller-ID-Name": new_name, "Caller-ID-Number": new_num,
                        "Callee-ID-Name": old_name, "Callee-ID-Number": old_num})
    chan.hit_dialplan = True
    chan.apply(T.CID_FLIP, endpoint_disposition=disposition)
    chan.fire("CALL_UPDATE", pre=[("Direction", "RECV")])
