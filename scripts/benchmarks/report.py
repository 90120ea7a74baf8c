"""What a run found: the report document (values, goals, errors, notes), its table, progress lines."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from benchmarks.goals import GOALS, format_number, judge, lookup


@dataclass
class Report:
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def put(self, **values: Any) -> None:
        self.values.update(values)

    def document(self) -> dict[str, Any]:
        doc = dict(self.values)
        if "all_tables_s" in doc and doc.get("critical_path_s"):
            doc["all_tables_over_critical_path"] = round(doc["all_tables_s"] / doc["critical_path_s"], 3)
        doc["goals"] = judge(doc)
        doc["errors"] = dict(self.errors)
        doc["notes"] = list(self.notes)
        return doc


#: Figures shown in seconds below the goals, when the run measured them.
_SECONDS = ("first_frame_s", "all_tables_s", "critical_path_s", "sequential_baseline_s", "product_refresh_s", "restart_s")


def format_table(doc: Mapping[str, Any]) -> str:
    lines = [f"{'measure':<44} {'value':>12}  {'goal':<12} ", "-" * 74]
    for goal in GOALS:
        value = lookup(doc, goal.path)
        if isinstance(value, (int, float)):
            mark = "pass" if goal.met(value) else "MISS"
            shown = format_number(value) + (f" {goal.unit}" if goal.unit else "")
        else:
            mark, shown = "n/a", "-"
        lines.append(f"{goal.label:<44} {shown:>12}  {goal.text:<12} {mark}")
    lines.append("")
    for key in _SECONDS:
        if isinstance(doc.get(key), (int, float)):
            lines.append(f"{key:<44} {format_number(doc[key]):>12} s")
    pss = doc.get("pss_mb")
    if isinstance(pss, Mapping):
        lines.append(f"{'pss_mb.tree_peak':<44} {format_number(pss.get('tree_peak', 0)):>12} MB")
        lines.append(f"{'pss_mb.tree_idle':<44} {format_number(pss.get('tree_idle', 0)):>12} MB")
        for name, mb in (pss.get("per_process_idle") or {}).items():
            lines.append(f"{'  ' + name:<44} {format_number(mb):>12} MB")
    rss = doc.get("rss_mb")
    if isinstance(rss, Mapping):
        lines.append(f"{'rss_mb.tree_peak':<44} {format_number(rss.get('tree_peak', 0)):>12} MB")
        for name, mb in (rss.get("per_process") or {}).items():
            lines.append(f"{'  ' + name:<44} {format_number(mb):>12} MB")
    scaling = doc.get("scaling")
    if isinstance(scaling, Mapping):
        for row in scaling.get("runs", []):
            all_tables = row.get("all_tables_s")
            lines.append(
                f"{'scaling ' + str(row.get('regions')) + ' regions, x' + str(row.get('executions_factor')):<44} "
                f"{format_number(all_tables) if isinstance(all_tables, (int, float)) else '-':>12} s"
                f"  log reads {row.get('logging_reads_per_refresh', '-')}"
            )
    for key, message in (doc.get("errors") or {}).items():
        lines.append(f"error in {key}: {message}")
    for note in doc.get("notes") or ():
        lines.append(f"note: {note}")
    return "\n".join(lines)


class Progress:
    """Progress lines with the seconds since the run started, on ``out`` (None: silent)."""

    def __init__(self, out: IO[str] | None) -> None:
        self._out = out
        self._started = time.monotonic()

    def __call__(self, text: str) -> None:
        if self._out is not None:
            print(f"[{time.monotonic() - self._started:6.1f} s] {text}", file=self._out, flush=True)
