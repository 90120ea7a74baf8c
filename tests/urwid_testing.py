"""The widget test helpers of ``urwid.testing`` (urwid 5), with stand-ins on urwid 4.

Python 3.10 gets urwid 4 at most, which has no ``urwid.testing``; the stand-ins do
the same for what these tests use (plain palette names, no layered attributes).
"""

from __future__ import annotations

import collections
from collections.abc import Hashable, Iterable
from typing import Any

import urwid

try:
    from urwid.testing import ScriptedScreen, press, render_runs, render_text, resolve_attr
except ImportError:  # urwid 4
    from urwid.util import get_encoding

    # Position in a palette entry (basic, mono, 88, 256, true colour) for each number of colours.
    _COLOR_INDEX = {1: 1, 16: 0, 88: 2, 256: 3, 2**24: 4}

    def render_text(widget: Any, size: tuple[int, ...], *, focus: bool = False, strip: bool = False) -> list[str]:
        lines = list(widget.render(size, focus=focus).decoded_text)
        return [line.rstrip() for line in lines] if strip else lines

    def render_runs(widget: Any, size: tuple[int, ...], *, focus: bool = False) -> list[list[tuple[Hashable, str]]]:
        encoding = get_encoding()
        rows: list[list[tuple[Hashable, str]]] = []
        for row in widget.render(size, focus=focus).content():
            runs: list[tuple[Hashable, str]] = []
            for attr, _charset, text in row:
                decoded = text.decode(encoding)
                if runs and runs[-1][0] == attr:
                    runs[-1] = (attr, runs[-1][1] + decoded)
                else:
                    runs.append((attr, decoded))
            rows.append(runs)
        return rows

    class _PaletteScreen(urwid.display.BaseScreen):
        """A screen that only holds a palette."""

        def draw_screen(self, size: tuple[int, int], canvas: Any) -> None:
            raise NotImplementedError

    def resolve_attr(attr: Hashable, palette: Iterable[Any], *, colors: int = 256) -> urwid.AttrSpec:
        if colors not in _COLOR_INDEX:
            raise ValueError(f"colors must be one of {sorted(_COLOR_INDEX)}, got {colors!r}")
        screen = _PaletteScreen()
        screen.register_palette(palette)
        entry = screen._palette.get(attr)
        if entry is None:
            return urwid.AttrSpec("default", "default")
        return entry[_COLOR_INDEX[colors]]

    def press(widget: Any, size: tuple[int, ...], *keys: str) -> list[str]:
        unhandled = []
        for key in keys:
            returned = widget.keypress(size, key)
            if returned is not None:
                unhandled.append(returned)
        return unhandled

    class ScriptedScreen(urwid.display.BaseScreen):  # type: ignore[no-redef]
        """Records distinct frames and feeds one input batch after every draw; quits when they are used up."""

        def __init__(self, *, size: tuple[int, int] = (80, 24), inputs: Iterable[Iterable[str]] = ()) -> None:
            super().__init__()
            self.size = size
            self.canvases: list[Any] = []
            self.draw_count = 0
            self._inputs = collections.deque(list(batch) for batch in inputs)
            self._frame: Any = None
            self._event_loop: Any = None
            self._callback: Any = None
            self._feed_handle: Any = None

        @property
        def last_text(self) -> list[str]:
            return list(self.canvases[-1].decoded_text)

        def get_cols_rows(self) -> tuple[int, int]:
            return self.size

        def draw_screen(self, size: tuple[int, int], canvas: Any) -> None:
            self.draw_count += 1
            frame = (size, list(canvas.content()), canvas.cursor)
            if frame != self._frame:
                self._frame = frame
                self.canvases.append(canvas)
            if self._event_loop is not None and self._feed_handle is None:
                self._feed_handle = self._event_loop.alarm(0, self._feed)

        def _feed(self) -> None:
            self._feed_handle = None
            if self._callback is not None:
                self._callback(*self.get_input(True))

        def get_input(self, raw_keys: bool = False) -> Any:
            if not self._inputs:
                raise urwid.ExitMainLoop
            batch = self._inputs.popleft()
            return (batch, []) if raw_keys else batch

        def hook_event_loop(self, event_loop: Any, callback: Any) -> None:
            self._event_loop = event_loop
            self._callback = callback

        def unhook_event_loop(self, event_loop: Any) -> None:
            if self._feed_handle is not None:
                event_loop.remove_alarm(self._feed_handle)
                self._feed_handle = None
            self._event_loop = None
            self._callback = None


__all__ = ["ScriptedScreen", "press", "render_runs", "render_text", "resolve_attr"]
