"""Warm start: the last snapshots a run left on disk are on screen before any cloud call returned."""

from __future__ import annotations

import os
import statistics
from collections.abc import Mapping
from typing import Any

from arr_actors import config
from benchmarks.monitor import Monitor
from benchmarks.plan import Plan
from benchmarks.render_cost import long_table_cost_ms, render_cost_ms
from benchmarks.report import Report
from benchmarks.screen import FillTimes, fresh_tables


def measure_warm_start(plan: Plan, *, env: Mapping[str, str], home: str, report: Report) -> dict[str, Any]:
    """Start the monitor where a run already left its warm-start file; the first frames with data.

    Puts the CPU cost of drawing those tables into ``report`` now; returns the
    frame figures for the caller to report after its own first frames.
    """
    from arr_actors import warmstart

    settings = config.load(env={k: v for k, v in env.items() if k.startswith(("ARR_", "XDG_"))})
    path = warmstart.warm_start_path(settings)
    if not os.path.exists(path):
        raise RuntimeError(f"no warm-start file at {path} after the first run")
    report.put(frame_render_cpu_ms=render_cost_ms(warmstart.read_file(path), repeats=30))
    report.put(long_table_frame_cpu_ms=long_table_cost_ms(repeats=30))
    data_frames: list[float] = []
    fresh: list[str] = []
    for _ in range(plan.frame_repeats):
        with Monitor([], env=env, home=home) as monitor:
            rows_at = FillTimes(fresh=False)
            monitor.term.wait_until(rows_at, timeout=30, what="warm-start rows in all five tables")
            fresh += fresh_tables(monitor.term)
        data_frames.append(monitor.since_start(max(rows_at.at.values())))
    return {
        "first_data_frame_s": round(statistics.median(data_frames), 3),
        "first_data_frame": {
            "samples_s": [round(x, 3) for x in data_frames],
            # Must stay empty: warm-start rows are on screen before any cloud call returned.
            "tables_already_fresh": sorted(set(fresh)),
        },
    }
