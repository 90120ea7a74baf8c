"""A full log on screen, as one immutable value: the bounded line buffer, where
the view is, the search, wrap and follow state, and the pure functions that change it.

The lines come from a log read made elsewhere (a fetch process under the
watchdog); this module never reads anything. Lines are made inert before they
are kept, so a log's escape sequences never reach the terminal. The buffer
holds at most ``max_lines``: following a running item appends, and the oldest
lines are dropped with a count the view shows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass

from arr_actors.inert import inert_lines
from ui.text import width_of

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

    def replace(self, **changes: object) -> LogView:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


def _inert(lines: Iterable[str]) -> list[str]:
    return [piece for line in lines for piece in inert_lines(line)]


def error_index(lines: tuple[str, ...], error_text: str) -> int | None:
    """The last line holding the diagnosed error (its first 60 characters suffice: a note may be cut)."""
    needle = error_text.strip()[:60]
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
    if view.dropped:
        parts.append(f"{view.dropped} oldest lines dropped")
    if view.follow:
        parts.append("following (paused)" if view.paused else "following")
    if view.search:
        parts.append(f"/{view.search}" + ("" if view.match is not None else " (no match)"))
    return "  ".join(parts)


def saved_text(view: LogView) -> str:
    """What saving writes: every line kept, one per line, with a note of the dropped ones first."""
    note = [f"[{view.dropped} older lines were dropped from this view]"] if view.dropped else []
    return "\n".join([*note, *view.lines]) + "\n"


__all__ = [
    "MAX_LINES",
    "LogView",
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
