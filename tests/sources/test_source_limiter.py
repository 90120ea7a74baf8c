"""The Cloud Logging limiter holds across processes."""

from __future__ import annotations

import multiprocessing
import time

import pytest

from arr_actors import config
from arr_actors.sources import limiter as limiter_mod
from arr_actors.sources.limiter import LoggingLimiter


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_window_slides(tmp_path):
    clock = FakeClock()
    lim = LoggingLimiter(tmp_path / "l.json", 3, clock=clock)
    assert lim.try_acquire()
    clock.now += 10
    assert [lim.try_acquire() for _ in range(3)] == [True, True, False]
    clock.now += 49.9
    assert not lim.try_acquire()
    clock.now += 0.2  # the first call left the window, the other two have not
    assert lim.try_acquire() and lim.used() == 3
    assert not lim.try_acquire()


def test_corrupt_file_does_not_block_reads(tmp_path):
    path = tmp_path / "l.json"
    path.write_text("{not json")
    assert LoggingLimiter(path, 1).try_acquire()
    assert not LoggingLimiter(path, 1).try_acquire()


def test_path_is_per_project_under_state_dir(tmp_path):
    a = limiter_mod.for_settings(config.defaults(project="proj-a", values={"paths.state_dir": str(tmp_path)}))
    b = limiter_mod.for_settings(config.defaults(project="proj-b", values={"paths.state_dir": str(tmp_path)}))
    assert a.path.parent == tmp_path / "projects" / "proj-a@googleapis" and a.path != b.path
    assert a.per_minute == 60


def _grab(path: str, limit: int, attempts: int, start_at: float, out) -> None:
    # Start together so the processes really contend for the lock.
    while time.time() < start_at:
        time.sleep(0.001)
    lim = LoggingLimiter(path, limit)
    out.put(sum(1 for _ in range(attempts) if lim.try_acquire()))


@pytest.mark.timeout(60)
def test_limit_holds_across_processes(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    path = str(tmp_path / "shared.json")
    start_at = time.time() + 1.5
    procs = [ctx.Process(target=_grab, args=(path, 25, 20, start_at, out)) for _ in range(4)]
    for p in procs:
        p.start()
    granted = [out.get(timeout=30) for _ in procs]
    for p in procs:
        p.join(timeout=10)
        assert p.exitcode == 0
    assert sum(granted) == 25
    assert LoggingLimiter(path, 25).used() == 25


def _acquire_blocking(path: str, out) -> None:
    lim = LoggingLimiter(path, 2, window_s=1.0)
    started = time.monotonic()
    got = lim.acquire(timeout=10)
    out.put((got, time.monotonic() - started))


@pytest.mark.timeout(60)
def test_blocking_acquire_waits_for_a_slot_freed_by_time(tmp_path):
    path = str(tmp_path / "shared.json")
    lim = LoggingLimiter(path, 2, window_s=1.0)
    assert lim.try_acquire() and lim.try_acquire()
    assert not lim.acquire(timeout=0.05)
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    proc = ctx.Process(target=_acquire_blocking, args=(path, out))
    proc.start()
    got, waited = out.get(timeout=30)
    proc.join(timeout=10)
    assert got is True
    # The other process waited for the window to move on, not longer than needed plus slack.
    assert waited < 5.0
    # It took the slot: this process now finds the budget in use.
    assert LoggingLimiter(path, 2, window_s=1.0).used() >= 1


def test_status_says_how_many_calls_and_when_a_full_window_frees_a_slot(tmp_path):
    clock = FakeClock()
    lim = LoggingLimiter(tmp_path / "l.json", 3, clock=clock)
    assert lim.status() == (0, None)
    lim.try_acquire()
    clock.now += 10
    lim.try_acquire()
    assert lim.status() == (2, None)
    lim.try_acquire()
    assert lim.status() == (3, 1060.0)  # the first call leaves the window at 1000 + 60
    clock.now += 51
    assert lim.status() == (2, None)
