"""What fetches cost: the calls a fetch process counted reach the table's snapshots, a minute's worth."""

from __future__ import annotations

import dataclasses

from test_policy import ROWS, Table

from arr_actors.messages import FetchResult


def finish(t: Table, *, after: float, data=ROWS, **usage) -> None:
    t.now += after
    result = t.result(data=data, error="" if data else "boom")
    t.feed(dataclasses.replace(result, **usage))


def test_calls_of_the_last_minute_are_summed_per_service() -> None:
    t = Table()
    t.tick()
    finish(t, after=1.0, calls=(("cloudbuild", 3),))
    assert t.last().calls == (("cloudbuild", 3),)
    t.advance(30.0)  # the next refresh
    finish(t, after=1.0, calls=(("cloudbuild", 2), ("logging", 1)))
    assert t.last().calls == (("cloudbuild", 5), ("logging", 1))
    t.advance(30.0)
    finish(t, after=1.0, calls=(("cloudbuild", 1),))
    # the first fetch's calls are more than a minute old now
    assert t.last().calls == (("cloudbuild", 3), ("logging", 1))


def test_a_failed_fetch_still_counts_its_calls_and_the_limiter_view_is_kept() -> None:
    t = Table()
    t.tick()
    finish(t, after=1.0, data=None, calls=(("logging", 1),), logging_used=58, throttled_until=t.now + 40.0)
    snap = t.last()
    assert snap.state == "error" and snap.calls == (("logging", 1),)
    assert snap.logging_used == 58 and snap.throttled_until == t.now + 39.0


def test_throttling_ends_when_its_time_has_passed_or_the_next_fetch_says_so() -> None:
    t = Table()
    t.tick()
    finish(t, after=1.0, logging_used=60, throttled_until=t.now + 11.0)
    assert t.last().throttled_until is not None
    t.advance(30.0)
    finish(t, after=1.0, logging_used=12)
    assert t.last().throttled_until is None and t.last().logging_used == 12


def test_a_result_of_another_fetch_counts_nothing() -> None:
    t = Table()
    t.tick()
    stale = FetchResult(table="builds", generation=t.state.generation, seq=t.state.seq + 5, calls=(("run", 9),))
    t.feed(stale)
    assert t.state.calls == ()
