"""The media applications: playback, record_session, stop_record_session and send_dtmf
(no audio flows; durations, counters and events are what FreeSWITCH reports)."""
from __future__ import annotations

import os
import re
import wave

from ..model.channel import Channel
from .runner import AppRun, complete


_TONE_SEGMENT = re.compile(r"%\(([^)]*)\)")


def playback_ms(path: str) -> int:
    """How long ``path`` plays: tone_stream segments, silence_stream, or a local WAV."""
    if path.startswith("tone_stream://"):
        spec = path[len("tone_stream://"):]
        loops = 1
        m = re.search(r"(?:^|;)loops=(-?\d+)", spec) or re.search(r"^L=(\d+);", spec)
        if m:
            loops = max(1, int(m.group(1)))
        total = 0
        for seg in _TONE_SEGMENT.findall(spec):
            parts = [p.strip() for p in seg.split(",")]
            try:
                total += int(parts[0]) + (int(parts[1]) if len(parts) > 1 else 0)
            except ValueError:
                continue
        return total * loops if total else 1000
    if path.startswith("silence_stream://"):
        first = path[len("silence_stream://"):].split(",")[0]
        return int(first) if first.isdigit() and int(first) > 0 else 1000
    if os.path.isfile(path) and path.lower().endswith(".wav"):
        try:
            with wave.open(path, "rb") as w:
                return int(1000 * w.getnframes() / max(1, w.getframerate()))
        except (wave.Error, OSError):
            return 1000
    return 1000


def _file_type(path: str) -> str:
    if "://" in path:
        return path.split("://", 1)[0]
    return "native"


def app_playback(chan: Channel, run: AppRun) -> None:
    path = run.data
    ms = playback_ms(path)
    run.state.update(ms=ms, started=chan.host.clock.now_us())
    chan.set_var("current_application", "playback")
    post = [("Playback-File-Type", _file_type(path)), ("Playback-File-Path", path)]
    chan.fire("PLAYBACK_START", post=post)
    run.handle = chan.host.later(ms / 1000.0, _playback_done, chan, run, chan=chan)


def _playback_vars(chan: Channel, ms: int) -> None:
    samples = ms * 8
    chan.set_var("playback_last_offset_pos", str(samples))
    chan.set_var("playback_seconds", str(ms // 1000))
    chan.set_var("playback_ms", str(ms))
    chan.set_var("playback_samples", str(samples))
    chan.media_ms += ms
    peer = chan.bridge or chan.peer
    if peer is not None:
        peer.facts["peer_media_ms"] = peer.facts.get("peer_media_ms", 0) + ms


def _playback_done(chan: Channel, run: AppRun) -> None:
    if chan.dead or run.finished:
        return
    run.handle = None
    _playback_vars(chan, run.state["ms"])
    path = run.data
    chan.fire("PLAYBACK_STOP", post=[("Playback-File-Type", _file_type(path)),
                                     ("Playback-File-Path", path), ("Playback-Status", "done")])
    complete(chan, run, "FILE PLAYED")


def stop_playback(chan: Channel, run: AppRun) -> None:
    played = (chan.host.clock.now_us() - run.state.get("started", 0)) // 1000
    _playback_vars(chan, max(0, min(int(played), run.state.get("ms", 0))))
    path = run.data
    chan.fire("PLAYBACK_STOP", post=[("Playback-File-Type", _file_type(path)),
                                     ("Playback-File-Path", path), ("Playback-Status", "break")])
    chan.set_var("current_application_response", "FILE PLAYED")


def app_record_session(chan: Channel, run: AppRun) -> None:
    path = run.data.split(" ", 1)[0]
    chan.record = (path, chan.host.clock.now_us())
    chan.set_var("current_application", "record_session")
    chan.fire("RECORD_START", post=[("Record-File-Path", path)])
    chan.fire("MEDIA_BUG_START", pre=[("Media-Bug-Function", "session_record"),
                                      ("Media-Bug-Target", path)])
    complete(chan, run)


def stop_recording(chan: Channel) -> None:
    if chan.record is None:
        return
    path, started = chan.record
    chan.record = None
    ms = max(0, (chan.host.clock.now_us() - started) // 1000)
    samples = ms * 8
    chan.set_var("current_application", chan.app or "stop_record_session")
    chan.set_var("record_file_size", str(44 + samples * 2))
    chan.set_var("record_samples", str(samples))
    chan.set_var("record_seconds", str(ms // 1000))
    chan.set_var("record_ms", str(ms))
    chan.set_var("record_completion_cause", "success-maxtime")
    chan.fire("RECORD_STOP", post=[("Record-File-Path", path),
                                   ("Record-Completion-Cause", "success-maxtime")])
    chan.fire("MEDIA_BUG_STOP", pre=[("Media-Bug-Function", "session_record"),
                                     ("Media-Bug-Target", path)])


def app_stop_record_session(chan: Channel, run: AppRun) -> None:
    stop_recording(chan)
    complete(chan, run)


def app_send_dtmf(chan: Channel, run: AppRun) -> None:
    digits = run.data.split("@", 1)[0].strip()
    chan.set_var("current_application", "send_dtmf")
    chan.set_var("last_dtmf_duration", "2000")
    peer = chan.bridge or chan.peer
    complete(chan, run)
    if peer is None or not digits:
        return
    host = chan.host
    for i, digit in enumerate(d for d in digits if d in "0123456789*#ABCDabcdwW"):
        if digit in "wW":
            continue
        host.later(0.28 + 0.52 * i, _dtmf_event, peer, digit.upper(), chan=peer)


def _dtmf_event(chan: Channel, digit: str) -> None:
    if chan.dead:
        return
    chan.dtmf_seen = True
    chan.fire("DTMF", post=[("DTMF-Digit", digit), ("DTMF-Duration", "2080"),
                            ("DTMF-Source", "RTP")])
