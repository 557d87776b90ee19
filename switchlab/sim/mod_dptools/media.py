"""The media applications: playback, record_session and stop_record_session (no audio
flows; durations, counters and events are what FreeSWITCH reports). A recording holds
the audio that arrived while it ran (the far end's playbacks: a parked leg sends no
RTP); played back on the same host it lasts that long. (DTMF: :mod:`.dtmf`.)"""
from __future__ import annotations

import os
import re
import wave
from typing import Any

from ..model.channel import Channel
from .dtmf import far_end, playback_started
from .runner import AppRun, complete

#: how many recordings each host remembers (``host.recordings``; the oldest goes first)
MAX_RECORDINGS = 10_000


_TONE_SEGMENT = re.compile(r"%\(([^)]*)\)")


def playback_ms(path: str, host: Any = None) -> int:
    """How long ``path`` plays: tone_stream segments, silence_stream, a recording made
    on ``host``, or a local WAV."""
    recorded = host.recordings.get(path) if host is not None else None
    if recorded is not None:
        return recorded
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
    ms = playback_ms(path, chan.host)
    run.state.update(ms=ms, started=chan.host.clock.now_us())
    chan.fire("PLAYBACK_START", post=_file_headers(path))
    playback_started(chan, run)
    run.handle = chan.host.later(ms / 1000.0, _playback_done, chan, run, chan=chan)


def _file_headers(path: str, *status: tuple[str, str]) -> list[tuple[str, str]]:
    """``Playback-File-Type`` (streams only: a plain file has none), path, status."""
    out = [("Playback-File-Type", _file_type(path))] if "://" in path else []
    return out + [("Playback-File-Path", path), *status]


def _playback_vars(chan: Channel, ms: int) -> None:
    samples = ms * 8
    chan.set_var("playback_last_offset_pos", str(samples))
    chan.set_var("playback_seconds", str(ms // 1000))
    chan.set_var("playback_ms", str(ms))
    chan.set_var("playback_samples", str(samples))
    chan.media_ms += ms
    peer = far_end(chan)
    if peer is not None:
        peer.facts["peer_media_ms"] = peer.facts.get("peer_media_ms", 0) + ms


def _playback_done(chan: Channel, run: AppRun) -> None:
    if chan.dead or run.finished:
        return
    run.handle = None
    _playback_vars(chan, run.state["ms"])
    path = run.data
    chan.fire("PLAYBACK_STOP", post=_file_headers(path, ("Playback-Status", "done")))
    complete(chan, run, "FILE PLAYED")


def stop_playback(chan: Channel, run: AppRun) -> None:
    played = (chan.host.clock.now_us() - run.state.get("started", 0)) // 1000
    _playback_vars(chan, max(0, min(int(played), run.state.get("ms", 0))))
    run.state["broken"] = True
    path = run.data
    chan.fire("PLAYBACK_STOP", post=_file_headers(path, ("Playback-Status", "break")))
    chan.set_var("current_application_response", "FILE PLAYED")


def app_record_session(chan: Channel, run: AppRun) -> None:
    path = run.data.split(" ", 1)[0]
    chan.record = (path, chan.host.clock.now_us())
    chan.facts["record_base_ms"] = chan.facts.get("peer_media_ms", 0)
    chan.fire("RECORD_START", post=[("Record-File-Path", path)])
    chan.fire("MEDIA_BUG_START", pre=[("Media-Bug-Function", "session_record"),
                                      ("Media-Bug-Target", path)])
    complete(chan, run)


def stop_recording(chan: Channel) -> None:
    if chan.record is None:
        return
    path, _started = chan.record
    chan.record = None
    # a parked far end sends no RTP: what is recorded is the audio that arrived
    ms = max(0, chan.facts.get("peer_media_ms", 0) - chan.facts.pop("record_base_ms", 0))
    samples = ms * 8
    chan.set_var("current_application", chan.app or "stop_record_session")
    chan.set_var("record_file_size", str(44 + samples * 2))
    chan.set_var("record_samples", str(samples))
    chan.set_var("record_seconds", str(ms // 1000))
    chan.set_var("record_ms", str(ms))
    chan.set_var("record_completion_cause", "success-maxtime")
    made = chan.host.recordings
    made.pop(path, None)
    made[path] = ms
    if len(made) > MAX_RECORDINGS:
        del made[next(iter(made))]
    chan.fire("RECORD_STOP", post=[("Record-File-Path", path),
                                   ("Record-Completion-Cause", "success-maxtime")])
    chan.fire("MEDIA_BUG_STOP", pre=[("Media-Bug-Function", "session_record"),
                                     ("Media-Bug-Target", path)])


def app_stop_record_session(chan: Channel, run: AppRun) -> None:
    stop_recording(chan)
    complete(chan, run)
