"""Turns plans in world time into entities: real timestamps, unique names, ids and runner logs."""

from __future__ import annotations

import random
from collections.abc import Mapping

from arr_actors.emulator import runnerlogs
from arr_actors.emulator.runnerlogs import FAILURES_BY_KEY, LogContext, RunnerTimeline, Submission
from arr_actors.emulator.world.clock import ALIVE_EVERY_S, IDLE_LIMIT_S, Clock
from arr_actors.emulator.world.entities import (
    QUEUES,
    RUNNER_JOB,
    WANDB_ENTITY,
    WANDB_PROJECT,
    Build,
    Execution,
    VertexJob,
    WandbRun,
    project_number,
)
from arr_actors.emulator.world.plans import JobPlan, RunnerPlan, token, uuid

_ADJECTIVES = (
    "dulcet", "brisk", "amber", "quiet", "lucky", "misty", "royal", "solar", "vivid", "wild",
    "gentle", "frosty", "golden", "hidden", "silver", "swift", "eager", "bright", "fancy", "noble",
)  # fmt: skip
_NOUNS = (
    "sunset", "river", "forest", "meadow", "comet", "breeze", "canyon", "harbor", "glacier", "lagoon",
    "summit", "valley", "ember", "orbit", "pine", "tide", "dawn", "field", "grove", "spark",
)  # fmt: skip
_MACHINES = (
    ("g2-standard-8", "NVIDIA_L4", 1),
    ("g2-standard-24", "NVIDIA_L4", 2),
    ("a2-highgpu-1g", "NVIDIA_TESLA_A100", 1),
    ("n1-standard-8", "NVIDIA_TESLA_T4", 1),
)


class Maker:
    """Makes the entities of one project; execution names are unique across everything it made."""

    def __init__(self, *, project: str, clock: Clock, build_region: str) -> None:
        self.project = project
        self.project_number = project_number(project)
        self.clock = clock
        self.build_region = build_region  # the one region besides "global" that has builds
        self._names: set[str] = set()

    def context(self, region: str, queue: str) -> LogContext:
        return LogContext(
            project=self.project,
            project_number=self.project_number,
            region=region,
            queue=queue,
            entity=WANDB_ENTITY,
            wandb_project=WANDB_PROJECT,
            image=f"us-docker.pkg.dev/{self.project}/arr/arr-trainer:latest",
        )

    def unique_name(self, rng: random.Random) -> str:
        while True:
            name = f"{RUNNER_JOB}-{token(rng, 5)}"
            if name not in self._names:
                self._names.add(name)
                return name

    def job_resource(self, job: VertexJob) -> str:
        return f"projects/{self.project_number}/locations/{job.region}/customJobs/{job.job_id}"

    def execution(self, rng: random.Random, *, region: str, created_w: float, plan: RunnerPlan) -> Execution:
        """Turn a plan in world time into an execution with real timestamps and its log."""
        real = self.clock.to_real
        queue = rng.choices(QUEUES, (0.85, 0.15))[0]
        name = self.unique_name(rng)
        uid = uuid(rng)
        ctx = self.context(region, queue)
        jobs = tuple(
            self.job(rng, region=region, execution=name, queue=queue, at_w=created_w + jp.at, plan=jp) for jp in plan.jobs
        )
        started = real(created_w + plan.start_s)
        ended = real(created_w + plan.end_s)
        timeline = RunnerTimeline(
            started=started,
            ended=ended,
            outcome=plan.outcome,
            submissions=tuple(Submission(j.created + 0.2, self.job_resource(j)) for j in jobs),
            failure=FAILURES_BY_KEY.get(plan.failure),
            cause_after=plan.cause_after,
            alive_every=ALIVE_EVERY_S if started <= self.clock.t0 else ALIVE_EVERY_S / self.clock.speed,
            idle_limit=IDLE_LIMIT_S if ended <= self.clock.t0 else IDLE_LIMIT_S / self.clock.speed,
        )
        return Execution(
            name=name,
            region=region,
            queue=queue,
            uid=uid,
            created=real(created_w),
            started=started,
            ended=ended,
            outcome=plan.outcome,
            failure=plan.failure,
            lines=runnerlogs.runner_lines(timeline, ctx),
            jobs=jobs,
            env=runner_env(queue),
        )

    def job(self, rng: random.Random, *, region: str, execution: str, queue: str, at_w: float, plan: JobPlan) -> VertexJob:
        real = self.clock.to_real
        created = real(at_w)
        pending_at = real(at_w + plan.queued_s)
        started = real(at_w + plan.queued_s + plan.pending_s)
        ended = real(at_w + plan.queued_s + plan.pending_s + plan.running_s)
        return self.job_from_times(
            rng, region=region, execution=execution, queue=queue, created=created,
            pending_at=pending_at, started=started, ended=ended, plan=plan,
        )  # fmt: skip

    def job_from_times(
        self,
        rng: random.Random,
        *,
        region: str,
        execution: str,
        queue: str,
        created: float,
        pending_at: float,
        started: float,
        ended: float,
        plan: JobPlan,
    ) -> VertexJob:
        job_id = str(rng.randrange(10**18, 9 * 10**18))
        display = f"{rng.choice(_ADJECTIVES)}-{rng.choice(_NOUNS)}-{rng.randint(1, 999)}"
        machine, accelerator, count = rng.choice(_MACHINES)
        code, error = _job_error(plan, job_id=job_id, region=region, number=self.project_number)
        run: WandbRun | None = None
        if plan.running_s > 0:
            run_created = started + min(rng.uniform(20, 60), (ended - started) / 2)
            final, exitcode = {
                "SUCCEEDED": ("finished", 0),
                "FAILED": rng.choice((("failed", 1), ("crashed", None))),
                "CANCELLED": ("killed", None),
            }[plan.outcome]
            run_id = token(rng, 8)
            # Derived from the id, not drawn: the rest of the world stays what its seed made it.
            mark = int.from_bytes(run_id.encode()[-2:], "big")
            if final == "crashed" and mark % 2 == 0:
                final = "preempted"  # its machine was taken back (a spot VM)
            run_ended = max(run_created + 1.0, ended - rng.uniform(2, 20))
            run = WandbRun(
                run_id=run_id,
                display_name=display,
                created=run_created,
                ended=run_ended,
                final_state=final,
                exitcode=exitcode,
                region=region,
                job_id=job_id,
                queue=queue,
                pending_until=min(run_created + 60.0, (run_created + run_ended) / 2) if mark % 3 == 0 else 0.0,
            )
        return VertexJob(
            job_id=job_id,
            region=region,
            display_name=display,
            created=created,
            pending_at=pending_at,
            started=started,
            ended=ended,
            outcome=plan.outcome,
            error_code=code,
            error=error,
            machine_type=machine,
            accelerator_type=accelerator,
            accelerator_count=count,
            image=f"us-docker.pkg.dev/{self.project}/arr/arr-trainer:{token(rng, 7)}",
            execution=execution,
            run=run,
        )

    def build(self, rng: random.Random, created_w: float, *, outcome: str = "", working_at: float = 0.0) -> Build:
        real = self.clock.to_real
        queued_s = rng.uniform(3, 40)
        working_s = rng.uniform(240, 900)
        if working_at:
            queued_s = min(queued_s, (working_at - created_w) / 2)
        outcome = outcome or rng.choices(("SUCCESS", "FAILURE", "TIMEOUT", "CANCELLED"), (0.8, 0.14, 0.02, 0.04))[0]
        image = rng.choice(("arr-trainer", "arr-trainer", "arr-vertex-launcher"))
        location = "global" if rng.random() < 0.75 else self.build_region
        detail = ""
        if outcome == "FAILURE":
            detail = 'Build step failure: build step 0 "gcr.io/cloud-builders/docker" failed: step exited with non-zero status: 1'
        elif outcome == "TIMEOUT":
            detail = "Build timed out after 3600s"
        return Build(
            build_id=uuid(rng),
            location=location,
            created=real(created_w),
            started=real(created_w + queued_s),
            finished=real(created_w + queued_s + working_s),
            outcome=outcome,
            image=f"us-docker.pkg.dev/{self.project}/arr/{image}",
            tag=token(rng, 7),
            digest="sha256:" + "".join(rng.choice("0123456789abcdef") for _ in range(64)),
            failure_detail=detail,
        )


def runner_env(queue: str, overrides: Mapping[str, str] | None = None) -> tuple[tuple[str, str], ...]:
    """The runner container's environment; RunJob's overrides replace or add variables."""
    merged = {"LAUNCH_QUEUE": queue, "WANDB_ENTITY": WANDB_ENTITY, "IDLE_TIMEOUT_S": str(int(IDLE_LIMIT_S))}
    merged.update(overrides or {})
    return tuple(merged.items())


def _job_error(plan: JobPlan, *, job_id: str, region: str, number: str) -> tuple[int, str]:
    if plan.outcome == "CANCELLED":
        return 1, "CANCELED"
    if plan.outcome != "FAILED":
        return 0, ""
    if plan.error_kind == "resources":
        return 8, (
            f"Resources are insufficient in region: {region}. Please try a different region. "
            "If you use K80, please consider using P100 or V100 instead."
        )
    if plan.error_kind == "oom":
        return 3, "The replica workerpool0-0 ran out of memory and exited with a non-zero status of 137(SIGKILL)."
    return 3, (
        "The replica workerpool0-0 exited with a non-zero status of 1. To find out more about why your job exited "
        f"please check the logs: https://console.cloud.google.com/logs/viewer?project={number}"
        f"&resource=ml_job%2Fjob_id%2F{job_id}&advancedFilter=resource.type%3D%22ml_job%22%0A"
        f"resource.labels.job_id%3D%22{job_id}%22"
    )
