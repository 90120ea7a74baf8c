"""Kill latency: every table's fetch hangs in C code holding the GIL until its deadline kills it.

Measured through the runtime API: from the deadline the latest ``FetchStarted``
announced to the snapshot saying ``timeout``, and to the hung process being gone.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from arr_actors.tables import TABLE_KEYS
from benchmarks.cloud import emulated_settings
from benchmarks.plan import Plan
from benchmarks.process_tree import watch_exits
from benchmarks.report import Progress
from benchmarks.subscribers import Collector, kill_events, kill_latencies, wait_child_pids


@dataclass(frozen=True, slots=True)
class KillLatency:
    samples: tuple[float, ...]  # deadline to the snapshot saying timeout, every kill of every table
    reaped: tuple[float, ...]  # the first deadline to each first hung process being gone


def measure_kill_latency(
    plan: Plan, emu: Any, *, workdir: str, regions: Sequence[str], say: Progress
) -> KillLatency:
    """Every table hangs holding the GIL; one deadline each with ``--quick``, else two."""
    from arr_actors.runtime import system as runtime

    deadline = plan.kill_deadline_s
    settings = emulated_settings(
        emu,
        home=os.path.join(workdir, "hang"),
        regions=regions,
        faults=tuple((key, "hang") for key in TABLE_KEYS),
        policies={key: {"deadline": deadline} for key in TABLE_KEYS},
    )
    collector = Collector()
    system = runtime.start(settings, [collector])
    try:
        hung = wait_child_pids(system, timeout=30)
        gone_at = watch_exits([pid for pids in hung.values() for pid in pids], timeout=deadline + 60)
        rounds = 1 if plan.quick else 2
        collector.wait_for(
            lambda items: all(len(kill_latencies(items).get(k, [])) >= rounds for k in TABLE_KEYS),
            timeout=rounds * (deadline + settings.supervision.backoff_max_s) + 30,
            what="every hung table timed out",
        )
    finally:
        system.stop()
    latencies = kill_latencies(collector.items)
    samples = [x for values in latencies.values() for x in values]
    first_deadline = {table: events[0][0] for table, events in kill_events(collector.items).items()}
    reaped = [
        gone_at[pid] - first_deadline[table]
        for table, pids in hung.items()
        for pid in pids
        if pid in gone_at and table in first_deadline
    ]
    say(f"  kill latency: {len(samples)} samples, worst {max(samples):.3f} s")
    return KillLatency(samples=tuple(samples), reaped=tuple(reaped))
