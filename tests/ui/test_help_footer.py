"""Help scrolls on small screens; footer items keep a gap between them."""

from __future__ import annotations

import re

import pytest
import ui_samples as S
from urwid_testing import render_text

from arr_actors_ui import keypress, keys, model, screen
from arr_actors_ui.context import RenderContext
from arr_actors_ui.model import UiState

CTX = RenderContext(regions=18)


def loaded(**changes) -> UiState:
    state = UiState()
    for message in S.all_ok():
        state = model.receive(state, message, now=S.NOW)
    return state.replace(**changes)


def draw(state: UiState, size: tuple[int, int]) -> list[str]:
    return render_text(screen.screen(state, now=S.NOW, size=size, ctx=CTX), size)


def press(state: UiState, key: str, size: tuple[int, int]) -> UiState:
    measured = screen.measure(state, now=S.NOW, size=size, ctx=CTX)
    state, _, handled = keypress.press(
        state, key, now=S.NOW, page=measured.page, detail_max_scroll=measured.detail_max_scroll,
        help_max_scroll=measured.help_max_scroll,
    )  # fmt: skip
    assert handled, key
    return state


def help_rows_seen(lines: list[str]) -> set[tuple[str, str]]:
    return {(k, d) for _, k, d in keys.help_rows() if any(f"  {k}" in line and d in line for line in lines)}


@pytest.mark.parametrize("key", ["down", "j", "page down"])
def test_at_50x12_every_help_line_is_reachable_with_the_movement_keys(key: str) -> None:
    size = (50, 12)
    state = press(loaded(), "?", size)
    first = draw(state, size)
    assert "1-10/64  esc closes, arrows scroll" in first[0]  # a hint that there is more, and the way out
    every = {(k, d) for _, k, d in keys.help_rows()}
    assert help_rows_seen(first) != every
    seen: set[tuple[str, str]] = set()
    for _ in range(60):
        lines = draw(state, size)
        seen |= help_rows_seen(lines)
        after = press(state, key, size)
        if after == state:
            break
        state = after
    assert seen == every
    last = draw(state, size)
    shown = re.search(r"(\d+)-(\d+)/(\d+)", last[0])
    assert shown is not None and shown[2] == shown[3]  # scrolled to the end, and stopped there
    assert press(state, key, size) == state


def test_help_home_end_and_reopening() -> None:
    size = (50, 12)
    state = press(press(loaded(), "?", size), "G", size)
    _group, last_keys, last_description = keys.help_rows()[-1]
    assert any(f"  {last_keys}" in line and last_description in line for line in draw(state, size))
    state = press(state, "g", size)
    assert " 1-10/" in draw(state, size)[0]
    state = press(press(press(state, "j", size), "esc", size), "?", size)
    assert state.help_scroll == 0


def test_help_that_fits_has_no_scroll_hint() -> None:
    lines = draw(loaded(help_open=True), (80, 60))
    assert lines[0].startswith(" Keys (esc or ? closes)") and "scroll" not in lines[0]
    assert press(loaded(help_open=True), "down", (80, 60)).help_scroll == 0


def test_footer_items_are_separated_by_a_gap() -> None:
    editing = draw(loaded(filter_editing=True, filter_text="13b"), (100, 24))[-1]
    assert "enter keeps, esc clears  q  quit" in editing
    kept = draw(loaded(filter_text="13b"), (100, 24))[-1]
    assert "filter: 13b  all tables  esc clears  q  quit" in kept
