"""CPU time of drawing one whole frame, as the UI does for every clock tick."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from typing import Any

from benchmarks.plan import TERMINAL_COLS, TERMINAL_ROWS
from benchmarks.stats import percentile


def render_cost_ms(snapshots: Mapping[str, Any], *, repeats: int) -> dict[str, float | str]:
    """CPU time of drawing one whole frame of these tables (the UI's pure render
    functions and urwid's canvas), in milliseconds, at the benchmark's terminal size."""
    from ui import model, screen
    from ui.context import RenderContext

    ctx = RenderContext(regions=18)
    state = model.UiState()
    now = time.time()
    for snapshot in snapshots.values():
        state = model.receive(state, dataclasses.replace(snapshot, state="ok"), now=now)
    size = (TERMINAL_COLS, TERMINAL_ROWS)
    costs = []
    for n in range(repeats):
        started = time.process_time()
        screen.screen(state, now=now + n, size=size, ctx=ctx).render(size)
        costs.append(1000 * (time.process_time() - started))
    return {"p50": round(percentile(costs, 50), 2), "max": round(max(costs), 2), "size": f"{size[0]}x{size[1]}"}
