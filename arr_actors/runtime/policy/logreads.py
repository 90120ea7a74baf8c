"""The log reader's supervision: one log read at a time, under a deadline, and following.

The log view (``l``) asks for one item's log with a :class:`LogRequest`. The
read runs in the log reader's own fetch process (``tables.LOG_READER``),
started on the first request and kept for the next ones, and is supervised
as a table's fetch is: a deadline (``api.log_read_deadline_s``; a new process
first gets the start-up allowance), a kill past it, a fresh process after a
kill or a crash. What differs from a table: nothing runs until asked, a
failure is told to the view that asked (a :class:`LogPage` with ``error``)
and never opens a circuit, and a request that comes while a read runs waits
for it, replacing any request that was waiting (one view is open at a time).

Following: when the view asked to follow, each read that ends schedules the
next one ``api.log_follow_s`` later (or when the project's Cloud Logging
budget frees a read, if later), reading after the last read's cursor, until
the view says :class:`LogStop`.

Pure, like the rest of the policy: ``handle(state, event, now, settings)``
returns the new state and the commands.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

from arr_actors.messages import FetchReady, FetchResult, LogPage, LogRequest, LogStop, StartFetch, Tick
from arr_actors.runtime.policy.state import FETCHING, IDLE, Command, LogEvent, Publish
from arr_actors.runtime.protocol import ChildGone, ChildLaunched, KillFetch
from arr_actors.tables import LOG_READER

if TYPE_CHECKING:
    from arr_actors.config import Settings

#: The commands only the log reader takes (it also gets ticks and its fetch process's reports).
LOG_EVENTS = (LogRequest, LogStop)


@dataclass(frozen=True, slots=True)
class ReaderState:
    phase: str = IDLE
    generation: int = 1
    child_ready: bool = False
    seq: int = 0
    running: LogRequest | None = None  # the read in flight
    waiting: LogRequest | None = None  # asked for while a read ran
    following: LogRequest | None = None  # the next follow-up read, due at ``due_at``
    due_at: float | None = None
    started_at: float | None = None
    startup_by: float | None = None
    deadline_at: float | None = None


Step = tuple[ReaderState, tuple[Command, ...]]


def concerns(event: object) -> bool:
    """Whether ``event`` is for the log reader."""
    if isinstance(event, LOG_EVENTS):
        return True
    return getattr(event, "table", None) == LOG_READER


def next_tick_at(state: ReaderState) -> float | None:
    if state.phase == FETCHING:
        times = [t for t in (state.deadline_at, None if state.child_ready else state.startup_by) if t is not None]
        return min(times, default=None)
    return state.due_at if state.following is not None else None


def handle(state: ReaderState, event: object, now: float, settings: Settings) -> Step:
    if isinstance(event, LogRequest):
        return _requested(state, event, now, settings)
    if isinstance(event, LogStop):
        return _stopped(state, event)
    if isinstance(event, Tick):
        return _tick(state, now, settings)
    if isinstance(event, FetchResult):
        return _answered(state, event, now, settings)
    if isinstance(event, FetchReady):
        return _ready(state, event, now, settings)
    if isinstance(event, ChildGone):
        return _gone(state, event, now, settings)
    if isinstance(event, ChildLaunched):
        return state, (LogEvent(LOG_READER, event.generation, "launched", now, detail=f"pid {event.pid}"),)
    return state, ()


def _requested(state: ReaderState, request: LogRequest, now: float, settings: Settings) -> Step:
    # A new view replaces whatever an older one followed or waited for.
    state = dataclasses.replace(state, following=None, due_at=None, waiting=None)
    if state.phase == FETCHING:
        return dataclasses.replace(state, waiting=request), ()
    return _start(state, request, now, settings)


def _stopped(state: ReaderState, stop: LogStop) -> Step:
    following = state.following if state.following is None or state.following.request != stop.request else None
    waiting = state.waiting if state.waiting is None or state.waiting.request != stop.request else None
    return dataclasses.replace(state, following=following, due_at=state.due_at if following else None, waiting=waiting), ()


def _start(state: ReaderState, request: LogRequest, now: float, settings: Settings) -> Step:
    seq = state.seq + 1
    deadline = settings.api.log_read_deadline_s
    if state.child_ready:
        startup_by, deadline_at = None, now + deadline
    else:
        startup_by = now + settings.supervision.startup_deadline_s
        deadline_at = startup_by + deadline
    state = dataclasses.replace(
        state, phase=FETCHING, seq=seq, running=request, started_at=now, startup_by=startup_by, deadline_at=deadline_at
    )
    detail = f"log {request.request} of {request.source.name}" + (" (follow-up)" if request.after is not None else "")
    return state, (
        StartFetch(table=LOG_READER, generation=state.generation, seq=seq, log=request),
        LogEvent(LOG_READER, state.generation, "started", now, detail=detail),
    )


def _ready(state: ReaderState, ready: FetchReady, now: float, settings: Settings) -> Step:
    if ready.generation != state.generation:
        return state, ()
    event = LogEvent(LOG_READER, ready.generation, "ready", now, duration_s=round(ready.startup_s, 3), detail=ready.error)
    if state.phase != FETCHING:
        return dataclasses.replace(state, child_ready=True), (event,)
    state = dataclasses.replace(state, child_ready=True, startup_by=None, deadline_at=now + settings.api.log_read_deadline_s)
    return state, (event,)


def _answered(state: ReaderState, result: FetchResult, now: float, settings: Settings) -> Step:
    running = state.running
    if state.phase != FETCHING or result.seq != state.seq or running is None:
        return state, ()
    page = result.log or LogPage(request=running.request, error=result.error or "the log reader answered without a page")
    if page.request != running.request:
        page = dataclasses.replace(page, request=running.request)
    if result.partial:
        return state, (Publish(page),)
    if result.logging_used is not None:
        page = dataclasses.replace(page, logging_used=result.logging_used)
    state = dataclasses.replace(state, phase=IDLE, running=None, started_at=None, startup_by=None, deadline_at=None)
    took = LogEvent(
        LOG_READER, state.generation, "failed" if page.error else "completed", now,
        duration_s=None, detail=page.error or f"{len(page.lines)} lines, {page.calls} calls",
    )
    state, page = _schedule_follow(state, running, page, now, settings)
    commands: list[Command] = [took, Publish(page)]
    return _next(state, now, settings, commands)


def _schedule_follow(state: ReaderState, request: LogRequest, page: LogPage, now: float, settings: Settings) -> tuple[ReaderState, LogPage]:
    """After a read of a followed log: the next one is due after the follow interval
    (later when the Cloud Logging budget is what held this one back)."""
    if not request.follow or state.waiting is not None:
        return state, page
    due = now + settings.api.log_follow_s
    if page.throttled_until is not None:
        due = max(due, page.throttled_until)
    after = page.cursor if page.cursor is not None else request.after
    follow_up = dataclasses.replace(request, after=after) if after is not None else request
    state = dataclasses.replace(state, following=follow_up, due_at=due)
    return state, dataclasses.replace(page, next_read_at=due)


def _next(state: ReaderState, now: float, settings: Settings, commands: list[Command]) -> Step:
    """After a read ended: the request that waited for it runs now."""
    if state.waiting is not None and state.phase == IDLE:
        waiting = state.waiting
        state, more = _start(dataclasses.replace(state, waiting=None), waiting, now, settings)
        commands.extend(more)
    return state, tuple(commands)


def _failed(state: ReaderState, now: float, settings: Settings, *, error: str, kill: bool, reason: str = "deadline") -> Step:
    """The running read failed without an answer (killed, crashed): say so to its view; a new process next time."""
    running = state.running
    commands: list[Command] = []
    if kill:
        commands.append(KillFetch(LOG_READER, state.generation, state.seq, reason))
    commands.append(LogEvent(LOG_READER, state.generation, "failed", now, detail=error))
    state = dataclasses.replace(
        state, phase=IDLE, running=None, generation=state.generation + 1, child_ready=False,
        started_at=None, startup_by=None, deadline_at=None,
    )
    if running is not None:
        page = LogPage(request=running.request, error=error)
        state, page = _schedule_follow(state, running, page, now, settings)
        commands.append(Publish(page))
    return _next(state, now, settings, commands)


def _tick(state: ReaderState, now: float, settings: Settings) -> Step:
    if state.phase == FETCHING and not state.child_ready and state.startup_by is not None and now >= state.startup_by:
        error = (
            f"the log reader did not start within {settings.supervision.startup_deadline_s:g} s "
            "(loading the Cloud Logging client); killed"
        )
        return _failed(state, now, settings, error=error, kill=True, reason="startup")
    if state.phase == FETCHING and state.deadline_at is not None and now >= state.deadline_at:
        error = f"log read timed out after {settings.api.log_read_deadline_s:g} s (api.log_read_deadline_s); read killed"
        return _failed(state, now, settings, error=error, kill=True)
    if state.phase == IDLE and state.following is not None and state.due_at is not None and now >= state.due_at:
        follow_up = state.following
        return _start(dataclasses.replace(state, following=None, due_at=None), follow_up, now, settings)
    return state, ()


def _gone(state: ReaderState, gone: ChildGone, now: float, settings: Settings) -> Step:
    commands: list[Command] = []
    if gone.killed:
        latency = None if gone.kill_s is None else round(gone.kill_s, 3)
        commands.append(LogEvent(LOG_READER, gone.generation, "killed", now, duration_s=latency, detail=gone.cause))
    if state.phase == FETCHING and gone.generation == state.generation and gone.seq is not None and gone.seq == state.seq:
        state, more = _failed(state, now, settings, error=f"the log reader died ({gone.cause})", kill=False)
        return state, (*commands, *more)
    if gone.generation == state.generation:
        state = dataclasses.replace(state, generation=state.generation + 1, child_ready=False)
    return state, tuple(commands)


__all__ = ["LOG_EVENTS", "ReaderState", "concerns", "handle", "next_tick_at"]
