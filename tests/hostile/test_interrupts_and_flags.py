"""Ctrl-C while waiting on a FIFO, flags that name nothing or twice the same table, the demo emulator's death."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hostile_env import ROOT

from arr_actors import emulator

PROGRAM = [sys.executable, "-m", "arr_actors"]
REPLAY = [sys.executable, str(ROOT / "scripts" / "replay.py")]


def wchan(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/wchan").read_text()
    except OSError:
        return ""


def wait_until_blocked(proc: subprocess.Popen[bytes], *, timeout: float = 30.0) -> None:
    """Wait until the process sleeps opening a FIFO or reading a pipe (its imports are done by then)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        where = wchan(proc.pid)
        # Opening a FIFO, reading a pipe, or polling it (the replay's line reader does).
        if where == "wait_for_partner" or any(word in where for word in ("pipe", "poll", "select")):
            return
        if proc.poll() is not None:
            pytest.fail(f"exited early with {proc.returncode}: {proc.stderr.read() if proc.stderr else ''}")
        time.sleep(0.02)
    if not Path(f"/proc/{proc.pid}/wchan").exists():
        pytest.skip("no /proc/PID/wchan here to see where a process waits")
    pytest.fail(f"never blocked on the FIFO (waits in {wchan(proc.pid)!r})")


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("argv", "source"),
    [
        ([*PROGRAM, "diagnose", "{fifo}"], "fifo"),
        ([*PROGRAM, "diagnose", "-"], "silent-pipe"),
        ([*REPLAY, "{fifo}", "--once"], "fifo"),
        ([*REPLAY, "-", "--once"], "silent-pipe"),
    ],
    ids=["diagnose-fifo", "diagnose-stdin", "replay-fifo", "replay-stdin"],
)
def test_ctrl_c_while_waiting_on_input_is_one_line_and_exit_130(tmp_path: Path, argv: list[str], source: str) -> None:
    fifo = tmp_path / "never-written"
    os.mkfifo(fifo)
    argv = [arg.replace("{fifo}", str(fifo)) for arg in argv]
    read_end, write_end = os.pipe()  # a writer that stays open and never writes
    try:
        proc = subprocess.Popen(
            argv, stdin=read_end if source == "silent-pipe" else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
        )  # fmt: skip
        os.close(read_end)
        wait_until_blocked(proc)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        os.close(write_end)
    assert proc.returncode == 130, err
    assert b"Traceback" not in err and err.count(b"\n") == 1 and b"interrupted" in err, err
    assert out == b""


@pytest.mark.timeout(60)
def test_unknown_scenario_is_a_usage_error() -> None:
    for argv in (
        [*PROGRAM, "--demo", "--scenario", "nosuch", "--once"],
        [*PROGRAM, "launch", "--demo", "--scenario", "nosuch"],
    ):
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=30, cwd=ROOT)
        assert proc.returncode == 2, proc.stderr
        assert "nosuch" in proc.stderr and "launch-ok" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.timeout(60)
def test_a_second_fault_for_one_table_is_refused() -> None:
    argv = [*PROGRAM, "--demo", "--once", "--fault", "builds=hang", "--fault", "vertex=exit", "--fault", "builds=exit"]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=30, cwd=ROOT)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1
    assert "builds=exit" in proc.stderr and "builds=hang" in proc.stderr, proc.stderr


def state_of(pid: int) -> str:
    """The process state letter (Z for a zombie), or "" when the process is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return ""


@pytest.mark.timeout(60)
def test_an_emulator_that_dies_is_reaped_at_once() -> None:
    emu = emulator.spawn()
    try:
        os.kill(emu.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while state_of(emu.pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert state_of(emu.pid) == "", f"emulator left as state {state_of(emu.pid)!r} (Z: a zombie)"
        assert not emu.alive
    finally:
        emu.stop()


@pytest.mark.timeout(90)
def test_the_demo_emulator_is_no_zombie_of_the_monitor(tmp_path: Path) -> None:
    psutil = pytest.importorskip("psutil")
    pexpect = pytest.importorskip("pexpect")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARR_")}
    env.update(ARR_PATHS_STATE_DIR=str(tmp_path / "state"), ARR_PATHS_CACHE_DIR=str(tmp_path / "cache"), TERM="xterm")
    child = pexpect.spawn(
        PROGRAM[0], [*PROGRAM[1:], "--demo"], env=env, dimensions=(30, 100), timeout=40, cwd=str(ROOT)
    )
    try:
        # Rows from the emulator on screen: it is serving (not dying while it starts,
        # which the start itself would notice and reap).
        child.expect(r"\d+ rows")
        monitor = psutil.Process(child.pid)
        emulators = [p for p in monitor.children() if "arr_actors.emulator" in " ".join(p.cmdline())]
        assert emulators, "the demo's emulator is not a child of the monitor"
        (emu,) = emulators
        emu.kill()
        deadline = time.monotonic() + 10
        while state_of(emu.pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert state_of(emu.pid) == "", f"the monitor left its emulator as {state_of(emu.pid)!r} (Z: a zombie)"
        assert child.isalive()
        child.send("q")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
