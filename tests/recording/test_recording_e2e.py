"""The whole program: record a demo session, replay it, warm start, remote viewing.

Every test runs ``python -m arr_actors --demo`` (the embedded emulator) with its
own state directory, so warm-start files never leak between tests.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from leftovers import marked, processes_left
from recording_samples import PYTHON, REPLAY, ROOT, blocked_imports_prelude

from arr_actors import config
from arr_actors import recording as rec
from arr_actors import warmstart as ws
from arr_actors.once_document import once_document
from arr_actors.tables import TABLE_KEYS, TABLES

sys.path.insert(0, str(ROOT / "tests"))
from e2e.pty import Terminal, wait_gone  # noqa: E402

pytestmark = pytest.mark.e2e

MONITOR = [PYTHON, "-m", "arr_actors", "--demo"]


def program_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env["XDG_STATE_HOME"] = str(tmp_path / "state-home")
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache-home")
    return env


def warm_file(tmp_path: Path) -> Path:
    # The demo's warm start, kept apart from every real project's (keyed by project and endpoint).
    demo = config.defaults({"paths.state_dir": str(tmp_path / "state-home" / "arr_actors")}, project=config.DEMO_PROJECT, demo=True)
    return Path(ws.warm_start_path(demo))


def wait_until(predicate, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def recorded_tables(path: Path) -> dict:
    """Latest snapshot per table in a recording that may still be growing."""
    try:
        with open(path, "rb") as fh:
            return rec.last_snapshots(rec.read_recording(fh))
    except (OSError, rec.RecordingError):
        return {}


def all_tables_have_rows(snapshots: dict) -> bool:
    return all(key in snapshots and snapshots[key].state == "ok" and snapshots[key].rows for key in TABLE_KEYS)


def replay_once_json(path: Path) -> dict:
    """scripts/replay.py FILE --once --json, where no cloud library can be imported."""
    code = (
        blocked_imports_prelude()
        + "import runpy\n"
        + f"sys.argv = [{str(REPLAY)!r}, {str(path)!r}, '--once', '--json']\n"
        + f"runpy.run_path({str(REPLAY)!r}, run_name='__main__')\n"
    )
    proc = subprocess.run([PYTHON, "-c", code], capture_output=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stderr == b""
    return json.loads(proc.stdout)


def expected_document(path: Path) -> dict:
    with open(path, "rb") as fh:
        return json.loads(json.dumps(once_document(rec.last_snapshots(rec.read_recording(fh)))))


@pytest.mark.timeout(90)
def test_headless_demo_recording_replays_to_the_same_tables(tmp_path):
    """`--record -` streams a demo session; replaying it gives the recording's last tables."""
    path = tmp_path / "demo.jsonl"
    with open(path, "wb") as out:
        env, token = marked(program_env(tmp_path))
        proc = subprocess.Popen([*MONITOR, "--record", "-"], stdout=out, stderr=subprocess.PIPE, cwd=ROOT, env=env)
        try:
            wait_until(lambda: all_tables_have_rows(recorded_tables(path)) or proc.poll() is not None,
                       timeout=60, what="every table to have rows in the recording")
            assert proc.poll() is None, proc.stderr.read().decode()
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=15) == 0, proc.stderr.read().decode()
            err = proc.stderr.read().decode()
        finally:
            proc.kill()
    assert "Traceback" not in err
    assert not processes_left(token)
    with open(path, "rb") as fh:
        recording = rec.read_recording(fh)
        items = list(recording)
    assert recording.header.settings["demo"] is True
    assert all(isinstance(i, rec.Entry) for i in items), [i for i in items if isinstance(i, rec.Skipped)]
    doc = replay_once_json(path)
    expected = expected_document(path)
    assert doc["tables"] == expected["tables"]
    assert all(doc["tables"][key]["rows"] for key in TABLE_KEYS)


def title_of(term: Terminal, title: str) -> str:
    return term.line_with(title) or ""


@pytest.mark.timeout(120)
def test_second_start_shows_the_first_runs_rows_stale_in_its_first_frame(tmp_path):
    recording_path = tmp_path / "first-run.jsonl"
    env = program_env(tmp_path)
    # First run: the live monitor, recording to a file.
    with Terminal([*MONITOR, "--record", str(recording_path)], cols=160, rows=60, env=env, cwd=str(ROOT)) as term:
        term.wait_for(lambda t: "REPLAY" not in t.text() and "W&B Launch agent" in t.text(), timeout=30,
                      what="the monitor's first frame")
        wait_until(lambda: all_tables_have_rows(_stored(tmp_path)), timeout=60,
                   what="every table to reach the warm-start file")
        term.press("q")
        assert term.wait_exit(timeout=10) == 0
    stored = _stored(tmp_path)
    # The recording of the first run replays to its last tables.
    assert replay_once_json(recording_path)["tables"] == expected_document(recording_path)["tables"]

    # Second run: the first frame already shows the first run's rows, marked stale.
    with Terminal([*MONITOR], cols=160, rows=60, env=env, cwd=str(ROOT)) as term:
        # A frame is drawn top to bottom and may reach the pty in pieces: the footer
        # (the last line) being there means the whole first frame is.
        took = term.wait_for(lambda t: all(spec.title in t.text() for spec in TABLES) and "q  quit" in t.lines()[-1],
                             timeout=30, what="the first frame")
        first = term.text()
        for spec in TABLES:
            assert "STALE" in title_of(term, spec.title), f"{spec.title} not marked stale:\n{term.dump()}"
            assert "updated" in title_of(term, spec.title)  # its age shows
        build_ids = [row.build_id for row in stored["builds"].rows]
        assert any(build_id[:8] in first for build_id in build_ids), term.dump()
        run_names = [row.name for row in stored["active"].rows + stored["completed"].rows]
        assert any(name[:10] in first for name in run_names), term.dump()
        print(f"first frame with the previous run's rows {took:.2f} s after the command started")
        # Fresh data replaces the stale rows.
        term.wait_for(lambda t: "STALE" not in title_of(t, "W&B Launch agent"), timeout=60,
                      what="fresh runner rows")
        term.press("q")
        assert term.wait_exit(timeout=10) == 0


def _stored(tmp_path: Path) -> dict:
    try:
        return ws.read_file(str(warm_file(tmp_path)))
    except ws.WarmStartError:
        return {}


@pytest.mark.timeout(120)
def test_remote_viewing_pipeline_and_quitting_stops_both_ends(tmp_path):
    """`python -m arr_actors --record - | python scripts/replay.py -`, as over ssh."""
    command = f"{' '.join(MONITOR)} --record - | {PYTHON} {REPLAY} -"
    with Terminal(["/bin/sh", "-c", command], cols=160, rows=60, env=program_env(tmp_path), cwd=str(ROOT)) as term:
        term.wait_text("REPLAY", timeout=30)
        term.wait_for(lambda t: all("rows" in title_of(t, spec.title) or "row " in title_of(t, spec.title)
                                    for spec in TABLES), timeout=60, what="every table with rows")
        pids = [p.pid for p in term.descendants()]
        assert pids, "the pipeline's processes"
        term.press("q")
        assert term.wait_exit(timeout=15) == 0
        assert wait_gone(pids, timeout=10) == []


@pytest.mark.timeout(90)
def test_a_table_failing_at_start_keeps_the_previous_runs_rows(tmp_path):
    """Warm rows stay on screen under a failed first refresh, with its error, until fresh data."""
    from recording_samples import sample_snapshots

    previous = sample_snapshots(time.time() - 3600)  # yesterday's session, an hour ago
    ws.write_file(str(warm_file(tmp_path)), previous, saved_at=time.time() - 3600)
    builds_title = next(spec.title for spec in TABLES if spec.key == "builds")
    command = [*MONITOR, "--fault", "builds=error"]
    with Terminal(command, cols=160, rows=60, env=program_env(tmp_path), cwd=str(ROOT)) as term:
        term.wait_for(lambda t: "STALE" in title_of(t, builds_title), timeout=30, what="the stale first frame")
        assert "updated 1 h ago" in title_of(term, builds_title)
        term.wait_for(lambda t: "ERROR" in title_of(t, builds_title), timeout=60, what="the failed refresh")
        line = title_of(term, builds_title)
        assert "3 rows" in line and "updated 1 h ago" in line, term.dump()
        assert previous["builds"].rows[0].build_id in term.text()
        term.press("q")
        assert term.wait_exit(timeout=10) == 0
