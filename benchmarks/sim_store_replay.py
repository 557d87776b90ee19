"""The emulator's variable store alone: record a load's operations, replay them on a tree.

Every ``set_var``, ``set_vars``, ``apply`` (template and facts), ``unset_var`` and
render of the variable block that ``calls`` self-loop calls make is recorded from this
tree's emulator run as plain Python (``SWITCHLAB_PURE=1``, in a subprocess: a compiled
``Channel`` cannot be wrapped), each template named by the module constant it is
(``sim.model.milestones.ANSWER``...), and pickled. :func:`replay` runs them on fresh
channels of any tree (compiled or not, before or after a change) and returns the CPU
time and every rendered block, so two trees can be compared exactly: same operations,
no sockets, no timers, no wall clock.

    .venv/bin/python benchmarks/sim_store_replay.py --calls 200 --rounds 7 [--tree DIR]

``sim_instructions.py --store`` counts the replay's instructions with callgrind;
``sim_render_ab.py --store`` times it for two trees alternately.
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
Ops = list[tuple[Any, ...]]
#: the modules whose ``Template`` constants the emulator applies
TEMPLATE_MODULES = ("sim.model.milestones", "sim.model.milestones_bridge")


def _record_here(calls: int) -> Ops:
    """Run ``calls`` calls on this process's (pure) emulator and record its store ops."""
    sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
    import sim_render_ab

    from switchlab.sim.model import channel

    names: dict[int, tuple[str, str]] = {}
    for rel in TEMPLATE_MODULES:
        module = importlib.import_module(f"switchlab.{rel}")
        for attr, value in vars(module).items():
            if type(value).__name__ == "Template":
                names.setdefault(id(value), (rel, attr))
    cls = channel.Channel
    saved = {n: getattr(cls, n) for n in
             ("__init__", "set_var", "set_vars", "apply", "unset_var", "var_plain")}
    ops: Ops = []
    depth = [0]  # an operation made by another one (apply -> set_vars) is not recorded

    def recorded(name: str, entry: Any) -> Any:
        def run(self: Any, *args: Any, **extra: Any) -> Any:
            if depth[0] == 0:
                ops.append(entry(self, *args, **extra))
            depth[0] += 1
            try:
                return saved[name](self, *args, **extra)
            finally:
                depth[0] -= 1
        return run

    def template_of(tpl: Any) -> tuple[str, str]:
        key = names.get(id(tpl))
        if key is None:
            raise RuntimeError(f"a template that is no module constant: {tpl.names}")
        return key

    def init(self: Any, *a: Any, **k: Any) -> None:
        saved["__init__"](self, *a, **k)
        ops.append(("new", id(self)))

    wrappers = {
        "__init__": init,
        "set_var": recorded("set_var", lambda s, n, v: ("set", id(s), n, v)),
        "set_vars": recorded("set_vars", lambda s, pairs: ("many", id(s), list(pairs))),
        "apply": recorded("apply", lambda s, tpl, **extra: (
            "apply", id(s), template_of(tpl), {**s.facts, **extra})),
        "unset_var": recorded("unset_var", lambda s, n: ("unset", id(s), n)),
        "var_plain": recorded("var_plain", lambda s: ("plain", id(s))),
    }
    for name, fn in wrappers.items():
        setattr(cls, name, fn)
    try:
        asyncio.run(sim_render_ab.one_turn("switchlab", calls, 400.0, 100))
    finally:
        for name, fn in saved.items():
            setattr(cls, name, fn)
    return ops


def record(calls: int) -> Ops:
    """The store operations of ``calls`` calls of this tree's emulator (recorded as plain
    Python in a subprocess)."""
    code = ("import pickle, sys; sys.path.insert(0, sys.argv[1]); import sim_store_replay; "
            "sys.stdout.buffer.write(pickle.dumps(sim_store_replay._record_here("
            "int(sys.argv[2]))))")
    env = {**os.environ, "SWITCHLAB_PURE": "1", "PYTHONWARNINGS": "ignore"}
    out = subprocess.run([sys.executable, "-c", code, str(ROOT / "benchmarks"), str(calls)],
                         check=True, capture_output=True, env=env, cwd=str(ROOT)).stdout
    ops: Ops = pickle.loads(out)
    return ops


def replay(package: str, ops: Ops) -> tuple[float, list[str]]:
    """Replay ``ops`` on fresh channels of ``package`` (already importable): CPU seconds
    taken, and every rendered block."""
    sim = importlib.import_module(f"{package}.sim")
    channel = importlib.import_module(f"{package}.sim.model.channel").Channel
    host = sim.Emulator(hosts=1, port=0).hosts[0]  # never started: a host for channels
    prepared = []
    for op in ops:
        if op[0] == "apply":
            rel, attr = op[2]
            op = ("apply", op[1], getattr(importlib.import_module(f"{package}.{rel}"), attr),
                  op[3])
        prepared.append(op)
    chans: dict[int, Any] = {}
    blocks = []
    gc.disable()
    t0 = time.process_time()  # CPU time: a loaded machine's waits do not count
    for op in prepared:
        kind = op[0]
        if kind == "new":
            chans[op[1]] = channel(host, "u", "sofia/external/x", "outbound")
            continue
        chan = chans[op[1]]
        if kind == "apply":
            chan.facts = op[3]
            chan.apply(op[2])
        elif kind == "set":
            chan.set_var(op[2], op[3])
        elif kind == "many":
            chan.set_vars(op[2])
        elif kind == "unset":
            chan.unset_var(op[2])
        else:
            blocks.append(chan.var_plain())
    elapsed = time.process_time() - t0
    gc.enable()
    return elapsed, blocks


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--tree", type=Path, default=ROOT,
                    help="the tree whose switchlab replays (as built there)")
    args = ap.parse_args()
    ops = record(args.calls)
    sys.path.insert(0, str(args.tree))
    import switchlab
    assert Path(switchlab.__file__).is_relative_to(args.tree), switchlab.__file__
    best = min(replay("switchlab", ops)[0] for _ in range(args.rounds))
    print(f"{args.tree}: {len(ops)} operations, {1e6 * best / args.calls:.1f} µs per call "
          f"(fastest of {args.rounds})")


if __name__ == "__main__":
    main()
