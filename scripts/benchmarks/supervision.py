"""Supervision against one emulator: kill latency (``kill_latency``), then restart (``restart``)."""

from __future__ import annotations

from benchmarks.cloud import start_emulator
from benchmarks.kill_latency import measure_kill_latency
from benchmarks.plan import Plan, region_names
from benchmarks.report import Progress, Report
from benchmarks.restart import measure_restart
from benchmarks.stats import percentile


def measure_supervision(plan: Plan, workdir: str, report: Report, say: Progress) -> None:
    """Kill latency with every fetch hung in C code; restart time once a cloud hang clears;
    memory of each table's fetch process."""
    regions = region_names(18)
    with start_emulator(plan, regions=regions) as emu:
        kill = measure_kill_latency(plan, emu, workdir=workdir, regions=regions, say=say)
        restart = measure_restart(plan, emu, workdir=workdir, regions=regions)
    report.put(
        kill_latency_s=round(max(kill.samples), 3),
        kill_latency={
            "fault": "hang in C code holding the GIL, every table",
            "deadline_s": plan.kill_deadline_s,
            "samples": len(kill.samples),
            "p50_s": round(percentile(kill.samples, 50), 3),
            "max_s": round(max(kill.samples), 3),
            "cloud_hang_s": restart.cloud_kill_s,
            "process_gone_after_deadline_max_s": round(max(kill.reaped), 3) if kill.reaped else None,
        },
        restart_s=round(restart.ok_at - restart.timed_out_at, 3),
        restart={
            "fault": "runner: cloud call hangs until its fetch is killed, then answers again",
            "backoff_s": restart.backoff_s,
            "deadline_s": plan.restart_deadline_s,
            "refresh_duration_s": restart.refresh_duration_s,
        },
    )
    rss = report.values.setdefault("rss_mb", {})
    rss["fetch_process_by_table"] = restart.fetch_rss_mb
    rss["launcher"] = restart.launcher_rss_mb
