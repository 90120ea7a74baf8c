"""Operating the monitor in a real terminal: sort, filter, copy, alerts (a stand-in system)."""

from __future__ import annotations

import base64

import pytest

from e2e.pty import Terminal
from e2e.test_ui_terminal import all_tables_filled, quit_cleanly

pytestmark = pytest.mark.e2e


def footer(term: Terminal) -> str:
    return term.lines()[-1]


@pytest.mark.timeout(60)
def test_sort_marks_the_header_and_reorders(fake_monitor) -> None:
    term, command_file = fake_monitor(cols=120, rows=40)
    term.wait_for(all_tables_filled, timeout=10, what="five tables filled")
    term.press("s", "s")  # runner by region
    term.wait_for(lambda t: "Region▲" in t.text(), timeout=5, what="sort mark")
    rows = [line for line in term.lines() if "vertex-queue" in line]
    assert "asia-northeast1" in rows[0] and "us-central1" in rows[-1]
    term.press("S")
    term.wait_for(lambda t: "Region▼" in t.text(), timeout=5, what="descending mark")
    rows = [line for line in term.lines() if "vertex-queue" in line]
    assert "us-central1" in rows[0] and "asia-northeast1" in rows[-1]
    quit_cleanly(term, command_file)


@pytest.mark.timeout(60)
def test_regex_filter_invalid_inverted_state_and_scope(fake_monitor) -> None:
    term, command_file = fake_monitor(cols=120, rows=40)
    term.wait_for(all_tables_filled, timeout=10, what="five tables filled")
    term.press("/", "(", "1", "3")
    term.wait_for(lambda t: "invalid regular expression" in footer(t), timeout=5, what="invalid regex reported")
    assert "llama-7b-warmup" in term.text()  # an invalid expression hides nothing
    term.press("backspace", "backspace", "backspace", "!", "1", "3", "b", "|", "e", "v", "a", "l", "enter")
    term.wait_for(
        lambda t: "filter: !13b|eval" in footer(t) and "llama-13b-base" not in t.text(), timeout=5, what="inverted"
    )
    assert "llama-7b-warmup" in term.text() and "eval:v2" not in term.text()
    term.press("esc")  # esc followed at once by a key reads as alt+key: wait for it to land
    term.wait_for(lambda t: "filter:" not in footer(t), timeout=5)
    term.press("f")
    term.wait_for(lambda t: "failed only" in footer(t) and "llama-7b-warmup" not in t.text(), timeout=5)
    assert "llama-13b-base" in term.text() and "b3f0c0de" in term.text() and "b2f0c0de" not in term.text()
    term.press("tab", "F")  # only the builds table keeps the quick filter
    term.wait_for(lambda t: "Cloud Builds only" in footer(t) and "llama-7b-warmup" in t.text(), timeout=5)
    assert "b2f0c0de" not in term.text()
    term.press("esc")
    term.wait_for(lambda t: "b2f0c0de" in t.text() and "only" not in footer(t), timeout=5)
    quit_cleanly(term, command_file)


@pytest.mark.timeout(60)
def test_c_copies_the_id_with_osc52_and_shows_it(fake_monitor) -> None:
    term, command_file = fake_monitor()
    term.wait_for(all_tables_filled, timeout=10, what="five tables filled")
    term.press("tab", "down", "c")
    term.wait_for(lambda t: "copied: b4f0c0de" in t.lines()[-2], timeout=5, what="copied notice")
    expected = b"\x1b]52;c;" + base64.b64encode(b"b4f0c0de") + b"\x07"
    assert term.output.count(expected) == 1
    assert term.output.count(b"\x1b]52;") == 1  # the only clipboard write
    term.press("C")
    term.wait_for(lambda t: "b4f0c0de has no URL to copy" in t.lines()[-2], timeout=5)
    assert term.output.count(b"\x1b]52;") == 1
    quit_cleanly(term, command_file)
