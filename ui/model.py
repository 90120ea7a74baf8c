"""What the screen shows, as one immutable value, and the pure functions that change it.

``UiState`` holds what the system told us (the latest snapshot per table, the
fetch in flight per table, whether auto-refresh is paused, recent notices) and
the local view state (focused table, selected row per table, filter, open
detail view, help). ``receive`` folds in a message from the system
(``keypress.press`` turns a key into a new state plus the commands to send to
the system). Neither does I/O or reads a clock: ``now`` is always passed in.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from arr_actors.messages import (
    Action,
    ActionDone,
    FetchStarted,
    LogPage,
    Notice,
    PauseChanged,
    PlaybackEnded,
    Row,
    TableSnapshot,
)
from arr_actors.tables import TABLE_KEYS
from arr_actors_ui import alerts, health, logview, query

#: How long a notice stays in the footer, by level (errors longest).
TOAST_SECONDS = {"info": 4.0, "warning": 8.0, "error": 20.0}
MAX_TOASTS = 5


@dataclass(frozen=True, slots=True)
class Quit:
    """Command: leave the program."""


@dataclass(frozen=True, slots=True)
class Copy:
    """Command to the terminal: put ``text`` on the clipboard (OSC 52)."""

    text: str


@dataclass(frozen=True, slots=True)
class SaveLog:
    """Command to the screen's side: write ``text`` to a new file ``path``."""

    path: str
    text: str


@dataclass(frozen=True, slots=True)
class Confirm:
    """A question on screen: carry out ``action``? (``y``/``enter`` yes, ``n``/``esc`` no)."""

    action: Action


@dataclass(frozen=True, slots=True)
class Toast:
    text: str
    level: str
    expires_at: float
    table: str = ""
    #: Shown whole, over as many footer lines as it needs (a copied id or URL).
    whole: bool = False


@dataclass(frozen=True, slots=True)
class Detail:
    """An open detail view: of one row (``key``), or of the table itself
    (``key`` empty) when it has no row to show. ``row`` is the copy taken when
    the view opened, shown if the row drops out of later refreshes."""

    table: str
    key: str = ""
    row: Row | None = None
    scroll: int = 0


@dataclass(frozen=True, slots=True)
class UiState:
    snapshots: Mapping[str, TableSnapshot] = field(default_factory=dict)
    fetching: Mapping[str, FetchStarted] = field(default_factory=dict)
    paused: bool = False
    toasts: tuple[Toast, ...] = ()
    focus: str = TABLE_KEYS[0]
    #: table -> (row key, row index) last selected; the index is the fallback
    #: when the key is gone from a newer snapshot.
    selection: Mapping[str, tuple[str, int]] = field(default_factory=dict)
    filter_text: str = ""
    filter_editing: bool = False
    #: Quick filter by state (one of ``query.STATE_FILTERS``).
    state_filter: str = ""
    #: Whether the filters apply to every table, or only to ``filter_table``.
    filter_all: bool = True
    filter_table: str = ""
    #: table -> the column it is sorted by; a table not here keeps its own order.
    sort: Mapping[str, query.SortOrder] = field(default_factory=dict)
    detail: Detail | None = None
    help_open: bool = False
    help_scroll: int = 0  # first line of the help shown (it scrolls on small screens)
    health_open: bool = False
    #: Finished executions and jobs seen since start (``table/key`` -> row),
    #: for region health: they stay counted after they leave a table's window.
    history: Mapping[str, Row] = field(default_factory=dict)
    #: Cloud Logging ``entries.list`` calls allowed per minute (the status line shows what is left).
    logging_budget: int = 60
    #: When the monitor started: snapshots fetched before (a warm start) never alert.
    started_at: float = 0.0
    #: Tables whose newly failed rows alert, those with a baseline already,
    #: every failure known so far (``alerts.failure_id``), and the alerts the
    #: actor has yet to ring (``take_alerts``).
    alert_tables: frozenset[str] = frozenset()
    alert_baseline: frozenset[str] = frozenset()
    known_failures: frozenset[str] = frozenset()
    pending_alerts: tuple[alerts.Alert, ...] = ()
    #: Why actions are off ("read-only", "replay"), "" when they are on.
    actions_disabled: str = ""
    #: A replay: nothing can be refreshed; ``replay_ended_at``: its recording is
    #: over, and what it shows stands still at that moment (notices go on).
    replay: bool = False
    replay_ended_at: float | None = None
    confirm: Confirm | None = None
    #: The open log view (``l``), and the number of the last log asked for.
    log: logview.LogView | None = None
    log_serial: int = 0
    #: Lines the log view keeps (``api.log_max_lines``).
    log_max_lines: int = logview.MAX_LINES
    #: Seconds between reads while following a log (``api.log_follow_s``).
    log_follow_s: float = 10.0
    #: The log reader's Cloud Logging calls (when, how many) and its last view of the
    #: project's limiter (when, calls in the last minute), for the status line.
    reader_calls: tuple[tuple[float, int], ...] = ()
    reader_logging_used: tuple[float, int] | None = None
    #: ``table/key`` -> the cancel asked for: the row shows CANCELLING until
    #: the service says so itself, or the row is over, or the cancel failed.
    cancelling: Mapping[str, Action] = field(default_factory=dict)
    #: Rows a table shows unless zoomed (its ``limit``; it may keep more, its
    #: ``history``); a table not named shows every row it has.
    shown: Mapping[str, int] = field(default_factory=dict)
    zoomed: bool = False  # the focused table alone, at full height, with its history

    def replace(self, **changes: Any) -> UiState:
        return dataclasses.replace(self, **changes)


# ------------------------------------------------------------------ messages


def receive(state: UiState, message: object, *, now: float) -> UiState:
    """The state after one message from the system; unknown messages change nothing."""
    if isinstance(message, TableSnapshot):
        if message.table not in TABLE_KEYS:
            return state
        state = _watch_failures(state, message, now=now)
        if message.table in health.TABLES:
            state = _remember(state, message)
        if state.cancelling:
            state = _cancels_confirmed(state, message)
        return state.replace(
            snapshots={**state.snapshots, message.table: message},
            fetching=_fetching_after(state.fetching, message),
        )
    if isinstance(message, FetchStarted):
        if message.table not in TABLE_KEYS:
            return state
        return state.replace(fetching={**state.fetching, message.table: message})
    if isinstance(message, PauseChanged):
        return state.replace(paused=message.paused)
    if isinstance(message, PlaybackEnded):
        return state.replace(replay_ended_at=message.at)
    if isinstance(message, ActionDone):
        if not message.error:
            return state
        gone = f"{message.action.table}/{message.action.key}"
        return state.replace(cancelling={k: v for k, v in state.cancelling.items() if k != gone})
    if isinstance(message, Notice):
        return add_toast(state, message.text, level=message.level, now=now, table=message.table)
    if isinstance(message, LogPage):
        if message.done and (message.calls or message.logging_used is not None):
            recent = tuple(c for c in state.reader_calls if now - c[0] < USAGE_WINDOW_S)
            used = (now, message.logging_used) if message.logging_used is not None else state.reader_logging_used
            state = state.replace(reader_calls=(*recent, (now, message.calls)), reader_logging_used=used)
        if state.log is None:
            return state
        return state.replace(log=logview.received(state.log, message, height=state.log.height))
    return state


def _watch_failures(state: UiState, snapshot: TableSnapshot, *, now: float) -> UiState:
    """Note the rows of ``snapshot`` that newly failed: a notice each, and an
    alert for the actor to ring (see ``ui.alerts``)."""
    table_key = snapshot.table
    if table_key not in state.alert_tables or snapshot.fetched_at is None or snapshot.fetched_at < state.started_at:
        return state
    if table_key not in state.alert_baseline:
        return state.replace(
            alert_baseline=state.alert_baseline | {table_key},
            known_failures=state.known_failures | alerts.known_failures(table_key, snapshot.rows),
        )
    failed = alerts.new_failures(table_key, snapshot.rows, started_at=state.started_at, known=state.known_failures)
    if not failed:
        return state
    new = tuple(alerts.Alert(table_key, row.key, alerts.describe(table_key, row)) for row in failed)
    for alert in new:
        state = add_toast(state, alert.text, level="error", now=now, table=table_key)
    return state.replace(
        known_failures=state.known_failures | {alerts.failure_id(table_key, row) for row in failed},
        pending_alerts=state.pending_alerts + new,
    )


#: The most finished rows remembered for region health.
MAX_HISTORY = 5000


def _remember(state: UiState, snapshot: TableSnapshot) -> UiState:
    """Keep the finished rows of a snapshot for region health (a day's worth)."""
    finished = {f"{snapshot.table}/{row.key}": row for row in snapshot.rows if not row.active}
    if not finished:
        return state
    history = {**state.history, **finished}
    if len(history) > MAX_HISTORY:
        horizon = snapshot.updated_at - health.DAY
        history = {k: r for k, r in history.items() if (alerts.ended_at(r) or r.created_at) >= horizon}
        if len(history) > MAX_HISTORY:
            history = dict(list(history.items())[-MAX_HISTORY:])
    return state.replace(history=history)


#: The minute the status line counts calls over.
USAGE_WINDOW_S = 60.0


def api_usage(state: UiState, now: float | None = None) -> tuple[tuple[tuple[str, int], ...], int | None]:
    """Cloud calls per service in the last minute, every table and the log
    reader together, and the Cloud Logging calls left in the budget (None: no
    process reported it). ``now`` None counts the log reader's reads whenever they were."""
    totals: dict[str, int] = {}
    used: int | None = None
    for snapshot in state.snapshots.values():
        for service, n in snapshot.calls:
            totals[service] = totals.get(service, 0) + n
        if snapshot.logging_used is not None:
            used = max(used or 0, snapshot.logging_used)
    reads = sum(n for at, n in state.reader_calls if now is None or now - at < USAGE_WINDOW_S)
    if reads:
        totals["logging"] = totals.get("logging", 0) + reads
    reader = state.reader_logging_used
    if reader is not None and (now is None or now - reader[0] < USAGE_WINDOW_S):
        used = max(used or 0, reader[1])
    left = None if used is None else max(0, state.logging_budget - used)
    return tuple(sorted(totals.items())), left


#: Tables whose rows can be cancelled, and the row states that can be.
CANCELLABLE = ("runner", "vertex", "builds")
#: The status a row shows while its cancel request is on its way.
CANCELLING = "CANCELLING"


def _cancels_confirmed(state: UiState, snapshot: TableSnapshot) -> UiState:
    """Forget the cancels the service has confirmed: the row is over, or says CANCELLING itself."""
    keep = dict(state.cancelling)
    for row in snapshot.rows:
        mark = f"{snapshot.table}/{row.key}"
        if mark in keep and (not row.active or row.status == CANCELLING):
            del keep[mark]
    return state if len(keep) == len(state.cancelling) else state.replace(cancelling=keep)


def take_alerts(state: UiState) -> tuple[UiState, tuple[alerts.Alert, ...]]:
    """The alerts not rung yet, and the state without them."""
    if not state.pending_alerts:
        return state, ()
    return state.replace(pending_alerts=()), state.pending_alerts


def _fetching_after(fetching: Mapping[str, FetchStarted], snapshot: TableSnapshot) -> dict[str, FetchStarted]:
    """The fetches in flight once ``snapshot`` is in.

    A snapshot says whether a fetch is running (``fetch_deadline_at``): the
    outcome of a fetch (success, error, kill) says none is, a snapshot taken
    mid-fetch (a restart, a pause) says one still is.
    """
    others = {k: v for k, v in fetching.items() if k != snapshot.table}
    if snapshot.fetch_deadline_at is None:
        return others
    started = fetching.get(snapshot.table)
    if started is None or started.deadline_at != snapshot.fetch_deadline_at:
        started = FetchStarted(
            table=snapshot.table,
            generation=started.generation if started else 0,
            started_at=started.started_at if started else snapshot.updated_at,
            deadline_at=snapshot.fetch_deadline_at,
        )
    return {**others, snapshot.table: started}


def add_toast(
    state: UiState, text: str, *, level: str = "info", now: float, table: str = "", whole: bool = False
) -> UiState:
    toast = Toast(text=text, level=level, expires_at=now + TOAST_SECONDS.get(level, 5.0), table=table, whole=whole)
    live = tuple(t for t in state.toasts if t.expires_at > now)
    return state.replace(toasts=(*live, toast)[-MAX_TOASTS:])


def live_toasts(state: UiState, now: float) -> tuple[Toast, ...]:
    return tuple(t for t in state.toasts if t.expires_at > now)


def fetch_in_flight(state: UiState, table_key: str, now: float) -> FetchStarted | None:
    """The fetch running for a table, if it is still within its deadline.

    Past the deadline the watchdog kills it and reports; until that report
    arrives the spinner stops anyway, so a spinner never outlives a deadline.
    """
    started = state.fetching.get(table_key)
    if started is None or now >= started.deadline_at:
        return None
    return started


__all__ = [
    "CANCELLABLE",
    "CANCELLING",
    "Confirm",
    "Copy",
    "Detail",
    "Quit",
    "Toast",
    "UiState",
    "add_toast",
    "api_usage",
    "fetch_in_flight",
    "live_toasts",
    "receive",
    "take_alerts",
]
