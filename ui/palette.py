"""Display styles as data: one palette for colour terminals, one for monochrome.

Every style the renderer uses is named in ``STYLES``; each palette maps every
style to how it is drawn. The colour palette also carries a monochrome setting
per style (urwid uses it on a one-colour screen), and ``MONO`` is the palette
used when colour is switched off (``--color=never``, ``NO_COLOR``) or the
terminal has none (its terminfo entry names no colours, as ``tput colors``
would say: ``vt100``, ``dumb``). Both palettes must define every style; a test
checks this. ``color_mode`` makes that choice.

Colour entries are ``(foreground, background, foreground_256, background_256)``;
mono entries are one urwid mono setting (``bold``, ``underline``, ``standout``
and combinations, or ``default``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping

#: What each status of any table means for the eye; the renderer maps a row's
#: status to one of these through ``status_style``.
STATUS_STYLES: dict[str, tuple[str, ...]] = {
    "status_running": ("RUNNING", "WORKING", "running"),
    "status_ok": ("FINISHED", "SUCCEEDED", "SUCCESS", "finished"),
    "status_failed": ("FAILED", "FAILURE", "INTERNAL_ERROR", "TIMEOUT", "EXPIRED", "failed", "crashed"),
    "status_queued": ("QUEUED", "PENDING", "PREPARING", "pending", "queued", "preempted", "PAUSED"),
    "status_cancelled": ("CANCELLED", "CANCELLING", "killed", "cancelled"),
}

STYLES: tuple[str, ...] = (
    "body",
    "title",
    "title_focus",
    "header",
    "header_sorted",
    "selected",
    "related",
    "dim",
    "divider",
    "spinner",
    "age",
    "stale",
    "trouble",
    "error",
    "warning",
    "footer",
    "key",
    "paused",
    "replay",
    "filter",
    "toast_info",
    "toast_warning",
    "toast_error",
    "detail_label",
    *STATUS_STYLES,
)

COLOR: dict[str, tuple[str, str, str, str]] = {
    "body": ("default", "default", "default", "default"),
    "title": ("light gray,bold", "default", "#ddd,bold", "default"),
    "title_focus": ("white,bold", "dark blue", "#fff,bold", "#006"),
    "header": ("dark cyan,underline", "default", "#6cc,underline", "default"),
    "header_sorted": ("light cyan,bold,underline", "default", "#6ff,bold,underline", "default"),
    "selected": ("black", "light gray", "#000", "#aaa"),
    "related": ("light cyan,underline", "default", "#6df,underline", "default"),
    "dim": ("dark gray", "default", "#888", "default"),
    "divider": ("dark gray", "default", "#666", "default"),
    "spinner": ("light cyan", "default", "#6df", "default"),
    "age": ("dark gray", "default", "#999", "default"),
    "stale": ("black", "yellow", "#000", "#da0"),
    "trouble": ("white,bold", "dark red", "#fff,bold", "#a00"),
    "error": ("light red", "default", "#f66", "default"),
    "warning": ("yellow", "default", "#fc0", "default"),
    "footer": ("light gray", "dark gray", "#ccc", "#333"),
    "key": ("white,bold", "dark gray", "#fff,bold", "#333"),
    "paused": ("black,bold", "yellow", "#000,bold", "#fc0"),
    "replay": ("white,bold", "dark magenta", "#fff,bold", "#808"),
    "filter": ("black", "light cyan", "#000", "#6df"),
    "toast_info": ("white", "dark blue", "#fff", "#036"),
    "toast_warning": ("black", "yellow", "#000", "#da0"),
    "toast_error": ("white,bold", "dark red", "#fff,bold", "#a00"),
    "detail_label": ("light cyan", "default", "#6cf", "default"),
    "status_running": ("light cyan,bold", "default", "#3cf,bold", "default"),
    "status_ok": ("light green", "default", "#5d5", "default"),
    "status_failed": ("light red,bold", "default", "#f44,bold", "default"),
    "status_queued": ("yellow", "default", "#fc0", "default"),
    "status_cancelled": ("dark gray", "default", "#999", "default"),
}

MONO: dict[str, str] = {
    "body": "default",
    "title": "bold",
    "title_focus": "bold,standout",
    "header": "underline",
    "header_sorted": "bold,underline",
    "selected": "standout",
    "related": "underline",
    "dim": "default",
    "divider": "default",
    "spinner": "bold",
    "age": "default",
    "stale": "standout",
    "trouble": "bold,standout",
    "error": "bold",
    "warning": "underline",
    "footer": "standout",
    "key": "bold,standout",
    "paused": "bold,standout",
    "replay": "bold,standout",
    "filter": "underline",
    "toast_info": "standout",
    "toast_warning": "bold,standout",
    "toast_error": "bold,standout",
    "detail_label": "bold",
    "status_running": "bold",
    "status_ok": "default",
    "status_failed": "bold,underline",
    "status_queued": "underline",
    "status_cancelled": "default",
}

PALETTES: dict[str, Mapping[str, object]] = {"color": COLOR, "mono": MONO}

_STATUS_TO_STYLE = {status: style for style, statuses in STATUS_STYLES.items() for status in statuses}


def status_style(status: str) -> str:
    """The style of a status value, ``body`` for one we do not know."""
    return _STATUS_TO_STYLE.get(status, "body")


#: Values of ``--color`` (as ``ls`` and ``grep`` take them).
COLOR_CHOICES = ("auto", "always", "never")


def color_enabled(environ: Mapping[str, str] | None = None) -> bool:
    """Whether colour is wanted at all (https://no-color.org)."""
    env = os.environ if environ is None else environ
    return not env.get("NO_COLOR")


def terminfo_colors(term: str | None = None) -> int | None:
    """How many colours the terminal's terminfo entry names (``tput colors``):
    -1 when it names none, None when nothing can tell (no curses module, no
    ``TERM``, no entry for it).

    curses loads one entry per process, so this answers for the first ``term``
    asked about; the screen asks once. Only the terminfo database is read:
    nothing is sent to the terminal.
    """
    name = os.environ.get("TERM", "") if term is None else term
    if not name:
        return None
    try:
        import curses
    except ImportError:  # a Python built without curses: the raw display needs none
        return None
    fd = os.open(os.devnull, os.O_WRONLY)  # setupterm wants a descriptor; this one is never a terminal
    try:
        curses.setupterm(name, fd)
        return int(curses.tigetnum("colors"))
    except (curses.error, OSError, ValueError):
        return None
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)


def color_mode(choice: str = "auto", *, environ: Mapping[str, str] | None = None, colors: int | None = None) -> str:
    """``color`` or ``mono``, from ``--color`` (``choice``), ``NO_COLOR`` and
    what the terminal says it can do (``colors``: ``terminfo_colors()``).

    ``always`` and ``never`` win over everything; ``auto`` is mono when
    ``NO_COLOR`` is set or the terminfo entry names fewer than 8 colours, and
    colour otherwise (also when nothing can tell).
    """
    if choice not in COLOR_CHOICES:
        raise ValueError(f"unknown colour choice {choice!r} (choices: {', '.join(COLOR_CHOICES)})")
    if choice != "auto":
        return "color" if choice == "always" else "mono"
    if not color_enabled(environ):
        return "mono"
    return "mono" if colors is not None and colors < 8 else "color"


def entries(mode: str = "color") -> list[tuple[str, str, str, str, str, str]]:
    """Palette entries for urwid: ``(name, fg, bg, mono, fg_256, bg_256)``.

    ``mode`` is ``color`` (urwid still falls back to the mono column on a
    one-colour screen) or ``mono`` (no colour whatever the terminal says).
    """
    if mode not in PALETTES:
        raise ValueError(f"unknown palette {mode!r} (palettes: {', '.join(PALETTES)})")
    out = []
    for name in STYLES:
        mono = MONO[name]
        if mode == "mono":
            # The settings go in the colour columns too, so a screen that
            # believes it has colours still draws bold/underline/standout.
            out.append((name, mono, "default", mono, mono, "default"))
        else:
            fg, bg, fg_high, bg_high = COLOR[name]
            out.append((name, fg, bg, mono, fg_high, bg_high))
    return out


__all__ = [
    "COLOR",
    "COLOR_CHOICES",
    "MONO",
    "PALETTES",
    "STATUS_STYLES",
    "STYLES",
    "color_enabled",
    "color_mode",
    "entries",
    "status_style",
    "terminfo_colors",
]
