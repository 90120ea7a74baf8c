"""What a random stream decides: a runner's life and its jobs as offsets in world seconds.

Plans hold no real timestamps and no names; ``maker`` turns them into
entities. Every draw happens in a fixed order, so one seed gives one world.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from arr_actors.emulator.runnerlogs import FAILURES
from arr_actors.emulator.world.clock import IDLE_LIMIT_S

_NAME_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"


@dataclass(frozen=True, slots=True)
class JobPlan:
    at: float  # world offset from the execution's creation
    queued_s: float
    pending_s: float
    running_s: float
    outcome: str
    error_kind: str


@dataclass(frozen=True, slots=True)
class RunnerPlan:
    start_s: float
    end_s: float
    outcome: str
    failure: str
    cause_after: bool
    jobs: tuple[JobPlan, ...]


def job_plan(rng: random.Random, at: float, *, min_running_s: float = 0.0, quick: bool = False) -> JobPlan:
    if quick:  # a short successful job, over well before its runner idles out
        return JobPlan(at, rng.uniform(3, 20), rng.uniform(60, 240), rng.uniform(600, 1200), "SUCCEEDED", "")
    outcome = rng.choices(("SUCCEEDED", "FAILED", "CANCELLED"), (0.7, 0.22, 0.08))[0]
    error_kind = ""
    running_s = max(min_running_s, rng.uniform(600, 5400))
    if outcome == "FAILED":
        error_kind = rng.choice(("exit", "exit", "oom", "resources"))
        if error_kind == "resources" and not min_running_s:
            running_s = 0.0  # never got machines: fails while PENDING
        elif error_kind == "resources":
            error_kind = "exit"
    return JobPlan(at, rng.uniform(3, 20), rng.uniform(60, 240), running_s, outcome, error_kind)


def plan_runner(
    rng: random.Random,
    *,
    outcome: str = "",
    failure: str = "",
    jobs: int = -1,
    min_running_s: float = 0.0,
    quick_jobs: bool = False,
) -> RunnerPlan:
    """Offsets (world seconds from creation) of one execution's life."""
    start = rng.uniform(8, 25)
    outcome = outcome or rng.choices(("FINISHED", "FAILED", "CANCELLED"), (0.55, 0.4, 0.05))[0]
    cause_after = rng.random() < 0.5
    plans: list[JobPlan] = []
    t = start
    if outcome == "FAILED":
        failure = failure or rng.choice(FAILURES).key
        for _ in range(jobs if jobs >= 0 else rng.choices((0, 1), (0.8, 0.2))[0]):
            t += rng.uniform(20, 300)
            plans.append(job_plan(rng, t))
        end = t + rng.uniform(20, 180)
        return RunnerPlan(start, end, outcome, failure, cause_after, tuple(plans))
    count = jobs if jobs >= 0 else rng.choices((0, 1, 2, 3, 4), (0.15, 0.35, 0.25, 0.15, 0.1))[0]
    for index in range(count):
        t += rng.uniform(20, 300) if index == 0 else rng.uniform(120, 900)
        plans.append(job_plan(rng, t, min_running_s=min_running_s, quick=quick_jobs))
    if outcome == "CANCELLED":
        end = t + rng.uniform(300, 2400)
    else:
        end = t + IDLE_LIMIT_S
    return RunnerPlan(start, end, outcome, "", cause_after, tuple(plans))


def pins(rng: random.Random, regions: int) -> dict[tuple[int, int], tuple[str, str]]:
    """(region index, k-th newest) -> (outcome, failure): what the world is guaranteed to show at start.

    The first region has a runner going; the newest executions of the
    others (then older ones) failed, each with another error; one more
    finished normally.
    """
    pinned: dict[tuple[int, int], tuple[str, str]] = {(0, 0): ("RUNNING", "")}
    slots = [(i, k) for k in range(6) for i in range(regions) if (i, k) != (0, 0)]
    for slot, failure in zip(slots[:4], rng.sample(FAILURES, 4), strict=True):
        pinned[slot] = ("FAILED", failure.key)
    pinned[slots[4]] = ("FINISHED", "")
    return pinned


def token(rng: random.Random, length: int) -> str:
    return "".join(rng.choice(_NAME_CHARS) for _ in range(length))


def uuid(rng: random.Random) -> str:
    h = "".join(rng.choice("0123456789abcdef") for _ in range(32))
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"
