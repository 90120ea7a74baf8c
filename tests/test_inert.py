from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arr_actors.inert import ascii_only, dumps, inert, inert_line, inert_lines, is_inert

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


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("q\u200bevil", "qevil"),
        ("a\u200c\u200d\ufeff\u2060\u2061\u2062\u2063\u2064\u180eb", "ab"),
        ("soft\u00adhyphen", "softhyphen"),
        ("filler\u3164\u115f\u1160\uffa0s", "fillers"),
        ("tag\U000e0001\U000e0065\U000e007fs", "tags"),
        ("alone\ufe0f\U000e0100", "alone"),
        ("cgj\u034f", "cgj"),
        ("line\u2028para\u2029end", "line para end"),
        ("private\ue000\U0010fffd", "private"),
        ("no\u00a0break\u3000space", "no break space"),
        ("\U0001f468\u200d\U0001f469", "\U0001f468\U0001f469"),  # inert over pretty: joiners go inside emoji too
        ("ok 日本 ✓ é", "ok 日本 ✓ é"),
    ],
)
def test_invisible_and_format_characters_go(raw: str, shown: str) -> None:
    assert inert(raw) == shown


def test_inert_lines_split_at_unicode_line_separators_and_keep_indentation() -> None:
    assert inert_lines("  a\u200b\u2028  b\u2029c") == ["  a", "  b", "c"]


@given(st.text())
def test_what_inert_leaves_is_inert(text: str) -> None:
    assert is_inert(inert(text))
    assert all(is_inert(line) for line in inert_lines(text))
    assert is_inert(inert_line(text.replace("\n", " ")))


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
    )
)
def test_json_keeps_every_value_and_escapes_what_is_not_inert(value: object) -> None:
    document = dumps(value, indent=2)
    assert json.loads(document) == value
    assert all(is_inert(line) for line in document.split("\n"))


def test_json_stays_readable() -> None:
    assert dumps({"name": "日本 ✓"}) == '{"name": "日本 ✓"}'
    assert dumps(["\x9b2J\x7f\u200b\U000e0041"]) == '["\\u009b2J\\u007f\\u200b\\udb40\\udc41"]'
