"""Start-up from cold: first frame, all tables filled against the critical path, idle CPU, memory.

One monitor run measures them in turn, because each needs the state the one
before left: the first frame comes first; the fill times, memory peaks and
first-round call counts cover the first round of fetches; the idle period
starts once every first fetch has ended, in the same process tree. More first
frames follow (``--no-warm-start``), then the warm start (``warm_start``) reads
the file this run left behind.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Mapping
from typing import Any

from benchmarks.cloud import every_table, monitor_env, start_emulator
from benchmarks.critical_path import first_round_critical_path, runner_notes_path
from benchmarks.monitor import Monitor
from benchmarks.plan import Plan, region_names
from benchmarks.process_tree import TreeSampler, label_process, tree_cpu_during
from benchmarks.report import Progress, Report
from benchmarks.screen import FillTimes, fetches_done, titles_visible
from benchmarks.warm_start import measure_warm_start


def measure_startup(plan: Plan, workdir: str, report: Report, say: Progress) -> None:
    regions = region_names(18)
    home = workdir
    with start_emulator(plan, regions=regions) as emu:
        env = monitor_env(emu, home=home, regions=regions, settings=every_table(interval=3600))
        first = _cold_start(plan, emu, env=env, home=home, report=report, say=say)
        frames = [first, *_more_first_frames(plan, env=env, home=home)]
        warm = measure_warm_start(plan, env=env, home=home, report=report)
    report.put(
        first_frame_s=round(statistics.median(frames), 3),
        first_frame={"samples_s": [round(x, 3) for x in frames]},
        **warm,
    )


def _cold_start(
    plan: Plan, emu: Any, *, env: Mapping[str, str], home: str, report: Report, say: Progress
) -> float:
    """The first run: fills, critical path, idle CPU and memory into ``report``; the first frame's seconds."""
    with Monitor([], env=env, home=home) as monitor, TreeSampler({"emulator": emu.pid}) as emu_sampler:
        term = monitor.term
        frame_at = term.wait_until(titles_visible, timeout=30, what="the five table titles")
        fills = FillTimes(fresh=True)
        term.wait_until(fills, timeout=30 + 20 * plan.latency_scale, what="fresh rows in all five tables")
        # The runner's rows come before its notes (its log read): wait for every
        # fetch to end, so the idle time below is idle and the call counts complete.
        term.wait_until(fetches_done, timeout=30 + 20 * plan.latency_scale, what="every first fetch to end")
        all_done = time.monotonic()
        stats = emu.stats()
        paths = first_round_critical_path(plan, stats)
        say(f"  all tables in {monitor.since_start(max(fills.at.values())):.2f} s; idle for {plan.idle_s:g} s")
        idle, idle_by_process = tree_cpu_during(
            term.pid, seconds=plan.idle_s, activity=term.read_for, label=label_process
        )
        # The tree's memory at the end of the idle period, every process in its steady state.
        monitor.sampler.sample()
        idle_pss_mb = monitor.sampler.pss_now_mb("ui")
        idle_tree_pss = monitor.sampler.last_tree_pss.get("ui", 0)
    emu_rss = emu_sampler.peak_tree_rss.get("emulator", 0)
    emu_pss = emu_sampler.peak_tree_pss.get("emulator", 0)
    sampler = monitor.sampler
    all_tables = monitor.since_start(max(fills.at.values()))
    critical = max(paths.values())
    report.put(
        all_tables_s=round(all_tables, 3),
        critical_path_s=round(critical, 3),
        startup={
            "table_filled_s": {
                k: round(monitor.since_start(v), 3) for k, v in sorted(fills.at.items(), key=lambda kv: kv[1])
            },
            "critical_path_by_table_s": paths,
            "overhead_s": round(all_tables - critical, 3),
            # Rows of every table and the runner's notes (after its log read) on screen.
            "all_fetches_done_s": round(monitor.since_start(all_done), 3),
            "runner_notes_critical_path_s": runner_notes_path(plan, stats),
            "calls_first_round": stats,
        },
        idle_cpu_pct=round(idle, 3),
        idle_cpu_by_process_pct=idle_by_process,
        rss_mb={
            "tree_peak": round(sampler.peak_tree_rss.get("ui", 0) / 2**20, 1),
            "per_process": sampler.peaks_mb(),
            "emulator": round(emu_rss / 2**20, 1),
        },
        # What the tree costs: the goal is on the peak; "idle" is the tree at
        # the end of the idle period, every process in its steady state.
        pss_mb={
            "tree_peak": round(sampler.peak_tree_pss.get("ui", 0) / 2**20, 1),
            "tree_idle": round(idle_tree_pss / 2**20, 1),
            "per_process_peak": sampler.pss_peaks_mb(),
            "per_process_idle": idle_pss_mb,
            "emulator": round(emu_pss / 2**20, 1),
        },
    )
    return monitor.since_start(frame_at)


def _more_first_frames(plan: Plan, *, env: Mapping[str, str], home: str) -> list[float]:
    """More first frames, without reading the warm-start file the first run left."""
    frames = []
    for _ in range(plan.frame_repeats - 1):
        with Monitor(["--no-warm-start"], env=env, home=home) as again:
            frames.append(
                again.since_start(again.term.wait_until(titles_visible, timeout=30, what="the five table titles"))
            )
    return frames
