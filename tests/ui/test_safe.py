from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arr_actors_ui.safe import ascii_only, inert, inert_lines

# Anything a terminal could act on: C0 except newline, DEL, C1, ESC, bidi controls.
ACTIVE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain text", "plain text"),
        ("\x1b[31mred\x1b[0m", "red"),
        ("\x1b[2J\x1b[Hcleared", "cleared"),
        ("\x1b[?1049lleave alt screen", "leave alt screen"),
        ("\x1b]0;pwned\x07title", "title"),
        ("\x1b]2;pwned\x1b\\title", "title"),
        ("\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\", "link"),
        ("\x1bP1$r0m\x1b\\dcs", "dcs"),
        ("\x1b_apc payload\x1b\\apc", "apc"),
        ("\x1b7saved\x1b8", "saved"),
        ("\x1b(Bcharset", "charset"),
        ("bare\x1b", "bare"),
        ("\x9b31mc1 csi", "c1 csi"),
        ("\x9d0;pwned\x9ctitle", "title"),
        ("over\rwrite", "overwrite"),
        ("back\x08space", "backspace"),
        ("tab\there", "tab here"),
        ("bell\x07nul\x00del\x7f", "bellnuldel"),
        ("multi\nline", "multi line"),
        ("bidi \u202eevil\u202c", "bidi evil"),
        ("unicode ✓ 日本", "unicode ✓ 日本"),
        ("\x1b]0;unterminated title", ""),
    ],
)
def test_inert_removes_sequences_and_controls(raw: str, shown: str) -> None:
    assert inert(raw) == shown


def test_inert_lines_keeps_lines_and_expands_tabs() -> None:
    assert inert_lines("a\tb\n\x1b[1mbold\x1b[0m\r\nend") == ["a    b", "bold", "end"]


def test_markup_lookalikes_stay_text() -> None:
    # urwid markup is tuples and lists; text that looks like it is just text.
    assert inert("('bold', 'x')") == "('bold', 'x')"


@given(st.text())
def test_nothing_active_survives(text: str) -> None:
    assert not ACTIVE.search(inert(text))
    for line in inert_lines(text):
        assert not ACTIVE.search(line)


@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E)))
def test_printable_ascii_is_kept(text: str) -> None:
    assert inert_lines(text) == [text]


def test_ascii_only() -> None:
    assert ascii_only("naïve ✓") == "na?ve ?"
    assert ascii_only("plain") == "plain"
