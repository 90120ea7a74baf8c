"""Measuring, fitting and wrapping text in terminal columns, and building lines of markup.

A line is a list of ``(style, text)`` pairs (``Markup``); every function that
returns one makes it exactly as wide as asked. Wide characters count two
columns, controls none.
"""

from __future__ import annotations

from collections.abc import Iterable

from urwid.str_util import calc_text_pos, calc_width

Markup = list[tuple[str, str]]


def width_of(text: str) -> int:
    """Terminal columns of ``text`` (wide characters count two, controls none)."""
    if text.isascii() and text.isprintable():
        return len(text)  # the common case, without a per-character table walk
    return calc_width(text, 0, len(text))


def fit(text: str, width: int, *, ellipsis: str, align: str = "left") -> str:
    """``text`` in exactly ``width`` columns: padded, or cut with ``ellipsis``
    (the context's glyph: every caller says which, so an ASCII terminal never
    gets a UTF-8 one)."""
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
    """Wrap one line into pieces of at most ``width`` columns: at the last
    space that fits (``words``), so a word that fits a line (an id, a URL) is
    never split; a word longer than a whole line is split anywhere."""
    if width <= 0:
        return [""]
    out = []
    while width_of(text) > width:
        pos, _ = calc_text_pos(text, 0, len(text), width)
        pos = max(pos, 1)
        if words:
            space = text.rfind(" ", 0, pos + 1)
            if space > len(text) - len(text.lstrip(" ")):  # not the indent
                out.append(text[:space])
                text = text[space + 1 :]
                continue
        out.append(text[:pos])
        text = text[pos:]
    out.append(text)
    return out


def wrapped(text: str, cols: int, *, indent: int = 0) -> list[str]:
    """``text`` word-wrapped to ``cols``, continuation lines indented, each exactly ``cols`` wide."""
    first, *rest = wrap(text, cols)
    out = [fit(first, cols, ellipsis="")]
    pad = " " * indent
    for piece in wrap(" ".join(rest), max(1, cols - indent)) if rest else []:
        out.append(fit(pad + piece, cols, ellipsis=""))
    return out


def cells(pieces: Iterable[tuple[str, str, int, str]], *, cols: int, ellipsis: str, line_style: str | None) -> Markup:
    """Lay out ``(style, text, width, align)`` cells into one line of ``cols``,
    one space between them; cells of width 0 are hidden. ``line_style``
    overrides every style (a selected row)."""
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
    return clip(out, cols)


def clip(line: Markup, cols: int) -> Markup:
    """Cut a line to ``cols`` columns (padded when shorter)."""
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


def plain(text: str, cols: int, *, ellipsis: str, style: str = "body") -> Markup:
    """One line of one style, ``text`` fitted to ``cols``."""
    return [(style, fit(text, cols, ellipsis=ellipsis))]


__all__ = ["Markup", "cells", "clip", "fit", "plain", "width_of", "wrap", "wrapped"]
