"""What the screen shows, as one immutable value, and the pure functions that change it.

``UiState`` holds what the system told us (the latest snapshot per table, the
fetch in flight per table, whether auto-refresh is paused, recent notices) and
the local view state (focused table, selected row per table, filter, open
detail view, help). ``receive`` folds in a message from the system; ``press``
turns a key into a new state plus the commands to send to the system. Neither
does I/O or reads a clock: ``now`` is always passed in.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from arr_actors.inert import inert, is_inert
from arr_actors.messages import (
    FetchStarted,
    Notice,
    PauseChanged,
    RefreshRequest,
    Row,
    SetPaused,
    TableSnapshot,
)
from arr_actors.tables import TABLE_KEYS, active_first, table
from ui import keys

#: How long a notice stays in the footer, by level (errors longest).
TOAST_SECONDS = {"info": 4.0, "warning": 8.0, "error": 20.0}
MAX_TOASTS = 5


@dataclass(frozen=True, slots=True)
class Quit:
    """Command: leave the program."""


@dataclass(frozen=True, slots=True)
class Toast:
    text: str
    level: str
    expires_at: float
    table: str = ""


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
    detail: Detail | None = None
    help_open: bool = False
    help_scroll: int = 0  # first line of the help shown (it scrolls on small screens)

    def replace(self, **changes: Any) -> UiState:
        return dataclasses.replace(self, **changes)


# ------------------------------------------------------------------ messages


def receive(state: UiState, message: object, *, now: float) -> UiState:
    """The state after one message from the system; unknown messages change nothing."""
    if isinstance(message, TableSnapshot):
        if message.table not in TABLE_KEYS:
            return state
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
    if isinstance(message, Notice):
        return add_toast(state, message.text, level=message.level, now=now, table=message.table)
    return state


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


def add_toast(state: UiState, text: str, *, level: str = "info", now: float, table: str = "") -> UiState:
    toast = Toast(text=text, level=level, expires_at=now + TOAST_SECONDS.get(level, 5.0), table=table)
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


# ---------------------------------------------------------------------- rows


def row_matches(row: Row, needle: str) -> bool:
    """Whether a row contains ``needle`` (already lower-cased) in any text field."""
    for f in dataclasses.fields(row):
        if f.name == "context":
            continue
        value = getattr(row, f.name)
        if not isinstance(value, str):
            continue
        # Matched as shown: "ev\u200bil" is on screen as "evil", so "evil" finds it.
        if needle in (value if is_inert(value) else inert(value)).lower():
            return True
    return False


def visible_rows(state: UiState, table_key: str) -> tuple[Row, ...]:
    """The rows a table shows, in order: filtered, active first in a table with a divider."""
    snapshot = state.snapshots.get(table_key)
    if snapshot is None:
        return ()
    rows = snapshot.rows
    if table(table_key).divider:
        rows = active_first(rows)
    needle = state.filter_text.strip().lower()
    if needle:
        rows = tuple(r for r in rows if row_matches(r, needle))
    return rows


def selected_index(state: UiState, table_key: str, rows: tuple[Row, ...]) -> int | None:
    """Index of the selected row: by key if still there, else the old position clamped."""
    if not rows:
        return None
    key, index = state.selection.get(table_key, ("", 0))
    if key:
        for i, row in enumerate(rows):
            if row.key == key:
                return i
    return max(0, min(index, len(rows) - 1))


def _select(state: UiState, table_key: str, rows: tuple[Row, ...], index: int) -> UiState:
    if not rows:
        return state
    index = max(0, min(index, len(rows) - 1))
    return state.replace(selection={**state.selection, table_key: (rows[index].key, index)})


def find_row(state: UiState, table_key: str, key: str) -> Row | None:
    snapshot = state.snapshots.get(table_key)
    if snapshot is None:
        return None
    for row in snapshot.rows:
        if row.key == key:
            return row
    return None


# ---------------------------------------------------------------------- keys


def context(state: UiState) -> str:
    if state.help_open:
        return "help"
    if state.detail is not None:
        return "detail"
    return "tables"


def press(
    state: UiState,
    key: str,
    *,
    now: float,
    page: int = 5,
    detail_max_scroll: int | None = None,
    help_max_scroll: int | None = None,
) -> tuple[UiState, tuple[object, ...], bool]:
    """Apply one key: the new state, the commands for the system, and whether
    the key was handled (unhandled keys go back to urwid)."""
    if state.filter_editing:
        handled = _filter_key(state, key)
        if handled is not None:
            return handled, (), True
    action = keys.action_for(key, context(state))
    if action is None:
        return state, (), False
    return _act(state, action, now=now, page=page, detail_max_scroll=detail_max_scroll, help_max_scroll=help_max_scroll)


def _filter_key(state: UiState, key: str) -> UiState | None:
    if key == "enter":
        return state.replace(filter_editing=False)
    if key == "esc":
        return state.replace(filter_editing=False, filter_text="")
    if key == "backspace":
        return state.replace(filter_text=state.filter_text[:-1])
    if len(key) == 1 and key.isprintable():
        return state.replace(filter_text=state.filter_text + key)
    return None  # navigation keys still work while typing


def _act(
    state: UiState, action: str, *, now: float, page: int, detail_max_scroll: int | None, help_max_scroll: int | None
) -> tuple[UiState, tuple[object, ...], bool]:
    focus = state.focus
    if action == "quit":
        return state, (Quit(),), True
    if action == "refresh":
        title = table(focus).title
        return add_toast(state, f"refresh requested: {title}", now=now), (RefreshRequest(focus),), True
    if action == "refresh_all":
        return add_toast(state, "refresh requested: every table", now=now), (RefreshRequest(""),), True
    if action == "pause":
        paused = not state.paused
        return state.replace(paused=paused), (SetPaused(paused),), True
    if action == "help_open":
        return state.replace(help_open=True, help_scroll=0), (), True
    if action == "help_close":
        return state.replace(help_open=False), (), True
    if action in ("table_next", "table_prev"):
        step = 1 if action == "table_next" else -1
        index = (TABLE_KEYS.index(focus) + step) % len(TABLE_KEYS)
        return state.replace(focus=TABLE_KEYS[index]), (), True
    if action == "filter_start":
        return state.replace(filter_editing=True), (), True
    if action == "filter_clear":
        if not state.filter_text and not state.filter_editing:
            return state, (), False
        return state.replace(filter_text="", filter_editing=False), (), True
    if action == "detail_open":
        return _open_detail(state), (), True
    if action == "detail_close":
        return state.replace(detail=None), (), True
    if action.startswith("scroll_") and state.help_open:
        return state.replace(help_scroll=_scrolled(state.help_scroll, action, page, help_max_scroll)), (), True
    if action.startswith("scroll_") and state.detail is not None:
        scroll = _scrolled(state.detail.scroll, action, page, detail_max_scroll)
        return state.replace(detail=dataclasses.replace(state.detail, scroll=scroll)), (), True
    rows = visible_rows(state, focus)
    current = selected_index(state, focus, rows)
    if current is None:
        return state, (), True
    moves = {
        "row_up": current - 1,
        "row_down": current + 1,
        "page_up": current - page,
        "page_down": current + page,
        "row_first": 0,
        "row_last": len(rows) - 1,
    }
    if action in moves:
        return _select(state, focus, rows, moves[action]), (), True
    return state, (), False


def _open_detail(state: UiState) -> UiState:
    rows = visible_rows(state, state.focus)
    index = selected_index(state, state.focus, rows)
    if index is None:
        return state.replace(detail=Detail(table=state.focus), filter_editing=False)
    row = rows[index]
    return state.replace(detail=Detail(table=state.focus, key=row.key, row=row), filter_editing=False)


def _scrolled(scroll: int, action: str, page: int, max_scroll: int | None) -> int:
    """The first line shown after a scroll key, within 0..``max_scroll`` (unknown: a page further)."""
    top = max_scroll if max_scroll is not None else scroll + page
    target = {
        "scroll_up": scroll - 1,
        "scroll_down": scroll + 1,
        "scroll_page_up": scroll - page,
        "scroll_page_down": scroll + page,
        "scroll_top": 0,
        "scroll_bottom": top,
    }[action]
    return max(0, min(target, top))


__all__ = [
    "Detail",
    "Quit",
    "Toast",
    "UiState",
    "add_toast",
    "fetch_in_flight",
    "find_row",
    "live_toasts",
    "press",
    "receive",
    "row_matches",
    "selected_index",
    "visible_rows",
]
