"""Restart: the runner's cloud calls hang until its fetch is killed, then the cloud answers again.

Measured through the runtime API: the time from the snapshot saying ``timeout``
to the next one saying ``ok``. The deadline leaves room for a fresh fetch
process to import its libraries, so the first fetch after the restart can
succeed. Once every table is ok, the memory of each table's fetch process.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psutil

from arr_actors.tables import TABLE_KEYS
from benchmarks.cloud import emulated_settings
from benchmarks.plan import Plan
from benchmarks.process_tree import rss_of
from benchmarks.subscribers import Collector, kill_latencies, snapshots


@dataclass(frozen=True, slots=True)
class Restart:
    timed_out_at: float  # wall clock: the snapshot saying timeout arrived
    ok_at: float  # wall clock: the next snapshot saying ok arrived
    backoff_s: float | None  # from the timeout to the next try it announced
    refresh_duration_s: float | None  # of the refresh that succeeded
    cloud_kill_s: float | None  # deadline to timeout of the first kill
    fetch_rss_mb: dict[str, float]  # by table, once all tables are ok
    launcher_rss_mb: float | None


def measure_restart(plan: Plan, emu: Any, *, workdir: str, regions: Sequence[str]) -> Restart:
    from arr_actors.messages import TableSnapshot
    from arr_actors.runtime import system as runtime

    settings = emulated_settings(
        emu,
        home=os.path.join(workdir, "restart"),
        regions=regions,
        policies={"runner": {"deadline": plan.restart_deadline_s}},
    )
    emu.set_faults({"runner": "hang"})
    collector = Collector()
    system = runtime.start(settings, [collector])
    try:
        timed_out_at, timeout_snapshot = collector.wait_for(
            lambda items: next(iter(snapshots(items, "runner", state="timeout")), None),
            timeout=plan.restart_deadline_s + 30,
            what="the hung runner refresh timed out",
        )
        emu.set_faults({})
        ok_at, ok = collector.wait_for(
            lambda items: next(iter(snapshots(items, "runner", state="ok", after=timed_out_at)), None),
            timeout=settings.supervision.backoff_max_s + plan.restart_deadline_s + 30,
            what="the runner refreshed again after the hang cleared",
        )
        collector.wait_for(
            lambda items: all(snapshots(items, k, state="ok") for k in TABLE_KEYS),
            timeout=60,
            what="all five tables ok",
        )
        fetch_rss = {
            table: round(sum(rss_of(psutil.Process(pid)) or 0 for pid in pids) / 2**20, 1)
            for table, pids in sorted(system.child_pids().items())
        }
        launcher_pid = system.launcher_pid
        launcher_rss = round((rss_of(psutil.Process(launcher_pid)) or 0) / 2**20, 1) if launcher_pid else None
    finally:
        system.stop()
    cloud_kill = kill_latencies(collector.items).get("runner", [])
    assert isinstance(ok, TableSnapshot)
    return Restart(
        timed_out_at=timed_out_at,
        ok_at=ok_at,
        backoff_s=round(timeout_snapshot.next_refresh_at - timed_out_at, 3)
        if timeout_snapshot.next_refresh_at
        else None,
        refresh_duration_s=ok.duration_s,
        cloud_kill_s=round(cloud_kill[0], 3) if cloud_kill else None,
        fetch_rss_mb=fetch_rss,
        launcher_rss_mb=launcher_rss,
    )
