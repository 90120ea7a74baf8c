"""Table cells and column widths, remembered between frames.

The screen redraws every second, yet only a running row's runtime changes with
the time (the rest only when the day does), so a row's cell texts are cached
per row and asked for again with the time that matters to them; widths are
cached per layout.

What is remembered is bounded by what is on screen, not by how long the
monitor runs: the cell cache holds about a screen's worth of rows, and a
table's widths are remembered for its current rows only (one entry per table,
replaced by the next snapshot). So a table of a thousand rows costs its width
pass once per snapshot (and per day), then only its running rows each second.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import NamedTuple

from arr_actors.messages import Row
from arr_actors.tables import Column, TableSpec
from arr_actors.timefmt import day_start, format_clock, format_span
from arr_actors_ui import palette
from arr_actors_ui.context import RenderContext
from arr_actors_ui.text import width_of


def cell_text(row: Row, column: Column, *, now: float, fetched_at: float | None, ctx: RenderContext) -> str:
    """The text of one cell (already inert)."""
    kind = column.kind
    if kind == "runtime":
        seconds = row.runtime(now, fetched_at=fetched_at)
        return "-" if seconds is None else format_span(seconds)
    value = getattr(row, column.field)
    if kind == "clock":
        return format_clock(value, now)
    if value is None:
        return "-"
    if kind == "basename" and isinstance(value, str):
        value = value.rsplit("/", 1)[-1]
    if kind == "suffix" and isinstance(value, str):
        value = value.rsplit("-", 1)[-1]
    return ctx.text(str(value))


def cell_style(row: Row, column: Column) -> str:
    if column.kind == "status":
        return palette.status_style(str(getattr(row, column.field, "")))
    if column.kind == "note":
        return "error" if palette.status_style(row.status) == "status_failed" else "dim"
    return "body"


@functools.lru_cache(maxsize=16)
def runtime_columns(spec: TableSpec) -> frozenset[int]:
    """The columns of a table whose cell changes with the time of day (a
    running row's runtime); every other cell changes only with the day."""
    return frozenset(i for i, column in enumerate(spec.columns) if column.kind == "runtime")


def row_cells(
    spec: TableSpec, row: Row, *, now: float, fetched_at: float | None, ctx: RenderContext
) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Every cell text of a row, and its width in columns (cached: see the module)."""
    texts, widths = _row_cells(spec, row, fetched_at, ctx, day_start(int(now)))
    if not row.is_running:
        return texts, widths
    # A running row's runtime counts on: that cell alone is new every second.
    texts_now, widths_now = list(texts), list(widths)
    for i in runtime_columns(spec):
        texts_now[i] = cell_text(row, spec.columns[i], now=now, fetched_at=fetched_at, ctx=ctx)
        widths_now[i] = width_of(texts_now[i])
    return tuple(texts_now), tuple(widths_now)


#: Rows whose cells (and drawn lines) are remembered: more than any screen shows
#: at once, so a redraw finds every shown row, and few enough that the memory
#: stays flat however many snapshots come and go.
ROW_CACHE_SIZE = 512


def _cells(
    spec: TableSpec, row: Row, fetched_at: float | None, ctx: RenderContext, now: float
) -> tuple[tuple[str, ...], tuple[int, ...]]:
    texts = tuple(cell_text(row, c, now=now, fetched_at=fetched_at, ctx=ctx) for c in spec.columns)
    return texts, tuple(width_of(text) for text in texts)


_row_cells = functools.lru_cache(maxsize=ROW_CACHE_SIZE)(_cells)


@functools.lru_cache(maxsize=256)
def column_widths(columns: tuple[Column, ...], avail: int, natural: tuple[int, ...] | None = None) -> tuple[int, ...]:
    """Widths that fit ``avail`` columns (one space between cells).

    Each column starts at its preferred width: ``natural`` (what its content
    needs, when known) within ``min_width``..``width``. Too wide: columns
    shrink toward their minimum, highest ``shrink_order`` first (the note
    column gives way first); if the minimums still do not fit, columns are
    hidden (width 0) in the same order. Room to spare goes first to the
    columns whose content is cut at their preferred width, by priority (lowest
    ``shrink_order`` first, so an id is shown whole before a note grows), each
    up to what its content needs; what is left goes to the column that gives
    way first, usually the note.
    """
    if natural is None:
        natural = tuple(c.width for c in columns)
    widths = [max(c.min_width, min(c.width, n)) for c, n in zip(columns, natural, strict=True)]
    need = sum(widths) + len(columns) - 1 - avail
    if need < 0:
        spare = -need
        for i in sorted(range(len(columns)), key=lambda i: (columns[i].shrink_order, i)):
            grow = min(spare, natural[i] - widths[i])
            if grow > 0:
                widths[i] += grow
                spare -= grow
        last = max(range(len(columns)), key=lambda i: (columns[i].shrink_order, i))
        widths[last] += spare
        return tuple(widths)
    for order in sorted({c.shrink_order for c in columns}, reverse=True):
        group = [i for i, c in enumerate(columns) if c.shrink_order == order]
        while need > 0:
            slack = [(widths[i] - columns[i].min_width, i) for i in group]
            most, index = max(slack)
            if most <= 0:
                break
            widths[index] -= 1
            need -= 1
    for i in sorted(range(len(columns)), key=lambda i: (-columns[i].shrink_order, -i)):
        if need <= 0:
            break
        need -= widths[i] + 1
        widths[i] = 0
    return tuple(widths)


class _Widths(NamedTuple):
    """What a table's rows need, remembered until its rows (or the day) change."""

    key: tuple[object, ...]
    rows: tuple[Row, ...]
    settled: tuple[int, ...]  # widths the header and the rows need, a running row's runtime left out
    running: tuple[Row, ...]  # rows whose runtime grows: their runtime measured on every frame


#: One entry per table: the widths of its current rows.
_WIDTHS: dict[str, _Widths] = {}


def table_widths(
    spec: TableSpec, rows: Sequence[Row], *, cols: int, now: float, fetched_at: float | None, ctx: RenderContext
) -> tuple[int, ...]:
    """Column widths of a table for its current rows (all of them, so that
    scrolling does not make columns jump)."""
    rows = tuple(rows)
    day = day_start(int(now))
    key = (spec, fetched_at, ctx, day)
    timed = runtime_columns(spec)
    known = _WIDTHS.get(spec.key)
    if known is None or known.key != key or known.rows != rows:
        # Measured directly, not through the row cache: a long table would push
        # the shown rows out of it. Only a running row's runtime changes with
        # the time of day (the rest with the day), so that alone is left to
        # every frame.
        settled = [width_of(column.header) for column in spec.columns]
        for row in rows:
            widths = _cells(spec, row, fetched_at, ctx, day)[1]
            if row.is_running:
                widths = tuple(0 if i in timed else w for i, w in enumerate(widths))
            settled = list(map(max, settled, widths))
        known = _Widths(key, rows, tuple(settled), tuple(row for row in rows if row.is_running))
        _WIDTHS[spec.key] = known
    natural = list(known.settled)
    for i in timed:
        column = spec.columns[i]
        for row in known.running:
            natural[i] = max(natural[i], width_of(cell_text(row, column, now=now, fetched_at=fetched_at, ctx=ctx)))
    return column_widths(spec.columns, cols, tuple(natural))


def cache_sizes() -> dict[str, int]:
    """How many entries the caches of this module hold (for tests of the memory bound)."""
    return {
        "row_cells": _row_cells.cache_info().currsize,
        "column_widths": column_widths.cache_info().currsize,
        "table_widths": len(_WIDTHS),
    }


__all__ = ["ROW_CACHE_SIZE", "cache_sizes", "cell_style", "cell_text", "column_widths", "row_cells", "runtime_columns", "table_widths"]
