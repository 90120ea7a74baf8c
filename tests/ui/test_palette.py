from __future__ import annotations

import pytest
from urwid_testing import resolve_attr

from arr_actors_ui import palette


@pytest.mark.parametrize("name", sorted(palette.PALETTES))
def test_every_palette_defines_every_style(name: str) -> None:
    assert set(palette.PALETTES[name]) == set(palette.STYLES)


@pytest.mark.parametrize("mode", sorted(palette.PALETTES))
@pytest.mark.parametrize("colors", [1, 16, 88, 256, 2**24])
def test_every_style_resolves_on_every_screen(mode: str, colors: int) -> None:
    entries = palette.entries(mode)
    assert [e[0] for e in entries] == list(palette.STYLES)
    for style in palette.STYLES:
        resolve_attr(style, entries, colors=colors)  # raises on a bad colour name


def test_mono_screen_tells_statuses_apart_without_colour() -> None:
    entries = palette.entries("color")
    failed = resolve_attr("status_failed", entries, colors=1)
    running = resolve_attr("status_running", entries, colors=1)
    selected = resolve_attr("selected", entries, colors=1)
    assert failed.bold and failed.underline
    assert running.bold and not running.underline
    assert selected.standout


def test_mono_palette_draws_settings_even_on_a_colour_screen() -> None:
    # NO_COLOR on a 256-colour terminal: no colours, still bold/standout.
    entries = palette.entries("mono")
    for colors in (16, 256):
        paused = resolve_attr("paused", entries, colors=colors)
        assert paused.bold and paused.standout
        assert paused.foreground.split(",")[0] == "default"
        assert resolve_attr("status_failed", entries, colors=colors).background == "default"


def test_colour_palette_colours_statuses_differently() -> None:
    entries = palette.entries("color")
    seen = {resolve_attr(style, entries, colors=16).foreground for style in palette.STATUS_STYLES}
    assert len(seen) == len(palette.STATUS_STYLES)


@pytest.mark.parametrize(
    ("status", "style"),
    [
        ("RUNNING", "status_running"),
        ("WORKING", "status_running"),
        ("running", "status_running"),
        ("FINISHED", "status_ok"),
        ("SUCCEEDED", "status_ok"),
        ("SUCCESS", "status_ok"),
        ("finished", "status_ok"),
        ("FAILED", "status_failed"),
        ("FAILURE", "status_failed"),
        ("INTERNAL_ERROR", "status_failed"),
        ("crashed", "status_failed"),
        ("failed", "status_failed"),
        ("QUEUED", "status_queued"),
        ("PENDING", "status_queued"),
        ("CANCELLED", "status_cancelled"),
        ("killed", "status_cancelled"),
        ("SOMETHING_NEW", "body"),
    ],
)
def test_status_style(status: str, style: str) -> None:
    assert palette.status_style(status) == style


def test_no_color_switches_colour_off() -> None:
    assert palette.color_enabled({}) is True
    assert palette.color_enabled({"NO_COLOR": "1"}) is False


def test_unknown_palette_is_named() -> None:
    with pytest.raises(ValueError, match="unknown palette 'sepia'"):
        palette.entries("sepia")
