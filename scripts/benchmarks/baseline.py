"""The old design's runner refresh: every region listed in turn, then one log read after another."""

from __future__ import annotations

from typing import TYPE_CHECKING

from arr_actors import config

if TYPE_CHECKING:
    from arr_actors.messages import RunnerRow
    from arr_actors.sources.common import SourceContext


def sequential_runner_refresh(settings: config.Settings, ctx: SourceContext) -> tuple[tuple[RunnerRow, ...], int]:
    """The predecessor's runner refresh: every region listed in turn, then one
    log read per newly-terminal execution, one after another; its rows and log reads.

    Listing, mapping, memory, log reading and diagnosis are the product's own
    functions; only the order of the calls is the old one. Nothing is written
    to the memory, so every repeat has the same logs to read.
    """
    from arr_actors.sources import logs, runner, runner_memory

    limit = settings.policy("runner").limit
    executions = []
    for region in settings.regions:
        for item in runner._list_region(ctx, region, limit=limit):
            executions.append(runner.parse_execution(item, region=region, default_queue=settings.queue))
    top = runner.newest(executions, limit)
    remembered = ctx.memory().get_many(e.key for e in top if e.terminal)
    rows, reads = [], 0
    for execution in top:
        diagnosis = remembered.get(execution.key)
        if execution.terminal and diagnosis is None:
            lines = logs.read_execution_logs(
                settings,
                region=execution.region,
                executions=[execution.name],
                since=execution.created_at - runner._LOG_LOOKBACK_S,
                wait_s=60.0,
                clients=ctx.clients,
            )
            reads += 1
            diagnosis = runner_memory.diagnose(lines.get(execution.name, []), status=execution.status)
        rows.append(runner.build_row(execution, diagnosis))
    return tuple(rows), reads
