"""The world's past and its lazily planned future: one random stream per region, one for builds.

Each stream plans six hours of history at start and, when asked about a
later moment, plans forward up to it; what a stream holds therefore never
depends on when or how often it was queried.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from arr_actors.emulator.world.clock import HISTORY_S
from arr_actors.emulator.world.entities import Build, Execution
from arr_actors.emulator.world.maker import Maker
from arr_actors.emulator.world.plans import RunnerPlan, plan_runner


@dataclass(slots=True)
class RegionStream:
    """A region's runner executions, oldest first, and when the next one is due (world time)."""

    index: int
    region: str
    rng: random.Random
    executions: list[Execution] = field(default_factory=list)
    next_created: float = 0.0

    def plan_history(self, maker: Maker, pins: dict[tuple[int, int], tuple[str, str]]) -> None:
        """Six hours of executions before start, newest first, then placed oldest first."""
        rng = self.rng
        t0 = maker.clock.t0
        newest_end = t0 - rng.uniform(60, 1500)
        planned: list[tuple[float, RunnerPlan]] = []
        k = 0
        while not planned or planned[-1][0] >= t0 - HISTORY_S:
            outcome, failure = pins.get((self.index, k), ("", ""))
            if outcome == "RUNNING" or (not outcome and k == 0 and rng.random() < 0.3):
                # A runner going at start: pinned ones have jobs running, others are as they come.
                pinned = outcome == "RUNNING"
                plan = plan_runner(rng, outcome="FINISHED", jobs=2 if pinned else -1, min_running_s=2400 if pinned else 0)
                created = t0 - rng.uniform(900, 1500) if pinned else t0 - rng.uniform(60, 1200)
            else:
                if outcome == "FAILED":
                    plan = plan_runner(rng, outcome="FAILED", failure=failure, jobs=0)
                elif outcome == "FINISHED":
                    plan = plan_runner(rng, outcome="FINISHED", jobs=1, quick_jobs=True)
                else:
                    plan = plan_runner(rng)
                created = newest_end - plan.end_s
            planned.append((created, plan))
            newest_end = created - rng.uniform(600, 5400)
            k += 1
        for created, plan in reversed(planned):
            self.executions.append(maker.execution(rng, region=self.region, created_w=created, plan=plan))
        self.next_created = t0 + rng.uniform(60, 1800)

    def extend(self, maker: Maker, now: float) -> None:
        """Plan every execution created up to ``now`` (real time)."""
        horizon = maker.clock.to_world(now)
        while self.next_created <= horizon:
            plan = plan_runner(self.rng)
            self.executions.append(maker.execution(self.rng, region=self.region, created_w=self.next_created, plan=plan))
            self.next_created += self.rng.uniform(600, 5400)


@dataclass(slots=True)
class BuildStream:
    """The project's builds, oldest first, and when the next one is due (world time)."""

    rng: random.Random
    builds: list[Build] = field(default_factory=list)
    next_created: float = 0.0

    def plan_history(self, maker: Maker) -> None:
        rng = self.rng
        t0 = maker.clock.t0
        # The newest build is working at start, one before it failed.
        planned = [maker.build(rng, t0 - rng.uniform(60, 120), outcome="SUCCESS", working_at=t0)]
        newest = planned[0].created - rng.uniform(300, 1800)
        k = 0
        while newest > t0 - HISTORY_S:
            build = maker.build(rng, newest, outcome="FAILURE" if k == 1 else "")
            planned.append(build)
            newest = build.created - rng.uniform(900, 3600)
            k += 1
        self.builds = list(reversed(planned))
        self.next_created = t0 + rng.uniform(30, 600)

    def extend(self, maker: Maker, now: float) -> None:
        """Plan every build created up to ``now`` (real time)."""
        horizon = maker.clock.to_world(now)
        while self.next_created <= horizon:
            self.builds.append(maker.build(self.rng, self.next_created))
            self.next_created += self.rng.uniform(600, 2400)
