"""The numbers that govern a table's supervision, and the pure arithmetic on them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from arr_actors.config import Settings, Supervision, TablePolicy


@dataclass(frozen=True, slots=True)
class Limits:
    """The numbers that govern one table: its own policy and the program's supervision settings."""

    table: TablePolicy
    supervision: Supervision
    single_round: bool = False

    @classmethod
    def from_settings(cls, settings: Settings, table: str, *, single_round: bool = False) -> Limits:
        return cls(table=settings.policy(table), supervision=settings.supervision, single_round=single_round)


def backoff_delay(failures: int, limits: Limits, *, rand: float) -> float:
    """Restart delay after ``failures`` consecutive failures (1 -> initial, doubling, capped).

    ``rand`` in [0, 1) spreads the delay by ±jitter so tables that fail together
    do not all come back in the same instant.
    """
    exponent = max(failures - 1, 0)
    # 2**exponent overflows float for absurd counts; the cap is reached long before.
    base = limits.supervision.backoff_max_s if exponent >= 64 else min(limits.supervision.backoff_initial_s * 2.0**exponent, limits.supervision.backoff_max_s)
    spread = limits.supervision.backoff_jitter * (2.0 * rand - 1.0)
    return max(base * (1.0 + spread), 0.0)


def start_times(tables: tuple[str, ...], now: float, *, batch_size: int, batch_delay: float) -> dict[str, float]:
    """When each table's first fetch is due: all at once, or in batches."""
    if batch_size <= 0:
        return {t: now for t in tables}
    return {t: now + (i // batch_size) * batch_delay for i, t in enumerate(tables)}


def budget_pct(duration: float, limits: Limits) -> float:
    return round(duration / limits.table.budget * 100.0, 1)
