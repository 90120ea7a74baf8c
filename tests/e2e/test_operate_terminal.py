"""Operating the monitor in a real terminal: sort, filter, copy, alerts (a stand-in system)."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from e2e.conftest import program_env
from e2e.fake_monitor import INTERVAL_S
from e2e.pty import Terminal
from e2e.test_ui_terminal import all_tables_filled, quit_cleanly

pytestmark = pytest.mark.e2e


def footer(term: Terminal) -> str:
    return term.lines()[-1]


@pytest.mark.timeout(60)
def test_sort_marks_the_header_and_reorders(fake_monitor) -> None:
    term, command_file = fake_monitor(cols=120, rows=40)
    term.wait_for(all_tables_filled, timeout=10, what="five tables filled")
    term.press("s", "s", "s")  # runner by region (after execution and queue)
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


@pytest.mark.timeout(90)
def test_an_alert_fires_once_for_a_new_failure_and_never_for_old_ones(fake_monitor, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    sent = tmp_path / "notify-send.txt"
    script = bin_dir / "notify-send"
    script.write_text(f'#!/bin/sh\nprintf "%s|" "$@" >> {sent}\necho >> {sent}\n')
    script.chmod(0o755)
    env = program_env(PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    term, command_file = fake_monitor("--fail-later", "--notify", env=env, cols=160, rows=40)
    term.wait_for(all_tables_filled, timeout=10, what="five tables filled")
    bells_at_start = term.output.count(b"\x07")
    alert = "Vertex AI job train-llama-7b (us-central1) failed: The zone us-central1-a does not have enough"
    term.wait_for(lambda t: alert in t.text(), timeout=20, what="the alert notice")
    assert "[capacity]" in term.line_with(alert)
    term.wait_for(lambda t: t.output.count(b"\x07") == bells_at_start + 1, timeout=5, what="one bell")
    # Two more refreshes of every table: the same failure never alerts again,
    # and the failures that were there at start never did.
    term.press("R")
    term.read_for(INTERVAL_S)
    term.press("R")
    term.read_for(INTERVAL_S)
    assert term.output.count(b"\x07") == bells_at_start + 1
    calls = [line for line in sent.read_text().splitlines() if line]
    assert len(calls) == 1
    assert "arr_actors: vertex failed" in calls[0] and "train-llama-7b" in calls[0]
    for old in ("vertex-ai-launcher-def34", "b3f0c0de", "llama-13b-base", "train-llama-13b"):
        assert old not in calls[0]
    assert "failed:" not in "".join(t for t in term.lines() if "train-llama-13b" in t)
    quit_cleanly(term, command_file)


@pytest.mark.timeout(60)
def test_h_shows_region_health_and_esc_closes_it(fake_monitor) -> None:
    term, command_file = fake_monitor(cols=140, rows=30)
    term.wait_for(all_tables_filled, timeout=10, what="five tables filled")
    term.press("h")
    term.wait_text("Region health")
    line = term.line_with("europe-west4")
    assert line is not None and "memory 1" in line and "code 1" in line and "CUDA out of memory" in line
    assert term.line_with("asia-northeast1") is None  # finished more than a day ago
    term.press("esc")
    term.wait_for(all_tables_filled, timeout=5, what="back to the tables")
    quit_cleanly(term, command_file)
