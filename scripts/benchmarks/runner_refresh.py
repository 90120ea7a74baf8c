"""The runner refresh, the product's way and the predecessor's way, against the same world.

Both start from the same terminal-state memory: everything the first refresh
diagnosed except the ``new_terminal`` newest terminal executions, so both have
the same logs to read. The product reads them in one batched call; the
sequential baseline (``baseline``) lists each region in turn, then reads one
execution's log after another. The refreshes with nothing new in between give
the steady-state log reads (``log_reads``).
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Sequence
from typing import Any

from arr_actors import config
from arr_actors.messages import RunnerRow
from benchmarks.baseline import sequential_runner_refresh
from benchmarks.cloud import close_source, emulated_settings, start_emulator
from benchmarks.critical_path import call_delays
from benchmarks.log_reads import runner_rows, steady_log_reads, terminal_executions
from benchmarks.plan import Plan, region_names
from benchmarks.report import Progress, Report

WAYS = ("product", "sequential")


def measure_runner_refresh(plan: Plan, workdir: str, report: Report, say: Progress) -> None:
    from arr_actors.diagnostics.memory import TerminalMemory
    from arr_actors.sources import open_source
    from arr_actors.sources.runner import TERMINAL

    regions = region_names(18)
    with start_emulator(plan, regions=regions) as emu:
        warm = emulated_settings(emu, home=os.path.join(workdir, "warm"), regions=regions)
        fetch = open_source(warm, "runner")
        first = fetch()
        say(f"  first refresh: {len(first.rows)} rows, {first.log_reads} log reads")
        remembered = TerminalMemory(config.project_cache_dir(warm), warm.project)
        terminal = [row for row in runner_rows(first.rows) if row.status in TERMINAL]
        known = remembered.get_many(row.execution for row in terminal)
        candidates = [row for row in terminal if row.execution in known]
        if len(candidates) < plan.new_terminal:
            raise RuntimeError(
                f"the world shows {len(candidates)} remembered terminal executions, {plan.new_terminal} needed"
            )
        fresh = {row.execution for row in candidates[: plan.new_terminal]}

        steady_reads, excluded = steady_log_reads(plan, emu, fetch, seen={row.execution for row in terminal})

        kept = {row.execution for row in terminal if row.execution in known} - fresh

        def memory_without_fresh(name: str) -> config.Settings:
            settings = emulated_settings(emu, home=os.path.join(workdir, name), regions=regions)
            with TerminalMemory(config.project_cache_dir(settings), settings.project) as memory:
                for row in terminal:
                    if row.execution in kept:
                        memory.put(row.execution, row.status, known[row.execution])
            return settings

        seconds: dict[str, list[float]] = {way: [] for way in WAYS}
        reads: dict[str, list[int]] = {way: [] for way in WAYS}
        pending: dict[str, list[int]] = {way: [] for way in WAYS}
        product_paths: list[float] = []
        disagreements: list[str] = []
        for repeat in range(plan.refresh_repeats):
            order = WAYS if repeat % 2 == 0 else WAYS[::-1]
            rows: dict[str, Sequence[RunnerRow]] = {}
            for way in order:
                settings = memory_without_fresh(f"{way}-{repeat}")
                stats_before = emu.stats()
                if way == "product":
                    rows[way], took = _product_refresh(settings)
                    product_paths.append(_product_critical_path(plan, stats_before, regions=len(regions)))
                else:
                    rows[way], took = _sequential_refresh(settings)
                seconds[way].append(took)
                reads[way].append(emu.stats().get("ListLogEntries", 0) - stats_before.get("ListLogEntries", 0))
                pending[way].append(len(terminal_executions(rows[way]) - kept))
            disagreements += _disagreements(rows["product"], rows["sequential"])
            say(
                f"  repeat {repeat + 1}: product {seconds['product'][-1]:.2f} s, "
                f"sequential {seconds['sequential'][-1]:.2f} s"
            )
        remembered.close()
        close_source(fetch)

    product = statistics.median(seconds["product"])
    sequential = statistics.median(seconds["sequential"])
    report.put(
        sequential_baseline_s=round(sequential, 3),
        product_refresh_s=round(product, 3),
        speedup=round(sequential / product, 2),
        runner_refresh={
            "regions": len(regions),
            "new_terminal": plan.new_terminal,
            "product_s": [round(x, 3) for x in seconds["product"]],
            "sequential_s": [round(x, 3) for x in seconds["sequential"]],
            "product_critical_path_s": round(statistics.median(product_paths), 3),
            "product_over_critical_path": round(product / statistics.median(product_paths), 3),
            # Newly terminal executions each way found (the world may end one meanwhile), and its log reads.
            "newly_terminal_product": pending["product"],
            "newly_terminal_sequential": pending["sequential"],
            "log_reads_product": reads["product"],
            "log_reads_sequential": reads["sequential"],
            "note_disagreements": disagreements,
        },
        logging_reads_per_refresh={
            "steady": statistics.fmean(steady_reads) if steady_reads else None,
            "steady_refreshes": len(steady_reads),
            "steady_refreshes_excluded": excluded,
            f"new_terminal_{plan.new_terminal}": max(reads["product"]),
        },
    )


def _product_refresh(settings: config.Settings) -> tuple[list[RunnerRow], float]:
    """One refresh through the product's runner source: its rows and seconds."""
    from arr_actors.sources import open_source

    fetch = open_source(settings, "runner")
    started = time.perf_counter()
    data = fetch()
    took = time.perf_counter() - started
    close_source(fetch)
    return runner_rows(data.rows), took


def _sequential_refresh(settings: config.Settings) -> tuple[tuple[RunnerRow, ...], float]:
    """One refresh the old way: its rows and seconds."""
    from arr_actors.sources.common import SourceContext

    ctx = SourceContext(settings)
    started = time.perf_counter()
    rows, _reads = sequential_runner_refresh(settings, ctx)
    took = time.perf_counter() - started
    ctx.close()
    return rows, took


def _product_critical_path(plan: Plan, stats_before: dict[str, Any], *, regions: int) -> float:
    """The slowest of the region listings the product's refresh made, then its one batched log read."""
    lists = stats_before.get("ListExecutions", 0)
    logs_before = stats_before.get("ListLogEntries", 0)
    return max(call_delays(plan, "ListExecutions", range(lists, lists + regions))) + call_delays(
        plan, "ListLogEntries", range(logs_before, logs_before + 1)
    )[0]


def _disagreements(product: Sequence[RunnerRow], sequential: Sequence[RunnerRow]) -> list[str]:
    """Executions terminal in both results whose notes differ: both read the same logs, so none should."""
    from arr_actors.sources.runner import TERMINAL

    notes = {row.execution: (row.status, row.note) for row in sequential}
    return [
        row.execution
        for row in product
        if row.status in TERMINAL and row.execution in notes and notes[row.execution] != (row.status, row.note)
    ]
