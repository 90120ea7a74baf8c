"""Terminal-state memory: survives restarts, never stores running executions, recovers from corruption."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from arr_actors.diagnostics.extract import diagnose
from arr_actors.diagnostics.memory import FILENAME, TerminalMemory

FAILED = diagnose(["google.api_core.exceptions.NotFound: 404 Bucket gs://demo does not exist."], status="FAILED")
FINISHED = diagnose(["Runs: 3"], status="SUCCEEDED")
RUNNING = diagnose(["Runs: 1"], status="RUNNING")


def test_results_survive_a_restart(tmp_path):
    with TerminalMemory(tmp_path, "demo-project") as memory:
        assert memory.put("vertex-ai-launcher-abc12", "FAILED", FAILED)
        assert memory.put("vertex-ai-launcher-def34", "SUCCEEDED", FINISHED)
        assert memory.notice == ""
    assert (tmp_path / FILENAME).exists()
    with TerminalMemory(tmp_path, "demo-project") as again:
        assert again.get("vertex-ai-launcher-abc12") == FAILED
        assert again.get("vertex-ai-launcher-def34") == FINISHED
        assert again.get("vertex-ai-launcher-missing") is None
        assert len(again) == 2
        assert again.notice == ""


def test_running_executions_are_never_stored(tmp_path):
    with TerminalMemory(tmp_path, "p") as memory:
        assert not memory.put("e1", "RUNNING", RUNNING)
        assert not memory.put("e2", "RUNNING", FAILED)  # status decides, not the log
        assert not memory.put("e3", "FAILED", RUNNING)  # a running diagnosis is not terminal either
        assert memory.get_many(["e1", "e2", "e3"]) == {}
        assert len(memory) == 0


def test_keyed_by_project_and_batched_lookups(tmp_path):
    path = tmp_path / "custom.sqlite3"
    with TerminalMemory(path, "project-a") as a, TerminalMemory(path, "project-b") as b:
        names = [f"exec-{i:04d}" for i in range(1200)]  # more than one sqlite parameter batch
        for name in names[::2]:
            assert a.put(name, "FAILED", FAILED)
        found = a.get_many(names)
        assert set(found) == set(names[::2])
        assert b.get_many(names) == {}
    assert path.exists() and not (tmp_path / FILENAME).exists()


def test_a_corrupt_file_is_set_aside_and_rebuilt(tmp_path):
    with TerminalMemory(tmp_path, "p") as memory:
        memory.put("e1", "FAILED", FAILED)
    (tmp_path / FILENAME).write_bytes(b"this is not a database" * 500)
    with TerminalMemory(tmp_path, "p") as memory:
        assert "was unreadable" in memory.notice and "moved it to terminal.sqlite3.corrupt-" in memory.notice
        assert memory.get("e1") is None
        assert memory.put("e1", "FAILED", FAILED)
        assert memory.get("e1") == FAILED
    aside = sorted(p.name for p in tmp_path.iterdir() if ".corrupt-" in p.name)
    assert len(aside) == 1
    assert (tmp_path / aside[0]).read_bytes().startswith(b"this is not a database")
    with TerminalMemory(tmp_path, "p") as memory:
        assert memory.notice == "" and memory.get("e1") == FAILED


def test_a_damaged_page_is_recovered_from(tmp_path):
    with TerminalMemory(tmp_path, "p") as memory:
        for i in range(300):
            memory.put(f"e{i}", "FAILED", FAILED)
    path = tmp_path / FILENAME
    data = bytearray(path.read_bytes())
    data[4096 : 4096 * 3] = os.urandom(4096 * 2)  # wreck b-tree pages, keep the header
    path.write_bytes(bytes(data))
    with TerminalMemory(tmp_path, "p") as memory:
        # Either the open-time check or the first read notices; neither raises.
        memory.get_many([f"e{i}" for i in range(300)])
        memory.put("fresh", "FAILED", FAILED)
        assert memory.notice and "terminal-state memory" in memory.notice
        assert memory.get("fresh") == FAILED


def test_undecodable_rows_are_dropped(tmp_path):
    with TerminalMemory(tmp_path, "p") as memory:
        memory.put("e1", "FAILED", FAILED)
    db = sqlite3.connect(tmp_path / FILENAME)
    with db:
        db.execute("UPDATE terminal SET diagnosis = '{\"outcome\": \"weird\"}'")
    db.close()
    with TerminalMemory(tmp_path, "p") as memory:
        assert memory.get("e1") is None
        assert len(memory) == 0


def test_an_unusable_location_falls_back_to_memory_with_a_notice(tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the cache directory should be")
    with TerminalMemory(blocker / "arr_actors", "p") as memory:
        assert "remembering results in memory only" in memory.notice
        assert memory.put("e1", "FAILED", FAILED)
        assert memory.get("e1") == FAILED


def test_closed_memory_answers_without_raising(tmp_path):
    memory = TerminalMemory(tmp_path, "p")
    memory.close()
    memory.close()
    assert memory.get("e1") is None
    assert not memory.put("e1", "FAILED", FAILED)


def _writer(directory: str, ready: multiprocessing.synchronize.Event) -> None:  # type: ignore[name-defined]
    memory = TerminalMemory(directory, "p")
    memory.put("before-kill", "FAILED", FAILED)
    ready.set()
    i = 0
    while True:  # killed mid-write by the test
        memory.put(f"loop-{i}", "FAILED", FAILED)
        i += 1


@pytest.mark.timeout(60)
def test_a_writer_killed_mid_write_leaves_a_usable_database(tmp_path):
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    child = context.Process(target=_writer, args=(str(tmp_path), ready))
    child.start()
    try:
        assert ready.wait(30), "writer did not start"
        deadline = time.monotonic() + 10
        wal = Path(tmp_path / f"{FILENAME}-wal")
        while not (wal.exists() and wal.stat().st_size > 0) and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.join(10)
        if child.is_alive():
            child.kill()
            child.join(5)
    with TerminalMemory(tmp_path, "p") as memory:
        assert memory.notice == ""
        assert memory.get("before-kill") == FAILED
        assert len(memory) >= 1
