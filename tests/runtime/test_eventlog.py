"""The event log file: format, permissions, rotation."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from arr_actors.runtime.eventlog import EVENTS, EventLog, event_line
from arr_actors.runtime.policy import LogEvent


def test_a_line_carries_the_documented_fields() -> None:
    line = event_line(LogEvent("builds", 3, "completed", 1700000000.12345, duration_s=1.5, budget_pct=30.0))
    assert line.endswith("\n")
    assert json.loads(line) == {
        "ts": 1700000000.123,
        "table": "builds",
        "generation": 3,
        "event": "completed",
        "duration": 1.5,
        "budget_pct": 30.0,
    }
    assert json.loads(event_line(LogEvent("runner", 1, "failed", 1.0, detail="timeout: x")))["detail"] == "timeout: x"


@pytest.mark.timeout(10)
def test_file_is_private_and_rotates_by_size(tmp_path: Path) -> None:
    state = tmp_path / "state"
    log = EventLog(str(state), max_bytes=2000, backups=3)
    for i in range(200):
        log.write(LogEvent("vertex", i, EVENTS[i % len(EVENTS)], float(i), detail="x" * 20))
    log.close(timeout=5)
    files = sorted(p.name for p in state.iterdir())
    assert files == ["events.jsonl", "events.jsonl.1", "events.jsonl.2", "events.jsonl.3"]
    for name in files:
        path = state / name
        assert path.stat().st_size <= 2000
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        for line in path.read_text().splitlines():
            assert json.loads(line)["table"] == "vertex"
    newest = [json.loads(x)["generation"] for x in (state / "events.jsonl").read_text().splitlines()]
    assert newest[-1] == 199
    assert stat.S_IMODE(state.stat().st_mode) == 0o700


@pytest.mark.timeout(10)
def test_an_existing_loose_file_is_tightened(tmp_path: Path) -> None:
    tmp_path.joinpath("events.jsonl").write_text("")
    os.chmod(tmp_path / "events.jsonl", 0o644)
    log = EventLog(str(tmp_path))
    log.write(LogEvent("runner", 1, "started", 1.0))
    log.close(timeout=5)
    assert stat.S_IMODE((tmp_path / "events.jsonl").stat().st_mode) == 0o600
    assert json.loads((tmp_path / "events.jsonl").read_text())["event"] == "started"


@pytest.mark.timeout(10)
def test_an_unwritable_place_does_not_break_the_caller(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    log = EventLog(str(blocker / "state"))
    log.write(LogEvent("runner", 1, "started", 1.0))  # logged as a warning, never raised
    log.close(timeout=5)
