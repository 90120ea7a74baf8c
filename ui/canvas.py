"""Finished lines of markup drawn straight into one urwid text canvas."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import urwid

from ui.text import Markup, clip, width_of


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
        attrs: list[list[tuple[Hashable, int]]] = []
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
                line = clip(line, cols)
                text = "".join(piece for _, piece in line)
            simple = text.isascii()  # one byte, one column per character
            # Printable ASCII, or UTF-8 (no character-set shifts): the line encodes in one go.
            data = text.encode("ascii") if simple else text.encode("utf-8", "urwid_fallback")
            attr: list[tuple[Hashable, int]] = []
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


def _add_run(runs: list[tuple[Hashable, int]], style: str, length: int) -> None:
    """Append a run of ``length`` bytes in ``style``, merged with the last run if it has the same style."""
    if not length:
        return
    if runs and runs[-1][0] == style:
        runs[-1] = (style, runs[-1][1] + length)
    else:
        runs.append((style, length))


__all__ = ["Lines"]
