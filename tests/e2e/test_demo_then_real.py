"""Demo and real never mix: the demo once, then a real project without credentials shows no demo row."""

from __future__ import annotations

import sys

import pytest

from arr_actors.tables import TABLES
from e2e.conftest import program_env
from e2e.pty import Terminal

pytestmark = pytest.mark.e2e

TITLES = [spec.title for spec in TABLES]
MONITOR = [sys.executable, "-m", "arr_actors"]


def _title_lines(term: Terminal) -> list[str]:
    return [line for line in term.lines() if any(line[2:].startswith(title) for title in TITLES)]


def _first_words_of_rows(term: Terminal) -> set[str]:
    """The first word of every data row on screen (execution, build, job and run ids)."""
    words = set()
    for line in term.lines()[1:-1]:
        if not line.strip() or any(line[2:].startswith(title) for title in TITLES):
            continue
        first = line.split()[0]
        if first not in ("Queue", "Build", "Job", "Run", "loading…", "waiting") and "─" not in first:
            words.add(first)
    return words


@pytest.mark.timeout(150)
def test_a_real_project_after_the_demo_shows_none_of_the_demo_s_rows(spawn, tmp_path) -> None:
    places = {"XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    demo = spawn([*MONITOR, "--demo"], env=program_env(NO_COLOR="1", **places))
    # The demo's tables fill, its finished executions are diagnosed (and remembered on disk).
    demo.wait_for(
        lambda t: "FAILED" in t.text() and "exit code" in t.text() and "reading its log" not in t.text()
        and "loading…" not in t.text(),
        timeout=60,
        what="demo rows in every table",
    )
    demo_words = _first_words_of_rows(demo)
    assert len(demo_words) >= 5, demo.dump()
    demo.press("q")
    assert demo.wait_exit(timeout=10) == 0

    real = spawn(
        MONITOR,
        env=program_env(
            NO_COLOR="1",
            ARR_PROJECT="real-project-123",
            # No credentials of any kind: a missing key file fails at once, without a metadata-server probe.
            GOOGLE_APPLICATION_CREDENTIALS=str(tmp_path / "no-such-key.json"),
            NO_GCE_CHECK="True",
            **places,
        ),
    )
    real.wait_for(lambda t: len(_title_lines(t)) == len(TITLES), timeout=20, what="first frame")
    first = real.text()
    real.wait_for(
        lambda t: "credentials" in t.text()
        and "waiting for the first refresh" not in t.text()
        and "loading…" not in t.text(),
        timeout=60,
        what="every table's first refresh failed",
    )
    for screen in (first, real.text()):
        assert not [word for word in demo_words if word in screen], screen
        assert "FAILED" not in screen and "RUNNING" not in screen, screen
