"""The callee id a SIP reply carries and what the receiving outbound leg does with it.

An inbound sofia leg (a FreeSWITCH callee) puts its callee id in every 180 / 183 / 200 it
sends (``generate_pai_str`` in mod_sofia.c: ``X-FS-Display-Name`` / ``X-FS-Display-Number``
for a FreeSWITCH caller, which offers ``X-FS-Support: update_display``); the outbound leg
that gets the reply runs ``sofia_update_callee_id`` (sofia.c, from
``sofia_handle_sip_r_invite`` for status 180, 183 and 200, ``send`` false: no CALL_UPDATE)
and takes it into its caller profile before the reply's CHANNEL_PROGRESS /
CHANNEL_PROGRESS_MEDIA / CHANNEL_ANSWER. A plain SIP far end (the sipp DUT) sends no
identity: ``sofia_update_callee_id`` then finds the profile's own callee id ("Same
Callee ID") and changes nothing.
"""
from __future__ import annotations

from ..model.channel import Channel

#: where ``generate_pai_str`` looks for the callee's name / number, in order (a channel
#: variable, then the caller-profile field ``switch_channel_get_variable`` falls back to)
_NAME_VARS = ("initial_callee_id_name", "effective_callee_id_name", "sip_callee_id_name",
              "callee_id_name")
_NUMBER_VARS = ("initial_callee_id_number", "effective_callee_id_number",
                "sip_callee_id_number", "callee_id_number")


_TRUE = ("true", "yes", "on", "1", "enabled", "active", "allow")


def _first(chan: Channel, names: tuple[str, ...], field: str) -> str:
    for name in names:
        value = chan.get_var(name)
        if value:
            return value
    return chan.profile.get(field, "")


def sanitize_number(number: str) -> str:
    """``switch_sanitize_number``: cut ``@host`` and anything up to the last ``/`` / ``:``.

    >>> sanitize_number("sip:ring1@127.0.0.1"), sanitize_number("1000")
    ('ring1', '1000')
    """
    if not any(c in number for c in "/:@"):
        return number
    number = number.split("@", 1)[0]
    for sep in "/:":
        number = number.rsplit(sep, 1)[-1]
    return number


def presented_callee_id(callee: Channel, caller_ip: str) -> tuple[str, str] | None:
    """``generate_pai_str``: the (name, number) an inbound leg sends in its 1xx / 2xx,
    the number as ``sip:NUMBER@HOST`` (``X-FS-Display-Number``); None when it sends none
    (``sip_cid_in_1xx=false`` or not a sofia inbound leg)."""
    if callee.kind != "sofia" or callee.direction != "inbound":
        return None
    if (callee.get_var("sip_cid_in_1xx") or "").lower() in ("false", "no", "off", "0"):
        return None
    name = _first(callee, _NAME_VARS, "Callee-ID-Name")
    number = _first(callee, _NUMBER_VARS, "Callee-ID-Number") or \
        callee.profile.get("Destination-Number", "")
    if not number:
        return None
    name = sanitize_number(name or number)
    if name == "_undef_":
        return None
    host = callee.get_var("sip_to_host") or caller_ip
    return name, f"sip:{sanitize_number(number)}@{host}"


def update_callee_id(caller: Channel, ident: tuple[str, str] | None) -> None:
    """``sofia_update_callee_id`` on the outbound leg that got a 180 / 183 / 200."""
    if ident is None or (caller.get_var("ignore_display_updates") or "").lower() in _TRUE \
            or (caller.get_var("sip_ignore_remote_cid") or "").lower() in _TRUE:
        return
    name, number = ident
    p = caller.profile
    if p.get("Callee-ID-Name", "") == name and p.get("Callee-ID-Number", "") == number:
        return  # "Same Callee ID" (DEBUG1)
    caller.set_profile(**{"Callee-ID-Name": sanitize_number(name),
                          "Callee-ID-Number": sanitize_number(number)})
    caller.host.log(6, "sofia.c", "sofia_update_callee_id", 1348,
                    f'{caller.name} Update Callee ID to "{name}" <{number}>', None,
                    text_channel=0)
