"""Helpers for the runtime tests: a recording subscriber, settings, process checks."""

from __future__ import annotations

import contextlib
import ctypes
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import psutil

from arr_actors import config
from arr_actors.config import Settings, TablePolicy
from arr_actors.messages import FetchStarted, TableSnapshot

FAILED_STATES = ("error", "stale", "timeout", "circuit_open")
PR_SET_CHILD_SUBREAPER = 36


class Recorder:
    """A subscriber that keeps every message with its arrival time (monotonic) and lets tests wait."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.messages: list[tuple[float, Any]] = []

    def tell(self, message: Any) -> None:
        with self._cond:
            self.messages.append((time.monotonic(), message))
            self._cond.notify_all()

    def all(self, kind: type | tuple[type, ...] = object, *, table: str | None = None) -> list[Any]:
        with self._cond:
            return [m for _, m in self.timed_unlocked(kind, table=table)]

    def timed(self, kind: type | tuple[type, ...] = object, *, table: str | None = None) -> list[tuple[float, Any]]:
        with self._cond:
            return self.timed_unlocked(kind, table=table)

    def timed_unlocked(self, kind: type | tuple[type, ...], *, table: str | None) -> list[tuple[float, Any]]:
        return [
            (t, m)
            for t, m in self.messages
            if isinstance(m, kind) and (table is None or getattr(m, "table", None) == table)
        ]

    def wait_for(self, predicate: Callable[[Any], bool], *, timeout: float, after: int = 0) -> tuple[float, Any]:
        """The first message (at index >= ``after``) matching ``predicate``; AssertionError on timeout."""
        end = time.monotonic() + timeout
        with self._cond:
            while True:
                for t, m in self.messages[after:]:
                    if predicate(m):
                        return t, m
                left = end - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no matching message within {timeout} s; got {self.summary()}")
                self._cond.wait(left)

    def count(self) -> int:
        with self._cond:
            return len(self.messages)

    def summary(self) -> list[str]:
        out = []
        for _, m in self.messages[-30:]:
            if isinstance(m, TableSnapshot):
                out.append(f"{m.table}:{m.state}:{m.error[:60]}")
            elif isinstance(m, FetchStarted):
                out.append(f"{m.table}:started:g{m.generation}")
            else:
                out.append(type(m).__name__)
        return out


def is_snapshot(table: str, *states: str) -> Callable[[Any], bool]:
    return lambda m: isinstance(m, TableSnapshot) and m.table == table and (not states or m.state in states)


def is_started(table: str, *, generation: int | None = None) -> Callable[[Any], bool]:
    return lambda m: (
        isinstance(m, FetchStarted) and m.table == table and (generation is None or m.generation == generation)
    )


def make_settings(
    tmp_path: Path,
    *,
    deadline: float = 0.8,
    interval: float = 0.3,
    faults: tuple[tuple[str, str], ...] = (),
    values: Mapping[str, Any] | None = None,
    **changes: Any,
) -> Settings:
    base = {
        "paths.state_dir": str(tmp_path / "state"),
        "paths.cache_dir": str(tmp_path / "cache"),
        "supervision.backoff_initial_s": 0.3,
        "supervision.backoff_max_s": 2.0,
        "supervision.backoff_jitter": 0.2,
        "supervision.kill_grace_s": 0.3,
        "supervision.max_result_bytes": 256 * 1024,
    }
    settings = config.defaults({**base, **(values or {})}, faults=faults, **changes)
    policy = TablePolicy(interval=interval, budget=deadline / 2, deadline=deadline, limit=10)
    tables = tuple((key, policy) for key, _ in settings.tables)
    return settings.replace(tables=tables)


class TreeWatch:
    """Remembers every process of a System's tree it has seen, to check they are all gone later."""

    def __init__(self) -> None:
        self.seen: dict[int, psutil.Process] = {}
        self.cmdlines: dict[int, str] = {}

    def capture(self, system: Any) -> None:
        pids: list[int] = []
        if system.launcher_pid:
            pids.append(system.launcher_pid)
        for table_pids in system.child_pids().values():
            pids.extend(table_pids)
        for pid in pids:
            self._add(pid)
        if system.launcher_pid:
            try:
                for proc in psutil.Process(system.launcher_pid).children(recursive=True):
                    self._remember(proc)
            except psutil.NoSuchProcess:
                pass

    def _add(self, pid: int) -> None:
        try:
            self._remember(psutil.Process(pid))
        except psutil.NoSuchProcess:
            pass

    def _remember(self, proc: psutil.Process) -> None:
        self.seen.setdefault(proc.pid, proc)
        # Looked at again on every capture: a process seen between its fork and its
        # exec still shows its parent's command line.
        try:
            cmdline = " ".join(proc.cmdline())
        except psutil.Error:
            cmdline = ""  # gone, or a zombie: what was seen before stays
        if cmdline or proc.pid not in self.cmdlines:
            self.cmdlines[proc.pid] = cmdline

    def alive(self) -> list[str]:
        """Processes seen that still exist, zombies included (a zombie is a leak too)."""
        out = []
        for proc in self.seen.values():
            try:
                if proc.is_running():
                    out.append(f"{proc.pid} {proc.status()} {' '.join(proc.cmdline())[:80]}")
            except psutil.NoSuchProcess:
                pass
        return out

    def reap(self) -> None:
        """Reap those that became our children (only under :func:`subreaper`)."""
        for pid in self.seen:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)

    def assert_all_gone(self, *, timeout: float = 2.0) -> None:
        end = time.monotonic() + timeout
        while True:
            self.reap()
            if not self.alive() or time.monotonic() > end:
                break
            time.sleep(0.02)
        assert not self.alive(), f"processes left behind: {self.alive()}"


@contextlib.contextmanager
def subreaper() -> Iterator[None]:
    """Make this test process the reaper of orphans in its tree while the block runs.

    When a test kills a process that has children, they are re-parented to the
    nearest subreaper or PID 1. Some containers run a PID 1 that never reaps,
    which would leave zombies this test cannot tell from leaks; as subreaper,
    the test reaps them itself (TreeWatch.reap).
    """
    libc = ctypes.CDLL(None, use_errno=True)
    assert libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    try:
        yield
    finally:
        libc.prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)


def descendants() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


def wait_until(predicate: Callable[[], object], *, timeout: float, what: str, poll: float = 0.01) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(poll)


def fd_count() -> int:
    return len(list(Path("/proc/self/fd").iterdir()))


def ok_gaps(recorder: Recorder, table: str, *, since: float) -> list[float]:
    """Gaps between consecutive ok snapshots of ``table`` after ``since`` (monotonic)."""
    times = [t for t, m in recorder.timed(TableSnapshot, table=table) if m.state == "ok" and t >= since]
    return [b - a for a, b in zip(times, times[1:], strict=False)]


def states(recorder: Recorder, table: str) -> list[str]:
    return [m.state for m in recorder.all(TableSnapshot, table=table)]


def flatten(items: Iterable[Iterable[int]]) -> list[int]:
    return [x for xs in items for x in xs]
