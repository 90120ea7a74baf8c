"""Which rows a table shows, in which order, and which of them is selected.

Pure functions of the ``UiState`` (``arr_actors_ui.model``): the active rows
first in a table with a divider, sorted when asked, filtered, cut to what the
table shows; a row being cancelled shows as CANCELLING. ``visible_rows`` is
asked several times a frame, so its answer is remembered per table.
"""

from __future__ import annotations

import dataclasses

from arr_actors.messages import Row, TableSnapshot
from arr_actors.tables import TableSpec, active_first, table
from arr_actors_ui import query
from arr_actors_ui.columns import runtime_columns
from arr_actors_ui.model import CANCELLING, UiState


def filters_apply(state: UiState, table_key: str) -> bool:
    """Whether the text and state filters apply to a table (scope: all or one)."""
    return state.filter_all or state.filter_table == table_key


def filter_error(state: UiState) -> str:
    """Why the filter text filters nothing (it is not a valid expression), or ""."""
    return query.compile_filter(state.filter_text).error


def filtering(state: UiState, table_key: str) -> bool:
    """Whether a filter hides rows of this table."""
    if not filters_apply(state, table_key):
        return False
    return bool(state.state_filter) or query.compile_filter(state.filter_text).pattern is not None


def visible_rows(state: UiState, table_key: str, *, now: float | None = None) -> tuple[Row, ...]:
    """The rows a table shows, in order: active first in a table with a divider,
    sorted when asked, then filtered.

    ``now`` matters only to a sort by runtime (running rows count on); without
    it the snapshot's own time stands in.

    The answer is remembered per table until something it depends on changes:
    the screen asks several times a frame and once a second while nothing
    happens, so an idle frame costs what is on screen, not the table's length.
    """
    snapshot = state.snapshots.get(table_key)
    if snapshot is None:
        return ()
    order = state.sort.get(table_key)
    spec = table(table_key)
    timed = order is not None and order.column in runtime_columns(spec)
    at = (now if now is not None else snapshot.updated_at) if timed else None
    applies = filters_apply(state, table_key)
    limit = state.shown.get(table_key) if not (state.zoomed and state.focus == table_key) else None
    inputs = (order, at, state.cancelling, (state.filter_text, state.state_filter) if applies else None, limit)
    known = _VISIBLE.get(table_key)
    if known is not None and known[0] is snapshot and known[1] == inputs:
        return known[2]
    rows = _visible(state, snapshot, spec, order, now=at if at is not None else snapshot.updated_at, filtered=applies)
    if limit is not None:
        rows = rows[:limit]
    _VISIBLE[table_key] = (snapshot, inputs, rows)
    return rows


#: The last answer of ``visible_rows`` per table: the snapshot it came from (by
#: identity: snapshots are immutable and replaced, never changed), what else it
#: depended on, and the rows. One entry per table, so it holds nothing the
#: state does not hold already.
_VISIBLE: dict[str, tuple[TableSnapshot, tuple[object, ...], tuple[Row, ...]]] = {}


def _visible(
    state: UiState, snapshot: TableSnapshot, spec: TableSpec, order: query.SortOrder | None, *, now: float,
    filtered: bool,
) -> tuple[Row, ...]:
    rows = snapshot.rows
    if order is not None:
        if spec.divider:
            active = tuple(r for r in rows if r.active)
            done = tuple(r for r in rows if not r.active)
            rows = query.sort_rows(active, spec, order, now=now) + query.sort_rows(done, spec, order, now=now)
        else:
            rows = query.sort_rows(rows, spec, order, now=now)
    elif spec.divider:
        rows = active_first(rows)
    if state.cancelling:
        rows = _shown_cancelling(state, snapshot.table, rows)
    if filtered:
        rows = query.filter_rows(rows, text=state.filter_text, state=state.state_filter)
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


def select(state: UiState, table_key: str, rows: tuple[Row, ...], index: int) -> UiState:
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


def _shown_cancelling(state: UiState, table_key: str, rows: tuple[Row, ...]) -> tuple[Row, ...]:
    prefix = table_key + "/"
    if not any(k.startswith(prefix) for k in state.cancelling):
        return rows
    out = []
    for row in rows:
        if prefix + row.key in state.cancelling and row.active:
            status_field = "state" if hasattr(row, "state") else "status"
            row = dataclasses.replace(row, **{status_field: CANCELLING})
        out.append(row)
    return tuple(out)


__all__ = ["filter_error", "filtering", "filters_apply", "find_row", "select", "selected_index", "visible_rows"]
