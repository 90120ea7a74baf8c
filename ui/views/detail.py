"""The detail view of the open row (or of the table, when it has no row): a
fixed title line over content that scrolls.

A row says what its detail shows (``detail_fields()``); this module only
formats and lays it out. The content is a list of text lines first and markup
only for the lines on screen, so scrolling needs only its length
(``detail_max_scroll``) and the page size needs nothing (``detail_page``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from arr_actors.inert import inert_lines
from arr_actors.messages import DetailField, Row, TableSnapshot
from arr_actors.tables import TableSpec, table
from arr_actors.timefmt import format_ago, format_span, format_timestamp
from arr_actors_ui import chain, model, palette, visible
from arr_actors_ui.context import RenderContext
from arr_actors_ui.model import UiState
from arr_actors_ui.text import Markup, clip, fit, plain, width_of, wrap
from arr_actors_ui.views.title import STATE_LABELS

#: The label column is as wide as the view's longest label, at least this,
#: and never more than a third of the screen; a gap always follows it.
LABEL_WIDTH = 11
LABEL_GAP = 2

#: One line of content: the label column (None: the line has none), the text, its style.
_Line = tuple[str | None, str, str]

_URL = re.compile(r"\S+://\S+")


@dataclass(frozen=True, slots=True)
class DetailView:
    lines: list[Markup]
    max_scroll: int
    page: int


def detail_page(rows: int) -> int:
    """How far a page key scrolls a detail view ``rows`` lines high (its title included)."""
    return max(1, _visible(rows) - 1)


def detail_max_scroll(state: UiState, *, now: float, cols: int, rows: int, ctx: RenderContext) -> int:
    """How far the open detail view scrolls, without drawing it."""
    return max(0, len(_content(state, now=now, cols=cols, ctx=ctx)) - _visible(rows))


def detail_view(state: UiState, *, now: float, cols: int, rows: int, ctx: RenderContext) -> DetailView:
    """The title line and the visible part of the open detail view."""
    detail = _open(state)
    spec = table(detail.table)
    content = _content(state, now=now, cols=cols, ctx=ctx)
    visible = _visible(rows)
    max_scroll = max(0, len(content) - visible)
    scroll = min(detail.scroll, max_scroll)
    g = ctx.glyphs
    where = f"{spec.title} {g.arrow} {ctx.text(detail.key)}" if detail.key else f"{spec.title} {g.arrow} table state"
    span = f"lines {scroll + 1}-{min(len(content), scroll + visible)} of {len(content)}" if max_scroll else ""
    hint = "esc closes" + (", arrows scroll" if max_scroll else "")
    right = "  ".join(p for p in (span, hint) if p) + " "
    room = cols - width_of(right)
    title = [
        ("title_focus", fit(f" {where}", max(0, room), ellipsis=g.ellipsis)),
        ("title_focus", right if room >= 0 else ""),
    ]
    lines = [clip(title, cols), *(_markup(line, cols, g.ellipsis) for line in content[scroll : scroll + visible])]
    return DetailView(lines=lines, max_scroll=max_scroll, page=max(1, visible - 1))


def _visible(rows: int) -> int:
    return max(1, rows - 1)


def _open(state: UiState) -> model.Detail:
    if state.detail is None:
        raise ValueError("the detail view needs a state with an open detail view")
    return state.detail


def _markup(line: _Line, cols: int, ellipsis: str) -> Markup:
    head, text, style = line
    if head is None:
        return plain(text, cols, style=style, ellipsis=ellipsis)
    return clip([("detail_label", head), (style, fit(text, max(0, cols - width_of(head)), ellipsis=ellipsis))], cols)


def label_width(labels: list[str], cols: int) -> int:
    """Columns of the label column: the longest label, at least ``LABEL_WIDTH``, at most a third of ``cols``."""
    longest = max((width_of(label) for label in labels), default=0)
    return max(1, min(max(LABEL_WIDTH, longest), max(LABEL_WIDTH, cols // 3)))


def wrap_keeping_links(text: str, width: int) -> list[str]:
    """``text`` word-wrapped to ``width``, except that a URL too long for a
    line is a piece of its own, never split (it is cut at the screen edge when
    drawn), so that copying it from the screen gives the URL, not two halves."""
    out: list[str] = []
    start = 0
    for match in _URL.finditer(text):
        if width_of(match.group()) <= width:
            continue  # a URL that fits a line: plain word wrapping keeps it whole
        before = text[start : match.start()].rstrip(" ")
        if start:
            before = before.lstrip(" ")
        if before:
            out.extend(wrap(before, width))
        out.append(match.group())
        start = match.end()
    rest = text[start:].lstrip(" ") if start else text
    if rest or not out:
        out.extend(wrap(rest, width))
    return out


def field_lines(pairs: list[tuple[str, str, str]], cols: int, ellipsis: str) -> list[_Line]:
    """Label and value lines of ``(label, text, style)`` pairs.

    Labels are aligned with a gap before the values. A value with spaces is
    word-wrapped under itself; an id or a URL (no spaces) is never wrapped: if
    it does not fit beside its label it goes on its own line below it, from the
    left edge, and is cut there only if it is wider than the screen.
    """
    width = label_width([label for label, _, _ in pairs], cols)
    pad = " " * (1 + width + LABEL_GAP)
    value_width = max(1, cols - len(pad))
    out: list[_Line] = []
    for label, value, style in pairs:
        head: str | None = f" {fit(label, width, ellipsis=ellipsis)}{' ' * LABEL_GAP}"
        pieces = [value] if not any(ch.isspace() for ch in value) else wrap_keeping_links(value, value_width)
        for piece in pieces:
            if width_of(piece) > value_width:
                if head is not None:
                    out.append((head, "", style))
                    head = None
                out.append((None, " " + piece, style))
                continue
            out.append((head if head is not None else pad, piece, style))
            head = pad
    return out


def _content(state: UiState, *, now: float, cols: int, ctx: RenderContext) -> list[_Line]:
    detail = _open(state)
    snapshot = state.snapshots.get(detail.table)
    content: list[_Line] = []
    row: Row | None = None
    if detail.key:
        current = visible.find_row(state, detail.table, detail.key)
        row = current or detail.row
        if current is None:
            note = "  no longer in the latest refresh; showing the copy taken when this view opened"
            content.append((None, note, "warning"))
    if row is None:
        pairs = _table_pairs(table(detail.table), snapshot, now=now, ctx=ctx)
        log = None
    else:
        fetched_at = snapshot.fetched_at if snapshot is not None else None
        fields = row.detail_fields()
        pairs = [_pair(row, f, now=now, fetched_at=fetched_at, ctx=ctx) for f in fields if f.kind != "log"]
        log = next((f for f in fields if f.kind == "log"), None)
    if row is not None:
        pairs += _chain_pairs(state, detail.table, detail.key, ctx=ctx)
    content.extend(field_lines(pairs, cols, ctx.glyphs.ellipsis))
    if log is not None:
        content.extend(_log_lines(log, cols=cols, ctx=ctx))
    return content


def _chain_pairs(state: UiState, table_key: str, key: str, *, ctx: RenderContext) -> list[tuple[str, str, str]]:
    """The row's relatives as detail lines (``]``/``[`` step through them in the tables); unknown links dimmed."""
    return [(f.kind, ctx.text(f.text), "body" if f.known else "dim") for f in chain.chain_of(state, table_key, key).facts]


def _pair(row: Row, field: DetailField, *, now: float, fetched_at: float | None, ctx: RenderContext) -> tuple[str, str, str]:
    """``(label, text, style)`` of one detail field."""
    value, kind = field.value, field.kind
    if kind == "runtime":
        seconds = row.runtime(now, fetched_at=fetched_at)
        return field.label, "-" if seconds is None else format_span(seconds), "body"
    if kind == "time":
        return field.label, format_timestamp(value if isinstance(value, (int, float)) else None), "body"
    if kind == "span":
        return field.label, "-" if not isinstance(value, (int, float)) else format_span(value), "body"
    if kind == "status":
        return field.label, ctx.text(str(value)), palette.status_style(str(value))
    text = "-" if value is None or value == "" else ctx.text(str(value))
    if kind == "reason" and palette.status_style(row.status) == "status_failed":
        return "Error", text, "error"
    return field.label, text, "body"


def _log_lines(field: DetailField, *, cols: int, ctx: RenderContext) -> list[_Line]:
    """A blank line, a heading and every line of log context, wrapped."""
    lines = field.value if isinstance(field.value, tuple) else ()
    pieces = [ctx.plain(piece) for line in lines for piece in inert_lines(line)]
    heading = f" {field.label} ({len(pieces)} lines)" if pieces else f" {field.label}: none recorded"
    out: list[_Line] = [(None, "", "body"), (None, heading, "detail_label")]
    for line in pieces:
        out.extend((None, "  " + piece, "body") for piece in wrap_keeping_links(line, max(1, cols - 2)))
    return out


def _table_pairs(
    spec: TableSpec, snapshot: TableSnapshot | None, *, now: float, ctx: RenderContext
) -> list[tuple[str, str, str]]:
    if snapshot is None:
        return [("State", "no refresh has finished yet", "dim")]
    label = STATE_LABELS.get(snapshot.state, (snapshot.state.value, "body"))
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


__all__ = [
    "LABEL_GAP",
    "LABEL_WIDTH",
    "DetailView",
    "detail_max_scroll",
    "detail_page",
    "detail_view",
    "field_lines",
    "label_width",
    "wrap_keeping_links",
]
