"""Table cells and column widths, remembered between frames.

The screen redraws every second, yet only a running row's runtime changes with
the time (the rest only when the day does), so a row's cell texts are cached
per row and asked for again with the time that matters to them; widths are
cached per layout.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from arr_actors.messages import Row
from arr_actors.tables import Column, TableSpec
from arr_actors.timefmt import day_start, format_clock, format_span
from ui import palette
from ui.context import RenderContext
from ui.text import width_of


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
    return ctx.text(str(value))


def cell_style(row: Row, column: Column) -> str:
    if column.kind == "status":
        return palette.status_style(str(getattr(row, column.field, "")))
    if column.kind == "note":
        return "error" if palette.status_style(row.status) == "status_failed" else "dim"
    return "body"


def row_cells(
    spec: TableSpec, row: Row, *, now: float, fetched_at: float | None, ctx: RenderContext
) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Every cell text of a row, and its width in columns (cached: see the module)."""
    clock = now if row.is_running else day_start(int(now))
    return _row_cells(spec, row, fetched_at, ctx, clock)


@functools.lru_cache(maxsize=4096)
def _row_cells(
    spec: TableSpec, row: Row, fetched_at: float | None, ctx: RenderContext, now: float
) -> tuple[tuple[str, ...], tuple[int, ...]]:
    texts = tuple(cell_text(row, c, now=now, fetched_at=fetched_at, ctx=ctx) for c in spec.columns)
    return texts, tuple(width_of(text) for text in texts)


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


def table_widths(
    spec: TableSpec, rows: Sequence[Row], *, cols: int, now: float, fetched_at: float | None, ctx: RenderContext
) -> tuple[int, ...]:
    """Column widths of a table for its current rows (all of them, so that
    scrolling does not make columns jump)."""
    natural = [width_of(column.header) for column in spec.columns]
    for row in rows:
        natural = list(map(max, natural, row_cells(spec, row, now=now, fetched_at=fetched_at, ctx=ctx)[1]))
    return column_widths(spec.columns, cols, tuple(natural))


__all__ = ["cell_style", "cell_text", "column_widths", "row_cells", "table_widths"]
