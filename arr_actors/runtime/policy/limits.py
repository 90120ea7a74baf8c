"""The numbers that govern a table's supervision, and the pure arithmetic on them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from arr_actors.config import Settings


@dataclass(frozen=True, slots=True)
class Limits:
    """The numbers that govern one table, taken from settings."""

    interval: float
    budget: float
    deadline: float
    backoff_initial: float
    backoff_max: float
    backoff_jitter: float
    healthy_reset: float
    circuit_failures: int
    circuit_window: float
    circuit_cooldown: float
    single_round: bool = False
    startup: float = 60.0  # time a new child may take to load its libraries

    @classmethod
    def from_settings(cls, settings: Settings, table: str, *, single_round: bool = False) -> Limits:
        policy = settings.policy(table)
        return cls(
            interval=policy.interval,
            budget=policy.budget,
            deadline=policy.deadline,
            backoff_initial=settings.backoff_initial_s,
            backoff_max=settings.backoff_max_s,
            backoff_jitter=settings.backoff_jitter,
            healthy_reset=settings.healthy_reset_s,
            circuit_failures=settings.circuit_failures,
            circuit_window=settings.circuit_window_s,
            circuit_cooldown=settings.circuit_cooldown_s,
            single_round=single_round,
            startup=settings.startup_deadline_s,
        )


def backoff_delay(failures: int, limits: Limits, *, rand: float) -> float:
    """Restart delay after ``failures`` consecutive failures (1 -> initial, doubling, capped).

    ``rand`` in [0, 1) spreads the delay by ±jitter so tables that fail together
    do not all come back in the same instant.
    """
    exponent = max(failures - 1, 0)
    # 2**exponent overflows float for absurd counts; the cap is reached long before.
    base = limits.backoff_max if exponent >= 64 else min(limits.backoff_initial * 2.0**exponent, limits.backoff_max)
    spread = limits.backoff_jitter * (2.0 * rand - 1.0)
    return max(base * (1.0 + spread), 0.0)


def start_times(tables: tuple[str, ...], now: float, *, batch_size: int, batch_delay: float) -> dict[str, float]:
    """When each table's first fetch is due: all at once, or in batches."""
    if batch_size <= 0:
        return {t: now for t in tables}
    return {t: now + (i // batch_size) * batch_delay for i, t in enumerate(tables)}


def budget_pct(duration: float, limits: Limits) -> float:
    return round(duration / limits.budget * 100.0, 1)
