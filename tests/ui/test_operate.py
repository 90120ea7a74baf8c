"""Sorting, filtering by regular expression and state, and their scope: pure model and views."""

from __future__ import annotations

import base64
import dataclasses

import ui_samples as S
from test_render import line_with, text

from arr_actors.messages import Action, ActionDone, ActionRequest, PlaybackEnded
from arr_actors.rows import BuildRow, RunnerRow, VertexRow
from arr_actors.tables import table
from arr_actors.timefmt import format_clock
from arr_actors_ui import health, keypress, keys, model, query, screen, visible
from arr_actors_ui.context import RenderContext
from arr_actors_ui.effects import osc52
from arr_actors_ui.model import UiState
from arr_actors_ui.views.footer import footer_height


def loaded(**changes) -> UiState:
    state = UiState()
    for snapshot in S.all_ok():
        state = model.receive(state, snapshot, now=S.NOW)
    return state.replace(**changes)


def press(state: UiState, *keys: str) -> UiState:
    for key in keys:
        state, _out, _handled = keypress.press(state, key, now=S.NOW)
    return state


def ids(state: UiState, table: str) -> list[str]:
    return [r.key for r in visible.visible_rows(state, table, now=S.NOW)]


# ---------------------------------------------------------------------- sort


def test_default_order_is_unchanged_and_s_steps_through_the_columns() -> None:
    state = loaded()
    assert ids(state, "runner") == [r.key for r in S.runner_rows()]
    state = press(state, "s")  # execution
    assert state.sort["runner"] == query.SortOrder(0)
    state = press(state, "s")  # queue: all equal, stable
    assert state.sort["runner"] == query.SortOrder(1)
    state = press(state, "s")  # region, ascending
    assert ids(state, "runner") == [
        "asia-northeast1/vertex-ai-launcher-ghi56",
        "europe-west4/vertex-ai-launcher-def34",
        "us-central1/vertex-ai-launcher-abc12",
    ]
    state = press(state, "S")  # region, descending
    assert ids(state, "runner")[0] == "us-central1/vertex-ai-launcher-abc12"
    state = press(state, *["s"] * 6)  # status ... note, then past the last

    assert "runner" not in state.sort  # past the last column: the table's own order again
    assert ids(state, "runner") == [r.key for r in S.runner_rows()]


def test_sort_by_runtime_counts_running_rows_at_now_and_missing_values_go_last() -> None:
    state = press(loaded(focus="vertex"), "s", "s", "s", "s", "s")  # job, name, region, state, runtime
    assert state.sort["vertex"] == query.SortOrder(4)
    # the running job has run 400 s, the failed one 900 s
    assert [r.job_id for r in visible.visible_rows(state, "vertex", now=S.NOW)] == [
        "1234567890123456789",
        "9876543210987654321",
    ]
    later = [r.job_id for r in visible.visible_rows(state, "vertex", now=S.NOW + 1000)]
    assert later == ["9876543210987654321", "1234567890123456789"]
    rows = (S.vertex_rows()[0], VertexRow("x", "n", "r", "PENDING", S.NOW))
    spec = table("vertex")
    for descending in (False, True):
        out = query.sort_rows(rows, spec, query.SortOrder(4, descending), now=S.NOW)
        assert out[-1].job_id == "x"  # no runtime yet: last either way


def test_a_table_with_a_divider_sorts_within_active_and_finished() -> None:
    state = press(loaded(focus="builds"), "s", "S")  # build id, descending
    keys = ids(state, "builds")
    assert keys == ["b4f0c0de", "b2f0c0de", "b3f0c0de", "b1f0c0de"]


def test_the_header_marks_the_sorted_column_and_its_direction() -> None:
    state = press(loaded(), "s", "s", "s")
    assert "Region▲" in line_with(text(state), "Exec")
    state = press(state, "S")
    assert "Region▼" in line_with(text(state), "Exec")
    assert "▲" not in line_with(text(state), "Build ")


# -------------------------------------------------------------------- filter


def test_the_filter_is_a_case_insensitive_regular_expression() -> None:
    state = loaded(filter_text="llama-(7|13)b-(base|warm)")
    assert [r.name for r in visible.visible_rows(state, "completed")] == ["llama-13b-base", "llama-7b-warmup"]
    state = loaded(filter_text="^R9Z")
    assert ids(state, "completed") == ["r9z8y7x6"]


def test_a_leading_bang_inverts_the_filter() -> None:
    state = loaded(filter_text="!base")
    assert ids(state, "completed") == ["r5t4s3r2"]
    assert ids(state, "active") == ["r1a2b3c4"]


def test_an_invalid_expression_filters_nothing_and_is_reported_in_the_footer() -> None:
    state = loaded(filter_text="llama-(7")
    assert ids(state, "completed") == ["r9z8y7x6", "r5t4s3r2"]
    assert visible.filter_error(state).startswith("invalid regular expression: missing )")
    footer = text(state, (120, 24))[-1]
    assert "invalid regular expression: missing )" in footer
    # typing it key by key never raises either
    state = press(loaded(), "/", *"[a-", "(", "*", "?", "\\")
    assert state.filter_editing and visible.filter_error(state)


def test_state_quick_filter_steps_failed_active_all() -> None:
    state = press(loaded(), "f")
    assert state.state_filter == "failed"
    assert ids(state, "runner") == ["europe-west4/vertex-ai-launcher-def34"]
    assert ids(state, "builds") == ["b3f0c0de"]
    assert "failed only" in text(state, (120, 24))[-1]
    state = press(state, "f")
    assert ids(state, "builds") == ["b2f0c0de", "b4f0c0de"]
    state = press(state, "f")
    assert state.state_filter == "" and len(ids(state, "builds")) == 4
    state = press(state, "f", "esc")
    assert state.state_filter == ""


def test_the_scope_toggle_limits_the_filters_to_the_focused_table() -> None:
    state = press(loaded(focus="completed"), "f", "F")
    assert not state.filter_all and state.filter_table == "completed"
    assert ids(state, "completed") == ["r9z8y7x6"]
    assert len(ids(state, "builds")) == 4  # untouched
    assert "Completed W&B runs only" in text(state, (120, 24))[-1]
    state = press(state, "F")
    assert ids(state, "builds") == ["b3f0c0de"]
    assert "all tables" in text(state, (120, 24))[-1]


def test_a_table_emptied_by_the_filters_says_which() -> None:
    state = loaded(filter_text="nothing-like-this", state_filter="failed")
    assert "no rows match 'nothing-like-this' and state failed" in "\n".join(text(state, (120, 40)))


# ---------------------------------------------------------------------- copy


def test_c_copies_the_selected_rows_id_and_shows_it_whole() -> None:
    state = press(loaded(focus="builds"), "down")
    state, out, handled = keypress.press(state, "c", now=S.NOW)
    assert handled and out == (model.Copy("b4f0c0de"),)
    assert "copied: b4f0c0de" in text(state)[-2]


def test_a_long_url_is_shown_whole_over_several_footer_lines() -> None:
    url = "https://console.cloud.google.com/cloud-build/builds;region=global/" + "f" * 36 + "?project=demo-project"
    row = BuildRow("b9", "SUCCESS", "img", "global", S.NOW - 10, log_url=url)
    state = model.receive(loaded(focus="builds"), S.ok_snapshot("builds", rows=(row,)), now=S.NOW)
    state, out, _ = keypress.press(state, "C", now=S.NOW)
    assert out == (model.Copy(url),)
    lines = text(state, (40, 24))
    toast = lines[-5:-1]  # four lines over the status line, cut anywhere, nothing dropped
    assert "".join(toast).rstrip() == f" copied: {url}"
    assert footer_height(state, now=S.NOW, cols=40) == 5


def test_copy_from_the_detail_view_and_with_nothing_to_copy() -> None:
    state = press(loaded(focus="vertex"), "enter")
    _state, out, _ = keypress.press(state, "c", now=S.NOW)
    assert out == (model.Copy("1234567890123456789"),)
    state, out, _ = keypress.press(state, "C", now=S.NOW)
    assert out == () and "has no URL to copy" in state.toasts[-1].text
    empty = model.receive(UiState(), S.ok_snapshot("runner", rows=()), now=S.NOW)
    state, out, _ = keypress.press(empty, "c", now=S.NOW)
    assert out == () and state.toasts[-1].text == "nothing to copy: no row selected"


def test_osc52_is_one_sequence_with_the_text_base64_encoded() -> None:
    hostile = "id\x1b]0;pwned\x07"
    seq = osc52(hostile)
    assert seq.startswith("\x1b]52;c;") and seq.endswith("\x07")
    body = seq[len("\x1b]52;c;") : -1]
    assert "\x1b" not in body and "\x07" not in body
    assert base64.b64decode(body).decode() == hostile


# -------------------------------------------------------------------- alerts


def watching(**changes) -> UiState:
    return UiState(started_at=S.NOW - 100, alert_tables=frozenset(("runner", "builds", "vertex", "completed")), **changes)


def fresh(table: str, rows, *, at: float) -> object:
    return S.ok_snapshot(table, rows=rows, now=at, fetched_at=at, updated_at=at)


def test_a_new_failure_alerts_once_with_its_diagnosed_cause_and_old_ones_never() -> None:
    state = model.receive(watching(), fresh("runner", S.runner_rows(), at=S.NOW - 50), now=S.NOW - 50)
    assert state.pending_alerts == () and state.toasts == ()  # def34 failed before: the baseline
    failed = dataclasses.replace(
        S.runner_rows()[0], status="FAILED", completed_at=S.NOW - 5, note="Quota exceeded for quota metric gpus",
        category="quota",
    )
    rows = (failed, *S.runner_rows()[1:])
    state = model.receive(state, fresh("runner", rows, at=S.NOW), now=S.NOW)
    state, rung = model.take_alerts(state)
    assert [a.key for a in rung] == ["us-central1/vertex-ai-launcher-abc12"]
    assert rung[0].text == (
        "runner execution vertex-ai-launcher-abc12 (us-central1) failed: Quota exceeded for quota metric gpus [quota]"
    )
    assert state.toasts[-1].text == rung[0].text and state.toasts[-1].level == "error"
    again = model.receive(state, fresh("runner", rows, at=S.NOW + 30), now=S.NOW + 30)
    assert model.take_alerts(again)[1] == ()


def test_a_warm_start_and_rows_that_ended_before_the_start_never_alert() -> None:
    warm = fresh("vertex", (), at=S.NOW - 5000)  # fetched before the monitor started
    state = model.receive(watching(), warm, now=S.NOW - 90)
    assert "vertex" not in state.alert_baseline
    state = model.receive(state, fresh("vertex", S.vertex_rows()[:1], at=S.NOW - 80), now=S.NOW - 80)
    assert "vertex" in state.alert_baseline
    # an old failed job slides into the window: it ended long before the start
    state = model.receive(state, fresh("vertex", S.vertex_rows(), at=S.NOW), now=S.NOW)
    assert model.take_alerts(state)[1] == ()


def test_a_row_first_seen_failed_after_the_baseline_alerts_and_vertex_notes_are_classified() -> None:
    state = model.receive(watching(), fresh("vertex", (), at=S.NOW - 50), now=S.NOW - 50)
    job = VertexRow("42", "train-x", "us-east1", "FAILED", S.NOW - 20, S.NOW - 10, S.NOW - 2,
                    note="Resources are insufficient in region: us-east1")
    state = model.receive(state, fresh("vertex", (job,), at=S.NOW), now=S.NOW)
    _state, rung = model.take_alerts(state)
    assert [a.text for a in rung] == [
        "Vertex AI job train-x (us-east1) failed: Resources are insufficient in region: us-east1 [capacity]"
    ]


def test_only_the_chosen_tables_alert() -> None:
    state = UiState(started_at=S.NOW - 100, alert_tables=frozenset(("builds",)))
    state = model.receive(state, fresh("vertex", (), at=S.NOW - 50), now=S.NOW - 50)
    job = VertexRow("42", "train-x", "us-east1", "FAILED", S.NOW - 20, S.NOW - 10, S.NOW - 2)
    state = model.receive(state, fresh("vertex", (job,), at=S.NOW), now=S.NOW)
    assert model.take_alerts(state)[1] == ()


# ------------------------------------------------------------- region health


def _execution(name: str, region: str, status: str, ended: float, *, category: str = "", note: str = "") -> RunnerRow:
    return RunnerRow(name, region, "q", status, 1, ended - 100, ended - 90, ended, note=note, category=category)


def test_region_health_counts_per_window_and_group_healthiest_first() -> None:
    now = S.NOW
    rows = [
        _execution("a1", "us-central1", "FINISHED", now - 600),
        _execution("a2", "us-central1", "FAILED", now - 7200, category="capacity", note="stockout"),
        _execution("b1", "europe-west4", "FAILED", now - 300, category="quota", note="Quota exceeded"),
        _execution("b2", "europe-west4", "FINISHED", now - 5000),
        VertexRow("j1", "train", "europe-west4", "FAILED", now - 900, now - 800, now - 60,
                  note="Resources are insufficient in region: europe-west4"),
        _execution("c1", "asia-east1", "FINISHED", now - 2 * 86400),  # older than a day: not counted
        VertexRow("j2", "train", "us-east1", "RUNNING", now - 900, now - 800),  # still running: not counted
    ]
    out = health.region_health(rows, now=now)
    assert [h.region for h in out] == ["us-central1", "europe-west4"]
    us, eu = out
    assert (us.hour.succeeded, us.hour.failed, us.day.succeeded, us.day.failed) == (1, 0, 1, 1)
    assert us.day.groups == (("capacity", 1),)
    assert us.last_success_at == now - 600 and us.last_error == "stockout"
    assert (eu.hour.succeeded, eu.hour.failed, eu.day.succeeded, eu.day.failed) == (0, 2, 1, 2)
    assert eu.day.groups == (("capacity", 1), ("quota", 1))
    assert eu.last_error == "Resources are insufficient in region: europe-west4"


def test_h_opens_region_health_from_remembered_rows_and_esc_closes_it() -> None:
    state = press(loaded(), "h")
    assert state.health_open and keys.context(state) == "health"
    lines = text(state, (140, 24), now=S.NOW)
    assert "Region health" in lines[0]
    eu = line_with(lines, "europe-west4")
    assert "memory 1" in eu and "code 1" in eu and "CUDA out of memory" in eu
    assert not any("us-central1" in line for line in lines)  # only a running execution there
    # a finished row that leaves the table's window stays counted
    state = model.receive(state, S.ok_snapshot("runner", rows=S.runner_rows()[:1], seq=2), now=S.NOW)
    assert "memory 1" in line_with(text(state, (140, 24)), "europe-west4")
    assert not press(state, "esc").health_open and not press(state, "h").health_open


# ---------------------------------------------------------------- API budget


def test_the_status_line_sums_calls_per_service_and_shows_the_logging_budget_left() -> None:
    state = loaded()
    state = model.receive(state, S.ok_snapshot("runner", calls=(("logging", 2), ("run", 18)), logging_used=7), now=S.NOW)
    state = model.receive(state, S.ok_snapshot("vertex", calls=(("aiplatform", 18),)), now=S.NOW)
    state = model.receive(state, S.ok_snapshot("builds", calls=(("cloudbuild", 2),)), now=S.NOW)
    assert model.api_usage(state) == ((("aiplatform", 18), ("cloudbuild", 2), ("logging", 2), ("run", 18)), 53)
    footer = text(state, (160, 24))[-1]
    assert "calls/min aiplatform 18 cloudbuild 2 logging 2 run 18" in footer
    assert "logging budget 53/60 left" in footer
    assert footer.startswith(" q  quit")
    assert "q  quit" in text(state, (80, 24))[-1]  # narrow: quit stays, the figures give way


def test_a_throttled_table_says_so_and_until_when_in_its_title() -> None:
    until = S.NOW + 25
    state = model.receive(loaded(), S.ok_snapshot("runner", throttled_until=until), now=S.NOW)
    title = line_with(text(state, (160, 24)), "W&B Launch agent")
    assert f"THROTTLED by the Cloud Logging limit until {format_clock(until, S.NOW)}" in title
    assert "THROTTLED" not in line_with(text(state, (160, 24), now=until + 1), "W&B Launch agent")


# -------------------------------------------------------------------- cancel


def test_ctrl_k_asks_first_and_n_sends_nothing() -> None:
    state, out, _ = keypress.press(loaded(focus="vertex"), "ctrl k", now=S.NOW)
    assert out == () and state.confirm is not None
    assert state.confirm.action == Action(
        "cancel", "vertex", "us-central1/1234567890123456789", "Vertex AI job train-llama-7b (1234567890123456789)",
        "us-central1", "1234567890123456789",
    )
    assert "Cancel Vertex AI job train-llama-7b (1234567890123456789)?" in text(state, (120, 24))[-2]
    state, out, handled = keypress.press(state, "j", now=S.NOW)  # other keys wait for the answer
    assert handled and out == () and state.confirm is not None
    state, out, _ = keypress.press(state, "esc", now=S.NOW)
    assert out == () and state.confirm is None and state.cancelling == {}


def test_y_sends_the_action_and_the_row_shows_cancelling_until_the_service_confirms() -> None:
    state = press(loaded(focus="vertex"), "ctrl k")
    state, out, _ = keypress.press(state, "y", now=S.NOW)
    assert out == (ActionRequest(state.cancelling["vertex/us-central1/1234567890123456789"]),)
    assert visible.visible_rows(state, "vertex")[0].state == "CANCELLING"
    assert "CANCELLING" in line_with(text(state, (120, 24)), "train-llama-7b")
    still = model.receive(state, S.ok_snapshot("vertex", seq=2), now=S.NOW)  # the service still says RUNNING
    assert visible.visible_rows(still, "vertex")[0].state == "CANCELLING"
    rows = (dataclasses.replace(S.vertex_rows()[0], state="CANCELLED", ended_at=S.NOW), S.vertex_rows()[1])
    over = model.receive(still, S.ok_snapshot("vertex", rows=rows, seq=3), now=S.NOW)
    assert over.cancelling == {} and visible.visible_rows(over, "vertex")[0].state == "CANCELLED"


def test_a_refused_cancel_clears_the_mark() -> None:
    state = press(loaded(focus="vertex"), "ctrl k", "y")
    action = next(iter(state.cancelling.values()))
    state = model.receive(state, ActionDone(action, error="cannot cancel: permission denied"), now=S.NOW)
    assert state.cancelling == {} and visible.visible_rows(state, "vertex")[0].state == "RUNNING"


def test_only_running_items_of_the_three_tables_can_be_cancelled() -> None:
    state, out, _ = keypress.press(press(loaded(focus="vertex"), "down"), "ctrl k", now=S.NOW)
    assert state.confirm is None and "is not running (FAILED)" in state.toasts[-1].text
    state, out, _ = keypress.press(loaded(focus="active"), "ctrl k", now=S.NOW)
    assert state.confirm is None and "only runner executions, Vertex AI jobs and builds" in state.toasts[-1].text


def test_read_only_and_replay_disable_actions_and_replay_refreshes_visibly() -> None:
    state, out, _ = keypress.press(loaded(focus="vertex", actions_disabled="read-only"), "ctrl k", now=S.NOW)
    assert out == () and state.confirm is None and state.toasts[-1].text == "read-only: actions are disabled"
    assert "READ-ONLY" in text(state, (120, 24))[-1]
    replay = loaded(actions_disabled="replay", replay=True)
    state, out, _ = keypress.press(replay, "ctrl k", now=S.NOW)
    assert out == () and state.toasts[-1].text == "replay: actions are disabled"
    for key in ("r", "R"):
        state, out, _ = keypress.press(replay, key, now=S.NOW)
        assert out == () and state.toasts[-1].text == "replay: the recording cannot be refreshed"
    assert "r/R" not in text(replay, (160, 24))[-1]


def test_the_readme_keys_table_lists_every_key() -> None:
    from pathlib import Path

    from arr_actors_ui import keys

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Keys", 1)[1].split("\n## ", 1)[0]
    shown = {"up": "↑", "down": "↓", "shift tab": "shift-tab"}
    for binding in keys.BINDINGS:
        for key in binding.keys:
            assert f"`{shown.get(key, key)}`" in section, f"README.md keys table lacks {key!r} ({binding.action})"


def test_after_a_replay_ends_the_tables_stand_still_and_notices_still_expire() -> None:
    state = model.receive(loaded(replay=True), PlaybackEnded(at=S.NOW), now=S.NOW)
    later = S.NOW + 600
    assert screen.shown_moment(state, later) == S.NOW
    assert text(state, (120, 24), now=later)[:-1] == text(state, (120, 24), now=S.NOW)[:-1]
    noted = model.add_toast(state, "replay: end of recording", now=S.NOW)
    assert "end of recording" in text(noted, (120, 24), now=S.NOW)[-2]
    assert "end of recording" not in "\n".join(text(noted, (120, 24), now=later))
    assert "REPLAY: END OF RECORDING" in text(noted, (120, 24), now=later, ctx=RenderContext(replay_label="REPLAY"))[-1]
