"""The whole program, end to end: ``python -m arr_actors --demo --once --json``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid

import psutil
import pytest

from arr_actors.tables import TABLE_KEYS


def run_once(*extra: str, timeout: float = 60) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "arr_actors", "--demo", "--once", "--json", *extra],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, MARK: MARK_VALUE},
    )
    return proc, time.monotonic() - started


# Every process of the run inherits this variable: whatever still carries it after
# the program exited was left behind (an orphan is re-parented, so it cannot be
# found by walking the tree from the program's pid).
MARK = "ARRACTORS_TEST_RUN"
MARK_VALUE = uuid.uuid4().hex


def processes_left_behind() -> list[str]:
    left = []
    for p in psutil.process_iter(["pid", "cmdline"]):
        try:
            if p.environ().get(MARK) == MARK_VALUE:
                left.append(f"{p.pid} {' '.join(p.info['cmdline'] or [])}")
        except psutil.Error:
            continue
    return left


@pytest.mark.timeout(90)
def test_demo_once_json_fills_all_five_tables():
    proc, _ = run_once()
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = json.loads(proc.stdout)
    assert doc["schema"] == 1 and "generated_at" in doc
    assert list(doc["tables"]) == list(TABLE_KEYS)
    for key, table in doc["tables"].items():
        assert table["state"] == "ok", (key, table["error"])
        assert table["rows"], f"{key} has no rows"
        assert set(table) >= {"state", "rows", "error", "fetched_at", "duration_s", "attempts", "restarts"}
    runner = doc["tables"]["runner"]["rows"]
    assert len({r["region"] for r in runner}) >= 3, "runner rows should span several regions"
    failed = [r for r in runner if r["status"] == "FAILED"]
    assert failed, "the demo world shows failed executions"
    assert all(r["note"] and r["category"] for r in failed), failed
    assert not processes_left_behind()


@pytest.mark.timeout(90)
def test_hung_table_times_out_at_its_deadline_and_the_rest_are_ok():
    proc, elapsed = run_once("--deadline", "5", "--fault", "builds=hang")
    assert elapsed < 15, f"took {elapsed:.1f} s"
    assert proc.returncode == 1, proc.stderr[-2000:]
    tables = json.loads(proc.stdout)["tables"]
    assert tables["builds"]["state"] == "timeout"
    assert "deadline" in tables["builds"]["error"] and "5" in tables["builds"]["error"]
    for key in TABLE_KEYS:
        if key != "builds":
            assert tables[key]["state"] == "ok", (key, tables[key]["error"])
    assert not processes_left_behind()
