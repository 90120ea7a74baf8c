"""The one widget of the screen: draws the UI actor's state, passes keys to it.

It draws the pure ``ui.screen`` lines of the actor's state through
``ui.canvas.Lines``, and remembers the last frame drawn so that the actor's
once-a-second alarm redraws only when the screen would read differently.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import urwid

from arr_actors_ui import screen
from arr_actors_ui.canvas import Lines
from arr_actors_ui.model import UiState
from arr_actors_ui.text import Markup

if TYPE_CHECKING:
    from arr_actors_ui.actor import UiActor


class MonitorWidget(urwid.Widget):
    """The whole screen: renders the actor's state, passes keys to it."""

    _sizing = frozenset([urwid.Sizing.BOX])
    _selectable = True
    ignore_focus = False

    def __init__(self, actor: UiActor) -> None:
        super().__init__()
        self._actor = actor
        self._drawn: tuple[tuple[int, int], list[Markup]] | None = None  # size and lines last drawn
        # Lines looks_different made for a state (by identity) and size: the redraw it asks for uses them.
        self._ahead: tuple[UiState, tuple[int, int], list[Markup]] | None = None

    def changed(self) -> None:
        self._invalidate()

    def looks_different(self, now: float) -> bool:
        """Whether the screen drawn at ``now`` would read differently from the last one drawn."""
        if self._drawn is None:
            return True
        size, lines = self._drawn
        actor = self._actor
        ahead = screen.screen_lines(actor.state, now=now, cols=size[0], rows=size[1], ctx=actor.ctx)
        if ahead == lines:
            return False
        self._ahead = (actor.state, size, ahead)
        return True

    def render(self, size: tuple[int, int], focus: bool = False) -> urwid.Canvas:  # type: ignore[override]
        actor = self._actor
        ahead, self._ahead = self._ahead, None
        if ahead is not None and ahead[0] is actor.state and ahead[1] == size:
            lines = ahead[2]  # made for this state and size at the alarm's tick: not made twice
        else:
            lines = screen.screen_lines(actor.state, now=actor.clock(), cols=size[0], rows=size[1], ctx=actor.ctx)
        first = self._drawn is None
        self._drawn = (size, lines)
        canvas = Lines(lines).render(size, focus=focus)
        if first:
            actor.first_frame_drawn()
        return canvas

    def keypress(self, size: tuple[int, int], key: str) -> str | None:  # type: ignore[override]
        return self._actor.keypress(size, key)


__all__ = ["MonitorWidget"]
