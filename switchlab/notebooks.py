"""Helpers for the notebooks: where the calls go (real FreeSWITCH, or an
emulator started here), an originator wired like the demo, the sample run.

>>> lab = open_lab(None)                       # doctest: +SKIP
>>> lab                                        # doctest: +SKIP
<Lab emulator: 2 hosts ['127.0.0.1:8021', '127.0.0.1:8022'] proxy=127.0.0.1:5070>
>>> orig = await lab.originator(rate=20, limit=60, duration=2)    # doctest: +SKIP
>>> lab = open_lab(["10.0.0.5:8021", "10.0.0.6:8021"], proxy="10.0.0.9:5060")  # doctest: +SKIP

The emulator runs in its own thread (:meth:`Emulator.start_background`), so
it keeps answering while a cell blocks (``time.sleep``, ``sync_caller``);
the engine runs on the kernel's loop.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from .apps.players import TonePlay
from .client import Client
from .esl import parse_address
from .demo import demo_dut
from .measure import Run, load
from .originator import Originator, loopback_destinations
from .originator.setup import DEFAULT_USER
from .scale import DistributedOriginator
from .sim import DUTModel, Emulator


#: the ESL port the emulator tries first (so the seed's ``sync_caller('127.0.0.1')`` works)
DEFAULT_ESL_PORT = 8021
#: where the sample run lives in the repository
SAMPLE_RUN = Path("data") / "sample_run"


def start_emulator(hosts: int = 2, *, dut: DUTModel | None = None, port: int = DEFAULT_ESL_PORT,
                   tick_us: int = 1000, password: str = "ClueCon") -> Emulator:
    """Start ``hosts`` emulated FreeSWITCH hosts in a background thread and
    return the :class:`~switchlab.sim.Emulator` (``.esl_addresses``,
    ``.dut_address``, ``.stop()``). Listens on ``port``, ``port + 1``... when
    free, else on free ports chosen by the system."""
    dut = dut if dut is not None else _default_dut()
    if port:
        try:
            return Emulator(hosts=hosts, port=port, dut=dut, tick_us=tick_us,
                            password=password).start_background()
        except OSError:
            pass  # taken: let the system choose
    return Emulator(hosts=hosts, port=0, dut=dut, tick_us=tick_us,
                    password=password).start_background()


def _default_dut() -> DUTModel:
    return demo_dut()


class Lab:
    """The FreeSWITCH hosts a notebook drives and how calls reach the DUT.

    ``hosts``: ESL addresses ``"host:port"``; ``proxy``: the DUT's SIP address
    (calls go ``sofia/<profile>/<user>@<own SIP address>;fs_path=sip:<proxy>``,
    i.e. each host calls itself back through the DUT), or None to call
    directly; ``emulator``: the :class:`~switchlab.sim.Emulator` when the
    hosts are emulated; ``dask``: a ``distributed.Client`` to spread the
    hosts over its workers (:mod:`switchlab.scale`; docs/SCALE_OUT.md).
    """

    def __init__(self, hosts: Iterable[str], *, password: str = "ClueCon",
                 proxy: str | None = None, profile: str = "external",
                 emulator: Emulator | None = None, dask: Any = None) -> None:
        self.hosts = ["{}:{}".format(*parse_address(h)) for h in hosts]
        if not self.hosts:
            raise ValueError("give at least one FreeSWITCH ESL address, e.g. ['10.0.0.5:8021']")
        self.password = password
        self.proxy = proxy
        self.profile = profile
        self.emulator = emulator
        self.dask = dask
        self.originators: list[Originator | DistributedOriginator] = []

    @property
    def esl_host(self) -> str:
        """Host of the first ESL address (for ``sync_caller``)."""
        return parse_address(self.hosts[0])[0]

    @property
    def esl_port(self) -> int:
        """Port of the first ESL address."""
        return parse_address(self.hosts[0])[1]

    @property
    def emulated(self) -> bool:
        return self.emulator is not None

    def __repr__(self) -> str:
        kind = f"emulator: {len(self.hosts)} hosts" if self.emulated else "FreeSWITCH"
        return f"<Lab {kind} {self.hosts} proxy={self.proxy}>"

    async def originator(self, *, user: str = DEFAULT_USER,
                         apps: Mapping[str, Any] | None = None, dask: Any = None,
                         **kwargs: Any) -> Any:
        """A connected :class:`~switchlab.originator.Originator` over every
        host, each calling its own ``profile`` SIP address (as ``user``)
        through the proxy (``proxy=`` overrides the lab's). ``apps`` defaults to ``{"tone": TonePlay}``; other
        keywords (rate, limit, duration, max_offered, shape, run_dir...) go
        to the Originator. With a Dask client (``dask=``, or the lab's): a
        :class:`~switchlab.scale.DistributedOriginator`, the hosts dealt to its workers."""
        dask = dask if dask is not None else self.dask
        if dask is not None:
            return await self._distributed(dask, user, apps, kwargs)
        clients = [Client(h, password=self.password) for h in self.hosts]
        dests = await loopback_destinations(clients, self.profile, user=user)
        kwargs.setdefault("timeout", 15)
        proxy = kwargs.pop("proxy", self.proxy)
        orig = Originator(clients, dest=dests, profile=self.profile,
                          proxy=proxy, password=self.password,
                          apps=apps if apps is not None else {"tone": TonePlay}, **kwargs)
        if self.emulator is not None:
            orig.run.params["emulator"] = {"hosts": len(self.hosts),
                                           "dut_capacity": self.emulator.dut.capacity}
        await orig.connect()
        self.originators.append(orig)
        return orig

    async def _distributed(self, dask: Any, user: str, apps: Mapping[str, Any] | None,
                           kwargs: dict[str, Any]) -> DistributedOriginator:
        kwargs.setdefault("timeout", 15)
        kwargs.setdefault("proxy", self.proxy)
        dorig = DistributedOriginator(self.hosts, client=dask, dest_user=user,
                                      profile=self.profile, password=self.password,
                                      apps=apps if apps is not None else {"tone": TonePlay},
                                      **kwargs)
        await dorig.connect()
        self.originators.append(dorig)
        return dorig

    async def record(self, *, seconds: float | None = None, wait: float = 120.0,
                     **kwargs: Any) -> Run:
        """Run one load test to its end and return its
        :class:`~switchlab.measure.Run`: launch for ``seconds`` (or until
        the load shape ends or ``max_offered`` is reached), then let the
        calls finish (at most ``wait`` s). Keywords as :meth:`originator`."""
        orig = await self.originator(**kwargs)
        orig.start()
        if seconds is not None:
            await orig.wait(seconds, calls=False)
            orig.stop()
        await orig.wait(wait)
        return await orig.close()

    def set_dut(self, dut: DUTModel) -> None:
        """Replace the emulated DUT's behaviour (emulator only)."""
        if self.emulator is None:
            raise RuntimeError("these are real FreeSWITCH hosts: reconfigure your device "
                               "under test itself between the runs")
        self.emulator.set_dut(dut)

    async def aclose(self) -> None:
        """Close the originators this lab made and stop its emulator."""
        for orig in self.originators:
            if orig.run.closed_at is None:
                await orig.close(timeout=5)
        self.originators.clear()
        self.stop()

    def stop(self) -> None:
        """Stop the emulator (if this lab started one)."""
        if self.emulator is not None:
            self.emulator.stop()


def open_lab(fs_hosts: Iterable[str] | str | None = None, *, password: str = "ClueCon",
             proxy: str | None = None, emulator_hosts: int = 2, dut: DUTModel | None = None,
             tick_us: int = 1000, dask: Any = None) -> Lab:
    """``fs_hosts`` None: start an emulator (``emulator_hosts`` hosts, the demo
    DUT unless ``dut``) and return a :class:`Lab` on it, calls going through
    its DUT; else a Lab on those real FreeSWITCH hosts (``"host[:port]"``),
    calls going through ``proxy`` (None: each host calls itself directly).
    ``dask``: a ``distributed.Client``; the lab's originators then spread the
    hosts over its workers (the emulator's hosts are on 127.0.0.1: a local cluster)."""
    if fs_hosts is None:
        fs = start_emulator(emulator_hosts, dut=dut, tick_us=tick_us, password=password)
        return Lab([f"{h}:{p}" for h, p in fs.esl_addresses], password=password,
                   proxy=proxy or "{}:{}".format(*fs.dut_address), emulator=fs, dask=dask)
    if isinstance(fs_hosts, str):
        fs_hosts = [h for h in fs_hosts.split(",") if h.strip()]
    return Lab(fs_hosts, password=password, proxy=proxy, dask=dask)


def sample_run_path() -> Path:
    """The sample run's directory: ``$SWITCHLAB_SAMPLE_RUN``, else the
    repository's ``data/sample_run`` (next to the package, or under the
    current or parent directory)."""
    env = os.environ.get("SWITCHLAB_SAMPLE_RUN")
    candidates = [Path(env)] if env else []
    here = Path(__file__).resolve().parent.parent
    candidates += [here / SAMPLE_RUN, Path.cwd() / SAMPLE_RUN, Path.cwd().parent / SAMPLE_RUN]
    for c in candidates:
        if (c / "run.json").exists():
            return c
    raise FileNotFoundError(
        "no sample run found (looked in " + ", ".join(str(c) for c in candidates) +
        "); make one with `python scripts/make_sample_run.py` or set SWITCHLAB_SAMPLE_RUN")


def open_sample_run() -> Run:
    """Load the sample run recorded on the emulator (see :func:`sample_run_path`)."""
    return load(sample_run_path())



#: a call's events in a per-call row: (column, what happened, clock)
TIMELINE_EVENTS = (
    ("launch", "originate sent (bgapi)", "local"),
    ("job_done", "originate job result", "local"),
    ("caller_create", "caller leg created: INVITE sent", "FreeSWITCH"),
    ("callee_create", "callee leg created: INVITE arrived", "FreeSWITCH"),
    ("caller_progress", "180 Ringing", "FreeSWITCH"),
    ("caller_early_media", "183 early media", "FreeSWITCH"),
    ("callee_answer", "callee answered", "FreeSWITCH"),
    ("caller_answer", "200 OK: caller leg answered", "FreeSWITCH"),
    ("caller_hangup", "caller leg hung up", "FreeSWITCH"),
    ("callee_hangup", "callee leg hung up", "FreeSWITCH"),
)


def call_timeline(df: pd.DataFrame, call_id: str) -> pd.DataFrame:
    """One call's events from its row, in time order: ``event``, ``what``,
    ``clock`` (``FreeSWITCH``: ``Event-Date-Timestamp``, for latency;
    ``local``: switchlab's wall clock), ``time`` (UTC) and ``ms`` since the
    caller leg's creation (FreeSWITCH clock) or since the launch (local).

    >>> call_timeline(run.df, run.df.call_id.iloc[0])       # doctest: +SKIP
    """
    rows = df[df["call_id"] == call_id]
    if rows.empty:
        raise KeyError(f"no call {call_id!r} in this DataFrame (see its call_id column)")
    row = rows.iloc[0]
    origin = {"FreeSWITCH": row["caller_create"], "local": row["launch"]}
    out = []
    for col, what, clock in TIMELINE_EVENTS:
        t = row[col]
        if pd.isna(t):
            continue
        base = origin[clock]
        ms = (t - base).total_seconds() * 1e3 if not pd.isna(base) else float("nan")
        out.append({"event": col, "what": what, "clock": clock, "time": t, "ms": ms})
    timeline = pd.DataFrame(out, columns=["event", "what", "clock", "time", "ms"])
    order = timeline["clock"].map({"local": 0, "FreeSWITCH": 1})
    timeline = timeline.assign(_o=order).sort_values(["_o", "ms"], kind="stable")
    return timeline.drop(columns="_o").reset_index(drop=True)
