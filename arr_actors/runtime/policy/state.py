"""One table's supervision state, the commands the policy gives, and the snapshot a state shows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from arr_actors.messages import (
    Action,
    ActionDone,
    FetchStarted,
    LogPage,
    Notice,
    PauseChanged,
    Row,
    StartFetch,
    TableSnapshot,
    TableStatus,
)
from arr_actors.runtime.protocol import KillFetch

if TYPE_CHECKING:
    from collections.abc import Mapping

# Phases of a table.
IDLE = "idle"  # waiting for due_at (a refresh, a retry or a restart)
FETCHING = "fetching"  # one fetch in flight
CIRCUIT_OPEN = "circuit_open"  # too many failures: waiting for the half-open probe at due_at
DONE = "done"  # single-round mode: the table's first outcome is in, nothing more runs



@dataclass(frozen=True, slots=True)
class TableState:
    table: str
    phase: str = IDLE
    due_at: float | None = None
    paused: bool = False  # automatic refreshes are paused (manual ones still run)
    generation: int = 1
    restart_due: bool = False  # the last child was killed or died: the next fetch is a restart
    child_ready: bool = False  # the child of this generation has loaded its source
    seq: int = 0
    started_at: float | None = None  # when the fetch was asked for (what the spinner counts from)
    began_at: float | None = None  # when the fetch itself began (its child was ready); durations count from here
    startup_by: float | None = None  # a fetch waiting for its child to load: when that allowance ends
    deadline_at: float | None = None
    half_open: bool = False
    # what the last snapshot said ("" before the first outcome: nothing published yet)
    label: TableStatus | None = None
    rows: tuple[Row, ...] = ()
    warning: str = ""
    error: str = ""
    fetched_at: float | None = None
    # ``rows`` and ``fetched_at`` are the previous run's (a warm start): shown
    # until this run has rows of its own, but not counted as this run's data.
    warm: bool = False
    duration_s: float | None = None
    budget_pct: float | None = None
    attempts: int = 0
    restarts: int = 0
    snapshot_seq: int = 0
    # cloud calls of the last minute, as the fetch process counted them:
    # (when the result came, service, calls), and the Cloud Logging limiter's view
    calls: tuple[tuple[float, str, int], ...] = ()
    logging_used: int | None = None
    throttled_until: float | None = None
    # an action the user confirmed: waiting for the fetch in flight to end, or
    # carried by the fetch in flight (see transitions._action_requested)
    pending_action: Action | None = None
    running_action: Action | None = None
    # failure accounting
    consecutive_failures: int = 0
    failure_times: tuple[float, ...] = ()
    healthy_since: float | None = None

    @property
    def has_fetched(self) -> bool:
        """Whether this run has fetched rows (a failure then leaves them stale rather than an error)."""
        return self.fetched_at is not None and not self.warm


# Commands (StartFetch, from arr_actors.messages, goes on to the fetch process as it is).
@dataclass(frozen=True, slots=True)
class Publish:
    """Send a message to every subscriber."""

    message: TableSnapshot | FetchStarted | Notice | PauseChanged | ActionDone | LogPage


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


def initial_state(table: str, due_at: float | None, *, last_known_good: TableSnapshot | None = None) -> TableState:
    """A table before its first fetch; with the previous run's snapshot, its rows are what failures keep showing."""
    if last_known_good is None or (last_known_good.fetched_at is None and not last_known_good.rows):
        return TableState(table=table, due_at=due_at)
    return TableState(
        table=table, due_at=due_at, rows=last_known_good.rows, fetched_at=last_known_good.fetched_at, warm=True
    )


def initial_states(
    tables: tuple[str, ...], due: Mapping[str, float], *, warm: Mapping[str, TableSnapshot]
) -> dict[str, TableState]:
    return {t: initial_state(t, due[t], last_known_good=warm.get(t)) for t in tables}


def next_refresh_at(state: TableState) -> float | None:
    if state.paused or state.phase not in (IDLE, CIRCUIT_OPEN):
        return None
    return state.due_at


def next_tick_at(state: TableState) -> float | None:
    """The earliest time a tick would change anything for this table (None:
    nothing is pending; only a message can start something)."""
    if state.phase == FETCHING:
        times = [t for t in (state.deadline_at, None if state.child_ready else state.startup_by) if t is not None]
        return min(times, default=None)
    return next_refresh_at(state)


def snapshot(state: TableState, now: float) -> TableSnapshot:
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
        next_refresh_at=next_refresh_at(state),
        fetch_deadline_at=state.deadline_at if state.phase == FETCHING else None,
        calls=calls_per_minute(state.calls, now),
        logging_used=state.logging_used,
        throttled_until=state.throttled_until if state.throttled_until is not None and state.throttled_until > now else None,
    )


#: The window calls are counted over.
CALLS_WINDOW_S = 60.0


def calls_per_minute(calls: tuple[tuple[float, str, int], ...], now: float) -> tuple[tuple[str, int], ...]:
    """Calls per service in the minute before ``now``."""
    totals: dict[str, int] = {}
    for at, service, n in calls:
        if now - at < CALLS_WINDOW_S:
            totals[service] = totals.get(service, 0) + n
    return tuple(sorted(totals.items()))
