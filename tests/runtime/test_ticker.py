"""The ticker sends a tick when the watchdog says something falls due, not on a fixed beat."""

from __future__ import annotations

import threading
import time

import pykka
import pytest

from arr_actors.messages import Tick
from arr_actors.runtime.watchdog import Ticker

LONG = 60.0  # the longest gap: any test that waits for it runs into its timeout


class Answering:
    """A target that answers each of its first ``answers`` ticks, from inside
    ``tell`` (before the ticker can even start waiting), with a due time."""

    def __init__(self, answers: int, after: float) -> None:
        self.answers, self.after = answers, after
        self.ticker: Ticker | None = None
        self.ticks: list[float] = []
        self.done = threading.Event()

    def tell(self, message: Tick) -> None:
        self.ticks.append(message.now)
        if len(self.ticks) <= self.answers:
            self.ticker.wake_at(message.now + self.after)
        else:
            self.done.set()


@pytest.mark.timeout(20)
def test_a_due_time_given_while_the_tick_is_delivered_is_not_lost() -> None:
    target = Answering(answers=5, after=0.05)
    ticker = Ticker(target, interval=LONG, clock=time.monotonic)
    target.ticker = ticker
    ticker.start()
    try:
        assert target.done.wait(10), f"ticks stopped after {len(target.ticks)}: an answer was lost"
    finally:
        ticker.stop()
    gaps = [b - a for a, b in zip(target.ticks, target.ticks[1:], strict=False)]
    assert len(gaps) == 5 and all(gap >= 0.05 for gap in gaps), gaps


class Recorder(pykka.ThreadingActor):
    """A real actor answering later, on its own thread, as the watchdog does."""

    def __init__(self, ticker: Ticker, due_in: list[float | None], ticks: list[float], got: threading.Condition):
        super().__init__()
        self.ticker, self.due_in, self.ticks, self.got = ticker, due_in, ticks, got

    def on_receive(self, message: Tick) -> None:
        with self.got:
            self.ticks.append(message.now)
            self.got.notify_all()
        step = self.due_in[len(self.ticks) - 1] if len(self.ticks) <= len(self.due_in) else None
        self.ticker.wake_at(None if step is None else message.now + step)


@pytest.mark.timeout(20)
def test_ticks_follow_the_due_times_and_never_come_closer_than_the_minimum_gap() -> None:
    ticker = Ticker(interval=LONG, clock=time.monotonic)
    ticks: list[float] = []
    got = threading.Condition()
    actor = Recorder.start(ticker, [0.2, -5.0, 0.0, None], ticks, got)
    ticker.start(actor)
    try:
        with got:
            assert got.wait_for(lambda: len(ticks) >= 4, timeout=10), ticks
    finally:
        ticker.stop()
        actor.stop()
    first, second, third, fourth = ticks[:4]
    assert second - first >= 0.2  # asked for 0.2 s later
    assert third - second >= Ticker.MIN_GAP_S  # a due time already past: as soon as allowed
    assert fourth - third >= Ticker.MIN_GAP_S
    assert ticker.ticks >= 4


@pytest.mark.timeout(20)
def test_stop_ends_a_long_wait_at_once() -> None:
    target = Answering(answers=0, after=0.0)
    ticker = Ticker(target, interval=LONG, clock=time.monotonic)
    ticker.start()
    assert target.done.wait(10)
    started = time.monotonic()
    ticker.stop(timeout=5)
    assert time.monotonic() - started < 1.0
    assert len(target.ticks) == 1


def test_a_due_time_after_the_last_tick_is_kept_to_the_moment() -> None:
    # Two deadlines 3 ms apart: the second is acted on when it passes, not a minimum gap later.
    assert Ticker.next_due(10.0, 10.003, LONG) == 10.003
    assert Ticker.next_due(10.0, 30.0, LONG) == 30.0


def test_a_due_time_not_after_the_last_tick_waits_the_minimum_gap() -> None:
    # Due at or before the tick just sent: handled by it already, or an answer the target
    # does not clear; ticking again at once could spin.
    assert Ticker.next_due(10.0, 10.0, LONG) == 10.0 + Ticker.MIN_GAP_S
    assert Ticker.next_due(10.0, 5.0, LONG) == 10.0 + Ticker.MIN_GAP_S


def test_without_a_due_time_or_past_the_interval_the_interval_rules() -> None:
    assert Ticker.next_due(10.0, None, 1.0) == 11.0
    assert Ticker.next_due(10.0, 12.5, 1.0) == 11.0
