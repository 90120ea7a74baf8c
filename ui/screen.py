"""The screen as a pure function of the UI state, the time and the terminal.

Everything here takes plain values (``UiState``, ``now``, a ``RenderContext``
and a size) and returns lines of markup (``ui.text``) or the widget drawing
them (``ui.canvas``); nothing reads a clock, the environment or the terminal.
Every string that came from outside passes through ``arr_actors.inert`` and reaches
urwid as a plain ``str`` inside markup built here, so it can neither drive the
terminal nor act as markup.

The screen is one view (``ui.views``: the tables, a detail view, a log, region
health or the help) over the footer.
"""

from __future__ import annotations

from dataclasses import dataclass

import urwid

from arr_actors.tables import TABLE_KEYS
from arr_actors_ui import model
from arr_actors_ui.canvas import Lines
from arr_actors_ui.context import SPINNER_FPS, RenderContext
from arr_actors_ui.model import UiState
from arr_actors_ui.text import Markup
from arr_actors_ui.views.footer import footer_height, footer_lines
from arr_actors_ui.views.tables import tables_area

# The detail, log, help and region health views are imported where they are
# first drawn: the first frame shows only the tables, and is drawn before them.


def screen_lines(state: UiState, *, now: float, cols: int, rows: int, ctx: RenderContext) -> list[Markup]:
    """Every line of the screen, exactly ``rows`` lines of ``cols`` columns."""
    footer = footer_lines(state, now=now, cols=cols, ctx=ctx)
    avail = max(0, rows - len(footer))
    now = shown_moment(state, now)
    if state.help_open:
        from arr_actors_ui.views.help import help_lines

        body = help_lines(cols=cols, rows=avail, ctx=ctx, scroll=state.help_scroll)
    elif state.health_open:
        from arr_actors_ui.views.health import health_lines

        body = health_lines(state, now=now, cols=cols, rows=avail, ctx=ctx)
    elif state.log is not None:
        from arr_actors_ui.views.log import log_lines

        body = log_lines(state.log, now=now, cols=cols, rows=avail, ctx=ctx)
    elif state.detail is not None:
        from arr_actors_ui.views.detail import detail_view

        body = detail_view(state, now=now, cols=cols, rows=avail, ctx=ctx).lines
    else:
        body = tables_area(state, now=now, cols=cols, rows=avail, ctx=ctx)
    body = body[:avail]
    body += [[("body", " " * cols)]] * (avail - len(body))
    return (body + footer)[-rows:] if rows else []


def shown_moment(state: UiState, now: float) -> float:
    """The moment the tables show: ``now``, or the end of a replayed recording
    once it is over (its ages stop there, while notices still come and go)."""
    ended = state.replay_ended_at
    return now if ended is None else min(now, ended)


def screen(state: UiState, *, now: float, size: tuple[int, int], ctx: RenderContext) -> urwid.Widget:
    """The whole screen as a box widget of ``size``."""
    cols, rows = size
    return Lines(screen_lines(state, now=now, cols=cols, rows=rows, ctx=ctx))


def wakeup_interval(state: UiState, *, now: float) -> float | None:
    """How soon the screen changes by itself: spinner frames while a fetch runs,
    once a second while something counts (ages, running rows, countdowns,
    toasts), never when nothing on screen depends on the time."""
    if any(model.fetch_in_flight(state, key, now) for key in TABLE_KEYS):
        return 1.0 / SPINNER_FPS
    if model.live_toasts(state, now):
        return 1.0
    if state.log is not None and state.log.follow and not state.help_open:
        return 1.0  # the countdown to the next read
    if state.help_open:
        return None
    for snapshot in state.snapshots.values():
        if snapshot.fetched_at is not None or snapshot.next_refresh_at is not None:
            return 1.0
        if any(row.is_running for row in snapshot.rows):
            return 1.0
    return None


@dataclass(frozen=True, slots=True)
class Measure:
    """What key handling needs to know about the current layout."""

    page: int
    detail_max_scroll: int | None
    help_max_scroll: int | None = None
    log_rows: int | None = None


def measure(state: UiState, *, now: float, size: tuple[int, int], ctx: RenderContext) -> Measure:
    """The page size and how far the detail view or the help scrolls, without drawing the screen."""
    cols, rows = size
    avail = max(1, rows - footer_height(state, now=now, cols=cols))
    from arr_actors_ui.views.log import log_rows

    if state.log is not None and not state.help_open and not state.health_open:
        lines = log_rows(avail)
        return Measure(page=max(1, lines - 1), detail_max_scroll=None, log_rows=lines)
    if state.help_open:
        from arr_actors_ui.views.detail import detail_page
        from arr_actors_ui.views.help import help_max_scroll

        return Measure(
            page=detail_page(avail),
            detail_max_scroll=None,
            help_max_scroll=help_max_scroll(cols=cols, rows=avail, ctx=ctx),
        )
    if state.detail is not None:
        from arr_actors_ui.views.detail import detail_max_scroll, detail_page

        return Measure(
            page=detail_page(avail),
            detail_max_scroll=detail_max_scroll(state, now=now, cols=cols, rows=avail, ctx=ctx),
        )
    return Measure(page=max(1, min(10, avail // 3)), detail_max_scroll=None, log_rows=log_rows(avail))


__all__ = ["Measure", "measure", "screen", "screen_lines", "shown_moment", "wakeup_interval"]
