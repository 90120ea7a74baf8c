from __future__ import annotations

import ui_samples as S

from arr_actors.messages import (
    BuildRow,
    Notice,
    PauseChanged,
    RefreshRequest,
    SetPaused,
    TableSnapshot,
)
from arr_actors.tables import TABLE_KEYS
from arr_actors_ui import keypress, model, visible
from arr_actors_ui.model import Detail, Quit, UiState


def loaded(**changes) -> UiState:
    state = UiState()
    for snapshot in S.all_ok():
        state = model.receive(state, snapshot, now=S.NOW)
    return state.replace(**changes)


def press(state: UiState, *keys: str, **kwargs) -> tuple[UiState, list[object]]:
    commands: list[object] = []
    for key in keys:
        state, out, _handled = keypress.press(state, key, now=S.NOW, **kwargs)
        commands.extend(out)
    return state, commands


# ----------------------------------------------------------------- messages


def test_snapshot_replaces_the_previous_one_and_ends_the_fetch() -> None:
    state = model.receive(UiState(), S.fetch_started("runner"), now=S.NOW)
    assert model.fetch_in_flight(state, "runner", S.NOW) is not None
    first = S.ok_snapshot("runner", seq=1)
    second = S.ok_snapshot("runner", seq=2, rows=())
    state = model.receive(state, first, now=S.NOW)
    assert "runner" not in state.fetching
    state = model.receive(state, second, now=S.NOW)
    assert state.snapshots["runner"] is second


def test_a_snapshot_taken_mid_fetch_keeps_the_spinner() -> None:
    started = S.fetch_started("runner", started=S.NOW - 2, deadline=30)
    state = model.receive(UiState(), started, now=S.NOW)
    restarting = TableSnapshot(
        table="runner", seq=3, state="restarting", updated_at=S.NOW, fetch_deadline_at=started.deadline_at
    )
    state = model.receive(state, restarting, now=S.NOW)
    assert state.fetching["runner"] == started  # the elapsed time still counts from the start
    done = TableSnapshot(table="runner", seq=4, state="ok", updated_at=S.NOW + 1)
    assert "runner" not in model.receive(state, done, now=S.NOW + 1).fetching


def test_a_snapshot_can_report_a_fetch_the_ui_did_not_see_start() -> None:
    snapshot = TableSnapshot(table="vertex", seq=1, state="stale", updated_at=S.NOW, fetch_deadline_at=S.NOW + 10)
    state = model.receive(UiState(), snapshot, now=S.NOW)
    assert model.fetch_in_flight(state, "vertex", S.NOW + 9) is not None
    assert model.fetch_in_flight(state, "vertex", S.NOW + 10) is None


def test_a_spinner_never_outlives_its_deadline() -> None:
    state = model.receive(UiState(), S.fetch_started("builds", started=S.NOW, deadline=3), now=S.NOW)
    assert model.fetch_in_flight(state, "builds", S.NOW + 2.9) is not None
    assert model.fetch_in_flight(state, "builds", S.NOW + 3.0) is None


def test_unknown_tables_and_messages_change_nothing() -> None:
    state = UiState()
    stray = TableSnapshot(table="nope", seq=1, state="ok")
    assert model.receive(state, stray, now=S.NOW) is state
    assert model.receive(state, object(), now=S.NOW) is state


def test_pause_and_notices() -> None:
    state = model.receive(UiState(), PauseChanged(True), now=S.NOW)
    assert state.paused
    state = model.receive(state, Notice("slow", level="warning"), now=S.NOW)
    state = model.receive(state, Notice("broken", level="error"), now=S.NOW)
    assert [t.text for t in model.live_toasts(state, S.NOW + 1)] == ["slow", "broken"]
    # errors stay longer than warnings
    assert [t.text for t in model.live_toasts(state, S.NOW + 10)] == ["broken"]
    assert model.live_toasts(state, S.NOW + 60) == ()


def test_toasts_are_capped() -> None:
    state = UiState()
    for i in range(20):
        state = model.add_toast(state, f"n{i}", now=S.NOW)
    assert len(state.toasts) == model.MAX_TOASTS
    assert state.toasts[-1].text == "n19"


# --------------------------------------------------------------------- rows


def test_builds_show_active_first() -> None:
    rows = visible.visible_rows(loaded(), "builds")
    assert all(isinstance(r, BuildRow) for r in rows)
    assert [r.status for r in rows] == ["WORKING", "QUEUED", "SUCCESS", "FAILURE"]


def test_filter_matches_any_text_field_case_insensitively() -> None:
    state = loaded(filter_text="EUROPE")
    assert [r.key for r in visible.visible_rows(state, "runner")] == ["europe-west4/vertex-ai-launcher-def34"]
    assert [r.key for r in visible.visible_rows(state, "vertex")] == ["europe-west4/9876543210987654321"]
    assert visible.visible_rows(state, "active") == ()


def test_filter_does_not_search_the_log_context() -> None:
    state = loaded(filter_text="Killing agent")
    assert visible.visible_rows(state, "runner") == ()


def test_selection_follows_the_row_key_across_refreshes() -> None:
    state, _ = press(loaded(), "down")  # the FAILED execution
    rows = visible.visible_rows(state, "runner")
    assert rows[visible.selected_index(state, "runner", rows)].status == "FAILED"
    reordered = S.ok_snapshot("runner", rows=tuple(reversed(S.runner_rows())), seq=2)
    state = model.receive(state, reordered, now=S.NOW)
    rows = visible.visible_rows(state, "runner")
    assert rows[visible.selected_index(state, "runner", rows)].status == "FAILED"


def test_selection_keeps_its_place_when_the_row_goes() -> None:
    state, _ = press(loaded(), "down", "down")  # third row
    fewer = S.ok_snapshot("runner", rows=S.runner_rows()[:2], seq=2)
    state = model.receive(state, fewer, now=S.NOW)
    rows = visible.visible_rows(state, "runner")
    assert visible.selected_index(state, "runner", rows) == 1


# --------------------------------------------------------------------- keys


def test_arrows_and_jk_move_within_the_focused_table_and_stop_at_the_ends() -> None:
    state, _ = press(loaded(), "j", "j", "j", "j")
    rows = visible.visible_rows(state, "runner")
    assert visible.selected_index(state, "runner", rows) == 2
    state, _ = press(state, "k", "up", "up", "up")
    assert visible.selected_index(state, "runner", rows) == 0
    state, _ = press(state, "end")
    assert visible.selected_index(state, "runner", rows) == 2


def test_tab_and_shift_tab_cycle_tables() -> None:
    state, _ = press(loaded(), "tab")
    assert state.focus == "builds"
    state, _ = press(state, "shift tab", "shift tab")
    assert state.focus == TABLE_KEYS[-1]
    state, _ = press(state, "down")
    rows = visible.visible_rows(state, state.focus)
    assert visible.selected_index(state, state.focus, rows) == 1
    assert visible.selected_index(state, "runner", visible.visible_rows(state, "runner")) == 0


def test_refresh_keys_send_refresh_requests() -> None:
    state, commands = press(loaded(), "r")
    assert commands == [RefreshRequest("runner")]
    state, commands = press(state, "tab", "r", "R")
    assert commands == [RefreshRequest("builds"), RefreshRequest("")]
    assert "refresh requested" in state.toasts[-1].text


def test_p_toggles_pause() -> None:
    state, commands = press(loaded(), "p")
    assert state.paused and commands == [SetPaused(True)]
    state, commands = press(state, "p")
    assert not state.paused and commands == [SetPaused(False)]


def test_q_quits() -> None:
    _, commands = press(loaded(), "q")
    assert commands == [Quit()]


def test_filter_typing() -> None:
    state, commands = press(loaded(), "/", "q", "e", "u", "backspace", "backspace", "backspace")
    assert commands == []  # q was typed, not a quit
    assert state.filter_editing and state.filter_text == ""
    state, _ = press(state, "1", "3", "b", "enter")
    assert not state.filter_editing and state.filter_text == "13b"
    assert [r.name for r in visible.visible_rows(state, "completed")] == ["llama-13b-base"]
    state, _ = press(state, "esc")
    assert state.filter_text == ""


def test_arrows_still_move_while_typing_a_filter() -> None:
    state, _ = press(loaded(), "/", "down")
    assert state.filter_editing
    assert visible.selected_index(state, "runner", visible.visible_rows(state, "runner")) == 1


def test_enter_opens_the_selected_row_and_esc_closes() -> None:
    state, _ = press(loaded(), "down", "enter")
    assert state.detail == Detail(
        table="runner", key="europe-west4/vertex-ai-launcher-def34", row=S.runner_rows()[1], scroll=0
    )
    state, _ = press(state, "down", "down", detail_max_scroll=1)
    assert state.detail is not None and state.detail.scroll == 1
    state, _ = press(state, "r")  # global keys still work in the detail view
    state, _ = press(state, "esc")
    assert state.detail is None


def test_enter_on_a_table_without_rows_shows_the_table_itself() -> None:
    state, _ = press(UiState(), "enter")
    assert state.detail == Detail(table="runner")


def test_help_opens_and_closes() -> None:
    state, _ = press(loaded(), "?")
    assert state.help_open
    state, _ = press(state, "?")
    assert not state.help_open
    state, _ = press(state, "?", "esc")
    assert not state.help_open


def test_unbound_keys_are_not_handled() -> None:
    _, commands, handled = keypress.press(loaded(), "x", now=S.NOW)
    assert (commands, handled) == ((), False)
