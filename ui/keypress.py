"""Keys: what a key press does to the screen's state, and the commands it sends.

``press`` turns one key into a new state, the commands for the system and
whether the key was handled; like the rest of the model it is pure (``now``
is passed in). Cancelling asks first: ``ctrl k`` opens a confirmation naming
the item, and only ``y``/``enter`` sends the action. ``l`` opens the selected
row's full log: the view is made here and a ``LogRequest`` goes to the system;
closing it sends ``LogStop``.
"""

from __future__ import annotations

import dataclasses
import time

from arr_actors.messages import (
    Action,
    ActionRequest,
    LogRequest,
    LogStop,
    RefreshRequest,
    Row,
    SetPaused,
)
from arr_actors.tables import TABLE_KEYS, table
from arr_actors_ui import keys, logview, query
from arr_actors_ui.model import (
    CANCELLABLE,
    Confirm,
    Copy,
    Detail,
    Quit,
    SaveLog,
    UiState,
    add_toast,
)
from arr_actors_ui.visible import find_row, select, selected_index, visible_rows


def action_for_row(table_key: str, row: Row) -> Action:
    """The cancel of ``row``, named as a person reads it."""
    region = getattr(row, "region", "")
    if table_key == "vertex":
        name = f"Vertex AI job {getattr(row, 'display_name', '') or row.ident} ({row.ident})"
    elif table_key == "runner":
        name = f"runner execution {row.ident} ({region})"
    else:
        name = f"build {row.ident}"
    return Action("cancel", table_key, row.key, name, region, row.ident)


def _cancel(state: UiState, *, now: float) -> tuple[UiState, tuple[object, ...], bool]:
    """``ctrl k``: ask to cancel the selected row (nothing is sent before ``y``)."""
    if state.actions_disabled:
        return add_toast(state, f"{state.actions_disabled}: actions are disabled", level="warning", now=now), (), True
    table_key = state.detail.table if state.detail is not None else state.focus
    row = selected_row(state, now=now)
    if table_key not in CANCELLABLE:
        text = "only runner executions, Vertex AI jobs and builds can be cancelled"
        return add_toast(state, text, level="warning", now=now), (), True
    if row is None:
        return add_toast(state, "nothing to cancel: no row selected", level="warning", now=now), (), True
    if f"{table_key}/{row.key}" in state.cancelling:
        return add_toast(state, f"{row.ident} is already being cancelled", level="warning", now=now), (), True
    if not row.active:
        text = f"{row.ident} is not running ({row.status}): nothing to cancel"
        return add_toast(state, text, level="warning", now=now), (), True
    return state.replace(confirm=Confirm(action_for_row(table_key, row)), filter_editing=False), (), True


def _confirm_key(state: UiState, key: str, *, now: float) -> tuple[UiState, tuple[object, ...], bool]:
    confirm = state.confirm
    if confirm is None:
        return state, (), False
    if key in ("y", "Y", "enter"):
        action = confirm.action
        state = state.replace(confirm=None, cancelling={**state.cancelling, f"{action.table}/{action.key}": action})
        return add_toast(state, f"cancelling {action.name}", now=now), (ActionRequest(action),), True
    if key in ("n", "N", "esc"):
        return add_toast(state.replace(confirm=None), f"kept {confirm.action.name}", now=now), (), True
    return state, (), True  # nothing else while the question is open





def press(
    state: UiState,
    key: str,
    *,
    now: float,
    page: int = 5,
    detail_max_scroll: int | None = None,
    help_max_scroll: int | None = None,
    log_rows: int | None = None,
) -> tuple[UiState, tuple[object, ...], bool]:
    """Apply one key: the new state, the commands for the system, and whether
    the key was handled (unhandled keys go back to urwid). ``log_rows`` is how
    many log lines the screen shows (the log view scrolls by it)."""
    if state.confirm is not None:
        return _confirm_key(state, key, now=now)
    if state.log is not None and log_rows is not None and state.log.height != log_rows:
        # The screen's size or footer changed: the view keeps what it showed (the screen clamps the same way).
        view, height = state.log, max(1, log_rows)
        top = view.top if view.wrap else min(view.top, max(0, len(view.lines) - height))
        state = state.replace(log=view.replace(height=height, top=top))
    if state.log is not None and state.log.editing and not state.help_open and not state.health_open:
        return _log_search_key(state, key), (), True
    if state.filter_editing:
        handled = _filter_key(state, key)
        if handled is not None:
            return handled, (), True
    action = keys.action_for(key, keys.context(state))
    if action is None:
        return state, (), False
    return _act(
        state, action, now=now, page=page, detail_max_scroll=detail_max_scroll, help_max_scroll=help_max_scroll,
        log_rows=log_rows,
    )


def _open_log(state: UiState, *, now: float, rows: int) -> tuple[UiState, tuple[object, ...], bool]:
    """Open the full log of the selected row (or of the open detail view's row) and ask for it."""
    if state.replay:
        return add_toast(state, "the log view needs the live monitor: a replay has no cloud to read logs from", level="warning", now=now), (), True
    row = selected_row(state, now=now)
    table_key = state.detail.table if state.detail is not None else state.focus
    if row is None:
        return add_toast(state, "no row selected: select an execution, a job or a build", level="warning", now=now), (), True
    source = logview.source_for(table_key, row)
    if source is None:
        return add_toast(state, f"{table(table_key).title} have no Cloud Logging log; C copies the run's URL", level="warning", now=now), (), True
    serial = state.log_serial + 1
    preview = getattr(row, "context", ()) if table_key == "runner" else ()
    view = logview.requested(
        serial, source, follow=row.active, preview=preview, max_lines=state.log_max_lines, height=max(1, rows),
        every=state.log_follow_s,
    )
    request = LogRequest(request=serial, source=source, follow=row.active)
    return state.replace(log=view, log_serial=serial, filter_editing=False), (request,), True


def _log_key(state: UiState, action: str, *, now: float) -> tuple[UiState, tuple[object, ...], bool]:
    view = state.log
    if view is None:
        return state, (), False
    height = view.height
    if action == "log_close":
        return state.replace(log=None), (LogStop(view.request),), True
    if action.startswith("scroll_"):
        return state.replace(log=logview.scrolled(view, action, height=height)), (), True
    if action == "log_search":
        return state.replace(log=view.replace(editing=True, typed="")), (), True
    if action in ("log_next", "log_prev"):
        if not view.search:
            return add_toast(state, "no search yet: / starts one", level="warning", now=now), (), True
        found = logview.searched(view, view.search, height=height, forward=action == "log_next")
        state = state.replace(log=found)
        if found.match is None:
            state = add_toast(state, f"not found: {view.search}", level="warning", now=now)
        return state, (), True
    if action == "log_error":
        if view.error is None:
            return add_toast(state, "no error line found in this log", level="warning", now=now), (), True
        return state.replace(log=view.replace(top=max(0, min(view.error - height // 3, len(view.lines) - height)))), (), True
    if action == "log_wrap":
        return state.replace(log=logview.toggled(view, "wrap")), (), True
    if action == "log_follow":
        if not view.follow:
            return add_toast(state, "this log is not followed: the item is not running", level="warning", now=now), (), True
        return state.replace(log=logview.toggled(view, "pause")), (), True
    if action == "log_save":
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
        ident = "".join(c if c.isalnum() or c in "-_." else "_" for c in (view.source.ident if view.source else "log"))
        path = f"arr-log-{ident[:60]}-{stamp}.txt"
        return state, (SaveLog(path, logview.saved_text(view)),), True
    return state, (), False


def _log_search_key(state: UiState, key: str) -> UiState:
    """A key while the log search is typed: enter runs it, esc drops it."""
    view = state.log
    assert view is not None
    if key == "enter":
        found = logview.searched(view.replace(editing=False), view.typed, height=view.height)
        return state.replace(log=found)
    if key == "esc":
        return state.replace(log=view.replace(editing=False, typed=""))
    if key == "backspace":
        return state.replace(log=view.replace(typed=view.typed[:-1]))
    if len(key) == 1 and key.isprintable():
        return state.replace(log=view.replace(typed=view.typed + key))
    return state


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
    state: UiState,
    action: str,
    *,
    now: float,
    page: int,
    detail_max_scroll: int | None,
    help_max_scroll: int | None,
    log_rows: int | None = None,
) -> tuple[UiState, tuple[object, ...], bool]:
    focus = state.focus
    if action == "quit":
        return state, (Quit(),), True
    if action in ("refresh", "refresh_all") and state.replay:
        return add_toast(state, "replay: the recording cannot be refreshed", level="warning", now=now), (), True
    if action == "cancel":
        return _cancel(state, now=now)
    if action == "log_open":
        return _open_log(state, now=now, rows=page if log_rows is None else log_rows)
    if action.startswith("log_") or (action.startswith("scroll_") and state.log is not None and not state.help_open):
        return _log_key(state, action, now=now)
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
    if action == "health_open":
        return state.replace(health_open=True, filter_editing=False), (), True
    if action == "health_close":
        return state.replace(health_open=False), (), True
    if action in ("table_next", "table_prev"):
        step = 1 if action == "table_next" else -1
        index = (TABLE_KEYS.index(focus) + step) % len(TABLE_KEYS)
        return state.replace(focus=TABLE_KEYS[index]), (), True
    if action == "zoom":
        return state.replace(zoomed=not state.zoomed), (), True
    if action == "filter_start":
        return state.replace(filter_editing=True, filter_table=focus), (), True
    if action == "filter_scope":
        return state.replace(filter_all=not state.filter_all, filter_table=focus), (), True
    if action == "state_filter_next":
        options = query.STATE_FILTERS
        index = options.index(state.state_filter) if state.state_filter in options else 0
        return state.replace(state_filter=options[(index + 1) % len(options)], filter_table=focus), (), True
    if action in ("sort_next", "sort_reverse"):
        return state.replace(sort=_sorted_by(state, action)), (), True
    if action == "filter_clear":
        if not state.filter_text and not state.filter_editing and not state.state_filter:
            return state, (), False
        return state.replace(filter_text="", filter_editing=False, state_filter=""), (), True
    if action == "detail_open":
        return _open_detail(state, now=now), (), True
    if action in ("copy_id", "copy_link"):
        return _copy(state, action, now=now)
    if action == "detail_close":
        return state.replace(detail=None), (), True
    if action in ("chain_next", "chain_prev"):
        from arr_actors_ui import chain  # ui.chain reads this module's selection helpers

        jumped = chain.jump(state, forward=action == "chain_next")
        if jumped is None:
            return add_toast(state, "no other row of this chain in the tables", now=now), (), True
        return jumped, (), True
    if action.startswith("scroll_") and state.help_open:
        return state.replace(help_scroll=_scrolled(state.help_scroll, action, page, help_max_scroll)), (), True
    if action.startswith("scroll_") and state.detail is not None:
        scroll = _scrolled(state.detail.scroll, action, page, detail_max_scroll)
        return state.replace(detail=dataclasses.replace(state.detail, scroll=scroll)), (), True
    rows = visible_rows(state, focus, now=now)
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
        return select(state, focus, rows, moves[action]), (), True
    return state, (), False


def _copy(state: UiState, action: str, *, now: float) -> tuple[UiState, tuple[object, ...], bool]:
    """Copy the id or link of the selected row (or of the open detail view's row)."""
    row = selected_row(state, now=now)
    if row is None:
        return add_toast(state, "nothing to copy: no row selected", level="warning", now=now), (), True
    text = row.ident if action == "copy_id" else row.link
    if not text:
        return add_toast(state, f"{row.ident} has no URL to copy", level="warning", now=now), (), True
    return add_toast(state, f"copied: {text}", now=now, whole=True), (Copy(text),), True


def selected_row(state: UiState, *, now: float) -> Row | None:
    """The row the user has in hand: the open detail view's, else the focused table's selection."""
    if state.detail is not None:
        if not state.detail.key:
            return None
        return find_row(state, state.detail.table, state.detail.key) or state.detail.row
    rows = visible_rows(state, state.focus, now=now)
    index = selected_index(state, state.focus, rows)
    return None if index is None else rows[index]


def _sorted_by(state: UiState, action: str) -> dict[str, query.SortOrder]:
    """The sort orders after ``s`` (next column; past the last, the table's own
    order again) or ``S`` (the other direction) on the focused table."""
    focus = state.focus
    columns = len(table(focus).columns)
    current = state.sort.get(focus)
    others = {k: v for k, v in state.sort.items() if k != focus}
    if action == "sort_reverse":
        order = query.SortOrder(0, True) if current is None else query.SortOrder(current.column, not current.descending)
        return {**others, focus: order}
    column = 0 if current is None else current.column + 1
    if column >= columns:
        return others
    return {**others, focus: query.SortOrder(column, current.descending if current else False)}


def _open_detail(state: UiState, *, now: float) -> UiState:
    rows = visible_rows(state, state.focus, now=now)
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


__all__ = ["action_for_row", "press", "selected_row"]
