"""What fetches cost and carry: the calls a fetch process counted reach the table's snapshots (a
minute's worth), and an action the user confirmed rides a fetch and its outcome is told."""

from __future__ import annotations

import dataclasses

from test_policy import LIMITS, ROWS, Table

from arr_actors.messages import Action, ActionDone, ActionRequest, FetchResult, Notice, StartFetch
from arr_actors.runtime.policy import Publish


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


# ------------------------------------------------------------------- actions

ACTION = Action("cancel", "builds", "b1", "build b1", "global", "b1")


def published(t: Table, kind: type) -> list:
    return [c.message for c in t.commands if isinstance(c, Publish) and isinstance(c.message, kind)]


def test_an_action_rides_the_next_fetch_at_once_and_its_outcome_is_told() -> None:
    t = Table()
    t.tick()
    t.succeed()
    out = t.feed(ActionRequest(ACTION))
    starts = [c for c in out if isinstance(c, StartFetch)]
    assert len(starts) == 1 and starts[0].action == ACTION  # idle: a fetch starts now, carrying it
    finish(t, after=1.0)
    assert published(t, ActionDone) == [ActionDone(ACTION)]
    notices = published(t, Notice)
    assert notices[-1].text == "cancel requested: build b1; waiting for the service to confirm"
    assert t.state.running_action is None and t.state.pending_action is None


def test_an_action_waits_for_the_running_fetch_and_a_refusal_is_told_last() -> None:
    t = Table()
    t.tick()  # a fetch runs
    out = t.feed(ActionRequest(ACTION))
    assert not [c for c in out if isinstance(c, StartFetch)]
    t.now += 1.0
    out = t.feed(t.result())  # the running fetch ends: the action's fetch starts right away
    assert [c.action for c in out if isinstance(c, StartFetch)] == [ACTION]
    t.now += 1.0
    refused = dataclasses.replace(t.result(data=None, error="boom"), action_error="cannot cancel build b1: no role")
    out = t.feed(refused)
    publishes = [c.message for c in out if isinstance(c, Publish)]
    assert publishes[-1] == Notice("cannot cancel build b1: no role", level="error", table="builds", at=t.now)
    assert ActionDone(ACTION, error="cannot cancel build b1: no role") in publishes


def test_a_second_action_while_one_is_pending_is_refused_and_a_killed_fetch_reports_its_action() -> None:
    t = Table()
    t.tick()
    t.feed(ActionRequest(ACTION))
    out = t.feed(ActionRequest(ACTION))
    assert [c.message for c in out if isinstance(c, Publish)] == [
        ActionDone(ACTION, error="not sent: build b1 is still being cancelled")
    ]
    t.succeed()  # the action's fetch starts and then hangs past its deadline
    t.advance(LIMITS.table.deadline + 1)
    done = published(t, ActionDone)[-1]
    assert done.action == ACTION and done.error.startswith("cancel of build b1 did not finish: timed out")
