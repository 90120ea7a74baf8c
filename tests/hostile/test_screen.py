"""Hostile names on the screen: nothing invisible drawn, columns aligned, no row wrapped, found by search.

Rendered with urwid (the real screen function and canvas); widths are checked
as terminals count them, not as urwid does, because a disagreement between the
two is what misaligns: once with ``wcwidth`` (pyte and recent terminals) and
once with the classic rules many terminals still follow (xterm's, after
Markus Kuhn), where a Hangul filler is wide and a soft hyphen shows.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

import pytest
from hostile_text import HOSTILE, SURVIVOR, assert_inert
from urwid_testing import render_text
from wcwidth import wcswidth

from arr_actors.messages import RunnerRow, TableSnapshot, VertexRow
from arr_actors_ui import keypress, model, screen, visible
from arr_actors_ui.context import RenderContext
from arr_actors_ui.model import UiState

NOW = 1_714_555_800.0
CTX = RenderContext(regions=1)

#: Names built to break a table: invisible characters that some count as wide, joiners, bidi, fillers.
NAMES = (
    HOSTILE,
    "\u3164" * 30 + "filler",  # Hangul filler: urwid 0 columns, terminals 2
    "\u115f\u1160" * 15 + "choseong",
    "a\u200db\u200dc\u2060d\ufeffe\u00adf" * 4,
    "\U0001f468\u200d\U0001f469\u200d\U0001f467 family \u2764\ufe0f",  # a joined emoji and a variation selector
    "\u202eusuoicilam\u202c name",  # right-to-left override
    "ev\u200bil-job",  # a zero width space inside the word searched for
    "plain-name",
)


def classic_width(text: str) -> int:
    """Columns as the classic wcwidth counts them: format characters and combining marks 0,
    Hangul medial vowels and finals 0, East Asian wide and full-width 2, the rest 1."""
    total = 0
    for char in text:
        code = ord(char)
        if unicodedata.category(char) in ("Mn", "Me", "Cf") and char != "\u00ad" or 0x1160 <= code <= 0x11FF:
            continue
        total += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return total


#: How terminals count columns: the tests hold for each.
TERMINAL_WIDTHS: dict[str, Callable[[str], int]] = {"wcwidth": wcswidth, "classic": classic_width}


def hostile_state(**changes: object) -> UiState:
    vertex = tuple(
        VertexRow(f"{i:019d}", name, "us-central1", "FAILED", NOW - 600 * (i + 1), note=name)
        for i, name in enumerate(NAMES)
    )
    runner = tuple(
        RunnerRow(f"vertex-ai-launcher-{i:05d}", "us-central1", name, "FAILED", 1, NOW - 600 * (i + 1), note=name)
        for i, name in enumerate(NAMES[:4])
    )
    state = UiState()
    for key, rows in (("vertex", vertex), ("runner", runner)):
        snapshot = TableSnapshot(table=key, seq=1, state="ok", rows=rows, fetched_at=NOW, updated_at=NOW)
        state = model.receive(state, snapshot, now=NOW)
    return state.replace(focus="vertex", **changes)


def rendered(state: UiState, size: tuple[int, int]) -> list[str]:
    return render_text(screen.screen(state, now=NOW, size=size, ctx=CTX), size)


@pytest.mark.parametrize("size", [(80, 40), (132, 40), (50, 30)])
def test_hostile_names_draw_nothing_invisible_and_fill_each_row_exactly(size: tuple[int, int]) -> None:
    lines = rendered(hostile_state(), size)
    assert_inert("\n".join(lines).encode(), what="screen")
    for name, width in TERMINAL_WIDTHS.items():
        for line in lines:
            # As a terminal counts: exactly the width, so nothing wraps onto the next row.
            assert width(line) == size[0], f"{name}: {width(line)} columns: {line!r}"


def test_columns_stay_aligned_whatever_the_names() -> None:
    lines = rendered(hostile_state(), (132, 40))
    rows = [line for line in lines if line.startswith("0000000000000")]  # the vertex rows, by job id
    assert len(rows) == len(NAMES), "\n".join(lines)
    # The state and created columns start at the same terminal column on every row.
    for name, width in TERMINAL_WIDTHS.items():
        for needle in ("FAILED", ":00 "):
            starts = {width(row[: row.index(needle)]) for row in rows}
            assert len(starts) == 1, f"{name}: {needle} starts at columns {sorted(starts)}:\n" + "\n".join(rows)


def test_a_zero_width_character_is_neither_shown_nor_in_the_way_of_search() -> None:
    lines = rendered(hostile_state(), (132, 40))
    assert any(SURVIVOR in line for line in lines)
    filtered = hostile_state(filter_text="evil-job")
    shown = visible.visible_rows(filtered, "vertex")
    assert [row.display_name for row in shown] == ["ev\u200bil-job"]
    assert any("evil-job" in line for line in rendered(filtered, (132, 40)))


def test_the_detail_view_of_a_hostile_row_is_inert() -> None:
    state = hostile_state()
    state, _, _ = keypress.press(state, "enter", now=NOW)  # the first row: HOSTILE
    lines = rendered(state, (100, 40))
    assert any(SURVIVOR in line for line in lines), "\n".join(lines)
    assert_inert("\n".join(lines).encode(), what="detail view")
    for name, width in TERMINAL_WIDTHS.items():
        for line in lines:
            assert width(line) == 100, f"{name}: {line!r}"
