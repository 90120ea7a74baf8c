"""The log view: a title line with where the view is and how the reading goes,
the lines (the failure's line and the search match marked), and a status line
(the search being typed, the last read's trouble, when following reads next)."""

from __future__ import annotations

from arr_actors.tables import table
from arr_actors.timefmt import format_timestamp
from arr_actors_ui import logview
from arr_actors_ui.context import RenderContext
from arr_actors_ui.logview import LogView
from arr_actors_ui.text import Markup, fit, plain

#: Lines around the log: its title and its status line.
CHROME = 2


def log_rows(rows: int) -> int:
    """Lines of log shown in a body of ``rows`` lines."""
    return max(1, rows - CHROME)


def log_lines(view: LogView, *, now: float, cols: int, rows: int, ctx: RenderContext) -> list[Markup]:
    cut = ctx.glyphs.ellipsis
    height = log_rows(rows)
    total = len(view.lines)
    # A view laid out for fewer rows than the screen has: show the newest lines rather than space.
    top = min(view.top, max(0, total - height)) if not view.wrap else view.top
    shown = logview.visible(view.replace(top=top), cols=max(1, cols), rows=height)
    kind = table(view.source.table).title if view.source is not None else "log"
    title = f" {logview.header(view.replace(top=top), height=height)}  ({kind})"
    out: list[Markup] = [plain(ctx.text(title), cols, ellipsis=cut, style="title_focus")]
    for index, text in shown:
        style = "error" if index == view.error else ("selected" if index == view.match else "body")
        out.append([(style, fit(ctx.plain(text), cols, ellipsis=cut))])
    if not shown:
        empty = "reading the log" + cut if view.reading else "no log lines found for this item"
        out.append(plain(f" {empty}", cols, ellipsis=cut, style="dim"))
    out += [[("body", " " * cols)]] * max(0, 1 + height - len(out))
    out.append(_status(view, now=now, cols=cols, ctx=ctx))
    return out[:rows]


def _status(view: LogView, *, now: float, cols: int, ctx: RenderContext) -> Markup:
    cut = ctx.glyphs.ellipsis
    if view.editing:
        return plain(f"/{ctx.text(view.typed)}_", cols, ellipsis=cut, style="filter")
    if view.problem:
        when = ""
        if view.throttled_until is not None and view.throttled_until > now:
            when = f"; budget frees at {format_timestamp(view.throttled_until)}"
        return plain(f" {ctx.text(view.problem)}{when}", cols, ellipsis=cut, style="error")
    parts = []
    if view.follow and view.next_read_at is not None:
        wait = max(0, round(view.next_read_at - now))
        every = f" every {view.every:g} s" if view.every is not None else ""
        parts.append(f"following{every}: next read in {wait} s" + (" (paused: f resumes)" if view.paused else ""))
    elif view.follow and view.reading:
        parts.append("following once the log is read")
    parts.append("/ search  n/N next  e error  w wrap  s save")
    return plain(" " + "   ".join(parts), cols, ellipsis=cut, style="dim")


__all__ = ["CHROME", "log_lines", "log_rows"]
