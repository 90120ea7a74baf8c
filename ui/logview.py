"""A full log on screen, as one immutable value: the bounded line buffer, where
the view is, the search, wrap and follow state, and the pure functions that change it.

The lines come from a log read made elsewhere (the log reader's fetch process
under the watchdog, as :class:`~arr_actors.messages.LogPage` messages answering
the view's request number); this module never reads anything. Until the first
page comes, a runner execution's view shows the excerpt its row already holds. Lines are made inert before they
are kept, so a log's escape sequences never reach the terminal. The buffer
holds at most ``max_lines``: following a running item appends, and the oldest
lines are dropped with a count the view shows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass

from arr_actors.inert import inert_lines
from arr_actors.messages import LOG_TABLES, LogPage, LogSource, Row
from arr_actors_ui.text import width_of

#: Lines kept by default (a 10,000-line log opens whole).
MAX_LINES = 10_000


@dataclass(frozen=True, slots=True)
class LogView:
    """One open log. ``top`` is the first line shown (an index into ``lines``);
    ``dropped`` counts the oldest lines let go to stay within the bound;
    ``error`` is the index of the diagnosed error line, ``match`` of the current
    search match (None: none)."""

    title: str
    lines: tuple[str, ...] = ()
    dropped: int = 0
    top: int = 0
    wrap: bool = False
    search: str = ""
    match: int | None = None
    error: int | None = None
    follow: bool = False  # new lines are appended while the item runs
    paused: bool = False  # following, but not scrolling to new lines
    max_lines: int = MAX_LINES
    # What the view asked the runtime for, and how the reading goes.
    request: int = 0
    source: LogSource | None = None
    reading: bool = False  # the first read has not sent its last page yet
    preview: bool = False  # the lines are the row's excerpt, until the first page replaces them
    problem: str = ""  # why the last read failed ("" when it did not)
    cut: bool = False  # older lines exist that were not read
    next_read_at: float | None = None  # following: when the next read is due
    throttled_until: float | None = None
    error_line: str = ""  # the failure's line as the read found it, until it is placed
    editing: bool = False  # a search is being typed (``typed``)
    typed: str = ""
    height: int = 20  # lines of log on screen (the last layout's; keys and landing use it)
    every: float | None = None  # following: seconds between reads (``api.log_follow_s``)

    def replace(self, **changes: object) -> LogView:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


def source_for(table: str, row: Row) -> LogSource | None:
    """What the log view reads for a row of ``table`` (None: the table has no logs)."""
    if table not in LOG_TABLES:
        return None
    failed = row.status.upper() in _FAILED_STATES
    start = getattr(row, "created_at", None)
    if table == "runner":
        end = None if row.active else getattr(row, "completed_at", None)
        return LogSource(table, row.key, f"execution {row.ident}", row.ident, getattr(row, "region", ""), start, end, failed)
    if table == "vertex":
        end = None if row.active else getattr(row, "ended_at", None)
        name = getattr(row, "display_name", "") or row.ident
        return LogSource(table, row.key, f"job {name}", row.ident, getattr(row, "region", ""), start, end, failed)
    end = None if row.active else getattr(row, "finished_at", None)
    return LogSource(table, row.key, f"build {row.ident[:8]}", row.ident, getattr(row, "region", ""), start, end, failed)


#: States whose log has a failure to open on (the services' names, upper case).
_FAILED_STATES = frozenset({"FAILED", "FAILURE", "INTERNAL_ERROR", "TIMEOUT", "EXPIRED", "ERROR", "CRASHED"})


def requested(
    request: int,
    source: LogSource,
    *,
    follow: bool,
    preview: Iterable[str] = (),
    max_lines: int = MAX_LINES,
    height: int = 20,
    every: float | None = None,
) -> LogView:
    """The view of a log just asked for: the row's excerpt (if any) while the first page comes."""
    lines = tuple(_inert(preview))
    return LogView(
        title=source.name, lines=lines, top=max(0, len(lines) - height), follow=follow, max_lines=max_lines,
        request=request, source=source, reading=True, preview=bool(lines), height=height, every=every if follow else None,
    )


def received(view: LogView, page: LogPage, *, height: int) -> LogView:
    """Fold in one page of the view's request (pages of another request are not its own)."""
    if page.request != view.request:
        return view
    view = view.replace(problem=page.error, throttled_until=page.throttled_until, next_read_at=page.next_read_at)
    if page.lines or page.done:
        if view.reading and not page.older:
            # The first page: the newest lines, replacing the excerpt shown meanwhile; the view opens at the end.
            view = view.replace(lines=(), top=0, dropped=0, match=None, error=None, preview=False)
            view = appended(view, page.lines, height=height)
            view = view.replace(top=max(0, len(view.lines) - height))
        elif page.older:
            view = _prepended(view, page.lines, height=height)
        else:
            view = appended(view, page.lines, height=height)
    if page.error_line:
        view = view.replace(error_line=page.error_line)
    if view.error is None and view.error_line:
        index = error_index(view.lines, view.error_line)
        if index is not None:
            view = view.replace(error=index, error_line="", top=_centred(index, height, len(view.lines)))
    if page.done:
        view = view.replace(reading=False, cut=view.cut or page.cut)
    return view


def _prepended(view: LogView, older: Iterable[str], *, height: int) -> LogView:
    """Older lines before the ones shown; the view stays on the same lines (the bound cuts the oldest)."""
    new = tuple(_inert(older))
    room = max(0, view.max_lines - len(view.lines))
    kept = new[len(new) - room :] if room < len(new) else new
    shift = len(kept)

    def moved(index: int | None) -> int | None:
        return None if index is None else index + shift

    return view.replace(
        lines=kept + view.lines, top=view.top + shift, match=moved(view.match), error=moved(view.error),
        cut=view.cut or len(kept) < len(new),
    )


def _inert(lines: Iterable[str]) -> list[str]:
    return [piece for line in lines for piece in inert_lines(line)]


def error_index(lines: tuple[str, ...], error_text: str) -> int | None:
    """The last line holding the diagnosed error (its first 60 characters suffice: a note may be cut)."""
    needle = "".join(_inert([error_text])[:1]).strip()[:60]
    if not needle:
        return None
    for i in range(len(lines) - 1, -1, -1):
        if needle in lines[i]:
            return i
    return None


def opened(
    title: str, lines: Iterable[str], *, error_text: str = "", follow: bool = False, height: int = 20,
    max_lines: int = MAX_LINES,
) -> LogView:
    """A new view of ``lines``: at the diagnosed error line when there is one, else at the end when following, else at the top."""
    view = appended(LogView(title=title, follow=follow, max_lines=max_lines), lines, height=height)
    index = error_index(view.lines, error_text)
    if index is not None:
        return view.replace(error=index, top=_centred(index, height, len(view.lines)))
    return view if follow else view.replace(top=0)


def appended(view: LogView, new: Iterable[str], *, height: int) -> LogView:
    """``new`` lines at the end, the oldest dropped past ``max_lines``; a
    following, unpaused view that was at the end stays at the end."""
    at_end = view.top >= max(0, len(view.lines) - height)
    lines = view.lines + tuple(_inert(new))
    drop = max(0, len(lines) - view.max_lines)
    lines = lines[drop:]

    def moved(index: int | None) -> int | None:
        return None if index is None or index < drop else index - drop

    top = max(0, view.top - drop)
    if view.follow and not view.paused and at_end:
        top = max(0, len(lines) - height)
    return view.replace(
        lines=lines, dropped=view.dropped + drop, top=top, match=moved(view.match), error=moved(view.error)
    )


def _centred(index: int, height: int, total: int) -> int:
    return max(0, min(index - height // 3, total - height))


def scrolled(view: LogView, action: str, *, height: int) -> LogView:
    """After a scroll key (the detail view's names: ``scroll_up`` ... ``scroll_bottom``)."""
    bottom = max(0, len(view.lines) - height)
    page = max(1, height - 1)
    target = {
        "scroll_up": view.top - 1,
        "scroll_down": view.top + 1,
        "scroll_page_up": view.top - page,
        "scroll_page_down": view.top + page,
        "scroll_top": 0,
        "scroll_bottom": bottom,
    }[action]
    return view.replace(top=max(0, min(target, bottom)))


def searched(view: LogView, text: str, *, height: int, forward: bool = True) -> LogView:
    """The next (``n``) or previous (``N``) line holding ``text`` (case-insensitive), from the current match or the view's top; wraps."""
    needle = text.lower()
    if not needle or not view.lines:
        return view.replace(search=text, match=None)
    total = len(view.lines)
    start = view.match if view.match is not None and text == view.search else view.top - (1 if forward else -1)
    for step in range(1, total + 1):
        i = (start + step) % total if forward else (start - step) % total
        if needle in view.lines[i].lower():
            return view.replace(search=text, match=i, top=_centred(i, height, total))
    return view.replace(search=text, match=None)


def toggled(view: LogView, what: str) -> LogView:
    """``wrap`` on/off, or ``pause`` of following (resuming jumps to the newest lines)."""
    if what == "wrap":
        return view.replace(wrap=not view.wrap)
    if what == "pause" and view.follow:
        return view.replace(paused=not view.paused)
    return view


def _pieces(text: str, cols: int) -> list[str]:
    """``text`` cut into pieces of at most ``cols`` terminal columns (a wide character counts two)."""
    if width_of(text) <= cols:
        return [text]
    pieces, piece, used = [], "", 0
    for char in text:
        w = width_of(char)
        if used + w > cols and piece:
            pieces.append(piece)
            piece, used = "", 0
        piece += char
        used += w
    return [*pieces, piece]


def visible(view: LogView, *, cols: int, rows: int) -> list[tuple[int, str]]:
    """``(line index, text)`` of what fills ``rows`` lines of ``cols``: whole lines cut at the edge, or wrapped."""
    out: list[tuple[int, str]] = []
    for i in range(view.top, len(view.lines)):
        text = view.lines[i]
        pieces = _pieces(text, max(1, cols))
        for piece in pieces if view.wrap else pieces[:1]:
            if len(out) == rows:
                return out
            out.append((i, piece))
    return out


def header(view: LogView, *, height: int) -> str:
    """The title line's facts: where the view is, what was dropped, the follow state."""
    total = len(view.lines)
    first = min(total, view.top + 1)
    last = min(total, view.top + height)
    parts = [view.title, f"lines {first}-{last} of {total}"]
    if view.preview:
        parts.append("excerpt; reading the full log")
    elif view.reading:
        parts.append("reading older lines")
    if view.cut:
        parts.append("older lines not read")
    if view.dropped:
        parts.append(f"{view.dropped} oldest lines dropped")
    if view.follow:
        parts.append("following (paused)" if view.paused else "following")
    if view.search:
        parts.append(f"/{view.search}" + ("" if view.match is not None else " (no match)"))
    return ", ".join(parts)


def saved_text(view: LogView) -> str:
    """What saving writes: every line kept, one per line, with a note of the dropped ones first."""
    note = [f"[{view.dropped} older lines were dropped from this view]"] if view.dropped else []
    return "\n".join([*note, *view.lines]) + "\n"


__all__ = [
    "MAX_LINES",
    "LogView",
    "received",
    "requested",
    "source_for",
    "appended",
    "error_index",
    "header",
    "opened",
    "saved_text",
    "scrolled",
    "searched",
    "toggled",
    "visible",
]
