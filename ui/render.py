"""The screen as a pure function of the UI state, the time and the terminal.

Everything here takes plain values (``UiState``, ``now``, a ``RenderContext``
and a size) and returns text markup or urwid widgets built from it; nothing
reads a clock, the environment or the terminal. Every string that came from
outside passes through ``ui.safe`` and reaches urwid as a plain ``str`` inside
markup built here, so it can neither drive the terminal nor act as markup.

A line is a list of ``(style, text)`` pairs exactly ``cols`` columns wide.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import urwid
from urwid.str_util import calc_text_pos, calc_width

from arr_actors.messages import BuildRow, FetchStarted, Row, RunnerRow, TableSnapshot, VertexRow, WandbRunRow
from arr_actors.tables import TABLE_KEYS, TABLES, Column, TableSpec
from ui import keys, model, palette
from ui.model import UiState
from ui.safe import ascii_only, inert, inert_lines

Markup = list[tuple[str, str]]

SPINNER_FPS = 8.0


@dataclass(frozen=True, slots=True)
class Glyphs:
    spinner: tuple[str, ...]
    ellipsis: str  # marks a cut cell: one column
    dots: str  # ends a sentence such as "loading"
    divider: str
    focus: str
    arrow: str


UTF8_GLYPHS = Glyphs(spinner=tuple("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"), ellipsis="…", dots="…", divider="─", focus="▶", arrow="›")
ASCII_GLYPHS = Glyphs(spinner=tuple("|/-\\"), ellipsis="~", dots="...", divider="-", focus=">", arrow=">")


@dataclass(frozen=True, slots=True)
class RenderContext:
    """What rendering needs to know beyond the state: settings and terminal facts."""

    regions: int = 18
    ascii: bool = False  # the terminal's encoding is not UTF-8
    replay_label: str = ""

    @property
    def glyphs(self) -> Glyphs:
        return ASCII_GLYPHS if self.ascii else UTF8_GLYPHS

    def text(self, value: str) -> str:
        """One line of outside text, made inert (and ASCII on a non-UTF-8 terminal)."""
        clean = inert(value)
        return ascii_only(clean) if self.ascii else clean


# ------------------------------------------------------------------ formatting


def width_of(text: str) -> int:
    """Terminal columns of ``text`` (wide characters count two, controls none)."""
    if text.isascii() and text.isprintable():
        return len(text)  # the common case, without a per-character table walk
    return calc_width(text, 0, len(text))


def fit(text: str, width: int, *, align: str = "left", ellipsis: str = "…") -> str:
    """``text`` in exactly ``width`` columns: padded, or cut with an ellipsis."""
    if width <= 0:
        return ""
    used = width_of(text)
    if used > width:
        room = width - width_of(ellipsis)
        if room <= 0:
            pos, used = calc_text_pos(text, 0, len(text), width)
            text = text[:pos]
        else:
            pos, used = calc_text_pos(text, 0, len(text), room)
            text = text[:pos] + ellipsis
            used += width_of(ellipsis)
    pad = " " * (width - used)
    return pad + text if align == "right" else text + pad


def wrap(text: str, width: int, *, words: bool = True) -> list[str]:
    """Wrap one line into pieces of at most ``width`` columns, at a space when
    one is near enough (``words``), else anywhere."""
    if width <= 0:
        return [""]
    out = []
    while width_of(text) > width:
        pos, _ = calc_text_pos(text, 0, len(text), width)
        pos = max(pos, 1)
        if words:
            space = text.rfind(" ", 0, pos + 1)
            if space > pos // 2:
                out.append(text[:space])
                text = text[space + 1 :]
                continue
        out.append(text[:pos])
        text = text[pos:]
    out.append(text)
    return out


def format_span(seconds: float) -> str:
    """A duration for a table cell: ``45s``, ``12m03s``, ``3h04m``, ``2d03h``."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def format_ago(seconds: float) -> str:
    """An age in words that changes at most once a second: ``12 s``, ``3 min``, ``2 h``."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    if s < 86400:
        return f"{s // 3600} h"
    return f"{s // 86400} d"


def format_clock(epoch: float, now: float) -> str:
    """When something was created: the time today, the date and time otherwise."""
    moment = time.localtime(epoch)
    if time.localtime(now)[:3] == moment[:3]:
        return time.strftime("%H:%M:%S", moment)
    return time.strftime("%b %d %H:%M", moment)


def format_timestamp(epoch: float | None) -> str:
    if epoch is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))


# ------------------------------------------------------------------ row values

_RUNNING = {"RUNNING", "WORKING", "running"}


def row_status(row: Row) -> str:
    """A row's status or state, whatever the table calls it."""
    return row.status if isinstance(row, (RunnerRow, BuildRow)) else row.state


def is_running(row: Row) -> bool:
    """Whether the row's runtime grows while we watch."""
    return row_status(row) in _RUNNING


def runtime_seconds(row: Row, *, now: float, fetched_at: float | None) -> float | None:
    """How long the row has been running (or ran); ticks locally for running rows."""
    if isinstance(row, WandbRunRow):
        if row.runtime_s is not None:
            if is_running(row) and fetched_at is not None:
                return row.runtime_s + max(0.0, now - fetched_at)
            return row.runtime_s
        return now - row.created_at if is_running(row) else None
    start: float | None
    end: float | None
    if isinstance(row, RunnerRow):
        start, end = row.started_at or row.created_at, row.completed_at
    elif isinstance(row, VertexRow):
        start, end = row.started_at, row.ended_at
    else:
        start, end = row.started_at, row.finished_at
    if start is None:
        return None
    if end is not None:
        return end - start
    return now - start if is_running(row) else None


def cell_text(row: Row, name: str, *, now: float, fetched_at: float | None, ctx: RenderContext) -> str:
    """The text of one cell (already inert)."""
    if name in ("runtime", "duration"):
        seconds = runtime_seconds(row, now=now, fetched_at=fetched_at)
        return "-" if seconds is None else format_span(seconds)
    if name == "created":
        return format_clock(row.created_at, now)
    value = getattr(row, name, "")
    if value is None:
        return "-"
    if name == "image" and isinstance(value, str):
        value = value.rsplit("/", 1)[-1]  # the registry path is in the detail view
    return ctx.text(str(value))


@functools.lru_cache(maxsize=64)
def _day_start(second: int) -> float:
    """A moment of the local day ``second`` falls in (its midnight)."""
    day = time.localtime(second)
    return time.mktime((day.tm_year, day.tm_mon, day.tm_mday, 0, 0, 0, 0, 0, -1))


def row_cells(
    spec: TableSpec, row: Row, *, now: float, fetched_at: float | None, ctx: RenderContext
) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Every cell text of a row, and its width in columns.

    The screen redraws every second, yet only a running row's runtime changes
    with the time (the rest only when the day does), so cells are remembered
    per row and asked for again with the time that matters to them.
    """
    clock = now if is_running(row) else _day_start(int(now))
    return _row_cells(spec, row, fetched_at, ctx, clock)


@functools.lru_cache(maxsize=4096)
def _row_cells(
    spec: TableSpec, row: Row, fetched_at: float | None, ctx: RenderContext, now: float
) -> tuple[tuple[str, ...], tuple[int, ...]]:
    texts = tuple(cell_text(row, c.field, now=now, fetched_at=fetched_at, ctx=ctx) for c in spec.columns)
    return texts, tuple(width_of(text) for text in texts)


def cell_style(row: Row, column: Column) -> str:
    if column.field in ("status", "state"):
        return palette.status_style(str(getattr(row, column.field, "")))
    if column.field == "note":
        return "error" if palette.status_style(row_status(row)) == "status_failed" else "dim"
    return "body"


@functools.lru_cache(maxsize=256)
def column_widths(columns: tuple[Column, ...], avail: int, natural: tuple[int, ...] | None = None) -> tuple[int, ...]:
    """Widths that fit ``avail`` columns (one space between cells).

    Each column starts at its preferred width: ``natural`` (what its content
    needs, when known) within ``min_width``..``width``. Too wide: columns
    shrink toward their minimum, highest ``shrink_order`` first (the note
    column gives way first); if the minimums still do not fit, columns are
    hidden (width 0) in the same order. Room to spare goes to the column that
    gives way first, usually the note.
    """
    if natural is None:
        widths = [c.width for c in columns]
    else:
        widths = [max(c.min_width, min(c.width, n)) for c, n in zip(columns, natural, strict=True)]
    need = sum(widths) + len(columns) - 1 - avail
    if need < 0:
        grow = max(range(len(columns)), key=lambda i: (columns[i].shrink_order, i))
        widths[grow] -= need
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


def _cells(pieces: Iterable[tuple[str, str, int, str]], *, cols: int, ellipsis: str, line_style: str | None) -> Markup:
    """Lay out ``(style, text, width, align)`` cells into one line of ``cols``."""
    out: Markup = []
    used = 0
    for style, text, width, align in pieces:
        if width <= 0:
            continue
        if out:
            out.append((line_style or "body", " "))
            used += 1
        out.append((line_style or style, fit(text, width, align=align, ellipsis=ellipsis)))
        used += width
    if used < cols:
        out.append((line_style or "body", " " * (cols - used)))
    return _clip(out, cols, ellipsis)


def _clip(line: Markup, cols: int, ellipsis: str) -> Markup:
    """Cut a line to ``cols`` columns."""
    out: Markup = []
    used = 0
    for style, text in line:
        w = width_of(text)
        if used + w <= cols:
            out.append((style, text))
            used += w
            continue
        out.append((style, fit(text, cols - used, ellipsis="")))
        used = cols
        break
    if used < cols:
        out.append(("body", " " * (cols - used)))
    return out


def _plain(text: str, cols: int, *, style: str = "body", ellipsis: str = "…") -> Markup:
    return [(style, fit(text, cols, ellipsis=ellipsis))]


# ---------------------------------------------------------------- table parts


def header_line(spec: TableSpec, *, widths: Sequence[int], cols: int, ctx: RenderContext) -> Markup:
    pieces = [("header", c.header, w, c.align) for c, w in zip(spec.columns, widths, strict=True)]
    return _cells(pieces, cols=cols, ellipsis=ctx.glyphs.ellipsis, line_style=None)


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
) -> Markup:
    texts = row_cells(spec, row, now=now, fetched_at=fetched_at, ctx=ctx)[0]
    return list(_row_line(spec, row, texts, tuple(widths), cols, selected, ctx))


@functools.lru_cache(maxsize=4096)
def _row_line(
    spec: TableSpec, row: Row, texts: tuple[str, ...], widths: tuple[int, ...], cols: int, selected: bool,
    ctx: RenderContext,
) -> tuple[tuple[str, str], ...]:
    pieces = [(cell_style(row, c), text, w, c.align) for c, text, w in zip(spec.columns, texts, widths, strict=True)]
    return tuple(_cells(pieces, cols=cols, ellipsis=ctx.glyphs.ellipsis, line_style="selected" if selected else None))


def divider_line(label: str, *, cols: int, ctx: RenderContext) -> Markup:
    rule = ctx.glyphs.divider
    text = f"{rule * 2} {label} " if cols > len(label) + 4 else ""
    return [("divider", text + rule * max(0, cols - width_of(text)))]


@dataclass(frozen=True, slots=True)
class _Segment:
    text: str
    style: str
    priority: int  # 0 is never dropped; higher numbers go first
    truncatable: bool = False


_STATE_LABELS = {
    "stale": ("STALE", "stale"),
    "error": ("ERROR", "trouble"),
    "timeout": ("TIMED OUT", "trouble"),
    "restarting": ("RESTARTING", "trouble"),
    "circuit_open": ("CIRCUIT OPEN", "trouble"),
}


def title_line(
    spec: TableSpec,
    snapshot: TableSnapshot | None,
    started: FetchStarted | None,
    *,
    now: float,
    focused: bool,
    shown: int,
    cols: int,
    ctx: RenderContext,
) -> Markup:
    """The title of a table and everything about its freshness, in one line."""
    base = "title_focus" if focused else "title"
    g = ctx.glyphs
    segments = [_Segment(f"{g.focus if focused else ' '} {spec.title}", base, 0)]
    if snapshot is not None:
        total = len(snapshot.rows)
        count = f"{shown}/{total} rows" if shown != total else f"{total} row{'' if total == 1 else 's'}"
        segments.append(_Segment(count, base, 3))
    if started is not None:
        frame = g.spinner[int(now * SPINNER_FPS) % len(g.spinner)]
        segments.append(_Segment(f"{frame} {format_ago(now - started.started_at)}", "spinner", 1))
    if snapshot is not None:
        label = _STATE_LABELS.get(snapshot.state)
        if label is not None:
            segments.append(_Segment(label[0], label[1], 1))
        if snapshot.state != "ok" and snapshot.next_refresh_at is not None and started is None:
            wait = snapshot.next_refresh_at - now
            text = f"next try in {format_ago(wait)}" if wait >= 1 else "next try now"
            segments.append(_Segment(text, base, 3))
        if snapshot.fetched_at is not None:
            segments.append(_Segment(f"updated {format_ago(now - snapshot.fetched_at)} ago", "age", 4))
        if snapshot.duration_s is not None:
            took = f"took {snapshot.duration_s:.1f} s"
            over = snapshot.budget_pct is not None and snapshot.budget_pct > 100
            if snapshot.budget_pct is not None:
                took += f" ({snapshot.budget_pct:.0f}% of budget)"
            segments.append(_Segment(took, "warning" if over else "age", 6 if not over else 5))
        if snapshot.warning:
            segments.append(_Segment(ctx.text(snapshot.warning), "warning", 5, truncatable=True))
        if snapshot.error and snapshot.rows:
            # without rows the body shows the whole error instead
            segments.append(_Segment(ctx.text(snapshot.error), "error", 2, truncatable=True))
    segments = _fit_segments(segments, cols)
    line: Markup = []
    for i, seg in enumerate(segments):
        if i:
            line.append((base, "  "))
        line.append((seg.style, seg.text))
    used = sum(width_of(t) for _, t in line)
    if used < cols:
        line.append((base, " " * (cols - used)))
    return _clip(line, cols, g.ellipsis)


def _fit_segments(segments: list[_Segment], cols: int, min_truncated: int = 12) -> list[_Segment]:
    """Drop and cut segments until they fit ``cols``.

    Duration and warning go first; then an error may be cut down to
    ``min_truncated`` columns before anything more important is dropped; what
    stays is cut to fill the line exactly.
    """

    def width(segs: Sequence[_Segment], *, squeezed: bool = False) -> int:
        sizes = [min(width_of(s.text), min_truncated) if squeezed and s.truncatable else width_of(s.text) for s in segs]
        return sum(sizes) + 2 * (len(segs) - 1)

    def drop(segs: list[_Segment], level: int, *, squeezed: bool) -> list[_Segment]:
        while width(segs, squeezed=squeezed) > cols and any(s.priority == level for s in segs):
            last = max(i for i, s in enumerate(segs) if s.priority == level)
            segs = segs[:last] + segs[last + 1 :]
        return segs

    for level in (6, 5):
        segments = drop(segments, level, squeezed=False)
    for level in (4, 3, 2, 1):
        segments = drop(segments, level, squeezed=True)
    over = width(segments) - cols
    out = []
    for seg in reversed(segments):
        room = width_of(seg.text) - min_truncated
        if over > 0 and seg.truncatable and room > 0:
            cut = min(over, room)
            seg = dataclasses.replace(seg, text=fit(seg.text, width_of(seg.text) - cut))
            over -= cut
        out.append(seg)
    return out[::-1]


def body_items(state: UiState, key: str) -> list[tuple[str, Row | None]]:
    """The body of a table with rows: ``("row", row)`` items, and for builds a
    ``("divider", None)`` between active and finished ones."""
    rows = model.visible_rows(state, key)
    items: list[tuple[str, Row | None]] = []
    previous: Row | None = None
    for row in rows:
        if isinstance(row, BuildRow) and not row.active and isinstance(previous, BuildRow) and previous.active:
            items.append(("divider", None))
        items.append(("row", row))
        previous = row
    return items


def message_lines(state: UiState, spec: TableSpec, *, now: float, cols: int, ctx: RenderContext) -> list[Markup]:
    """What a table without rows to show says instead."""
    snapshot = state.snapshots.get(spec.key)
    dots = ctx.glyphs.dots
    if snapshot is None:
        text = (
            f"loading{dots}" if model.fetch_in_flight(state, spec.key, now) else f"waiting for the first refresh{dots}"
        )
        return [_plain("  " + text, cols, style="dim")]
    if snapshot.rows and state.filter_text.strip():
        return [_plain(f"  no rows match '{ctx.text(state.filter_text)}'", cols, style="dim")]
    if snapshot.state == "ok" or not snapshot.error:
        return [_plain("  " + spec.empty_text.format(regions=ctx.regions), cols, style="dim")]
    return [[("error", piece)] for piece in _wrapped(f"  no data: {ctx.text(snapshot.error)}", cols, indent=4)]


def _wrapped(text: str, cols: int, *, indent: int = 0) -> list[str]:
    """``text`` word-wrapped to ``cols``, continuation lines indented."""
    first, *rest = wrap(text, cols)
    out = [fit(first, cols)]
    pad = " " * indent
    for piece in wrap(" ".join(rest), max(1, cols - indent)) if rest else []:
        out.append(fit(pad + piece, cols))
    return out


def table_lines(
    state: UiState, spec: TableSpec, *, body_rows: int, now: float, cols: int, ctx: RenderContext
) -> list[Markup]:
    """Title, header and ``body_rows`` lines of one table (the selected row kept in view)."""
    focused = state.focus == spec.key
    snapshot = state.snapshots.get(spec.key)
    items = body_items(state, spec.key)
    shown = sum(1 for kind, _ in items if kind == "row")
    started = model.fetch_in_flight(state, spec.key, now)
    lines = [title_line(spec, snapshot, started, now=now, focused=focused, shown=shown, cols=cols, ctx=ctx)]
    if not items:
        return lines + message_lines(state, spec, now=now, cols=cols, ctx=ctx)[:body_rows]
    rows = tuple(row for kind, row in items if row is not None)
    fetched_at = snapshot.fetched_at if snapshot is not None else None
    widths = table_widths(spec, rows, cols=cols, now=now, fetched_at=fetched_at, ctx=ctx)
    lines.append(header_line(spec, widths=widths, cols=cols, ctx=ctx))
    selected = model.selected_index(state, spec.key, rows)
    selected_row = rows[selected] if selected is not None else None
    position = next((i for i, (_, row) in enumerate(items) if row is selected_row), 0)
    start = 0 if position < body_rows else position - body_rows + 1
    for _kind, row in items[start : start + body_rows]:
        if row is None:
            lines.append(divider_line("finished", cols=cols, ctx=ctx))
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
                )
            )
    return lines


def wanted_body_rows(state: UiState, spec: TableSpec, *, now: float, cols: int, ctx: RenderContext) -> int:
    items = body_items(state, spec.key)
    if items:
        return len(items)
    return len(message_lines(state, spec, now=now, cols=cols, ctx=ctx))


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


# ---------------------------------------------------------------- whole screen


def footer_lines(state: UiState, *, now: float, cols: int, ctx: RenderContext) -> list[Markup]:
    """The toast line (when there is a live notice) and the status line."""
    lines: list[Markup] = []
    toasts = model.live_toasts(state, now)
    if toasts:
        newest = max(toasts, key=lambda t: ({"error": 2, "warning": 1}.get(t.level, 0), t.expires_at))
        more = f" (+{len(toasts) - 1})" if len(toasts) > 1 else ""
        text = " " + ctx.text(newest.text) + more
        lines.append(_plain(text, cols, style=f"toast_{newest.level}", ellipsis=ctx.glyphs.ellipsis))
    status: Markup = []
    if state.paused:
        status.append(("paused", " PAUSED "))
    if ctx.replay_label:
        status.append(("replay", f" {ctx.text(ctx.replay_label)} "))
    if state.filter_editing:
        status.append(("filter", f" /{ctx.text(state.filter_text)}_ "))
        status.append(("footer", "  enter keeps, esc clears"))
    elif state.filter_text:
        status.append(("filter", f" filter: {ctx.text(state.filter_text)} "))
        status.append(("footer", "  esc clears"))
    used = sum(width_of(t) for _, t in status)
    for key, hint in keys.FOOTER_HINTS:
        piece = [("key", f" {key} "), ("footer", f" {hint} ")]
        w = sum(width_of(t) for _, t in piece)
        if used + w > cols:
            break
        status.extend(piece)
        used += w
    if used < cols:
        status.append(("footer", " " * (cols - used)))
    lines.append(_clip(status, cols, ctx.glyphs.ellipsis))
    return lines


def tables_area(state: UiState, *, now: float, cols: int, rows: int, ctx: RenderContext) -> list[Markup]:
    wants, fixed = [], []
    for spec in TABLES:
        has_rows = bool(body_items(state, spec.key))
        wants.append(wanted_body_rows(state, spec, now=now, cols=cols, ctx=ctx))
        fixed.append(2 if has_rows else 1)
    body = allocate(wants, fixed, avail=rows, focus=TABLE_KEYS.index(state.focus))
    lines: list[Markup] = []
    for spec, n in zip(TABLES, body, strict=True):
        lines.extend(table_lines(state, spec, body_rows=n, now=now, cols=cols, ctx=ctx))
    return lines


def screen_lines(state: UiState, *, now: float, cols: int, rows: int, ctx: RenderContext) -> list[Markup]:
    """Every line of the screen, exactly ``rows`` lines of ``cols`` columns."""
    footer = footer_lines(state, now=now, cols=cols, ctx=ctx)
    avail = max(0, rows - len(footer))
    if state.help_open:
        body = help_lines(cols=cols, rows=avail, ctx=ctx)
    elif state.detail is not None:
        body = detail_view(state, now=now, cols=cols, rows=avail, ctx=ctx).lines
    else:
        body = tables_area(state, now=now, cols=cols, rows=avail, ctx=ctx)
    body = body[:avail]
    body += [[("body", " " * cols)]] * (avail - len(body))
    return (body + footer)[-rows:] if rows else []


def screen(state: UiState, *, now: float, size: tuple[int, int], ctx: RenderContext) -> urwid.Widget:
    """The whole screen as a box widget of ``size``."""
    cols, rows = size
    return Lines(screen_lines(state, now=now, cols=cols, rows=rows, ctx=ctx))


class Lines(urwid.Widget):
    """Finished lines of markup as one box widget, drawn straight into a canvas.

    The screen is redrawn every second (ages and runtimes count) and eight
    times a second while a spinner turns, so this skips what a ``Pile`` of
    ``Text`` widgets would do for every line (widget construction, layout,
    wrapping): the lines are already cut to the width, so each becomes one row
    of a text canvas as it is. A line of the wrong width is padded or cut
    first, so the canvas is right whatever it is given.
    """

    _sizing = frozenset([urwid.Sizing.BOX])

    def __init__(self, lines: Sequence[Markup]) -> None:
        super().__init__()
        self._lines = lines

    def render(self, size: tuple[int, int], focus: bool = False) -> urwid.Canvas:  # type: ignore[override]
        cols, rows = size
        texts: list[bytes] = []
        attrs: list[list[tuple[str, int]]] = []
        charsets: list[list[tuple[Any, int]]] = []
        utf8 = urwid.util.get_encoding() in ("utf8", "utf-8")
        for line in self._lines[:rows]:
            text = "".join(piece for _, piece in line)
            printable = text.isprintable()
            if not printable or not (utf8 or text.isascii()):
                # A control or format character (outside text is made inert
                # before it gets here, so this is a slip), or non-ASCII text
                # for a terminal that is not UTF-8: urwid's own widgets know
                # how to leave out or replace what the terminal must not get.
                return self._by_urwid(size)
            if width_of(text) != cols:
                line = _clip(line, cols, "")
                text = "".join(piece for _, piece in line)
            simple = text.isascii()  # one byte, one column per character
            # Printable ASCII, or UTF-8 (no character-set shifts): the line encodes in one go.
            data = text.encode("ascii") if simple else text.encode("utf-8", "urwid_fallback")
            attr: list[tuple[str, int]] = []
            for style, piece in line:
                _add_run(attr, style, len(piece) if simple or piece.isascii() else len(piece.encode("utf-8", "urwid_fallback")))
            charset: list[tuple[Any, int]] = [(None, len(data))]
            texts.append(data)
            attrs.append(attr)
            charsets.append(charset)
        for _ in range(rows - len(texts)):
            texts.append(b" " * cols)
            attrs.append([("body", cols)])
            charsets.append([(None, cols)])
        return urwid.TextCanvas(texts, attrs, charsets, maxcol=cols, check_width=False)

    def _by_urwid(self, size: tuple[int, int]) -> urwid.Canvas:
        texts = [urwid.Text(line or "", wrap="clip") for line in self._lines[: size[1]]]
        return urwid.Filler(urwid.Pile(texts), valign="top").render(size)


def _add_run(runs: list[tuple[str, int]], style: str, length: int) -> None:
    """Append a run of ``length`` bytes in ``style``, merged with the last run if it has the same style."""
    if not length:
        return
    if runs and runs[-1][0] == style:
        runs[-1] = (style, runs[-1][1] + length)
    else:
        runs.append((style, length))


def wakeup_interval(state: UiState, *, now: float) -> float | None:
    """How soon the screen changes by itself: spinner frames while a fetch runs,
    once a second while something counts (ages, running rows, countdowns,
    toasts), never when nothing on screen depends on the time."""
    if any(model.fetch_in_flight(state, key, now) for key in TABLE_KEYS):
        return 1.0 / SPINNER_FPS
    if model.live_toasts(state, now):
        return 1.0
    if state.help_open:
        return None
    for snapshot in state.snapshots.values():
        if snapshot.fetched_at is not None or snapshot.next_refresh_at is not None:
            return 1.0
        if any(is_running(row) for row in snapshot.rows):
            return 1.0
    return None


# ------------------------------------------------------------------ detail view


@dataclass(frozen=True, slots=True)
class DetailView:
    lines: list[Markup]
    max_scroll: int
    page: int


def _label(name: str) -> str:
    return name.replace("_", " ").capitalize()


def _field_pairs(row: Row, *, now: float, fetched_at: float | None, ctx: RenderContext) -> list[tuple[str, str, str]]:
    """``(label, value, style)`` for every field of a row, times as timestamps."""
    pairs = []
    for f in dataclasses.fields(row):
        if f.name in ("context",):
            continue
        value: Any = getattr(row, f.name)
        style = "body"
        if f.name.endswith("_at"):
            text = format_timestamp(value)
        elif f.name == "runtime_s":
            text = "-" if value is None else format_span(value)
        elif f.name in ("status", "state"):
            text = ctx.text(str(value))
            style = palette.status_style(str(value))
        elif value is None or value == "":
            text = "-"
        else:
            text = ctx.text(str(value))
        pairs.append((_label(f.name), text, style))
    seconds = runtime_seconds(row, now=now, fetched_at=fetched_at)
    pairs.append(
        (
            "Duration" if isinstance(row, BuildRow) else "Runtime",
            "-" if seconds is None else format_span(seconds),
            "body",
        )
    )
    return pairs


def _runner_pairs(
    row: RunnerRow, *, now: float, fetched_at: float | None, ctx: RenderContext
) -> list[tuple[str, str, str]]:
    failed = palette.status_style(row.status) == "status_failed"
    seconds = runtime_seconds(row, now=now, fetched_at=fetched_at)
    return [
        ("Execution", ctx.text(row.execution), "body"),
        ("Region", ctx.text(row.region), "body"),
        ("Queue", ctx.text(row.queue), "body"),
        ("Status", ctx.text(row.status), palette.status_style(row.status)),
        ("Runs", "-" if row.runs is None else str(row.runs), "body"),
        ("Runtime", "-" if seconds is None else format_span(seconds), "body"),
        ("Created", format_timestamp(row.created_at), "body"),
        ("Started", format_timestamp(row.started_at), "body"),
        ("Completed", format_timestamp(row.completed_at), "body"),
        ("Error" if failed else "Note", ctx.text(row.note) or "-", "error" if failed else "body"),
        ("Category", ctx.text(row.category) or "-", "body"),
        ("Pattern", ctx.text(row.pattern) or "-", "body"),
    ]


def _table_pairs(
    spec: TableSpec, snapshot: TableSnapshot | None, *, now: float, ctx: RenderContext
) -> list[tuple[str, str, str]]:
    if snapshot is None:
        return [("State", "no refresh has finished yet", "dim")]
    label = _STATE_LABELS.get(snapshot.state, (snapshot.state, "body"))
    next_at = snapshot.next_refresh_at
    return [
        ("State", label[0], label[1]),
        ("Rows", str(len(snapshot.rows)), "body"),
        ("Error", ctx.text(snapshot.error) or "-", "error" if snapshot.error else "body"),
        ("Warning", ctx.text(snapshot.warning) or "-", "warning" if snapshot.warning else "body"),
        ("Fetched", format_timestamp(snapshot.fetched_at), "body"),
        ("Took", "-" if snapshot.duration_s is None else f"{snapshot.duration_s:.1f} s", "body"),
        ("Budget", "-" if snapshot.budget_pct is None else f"{snapshot.budget_pct:.0f}%", "body"),
        ("Attempts", str(snapshot.attempts), "body"),
        ("Restarts", str(snapshot.restarts), "body"),
        (
            "Next try",
            "-" if next_at is None else f"{format_timestamp(next_at)} (in {format_ago(next_at - now)})",
            "body",
        ),
    ]


def detail_view(state: UiState, *, now: float, cols: int, rows: int, ctx: RenderContext) -> DetailView:
    """The detail view of the open row (or table): a fixed title line and
    scrollable content."""
    detail = state.detail
    if detail is None:
        raise ValueError("detail_view needs a state with an open detail view")
    spec = next(s for s in TABLES if s.key == detail.table)
    snapshot = state.snapshots.get(detail.table)
    fetched_at = snapshot.fetched_at if snapshot is not None else None
    content: list[Markup] = []
    label_width = 11
    row: Row | None = None
    if detail.key:
        current = model.find_row(state, detail.table, detail.key)
        row = current or detail.row
        if current is None:
            content.append(
                _plain(
                    "  no longer in the latest refresh; showing the copy taken when this view opened",
                    cols,
                    style="warning",
                )
            )
    if row is None:
        pairs = _table_pairs(spec, snapshot, now=now, ctx=ctx)
    elif isinstance(row, RunnerRow):
        pairs = _runner_pairs(row, now=now, fetched_at=fetched_at, ctx=ctx)
    else:
        pairs = _field_pairs(row, now=now, fetched_at=fetched_at, ctx=ctx)
    value_width = max(1, cols - label_width - 3)
    for label, value, style in pairs:
        pieces = wrap(value, value_width)
        for i, piece in enumerate(pieces):
            head = f" {label:<{label_width}}  " if i == 0 else " " * (label_width + 3)
            content.append([("detail_label", fit(head, label_width + 3)), (style, fit(piece, cols - label_width - 3))])
    if isinstance(row, RunnerRow):
        content.append(_plain("", cols))
        context_lines = [piece for line in row.context for piece in inert_lines(line)]
        if ctx.ascii:
            context_lines = [ascii_only(line) for line in context_lines]
        heading = f" Log context ({len(context_lines)} lines)" if context_lines else " Log context: none recorded"
        content.append(_plain(heading, cols, style="detail_label"))
        for line in context_lines:
            for piece in wrap(line, max(1, cols - 2)):
                content.append([("body", fit("  " + piece, cols))])
    visible = max(1, rows - 1)
    max_scroll = max(0, len(content) - visible)
    scroll = min(detail.scroll, max_scroll)
    g = ctx.glyphs
    where = f"{spec.title} {g.arrow} {ctx.text(detail.key)}" if detail.key else f"{spec.title} {g.arrow} table state"
    span = f"lines {scroll + 1}-{min(len(content), scroll + visible)} of {len(content)}" if max_scroll else ""
    hint = "esc closes" + (", arrows scroll" if max_scroll else "")
    title_text = f" {where}"
    right = "  ".join(p for p in (span, hint) if p) + " "
    room = cols - width_of(right)
    title = [
        ("title_focus", fit(title_text, max(0, room), ellipsis=g.ellipsis)),
        ("title_focus", right if room >= 0 else ""),
    ]
    lines = [_clip(title, cols, g.ellipsis), *content[scroll : scroll + visible]]
    return DetailView(lines=lines, max_scroll=max_scroll, page=max(1, visible - 1))


# ------------------------------------------------------------------------ help


HELP_KEY_WIDTH = 14


def help_lines(*, cols: int, rows: int, ctx: RenderContext) -> list[Markup]:
    """Every binding, grouped by where it works; two columns when there is room."""
    blocks: list[list[tuple[str, str, str]]] = []
    group = ""
    for title, key_names, description in keys.help_rows():
        if title != group:
            group = title
            blocks.append([("header", title, "")])
        blocks[-1].append(("key", key_names, description))
    two = cols >= 70
    width = cols // 2 if two else cols
    columns: list[list[Markup]] = [[], []]
    half = (sum(len(b) for b in blocks) + 1) // 2
    for block in blocks:
        target = 1 if two and columns[0] and len(columns[0]) + len(block) > half + 2 else 0
        for kind, name, description in block:
            if kind == "header":
                columns[target].append(_plain(f" {name}", width, style="header"))
            else:
                key_part = fit(f"  {name}", min(HELP_KEY_WIDTH, width))
                columns[target].append(
                    [("key", key_part), ("body", fit(f" {description}", max(0, width - width_of(key_part))))]
                )
    lines: list[Markup] = [_plain(" Keys (esc or ? closes)", cols, style="title_focus")]
    blank = [("body", " " * width)]
    for i in range(max(len(columns[0]), len(columns[1]))):
        left = columns[0][i] if i < len(columns[0]) else blank
        right = columns[1][i] if i < len(columns[1]) else ([] if not two else blank)
        lines.append(left + right)
    return [_clip(line, cols, ctx.glyphs.ellipsis) for line in lines]


# ---------------------------------------------------------------- key support


@dataclass(frozen=True, slots=True)
class Measure:
    """What key handling needs to know about the current layout."""

    page: int
    detail_max_scroll: int | None


def measure(state: UiState, *, now: float, size: tuple[int, int], ctx: RenderContext) -> Measure:
    cols, rows = size
    avail = max(1, rows - len(footer_lines(state, now=now, cols=cols, ctx=ctx)))
    if state.detail is not None:
        view = detail_view(state, now=now, cols=cols, rows=avail, ctx=ctx)
        return Measure(page=view.page, detail_max_scroll=view.max_scroll)
    return Measure(page=max(1, min(10, avail // 3)), detail_max_scroll=None)


__all__ = [
    "ASCII_GLYPHS",
    "UTF8_GLYPHS",
    "Glyphs",
    "Measure",
    "RenderContext",
    "allocate",
    "cell_text",
    "column_widths",
    "detail_view",
    "fit",
    "footer_lines",
    "format_ago",
    "format_clock",
    "format_span",
    "help_lines",
    "measure",
    "runtime_seconds",
    "screen",
    "screen_lines",
    "table_lines",
    "title_line",
    "wakeup_interval",
]
