"""The supervision policy, driven by hand: a fake clock, hand-made ticks, no processes, no sleeps."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arr_actors import config
from arr_actors.config import Supervision, TablePolicy
from arr_actors.messages import (
    BuildRow,
    FetchReady,
    FetchResult,
    FetchStarted,
    Notice,
    PauseChanged,
    RefreshRequest,
    SetPaused,
    StartFetch,
    TableData,
    TableSnapshot,
    Tick,
)
from arr_actors.runtime import policy
from arr_actors.runtime.policy import Limits, LogEvent, Publish, TableState
from arr_actors.runtime.protocol import ChildGone, ChildLaunched, KillFetch

LIMITS = Limits(
    table=TablePolicy(interval=30.0, budget=5.0, deadline=10.0, limit=10),
    supervision=Supervision(
        backoff_initial_s=1.0,
        backoff_max_s=60.0,
        backoff_jitter=0.2,
        healthy_reset_s=120.0,
        circuit_failures=5,
        circuit_window_s=120.0,
        circuit_cooldown_s=60.0,
        kill_grace_s=0.5,
        startup_deadline_s=60.0,
        start_batch_size=0,
        start_batch_delay_s=0.0,
        max_result_bytes=8 * 1024 * 1024,
    ),
)


def with_supervision(**changes: float) -> Limits:
    return dataclasses.replace(LIMITS, supervision=dataclasses.replace(LIMITS.supervision, **changes))
ROWS = TableData(rows=(BuildRow(build_id="b1", status="SUCCESS", image="i", region="global", created_at=0.0),))
MID = 0.5  # rand value giving no jitter


class Table:
    """One table's state machine with a hand-driven clock; collects every command.

    ``feed`` hands the policy one event, as the watchdog does. With
    ``auto_ready`` (the default) a new child is ready the moment its fetch
    starts, so the deadline counts from the request, as for a child that had
    loaded long before; start-up tests drive ``ready`` by hand.
    """

    def __init__(
        self,
        limits: Limits = LIMITS,
        *,
        start: float = 1000.0,
        auto_ready: bool = True,
        warm: TableSnapshot | None = None,
    ) -> None:
        self.limits = limits
        self.now = start
        self.state = policy.initial_state("builds", due_at=start, last_known_good=warm)
        self.commands: list[object] = []
        self.auto_ready = auto_ready

    def feed(self, event: policy.Event, *, rand: float = MID) -> tuple[object, ...]:
        self.state, commands = policy.handle(self.state, event, self.now, self.limits, rand=rand)
        if self.auto_ready and self.state.phase == policy.FETCHING and not self.state.child_ready:
            ready = FetchReady(table="builds", generation=self.state.generation, startup_s=0.0)
            self.state, more = policy.handle(self.state, ready, self.now, self.limits, rand=MID)
            commands = (*commands, *more)
        self.commands.extend(commands)
        return commands

    @property
    def paused(self) -> bool:
        return self.state.paused

    def pause(self, paused: bool = True) -> tuple[object, ...]:
        return self.feed(SetPaused(paused=paused))

    def ready(self, after: float = 0.0, *, generation: int | None = None, error: str = "") -> tuple[object, ...]:
        self.now += after
        generation = self.state.generation if generation is None else generation
        return self.feed(FetchReady(table="builds", generation=generation, startup_s=after, error=error))

    def tick(self, at: float | None = None, *, rand: float = MID) -> tuple[object, ...]:
        if at is not None:
            self.now = at
        return self.feed(Tick(now=self.now), rand=rand)

    def advance(self, seconds: float, **kw: float) -> tuple[object, ...]:
        return self.tick(self.now + seconds, **kw)

    def result(self, *, data: TableData | None = ROWS, error: str = "", seq: int | None = None, partial: bool = False):
        seq = self.state.seq if seq is None else seq
        return FetchResult(
            table="builds", generation=self.state.generation, seq=seq, data=data, error=error, partial=partial
        )

    def succeed(self, after: float = 1.0) -> tuple[object, ...]:
        self.now += after
        return self.feed(self.result())

    def fail(self, after: float = 1.0, *, error: str = "boom", rand: float = MID) -> tuple[object, ...]:
        self.now += after
        return self.feed(self.result(data=None, error=error), rand=rand)

    def crash(self, after: float = 1.0) -> tuple[object, ...]:
        self.now += after
        return self.feed(self.gone(seq=self.state.seq, cause="SIGSEGV"))

    def gone(
        self, *, seq: int | None, cause: str, killed: bool = False, generation: int | None = None,
        kill_s: float | None = None,
    ) -> ChildGone:
        generation = self.state.generation if generation is None else generation
        return ChildGone("builds", generation, seq, cause=cause, killed=killed, kill_s=kill_s)

    def refresh(self, *, manual: bool = True) -> tuple[object, ...]:
        return self.feed(RefreshRequest(table="builds", manual=manual))

    def snapshots(self) -> list[TableSnapshot]:
        return [c.message for c in self.commands if isinstance(c, Publish) and isinstance(c.message, TableSnapshot)]

    def last(self) -> TableSnapshot:
        return self.snapshots()[-1]

    def events(self, name: str) -> list[LogEvent]:
        return [c for c in self.commands if isinstance(c, LogEvent) and c.event == name]


def started(commands: tuple[object, ...]) -> list[StartFetch]:
    return [c for c in commands if isinstance(c, StartFetch)]


def announced(commands: tuple[object, ...]) -> list[FetchStarted]:
    return [c.message for c in commands if isinstance(c, Publish) and isinstance(c.message, FetchStarted)]


def restarted(commands: tuple[object, ...]) -> bool:
    """Whether these commands started a fetch in a new child (a restart)."""
    return any(isinstance(c, LogEvent) and c.event == "restarted" for c in commands)


# Backoff.
def test_backoff_doubles_from_initial_to_the_cap() -> None:
    delays = [policy.backoff_delay(n, LIMITS, rand=MID) for n in range(1, 10)]
    assert delays == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]


def test_backoff_jitter_spreads_by_the_configured_fraction() -> None:
    assert policy.backoff_delay(3, LIMITS, rand=0.0) == pytest.approx(4.0 * 0.8)
    assert policy.backoff_delay(3, LIMITS, rand=0.999999) == pytest.approx(4.0 * 1.2, rel=1e-5)


@given(failures=st.integers(min_value=0, max_value=10_000), rand=st.floats(min_value=0.0, max_value=0.999999))
def test_backoff_stays_within_jittered_bounds(failures: int, rand: float) -> None:
    delay = policy.backoff_delay(failures, LIMITS, rand=rand)
    assert LIMITS.supervision.backoff_initial_s * 0.8 - 1e-9 <= delay <= LIMITS.supervision.backoff_max_s * 1.2 + 1e-9


def test_limits_come_from_settings() -> None:
    settings = config.defaults()
    limits = Limits.from_settings(settings, "runner")
    assert limits.table.deadline == settings.policy("runner").deadline
    assert limits.supervision.circuit_failures == settings.supervision.circuit_failures
    assert limits.supervision.backoff_max_s == settings.supervision.backoff_max_s
    assert limits.supervision.startup_deadline_s == settings.supervision.startup_deadline_s == 60.0


# Schedule.
def test_first_fetch_starts_when_due_and_announces_itself() -> None:
    t = Table(auto_ready=False)
    commands = t.tick()
    (start,) = started(commands)
    assert start == StartFetch(table="builds", generation=1, seq=1) and not restarted(commands)
    # Its child is new: the start-up allowance comes on top of the deadline.
    assert t.state.deadline_at == t.now + LIMITS.supervision.startup_deadline_s + LIMITS.table.deadline
    assert announced(commands) == [
        FetchStarted(table="builds", generation=1, started_at=t.now, deadline_at=t.now + 70.0)
    ]


def test_success_publishes_rows_and_schedules_the_next_refresh() -> None:
    t = Table()
    t.tick()
    t.succeed(after=2.0)
    snap = t.last()
    assert snap.state == "ok" and snap.rows == ROWS.rows and snap.error == ""
    assert snap.duration_s == 2.0 and snap.budget_pct == 40.0
    assert snap.fetched_at == t.now and snap.next_refresh_at == t.now + LIMITS.table.interval
    assert not started(t.advance(LIMITS.table.interval - 0.1))
    assert started(t.advance(0.1))


def test_start_times_in_batches() -> None:
    tables = ("a", "b", "c", "d", "e")
    assert policy.start_times(tables, 10.0, batch_size=0, batch_delay=5.0) == dict.fromkeys(tables, 10.0)
    assert policy.start_times(tables, 10.0, batch_size=2, batch_delay=5.0) == {
        "a": 10.0, "b": 10.0, "c": 15.0, "d": 15.0, "e": 20.0,
    }


def test_snapshot_seq_increases() -> None:
    t = Table()
    for _ in range(3):
        t.tick()
        t.succeed()
        t.advance(LIMITS.table.interval)
        t.fail()
        t.advance(5.0)
    seqs = [s.seq for s in t.snapshots()]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


# Start-up.
def test_the_deadline_counts_from_when_the_new_child_is_ready() -> None:
    t = Table(auto_ready=False)
    t.tick()
    requested = t.now
    assert not t.advance(LIMITS.supervision.startup_deadline_s - 0.5)  # loading libraries for almost a minute is allowed
    commands = t.ready()
    assert announced(commands) == [
        FetchStarted(table="builds", generation=1, started_at=requested, deadline_at=t.now + LIMITS.table.deadline)
    ]
    (event,) = [c for c in commands if isinstance(c, LogEvent)]
    assert event.event == "ready" and event.duration_s == 0.0 and event.detail == ""
    assert t.state.deadline_at == t.now + LIMITS.table.deadline
    assert not t.advance(LIMITS.table.deadline - 0.01)
    commands = t.advance(0.01)
    assert [c for c in commands if isinstance(c, KillFetch)] == [KillFetch("builds", 1, 1, "deadline")]
    assert t.last().state == "timeout"
    assert t.last().error == "timed out after 10 s (deadline); fetch killed"
    assert t.last().duration_s == LIMITS.table.deadline  # the fetch, not the loading


def test_a_child_that_does_not_become_ready_in_time_is_killed_as_a_failure() -> None:
    t = Table(auto_ready=False)
    t.tick()
    assert not t.advance(LIMITS.supervision.startup_deadline_s - 0.01)
    commands = t.advance(0.01)
    assert [c for c in commands if isinstance(c, KillFetch)] == [KillFetch("builds", 1, 1, "startup")]
    snap = t.last()
    assert snap.state == "timeout"
    assert snap.error == "fetch process did not start within 60 s (loading libraries); killed"
    assert snap.fetch_deadline_at is None
    assert t.state.consecutive_failures == 1 and t.state.failure_times == (t.now,)
    assert snap.next_refresh_at == pytest.approx(t.now + LIMITS.supervision.backoff_initial_s)
    assert t.state.generation == 2 and t.state.restart_due and not t.state.child_ready
    (failed,) = t.events("failed")
    assert failed.detail.startswith("timeout: fetch process did not start")
    assert [c.message.level for c in commands if isinstance(c, Publish) and isinstance(c.message, Notice)] == ["error"]
    # Its late ready changes nothing: that child is gone.
    late_ready = FetchReady(table="builds", generation=1, startup_s=61.0)
    state, late = policy.handle(t.state, late_ready, t.now + 1.0, LIMITS, rand=MID)
    assert (state, late) == (t.state, ())


def test_start_up_failures_count_towards_the_circuit() -> None:
    limits = with_supervision(circuit_window_s=600.0)  # five start-ups of a minute fit in the window
    t = Table(limits, auto_ready=False)
    t.tick()
    for _ in range(LIMITS.supervision.circuit_failures - 1):
        t.advance(LIMITS.supervision.startup_deadline_s)
        assert t.last().state == "timeout"
        t.tick(t.state.due_at)
    t.advance(LIMITS.supervision.startup_deadline_s)
    assert t.last().state == "circuit_open"
    assert t.last().error.startswith("fetch process did not start within 60 s (loading libraries); killed (circuit open")


def test_a_fetch_to_a_ready_child_gets_the_plain_deadline() -> None:
    t = Table(auto_ready=False)
    t.tick()
    t.ready(after=3.0)
    t.succeed(after=1.0)
    assert t.last().duration_s == 1.0  # from ready to result
    commands = t.advance(LIMITS.table.interval)
    assert started(commands)
    assert t.state.deadline_at == t.now + LIMITS.table.deadline
    assert announced(commands) == [
        FetchStarted(table="builds", generation=1, started_at=t.now, deadline_at=t.now + LIMITS.table.deadline)
    ]
    # A failed fetch keeps the child, and the child stays ready.
    t.fail()
    commands = t.tick(t.state.due_at)
    (retry,) = announced(commands)
    assert started(commands) and retry.deadline_at == t.now + LIMITS.table.deadline and not restarted(commands)


def test_every_new_child_gets_the_allowance_again() -> None:
    t = Table(auto_ready=False)
    t.tick()
    t.ready(after=2.0)
    t.advance(LIMITS.table.deadline)  # killed
    commands = t.tick(t.state.due_at)
    (restart,) = started(commands)
    assert restarted(commands) and restart.generation == 2
    (announce,) = announced(commands)
    assert announce.deadline_at == t.now + LIMITS.supervision.startup_deadline_s + LIMITS.table.deadline
    assert not t.state.child_ready
    t.ready(after=4.0)
    assert t.state.deadline_at == t.now + LIMITS.table.deadline


def test_a_child_that_died_while_idle_is_not_ready_any_more() -> None:
    t = Table(auto_ready=False)
    t.tick()
    t.ready()
    t.succeed()
    t.feed(t.gone(generation=1, seq=None, cause="SIGKILL"))
    commands = t.advance(LIMITS.table.interval)
    (announce,) = announced(commands)
    assert started(commands) and restarted(commands)
    assert announce.deadline_at == t.now + LIMITS.supervision.startup_deadline_s + LIMITS.table.deadline


def test_a_crash_while_loading_says_so() -> None:
    t = Table(auto_ready=False)
    t.tick()
    t.crash(after=1.5)
    assert t.last().state == "error"
    assert t.last().error == "fetch process died while loading (SIGSEGV)"
    assert t.state.generation == 2 and t.state.restart_due


def test_a_source_that_failed_to_load_is_logged_with_the_ready() -> None:
    t = Table(auto_ready=False)
    t.tick()
    commands = t.ready(after=0.5, error="ImportError: no module named google.cloud.run_v2")
    (event,) = [c for c in commands if isinstance(c, LogEvent)]
    assert event.detail == "source failed to load: ImportError: no module named google.cloud.run_v2"
    assert event.duration_s == 0.5
    t.fail(after=0.0, error="ImportError: no module named google.cloud.run_v2")
    assert t.last().state == "error" and t.last().error.startswith("ImportError")


def test_snapshots_taken_mid_fetch_carry_its_deadline() -> None:
    t = Table(auto_ready=False)
    t.tick()
    t.ready(after=1.0)
    t.advance(LIMITS.table.deadline)  # timeout: the outcome says no fetch runs
    assert t.last().fetch_deadline_at is None
    t.tick(t.state.due_at)  # the restart is announced with a snapshot while it runs
    restarting = t.last()
    assert restarting.state == "restarting"
    assert restarting.fetch_deadline_at == t.now + LIMITS.supervision.startup_deadline_s + LIMITS.table.deadline
    t.ready(after=2.0)
    (publish,) = t.pause()
    assert publish.message.fetch_deadline_at == t.now + LIMITS.table.deadline
    t.succeed()
    assert t.last().fetch_deadline_at is None


# Deadlines.
def test_a_fetch_past_its_deadline_is_killed_and_reported_at_once() -> None:
    t = Table()
    t.tick()
    assert not t.advance(LIMITS.table.deadline - 0.01)
    commands = t.advance(0.01)
    kills = [c for c in commands if isinstance(c, KillFetch)]
    assert kills == [KillFetch("builds", 1, 1, "deadline")]
    snap = t.last()
    assert snap.state == "timeout"
    assert snap.error == "timed out after 10 s (deadline); fetch killed"
    assert snap.next_refresh_at == pytest.approx(t.now + 1.0)
    assert [c.message.level for c in commands if isinstance(c, Publish) and isinstance(c.message, Notice)] == ["error"]
    # The next fetch needs a new child.
    assert t.state.generation == 2 and t.state.restart_due


def test_after_a_kill_the_table_restarts_with_backoff_in_a_new_generation() -> None:
    t = Table()
    t.tick()
    t.advance(LIMITS.table.deadline)
    assert not started(t.advance(0.9))
    commands = t.advance(0.1)
    (restart,) = started(commands)
    assert restarted(commands) and restart.generation == 2
    assert t.last().state == "restarting" and t.last().restarts == 1
    assert t.events("restarted")


def test_a_late_result_of_a_killed_fetch_is_ignored() -> None:
    t = Table()
    t.tick()
    old_seq = t.state.seq
    t.advance(LIMITS.table.deadline)
    before = t.state
    late = FetchResult(table="builds", generation=1, seq=old_seq, data=ROWS)
    step = policy.handle(t.state, late, t.now + 0.5, LIMITS, rand=MID)
    assert step == (before, ())


def test_last_known_good_rows_survive_failures_and_are_marked_stale() -> None:
    t = Table()
    t.tick()
    t.succeed()
    good_at = t.last().fetched_at
    t.advance(LIMITS.table.interval)
    t.fail(error="PermissionDenied: no access")
    snap = t.last()
    assert snap.state == "stale" and snap.rows == ROWS.rows and snap.fetched_at == good_at
    assert snap.error == "PermissionDenied: no access"
    t.advance(5.0)
    t.advance(LIMITS.table.deadline)
    assert t.last().state == "timeout" and t.last().rows == ROWS.rows


def test_without_rows_a_failure_is_an_error() -> None:
    t = Table()
    t.tick()
    t.fail(error="x")
    assert t.last().state == "error" and t.last().rows == ()


def test_a_crash_during_a_fetch_fails_it_and_restarts_the_child() -> None:
    t = Table()
    t.tick()
    t.crash(after=0.2)
    assert t.last().state == "error" and t.last().error == "fetch process died (SIGSEGV)"
    assert t.state.restart_due and t.state.generation == 2


def test_a_child_that_dies_while_idle_is_replaced_without_a_failure() -> None:
    t = Table()
    t.tick()
    t.succeed()
    seq = t.state.seq
    gone = t.gone(generation=1, seq=None, cause="SIGKILL")
    state, commands = policy.handle(t.state, gone, t.now + 1, LIMITS, rand=MID)
    assert commands == ()
    assert state.generation == 2 and state.restart_due and state.consecutive_failures == 0 and state.seq == seq


def test_the_kill_confirmation_is_logged_with_its_latency() -> None:
    t = Table()
    t.tick()
    t.advance(LIMITS.table.deadline)
    gone = t.gone(generation=1, seq=1, cause="killed (SIGTERM)", killed=True, kill_s=0.25)
    state, commands = policy.handle(t.state, gone, t.now + 0.25, LIMITS, rand=MID)
    (event,) = commands
    assert isinstance(event, LogEvent) and event.event == "killed" and event.duration_s == 0.25
    assert state.generation == 2  # no second bump: this generation was already given up


# Backoff & reset.
def fail_repeatedly(t: Table, times: int) -> list[float]:
    """Fail ``times`` fetches in a row, each as soon as it starts; the waits between them."""
    waits = []
    for _ in range(times):
        t.fail(after=0.0)
        due = t.state.due_at
        assert due is not None
        waits.append(round(due - t.now, 6))
        t.tick(due)
    return waits


def test_consecutive_failures_back_off_exponentially() -> None:
    limits = with_supervision(circuit_failures=100)
    t = Table(limits)
    t.tick()
    assert fail_repeatedly(t, 8) == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]


def test_backoff_resets_after_a_healthy_period() -> None:
    limits = with_supervision(circuit_failures=100)
    t = Table(limits)
    t.tick()
    fail_repeatedly(t, 4)
    t.succeed()
    # Healthy, but not long enough: the next failure continues the sequence.
    t.advance(LIMITS.table.interval)
    t.fail()
    assert t.state.due_at - t.now == 16.0
    t.tick(t.state.due_at)
    t.succeed()
    for _ in range(5):  # healthy for 5 intervals = 150 s >= healthy_reset
        t.advance(LIMITS.table.interval)
        t.succeed()
    t.advance(LIMITS.table.interval)
    t.fail()
    assert t.state.due_at - t.now == 1.0


# Circuit.
def test_too_many_failures_in_the_window_open_the_circuit() -> None:
    t = Table()
    t.tick()
    fail_repeatedly(t, 4)
    commands = t.fail(after=0.0)
    snap = t.last()
    assert snap.state == "circuit_open"
    assert "circuit open after 5 failures in 120 s" in snap.error
    assert snap.next_refresh_at == t.now + LIMITS.supervision.circuit_cooldown_s
    assert t.events("circuit_open")
    assert any(isinstance(c, Publish) and isinstance(c.message, Notice) for c in commands)
    # Nothing runs during the cool-down.
    assert not started(t.advance(LIMITS.supervision.circuit_cooldown_s - 0.1))


def test_failures_spread_beyond_the_window_do_not_open_the_circuit() -> None:
    limits = with_supervision(backoff_initial_s=40.0, backoff_max_s=40.0, healthy_reset_s=10_000.0)
    t = Table(limits)
    t.tick()
    for _ in range(10):
        t.fail(after=0.0)
        t.tick(t.state.due_at)
    assert t.state.phase != policy.CIRCUIT_OPEN
    assert len(t.state.failure_times) == 3  # 40 s apart in a 120 s window


def test_half_open_probe_after_the_cooldown_closes_the_circuit_on_success() -> None:
    t = Table()
    t.tick()
    fail_repeatedly(t, 4)
    t.fail(after=0.0)
    commands = t.advance(LIMITS.supervision.circuit_cooldown_s)
    assert started(commands)
    assert restarted(commands) is False
    assert t.state.half_open
    commands = t.succeed()
    assert t.last().state == "ok"
    assert t.events("circuit_closed")
    assert any(isinstance(c, Publish) and isinstance(c.message, Notice) and c.message.level == "info" for c in commands)
    assert t.state.failure_times == () and t.state.consecutive_failures == 0


def test_a_failed_half_open_probe_reopens_the_circuit() -> None:
    t = Table()
    t.tick()
    fail_repeatedly(t, 4)
    t.fail(after=0.0)
    t.advance(LIMITS.supervision.circuit_cooldown_s)
    t.fail()
    assert t.last().state == "circuit_open"
    assert t.state.due_at == t.now + LIMITS.supervision.circuit_cooldown_s
    assert len(t.events("circuit_open")) == 1  # still the same open circuit


def test_manual_refresh_probes_an_open_circuit_at_once() -> None:
    t = Table()
    t.tick()
    fail_repeatedly(t, 4)
    t.fail(after=0.0)
    assert started(t.refresh())
    assert t.state.half_open


def test_an_automatic_refresh_does_not_break_the_circuit() -> None:
    t = Table()
    t.tick()
    fail_repeatedly(t, 4)
    t.fail(after=0.0)
    assert not started(t.refresh(manual=False))
    assert t.events("skipped")


# Refresh & pause.
def test_a_refresh_while_fetching_is_coalesced_and_logged() -> None:
    t = Table()
    t.tick()
    assert not started(t.refresh())
    assert t.events("skipped")[0].detail == "a fetch is already running"
    assert t.state.seq == 1


def test_manual_refresh_skips_the_backoff_wait() -> None:
    t = Table()
    t.tick()
    t.advance(LIMITS.table.deadline)
    commands = t.refresh()
    (restart,) = started(commands)
    assert restarted(commands) and restart.generation == 2


def test_pause_stops_automatic_refreshes_but_not_manual_ones() -> None:
    t = Table()
    t.tick()
    t.succeed()
    commands = t.pause()
    assert commands[0].message.next_refresh_at is None
    assert not started(t.advance(LIMITS.table.interval * 3))
    assert not started(t.refresh(manual=False))
    assert started(t.refresh(manual=True))
    t.succeed()
    t.pause(False)
    assert started(t.advance(LIMITS.table.interval))


def test_a_running_fetch_still_hits_its_deadline_while_paused() -> None:
    t = Table()
    t.tick()
    t.pause()
    t.advance(LIMITS.table.deadline)
    assert t.last().state == "timeout" and t.last().next_refresh_at is None


# Single round.
def test_single_round_stops_after_the_first_outcome() -> None:
    limits = dataclasses.replace(LIMITS, single_round=True)
    for finish in ("succeed", "fail", "timeout"):
        t = Table(limits)
        t.tick()
        if finish == "succeed":
            t.succeed()
        elif finish == "fail":
            t.fail()
        else:
            t.advance(LIMITS.table.deadline)
        assert t.state.phase == policy.DONE
        assert not started(t.advance(10_000.0))
        assert not started(t.refresh())
    assert t.last().state == "timeout" and t.last().attempts == 1 and t.last().restarts == 0


def test_a_refresh_before_any_outcome_is_not_published_as_a_state() -> None:
    t = Table()
    state, commands = policy.handle(t.state, SetPaused(paused=True), t.now, LIMITS, rand=MID)
    assert commands == () and state == dataclasses.replace(t.state, paused=True)
    assert isinstance(t.state, TableState)


# When the next tick matters: the watchdog sleeps until then.

OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["tick", "ready", "succeed", "fail", "crash", "refresh", "pause", "resume"]),
        st.floats(min_value=0.0, max_value=200.0),
    ),
    max_size=25,
)


@given(operations=OPERATIONS, auto_ready=st.booleans())
def test_next_tick_at_is_exactly_when_a_tick_first_changes_something(
    operations: list[tuple[str, float]], auto_ready: bool
) -> None:
    t = Table(auto_ready=auto_ready)
    for name, after in operations:
        if name == "tick":
            t.advance(after)
        elif name == "ready" and t.state.phase == policy.FETCHING and not t.state.child_ready:
            t.ready(after)
        elif name in ("succeed", "fail", "crash") and t.state.phase == policy.FETCHING:
            getattr(t, name)(after)
        elif name == "refresh":
            t.refresh()
        elif name in ("pause", "resume"):
            t.pause(name == "pause")
        due = policy.next_tick_at(t.state)
        quiet_until = t.now + 10_000.0 if due is None else due
        for probe in (t.now, (t.now + quiet_until) / 2, quiet_until - 1e-6):
            if t.now <= probe < quiet_until:
                step = policy.handle(t.state, Tick(now=probe), probe, t.limits, rand=MID)
                assert step == (t.state, ()), f"a tick before next_tick_at ({due}) acted at {probe}"
        if due is not None:
            at = max(due, t.now)
            state, commands = policy.handle(t.state, Tick(now=at), at, t.limits, rand=MID)
            assert commands and state != t.state, f"nothing happened at next_tick_at ({due})"


def test_rows_a_running_fetch_already_has_are_published_and_the_fetch_goes_on() -> None:
    t = Table()
    t.tick()
    fetching = t.state
    state, commands = policy.handle(fetching, t.result(partial=True), t.now + 1, LIMITS, rand=MID)
    (published,) = [c.message for c in commands if isinstance(c, Publish)]
    assert published.rows == ROWS.rows and published.state == "ok"
    assert published.fetch_deadline_at == fetching.deadline_at  # the spinner and its deadline stay
    assert state.phase == policy.FETCHING and state.deadline_at == fetching.deadline_at
    assert state.duration_s is None and state.attempts == fetching.attempts
    # The final answer still ends the fetch and times it.
    t.state = state
    t.succeed(after=2)
    assert t.state.phase == policy.IDLE and t.last().duration_s is not None
    # Rows for another fetch, or with none running, change nothing.
    other = FetchResult(table="builds", generation=state.generation, seq=state.seq + 1, data=ROWS, partial=True)
    assert policy.handle(state, other, t.now, LIMITS, rand=MID) == (state, ())
    assert policy.handle(t.state, t.result(partial=True), t.now, LIMITS, rand=MID) == (t.state, ())


# Every table at once: what the watchdog calls.
def fed_all(states: dict[str, TableState], event: policy.Event, now: float, draws: list[float]):
    limits = dict.fromkeys(states, LIMITS)
    return policy.handle_all(states, event, now, limits, rand=lambda: draws.pop(0))


def test_pause_is_said_once_then_each_table_shows_it() -> None:
    states = {key: policy.initial_state(key, due_at=1000.0) for key in ("runner", "builds")}
    states, _ = fed_all(states, Tick(now=1000.0), 1000.0, [MID, MID])
    for key in states:
        result = FetchResult(table=key, generation=1, seq=1, data=ROWS)
        states, _ = fed_all(states, result, 1001.0, [MID, MID])
    states, commands = fed_all(states, SetPaused(paused=True), 1002.0, [MID, MID])
    messages = [c.message for c in commands if isinstance(c, Publish)]
    assert messages[0] == PauseChanged(paused=True)
    assert [(s.table, s.next_refresh_at) for s in messages[1:]] == [("runner", None), ("builds", None)]
    assert all(s.paused for s in states.values())
    assert fed_all(states, SetPaused(paused=True), 1003.0, []) == (states, ())  # already paused: nothing


def test_each_table_draws_its_own_jitter() -> None:
    limits = dict.fromkeys(("runner", "builds"), with_supervision(backoff_initial_s=10.0))
    states = {key: policy.initial_state(key, due_at=1000.0) for key in limits}
    states, _ = policy.handle_all(states, Tick(now=1000.0), 1000.0, limits, rand=lambda: MID)
    draws = iter([0.0, 0.999])
    # Neither child loads within the start-up allowance: both fail on the same tick ...
    states, _ = policy.handle_all(states, Tick(now=1060.0), 1060.0, limits, rand=lambda: next(draws))
    assert all(s.label == "timeout" for s in states.values())
    # ... and their restarts are spread by draws of their own.
    assert states["runner"].due_at == pytest.approx(1060.0 + 10.0 * 0.8)
    assert states["builds"].due_at == pytest.approx(1060.0 + 10.0 * 1.2, rel=1e-3)


def test_events_reach_the_tables_they_name() -> None:
    states = {key: policy.initial_state(key, due_at=None) for key in ("runner", "builds")}
    assert policy.addressed(RefreshRequest(table=""), tuple(states)) == ("runner", "builds")
    assert policy.addressed(RefreshRequest(table="builds"), tuple(states)) == ("builds",)
    assert policy.addressed(RefreshRequest(table="retired"), tuple(states)) == ()
    states, commands = fed_all(states, RefreshRequest(table="builds"), 1000.0, [MID])
    assert started(commands) == [StartFetch(table="builds", generation=1, seq=1)]
    assert states["runner"].phase == policy.IDLE
    states, commands = fed_all(states, ChildLaunched("builds", 1, 4242), 1000.5, [MID])
    assert commands == (LogEvent("builds", 1, "launched", 1000.5, detail="pid 4242"),)
