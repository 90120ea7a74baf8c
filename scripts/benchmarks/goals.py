"""The benchmark's targets, and how a value in the report meets one."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Goal:
    """A target from the benchmark issue. ``path`` is a dotted path into the report."""

    path: str
    label: str
    op: str  # "<", "<=", ">=", "=="
    target: float
    unit: str = ""

    def met(self, value: float) -> bool:
        return {
            "<": value < self.target,
            "<=": value <= self.target,
            ">=": value >= self.target,
            "==": math.isclose(value, self.target, abs_tol=1e-9),
        }[self.op]

    @property
    def text(self) -> str:
        return f"{self.op} {format_number(self.target)}{(' ' + self.unit) if self.unit else ''}"


GOALS: tuple[Goal, ...] = (
    Goal("first_frame_s", "start to first full frame", "<", 0.3, "s"),
    Goal("first_data_frame_s", "start to warm-start rows on screen", "<", 0.3, "s"),
    Goal("all_tables_over_critical_path", "all tables filled / critical path", "<=", 1.5),
    Goal("speedup", "runner refresh: sequential / product", ">=", 8),
    Goal("key_latency_p99_ms", "key to redraw, all fetches hung (p99)", "<", 50, "ms"),
    Goal("loop_lag_p99_ms", "UI loop lag (p99)", "<", 20, "ms"),
    Goal("kill_latency_s", "deadline to table showing timeout (max)", "<", 1, "s"),
    Goal("idle_cpu_pct", "idle CPU of the tree, % of one core", "<=", 0.5, "%"),
    # A replayed recording of a huge table once kept half a core busy: its idle
    # frame (one a second) must stay under 2 % of a core.
    Goal("long_table_frame_cpu_ms.p50", "idle frame, a 1,000-row table at 200x60 (CPU)", "<", 20, "ms"),
    # What the monitor costs while it runs: the tree at the end of the idle period
    # (the start-up peak, with the fork templates still there, is reported beside it).
    Goal("pss_mb.tree_idle", "PSS of the tree without the emulator, running", "<=", 220, "MB"),
    Goal("logging_reads_per_refresh.steady", "entries.list per runner refresh, nothing new", "==", 0),
    Goal("logging_reads_per_refresh.new_terminal_5", "entries.list, 5 newly-terminal executions", "==", 1),
    Goal("scaling.time_ratio_max", "all tables time, most regions / 18 regions", "<=", 1.3),
    Goal("scaling.logging_reads_max", "entries.list per refresh at any scale", "<=", 1),
    Goal("log_view.first_screen_s", "log view of a 10,000-line log: first screen", "<", 1, "s"),
    Goal("log_follow_key_latency_p99_ms", "key to redraw while following a log (p99)", "<", 50, "ms"),
)


def lookup(report: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` of the report, None where a part is missing."""
    value: Any = report
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def judge(doc: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every goal's target, value and whether it was met (None when nothing was measured)."""
    out: dict[str, dict[str, Any]] = {}
    for goal in GOALS:
        value = lookup(doc, goal.path)
        out[goal.path] = {
            "target": goal.text,
            "value": value,
            "met": goal.met(value) if isinstance(value, (int, float)) else None,
        }
    return out


def format_number(value: float) -> str:
    """A figure as the table shows it: integers bare, otherwise about three significant digits."""
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"
