"""The slowest necessary chain of emulated cloud calls: what no design can beat.

The emulator's delays are deterministic (a seed and a call index per method),
so the delay of every call a refresh made can be recomputed from its call counts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from benchmarks.plan import Plan


def call_delays(plan: Plan, method: str, indexes: range) -> list[float]:
    """The delays the emulator gives the calls of ``method`` with these indexes (deterministic)."""
    from arr_actors.emulator import latency

    return [latency.delay("realistic", method, seed=plan.seed, call_index=i) * plan.latency_scale for i in indexes]


def worst_delay(plan: Plan, method: str) -> float:
    from arr_actors.emulator import latency

    return float(latency.worst_case("realistic", method) * plan.latency_scale)


def slowest_call(plan: Plan, stats: Mapping[str, int], method: str) -> float:
    """The longest of the ``stats[method]`` calls of ``method`` made (parallel calls cost their slowest)."""
    return max(call_delays(plan, method, range(stats.get(method, 0))), default=0.0)


def first_round_critical_path(plan: Plan, stats: Mapping[str, int]) -> dict[str, float]:
    """The slowest necessary chain of calls of every table's first refresh, by table.

    ``stats`` are the emulator's call counts after exactly one round. Region
    fan-outs run in parallel, so a list method costs its slowest call: runner
    = slowest ``ListExecutions`` (its rows are on screen then; the notes from
    the batched ``ListLogEntries`` follow, see ``runner_notes_path``); vertex =
    slowest ``ListCustomJobs``; builds = slowest ``ListBuilds`` (global and
    every region). The W&B client asks its GraphQL queries one after another
    (entity, then runs); both W&B tables share the counter, so each query is
    taken at its worst case.
    """
    paths = {
        "runner": slowest_call(plan, stats, "ListExecutions"),
        "vertex": slowest_call(plan, stats, "ListCustomJobs"),
        "builds": slowest_call(plan, stats, "ListBuilds"),
    }
    graphql_chain = math.ceil(stats.get("GraphQL", 0) / 2)
    for key in ("active", "completed"):
        paths[key] = graphql_chain * worst_delay(plan, "GraphQL")
    return {k: round(v, 3) for k, v in paths.items()}


def runner_notes_path(plan: Plan, stats: Mapping[str, int]) -> float:
    """The runner's chain to its notes: the slowest ``ListExecutions``, then its log read."""
    reads = sum(call_delays(plan, "ListLogEntries", range(stats.get("ListLogEntries", 0))))
    return round(slowest_call(plan, stats, "ListExecutions") + reads, 3)
