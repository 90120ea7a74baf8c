"""A replay in a real terminal: nothing to refresh or act on, the end is marked and ages stop there."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from arr_actors import config
from arr_actors import recording as rec
from e2e.conftest import REPO
from e2e.pty import Terminal

pytestmark = pytest.mark.e2e

STARTED = 1_714_555_800.0


def write_recording(path: Path) -> None:
    from arr_actors.messages import TableSnapshot, WandbRunRow

    settings = config.defaults(project="demo-project")
    row = WandbRunRow("r1", "llama-replayed", "running", STARTED - 100, runtime_s=50.0)
    entries = [
        (0.0, TableSnapshot("active", 1, "ok", rows=(row,), fetched_at=STARTED, updated_at=STARTED)),
        (1.0, TableSnapshot("active", 2, "ok", rows=(row,), fetched_at=STARTED + 1, updated_at=STARTED + 1)),
    ]
    path.write_bytes(rec.encode_header(settings, started_at=STARTED) + b"".join(rec.encode_entry(t, m) for t, m in entries))


def age(term: Terminal) -> str:
    line = term.line_with("Active W&B runs") or ""
    found = re.search(r"updated (\d+ \w+) ago", line)
    return found.group(1) if found else ""


@pytest.mark.timeout(60)
def test_replay_offers_no_refresh_or_action_marks_the_end_and_stops_the_clock(spawn, tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    write_recording(path)
    term = spawn([sys.executable, str(REPO / "scripts" / "replay.py"), str(path), "--speed", "4"], cols=120, rows=30)
    term.wait_for(lambda t: "REPLAY: END OF RECORDING" in t.lines()[-1], timeout=20, what="the end marked")
    assert "r/R" not in term.lines()[-1]
    frozen = age(term)
    assert frozen == "0 s"  # the clock stopped at the last message, fetched at that moment
    term.press("r")
    term.wait_text("replay: the recording cannot be refreshed")
    term.send("\x0b")  # ctrl k
    term.wait_text("replay: actions are disabled")
    term.press("l")
    term.wait_text("the log view needs the live monitor")
    assert "lines 1-" not in term.lines()[0]  # no log view opened
    term.read_for(2.5)  # real time passes; the replayed time does not
    assert age(term) == frozen
    term.press("q")
    assert term.wait_exit(timeout=5) == 0
