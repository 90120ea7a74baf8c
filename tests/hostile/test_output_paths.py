"""One hostile string through every path that prints outside text; the output bytes must be inert.

Each path is the real command in its own process: the monitor's ``--once``
(text and JSON) and ``--record -`` against a hostile cloud on the real wire
protocols, ``launch`` against it, ``diagnose`` on a hostile log, and
``scripts/replay.py`` on a recording that holds the string raw (as someone
else's file would). Usage and config errors that quote what the user gave are
checked too. The screen is checked in ``test_screen.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hostile_env import ROOT, HostileCloud
from hostile_text import HOSTILE, SURVIVOR, assert_inert

from arr_actors import messages as m
from arr_actors import recording
from arr_actors.config import defaults

PROGRAM = [sys.executable, "-m", "arr_actors"]
REPLAY = [sys.executable, str(ROOT / "scripts" / "replay.py")]


def run(argv: list[str], *, env: dict[str, str] | None = None, stdin: bytes = b"", timeout: float = 60):
    return subprocess.run(argv, input=stdin, capture_output=True, env=env, timeout=timeout, cwd=ROOT)


# ------------------------------------------------------------------ the monitor


@pytest.mark.timeout(90)
def test_once_text_prints_server_errors_inert(hostile_cloud: HostileCloud, tmp_path: Path) -> None:
    proc = run([*PROGRAM, "--once", "--deadline", "15"], env=hostile_cloud.env(tmp_path))
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert_inert(proc.stdout, what="--once text")
    assert_inert(proc.stderr, what="--once stderr")
    text = proc.stdout.decode()
    # The servers' texts did arrive, made inert: in the Cloud tables' and the W&B tables' errors.
    assert text.count(SURVIVOR) >= 3, text


@pytest.mark.timeout(90)
def test_once_json_escapes_what_it_keeps(hostile_cloud: HostileCloud, tmp_path: Path) -> None:
    proc = run([*PROGRAM, "--once", "--json", "--deadline", "15"], env=hostile_cloud.env(tmp_path))
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert_inert(proc.stdout, what="--once --json")
    doc = json.loads(proc.stdout)
    # JSON is data: the job's name and error come through exactly, only escaped.
    (job,) = doc["tables"]["vertex"]["rows"]
    assert job["display_name"] == HOSTILE
    error = doc["tables"]["builds"]["error"]
    assert "q\u200bevil\x1b]52;" in error and "\U000e0001" in error, error  # (whitespace folded by the source)


@pytest.mark.timeout(90)
def test_record_to_stdout_is_inert_and_replays_inert(hostile_cloud: HostileCloud, tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [*PROGRAM, "--record", "-"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=hostile_cloud.env(tmp_path)
    )
    lines: list[bytes] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if b'"vertex"' in line and b"display_name" in line:
                break
    finally:
        proc.terminate()
        proc.wait(20)
    data = b"".join(lines)
    assert b"display_name" in data, data[-2000:]
    assert_inert(data, what="--record -")
    path = tmp_path / "hostile.jsonl"
    path.write_bytes(data)
    for flags in ((), ("--json",)):
        replay = run([*REPLAY, str(path), "--once", *flags])
        assert replay.returncode in (0, 1), replay.stderr[-2000:]
        assert_inert(replay.stdout, what=f"replay --once {flags}")
        assert_inert(replay.stderr, what=f"replay --once {flags} stderr")


def raw_recording(path: Path) -> None:
    """A recording written by someone else: the hostile string raw in its bytes (no escapes)."""
    now = 1_714_555_800.0
    header = json.loads(recording.encode_header(defaults(), started_at=now))
    snapshots = [
        m.TableSnapshot(
            table="vertex",
            seq=1,
            state="ok",
            rows=(m.VertexRow("4242", HOSTILE, "us-central1", "FAILED", now - 60, note=HOSTILE),),
            fetched_at=now,
            updated_at=now,
        ),
        m.TableSnapshot(table="builds", seq=1, state="error", error=HOSTILE, updated_at=now),
    ]
    lines = [json.dumps(header, ensure_ascii=False)]
    lines += [json.dumps({"t": 1.0, "message": m.encode(s)}, ensure_ascii=False) for s in snapshots]
    lines.append(json.dumps({"t": 2.0, "message": {"type": HOSTILE}}, ensure_ascii=False))  # skipped, with a warning
    lines.append(HOSTILE.replace("\n", " "))  # not JSON at all
    data = ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")
    assert b"\x1b]52;" in data and "\u200b".encode() in data
    path.write_bytes(data)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("flags", [(), ("--json",)], ids=["text", "json"])
def test_replay_of_a_raw_hostile_recording_is_inert(tmp_path: Path, flags: tuple[str, ...]) -> None:
    path = tmp_path / "raw.jsonl"
    raw_recording(path)
    proc = run([*REPLAY, str(path), "--once", *flags])
    assert proc.returncode == 1, proc.stderr[-2000:]  # the builds table is in error
    assert_inert(proc.stdout, what=f"replay --once {flags}")
    assert_inert(proc.stderr, what=f"replay --once {flags} warnings")
    assert b"skipped" in proc.stderr
    if flags:
        doc = json.loads(proc.stdout)
        assert doc["tables"]["vertex"]["rows"][0]["display_name"] == HOSTILE
    else:
        assert SURVIVOR in proc.stdout.decode()


# ------------------------------------------------------------------ launch


@pytest.mark.timeout(60)
@pytest.mark.parametrize("flags", [(), ("--json",)], ids=["text", "json"])
def test_launch_report_and_progress_are_inert(
    hostile_cloud: HostileCloud, tmp_path: Path, flags: tuple[str, ...]
) -> None:
    proc = run([*PROGRAM, "launch", "--timeout", "20", *flags], env=hostile_cloud.env(tmp_path))
    assert proc.returncode == 1, proc.stderr[-2000:]  # Cloud Run refused RunJob with a hostile message
    assert_inert(proc.stdout, what=f"launch {flags}")
    assert_inert(proc.stderr, what=f"launch {flags} progress")
    shown = proc.stdout.decode()
    assert SURVIVOR in (json.loads(shown)["message"] if flags else shown)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("flags", [(), ("--json",)], ids=["text", "json"])
def test_launch_following_a_hostile_execution_is_inert(
    hostile_cloud_that_starts: HostileCloud, tmp_path: Path, flags: tuple[str, ...]
) -> None:
    # The execution's name is hostile, every status poll fails with a hostile message,
    # the only Vertex AI job has a hostile name and error: progress lines and the
    # timeout's report quote all of them.
    env = hostile_cloud_that_starts.env(tmp_path)
    proc = run([*PROGRAM, "launch", "--timeout", "4", "--poll", "1", *flags], env=env)
    assert proc.returncode == 3, proc.stderr[-2000:]  # no training job in time
    assert_inert(proc.stdout, what=f"launch {flags} report")
    assert_inert(proc.stderr, what=f"launch {flags} progress")
    report = proc.stdout.decode()
    if flags:
        assert json.loads(report)["execution"].startswith("q\u200bevil\x1b]52;")
        assert SURVIVOR in proc.stderr.decode()  # progress: "Started execution qevil..."
    else:
        assert f"cancel {SURVIVOR}" in report  # the hint quoting the execution, on one line
        assert report.count(SURVIVOR) >= 3  # progress lines and report


# ------------------------------------------------------------------ diagnose


def hostile_log() -> bytes:
    lines = [
        "Starting agent: " + HOSTILE,
        "Traceback (most recent call last):",
        '  File "train.py", line 3, in <module>',
        "RuntimeError: CUDA out of memory. " + HOSTILE,
        HOSTILE,
    ]
    return "\n".join(lines).encode()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("flags", [("--context", "--format"), ("--json",)], ids=["text", "json"])
def test_diagnose_prints_log_text_inert(flags: tuple[str, ...]) -> None:
    proc = run([*PROGRAM, "diagnose", *flags, "-"], stdin=hostile_log())
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert_inert(proc.stdout, what=f"diagnose {flags}")
    assert SURVIVOR in proc.stdout.decode()


# ------------------------------------------------------------------ errors on stderr


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "argv",
    [
        [*PROGRAM, "diagnose", "/nonexistent/" + HOSTILE],
        [*PROGRAM, "--deadline", HOSTILE],
        [*PROGRAM, "--demo", "--scenario", HOSTILE, "--once"],
        [*PROGRAM, "launch", "--queue", HOSTILE],
        [*REPLAY, "/nonexistent/" + HOSTILE, "--once"],
    ],
    ids=["diagnose-file", "deadline", "scenario", "launch-queue", "replay-file"],
)
def test_usage_errors_quoting_the_input_are_inert(argv: list[str]) -> None:
    argv = [arg.replace("\x00", "") for arg in argv]  # an argument cannot hold NUL
    proc = run(argv)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert_inert(proc.stderr, what="usage error")
    assert proc.stderr.count(b"\n") == 1, proc.stderr


@pytest.mark.timeout(60)
def test_config_error_quoting_a_setting_is_inert(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARR_")}
    env["ARR_PROJECT"] = HOSTILE.replace("\x00", "")
    proc = run([*PROGRAM, "--once"], env=env)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert_inert(proc.stderr, what="config error")


def test_the_survivor_is_what_inert_text_keeps() -> None:
    from arr_actors.inert import inert

    # The marker the tests look for is what the sanitizer leaves of the string.
    assert inert(HOSTILE) == SURVIVOR + "linkeviliso tail"


@pytest.mark.parametrize("width", [40, 80, 200])
def test_the_redrawn_status_line_is_inert_and_never_wider_than_the_terminal(width: int) -> None:
    # On a terminal the status line is redrawn in place ("\r", erase line): if it
    # were wider than the terminal it would wrap and the redraw would leave debris.
    from wcwidth import wcswidth

    from arr_actors.launch import progress, watch
    from arr_actors.launch.report import Target

    target = Target(project="p", region="us-west2", queue="q", runner_job="j", execution=HOSTILE + "日本" * 40)
    w = watch.begin_round(watch.start(now=0, since=1.7e9, timeout_s=60, poll_s=1), 0.1)
    w = watch.saw_execution(w, watch.ExecutionStatus("RUNNING"))
    w = watch.call_failed(w, service=watch.VERTEX, code=HOSTILE, message=HOSTILE, at=1.7e9)
    line = progress.status_line(w, target=target, elapsed_s=3, frame="|", width=width)
    assert_inert(line.encode(), what="status line")
    assert 0 < wcswidth(line) <= width - 1
