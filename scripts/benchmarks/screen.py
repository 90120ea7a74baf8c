"""Reading the monitor's screen: table title lines, spinner frames, the help view.

The words and glyphs looked for come from the ``ui`` package (the state labels, the
spinner frames and its rate, the help view's title), so the benchmark reads
what the UI draws today instead of a copy that could drift from it.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from arr_actors.tables import TABLES
from ui.context import SPINNER_FPS, UTF8_GLYPHS, RenderContext
from ui.views.help import help_lines
from ui.views.title import STATE_LABELS

if TYPE_CHECKING:
    from e2e.pty import Terminal

#: What a table's title line says when its rows are not fresh.
TROUBLE_LABELS: tuple[str, ...] = tuple(label for label, _style in STATE_LABELS.values())
SPINNER_GLYPHS: tuple[str, ...] = UTF8_GLYPHS.spinner
#: The help view's first line, as the UI draws it (its text does not depend on the size).
HELP_TITLE = "".join(text for _style, text in help_lines(cols=80, rows=24, ctx=RenderContext())[0]).strip()
_ROW_COUNT = re.compile(r"\b(\d+)(?:/(\d+))? rows?\b")


@dataclass(frozen=True, slots=True)
class TitleView:
    """What one table's title line on screen says."""

    rows: int | None
    labels: tuple[str, ...]
    spinner: int | None  # index of the spinner frame shown, if any

    @property
    def filled(self) -> bool:
        """Fresh rows on screen: a row count and no word saying they are old or failed."""
        return bool(self.rows) and not self.labels


def title_view(lines: Sequence[str], title: str) -> TitleView | None:
    """Read a table's title line (``"▶ W&B Launch agent  10 rows  ⠋ 3 s  STALE ..."``)."""
    for line in lines:
        if line[2 : 2 + len(title)] != title:
            continue
        rest = line[2 + len(title) :]
        count = _ROW_COUNT.search(rest)
        rows = int(count.group(2) or count.group(1)) if count else None
        labels = tuple(label for label in TROUBLE_LABELS if f"  {label}" in rest)
        spinner = next((SPINNER_GLYPHS.index(c) for c in rest if c in SPINNER_GLYPHS), None)
        return TitleView(rows=rows, labels=labels, spinner=spinner)
    return None


def title_views(term: Terminal) -> list[TitleView | None]:
    """Every table's title line as the screen shows it now."""
    lines = term.screen.display
    return [title_view(lines, spec.title) for spec in TABLES]


def titles_visible(term: Terminal) -> bool:
    return all(view is not None for view in title_views(term))


def help_open(term: Terminal) -> bool:
    return any(HELP_TITLE in line for line in term.screen.display[:2])


def tables_shown(term: Terminal) -> bool:
    return not help_open(term) and titles_visible(term)


def spinning_everywhere(term: Terminal) -> bool:
    return all(view is not None and view.spinner is not None for view in title_views(term))


def fetches_done(term: Terminal) -> bool:
    """No table shows a spinner: every fetch has ended."""
    return all(view is not None and view.spinner is None for view in title_views(term))


def fresh_tables(term: Terminal) -> list[str]:
    """The keys of the tables whose title says their rows are fresh."""
    lines = term.screen.display
    return [spec.key for spec in TABLES if (view := title_view(lines, spec.title)) and view.filled]


class FillTimes:
    """A screen predicate that notes when each table first shows rows (fresh, or any rows)."""

    def __init__(self, *, fresh: bool) -> None:
        self.fresh = fresh
        self.at: dict[str, float] = {}

    def __call__(self, term: Terminal) -> bool:
        lines = term.screen.display
        now = time.monotonic()
        for spec in TABLES:
            if spec.key in self.at:
                continue
            view = title_view(lines, spec.title)
            if view is not None and (view.filled if self.fresh else bool(view.rows)):
                self.at[spec.key] = now
        return len(self.at) == len(TABLES)


def spinner_lags(term: Terminal, *, seconds: float, fps: float = SPINNER_FPS) -> list[float]:
    """How late each spinner frame reaches the screen, in seconds.

    The UI schedules its spinner alarm on wall-clock multiples of ``1/fps``
    and draws frame ``int(now * fps) % len(glyphs)``. So a frame seen at time
    ``t`` belongs to the latest tick ``k <= t * fps`` with that frame number,
    and ``t - k / fps`` is the lateness of the loop (alarm, render, write, pty)
    for that tick. Nothing else changes the screen while every fetch hangs
    and no key is pressed.
    """
    lags: list[float] = []
    last: int | None = None
    frames = len(SPINNER_GLYPHS)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if not term.pump(0.2):
            continue
        while term.pump(0):
            pass
        seen = time.time()
        view = title_view(term.screen.display, TABLES[0].title)
        if view is None or view.spinner is None or view.spinner == last:
            continue
        last = view.spinner
        lags.append(frame_lateness(seen, view.spinner, fps=fps, frames=frames))
    return lags


def frame_lateness(seen: float, frame: int, *, fps: float, frames: int) -> float:
    """Seconds between the latest tick that draws ``frame`` and ``seen`` (wall clock)."""
    tick = math.floor(seen * fps)
    tick -= (tick - frame) % frames
    return seen - tick / fps
