"""Figures the runtime promises: start-up, kill latency, idle CPU. Printed with ``-s``."""

from __future__ import annotations

import json
import time
from pathlib import Path

import psutil
import pytest
from runtime_fake_sources import FACTORY
from runtime_helpers import Recorder, is_snapshot, is_started, make_settings, wait_until

from arr_actors.messages import FetchStarted, TableSnapshot
from arr_actors.runtime import system
from arr_actors.tables import TABLE_KEYS


@pytest.mark.timeout(60)
def test_start_up_and_first_results_are_quick(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, interval=30.0, deadline=10.0)
    rec = Recorder()
    begin = time.monotonic()
    tree = system.start(settings, [rec], source_factory=FACTORY)
    returned = time.monotonic() - begin
    try:
        assert tree.wait_ready()
        ready = time.monotonic() - begin
        firsts = [rec.wait_for(is_snapshot(t, "ok"), timeout=20)[1] for t in TABLE_KEYS]
        all_in = time.monotonic() - begin
        # A snapshot's duration is the fetch from the moment its new child was ready.
        fetch_times = sorted(s.duration_s for s in firsts)
        events_path = Path(settings.paths.state_dir) / "events.jsonl"

        def loaded() -> list[float]:
            lines = events_path.read_text().splitlines() if events_path.exists() else []
            return sorted(e["duration"] for e in map(json.loads, lines) if e["event"] == "ready")

        wait_until(lambda: len(loaded()) == 5, timeout=5, what="five ready events")
        startups = loaded()
    finally:
        tree.stop()
    print(
        f"start() returned in {returned * 1000:.1f} ms; launcher ready after {ready * 1000:.0f} ms; "
        f"all five tables ok after {all_in * 1000:.0f} ms; child start-up (fork + load source) "
        f"{startups[0] * 1000:.1f}..{startups[-1] * 1000:.1f} ms; first fetch (request + fetch + reply) "
        f"{fetch_times[0] * 1000:.1f}..{fetch_times[-1] * 1000:.1f} ms"
    )
    assert returned < 0.5  # start() never waits for processes: the UI calls it
    assert fetch_times[-1] < 2.0


@pytest.mark.timeout(60)
@pytest.mark.parametrize("fault", ["hang", "ignore-term"])
def test_kill_latency(tmp_path: Path, fault: str) -> None:
    settings = make_settings(tmp_path, deadline=0.5, faults=(("builds", fault),), values={"supervision.kill_grace_s": 0.3})
    rec = Recorder()
    tree = system._start(settings, [rec], source_factory=FACTORY, tables=("builds",))
    try:
        rec.wait_for(is_started("builds"), timeout=20)
        _, snap = rec.wait_for(is_snapshot("builds", "timeout"), timeout=5)
        so_far = rec.all()
        # The deadline that applied: the one announced when the child was ready.
        started = [m for m in so_far[: so_far.index(snap)] if isinstance(m, FetchStarted)][-1]
        events_path = Path(settings.paths.state_dir) / "events.jsonl"

        def killed() -> list[dict]:
            if not events_path.exists():
                return []
            return [e for e in map(json.loads, events_path.read_text().splitlines()) if e["event"] == "killed"]

        wait_until(killed, timeout=5, what="the kill to be confirmed")
    finally:
        tree.stop()
    to_snapshot = snap.updated_at - started.deadline_at
    to_reaped = killed()[0]["duration"]
    snapshot_ms, reaped_ms = to_snapshot * 1000, to_reaped * 1000
    print(f"{fault}: deadline -> timeout snapshot {snapshot_ms:.0f} ms; kill order -> reaped {reaped_ms:.0f} ms")
    assert 0 <= to_snapshot < 1.0
    # SIGTERM ends a GIL-holding hang at once (no Python handler runs); an ignored SIGTERM waits for the grace.
    assert to_reaped < (0.3 if fault == "hang" else 0.3 + 0.7)


@pytest.mark.timeout(60)
def test_an_idle_tree_uses_almost_no_cpu(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, interval=600.0, deadline=30.0)
    rec = Recorder()
    tree = system.start(settings, [rec], source_factory=FACTORY)
    try:
        for table in TABLE_KEYS:
            rec.wait_for(is_snapshot(table, "ok"), timeout=20)
        wait_until(lambda: sum(len(p) for p in tree.child_pids().values()) == 5, timeout=10, what="five children")
        procs = [psutil.Process(), psutil.Process(tree.launcher_pid)]
        procs += [psutil.Process(pid) for pids in tree.child_pids().values() for pid in pids]

        def cpu() -> float:
            return sum(sum(p.cpu_times()[:2]) for p in procs)

        def quiet() -> bool:
            """No CPU used for 0.1 s: the start-up work (imports, first fetches, their results) is over."""
            before = cpu()
            time.sleep(0.1)
            return cpu() == before

        wait_until(quiet, timeout=20, what="the tree to go quiet after its start-up")

        before, start = cpu(), time.monotonic()
        time.sleep(3.0)
        used, wall = cpu() - before, time.monotonic() - start
    finally:
        tree.stop()
    share = used / wall * 100
    print(f"idle tree: {len(procs)} processes used {used * 1000:.0f} ms CPU in {wall:.1f} s = {share:.2f} % of a core")
    assert share < 1.0
    assert len([m for m in rec.all(TableSnapshot)]) == 5  # nothing ran while idle
