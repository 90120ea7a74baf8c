from __future__ import annotations

import pytest
import ui_samples as S

from arr_actors_ui import keypress, keys, logview, model
from arr_actors_ui.model import Detail, UiState


def state_for(context: str) -> UiState:
    state = UiState()
    for snapshot in S.all_ok():
        state = model.receive(state, snapshot, now=S.NOW)
    if context == "detail":
        return state.replace(detail=Detail(table="runner", key=S.runner_rows()[0].key, row=S.runner_rows()[0]))
    if context == "help":
        return state.replace(help_open=True)
    if context == "health":
        return state.replace(health_open=True)
    if context == "tables":
        return state.replace(filter_text="x")  # so esc has a filter to clear
    if context == "log":
        # A followed log with a search and an error line, scrolled into its middle.
        row = S.runner_rows()[0]
        source = logview.source_for("runner", row)
        assert source is not None
        lines = tuple(f"line {i}" for i in range(100)) + ("ERROR: it broke",) + tuple(f"line {i}" for i in range(100, 200))
        view = logview.LogView(title="t", lines=lines, top=50, search="line 1", error=100, follow=True, request=1, source=source)
        return state.replace(log=view)
    return state


@pytest.mark.parametrize("binding", keys.BINDINGS, ids=lambda b: f"{b.context}:{b.action}")
def test_every_binding_does_something(binding: keys.Binding) -> None:
    for key in binding.keys:
        before = state_for(binding.context)
        after, commands, handled = keypress.press(before, key, now=S.NOW, detail_max_scroll=10)
        assert handled, f"{key!r} ({binding.action}) was not handled"
        if binding.action in ("row_up", "row_first", "page_up", "scroll_up", "scroll_page_up", "scroll_top"):
            continue  # already at the top: nothing to change, still handled
        assert after != before or commands, f"{key!r} ({binding.action}) changed nothing"


def test_help_lists_every_binding() -> None:
    rows = keys.help_rows()
    assert len(rows) == len(keys.BINDINGS)
    assert ("Tables", "shift-tab", "previous table") in rows
    assert ("Detail view", "page down", "page down") in rows
    assert ("Anywhere", "q ctrl c", "quit") in rows


def test_context_bindings_win_over_global_ones() -> None:
    assert keys.action_for("esc", "detail") == "detail_close"
    assert keys.action_for("esc", "help") == "help_close"
    assert keys.action_for("q", "detail") == "quit"
    assert keys.action_for("x", "tables") is None


def test_every_footer_hint_does_what_it_says_where_it_is_shown() -> None:
    assert set(keys.FOOTER_HINTS) == set(keys.CONTEXTS) - {"global"}
    for context, hints in keys.FOOTER_HINTS.items():
        for hint in hints:
            for key, action in zip(hint.key_names, hint.actions, strict=True):
                assert keys.action_for(key, context) == action, (context, hint.keys, key)
