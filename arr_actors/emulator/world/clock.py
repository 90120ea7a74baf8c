"""World time: history at real speed, the future ``speed`` times faster, and the spans that matter."""

from __future__ import annotations

from dataclasses import dataclass

#: How much history the world has at start.
HISTORY_S = 6 * 3600.0
#: A runner with nothing to do stops after this long (world seconds), as the wrapper does.
IDLE_LIMIT_S = 1800.0
#: The wrapper's "Runner alive" line comes this often (world seconds).
ALIVE_EVERY_S = 300.0


@dataclass(frozen=True, slots=True)
class Clock:
    """Maps world time to real time: history runs at real speed, the future ``speed`` times faster."""

    t0: float
    speed: float

    def to_real(self, world: float) -> float:
        return world if world <= self.t0 else self.t0 + (world - self.t0) / self.speed

    def to_world(self, real: float) -> float:
        return real if real <= self.t0 else self.t0 + (real - self.t0) * self.speed
