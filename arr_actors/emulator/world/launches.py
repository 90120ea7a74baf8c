"""Executions started by ``Jobs.RunJob``: the scenario decides how each one goes."""

from __future__ import annotations

import random
from collections.abc import Iterable

from arr_actors.emulator import runnerlogs
from arr_actors.emulator.runnerlogs import FAILURES_BY_KEY, RunnerTimeline, Submission
from arr_actors.emulator.world.clock import ALIVE_EVERY_S, IDLE_LIMIT_S
from arr_actors.emulator.world.entities import DEFAULT_QUEUE, Execution, VertexJob
from arr_actors.emulator.world.maker import Maker, runner_env
from arr_actors.emulator.world.plans import JobPlan, uuid

SCENARIOS = ("default", "launch-ok", "launch-runner-fails", "launch-no-job")


class ScenarioError(ValueError):
    """An unknown scenario name."""


def check_scenario(name: str) -> str:
    if name not in SCENARIOS:
        raise ScenarioError(f"unknown scenario {name!r} (scenarios: {', '.join(SCENARIOS)})")
    return name


def launch(
    maker: Maker, rng: random.Random, *, region: str, env: Iterable[tuple[str, str]], scenario: str, now: float
) -> Execution:
    """A new execution created at ``now`` in ``region``, its container run with ``env``."""
    overrides = dict(env)
    queue = overrides.get("LAUNCH_QUEUE") or DEFAULT_QUEUE
    speed = maker.clock.speed
    name = maker.unique_name(rng)
    started = now + 1.0
    jobs: tuple[VertexJob, ...] = ()
    failure = ""
    if scenario == "launch-runner-fails":
        outcome, ended, failure = "FAILED", now + 8.0, "quota"
    elif scenario == "launch-no-job":
        outcome, ended = "FINISHED", started + IDLE_LIMIT_S / speed
    else:
        plan = JobPlan(0.0, 1.0, 5.0, max(60.0, rng.uniform(600, 3600) / speed), "SUCCEEDED", "")
        created = now + 4.8
        job = maker.job_from_times(
            rng, region=region, execution=name, queue=queue, created=created, pending_at=created + 1.2,
            started=created + 6.0, ended=created + 6.0 + plan.running_s, plan=plan,
        )  # fmt: skip
        jobs = (job,)
        outcome, ended = "FINISHED", created + 0.2 + IDLE_LIMIT_S / speed
    timeline = RunnerTimeline(
        started=started,
        ended=ended,
        outcome=outcome,
        submissions=tuple(Submission(j.created + 0.2, maker.job_resource(j)) for j in jobs),
        failure=FAILURES_BY_KEY.get(failure),
        cause_after=False,
        alive_every=ALIVE_EVERY_S / speed,
        idle_limit=IDLE_LIMIT_S / speed,
    )
    return Execution(
        name=name,
        region=region,
        queue=queue,
        uid=uuid(rng),
        created=now,
        started=started,
        ended=ended,
        outcome=outcome,
        failure=failure,
        lines=runnerlogs.runner_lines(timeline, maker.context(region, queue)),
        jobs=jobs,
        env=runner_env(queue, overrides),
        launched=True,
    )
