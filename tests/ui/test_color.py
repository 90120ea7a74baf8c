"""Colour by what the terminal says it can do: terminfo, NO_COLOR and --color."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import urwid

from ui import app, palette

# Parameters of SGR that set a colour (default colours 39 and 49 included).
COLOUR_PARAMS = re.compile(r"^(3\d|4\d|9[0-7]|10[0-7])$")


@pytest.mark.parametrize(
    ("choice", "environ", "colors", "expected"),
    [
        ("auto", {}, 256, "color"),
        ("auto", {}, 8, "color"),
        ("auto", {}, None, "color"),  # nothing can tell: leave it to urwid
        ("auto", {}, -1, "mono"),  # vt100, dumb: tput colors says -1
        ("auto", {}, 2, "mono"),
        ("auto", {"NO_COLOR": "1"}, 256, "mono"),
        ("auto", {"NO_COLOR": ""}, 256, "color"),  # https://no-color.org: set and not empty
        ("never", {}, 256, "mono"),
        ("always", {"NO_COLOR": "1"}, -1, "color"),
    ],
)
def test_color_mode(choice: str, environ: dict[str, str], colors: int | None, expected: str) -> None:
    assert palette.color_mode(choice, environ=environ, colors=colors) == expected


def test_an_unknown_choice_is_named() -> None:
    with pytest.raises(ValueError, match="unknown colour choice 'sometimes'"):
        palette.color_mode("sometimes")


@pytest.mark.parametrize(("term", "expected"), [("vt100", -1), ("dumb", -1), ("xterm", 8), ("xterm-256color", 256)])
def test_terminfo_colors_reads_the_terminal_database(term: str, expected: int) -> None:
    # curses reads one entry per process: ask in a fresh one for each terminal
    code = f"from ui import palette; print(palette.terminfo_colors({term!r}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True)
    assert out.stdout.strip() == str(expected)


def test_terminfo_colors_of_an_unknown_terminal_is_none() -> None:
    code = "from ui import palette; print(palette.terminfo_colors('no-such-terminal-xyz'), palette.terminfo_colors(''))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True)
    assert out.stdout.split() == ["None", "None"]


def sgr_params(data: str) -> set[str]:
    return {p for seq in re.findall(r"\x1b\[([0-9;]*)m", data) for p in seq.split(";")}


def test_a_mono_screen_sends_attributes_but_no_colour() -> None:
    screen = app.make_screen("mono")
    assert isinstance(screen, app.MonoScreen) and screen.colors == 1
    screen.register_palette(palette.entries("mono"))
    escapes = "".join(screen._attr_to_escape(name) for name in palette.STYLES)
    params = sgr_params(escapes)
    assert not {p for p in params if COLOUR_PARAMS.match(p)}
    assert {"1", "4", "7"} <= params  # bold, underline, reverse


def test_a_colour_screen_sends_colour_and_always_forces_it_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "dumb")  # urwid takes it for monochrome
    assert app.make_screen("color").colors == 1
    screen = app.make_screen("color", force=True)
    assert screen.colors == 16
    screen.register_palette(palette.entries("color"))
    assert {p for p in sgr_params(screen._attr_to_escape("status_failed")) if COLOUR_PARAMS.match(p)}


def test_without_colour_keeps_every_other_parameter() -> None:
    assert app._without_colour("\x1b[0;39;1;4;49m") == "\x1b[0;1;4m"
    assert app._without_colour("\x1b[39;49m") == "\x1b[0m"
    assert app._without_colour("\x1b]8;;x\x1b\\") == "\x1b]8;;x\x1b\\"


def test_urwid_screen_still_has_the_hook_the_mono_screen_uses() -> None:
    # MonoScreen filters what this method returns; if urwid renamed it the filter would silently stop working
    assert callable(getattr(urwid.display.raw.Screen, "_attrspec_to_escape", None))


def test_without_curses_nothing_can_tell_and_colour_stays_on() -> None:
    # a Python built without curses: the raw display needs none, and neither does this
    code = (
        "import sys; sys.modules['curses'] = None\n"
        "from ui import app, palette\n"
        "print(palette.terminfo_colors('vt100'), app.color_mode('auto'), app.color_mode('never'))"
    )
    env = {**os.environ, "TERM": "vt100"}
    env.pop("NO_COLOR", None)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True, env=env)
    assert out.stdout.split() == ["None", "color", "mono"]
