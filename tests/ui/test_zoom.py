"""Zoom (`z`): the focused table alone at full height, scrolling into the history it keeps beyond what it shows."""

from __future__ import annotations

import ui_samples as S
from urwid_testing import render_text

from arr_actors.messages import WandbRunRow
from arr_actors.tables import TABLES
from arr_actors_ui import keypress, model, screen, visible
from arr_actors_ui.context import RenderContext
from arr_actors_ui.model import UiState

CTX = RenderContext(regions=18)
HISTORY = tuple(WandbRunRow(f"r{i:02d}", f"run-{i:02d}", "finished", S.NOW - 60 * i, runtime_s=10.0) for i in range(30))


def loaded(**changes) -> UiState:
    state = UiState(shown={spec.key: spec.limit for spec in TABLES})
    for message in S.all_ok():
        state = model.receive(state, message, now=S.NOW)
    state = model.receive(state, S.ok_snapshot("completed", rows=HISTORY, seq=2), now=S.NOW)
    return state.replace(focus="completed", **changes)


def text(state: UiState, size=(80, 24)) -> str:
    return "\n".join(render_text(screen.screen(state, now=S.NOW, size=size, ctx=CTX), size))


def press(state: UiState, *keys: str) -> UiState:
    for key in keys:
        state, _, handled = keypress.press(state, key, now=S.NOW)
        assert handled, key
    return state


def test_a_table_shows_its_limit_and_keeps_its_history() -> None:
    state = press(loaded(), "end")
    assert len(visible.visible_rows(state, "completed")) == 10
    assert state.selection["completed"][0] == "r09"
    assert "run-10" not in text(state, (80, 60))


def test_zoom_shows_the_focused_table_alone_and_scrolls_into_its_history() -> None:
    state = press(loaded(), "z")
    screen_text = text(state)
    assert "Completed W&B runs" in screen_text
    assert all(spec.title not in screen_text for spec in TABLES if spec.key != "completed")
    assert sum(f"run-{i:02d}" in screen_text for i in range(30)) >= 18  # the whole height
    state = press(state, "end")
    assert state.selection["completed"][0] == "r29" and "run-29" in text(state)
    # Back to every table: the selection falls back within what is shown.
    state = press(state, "z")
    assert not state.zoomed and "W&B Launch agent" in text(state)
    rows = visible.visible_rows(state, "completed")
    assert visible.selected_index(state, "completed", rows) == 9


def test_without_a_limit_a_table_shows_every_row() -> None:
    state = loaded(shown={})
    assert len(visible.visible_rows(state, "completed")) == 30
