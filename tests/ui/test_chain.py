"""The selected row's chain on screen: marks in the other tables, the detail
view's list (unknown links said so), and ``]``/``[`` jumping through it."""

from __future__ import annotations

import ui_samples as S

from arr_actors.rows import BuildRow, RunnerRow, VertexRow, WandbRunRow
from ui import model, screen
from ui.context import RenderContext
from ui.model import Detail, UiState

CTX = RenderContext(regions=18)
IMAGE = "us-docker.pkg.dev/p/arr/arr-trainer:abc1234"
ROWS = {
    "runner": (
        RunnerRow("launcher-aaaaa", "us-central1", "q", "FAILED", 1, S.NOW - 900, job_ids=("111",)),
        RunnerRow("launcher-ccccc", "europe-west4", "q", "RUNNING", None, S.NOW - 800),
    ),
    "builds": (BuildRow("b-1", "SUCCESS", IMAGE, "global", S.NOW - 5000),),
    "vertex": (
        VertexRow("333", "wild-orbit-3", "europe-west4", "FAILED", S.NOW - 700),
        VertexRow("111", "gentle-pine-1", "us-central1", "FAILED", S.NOW - 890, run_id="run1", image=IMAGE),
    ),
    "active": (WandbRunRow("run9", "other-run", "running", S.NOW - 100),),
    "completed": (WandbRunRow("run1", "gentle-pine-1", "failed", S.NOW - 850),),
}


def loaded(**changes) -> UiState:
    state = UiState()
    for key, rows in ROWS.items():
        state = model.receive(state, S.ok_snapshot(key, rows=rows), now=S.NOW)
    return state.replace(**changes)


def styled(state: UiState, size=(100, 40)) -> list[tuple[str, set[str]]]:
    """Each screen line's text and the styles it uses."""
    lines = screen.screen_lines(state, now=S.NOW, cols=size[0], rows=size[1], ctx=CTX)
    return [("".join(t for _, t in line), {s for s, _ in line}) for line in lines]


def style_of(lines: list[tuple[str, set[str]]], needle: str) -> set[str]:
    found = [styles for text, styles in lines if needle in text or text.startswith(needle)]
    assert found, needle
    return found[0]


def press(state: UiState, *keys: str) -> UiState:
    for key in keys:
        state, _, handled = model.press(state, key, now=S.NOW)
        assert handled, key
    return state


def test_selecting_a_wandb_run_marks_its_vertex_job_execution_and_build() -> None:
    state = loaded(focus="completed", selection={"completed": ("run1", 0)})
    lines = styled(state)
    assert "related" in style_of(lines, "111 ")
    assert "related" in style_of(lines, "aaaaa")
    assert "related" in style_of(lines, "b-1")
    for other in ("ccccc", "wild-orbit-3", "other-run"):
        assert "related" not in style_of(lines, other), other
    assert "selected" in style_of(lines, "run1")


def test_brackets_jump_through_the_chain_and_back() -> None:
    state = loaded(focus="completed", selection={"completed": ("run1", 0)})
    state = press(state, "]")
    assert (state.focus, state.selection["runner"][0]) == ("runner", "us-central1/launcher-aaaaa")
    state = press(state, "]")
    assert (state.focus, state.selection["builds"][0]) == ("builds", "b-1")
    state = press(state, "]")
    assert (state.focus, state.selection["vertex"]) == ("vertex", ("us-central1/111", 1))
    state = press(state, "]")
    assert state.focus == "completed"
    state = press(state, "[")
    assert state.focus == "vertex"


def test_a_row_without_links_stays_put_and_says_so() -> None:
    state = loaded(focus="vertex", selection={"vertex": ("europe-west4/333", 0)})
    after = press(state, "]")
    assert after.focus == "vertex" and after.selection == state.selection
    assert "no other row of this chain" in after.toasts[-1].text
    lines = styled(state)
    assert not any("related" in styles for _, styles in lines)


def test_the_detail_view_lists_the_chain_and_what_is_unknown() -> None:
    row = ROWS["vertex"][0]
    state = loaded(detail=Detail(table="vertex", key=row.key, row=row))
    text = "\n".join(t for t, _ in styled(state))
    assert "unknown: no execution in the table logged creating it" in text
    assert "unknown: the job has no wandb-run-id label" in text
    row = ROWS["runner"][0]
    state = loaded(detail=Detail(table="runner", key=row.key, row=row))
    text = "\n".join(t for t, _ in styled(state))
    assert "111" in text and "run1 gentle-pine-1 failed" in text and "b-1 SUCCESS" in text
