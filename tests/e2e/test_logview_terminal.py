"""The log view (l), in a real terminal, against the emulator: a failed execution's
log opened on its error line, search, following a running one, a hung read killed."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from e2e.pty import Terminal, wait_gone
from e2e.test_api_budget import emu, every_table_fetched, monitor_env, status_figures  # noqa: F401 - the emulator fixture

pytestmark = pytest.mark.e2e

MONITOR = [sys.executable, "-m", "arr_actors", "--no-warm-start"]
HEADER = re.compile(r"execution (vertex-ai-launcher-\w+), lines (\d+)-(\d+) of (\d+)")


def runner_ready(term: Terminal) -> bool:
    return bool(re.search(r"W&B Launch agent  \d+(?:/\d+)? rows?", term.text()))


def header(term: Terminal) -> re.Match[str] | None:
    return HEADER.search(term.lines()[0])


def error_rows(term: Terminal, rows: int) -> list[int]:
    """Screen rows of the log drawn in the error colour (light red text)."""
    return [r for r in range(1, rows - 3) if term.cell(r, 0).fg in ("red", "ff5f5f", "ff6666", "ff5555") and term.lines()[r].strip()]


def open_first(term: Terminal, quick_filter_presses: int) -> str:
    """Filter the runner table by state, open the first row's log; the execution's name."""
    term.press(*["f"] * quick_filter_presses)
    want = "failed only" if quick_filter_presses == 1 else "active only"
    term.wait_for(lambda t: want in t.lines()[-1], timeout=5, what=want)
    term.press("l")
    term.wait_for(header, timeout=10, what="the log view")
    match = header(term)
    assert match is not None
    return match.group(1)


@pytest.mark.timeout(120)
def test_a_failed_execution_opens_on_its_error_line_and_searches(emu, spawn, tmp_path: Path) -> None:  # noqa: F811
    cols, rows = 200, 40
    emu.stats(reset=True)
    term = spawn(MONITOR, env=monitor_env(emu, tmp_path), cols=cols, rows=rows)
    term.wait_for(every_table_fetched, timeout=60, what="every table fetched")
    term.wait_for(lambda t: status_figures(t.lines()[-1])[0].get("logging", 0) == emu.stats().get("ListLogEntries"), timeout=20, what="the runner's log reads")
    reads = emu.stats().get("ListLogEntries", 0)
    name = open_first(term, 1)
    # The whole log came (one read here), and the view sits on the failure's line, in red.
    term.wait_for(lambda t: "excerpt" not in t.lines()[0] and "reading" not in t.lines()[0], timeout=20, what="the read")
    assert emu.stats().get("ListLogEntries", 0) > reads
    # The status line counts the log reader's reads with the tables' (every table refreshes once here).
    term.wait_for(
        lambda t: status_figures(t.lines()[-1])[0].get("logging") == emu.stats().get("ListLogEntries"),
        timeout=5, what="the reader's reads in the status line",
    )
    marked = error_rows(term, rows)
    assert len(marked) == 1, term.dump() + repr([(r, term.cell(r, 0)) for r in range(rows)])
    assert "ERROR" in term.lines()[marked[0]] or "Error" in term.lines()[marked[0]], term.lines()[marked[0]]
    total = int(header(term).group(4))  # type: ignore[union-attr]
    assert total > 10

    term.press("g")  # away from it, then back with e
    term.wait_for(lambda t: header(t) and header(t).group(2) == "1", timeout=5, what="the top")  # type: ignore[union-attr]
    term.press("e")
    term.wait_for(lambda t: len(error_rows(t, rows)) == 1, timeout=5, what="the error line again")

    term.press("/", *"killing agent", "enter")
    term.wait_for(lambda t: "/killing agent" in t.lines()[0], timeout=5, what="the search")
    assert "(no match)" not in term.lines()[0]
    hit = next(r for r in range(1, rows - 3) if "Killing agent" in term.lines()[r])
    assert term.cell(hit, 0).reverse or term.cell(hit, 0).bg not in ("default",), term.dump()
    term.press("/", *"no such text anywhere", "enter")
    term.wait_for(lambda t: "(no match)" in t.lines()[0], timeout=5, what="no match")

    term.press("s")  # saved in the monitor's working directory (the repository)
    term.wait_for(lambda t: "saved" in t.text() and "arr-log-" in t.text(), timeout=5, what="saved")
    saved = re.search(r"saved (\d+) lines to (\S+arr-log-\S+\.txt)", " ".join(term.lines()[-4:]).replace("  ", " "))
    assert saved, term.dump()
    path = Path(saved.group(2))
    try:
        assert path.read_text().splitlines()[-1] and int(saved.group(1)) == total
    finally:
        path.unlink()

    term.press("esc")
    term.wait_for(lambda t: runner_ready(t) and not header(t), timeout=5, what="the tables again")
    assert name in term.text()
    pids = [p.pid for p in term.descendants()]
    assert term.quit() == 0
    assert wait_gone(pids) == []


@pytest.mark.timeout(150)
def test_following_a_running_execution_shows_new_lines(emu, spawn, tmp_path: Path) -> None:  # noqa: F811
    emu.set_log_volume(5_000)  # running executions write steadily: new lines at every read
    try:
        env = monitor_env(emu, tmp_path, ARR_API_LOG_FOLLOW_S="1")
        term = spawn(MONITOR, env=env, cols=160, rows=40)
        term.wait_for(runner_ready, timeout=60, what="runner rows")
        open_first(term, 2)
        term.wait_for(lambda t: "following every 1 s: next read in" in t.text(), timeout=30, what="following")
        first = int(header(term).group(4))  # type: ignore[union-attr]
        term.wait_for(lambda t: header(t) and int(header(t).group(4)) > first, timeout=30, what="new lines")  # type: ignore[union-attr]
        # Following keeps the newest line on screen.
        match = header(term)
        assert match is not None and match.group(3) == match.group(4)
        term.press("f")
        term.wait_text("(paused: f resumes)", timeout=5)
        term.press("esc")
        term.wait_for(lambda t: not header(t), timeout=5, what="closed")
        assert term.quit() == 0
    finally:
        emu.set_log_volume(0)


@pytest.mark.timeout(120)
def test_a_hung_log_read_is_killed_at_its_deadline_and_the_screen_answers(emu, spawn, tmp_path: Path) -> None:  # noqa: F811
    env = monitor_env(emu, tmp_path, ARR_API_LOG_READ_DEADLINE_S="3")
    term = spawn([*MONITOR, "--fault", "logs=hang"], env=env, cols=160, rows=40)
    term.wait_for(runner_ready, timeout=60, what="runner rows")
    open_first(term, 1)
    term.wait_text("log read timed out after 3 s", timeout=40)
    # The screen answered all along, and still does.
    took = term.press_and_measure("w", lambda t: "timed out" in t.text(), timeout=5)
    assert took < 2.0
    term.press("esc")
    term.wait_for(lambda t: not header(t) and runner_ready(t), timeout=5, what="the tables")
    pids = [p.pid for p in term.descendants()]
    assert term.quit() == 0
    assert wait_gone(pids) == []
