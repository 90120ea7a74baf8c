"""Finding the runtime's processes by their mark and session, wherever they were re-parented."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import psutil
import pytest
from runtime_helpers import subreaper

from arr_actors.runtime import proctree

SLEEP = [sys.executable, "-I", "-S", "-c", "import time; time.sleep(3600)"]
#: Starts a sleeper in a session of its own, prints its pid, and exits: the sleeper is an orphan.
ESCAPE = (
    "import subprocess, sys; "
    f"p = subprocess.Popen({SLEEP!r}, start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, "
    "stderr=subprocess.DEVNULL); "
    "print(p.pid, flush=True)"
)


@pytest.fixture
def started() -> Iterator[list[int]]:
    """Pids a test started (directly or not): killed and reaped afterwards, whatever happened.

    As subreaper, this process adopts the orphans the tests make, so it can reap them too.
    """
    pids: list[int] = []
    with subreaper():
        yield pids
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue
        for pid in pids:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:  # already reaped
                pass


def sleeper(env: dict[str, str] | None = None, *, new_session: bool = False) -> subprocess.Popen[bytes]:
    return subprocess.Popen(SLEEP, env=env, start_new_session=new_session, stdin=subprocess.DEVNULL)


def escaped_orphan(env: dict[str, str]) -> int:
    """A sleeper whose parent exited and which made a session of its own: what wandb-core becomes."""
    out = subprocess.run([sys.executable, "-c", ESCAPE], env=env, capture_output=True, text=True, check=True)
    return int(out.stdout)


@pytest.mark.timeout(30)
def test_a_marked_orphan_in_a_session_of_its_own_is_found_and_an_unmarked_one_is_not(started: list[int]) -> None:
    token = proctree.new_token()
    ours = escaped_orphan(proctree.marked_env(os.environ, token))
    theirs = escaped_orphan(proctree.marked_env(os.environ, proctree.new_token()))
    plain = sleeper()
    started += [ours, theirs, plain.pid]
    assert os.getsid(ours) == ours  # a session of its own: no group or session of ours holds it
    assert proctree.members(proctree.tree(token)) == [ours]


@pytest.mark.timeout(30)
def test_processes_in_the_session_are_found_without_the_mark(started: list[int]) -> None:
    """An exec with an empty environment drops the mark; the session is still the launcher's."""
    leader = subprocess.Popen(
        ["/bin/sh", "-c", "sleep 3600 & exec sleep 3600"], env={"PATH": os.defpath}, start_new_session=True
    )
    started.append(leader.pid)
    end = time.monotonic() + 10
    while not psutil.Process(leader.pid).children():
        assert time.monotonic() < end, "the background sleep did not start"
        time.sleep(0.01)
    (inside,) = psutil.Process(leader.pid).children()
    started.append(inside.pid)
    found = proctree.members(proctree.tree(proctree.new_token(), sessions=(leader.pid,)))
    assert sorted(found) == sorted([leader.pid, inside.pid])


@pytest.mark.timeout(30)
def test_end_kills_stopped_members_and_leaves_everything_else(started: list[int]) -> None:
    token = proctree.new_token()
    env = proctree.marked_env(os.environ, token)
    members = [escaped_orphan(env), sleeper(env).pid]
    bystander = sleeper()
    started += [*members, bystander.pid]
    for pid in members:
        os.kill(pid, signal.SIGSTOP)
    assert proctree.end(proctree.tree(token), within=5.0) == []
    for pid in members:
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert bystander.poll() is None


@pytest.mark.timeout(30)
def test_abandoned_selects_marks_whose_program_is_gone(started: list[int]) -> None:
    ns = str(os.stat("/proc/self/ns/pid").st_ino)
    exited = sleeper()
    exited_token = f"{exited.pid}.{proctree._start_time(exited.pid)}.{ns}.{'0' * 32}"
    exited.kill()
    exited.wait()
    tokens = {
        "live": proctree.new_token(),  # this process: still running
        "exited": exited_token,
        "reused": f"{os.getpid()}.1.{ns}.{'0' * 32}",  # our pid, another start time: a process long gone
        "elsewhere": f"{exited.pid}.1.{int(ns) + 1}.{'0' * 32}",  # another pid namespace: its pids are not ours
        "foreign": "not-a-token",
    }
    procs = {name: sleeper(proctree.marked_env(os.environ, token)) for name, token in tokens.items()}
    started += [p.pid for p in procs.values()]
    selected = set(proctree.members(proctree.abandoned)) & {p.pid for p in procs.values()}
    assert selected == {procs["exited"].pid, procs["reused"].pid}
