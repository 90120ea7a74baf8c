"""Cloud Logging reads of the runner refresh: none when nothing became terminal since the last one.

A terminal execution's diagnosis never changes, so the product reads a log
only for executions that became terminal since it last looked; a refresh that
finds nothing new must not call ``entries.list`` at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from arr_actors.messages import RunnerRow, TableData
from benchmarks.cloud import profile_name
from benchmarks.plan import Plan


def runner_rows(rows: Iterable[object]) -> list[RunnerRow]:
    """The rows of the runner table (its data holds nothing else)."""
    return [row for row in rows if isinstance(row, RunnerRow)]


def terminal_executions(rows: Iterable[object]) -> set[str]:
    """The executions among ``rows`` that ended (finished, failed or were cancelled)."""
    from arr_actors.sources.runner import TERMINAL

    return {row.execution for row in runner_rows(rows) if row.status in TERMINAL}


def steady_log_reads(
    plan: Plan, emu: Any, fetch: Callable[[], TableData], *, seen: set[str]
) -> tuple[list[int], int]:
    """``entries.list`` calls of each of ``plan.steady_refreshes`` refreshes after one that
    saw the terminal executions ``seen``; and how many refreshes were left out because
    the world ended an execution meanwhile (its log is read once, rightly)."""
    # Latency does not change what is called, so these refreshes run without it.
    emu.set_latency("none")
    reads: list[int] = []
    excluded = 0
    seen = set(seen)
    for _ in range(plan.steady_refreshes):
        before = emu.stats().get("ListLogEntries", 0)
        data = fetch()
        count = emu.stats().get("ListLogEntries", 0) - before
        now_terminal = terminal_executions(data.rows)
        if now_terminal - seen:
            excluded += 1
            seen |= now_terminal
            continue
        reads.append(count)
    emu.set_latency(profile_name(plan.latency_scale))
    return reads, excluded
