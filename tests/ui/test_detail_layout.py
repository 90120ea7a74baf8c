"""Detail views: labels aligned with a gap, one runtime per W&B run, ids and URLs never wrapped."""

from __future__ import annotations

import re

import pytest
import ui_samples as S
from urwid.testing import render_text

from arr_actors.messages import BuildRow, VertexRow, WandbRunRow
from ui import model, screen
from ui.context import RenderContext
from ui.model import Detail, UiState
from ui.views.detail import LABEL_GAP, field_lines, label_width, wrap_keeping_links

CTX = RenderContext(regions=18)
LOG_URL = (
    "https://console.cloud.google.com/cloud-build/builds;region=us-central1/"
    "fcc5e053-1d2b-4c1e-9a7f-0b6e8f3d2a11?project=123456789012"
)
BUILD = BuildRow(
    "fcc5e053-1d2b-4c1e-9a7f-0b6e8f3d2a11", "SUCCESS", "us-docker.pkg.dev/p/r/trainer:v1", "us-central1",
    S.NOW - 3000, S.NOW - 2990, S.NOW - 2700, log_url=LOG_URL,
)  # fmt: skip
VERTEX = VertexRow("9876543210987654321", "gentle-canyon-758", "europe-west4", "FAILED", S.NOW - 800, S.NOW - 700,
                   S.NOW - 100, note="The replica workerpool0-0 exited with a non-zero status of 1.")  # fmt: skip
RUN = WandbRunRow("r1a2b3c4", "llama-7b-lr3e-4", "running", S.NOW - 500, runtime_s=399.0, url="https://wandb.ai/e/p/runs/r1a2b3c4")


def detail_text(table: str, row, size: tuple[int, int]) -> list[str]:
    state = UiState()
    for message in (*S.all_ok(), S.ok_snapshot(table, rows=(row,))):
        state = model.receive(state, message, now=S.NOW)
    state = state.replace(detail=Detail(table, row.key, row))
    return render_text(screen.screen(state, now=S.NOW, size=size, ctx=CTX), size)


def test_a_long_label_is_followed_by_a_gap_and_every_value_starts_in_one_column() -> None:
    lines = detail_text("vertex", VERTEX, (80, 24))
    assert re.search(r"^ Display name {2,}gentle-canyon-758", "\n".join(lines), re.M)
    starts = set()
    for label in ("Job id", "Display name", "Region", "State", "Note", "Runtime"):
        line = next(line for line in lines if line.startswith(f" {label} "))
        starts.add(len(line) - len(line[len(label) + 1 :].lstrip()))
    assert starts == {1 + len("Display name") + LABEL_GAP}


def test_the_label_column_keeps_its_width_for_short_labels_and_caps_long_ones() -> None:
    assert label_width(["Run", "Name"], 80) == 11  # the runner's layout is as before
    assert label_width(["Display name"], 80) == 12
    assert label_width(["A label far too long for a narrow screen"], 45) == 15
    lines = field_lines([("A label far too long for a narrow screen", "value", "body")], 45, "~")
    head, text, _ = lines[0]
    assert head is not None and head.endswith("~  ") and text == "value"


def test_a_w_and_b_run_shows_one_runtime() -> None:
    lines = detail_text("active", RUN, (80, 24))
    runtimes = [line for line in lines if "Runtime" in line]
    assert len(runtimes) == 1, runtimes
    # 399 s reported 12 s before now, still running: it counts on from the fetch
    assert "6m51s" in runtimes[0]


@pytest.mark.parametrize("cols", [80, 200])
def test_a_log_url_is_one_line_never_wrapped(cols: int) -> None:
    lines = detail_text("builds", BUILD, (cols, 30))
    with_url = [line for line in lines if "https://" in line]
    assert len(with_url) == 1
    line = with_url[0]
    if cols >= len(LOG_URL) + 20:
        assert LOG_URL in line  # whole, beside its label
        assert line.startswith(" Log url ")
    else:
        # too long for the line beside the label: a line of its own from the
        # left edge, cut at the screen edge, and nothing of it on other lines
        assert line.startswith(" https://") and line.rstrip().endswith("…")
        assert LOG_URL.startswith(line.strip()[:-1])
        assert lines[lines.index(line) - 1].rstrip() == " Log url"
    tail = LOG_URL[-12:]
    assert not any(tail in other for other in lines if other != line)
    # the build id is never split either
    assert sum(BUILD.build_id in other for other in lines if other != line) == 2  # the title and its field


def test_values_with_spaces_wrap_under_themselves_and_keep_urls_whole() -> None:
    text = "see https://example.com/a/very/long/path/that/is/long for more about this failure"
    pieces = wrap_keeping_links(text, 30)
    assert "https://example.com/a/very/long/path/that/is/long" in pieces
    assert " ".join(pieces) == text
    assert all(len(p) <= 30 for p in pieces if "://" not in p)
    lines = field_lines([("Note", text, "body")], 40, "…")
    assert [head for head, _, _ in lines][0] == f" {'Note':<11}  "
    pad = " " * (1 + 11 + LABEL_GAP)
    assert all(head in (pad, None) for head, _, _ in lines[1:])
    assert any(head is None and piece.strip() == "https://example.com/a/very/long/path/that/is/long" for head, piece, _ in lines)


def test_an_indented_log_line_keeps_its_indent_when_wrapped() -> None:
    line = '  File "train.py", line 10, in <module> with a long tail of words'
    pieces = wrap_keeping_links(line, 30)
    assert pieces[0].startswith('  File "train.py"')
    assert all(len(p) <= 30 for p in pieces)
