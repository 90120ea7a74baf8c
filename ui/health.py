"""Region health: how runner executions and Vertex AI jobs fared per region, from rows already fetched.

Pure functions of the rows the monitor has seen (the tables' latest rows and
the finished rows remembered since start: ``UiState.history``); no API call.
Per region, over the last hour and the last 24 hours: how many succeeded, how
many failed and in which diagnosis group (``diagnostics.registry.CATEGORIES``),
the last error and when the region last succeeded. Healthiest regions first:
the smallest share of failures in the last hour, then in the last day, then
the most successes.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass

from arr_actors.rows import Row, RunnerRow, VertexRow
from ui.alerts import ended_at
from ui.query import is_failed

HOUR = 3600.0
DAY = 24 * HOUR
#: The tables whose rows are counted (they carry a region).
TABLES = ("runner", "vertex")
#: Runs that count as succeeded.
SUCCEEDED = frozenset(("FINISHED", "SUCCEEDED"))


@dataclass(frozen=True, slots=True)
class Window:
    succeeded: int = 0
    failed: int = 0
    #: diagnosis group -> failures
    groups: tuple[tuple[str, int], ...] = ()

    @property
    def failure_share(self) -> float:
        total = self.succeeded + self.failed
        return self.failed / total if total else 0.0


@dataclass(frozen=True, slots=True)
class RegionHealth:
    region: str
    hour: Window
    day: Window
    last_success_at: float | None = None
    last_error: str = ""
    last_error_at: float | None = None

    @property
    def seen(self) -> bool:
        return bool(self.day.succeeded or self.day.failed)


@functools.lru_cache(maxsize=1024)
def _group_of_note(note: str) -> str:
    # The registry loads on first use (the health view, an alert), never before the first frame.
    from arr_actors.diagnostics.registry import default, group_of

    found = default().classify(note)
    pattern = None if found is None else (found.error or found.bailout)
    return group_of(pattern.category) if pattern is not None else "other"


def failure_group(row: Row) -> str:
    """The diagnosis group a failed row counts in: its category's, else (no
    category, or one of no known group) its note's."""
    from arr_actors.diagnostics.registry import group_of

    group = group_of(getattr(row, "category", "") or "")
    note = getattr(row, "note", "")
    if group == "other" and note:
        return _group_of_note(note)
    return group


def _window(rows: Iterable[Row]) -> Window:
    succeeded = failed = 0
    groups: dict[str, int] = {}
    for row in rows:
        if row.status in SUCCEEDED:
            succeeded += 1
        elif is_failed(row):
            failed += 1
            group = failure_group(row)
            groups[group] = groups.get(group, 0) + 1
    return Window(succeeded, failed, tuple(sorted(groups.items(), key=lambda kv: (-kv[1], kv[0]))))


def region_health(rows: Iterable[Row], *, now: float) -> list[RegionHealth]:
    """Every region with a finished execution or job in the last 24 h, healthiest first."""
    by_region: dict[str, list[tuple[float, Row]]] = {}
    for row in rows:
        if not isinstance(row, (RunnerRow, VertexRow)) or row.active:
            continue
        at = ended_at(row) or row.created_at
        if now - at > DAY:
            continue
        by_region.setdefault(row.region, []).append((at, row))
    out = []
    for region, timed in by_region.items():
        hour = _window(row for at, row in timed if now - at <= HOUR)
        day = _window(row for _, row in timed)
        successes = [at for at, row in timed if row.status in SUCCEEDED]
        failures = sorted(((at, row) for at, row in timed if is_failed(row)), key=lambda pair: pair[0])
        last_error, last_error_at = "", None
        if failures:
            at, row = failures[-1]
            last_error, last_error_at = (getattr(row, "note", "") or row.status), at
        out.append(
            RegionHealth(
                region=region,
                hour=hour,
                day=day,
                last_success_at=max(successes) if successes else None,
                last_error=last_error,
                last_error_at=last_error_at,
            )
        )
    out.sort(key=lambda h: (h.hour.failure_share, h.day.failure_share, -h.day.succeeded, -h.hour.succeeded, h.region))
    return out


__all__ = ["DAY", "HOUR", "TABLES", "RegionHealth", "Window", "failure_group", "region_health"]
