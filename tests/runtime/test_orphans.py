"""No orphans: however the program ends, no process of its tree survives."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from runtime_helpers import subreaper

HARNESS = Path(__file__).with_name("orphan_harness.py")


#: Harnesses this module started: a test that fails before it ends its harness
#: must not leave the harness and its tree running (the fixture below ends them).
_STARTED: list[subprocess.Popen[str]] = []


@pytest.fixture(autouse=True)
def _end_leftover_harnesses() -> Iterator[None]:
    yield
    while _STARTED:
        proc = _STARTED.pop()
        if proc.poll() is None:
            proc.kill()  # its launcher sees the program die and ends the tree
            proc.wait(10)


def start_harness(mode: str, tmp_path: Path) -> tuple[subprocess.Popen[str], dict[str, list[int]]]:
    proc = subprocess.Popen(
        [sys.executable, str(HARNESS), mode, str(tmp_path / "state")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _STARTED.append(proc)
    line = proc.stdout.readline()
    assert line, proc.stderr.read()
    tree = json.loads(line)
    assert "error" not in tree, tree
    return proc, tree


def processes(tree: dict) -> dict[int, psutil.Process]:
    pids = [tree["launcher"], *tree["templates"], *tree["children"], *tree["grandchildren"]]
    return {pid: psutil.Process(pid) for pid in pids}


def left_running(procs: dict[int, psutil.Process]) -> list[str]:
    """Processes still there; orphans that became our zombies are reaped on the way."""
    out = []
    for pid, proc in procs.items():
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        try:
            if proc.is_running():
                out.append(f"{pid} {proc.status()}")
        except psutil.NoSuchProcess:
            pass
    return out


def wait_all_gone(procs: dict[int, psutil.Process], *, within: float) -> float:
    start = time.monotonic()
    while left_running(procs):
        if time.monotonic() - start > within:
            raise AssertionError(f"still there after {within} s: {left_running(procs)}")
        time.sleep(0.01)
    return time.monotonic() - start


@pytest.mark.timeout(60)
@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
def test_killing_the_main_process_takes_the_whole_tree_down(tmp_path: Path, how: str) -> None:
    with subreaper():
        proc, tree = start_harness("wait", tmp_path)
        procs = processes(tree)
        # The launcher, five children, one grandchild, and the fork templates still there.
        assert len(procs) == 7 + len(tree["templates"])
        proc.send_signal(getattr(signal, how))
        proc.wait(10)
        took = wait_all_gone(procs, within=2.0)
    print(f"tree gone {took:.3f} s after {how}")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("mode", ["exit", "exception"])
def test_ending_without_stop_still_cleans_up(tmp_path: Path, mode: str) -> None:
    with subreaper():
        proc, tree = start_harness(mode, tmp_path)
        procs = processes(tree)  # before the harness is told to end: its pids are all still there
        proc.stdin.write("end\n")
        proc.stdin.close()
        proc.wait(10)
        wait_all_gone(procs, within=2.0)
    if mode == "exception":
        assert proc.returncode == 1 and "RuntimeError: the program failed" in proc.stderr.read()
    else:
        assert proc.returncode == 0


@pytest.mark.timeout(60)
def test_ctrl_c_cleans_up(tmp_path: Path) -> None:
    with subreaper():
        proc, tree = start_harness("wait", tmp_path)
        procs = processes(tree)
        proc.send_signal(signal.SIGINT)
        proc.wait(10)
        wait_all_gone(procs, within=2.0)
    assert "KeyboardInterrupt" in proc.stderr.read()
