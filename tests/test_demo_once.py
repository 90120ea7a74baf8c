"""The whole program, end to end: ``python -m arr_actors --demo --once --json``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from leftovers import marked, processes_left

from arr_actors.tables import TABLE_KEYS


def run_once(*extra: str, timeout: float = 60) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "arr_actors", "--demo", "--once", "--json", *extra],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=ENV,
    )
    return proc, time.monotonic() - started


ENV, TOKEN = marked(os.environ)


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
    assert not processes_left(TOKEN)


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
    assert not processes_left(TOKEN)
