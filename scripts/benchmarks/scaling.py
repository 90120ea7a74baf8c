"""Scaling: all tables filled, and Cloud Logging reads, with more regions and more executions.

Every run multiplies every table's row limit by ``executions_factor``; only the
region count changes between runs. The time ratio is taken against 18 regions
when the plan has that run, else against the start-up measurement.
"""

from __future__ import annotations

import os
from typing import Any

from arr_actors.tables import TABLES
from benchmarks.cloud import close_source, emulated_settings, every_table, monitor_env, start_emulator
from benchmarks.critical_path import first_round_critical_path
from benchmarks.monitor import Monitor
from benchmarks.plan import Plan, region_names
from benchmarks.report import Progress, Report
from benchmarks.screen import FillTimes, fetches_done


def measure_scaling(plan: Plan, workdir: str, report: Report, say: Progress) -> None:
    """All tables filled, and Cloud Logging reads, with more regions and ``executions_factor``
    times more executions (every table's row limit raised by that factor)."""
    runs = []
    for count in plan.scaling_regions:
        run = _one_scale(plan, count, home=os.path.join(workdir, f"regions-{count}"))
        say(
            f"  {count} regions: all tables in {run['all_tables_s']:.2f} s, "
            f"log reads {run['logging_reads_first_refresh']} then {run['logging_reads_per_refresh']}"
        )
        runs.append(run)
    # Against 18 regions with the same rows when that run was made (only the region count
    # changes), else against the start-up measurement (18 regions, normal rows).
    smallest = min(runs, key=lambda r: r["regions"])
    base = smallest["all_tables_s"] if smallest["regions"] <= 18 else report.values.get("all_tables_s")
    base = base or smallest["all_tables_s"]
    report.put(
        scaling={
            "base_all_tables_s": base,
            "runs": runs,
            "time_ratio_max": round(max(r["all_tables_s"] for r in runs) / base, 3),
            "logging_reads_max": max(
                max(r["logging_reads_first_refresh"], r["logging_reads_per_refresh"]) for r in runs
            ),
        }
    )


def _one_scale(plan: Plan, count: int, *, home: str) -> dict[str, Any]:
    """The monitor's first round with ``count`` regions, then one runner refresh with nothing new."""
    from arr_actors.sources import open_source

    regions = region_names(count)
    limits = {spec.key: {"limit": spec.limit * plan.executions_factor} for spec in TABLES}
    with start_emulator(plan, regions=regions) as emu:
        env = monitor_env(
            emu,
            home=home,
            regions=regions,
            settings={
                **every_table(interval=3600),
                **{f"tables.{key}.limit": v["limit"] for key, v in limits.items()},
            },
        )
        with Monitor([], env=env, home=home) as monitor:
            fills = FillTimes(fresh=True)
            monitor.term.wait_until(fills, timeout=60 + 40 * plan.latency_scale, what="fresh rows in all five tables")
            # ... and the runner's log read behind its first rows: the first round complete.
            monitor.term.wait_until(
                fetches_done, timeout=60 + 40 * plan.latency_scale, what="every first fetch to end"
            )
            stats = emu.stats()
        all_tables = monitor.since_start(max(fills.at.values()))
        paths = first_round_critical_path(plan, stats)
        # The monitor left its terminal-state memory on disk: a refresh now has nothing new to read.
        emu.set_latency("none")
        settings = emulated_settings(emu, home=home, regions=regions, policies=limits)
        fetch = open_source(settings, "runner")
        before = emu.stats().get("ListLogEntries", 0)
        data = fetch()
        steady_reads = emu.stats().get("ListLogEntries", 0) - before
        close_source(fetch)
    return {
        "regions": count,
        "executions_factor": plan.executions_factor,
        "runner_rows": len(data.rows),
        "all_tables_s": round(all_tables, 3),
        "table_filled_s": {
            k: round(monitor.since_start(v), 3) for k, v in sorted(fills.at.items(), key=lambda kv: kv[1])
        },
        "critical_path_s": round(max(paths.values()), 3),
        "logging_reads_first_refresh": stats.get("ListLogEntries", 0),
        "logging_reads_per_refresh": steady_reads,
    }
