"""What each event does to one table's state, and the one entry point that dispatches events.

Every transition returns ``(new state, commands)``; nothing here reads a clock,
draws a random number or talks to another thread.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

from arr_actors.messages import (
    Action,
    ActionDone,
    ActionRequest,
    FetchReady,
    FetchResult,
    FetchStarted,
    Notice,
    PauseChanged,
    RefreshRequest,
    SetPaused,
    StartFetch,
    TableData,
    TableStatus,
    Tick,
)
from arr_actors.runtime.policy.limits import Limits, backoff_delay, budget_pct
from arr_actors.runtime.policy.state import (
    CALLS_WINDOW_S,
    CIRCUIT_OPEN,
    DONE,
    FETCHING,
    IDLE,
    Command,
    LogEvent,
    Publish,
    Step,
    TableState,
    snapshot,
)
from arr_actors.runtime.protocol import ChildGone, ChildLaunched, KillFetch
from arr_actors.tables import table as table_spec

#: Everything the policy reacts to: the watchdog forwards these as they come.
Event = Tick | RefreshRequest | SetPaused | FetchResult | FetchReady | ChildGone | ChildLaunched | ActionRequest
EVENTS = (Tick, RefreshRequest, SetPaused, FetchResult, FetchReady, ChildGone, ChildLaunched, ActionRequest)


def handle(state: TableState, event: Event, now: float, limits: Limits, *, rand: float) -> Step:
    """One table's reaction to one event at ``now``.

    ``rand`` in [0, 1) is the jitter of a restart backoff, should this event
    lead to one (see :func:`backoff_delay`).
    """
    if isinstance(event, Tick):
        return _tick(state, now, limits=limits, rand=rand)
    if isinstance(event, FetchResult):
        if event.partial:
            return _fetch_progress(state, now, event)
        return _fetch_finished(state, now, event, limits=limits, rand=rand)
    if isinstance(event, FetchReady):
        return _child_ready(state, now, event, limits=limits)
    if isinstance(event, ChildGone):
        return _child_gone(state, now, event, limits=limits, rand=rand)
    if isinstance(event, ChildLaunched):
        return state, (LogEvent(event.table, event.generation, "launched", now, detail=f"pid {event.pid}"),)
    if isinstance(event, RefreshRequest):
        return _refresh(state, now, limits=limits, manual=event.manual)
    if isinstance(event, SetPaused):
        return _set_paused(state, now, paused=event.paused)
    if isinstance(event, ActionRequest):
        return _action_requested(state, now, event.action, limits=limits)
    raise TypeError(f"not a policy event: {type(event).__name__}")


def addressed(event: Event, tables: tuple[str, ...]) -> tuple[str, ...]:
    """The tables an event concerns (of ``tables``): one, or all of them."""
    if isinstance(event, (Tick, SetPaused)) or (isinstance(event, RefreshRequest) and not event.table):
        return tables
    table = event.action.table if isinstance(event, ActionRequest) else event.table
    return (table,) if table in tables else ()


def handle_all(
    states: Mapping[str, TableState],
    event: Event,
    now: float,
    limits: Mapping[str, Limits],
    *,
    rand: Callable[[], float],
) -> tuple[dict[str, TableState], tuple[Command, ...]]:
    """Every table's reaction to one event: :func:`handle` for each table it concerns.

    ``rand`` gives each table a jitter of its own, so tables failing on the
    same tick do not come back in the same instant.
    """
    new = dict(states)
    commands: list[Command] = []
    if isinstance(event, SetPaused):
        if all(s.paused == event.paused for s in states.values()):
            return new, ()
        # Said once for all tables, before each table's new snapshot.
        commands.append(Publish(PauseChanged(paused=event.paused)))
    for key in addressed(event, tuple(states)):
        new[key], more = handle(states[key], event, now, limits[key], rand=rand())
        commands.extend(more)
    return new, tuple(commands)


# Helpers.
def _publish_snapshot(state: TableState, now: float) -> tuple[TableState, Publish]:
    state = dataclasses.replace(state, snapshot_seq=state.snapshot_seq + 1)
    return state, Publish(snapshot(state, now))


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


# Transitions.
def _start_fetch(state: TableState, now: float, *, limits: Limits, half_open: bool = False) -> Step:
    """Begin a fetch now (the caller checked that none is running)."""
    restart = state.restart_due
    seq = state.seq + 1
    if state.child_ready:
        began_at, startup_by, deadline_at = now, None, now + limits.table.deadline
    else:
        # A new child loads its libraries first; the deadline starts when it is ready.
        began_at, startup_by = None, now + limits.supervision.startup_deadline_s
        deadline_at = startup_by + limits.table.deadline
    label = state.label
    if restart and not half_open and label is not None and label.failing:
        label = TableStatus.RESTARTING
    action = state.pending_action
    state = dataclasses.replace(
        state,
        pending_action=None,
        running_action=action,
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
        StartFetch(table=state.table, generation=state.generation, seq=seq, action=action),
        Publish(FetchStarted(table=state.table, generation=state.generation, started_at=now, deadline_at=deadline_at)),
    ]
    if restart:
        commands.append(_log(state, "restarted", now, detail="half-open probe" if half_open else ""))
    commands.append(_log(state, "started", now, detail=f"fetch {seq}"))
    if label is TableStatus.RESTARTING:
        state, publish = _publish_snapshot(state, now)
        commands.append(publish)
    return state, tuple(commands)


def _tick(state: TableState, now: float, *, limits: Limits, rand: float) -> Step:
    """Time passed: kill a fetch past its start-up allowance or deadline, start a fetch that is due."""
    if state.phase == FETCHING and not state.child_ready and state.startup_by is not None and now >= state.startup_by:
        error = f"fetch process did not start within {limits.supervision.startup_deadline_s:g} s (loading libraries); killed"
        return _failed(state, now, limits=limits, kind="timeout", error=error, kill=True, kill_reason="startup", rand=rand)
    if state.phase == FETCHING and state.deadline_at is not None and now >= state.deadline_at:
        error = f"timed out after {limits.table.deadline:g} s (deadline); fetch killed"
        return _failed(state, now, limits=limits, kind="timeout", error=error, kill=True, rand=rand)
    if state.paused or state.due_at is None or now < state.due_at:
        return state, ()
    if state.phase == IDLE:
        return _start_fetch(state, now, limits=limits)
    if state.phase == CIRCUIT_OPEN:
        return _start_fetch(state, now, limits=limits, half_open=True)
    return state, ()


def _refresh(state: TableState, now: float, *, limits: Limits, manual: bool) -> Step:
    """Someone asked for a refresh. A manual one overrides pause, backoff and an open circuit."""
    if state.phase == FETCHING:
        return state, (_log(state, "skipped", now, detail="a fetch is already running"),)
    if state.phase == DONE:
        return state, ()
    if state.phase == CIRCUIT_OPEN:
        if manual:
            return _start_fetch(state, now, limits=limits, half_open=True)
        return state, (_log(state, "skipped", now, detail="circuit open"),)
    if state.paused and not manual:
        return state, (_log(state, "skipped", now, detail="paused"),)
    if not manual and state.restart_due and state.due_at is not None and now < state.due_at:
        return state, (_log(state, "skipped", now, detail="waiting for restart backoff"),)
    return _start_fetch(state, now, limits=limits)


def _fetch_finished(state: TableState, now: float, result: FetchResult, *, limits: Limits, rand: float) -> Step:
    """A child answered. Answers to anything but the running fetch are dropped."""
    if state.phase != FETCHING or result.seq != state.seq:
        return state, ()
    state = _count_calls(state, now, result)
    state, told = _action_over(state, now, error=result.action_error, ran=True)
    if result.data is None:
        error = result.error or "the fetch returned nothing"
        state, commands = _failed(state, now, limits=limits, kind="error", error=error, kill=False, rand=rand)
    else:
        state, commands = _succeeded(state, now, limits=limits, data=result.data)
    # The action's outcome goes last: it is what the user waits for, so it is the newest notice.
    return _then_pending_action(state, now, (*commands, *told), limits=limits)


def _action_requested(state: TableState, now: float, action: Action, *, limits: Limits) -> Step:
    """The user confirmed an action on a row of this table: it runs in the
    table's fetch process, in the next fetch, under that fetch's deadline (now,
    unless a fetch is running; then right after it)."""
    if state.pending_action is not None or state.running_action is not None:
        busy = state.running_action or state.pending_action
        name = busy.name if busy is not None else ""
        return state, (Publish(ActionDone(action, error=f"not sent: {name} is still being cancelled")),)
    state = dataclasses.replace(state, pending_action=action)
    if state.phase == FETCHING:
        return state, (_log(state, "skipped", now, detail=f"{action.kind} waits for the running fetch"),)
    return _start_fetch(state, now, limits=limits, half_open=state.phase == CIRCUIT_OPEN)


def _action_over(state: TableState, now: float, *, error: str, ran: bool) -> Step:
    """The fetch that carried an action ended: tell the subscribers how it went."""
    action = state.running_action
    if action is None:
        return state, ()
    state = dataclasses.replace(state, running_action=None)
    level = "error" if error else "info"
    text = error or f"{action.kind} requested: {action.name}; waiting for the service to confirm"
    if not ran and not error:
        level, text = "error", f"{action.kind} of {action.name} may not have been sent: the fetch process ended"
    return state, (
        Publish(ActionDone(action, error=text if level == "error" else "")),
        Publish(Notice(text=text, level=level, table=state.table, at=now)),
    )


def _then_pending_action(state: TableState, now: float, commands: tuple[Command, ...], *, limits: Limits) -> Step:
    """After a fetch ended, an action that waited for it runs at once."""
    if state.pending_action is None or state.phase not in (IDLE, CIRCUIT_OPEN):
        return state, commands
    state, more = _start_fetch(state, now, limits=limits, half_open=state.phase == CIRCUIT_OPEN)
    return state, (*commands, *more)


def _count_calls(state: TableState, now: float, result: FetchResult) -> TableState:
    """Fold in what the fetch cost (its calls, the logging limiter's view); keep a minute of calls."""
    recent = tuple(c for c in state.calls if now - c[0] < CALLS_WINDOW_S)
    fresh = tuple((now, service, n) for service, n in result.calls if n > 0)
    logging_used = result.logging_used if result.logging_used is not None else state.logging_used
    return dataclasses.replace(
        state, calls=recent + fresh, logging_used=logging_used, throttled_until=result.throttled_until
    )


def _child_gone(state: TableState, now: float, gone: ChildGone, *, limits: Limits, rand: float) -> Step:
    """A child process ended. During its fetch that is a crash; otherwise it only means a fresh child next time."""
    commands: list[Command] = []
    if gone.killed:
        latency = None if gone.kill_s is None else round(gone.kill_s, 3)
        commands.append(LogEvent(state.table, gone.generation, "killed", now, duration_s=latency, detail=gone.cause))
    if state.phase == FETCHING and gone.seq is not None and gone.seq == state.seq and gone.generation == state.generation:
        cause = gone.cause
        error = f"fetch process died ({cause})" if state.child_ready else f"fetch process died while loading ({cause})"
        state, more = _failed(state, now, limits=limits, kind="crash", error=error, kill=False, rand=rand)
        return state, (*commands, *more)
    if gone.generation == state.generation:
        state = dataclasses.replace(state, generation=state.generation + 1, restart_due=True, child_ready=False)
    return state, tuple(commands)


def _child_ready(state: TableState, now: float, ready: FetchReady, *, limits: Limits) -> Step:
    """The child of ``ready.generation`` has loaded its source: the fetch waiting for it starts now.

    Its deadline is moved to ``now + deadline`` and announced again, so a
    spinner ends when the fetch really has to.
    """
    generation = ready.generation
    if generation != state.generation:
        return state, ()  # a child already given up on
    detail = f"source failed to load: {ready.error}" if ready.error else ""
    event = LogEvent(state.table, generation, "ready", now, duration_s=round(ready.startup_s, 3), detail=detail)
    if state.phase != FETCHING:
        return dataclasses.replace(state, child_ready=True), (event,)
    deadline_at = now + limits.table.deadline
    state = dataclasses.replace(state, child_ready=True, began_at=now, startup_by=None, deadline_at=deadline_at)
    started_at = state.started_at if state.started_at is not None else now
    announce = FetchStarted(table=state.table, generation=generation, started_at=started_at, deadline_at=deadline_at)
    return state, (event, Publish(announce))


def _set_paused(state: TableState, now: float, *, paused: bool) -> Step:
    """Pause changes every table's next refresh time: tell the subscribers."""
    if paused == state.paused:
        return state, ()
    state = dataclasses.replace(state, paused=paused)
    if state.label is None:
        return state, ()
    state, publish = _publish_snapshot(state, now)
    return state, (publish,)


def _fetch_progress(state: TableState, now: float, result: FetchResult) -> Step:
    """The running fetch already has these rows: show them now; the fetch goes on.

    The rows replace the table's (they are fresh, so the table is ``ok``); the
    phase, the deadline and the failure accounting wait for the final answer.
    """
    if state.phase != FETCHING or result.seq != state.seq or result.data is None:
        return state, ()
    data = result.data
    state = dataclasses.replace(
        state, label=TableStatus.OK, rows=data.rows, warning=data.warning, error="", fetched_at=now, warm=False
    )
    state, publish = _publish_snapshot(state, now)
    return state, (publish,)


def _fetch_duration(state: TableState, now: float) -> float:
    """How long the fetch took: from when its child was ready, or from the request if it never was."""
    began = state.began_at if state.began_at is not None else state.started_at
    return max(now - (began if began is not None else now), 0.0)


def _succeeded(state: TableState, now: float, *, limits: Limits, data: TableData) -> Step:
    duration = _fetch_duration(state, now)
    pct = budget_pct(duration, limits)
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
        phase, due = IDLE, now + limits.table.interval
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
        warm=False,
        duration_s=round(duration, 3),
        budget_pct=pct,
        consecutive_failures=consecutive,
        failure_times=failure_times,
        healthy_since=state.healthy_since if state.healthy_since is not None else now,
    )
    commands.insert(0, _log(state, "completed", now, duration_s=round(duration, 3), budget_pct=pct))
    state, publish = _publish_snapshot(state, now)
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
    rand: float,
    kill_reason: str = "deadline",
) -> Step:
    duration = _fetch_duration(state, now)
    pct = budget_pct(duration, limits)
    healthy = state.healthy_since is not None and now - state.healthy_since >= limits.supervision.healthy_reset_s
    consecutive = (0 if healthy else state.consecutive_failures) + 1
    failure_times = tuple(t for t in state.failure_times if now - t < limits.supervision.circuit_window_s) + (now,)
    commands: list[Command] = []
    told: tuple[Command, ...] = ()
    if state.running_action is not None:
        # Killed or crashed while carrying an action: whether the call went out is unknown.
        action = state.running_action
        state, told = _action_over(state, now, error=f"{action.kind} of {action.name} did not finish: {error}", ran=True)
    if kill:
        commands.append(KillFetch(state.table, state.generation, state.seq, kill_reason))
    commands.append(
        _log(state, "failed", now, duration_s=round(duration, 3), budget_pct=pct, detail=f"{kind}: {error}")
    )
    # A killed or crashed child is gone: the next fetch starts a new incarnation.
    new_child = kill or kind == "crash"
    opens = not limits.single_round and (state.half_open or len(failure_times) >= limits.supervision.circuit_failures)
    # Rows of this run stay on screen, stale; without any the table is in error
    # (whatever rows a warm start shows under it).
    plain_label = TableStatus.TIMEOUT if kind == "timeout" else (TableStatus.STALE if state.has_fetched else TableStatus.ERROR)
    if limits.single_round:
        phase, due = DONE, None
        label = plain_label
        text = error
    elif opens:
        phase, due = CIRCUIT_OPEN, now + limits.supervision.circuit_cooldown_s
        label = TableStatus.CIRCUIT_OPEN
        text = f"{error} (circuit open after {len(failure_times)} failures in {limits.supervision.circuit_window_s:g} s)"
    else:
        phase, due = IDLE, now + backoff_delay(consecutive, limits, rand=rand)
        label = plain_label
        text = error
    was_failing = state.label is not None and state.label.failing
    notify = not was_failing or text != state.error or (opens and state.label is not TableStatus.CIRCUIT_OPEN)
    if opens and not state.half_open:
        why = f"{len(failure_times)} failures in {limits.supervision.circuit_window_s:g} s"
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
    state, publish = _publish_snapshot(state, now)
    commands.append(publish)
    if notify:
        notice = Notice(text=f"{_title(state.table)}: {text}", level="error", table=state.table, at=now)
        commands.append(Publish(notice))
    return state, (*commands, *told)
