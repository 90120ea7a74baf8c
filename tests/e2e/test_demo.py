"""The real program against the embedded emulator, in a real terminal."""

from __future__ import annotations

import statistics
import sys
import time

import pytest

from arr_actors.tables import TABLE_KEYS, TABLES
from e2e.conftest import program_env
from e2e.pty import Terminal, wait_gone

pytestmark = pytest.mark.e2e

TITLES = [spec.title for spec in TABLES]
SPINNER = set("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏")
DEMO = [sys.executable, "-m", "arr_actors", "--demo", "--no-warm-start"]


def title_lines(term: Terminal) -> dict[str, str]:
    """Each table's title line, by title."""
    out = {}
    for line in term.lines():
        head = line[2:]
        for title in TITLES:
            if head.startswith(title + "  ") or head.rstrip() == title:
                out[title] = line
    return out


def rows_shown(term: Terminal) -> dict[str, int]:
    counts = {}
    for title, line in title_lines(term).items():
        words = line[2 + len(title) :].split()
        if len(words) >= 2 and words[1] in ("row", "rows"):
            counts[title] = int(words[0].split("/")[-1])
    return counts


def all_tables_have_rows(term: Terminal) -> bool:
    counts = rows_shown(term)
    return len(counts) == len(TITLES) and all(counts.values())


def runner_rows(term: Terminal) -> list[tuple[int, str]]:
    """(screen row, text) of the runner table's data rows on screen."""
    lines = term.lines()
    out = []
    for row in range(2, len(lines)):
        if lines[row].startswith(("  ", "▶")) and any(lines[row][2:].startswith(t) for t in TITLES):
            break
        out.append((row, lines[row]))
    return out


def selected_runner_row(term: Terminal) -> str:
    for row, text in runner_rows(term):
        if term.cell(row, 0).reverse and term.cell(row, 20).reverse:
            return text
    return ""


def quit_cleanly(term: Terminal) -> None:
    below = [p.pid for p in term.descendants()]
    assert below, "the monitor runs its fetches and the emulator in child processes"
    started = time.monotonic()
    term.press("q")
    assert term.wait_exit(timeout=5) == 0
    took = time.monotonic() - started
    print(f"quit took {took:.2f} s")
    assert took < 2.5
    assert wait_gone(below, timeout=3) == [], "no process left behind"


@pytest.mark.timeout(120)
def test_demo_monitor_end_to_end(spawn) -> None:
    # Monochrome, so the selected row is the one in reverse video.
    term = spawn(DEMO, env=program_env(NO_COLOR="1"))
    term.wait_for(lambda t: all(title in t.text() for title in TITLES), timeout=15, what="first frame")
    print(f"first frame {time.monotonic() - term.started_at:.2f} s after spawn (including the emulator)")
    term.wait_for(all_tables_have_rows, timeout=45, what="all five tables with rows")

    # FAILED executions show their extracted error in the note column (once their log is read)
    def diagnosed(t) -> bool:
        return any("FAILED" in text and "reading its log" not in text for _, text in runner_rows(t))

    term.wait_for(diagnosed, timeout=45, what="a FAILED row with its error")
    failed = next(text for _, text in runner_rows(term) if "FAILED" in text and "reading its log" not in text)
    note = failed.split("FAILED", 1)[1].split()[-1]
    assert note not in ("-", ""), failed

    # walk down to it and open the detail view
    for _ in range(12):
        if "FAILED" in selected_runner_row(term):
            break
        before = selected_runner_row(term)
        term.press("down")
        term.wait_for(lambda t, b=before: selected_runner_row(t) != b, timeout=5, what="selection moved")
    assert "FAILED" in selected_runner_row(term)
    term.press("enter")
    term.wait_text("W&B Launch agent ›")
    error_line = term.line_with(" Error ")
    assert error_line is not None and error_line.split("Error", 1)[1].strip() not in ("", "-")
    term.wait_text("Log context (")
    term.press("esc")
    term.wait_for(lambda t: "W&B Launch agent ›" not in t.text() and len(title_lines(t)) == 5, timeout=5)

    # / filters every table by text
    region = next(word for word in selected_runner_row(term).split() if "-" in word and word[-1].isdigit())
    term.press("/", *region)
    term.wait_for(lambda t: f"/{region}_" in t.lines()[-1], timeout=5)
    term.press("enter")
    term.wait_for(lambda t: f"filter: {region}" in t.lines()[-1], timeout=5)
    shown = [text for _, text in runner_rows(term) if text.strip() and "Queue" not in text]
    assert shown and all(region in text for text in shown)
    term.press("esc")
    term.wait_for(lambda t: "filter:" not in t.lines()[-1], timeout=5)

    # p pauses (confirmed by the system) and resumes
    term.press("p")
    term.wait_for(lambda t: t.lines()[-1].startswith(" PAUSED "), timeout=5)
    term.press("p")
    term.wait_for(lambda t: "PAUSED" not in t.lines()[-1], timeout=5)

    # a resize re-lays out: the note column gets the new room
    def longest_failed_note(t: Terminal) -> int:
        return max(
            (len(text.split("FAILED", 1)[1].strip()) for _, text in runner_rows(t) if "FAILED" in text), default=0
        )

    narrow = longest_failed_note(term)
    term.resize(120, 40)
    term.wait_for(lambda t: "q  quit" in t.lines()[39] and len(title_lines(t)) == 5, timeout=5, what="120x40 layout")
    term.wait_for(lambda t: longest_failed_note(t) > narrow, timeout=5, what="wider note column")
    term.resize(80, 24)
    term.wait_for(lambda t: "q  quit" in t.lines()[23] and len(title_lines(t)) == 5, timeout=5, what="80x24 layout")

    quit_cleanly(term)


@pytest.mark.timeout(120)
def test_demo_with_every_fetch_hung(spawn) -> None:
    deadline = 3.0
    faults = [arg for key in TABLE_KEYS for arg in ("--fault", f"{key}=hang")]
    term = spawn([*DEMO, "--deadline", str(deadline), *faults], cols=120, rows=40)
    term.wait_for(lambda t: any(ch in t.text() for ch in SPINNER), timeout=20, what="a spinner")
    first_spinner = time.monotonic()

    def focused(t: Terminal) -> str:
        return next((line for line in t.lines() if line.startswith("▶")), "")[:24]

    latencies = []
    for _ in range(10):
        before = focused(term)
        latencies.append(term.press_and_measure("tab", lambda t, b=before: focused(t) != b))
    print("key latencies (ms):", " ".join(f"{x * 1000:.0f}" for x in latencies))
    assert statistics.median(latencies) < 0.1
    assert max(latencies) < 0.5

    # Every hung fetch is killed at its deadline, which starts once its process has
    # loaded its libraries (a few seconds on a busy machine; the runtime tests pin
    # the exact moment), and the table says so (it then restarts with backoff).
    message = f"timed out after {deadline:g} s (deadline); fetch killed"
    term.wait_for(
        lambda t: sum(line.strip() == f"no data: {message}" for line in t.lines()) == 5,
        timeout=deadline + 20,
        what="every table reporting its timeout",
    )
    assert time.monotonic() - first_spinner >= deadline
    quit_cleanly(term)
