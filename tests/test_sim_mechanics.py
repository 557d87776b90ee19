"""The emulator's speed mechanics keep their results: batched template rendering and
command replies sent together with the events of a loop iteration."""
from __future__ import annotations

import asyncio

import pytest

from switchlab.sim import DUTModel, Emulator
from switchlab.sim.model.timers import TimerWheel
from switchlab.sim.model import milestones
from switchlab.sim.model.channel import Channel
from switchlab.sim.model.template import Template, variables
from switchlab.wire import FrameParser

pytestmark = pytest.mark.timeout(60)


class _Facts(dict):  # type: ignore[type-arg]
    """Any fact a template asks for: its own name, with a number and a character to encode."""

    def __missing__(self, key: str) -> str:
        return f"{key}:7 %x"


def _one_by_one(tpl: Template, facts: dict[str, object]) -> list[str]:
    return [render(facts) if render is not None else value for _, value, _, render in tpl.ops]


def test_render_all_equals_one_renderer_per_value_for_every_milestone_template() -> None:
    templates = [v for v in vars(milestones).values() if isinstance(v, Template)]
    assert len(templates) > 20
    facts = _Facts(uuid="u-1", session_id=42, sip_port=5080)
    for tpl in templates:
        assert tpl.render_all(facts) == _one_by_one(tpl, facts)


def test_render_templated_gives_the_templated_values_and_apply_sets_them_all() -> None:
    """The batch format holds only the templated values: the constants come from the
    template as they are, in their places (``Channel.apply`` puts both together)."""
    facts = _Facts(uuid="u-1", session_id=42, sip_port=5080)
    for tpl in [v for v in vars(milestones).values() if isinstance(v, Template)]:
        expected = _one_by_one(tpl, facts)
        templated = [value for value, op in zip(expected, tpl.ops) if op[3] is not None]
        assert tpl.render_templated(facts) == templated
    mixed = variables("a=1%\nb={x}\nc=k\nd={y}-{x}\ne=%41")
    assert mixed.render_templated({"x": "v\x00w", "y": 2}) == ["v\x00w", "2-v\x00w"]
    assert variables("a=1\nb=2").render_templated({}) == []
    host = Emulator(hosts=1, port=0).hosts[0]  # never started: a host for the channel
    chan = Channel(host, "2d5c9f7e-0000-4000-8000-00000000000c", "sofia/external/x@h",
                   "outbound")
    chan.apply(mixed, x="v", y=2)
    assert list(chan.vars.items()) == [("a", "1%"), ("b", "v"), ("c", "k"), ("d", "2-v"),
                                       ("e", "%41")]
    assert chan.var_plain() == ("variable_a: 1%25\nvariable_b: v\nvariable_c: k\n"
                                "variable_d: 2-v\nvariable_e: %41\n")


def test_a_value_that_is_one_fact_is_that_fact_and_the_others_are_formatted() -> None:
    """A templated value written as one fact alone (``{x}``) is the fact's own string, not
    a formatted copy (a number becomes its ``str``); values mixing text and facts come
    from the format, each in its place, wherever the bare ones sit among them."""
    tpl = variables("a={x}\nb=k\nc=<{x}>\nd={n}\ne={y}\nf={y}{x}")
    x, y = "".join(["u", "@h"]), "p q"  # strings made at run time: no interned copy
    values = tpl.render_templated({"x": x, "y": y, "n": 7})
    assert values == ["u@h", "<u@h>", "7", "p q", "p qu@h"]
    assert values[0] is x and values[3] is y
    host = Emulator(hosts=1, port=0).hosts[0]  # never started: a host for the channel
    chan = Channel(host, "2d5c9f7e-0000-4000-8000-0000000002aa", "sofia/e/x@h", "outbound")
    chan.apply(tpl, x=x, y=y, n=7)
    assert chan.get_var("a") is x
    assert chan.var_plain() == ("variable_a: u%40h\nvariable_b: k\nvariable_c: %3Cu%40h%3E\n"
                                "variable_d: 7\nvariable_e: p%20q\nvariable_f: p%20qu%40h\n")


def test_apply_takes_a_value_met_last_time_from_the_template_and_others_encoded() -> None:
    """A templated value equal to the one the template set last takes that line without
    the memo; any other is encoded (or taken from its name's memo): the lines are those
    of each value, whatever came before, the empty value included."""
    tpl = variables("a={x}\nb=k\nc={y}")
    host = Emulator(hosts=1, port=0).hosts[0]  # never started: a host for the channel
    sequence = [("", "p q"), ("", "p q"), ("u@h", "p q"), ("", "r"), ("u@h", "")]
    for n, (x, y) in enumerate(sequence):
        chan = Channel(host, f"2d5c9f7e-0000-4000-8000-0000000001{n:02d}", "sofia/e/x@h",
                       "outbound")
        chan.apply(tpl, x=x, y=y)
        assert chan.var_plain() == (f"variable_a: {x.replace('@', '%40')}\nvariable_b: k\n"
                                    f"variable_c: {y.replace(' ', '%20')}\n"), (x, y)
    assert tpl.last_values == ["u@h", ""]


def test_render_all_falls_back_when_a_value_holds_the_separator_or_a_spec() -> None:
    tpl = variables("a={x}\nb=100%\nc={y}-{x}\nd=plain")
    assert tpl.render_all({"x": "1\x002", "y": 3}) == ["1\x002", "100%", "3-1\x002", "plain"]
    spec = variables("a={n:03d}\nb={s}")
    assert spec.render_all({"n": 7, "s": "x"}) == ["007", "x"]


async def test_a_burst_of_commands_gets_every_reply_in_order_then_bye() -> None:
    async with Emulator(hosts=1, port=0, dut=DUTModel(seed=1), tick_us=1000,
                        heartbeat_s=3600) as fs:
        reader, writer = await asyncio.open_connection(*fs.esl_addresses[0])
        jobs = [f"{k:08d}-0000-4000-8000-000000000000" for k in range(20)]
        burst = "auth ClueCon\n\nevent plain BACKGROUND_JOB\n\n" + "".join(
            f"bgapi status\nJob-UUID: {job}\n\n" for job in jobs) + "exit\n\n"
        writer.write(burst.encode())
        parser = FrameParser()
        frames = []
        while True:
            chunk = await asyncio.wait_for(reader.read(65536), 10)
            if not chunk:
                break
            frames += parser.feed(chunk)
        writer.close()
        replies = [f.headers.get("Reply-Text") for f in frames
                   if f.content_type == "command/reply"]
        assert replies == (["+OK accepted", "+OK event listener enabled plain"]
                           + [f"+OK Job-UUID: {job}" for job in jobs] + ["+OK bye"])
        kinds = [f.content_type for f in frames]
        assert kinds[0] == "auth/request" and kinds[-1] == "text/disconnect-notice"
        # each job's reply comes before its BACKGROUND_JOB event
        order = []
        for f in frames:
            if f.content_type == "command/reply" and f.headers.get("Job-UUID"):
                order.append(("reply", f.headers["Job-UUID"]))
            elif f.content_type == "text/event-plain":
                body = f.body.decode()
                job = body.split("Job-UUID: ", 1)[1].split("\n", 1)[0]
                order.append(("event", job))
        for job in jobs:
            if ("event", job) in order:
                assert order.index(("reply", job)) < order.index(("event", job))


async def test_timer_wheel_runs_due_steps_in_order_and_skips_cancelled_ones() -> None:
    """Steps due in one millisecond share a loop timer and run in scheduling order; a
    cancelled one does not run (and lets go of its arguments); a failing one does not
    stop the others; a step scheduled while a millisecond runs waits for the next
    iteration; the delays are kept (to the millisecond)."""
    loop = asyncio.get_running_loop()
    errors: list[dict[str, object]] = []
    loop.set_exception_handler(lambda _loop, ctx: errors.append(ctx))
    wheel = TimerWheel()
    ran: list[tuple[str, float]] = []
    t0 = loop.time()

    def step(name: str) -> None:
        ran.append((name, loop.time() - t0))
        if name == "b":
            wheel.add(loop, 0.0001, step, ("c",))  # the same millisecond: next iteration
            loop.call_soon(step, "soon")

    def fail() -> None:
        raise RuntimeError("boom")

    wheel.add(loop, 0.02, step, ("late",))
    wheel.add(loop, 0.005, step, ("a",))
    wheel.add(loop, 0.005, fail, ())
    cancelled = wheel.add(loop, 0.005, step, ("x",))
    wheel.add(loop, 0.005, step, ("b",))
    cancelled.cancel()
    assert cancelled.cancelled() and cancelled.args == ()
    await asyncio.sleep(0.05)
    names = [name for name, _ in ran]
    assert names[:2] == ["a", "b"] and set(names[2:4]) == {"soon", "c"} and names[4:] == ["late"]
    assert all(0.0045 <= t for name, t in ran if name != "late")
    assert dict(ran)["late"] >= 0.0195
    assert len(errors) == 1 and isinstance(errors[0]["exception"], RuntimeError)
    assert len(wheel) == 0
