"""Supervision policy of one table as a pure state machine.

Every decision the watchdog makes — when a table refreshes, when a fetch is past
its deadline, how long a restart waits, when the circuit opens and closes, what
the snapshot says — is a function here from (state, event, now) to (new state,
commands). Nothing in this module reads a clock, sleeps, draws random numbers or
talks to another thread: the watchdog actor feeds it ticks and fetch outcomes
and carries out the commands, and tests drive it by hand.

Vocabulary:
  *generation*  the incarnation of a table's child process; it goes up whenever
                the child was killed or died, so the next fetch starts a new one.
  *seq*         the number of a fetch of one table; a late answer to an older
                fetch is ignored.
  *failure*     a fetch that ended in an error, a timeout or a crash. Failures
                drive the restart backoff and the circuit breaker.
  *ready*       a new child first loads its source's libraries (seconds), then
                says so. A fetch sent to a child that is not ready yet gets the
                start-up allowance (``startup``) on top of its deadline; once the
                child is ready, the deadline counts from that moment.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

from arr_actors.messages import FetchStarted, Notice, Row, TableData, TableSnapshot, TableStatus
from arr_actors.tables import table as table_spec

if TYPE_CHECKING:
    from arr_actors.config import Settings

# Phases of a table.
IDLE = "idle"  # waiting for due_at (a refresh, a retry or a restart)
FETCHING = "fetching"  # one fetch in flight
CIRCUIT_OPEN = "circuit_open"  # too many failures: waiting for the half-open probe at due_at
DONE = "done"  # single-round mode: the table's first outcome is in, nothing more runs


@dataclass(frozen=True, slots=True)
class Limits:
    """The numbers that govern one table, taken from settings."""

    interval: float
    budget: float
    deadline: float
    backoff_initial: float
    backoff_max: float
    backoff_jitter: float
    healthy_reset: float
    circuit_failures: int
    circuit_window: float
    circuit_cooldown: float
    single_round: bool = False
    startup: float = 60.0  # time a new child may take to load its libraries

    @classmethod
    def from_settings(cls, settings: Settings, table: str, *, single_round: bool = False) -> Limits:
        policy = settings.policy(table)
        return cls(
            interval=policy.interval,
            budget=policy.budget,
            deadline=policy.deadline,
            backoff_initial=settings.backoff_initial_s,
            backoff_max=settings.backoff_max_s,
            backoff_jitter=settings.backoff_jitter,
            healthy_reset=settings.healthy_reset_s,
            circuit_failures=settings.circuit_failures,
            circuit_window=settings.circuit_window_s,
            circuit_cooldown=settings.circuit_cooldown_s,
            single_round=single_round,
            startup=settings.startup_deadline_s,
        )


@dataclass(frozen=True, slots=True)
class TableState:
    table: str
    phase: str = IDLE
    due_at: float | None = None
    generation: int = 1
    restart_due: bool = False  # the last child was killed or died: the next fetch is a restart
    child_ready: bool = False  # the child of this generation has loaded its source
    seq: int = 0
    started_at: float | None = None  # when the fetch was asked for (what the spinner counts from)
    began_at: float | None = None  # when the fetch itself began (its child was ready); durations count from here
    startup_by: float | None = None  # a fetch waiting for its child to load: when that allowance ends
    deadline_at: float | None = None
    half_open: bool = False
    # what the last snapshot said (None before the first outcome: nothing published yet)
    label: TableStatus | None = None
    rows: tuple[Row, ...] = ()
    warning: str = ""
    error: str = ""
    fetched_at: float | None = None
    duration_s: float | None = None
    budget_pct: float | None = None
    attempts: int = 0
    restarts: int = 0
    snapshot_seq: int = 0
    # failure accounting
    consecutive_failures: int = 0
    failure_times: tuple[float, ...] = ()
    healthy_since: float | None = None


# Commands.
@dataclass(frozen=True, slots=True)
class StartFetch:
    table: str
    generation: int
    seq: int
    deadline_at: float
    restart: bool


@dataclass(frozen=True, slots=True)
class KillFetch:
    table: str
    generation: int
    seq: int
    reason: str


@dataclass(frozen=True, slots=True)
class Publish:
    """Send a message to every subscriber."""

    message: TableSnapshot | FetchStarted | Notice


@dataclass(frozen=True, slots=True)
class LogEvent:
    """One line of the event log."""

    table: str
    generation: int
    event: str  # launched ready started completed failed killed restarted skipped circuit_open circuit_closed
    at: float
    duration_s: float | None = None
    budget_pct: float | None = None
    detail: str = ""


Command = StartFetch | KillFetch | Publish | LogEvent
Step = tuple[TableState, tuple[Command, ...]]


# Pure helpers.
def backoff_delay(failures: int, limits: Limits, *, rand: float) -> float:
    """Restart delay after ``failures`` consecutive failures (1 -> initial, doubling, capped).

    ``rand`` in [0, 1) spreads the delay by ±jitter so tables that fail together
    do not all come back in the same instant.
    """
    exponent = max(failures - 1, 0)
    # 2**exponent overflows float for absurd counts; the cap is reached long before.
    base = limits.backoff_max if exponent >= 64 else min(limits.backoff_initial * 2.0**exponent, limits.backoff_max)
    spread = limits.backoff_jitter * (2.0 * rand - 1.0)
    return max(base * (1.0 + spread), 0.0)


def start_times(tables: tuple[str, ...], now: float, *, batch_size: int, batch_delay: float) -> dict[str, float]:
    """When each table's first fetch is due: all at once, or in batches."""
    if batch_size <= 0:
        return {t: now for t in tables}
    return {t: now + (i // batch_size) * batch_delay for i, t in enumerate(tables)}


def initial_state(table: str, due_at: float | None) -> TableState:
    return TableState(table=table, due_at=due_at)


def next_refresh_at(state: TableState, *, paused: bool) -> float | None:
    if paused or state.phase not in (IDLE, CIRCUIT_OPEN):
        return None
    return state.due_at


def next_tick_at(state: TableState, *, paused: bool) -> float | None:
    """The earliest time ``tick`` would change anything for this table (None:
    nothing is pending; only a message can start something)."""
    if state.phase == FETCHING:
        times = [t for t in (state.deadline_at, None if state.child_ready else state.startup_by) if t is not None]
        return min(times, default=None)
    if paused or state.phase not in (IDLE, CIRCUIT_OPEN):
        return None
    return state.due_at


def snapshot(state: TableState, now: float, *, paused: bool) -> TableSnapshot:
    if state.label is None:
        raise ValueError(f"{state.table}: nothing to publish before the first outcome")
    return TableSnapshot(
        table=state.table,
        seq=state.snapshot_seq,
        state=state.label,
        rows=state.rows,
        error=state.error,
        warning=state.warning,
        fetched_at=state.fetched_at,
        updated_at=now,
        duration_s=state.duration_s,
        budget_pct=state.budget_pct,
        attempts=state.attempts,
        restarts=state.restarts,
        next_refresh_at=next_refresh_at(state, paused=paused),
        fetch_deadline_at=state.deadline_at if state.phase == FETCHING else None,
    )


def _publish_snapshot(state: TableState, now: float, *, paused: bool) -> tuple[TableState, Publish]:
    state = dataclasses.replace(state, snapshot_seq=state.snapshot_seq + 1)
    return state, Publish(snapshot(state, now, paused=paused))


def _title(table: str) -> str:
    try:
        return table_spec(table).title
    except KeyError:
        return table


def _log(
    state: TableState,
    event: str,
    now: float,
    *,
    duration_s: float | None = None,
    budget_pct: float | None = None,
    detail: str = "",
) -> LogEvent:
    return LogEvent(
        state.table, state.generation, event, now, duration_s=duration_s, budget_pct=budget_pct, detail=detail
    )


def _budget_pct(duration: float, limits: Limits) -> float:
    return round(duration / limits.budget * 100.0, 1)


# Transitions.
def start_fetch(state: TableState, now: float, *, limits: Limits, paused: bool, half_open: bool = False) -> Step:
    """Begin a fetch now (the caller checked that none is running)."""
    restart = state.restart_due
    seq = state.seq + 1
    if state.child_ready:
        began_at, startup_by, deadline_at = now, None, now + limits.deadline
    else:
        # A new child loads its libraries first; the deadline starts when it is ready.
        began_at, startup_by = None, now + limits.startup
        deadline_at = startup_by + limits.deadline
    label = state.label
    if restart and not half_open and label is not None and label.failing:
        label = TableStatus.RESTARTING
    state = dataclasses.replace(
        state,
        phase=FETCHING,
        due_at=None,
        seq=seq,
        started_at=now,
        began_at=began_at,
        startup_by=startup_by,
        deadline_at=deadline_at,
        half_open=half_open,
        restart_due=False,
        attempts=state.attempts + 1,
        restarts=state.restarts + (1 if restart else 0),
        label=label,
    )
    commands: list[Command] = [
        StartFetch(state.table, state.generation, seq, deadline_at, restart),
        Publish(FetchStarted(table=state.table, generation=state.generation, started_at=now, deadline_at=deadline_at)),
    ]
    if restart:
        commands.append(_log(state, "restarted", now, detail="half-open probe" if half_open else ""))
    commands.append(_log(state, "started", now, detail=f"fetch {seq}"))
    if label is TableStatus.RESTARTING:
        state, publish = _publish_snapshot(state, now, paused=paused)
        commands.append(publish)
    return state, tuple(commands)


def tick(state: TableState, now: float, *, limits: Limits, paused: bool, rand: float) -> Step:
    """Time passed: kill a fetch past its start-up allowance or deadline, start a fetch that is due."""
    if state.phase == FETCHING and not state.child_ready and state.startup_by is not None and now >= state.startup_by:
        error = f"fetch process did not start within {limits.startup:g} s (loading libraries); killed"
        return _failed(
            state, now, limits=limits, kind="timeout", error=error, kill=True, kill_reason="startup",
            paused=paused, rand=rand,
        )
    if state.phase == FETCHING and state.deadline_at is not None and now >= state.deadline_at:
        error = f"timed out after {limits.deadline:g} s (deadline); fetch killed"
        return _failed(state, now, limits=limits, kind="timeout", error=error, kill=True, paused=paused, rand=rand)
    if paused or state.due_at is None or now < state.due_at:
        return state, ()
    if state.phase == IDLE:
        return start_fetch(state, now, limits=limits, paused=paused)
    if state.phase == CIRCUIT_OPEN:
        return start_fetch(state, now, limits=limits, paused=paused, half_open=True)
    return state, ()


def refresh(state: TableState, now: float, *, limits: Limits, manual: bool, paused: bool) -> Step:
    """Someone asked for a refresh. A manual one overrides pause, backoff and an open circuit."""
    if state.phase == FETCHING:
        return state, (_log(state, "skipped", now, detail="a fetch is already running"),)
    if state.phase == DONE:
        return state, ()
    if state.phase == CIRCUIT_OPEN:
        if manual:
            return start_fetch(state, now, limits=limits, paused=paused, half_open=True)
        return state, (_log(state, "skipped", now, detail="circuit open"),)
    if paused and not manual:
        return state, (_log(state, "skipped", now, detail="paused"),)
    if not manual and state.restart_due and state.due_at is not None and now < state.due_at:
        return state, (_log(state, "skipped", now, detail="waiting for restart backoff"),)
    return start_fetch(state, now, limits=limits, paused=paused)


def fetch_finished(
    state: TableState,
    now: float,
    *,
    limits: Limits,
    seq: int,
    data: TableData | None,
    error: str,
    paused: bool,
    rand: float,
) -> Step:
    """A child answered. Answers to anything but the running fetch are dropped."""
    if state.phase != FETCHING or seq != state.seq:
        return state, ()
    if data is None:
        error = error or "the fetch returned nothing"
        return _failed(state, now, limits=limits, kind="error", error=error, kill=False, paused=paused, rand=rand)
    return _succeeded(state, now, limits=limits, data=data, paused=paused)


def child_gone(
    state: TableState,
    now: float,
    *,
    limits: Limits,
    generation: int,
    seq: int | None,
    cause: str,
    killed: bool,
    paused: bool,
    rand: float,
    kill_s: float | None = None,
) -> Step:
    """A child process ended. During its fetch that is a crash; otherwise it only means a fresh child next time."""
    commands: list[Command] = []
    if killed:
        latency = None if kill_s is None else round(kill_s, 3)
        commands.append(LogEvent(state.table, generation, "killed", now, duration_s=latency, detail=cause))
    if state.phase == FETCHING and seq is not None and seq == state.seq and generation == state.generation:
        error = f"fetch process died ({cause})" if state.child_ready else f"fetch process died while loading ({cause})"
        state, more = _failed(
            state, now, limits=limits, kind="crash", error=error, kill=False, paused=paused, rand=rand
        )
        return state, (*commands, *more)
    if generation == state.generation:
        state = dataclasses.replace(state, generation=state.generation + 1, restart_due=True, child_ready=False)
    return state, tuple(commands)


def child_ready(
    state: TableState,
    now: float,
    *,
    limits: Limits,
    generation: int,
    startup_s: float,
    error: str = "",
) -> Step:
    """The child of ``generation`` has loaded its source: the fetch waiting for it starts now.

    Its deadline is moved to ``now + deadline`` and announced again, so a
    spinner ends when the fetch really has to.
    """
    if generation != state.generation:
        return state, ()  # a child already given up on
    detail = f"source failed to load: {error}" if error else ""
    event = LogEvent(state.table, generation, "ready", now, duration_s=round(startup_s, 3), detail=detail)
    if state.phase != FETCHING:
        return dataclasses.replace(state, child_ready=True), (event,)
    deadline_at = now + limits.deadline
    state = dataclasses.replace(state, child_ready=True, began_at=now, startup_by=None, deadline_at=deadline_at)
    started_at = state.started_at if state.started_at is not None else now
    announce = FetchStarted(table=state.table, generation=generation, started_at=started_at, deadline_at=deadline_at)
    return state, (event, Publish(announce))


def set_paused(state: TableState, now: float, *, paused: bool) -> Step:
    """Pause changes every table's next refresh time: tell the subscribers."""
    if not state.label:
        return state, ()
    state, publish = _publish_snapshot(state, now, paused=paused)
    return state, (publish,)


def fetch_progress(state: TableState, now: float, *, seq: int, data: TableData, paused: bool) -> Step:
    """The running fetch already has these rows: show them now; the fetch goes on.

    The rows replace the table's (they are fresh, so the table is ``ok``); the
    phase, the deadline and the failure accounting wait for the final answer.
    """
    if state.phase != FETCHING or seq != state.seq:
        return state, ()
    state = dataclasses.replace(
        state, label=TableStatus.OK, rows=data.rows, warning=data.warning, error="", fetched_at=now
    )
    state, publish = _publish_snapshot(state, now, paused=paused)
    return state, (publish,)


def _fetch_duration(state: TableState, now: float) -> float:
    """How long the fetch took: from when its child was ready, or from the request if it never was."""
    began = state.began_at if state.began_at is not None else state.started_at
    return max(now - (began if began is not None else now), 0.0)


def _succeeded(state: TableState, now: float, *, limits: Limits, data: TableData, paused: bool) -> Step:
    duration = _fetch_duration(state, now)
    pct = _budget_pct(duration, limits)
    commands: list[Command] = []
    consecutive = state.consecutive_failures
    failure_times = state.failure_times
    if state.half_open:
        commands.append(_log(state, "circuit_closed", now, detail="half-open probe succeeded"))
        recovered = Notice(text=f"{_title(state.table)}: recovered", level="info", table=state.table, at=now)
        commands.append(Publish(recovered))
        consecutive, failure_times = 0, ()
    if limits.single_round:
        phase, due = DONE, None
    else:
        phase, due = IDLE, now + limits.interval
    state = dataclasses.replace(
        state,
        phase=phase,
        due_at=due,
        started_at=None,
        began_at=None,
        startup_by=None,
        deadline_at=None,
        half_open=False,
        label=TableStatus.OK,
        rows=data.rows,
        warning=data.warning,
        error="",
        fetched_at=now,
        duration_s=round(duration, 3),
        budget_pct=pct,
        consecutive_failures=consecutive,
        failure_times=failure_times,
        healthy_since=state.healthy_since if state.healthy_since is not None else now,
    )
    commands.insert(0, _log(state, "completed", now, duration_s=round(duration, 3), budget_pct=pct))
    state, publish = _publish_snapshot(state, now, paused=paused)
    commands.append(publish)
    return state, tuple(commands)


def _failed(
    state: TableState,
    now: float,
    *,
    limits: Limits,
    kind: str,
    error: str,
    kill: bool,
    paused: bool,
    rand: float,
    kill_reason: str = "deadline",
) -> Step:
    duration = _fetch_duration(state, now)
    pct = _budget_pct(duration, limits)
    healthy = state.healthy_since is not None and now - state.healthy_since >= limits.healthy_reset
    consecutive = (0 if healthy else state.consecutive_failures) + 1
    failure_times = tuple(t for t in state.failure_times if now - t < limits.circuit_window) + (now,)
    commands: list[Command] = []
    if kill:
        commands.append(KillFetch(state.table, state.generation, state.seq, kill_reason))
    commands.append(
        _log(state, "failed", now, duration_s=round(duration, 3), budget_pct=pct, detail=f"{kind}: {error}")
    )
    # A killed or crashed child is gone: the next fetch starts a new incarnation.
    new_child = kill or kind == "crash"
    opens = not limits.single_round and (state.half_open or len(failure_times) >= limits.circuit_failures)
    if limits.single_round:
        phase, due = DONE, None
        label = TableStatus.TIMEOUT if kind == "timeout" else (TableStatus.STALE if state.fetched_at is not None else TableStatus.ERROR)
        text = error
    elif opens:
        phase, due = CIRCUIT_OPEN, now + limits.circuit_cooldown
        label = TableStatus.CIRCUIT_OPEN
        text = f"{error} (circuit open after {len(failure_times)} failures in {limits.circuit_window:g} s)"
    else:
        phase, due = IDLE, now + backoff_delay(consecutive, limits, rand=rand)
        label = TableStatus.TIMEOUT if kind == "timeout" else (TableStatus.STALE if state.fetched_at is not None else TableStatus.ERROR)
        text = error
    was_failing = state.label is not None and state.label.failing
    notify = not was_failing or text != state.error or (opens and state.label is not TableStatus.CIRCUIT_OPEN)
    if opens and not state.half_open:
        why = f"{len(failure_times)} failures in {limits.circuit_window:g} s"
        commands.append(_log(state, "circuit_open", now, detail=why))
    state = dataclasses.replace(
        state,
        phase=phase,
        due_at=due,
        generation=state.generation + 1 if new_child else state.generation,
        restart_due=state.restart_due or new_child,
        child_ready=state.child_ready and not new_child,
        started_at=None,
        began_at=None,
        startup_by=None,
        deadline_at=None,
        half_open=False,
        label=label,
        error=text,
        duration_s=round(duration, 3),
        budget_pct=pct,
        consecutive_failures=consecutive,
        failure_times=failure_times,
        healthy_since=None,
    )
    state, publish = _publish_snapshot(state, now, paused=paused)
    commands.append(publish)
    if notify:
        notice = Notice(text=f"{_title(state.table)}: {text}", level="error", table=state.table, at=now)
        commands.append(Publish(notice))
    return state, tuple(commands)
