"""Cancelling from the monitor, in a real terminal, against the emulator: declined, confirmed, refused."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from e2e.pty import Terminal
from e2e.test_api_budget import emu, monitor_env  # noqa: F401 - the emulator fixture

pytestmark = pytest.mark.e2e

CTRL_K = "\x0b"
MONITOR = [sys.executable, "-m", "arr_actors", "--no-warm-start"]


def vertex_rows(term: Terminal) -> list[str]:
    """The data rows of the Vertex AI jobs table on screen."""
    lines = term.lines()
    start = next(i for i, line in enumerate(lines) if line[2:].startswith("Vertex AI jobs"))
    out = []
    for line in lines[start + 2 :]:
        if not line.strip() or line[2:].startswith("Active W&B runs") or line.startswith(("▶", "  ")):
            break
        out.append(line)
    return out


def first_job(term: Terminal) -> str:
    rows = vertex_rows(term)
    return rows[0].split()[0] if rows else ""


def footer(term: Terminal) -> str:
    return "\n".join(term.lines()[-3:])


@pytest.mark.timeout(120)
def test_cancel_declined_confirmed_and_refused_for_want_of_a_role(emu, spawn, tmp_path: Path) -> None:  # noqa: F811
    env = monitor_env(emu, tmp_path)
    env["ARR_TABLES_VERTEX_INTERVAL"] = "3"
    term = spawn(MONITOR, env=env, cols=200, rows=50)
    term.wait_for(lambda t: re.search(r"Vertex AI jobs  \d+ rows?", t.text()), timeout=60, what="vertex rows")
    term.press("tab", "tab", "f", "f", "F")  # the Vertex AI table, its active jobs only
    term.wait_for(lambda t: "active only" in t.lines()[-1] and first_job(t), timeout=10, what="an active job")
    job = first_job(term)
    assert re.fullmatch(r"\d+", job), vertex_rows(term)

    term.send(CTRL_K)
    term.wait_for(lambda t: "Cancel Vertex AI job" in footer(t) and f"({job})?" in footer(t), timeout=5)
    term.press("n")
    term.wait_text("kept Vertex AI job")
    assert emu.stats().get("CancelCustomJob", 0) == 0

    term.send(CTRL_K)
    term.wait_for(lambda t: "y/enter: yes" in footer(t), timeout=5)
    term.press("y")
    term.wait_for(lambda t: "CANCELLING" in (vertex_rows(t) or [""])[0], timeout=10, what="row shows CANCELLING")
    term.wait_text("cancel requested: Vertex AI job", timeout=20)
    assert emu.stats().get("CancelCustomJob", 0) == 1
    # the service confirms: the job stops and leaves the active-only table
    term.wait_for(lambda t: job not in "\n".join(vertex_rows(t)), timeout=30, what="the job is over")

    # Refused: a build (active builds come first in their table) while Cloud Build denies the permission.
    emu.set_faults({"build": "error:PERMISSION_DENIED"})
    try:
        term.press("esc")
        term.wait_for(lambda t: "active only" not in t.lines()[-1], timeout=5)
        term.press("shift tab")
        term.wait_for(lambda t: t.line_with("▶ Cloud Builds") is not None, timeout=5)
        term.send(CTRL_K)
        term.wait_for(lambda t: "Cancel build " in footer(t), timeout=5)
        term.press("enter")
        term.wait_for(
            lambda t: "Cloud Build Editor role (roles/cloudbuild.builds.editor)" in t.text(),
            timeout=30,
            what="the role named",
        )
        assert "permission denied by Cloud Build" in term.text()
        term.wait_for(lambda t: "CANCELLING" not in t.text(), timeout=10, what="the mark is cleared")
        assert emu.stats().get("CancelBuild", 0) == 1
    finally:
        emu.set_faults({})
    term.press("q")
    assert term.wait_exit(timeout=5) == 0


@pytest.mark.timeout(90)
def test_read_only_disables_cancel_visibly(emu, spawn, tmp_path: Path) -> None:  # noqa: F811
    term = spawn([*MONITOR, "--read-only"], env=monitor_env(emu, tmp_path), cols=200, rows=50)
    term.wait_for(lambda t: "READ-ONLY" in t.lines()[-1] and re.search(r"Vertex AI jobs  \d+ rows?", t.text()), timeout=60)
    term.press("tab", "tab")
    term.send(CTRL_K)
    term.wait_text("read-only: actions are disabled")
    assert "y/enter: yes" not in term.text()
    term.press("q")
    assert term.wait_exit(timeout=5) == 0
    assert emu.stats().get("CancelCustomJob", 0) == 0
