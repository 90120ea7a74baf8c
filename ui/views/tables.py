"""The table area: every table's title, header and rows, sharing the screen's height.

Each table gets one body line, the focused table up to half of what is left,
and the others the rest one line at a time; a table keeps its selected row in
view. A table without rows to show says why instead.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import NamedTuple

from arr_actors.messages import Row
from arr_actors.tables import TABLE_KEYS, TABLES, TableSpec
from arr_actors_ui import chain, model, visible
from arr_actors_ui.columns import ROW_CACHE_SIZE, cell_style, row_cells, table_widths
from arr_actors_ui.context import RenderContext
from arr_actors_ui.model import UiState
from arr_actors_ui.query import SortOrder
from arr_actors_ui.text import Markup, cells, fit, plain, width_of, wrapped
from arr_actors_ui.views.title import title_line

#: The mark after the header of the column a table is sorted by: (ascending, descending).
SORT_MARKS = ("▲", "▼")


def header_line(
    spec: TableSpec, *, widths: Sequence[int], cols: int, ctx: RenderContext, sort: SortOrder | None = None
) -> Markup:
    """The column headers; the column the table is sorted by carries its
    direction's mark in place of its last characters when the column is narrow."""
    pieces = []
    for i, (c, w) in enumerate(zip(spec.columns, widths, strict=True)):
        text, style = c.header, "header"
        if sort is not None and sort.column == i and w > 0:
            mark = ctx.plain(SORT_MARKS[sort.descending])
            text = fit(c.header, max(0, min(width_of(c.header), w - 1)), ellipsis=ctx.glyphs.ellipsis).rstrip() + mark
            style = "header_sorted"
        pieces.append((style, text, w, c.align))
    return cells(pieces, cols=cols, ellipsis=ctx.glyphs.ellipsis, line_style=None)


def row_line(
    spec: TableSpec,
    row: Row,
    *,
    now: float,
    fetched_at: float | None,
    widths: Sequence[int],
    cols: int,
    selected: bool,
    ctx: RenderContext,
    related: bool = False,
) -> Markup:
    texts = row_cells(spec, row, now=now, fetched_at=fetched_at, ctx=ctx)[0]
    return list(_row_line(spec, row, texts, tuple(widths), cols, selected, ctx, related))


@functools.lru_cache(maxsize=ROW_CACHE_SIZE)
def _row_line(
    spec: TableSpec, row: Row, texts: tuple[str, ...], widths: tuple[int, ...], cols: int, selected: bool,
    ctx: RenderContext, related: bool = False,
) -> tuple[tuple[str, str], ...]:
    pieces = [(cell_style(row, c), text, w, c.align) for c, text, w in zip(spec.columns, texts, widths, strict=True)]
    # A row of the selected row's chain (see ui.chain) is marked as a whole, like the selection.
    line_style = "selected" if selected else "related" if related else None
    return tuple(cells(pieces, cols=cols, ellipsis=ctx.glyphs.ellipsis, line_style=line_style))


def divider_line(label: str, *, cols: int, ctx: RenderContext) -> Markup:
    rule = ctx.glyphs.divider
    text = f"{rule * 2} {label} " if cols > len(label) + 4 else ""
    return [("divider", text + rule * max(0, cols - width_of(text)))]


def body_items(state: UiState, spec: TableSpec, *, now: float | None = None) -> tuple[Row | None, ...]:
    """The body of a table with rows: its rows, and ``None`` where the
    table's divider goes (between active and finished rows)."""
    return _body(spec, visible.visible_rows(state, spec.key, now=now)).items


class _Body(NamedTuple):
    rows: tuple[Row, ...]
    items: tuple[Row | None, ...]
    divider_at: int | None  # the index of the divider in ``items``


def _body(spec: TableSpec, rows: tuple[Row, ...]) -> _Body:
    """The body of these rows, remembered per table while its visible rows stay the same object."""
    known = _BODIES.get(spec.key)
    if known is not None and known.rows is rows:
        return known
    at = None
    if spec.divider:
        at = next((i for i in range(1, len(rows)) if rows[i - 1].active and not rows[i].active), None)
    items = rows if at is None else rows[:at] + (None,) + rows[at:]
    body = _Body(rows, items, at)
    _BODIES[spec.key] = body
    return body


#: The last body per table, so an idle frame does not walk a long table again.
_BODIES: dict[str, _Body] = {}


def message_lines(state: UiState, spec: TableSpec, *, now: float, cols: int, ctx: RenderContext) -> list[Markup]:
    """What a table without rows to show says instead."""
    snapshot = state.snapshots.get(spec.key)
    dots, cut = ctx.glyphs.dots, ctx.glyphs.ellipsis
    if snapshot is None:
        text = (
            f"loading{dots}" if model.fetch_in_flight(state, spec.key, now) else f"waiting for the first refresh{dots}"
        )
        return [plain("  " + text, cols, style="dim", ellipsis=cut)]
    if snapshot.rows and visible.filtering(state, spec.key):
        what = " and ".join(
            part
            for part in (
                f"'{ctx.text(state.filter_text)}'" if state.filter_text.strip() else "",
                f"state {state.state_filter}" if state.state_filter else "",
            )
            if part
        )
        return [plain(f"  no rows match {what}", cols, style="dim", ellipsis=cut)]
    if not snapshot.state.failing or not snapshot.error:
        return [plain("  " + spec.empty_text.format(regions=ctx.regions), cols, style="dim", ellipsis=cut)]
    return [[("error", piece)] for piece in wrapped(f"  no data: {ctx.text(snapshot.error)}", cols, indent=4)]


def table_lines(
    state: UiState, spec: TableSpec, *, body_rows: int, now: float, cols: int, ctx: RenderContext
) -> list[Markup]:
    """Title, header and ``body_rows`` lines of one table (the selected row kept in view)."""
    focused = state.focus == spec.key
    snapshot = state.snapshots.get(spec.key)
    body = _body(spec, visible.visible_rows(state, spec.key, now=now))
    items, rows = body.items, body.rows
    started = model.fetch_in_flight(state, spec.key, now)
    lines = [title_line(spec, snapshot, started, now=now, focused=focused, shown=len(rows), cols=cols, ctx=ctx)]
    if not items:
        return lines + message_lines(state, spec, now=now, cols=cols, ctx=ctx)[:body_rows]
    fetched_at = snapshot.fetched_at if snapshot is not None else None
    widths = table_widths(spec, rows, cols=cols, now=now, fetched_at=fetched_at, ctx=ctx)
    lines.append(header_line(spec, widths=widths, cols=cols, ctx=ctx, sort=state.sort.get(spec.key)))
    selected = visible.selected_index(state, spec.key, rows)
    selected_row = rows[selected] if selected is not None else None
    position = 0 if selected is None else selected + (body.divider_at is not None and selected >= body.divider_at)
    start = 0 if position < body_rows else position - body_rows + 1
    related = chain.related_keys(state, spec.key)
    for row in items[start : start + body_rows]:
        if row is None:
            lines.append(divider_line(spec.divider, cols=cols, ctx=ctx))
        else:
            lines.append(
                row_line(
                    spec,
                    row,
                    now=now,
                    fetched_at=fetched_at,
                    widths=widths,
                    cols=cols,
                    selected=focused and row is selected_row,
                    ctx=ctx,
                    related=row.key in related,
                )
            )
    return lines


def allocate(wants: Sequence[int], fixed: Sequence[int], *, avail: int, focus: int) -> list[int]:
    """Body rows per table: one each, then the focused table up to half of
    what is left, then one at a time round the others."""
    body = [1] * len(wants)
    left = avail - sum(fixed) - sum(body)
    if left <= 0:
        return body
    extra = min(
        max(0, wants[focus] - 1), max(left // 2, left - sum(max(0, w - 1) for i, w in enumerate(wants) if i != focus))
    )
    body[focus] += extra
    left -= extra
    order = [i for i in range(len(wants)) if i != focus] + [focus]
    while left > 0 and any(body[i] < wants[i] for i in order):
        for i in order:
            if left > 0 and body[i] < wants[i]:
                body[i] += 1
                left -= 1
    return body


def tables_area(state: UiState, *, now: float, cols: int, rows: int, ctx: RenderContext) -> list[Markup]:
    """Every table in ``rows`` lines (or fewer); zoomed, the focused table alone."""
    if state.zoomed:
        spec = TABLES[TABLE_KEYS.index(state.focus)]
        return table_lines(state, spec, body_rows=max(1, rows - 2), now=now, cols=cols, ctx=ctx)[:rows]
    wants, fixed = [], []
    for spec in TABLES:
        items = body_items(state, spec, now=now)
        wants.append(len(items) if items else len(message_lines(state, spec, now=now, cols=cols, ctx=ctx)))
        fixed.append(2 if items else 1)
    body = allocate(wants, fixed, avail=rows, focus=TABLE_KEYS.index(state.focus))
    lines: list[Markup] = []
    for spec, n in zip(TABLES, body, strict=True):
        lines.extend(table_lines(state, spec, body_rows=n, now=now, cols=cols, ctx=ctx))
    return lines


__all__ = ["allocate", "body_items", "divider_line", "header_line", "message_lines", "row_line", "table_lines", "tables_area"]
