"""CPU time of drawing one whole frame, as the UI does for every clock tick."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from typing import Any

from benchmarks.plan import TERMINAL_COLS, TERMINAL_ROWS
from benchmarks.stats import percentile


def render_cost_ms(snapshots: Mapping[str, Any], *, repeats: int) -> dict[str, float | str]:
    """CPU time of drawing one whole frame of these tables (the UI's pure render
    functions and urwid's canvas), in milliseconds, at the benchmark's terminal size."""
    from arr_actors_ui import model, screen
    from arr_actors_ui.context import RenderContext

    ctx = RenderContext(regions=18)
    state = model.UiState()
    now = time.time()
    for snapshot in snapshots.values():
        state = model.receive(state, dataclasses.replace(snapshot, state="ok"), now=now)
    size = (TERMINAL_COLS, TERMINAL_ROWS)
    costs = _frame_costs_ms(lambda at: screen.screen(state, now=at, size=size, ctx=ctx).render(size), now, repeats)
    return {**costs, "size": f"{size[0]}x{size[1]}"}


def _frame_costs_ms(draw: Callable[[float], object], now: float, repeats: int) -> dict[str, float]:
    """Median and worst CPU time, in milliseconds, of ``draw(now + n)`` for n = 0..repeats-1."""
    costs = []
    for n in range(repeats):
        started = time.process_time()
        draw(now + n)
        costs.append(1000 * (time.process_time() - started))
    return {"p50": round(percentile(costs, 50), 2), "max": round(max(costs), 2)}


#: The idle frame of a long table: the size of the screen, and how many rows.
LONG_TABLE_SIZE = (200, 60)
LONG_TABLE_ROWS = 1000  # the most a table keeps


def long_table_cost_ms(*, repeats: int) -> dict[str, float | str]:
    """CPU time of an idle frame (only the clock moves on) with one table of
    the most rows a table keeps, one in seven of them running: what a replayed
    recording of a huge table costs every second while nothing happens."""
    from arr_actors.messages import BuildRow, TableSnapshot, TableStatus
    from arr_actors_ui import model, screen
    from arr_actors_ui.context import RenderContext

    now = time.time()
    rows = tuple(
        BuildRow(f"b{i:07d}", "WORKING" if i % 7 == 0 else "SUCCESS", f"us-docker.pkg.dev/p/r/trainer:v{i}",
                 "global", created_at=now - 60 * i, started_at=now - 60 * i + 5,
                 finished_at=None if i % 7 == 0 else now - 60 * i + 50)
        for i in range(LONG_TABLE_ROWS)
    )
    snapshot = TableSnapshot("builds", 1, TableStatus.OK, rows, fetched_at=now, updated_at=now)
    state = model.receive(model.UiState(), snapshot, now=now)
    ctx = RenderContext()
    cols, lines = LONG_TABLE_SIZE
    screen.screen_lines(state, now=now, cols=cols, rows=lines, ctx=ctx)  # the frame the snapshot brings
    costs = _frame_costs_ms(lambda at: screen.screen_lines(state, now=at, cols=cols, rows=lines, ctx=ctx), now + 1, repeats)
    return {**costs, "size": f"{cols}x{lines}", "rows": LONG_TABLE_ROWS}
