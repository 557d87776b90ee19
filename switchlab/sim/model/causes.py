"""Hangup causes: FreeSWITCH's Q.850 table and sofia's SIP -> cause mapping.

The SIP mapping is ``sofia_glue_sip_cause_to_freeswitch`` of FreeSWITCH 1.10+
(RFC 4497 section 8.4.4). When a failure response carries a
``Reason: Q.850;cause=N`` header, sofia uses that cause instead, which is how a
DUT can report congestion (``503`` + cause 34) rather than the plain ``503`` ->
``NORMAL_TEMPORARY_FAILURE`` mapping.

>>> sip_to_cause(486)
'USER_BUSY'
>>> Q850["USER_BUSY"]
17
"""
from __future__ import annotations

from typing import Final

#: FreeSWITCH cause name -> numeric code (``switch_cause_table``).
Q850: Final[dict[str, int]] = {
    "NONE": 0,
    "UNALLOCATED_NUMBER": 1,
    "NO_ROUTE_TRANSIT_NET": 2,
    "NO_ROUTE_DESTINATION": 3,
    "CHANNEL_UNACCEPTABLE": 6,
    "CALL_AWARDED_DELIVERED": 7,
    "NORMAL_CLEARING": 16,
    "USER_BUSY": 17,
    "NO_USER_RESPONSE": 18,
    "NO_ANSWER": 19,
    "SUBSCRIBER_ABSENT": 20,
    "CALL_REJECTED": 21,
    "NUMBER_CHANGED": 22,
    "REDIRECTION_TO_NEW_DESTINATION": 23,
    "EXCHANGE_ROUTING_ERROR": 25,
    "DESTINATION_OUT_OF_ORDER": 27,
    "INVALID_NUMBER_FORMAT": 28,
    "FACILITY_REJECTED": 29,
    "RESPONSE_TO_STATUS_ENQUIRY": 30,
    "NORMAL_UNSPECIFIED": 31,
    "NORMAL_CIRCUIT_CONGESTION": 34,
    "NETWORK_OUT_OF_ORDER": 38,
    "NORMAL_TEMPORARY_FAILURE": 41,
    "SWITCH_CONGESTION": 42,
    "ACCESS_INFO_DISCARDED": 43,
    "REQUESTED_CHAN_UNAVAIL": 44,
    "PRE_EMPTED": 45,
    "FACILITY_NOT_SUBSCRIBED": 50,
    "OUTGOING_CALL_BARRED": 52,
    "INCOMING_CALL_BARRED": 54,
    "BEARERCAPABILITY_NOTAUTH": 57,
    "BEARERCAPABILITY_NOTAVAIL": 58,
    "SERVICE_UNAVAILABLE": 63,
    "BEARERCAPABILITY_NOTIMPL": 65,
    "CHAN_NOT_IMPLEMENTED": 66,
    "FACILITY_NOT_IMPLEMENTED": 69,
    "SERVICE_NOT_IMPLEMENTED": 79,
    "INVALID_CALL_REFERENCE": 81,
    "INCOMPATIBLE_DESTINATION": 88,
    "INVALID_MSG_UNSPECIFIED": 95,
    "MANDATORY_IE_MISSING": 96,
    "MESSAGE_TYPE_NONEXIST": 97,
    "WRONG_MESSAGE": 98,
    "IE_NONEXIST": 99,
    "INVALID_IE_CONTENTS": 100,
    "WRONG_CALL_STATE": 101,
    "RECOVERY_ON_TIMER_EXPIRE": 102,
    "MANDATORY_IE_LENGTH_ERROR": 103,
    "PROTOCOL_ERROR": 111,
    "INTERWORKING": 127,
    "SUCCESS": 142,
    "ORIGINATOR_CANCEL": 487,
    "CRASH": 700,
    "SYSTEM_SHUTDOWN": 701,
    "LOSE_RACE": 702,
    "MANAGER_REQUEST": 503,
    "BLIND_TRANSFER": 600,
    "ATTENDED_TRANSFER": 601,
    "ALLOTTED_TIMEOUT": 602,
    "USER_CHALLENGE": 603,
    "MEDIA_TIMEOUT": 604,
    "PICKED_OFF": 605,
    "USER_NOT_REGISTERED": 606,
    "PROGRESS_TIMEOUT": 607,
    "INVALID_GATEWAY": 608,
    "GATEWAY_DOWN": 609,
    "INVALID_URL": 610,
    "INVALID_PROFILE": 611,
    "NO_PICKUP": 612,
    "SRTP_READ_ERROR": 613,
    "BOWOUT": 614,
    "BUSY_EVERYWHERE": 615,
    "DECLINE": 616,
    "DOES_NOT_EXIST_ANYWHERE": 617,
    "NOT_ACCEPTABLE": 618,
    "UNWANTED": 619,
    "NO_IDENTITY": 620,
    "BAD_IDENTITY_INFO": 621,
    "UNSUPPORTED_CERTIFICATE": 622,
    "INVALID_IDENTITY": 623,
    "STALE_DATE": 624,
    "REJECT_ALL": 625,
}

_BY_CODE: Final = {code: name for name, code in Q850.items() if code < 128}

_SIP_TO_CAUSE: Final[dict[int, str]] = {}
for _cause, _codes in {
    "NORMAL_CLEARING": (200,),
    "CALL_REJECTED": (401, 402, 403, 407, 603, 608),
    "UNALLOCATED_NUMBER": (404,),
    "NO_ROUTE_DESTINATION": (485, 604),
    "RECOVERY_ON_TIMER_EXPIRE": (408, 504),
    "NUMBER_CHANGED": (410,),
    "INTERWORKING": (413, 414, 416, 420, 421, 423, 505, 513),
    "NO_USER_RESPONSE": (480,),
    "NORMAL_TEMPORARY_FAILURE": (400, 481, 500, 503),
    "USER_BUSY": (486, 600),
    "INVALID_NUMBER_FORMAT": (484,),
    "INCOMPATIBLE_DESTINATION": (488, 606),
    "NETWORK_OUT_OF_ORDER": (502,),
    "SERVICE_UNAVAILABLE": (405,),
    "SERVICE_NOT_IMPLEMENTED": (406, 415, 501),
    "EXCHANGE_ROUTING_ERROR": (482, 483),
    "ORIGINATOR_CANCEL": (487,),
}.items():
    for _code in _codes:
        _SIP_TO_CAUSE[_code] = _cause

#: Reason phrases a SIP peer sends with each status (RFC 3261 and friends).
SIP_PHRASES: Final[dict[int, str]] = {
    100: "Trying", 180: "Ringing", 183: "Session Progress", 200: "OK",
    400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden",
    404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable",
    407: "Proxy Authentication Required", 408: "Request Timeout", 410: "Gone",
    413: "Request Entity Too Large", 414: "Request-URI Too Long",
    415: "Unsupported Media Type", 416: "Unsupported URI Scheme", 420: "Bad Extension",
    421: "Extension Required", 423: "Interval Too Brief",
    480: "Temporarily Unavailable", 481: "Call/Transaction Does Not Exist",
    482: "Loop Detected", 483: "Too Many Hops", 484: "Address Incomplete",
    485: "Ambiguous", 486: "Busy Here", 487: "Request Terminated",
    488: "Not Acceptable Here", 500: "Server Internal Error", 501: "Not Implemented",
    502: "Bad Gateway", 503: "Service Unavailable", 504: "Server Time-out",
    505: "Version Not Supported", 513: "Message Too Large", 600: "Busy Everywhere",
    603: "Decline", 604: "Does Not Exist Anywhere", 606: "Not Acceptable",
    608: "Rejected",
}

#: Cause -> SIP status FreeSWITCH sends when it refuses or cancels with that cause
#: (``hangup_cause_to_sip``), used when a DUT failure is given by cause name.
_CAUSE_TO_SIP: Final[dict[str, int]] = {
    "UNALLOCATED_NUMBER": 404, "NO_ROUTE_TRANSIT_NET": 404, "NO_ROUTE_DESTINATION": 404,
    "USER_BUSY": 486, "NO_USER_RESPONSE": 408, "NO_ANSWER": 480,
    "SUBSCRIBER_ABSENT": 480, "CALL_REJECTED": 603, "NUMBER_CHANGED": 410,
    "REDIRECTION_TO_NEW_DESTINATION": 410, "EXCHANGE_ROUTING_ERROR": 483,
    "DESTINATION_OUT_OF_ORDER": 502, "INVALID_NUMBER_FORMAT": 484,
    "FACILITY_REJECTED": 501, "NORMAL_UNSPECIFIED": 480,
    "NORMAL_CIRCUIT_CONGESTION": 503, "NETWORK_OUT_OF_ORDER": 503,
    "NORMAL_TEMPORARY_FAILURE": 503, "SWITCH_CONGESTION": 503,
    "REQUESTED_CHAN_UNAVAIL": 503, "SERVICE_UNAVAILABLE": 503,
    "OUTGOING_CALL_BARRED": 403, "INCOMING_CALL_BARRED": 403,
    "BEARERCAPABILITY_NOTAUTH": 403, "BEARERCAPABILITY_NOTAVAIL": 488,
    "BEARERCAPABILITY_NOTIMPL": 488, "INCOMPATIBLE_DESTINATION": 488,
    "SERVICE_NOT_IMPLEMENTED": 501, "FACILITY_NOT_IMPLEMENTED": 501,
    "RECOVERY_ON_TIMER_EXPIRE": 504, "INTERWORKING": 500,
}


def sip_to_cause(status: int, reason_q850: int | None = None) -> str:
    """The hangup cause FreeSWITCH reports for a failure response ``status``.

    ``reason_q850`` is the cause of a ``Reason: Q.850;cause=N`` header, which
    sofia prefers over the status mapping when present.

    >>> sip_to_cause(404), sip_to_cause(503, reason_q850=34)
    ('UNALLOCATED_NUMBER', 'NORMAL_CIRCUIT_CONGESTION')
    """
    if reason_q850 is not None and reason_q850 in _BY_CODE:
        return _BY_CODE[reason_q850]
    return _SIP_TO_CAUSE.get(int(status), "NORMAL_UNSPECIFIED")


def cause_to_sip(cause: str) -> int:
    """The SIP status a peer would send to report ``cause`` (480 when unknown)."""
    return _CAUSE_TO_SIP.get(cause, 480)


def phrase(status: int) -> str:
    """Reason phrase for a SIP status (``"Unknown"`` if not a standard one)."""
    return SIP_PHRASES.get(int(status), "Unknown")


def is_cause(name: str) -> bool:
    """True for a FreeSWITCH hangup cause name such as ``USER_BUSY``."""
    return name in Q850


#: switch_ivr_originate: DIALSTATUS of a failed originate (else the cause's own name)
_DIALSTATUS: Final[dict[str, str]] = {
    "ORIGINATOR_CANCEL": "CANCEL", "USER_BUSY": "BUSY", "NO_ANSWER": "NOANSWER",
    "INVALID_NUMBER_FORMAT": "INVALIDARGS", "INVALID_PROFILE": "INVALIDARGS",
    "CALL_REJECTED": "DONTCALL",
}


def dialstatus(cause: str) -> str:
    """``DIALSTATUS`` after an originate failed with ``cause``.

    >>> dialstatus("USER_BUSY"), dialstatus("NORMAL_TEMPORARY_FAILURE")
    ('BUSY', 'NORMAL_TEMPORARY_FAILURE')
    """
    return _DIALSTATUS.get(cause, cause)
