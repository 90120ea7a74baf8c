"""Find processes a program left behind, however they were re-parented.

Every process inherits its parent's environment: a program started with
``marked(env)`` passes the mark to every process it starts, so whatever still
carries the mark after the program exited was left behind. (Walking the tree
from the program's pid misses orphans, which are re-parented to init or to a
subreaper; other tests' processes never carry this test's mark.)
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping

import psutil

MARK = "ARRACTORS_TEST_RUN"  # not ARR_*: those are settings
PR_SET_CHILD_SUBREAPER = 36


def marked(env: Mapping[str, str]) -> tuple[dict[str, str], str]:
    token = uuid.uuid4().hex
    return {**env, MARK: token}, token


def processes_left(token: str) -> list[str]:
    left = []
    for proc in psutil.process_iter(["pid", "cmdline", "status"]):
        try:
            if proc.info["status"] != psutil.STATUS_ZOMBIE and proc.environ().get(MARK) == token:
                left.append(f"{proc.pid} {' '.join(proc.info['cmdline'] or [])}")
        except psutil.Error:
            continue
    return left


def marked_processes(token: str, *, exclude: Iterable[int] = ()) -> list[psutil.Process]:
    """Live processes (not zombies) carrying the mark of ``token``, minus ``exclude``."""
    skip = set(exclude)
    found = []
    for proc in psutil.process_iter(["pid", "status"]):
        try:
            if (
                proc.pid not in skip
                and proc.info["status"] != psutil.STATUS_ZOMBIE
                and proc.environ().get(MARK) == token
            ):
                found.append(proc)
        except psutil.Error:
            continue
    return found


def wait_none_left(token: str, *, within: float) -> list[str]:
    """Wait until no process carries the mark; returns those still there after ``within`` seconds.

    Orphans re-parented to this process (see :func:`adopting_orphans`) are
    reaped on the way, so their zombies do not pile up.
    """
    seen: set[int] = set()
    end = time.monotonic() + within
    while True:
        seen.update(p.pid for p in marked_processes(token))
        for pid in seen:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
        left = processes_left(token)
        if not left or time.monotonic() > end:
            return left
        time.sleep(0.01)


@contextlib.contextmanager
def adopting_orphans() -> Iterator[None]:
    """Make this process the subreaper of the processes it starts while the block runs.

    Orphans then come to this process rather than to PID 1, which in some
    containers never reaps: :func:`wait_none_left` can reap them. Linux only.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    assert libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    try:
        yield
    finally:
        libc.prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
