"""No orphans whatever happens to the launcher: SIGKILLed, stopped, or its tree stopped piecemeal.

The program runs in ``tests/runtime/orphan_harness.py`` with an environment
mark (:mod:`leftovers`) that every process it starts inherits; whatever still
carries the mark after the program quit was left behind, wherever it was
re-parented. Quitting is what ``q`` does: ``System.stop``.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest
from leftovers import adopting_orphans, marked, marked_processes, processes_left, wait_none_left

HARNESS = Path(__file__).parents[1] / "runtime" / "orphan_harness.py"
#: How long after the program quit its processes may take to vanish.
GONE_WITHIN_S = 3.0
LAUNCHER_MODULE = "arr_actors.runtime.launcher"
STOPPED_OR_GONE = (psutil.STATUS_STOPPED, psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD, "gone")


class Program:
    """The harness program in ``quit`` mode, its tree as it reported it, and its mark."""

    def __init__(self, tmp_path: Path, faults: str, *, deadline: float | None = None) -> None:
        env, self.token = marked(os.environ)
        args = [sys.executable, str(HARNESS), "quit", str(tmp_path / "state"), faults]
        if deadline is not None:
            args.append(str(deadline))
        self.proc = subprocess.Popen(
            args, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line, self.stderr()
        self.tree = json.loads(line)
        assert "error" not in self.tree, self.tree

    @property
    def launcher(self) -> int:
        return int(self.tree["launcher"])

    def stderr(self) -> str:
        self.proc.kill()
        assert self.proc.stderr is not None
        return self.proc.stderr.read()

    def quit(self) -> float:
        """Quit as the user does; returns how long stopping the runtime took."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("end\n")
        self.proc.stdin.close()
        line = self.proc.stdout.readline()
        assert self.proc.wait(15) == 0, self.stderr()
        return float(json.loads(line)["stop_s"])

    def members(self) -> list[psutil.Process]:
        """Every process the program started alive now, orphans included (the program itself aside)."""
        return marked_processes(self.token, exclude=[self.proc.pid])

    def descendants(self) -> list[psutil.Process]:
        """The processes still in the program's tree: its launcher and what that started, orphans not."""
        try:
            return [p for p in psutil.Process(self.proc.pid).children(recursive=True) if p.status() != "zombie"]
        except psutil.Error:
            return []

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def program(tmp_path: Path) -> Iterator[Callable[..., Program]]:
    started: list[Program] = []

    def start(faults: str, *, deadline: float | None = None) -> Program:
        started.append(Program(tmp_path, faults, deadline=deadline))
        return started[-1]

    with adopting_orphans():
        yield start
        for prog in started:
            prog.close()
            # Whatever a failed test left behind must not outlive it.
            for proc in prog.members():
                proc.kill()
            wait_none_left(prog.token, within=GONE_WITHIN_S)


def wait_until(predicate: Callable[[], object], *, timeout: float, what: str, fail: bool = True) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            if fail:
                raise AssertionError(f"not within {timeout} s: {what}")
            return
        time.sleep(0.01)


def status(pid: int) -> str:
    try:
        return str(psutil.Process(pid).status())
    except psutil.NoSuchProcess:
        return "gone"


def is_stopped(pid: int, *, or_gone: bool = False) -> Callable[[], bool]:
    """A condition: ``pid`` is stopped (or no longer there, with ``or_gone``)."""
    accepted = STOPPED_OR_GONE if or_gone else (psutil.STATUS_STOPPED,)
    return lambda: status(pid) in accepted


def gone(pid: int) -> bool:
    return status(pid) in ("gone", psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD)


def launchers(prog: Program) -> list[int]:
    """The program's launcher processes (its children; fetch processes are forks of one, same command line)."""
    out = []
    for proc in prog.members():
        try:
            if proc.ppid() == prog.proc.pid and LAUNCHER_MODULE in proc.cmdline():
                out.append(proc.pid)
        except psutil.Error:
            continue
    return out


def grown(prog: Program) -> bool:
    """The tree has a grandchild, or a stopped member holds it back."""
    for proc in prog.descendants():
        try:
            if proc.status() == psutil.STATUS_STOPPED or "time.sleep" in " ".join(proc.cmdline()):
                return True
        except psutil.Error:
            continue
    return False


def assert_nothing_left(prog: Program) -> None:
    left = wait_none_left(prog.token, within=GONE_WITHIN_S)
    assert not left, f"left behind after quitting: {left}"


@pytest.mark.timeout(60)
def test_launcher_sigkilled_with_an_escapee_leaves_nothing_after_quitting(program: Callable[..., Program]) -> None:
    prog = program("vertex=escapee,builds=grandchild,runner=hang,active=hang,completed=hang")
    grandchildren = prog.tree["grandchildren"]
    assert len(grandchildren) == 2
    os.kill(prog.launcher, signal.SIGKILL)
    # The runtime starts a new launcher; the old one's grandchildren must not survive it.
    wait_until(lambda: launchers(prog) and prog.launcher not in launchers(prog), timeout=20, what="a new launcher")
    wait_until(lambda: all(gone(pid) for pid in grandchildren), timeout=5, what="the old grandchildren ended")
    prog.quit()
    assert_nothing_left(prog)


@pytest.mark.timeout(60)
def test_launcher_stopped_leaves_nothing_after_quitting(program: Callable[..., Program]) -> None:
    prog = program("vertex=escapee,builds=grandchild,runner=hang,active=hang,completed=hang")
    os.kill(prog.launcher, signal.SIGSTOP)
    wait_until(lambda: status(prog.launcher) == psutil.STATUS_STOPPED, timeout=5, what="the launcher stopped")
    took = prog.quit()
    assert_nothing_left(prog)
    # A stopped launcher is continued and does its own orderly shutdown: quitting does not wait it out.
    assert took < 1.5, f"stopping took {took} s"


@pytest.mark.timeout(60)
@pytest.mark.parametrize("launcher", ["running", "stopped"])
def test_stopped_fetch_processes_and_grandchildren_are_continued_and_killed(
    program: Callable[..., Program], launcher: str
) -> None:
    prog = program("vertex=grandchild,builds=escapee,runner=hang,active=hang,completed=hang")
    # Every fetch process and every grandchild, stopped (the launcher too, in one case).
    stopped = [*prog.tree["children"], *prog.tree["grandchildren"]]
    if launcher == "stopped":
        stopped.append(prog.launcher)
    for pid in stopped:
        os.kill(pid, signal.SIGSTOP)
    for pid in stopped:
        wait_until(is_stopped(pid), timeout=5, what=f"{pid} stopped")
    prog.quit()
    assert_nothing_left(prog)


@pytest.mark.timeout(60)
def test_a_tree_left_by_a_sigkilled_program_with_its_launcher_stopped_is_ended_at_the_next_start(
    program: Callable[..., Program],
) -> None:
    """Nothing of that run can act (the launcher is stopped, the program gone): the next run ends it."""
    first = program("vertex=escapee,builds=grandchild,runner=hang,active=hang,completed=hang")
    os.kill(first.launcher, signal.SIGSTOP)
    wait_until(is_stopped(first.launcher), timeout=5, what="the launcher stopped")
    first.proc.kill()
    first.proc.wait(10)
    # The stopped launcher and the grandchildren stay (fetch processes may end as their connection closed).
    stranded = processes_left(first.token)
    assert sum("time.sleep" in p for p in stranded) == 2 and any(
        p.startswith(f"{first.launcher} ") for p in stranded
    ), stranded
    second = program("-")
    left = wait_none_left(first.token, within=GONE_WITHIN_S)
    assert not left, f"left by the first run: {left}"
    second.quit()
    assert_nothing_left(second)


@pytest.mark.timeout(60)
def test_a_stopped_fetch_process_past_its_deadline_is_continued_and_dies_of_sigterm(
    program: Callable[..., Program], tmp_path: Path
) -> None:
    """SIGTERM alone does nothing to a stopped process: the kill continues the group, so SIGTERM acts."""
    prog = program("vertex=grandchild,builds=hang,runner=hang,active=hang,completed=hang", deadline=5.0)
    (grandchild,) = prog.tree["grandchildren"]
    fetch = psutil.Process(grandchild).ppid()
    for pid in (fetch, grandchild):
        os.kill(pid, signal.SIGSTOP)
    for pid in (fetch, grandchild):
        wait_until(is_stopped(pid), timeout=5, what=f"{pid} stopped")
    # The deadline passes; the runtime kills the fetch process and its group.
    wait_until(lambda: gone(fetch) and gone(grandchild), timeout=15, what="the stopped fetch process killed")
    events = tmp_path / "state" / "events.jsonl"

    def killed_vertex() -> list[str]:
        if not events.exists():
            return []
        lines = [json.loads(line) for line in events.read_text().splitlines() if line.strip()]
        return [e.get("detail", "") for e in lines if e["table"] == "vertex" and e["event"] == "killed"]

    wait_until(killed_vertex, timeout=5, what="the kill in the event log")
    # Within the grace: SIGTERM did it, not the SIGKILL that follows the grace.
    assert killed_vertex()[0] == "killed (SIGTERM)", killed_vertex()
    prog.quit()
    assert_nothing_left(prog)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("seed", [21])
def test_random_kills_and_stops_of_the_tree_leave_nothing_behind(program: Callable[..., Program], seed: int) -> None:
    """20 rounds of SIGKILL, SIGSTOP or SIGTERM to a random member of the tree, then quit.

    Each round waits at most a few seconds for the tree to grow back and for the
    signal to act, so the rounds take well under a minute.
    """
    rand = random.Random(seed)
    prog = program(
        "runner=escapee,builds=grandchild,vertex=escapee,active=ignore-term,completed=slow:0.1", deadline=1.0
    )
    signals = (signal.SIGKILL, signal.SIGSTOP, signal.SIGTERM)
    done = []
    began = time.monotonic()
    for _ in range(20):
        # Let the tree grow back (a new launcher, fetch processes, their grandchildren)
        # unless a stopped process holds it back; signal it as it is then. Orphans are
        # not targets: they are what the runtime has to find and end.
        wait_until(lambda: grown(prog), timeout=2.0, what="the tree grown back", fail=False)
        wait_until(prog.descendants, timeout=20, what="a process of the tree to signal")
        members = sorted(prog.descendants(), key=lambda p: p.pid)
        pids = [p.pid for p in members]
        live_launchers = [pid for pid in launchers(prog) if pid in pids]
        # The launcher is one member among many: pick it a quarter of the time so it is hit.
        target = rand.choice(live_launchers) if live_launchers and rand.random() < 0.25 else rand.choice(pids)
        sig = rand.choice(signals)
        with contextlib.suppress(ProcessLookupError):  # it may have ended since it was listed
            os.kill(target, sig)
        done.append(f"{signal.Signals(sig).name}->{'launcher' if target in live_launchers else target}")
        # Wait for the signal to act (or for a process that ignores it to have had the chance).
        if sig == signal.SIGSTOP:
            wait_until(is_stopped(target, or_gone=True), timeout=5, what=f"{target} stopped")
        else:
            with_grace = time.monotonic() + 0.5
            while not gone(target) and time.monotonic() < with_grace:
                time.sleep(0.01)
    assert time.monotonic() - began < 60
    prog.quit()
    left = wait_none_left(prog.token, within=GONE_WITHIN_S)
    assert not left, f"left behind after {done}: {left}"
