"""A thousand kill/restart cycles leave file descriptors, threads and processes where they were."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import psutil
import pytest
from runtime_fake_sources import FACTORY
from runtime_helpers import Recorder, TreeWatch, fd_count, is_snapshot, is_started, make_settings, wait_until

from arr_actors.messages import Tick
from arr_actors.runtime import system

CYCLES = 1000
WARM_UP = 50


class FakeClock:
    def __init__(self) -> None:
        self.now = 2_000_000.0

    def __call__(self) -> float:
        return self.now


def resources(tree: system.System) -> dict[str, int]:
    launcher = psutil.Process(tree.launcher_pid)
    return {
        "fds": fd_count(),
        "threads": threading.active_count(),
        "launcher_fds": launcher.num_fds(),
        "processes": len(psutil.Process().children(recursive=True)),
    }


@pytest.mark.timeout(120)
def test_thousand_kill_restart_cycles_leak_nothing(tmp_path: Path) -> None:
    """Each cycle starts a fetch in a new child and kills it at the (fake) deadline right away.

    Hand ticks and a fake clock make a cycle take only as long as the real
    work: fork a child, send the request, kill the group, reap, tell everyone.
    """
    settings = make_settings(tmp_path, deadline=1.0, faults=(("builds", "hang"),), values={"supervision.kill_grace_s": 0.0, "supervision.backoff_initial_s": 0.001, "supervision.backoff_max_s": 0.001, "supervision.circuit_failures": 10**9})
    clock, rec, watch = FakeClock(), Recorder(), TreeWatch()
    tree = system._start(settings, [rec], source_factory=FACTORY, clock=clock, tick_s=None, tables=("builds",))
    baseline: dict[str, int] = {}
    started_at = time.monotonic()
    try:
        assert tree.wait_ready()
        seen: set[int] = set()
        for cycle in range(1, CYCLES + 1):
            mark = rec.count()
            clock.now += 1.0
            tree.tell(Tick(now=clock.now))
            # The kill follows as soon as the new child is ready: its deadline then counts from
            # the (fake) time it was started at, so the next tick is past it.
            announced = is_started("builds", generation=cycle)
            ready_deadline = clock.now + 1.0
            rec.wait_for(lambda m: announced(m) and m.deadline_at == ready_deadline, timeout=10, after=mark)  # noqa: B023
            wait_until(
                lambda: set(tree.child_pids().get("builds", [])) - seen, timeout=10, what="the new child", poll=0.001
            )
            seen.update(tree.child_pids().get("builds", []))
            clock.now += 1.0
            tree.tell(Tick(now=clock.now))
            rec.wait_for(is_snapshot("builds", "timeout"), timeout=10, after=mark)
            if cycle % 25 == 0:
                # Keep the launcher from falling far behind, and sample the tree now and then.
                wait_until(lambda: len(tree.child_pids().get("builds", [])) <= 2, timeout=10, what="kills to catch up")
                watch.capture(tree)
            if cycle == WARM_UP:
                baseline = settle(tree)
        elapsed = time.monotonic() - started_at
        after = settle(tree)
        each = elapsed / CYCLES * 1000
        print(f"{CYCLES} cycles in {elapsed:.1f} s ({each:.1f} ms each); before {baseline}, after {after}")
        assert after == baseline
        assert rec.all()[-1].restarts == CYCLES - 1
    finally:
        watch.capture(tree)
        tree.stop()
    watch.assert_all_gone()


def settle(tree: system.System) -> dict[str, int]:
    """Resources once the last kill is through (only the newest child may be there)."""
    wait_until(lambda: len(tree.child_pids().get("builds", [])) <= 1, timeout=10, what="the last kill")
    last: dict[str, int] = {}
    end = time.monotonic() + 5
    while time.monotonic() < end:
        now = resources(tree)
        if now == last:
            return now
        last = now
        time.sleep(0.25)
    return last

