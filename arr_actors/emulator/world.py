"""The emulated world: runner executions, Vertex AI jobs, W&B runs and builds over time.

Everything is a pure function of the seed, the start time and the clock:
each region has its own random stream of runner executions, planned in
*world time* and stored in real epoch seconds. The world already has six
hours of history at start; after the start, world time runs ``speed`` times
faster than real time, so with ``speed=10`` an execution that idles out after
30 world minutes is over after 3 real minutes. Timestamps handed to clients
are always real epoch seconds, consistent with the caller's clock.

An entity's state is derived from its timestamps and ``now``: an execution is
PENDING before it starts, RUNNING until it ends, then FINISHED, FAILED or
CANCELLED; Vertex AI jobs and W&B runs follow the submissions a runner made;
builds go QUEUED -> WORKING -> SUCCESS/FAILURE/... Future entities are
planned lazily, region by region, so what a region looks like never depends
on when or how often it was queried.
"""

from __future__ import annotations

import hashlib
import math
import random
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from arr_actors.emulator import runnerlogs
from arr_actors.emulator.runnerlogs import FAILURES, FAILURES_BY_KEY, LogContext, LogLine, RunnerTimeline, Submission

RUNNER_JOB = "vertex-ai-launcher"
DEFAULT_QUEUE = "vertex-ai-queue"
QUEUES = (DEFAULT_QUEUE, "vertex-ai-queue-a100")
WANDB_ENTITY = "demo-team"
WANDB_PROJECT = "arr-training"
WANDB_USER = "demo-user"
SCENARIOS = ("default", "launch-ok", "launch-runner-fails", "launch-no-job")

HISTORY_S = 6 * 3600.0
IDLE_LIMIT_S = 1800.0
ALIVE_EVERY_S = 300.0

_NAME_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"
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


class ScenarioError(ValueError):
    """An unknown scenario name."""


def check_scenario(name: str) -> str:
    if name not in SCENARIOS:
        raise ScenarioError(f"unknown scenario {name!r} (scenarios: {', '.join(SCENARIOS)})")
    return name


def project_number(project: str) -> str:
    """A stable 12-digit project number for a project id (real APIs answer with numbers)."""
    digest = hashlib.blake2b(project.encode(), digest_size=8).digest()
    return str(100_000_000_000 + int.from_bytes(digest, "big") % 900_000_000_000)


@dataclass(frozen=True, slots=True)
class Clock:
    """Maps world time to real time: history runs at real speed, the future ``speed`` times faster."""

    t0: float
    speed: float

    def to_real(self, world: float) -> float:
        return world if world <= self.t0 else self.t0 + (world - self.t0) / self.speed

    def to_world(self, real: float) -> float:
        return real if real <= self.t0 else self.t0 + (real - self.t0) * self.speed


# ------------------------------------------------------------------- entities


@dataclass(frozen=True, slots=True)
class WandbRun:
    run_id: str  # W&B "name" (the short id)
    display_name: str
    created: float
    ended: float
    final_state: str  # finished, failed, crashed, killed
    exitcode: int | None
    region: str
    job_id: str
    queue: str

    def state(self, now: float) -> str:
        return "running" if now < self.ended else self.final_state

    def runtime(self, now: float) -> float:
        return max(0.0, min(now, self.ended) - self.created)


@dataclass(frozen=True, slots=True)
class VertexJob:
    job_id: str
    region: str
    display_name: str
    created: float
    pending_at: float  # QUEUED until then
    started: float  # PENDING until then
    ended: float  # RUNNING until then
    outcome: str  # SUCCEEDED, FAILED, CANCELLED
    error_code: int
    error: str
    machine_type: str
    accelerator_type: str
    accelerator_count: int
    image: str
    execution: str
    run: WandbRun | None

    def state(self, now: float) -> str:
        if now < self.pending_at:
            return "QUEUED"
        if now < self.started:
            return "PENDING"
        if now < self.ended:
            return "RUNNING"
        return self.outcome


@dataclass(frozen=True, slots=True)
class Execution:
    name: str  # short name, e.g. vertex-ai-launcher-x7k2p
    region: str
    queue: str
    uid: str
    created: float
    started: float
    ended: float
    outcome: str  # FINISHED, FAILED, CANCELLED
    failure: str  # FailureClass key for FAILED
    lines: tuple[LogLine, ...]
    jobs: tuple[VertexJob, ...]
    env: tuple[tuple[str, str], ...]
    launched: bool = False  # created by RunJob

    def status(self, now: float) -> str:
        if now < self.started:
            return "PENDING"
        if now < self.ended:
            return "RUNNING"
        return self.outcome

    def visible_lines(self, now: float) -> Iterator[LogLine]:
        for line in self.lines:
            if line.at > now:
                break
            yield line


@dataclass(frozen=True, slots=True)
class Build:
    build_id: str
    location: str  # "global" or a region
    created: float
    started: float
    finished: float
    outcome: str  # SUCCESS, FAILURE, TIMEOUT, CANCELLED
    image: str  # repository path without tag
    tag: str
    digest: str
    failure_detail: str

    def status(self, now: float) -> str:
        if now < self.started:
            return "QUEUED"
        if now < self.finished:
            return "WORKING"
        return self.outcome


# ------------------------------------------------------------------- planning


@dataclass(frozen=True, slots=True)
class _JobPlan:
    at: float  # world offset from the execution's creation
    queued_s: float
    pending_s: float
    running_s: float
    outcome: str
    error_kind: str


@dataclass(frozen=True, slots=True)
class _RunnerPlan:
    start_s: float
    end_s: float
    outcome: str
    failure: str
    cause_after: bool
    jobs: tuple[_JobPlan, ...]


def _job_plan(rng: random.Random, at: float, *, min_running_s: float = 0.0, quick: bool = False) -> _JobPlan:
    if quick:  # a short successful job, over well before its runner idles out
        return _JobPlan(at, rng.uniform(3, 20), rng.uniform(60, 240), rng.uniform(600, 1200), "SUCCEEDED", "")
    outcome = rng.choices(("SUCCEEDED", "FAILED", "CANCELLED"), (0.7, 0.22, 0.08))[0]
    error_kind = ""
    running_s = max(min_running_s, rng.uniform(600, 5400))
    if outcome == "FAILED":
        error_kind = rng.choice(("exit", "exit", "oom", "resources"))
        if error_kind == "resources" and not min_running_s:
            running_s = 0.0  # never got machines: fails while PENDING
        elif error_kind == "resources":
            error_kind = "exit"
    return _JobPlan(at, rng.uniform(3, 20), rng.uniform(60, 240), running_s, outcome, error_kind)


def _plan_runner(
    rng: random.Random,
    *,
    outcome: str = "",
    failure: str = "",
    jobs: int = -1,
    min_running_s: float = 0.0,
    quick_jobs: bool = False,
) -> _RunnerPlan:
    """Offsets (world seconds from creation) of one execution's life."""
    start = rng.uniform(8, 25)
    outcome = outcome or rng.choices(("FINISHED", "FAILED", "CANCELLED"), (0.55, 0.4, 0.05))[0]
    cause_after = rng.random() < 0.5
    plans: list[_JobPlan] = []
    t = start
    if outcome == "FAILED":
        failure = failure or rng.choice(FAILURES).key
        for _ in range(jobs if jobs >= 0 else rng.choices((0, 1), (0.8, 0.2))[0]):
            t += rng.uniform(20, 300)
            plans.append(_job_plan(rng, t))
        end = t + rng.uniform(20, 180)
        return _RunnerPlan(start, end, outcome, failure, cause_after, tuple(plans))
    count = jobs if jobs >= 0 else rng.choices((0, 1, 2, 3, 4), (0.15, 0.35, 0.25, 0.15, 0.1))[0]
    for index in range(count):
        t += rng.uniform(20, 300) if index == 0 else rng.uniform(120, 900)
        plans.append(_job_plan(rng, t, min_running_s=min_running_s, quick=quick_jobs))
    if outcome == "CANCELLED":
        end = t + rng.uniform(300, 2400)
    else:
        end = t + IDLE_LIMIT_S
    return _RunnerPlan(start, end, outcome, "", cause_after, tuple(plans))


def _token(rng: random.Random, length: int) -> str:
    return "".join(rng.choice(_NAME_CHARS) for _ in range(length))


# ------------------------------------------------------------------- the world


@dataclass(slots=True)
class _RegionStream:
    index: int
    region: str
    rng: random.Random
    executions: list[Execution] = field(default_factory=list)  # oldest first
    next_created: float = 0.0  # world time of the next planned execution


class World:
    """The whole emulated world. Thread-safe: the servers query it from many threads."""

    def __init__(
        self,
        *,
        project: str,
        regions: Iterable[str],
        seed: int,
        speed: float = 1.0,
        t0: float,
    ) -> None:
        if not speed > 0 or not math.isfinite(speed):
            raise ValueError(f"speed must be a finite number greater than 0 (got {speed!r})")
        self.project = project
        self.project_number = project_number(project)
        self.regions = tuple(regions)
        if not self.regions:
            raise ValueError("the world needs at least one region")
        self.seed = seed
        self.clock = Clock(t0, speed)
        self._lock = threading.Lock()
        self._names: set[str] = set()
        self._launch_rng = self._rng("launches")
        self._launched: list[Execution] = []
        self._forced = self._pins()
        self._streams = [_RegionStream(i, r, self._rng(f"region:{r}")) for i, r in enumerate(self.regions)]
        for stream in self._streams:
            self._history(stream)
        self._build_rng = self._rng("builds")
        self._builds: list[Build] = []  # oldest first
        self._next_build = 0.0
        self._build_history()

    def _rng(self, stream: str) -> random.Random:
        return random.Random(f"{self.seed}:{self.project}:{stream}")

    # -- pins: what the world is guaranteed to show at start

    def _pins(self) -> dict[tuple[int, int], tuple[str, str]]:
        """(region index, k-th newest) -> (outcome, failure).

        The first region has a runner going; the newest executions of the
        others (then older ones) failed, each with another error; one more
        finished normally.
        """
        rng = self._rng("pins")
        n = len(self.regions)
        pins: dict[tuple[int, int], tuple[str, str]] = {(0, 0): ("RUNNING", "")}
        slots = [(i, k) for k in range(6) for i in range(n) if (i, k) != (0, 0)]
        for slot, failure in zip(slots[:4], rng.sample(FAILURES, 4), strict=True):
            pins[slot] = ("FAILED", failure.key)
        pins[slots[4]] = ("FINISHED", "")
        return pins

    # -- runner executions

    def _context(self, region: str, queue: str) -> LogContext:
        return LogContext(
            project=self.project,
            project_number=self.project_number,
            region=region,
            queue=queue,
            entity=WANDB_ENTITY,
            wandb_project=WANDB_PROJECT,
            image=f"us-docker.pkg.dev/{self.project}/arr/arr-trainer:latest",
        )

    def _unique_name(self, rng: random.Random) -> str:
        while True:
            name = f"{RUNNER_JOB}-{_token(rng, 5)}"
            if name not in self._names:
                self._names.add(name)
                return name

    def _history(self, stream: _RegionStream) -> None:
        """Six hours of executions before start, newest first, then placed oldest first."""
        t0 = self.clock.t0
        newest_end = t0 - stream.rng.uniform(60, 1500)
        planned: list[tuple[float, _RunnerPlan]] = []
        k = 0
        while not planned or planned[-1][0] >= t0 - HISTORY_S:
            outcome, failure = self._forced.get((stream.index, k), ("", ""))
            if outcome == "RUNNING" or (not outcome and k == 0 and stream.rng.random() < 0.3):
                # A runner going at start: pinned ones have jobs running, others are as they come.
                pinned = outcome == "RUNNING"
                plan = _plan_runner(stream.rng, outcome="FINISHED", jobs=2 if pinned else -1, min_running_s=2400 if pinned else 0)
                created = t0 - stream.rng.uniform(900, 1500) if pinned else t0 - stream.rng.uniform(60, 1200)
            else:
                if outcome == "FAILED":
                    plan = _plan_runner(stream.rng, outcome="FAILED", failure=failure, jobs=0)
                elif outcome == "FINISHED":
                    plan = _plan_runner(stream.rng, outcome="FINISHED", jobs=1, quick_jobs=True)
                else:
                    plan = _plan_runner(stream.rng)
                created = newest_end - plan.end_s
            planned.append((created, plan))
            newest_end = created - stream.rng.uniform(600, 5400)
            k += 1
        for created, plan in reversed(planned):
            stream.executions.append(self._materialize(stream.rng, region=stream.region, created_w=created, plan=plan))
        stream.next_created = t0 + stream.rng.uniform(60, 1800)

    def _extend(self, stream: _RegionStream, now: float) -> None:
        horizon = self.clock.to_world(now)
        while stream.next_created <= horizon:
            plan = _plan_runner(stream.rng)
            stream.executions.append(self._materialize(stream.rng, region=stream.region, created_w=stream.next_created, plan=plan))
            stream.next_created += stream.rng.uniform(600, 5400)

    def _materialize(self, rng: random.Random, *, region: str, created_w: float, plan: _RunnerPlan) -> Execution:
        """Turn a plan in world time into an execution with real timestamps and its log."""
        real = self.clock.to_real
        queue = rng.choices(QUEUES, (0.85, 0.15))[0]
        name = self._unique_name(rng)
        uid = _uuid(rng)
        ctx = self._context(region, queue)
        jobs = tuple(
            self._job(rng, region=region, execution=name, queue=queue, at_w=created_w + jp.at, plan=jp) for jp in plan.jobs
        )
        started = real(created_w + plan.start_s)
        ended = real(created_w + plan.end_s)
        timeline = RunnerTimeline(
            started=started,
            ended=ended,
            outcome=plan.outcome,
            submissions=tuple(Submission(j.created + 0.2, self._job_resource(j)) for j in jobs),
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
            env=_runner_env(queue),
        )

    def _job_resource(self, job: VertexJob) -> str:
        return f"projects/{self.project_number}/locations/{job.region}/customJobs/{job.job_id}"

    def _job(self, rng: random.Random, *, region: str, execution: str, queue: str, at_w: float, plan: _JobPlan) -> VertexJob:
        real = self.clock.to_real
        created = real(at_w)
        pending_at = real(at_w + plan.queued_s)
        started = real(at_w + plan.queued_s + plan.pending_s)
        ended = real(at_w + plan.queued_s + plan.pending_s + plan.running_s)
        return self._job_from_times(
            rng, region=region, execution=execution, queue=queue, created=created,
            pending_at=pending_at, started=started, ended=ended, plan=plan,
        )  # fmt: skip

    def _job_from_times(
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
        plan: _JobPlan,
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
            run = WandbRun(
                run_id=_token(rng, 8),
                display_name=display,
                created=run_created,
                ended=max(run_created + 1.0, ended - rng.uniform(2, 20)),
                final_state=final,
                exitcode=exitcode,
                region=region,
                job_id=job_id,
                queue=queue,
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
            image=f"us-docker.pkg.dev/{self.project}/arr/arr-trainer:{_token(rng, 7)}",
            execution=execution,
            run=run,
        )

    # -- launches (Jobs.RunJob)

    def launch(self, *, region: str, env: Iterable[tuple[str, str]], scenario: str, now: float) -> Execution:
        """A new execution started by RunJob; the scenario decides how it goes."""
        check_scenario(scenario)
        overrides = dict(env)
        queue = overrides.get("LAUNCH_QUEUE") or DEFAULT_QUEUE
        speed = self.clock.speed
        with self._lock:
            rng = self._launch_rng
            name = self._unique_name(rng)
            started = now + 1.0
            jobs: tuple[VertexJob, ...] = ()
            failure = ""
            if scenario == "launch-runner-fails":
                outcome, ended, failure = "FAILED", now + 8.0, "quota"
            elif scenario == "launch-no-job":
                outcome, ended = "FINISHED", started + IDLE_LIMIT_S / speed
            else:
                plan = _JobPlan(0.0, 1.0, 5.0, max(60.0, rng.uniform(600, 3600) / speed), "SUCCEEDED", "")
                created = now + 4.8
                job = self._job_from_times(
                    rng, region=region, execution=name, queue=queue, created=created, pending_at=created + 1.2,
                    started=created + 6.0, ended=created + 6.0 + plan.running_s, plan=plan,
                )  # fmt: skip
                jobs = (job,)
                outcome, ended = "FINISHED", created + 0.2 + IDLE_LIMIT_S / speed
            timeline = RunnerTimeline(
                started=started,
                ended=ended,
                outcome=outcome,
                submissions=tuple(Submission(j.created + 0.2, self._job_resource(j)) for j in jobs),
                failure=FAILURES_BY_KEY.get(failure),
                cause_after=False,
                alive_every=ALIVE_EVERY_S / speed,
                idle_limit=IDLE_LIMIT_S / speed,
            )
            execution = Execution(
                name=name,
                region=region,
                queue=queue,
                uid=_uuid(rng),
                created=now,
                started=started,
                ended=ended,
                outcome=outcome,
                failure=failure,
                lines=runnerlogs.runner_lines(timeline, self._context(region, queue)),
                jobs=jobs,
                env=_merge_env(_runner_env(queue), overrides),
                launched=True,
            )
            self._launched.append(execution)
            return execution

    # -- queries (everything created at or before ``now``)

    def executions(self, region: str, now: float) -> list[Execution]:
        """A region's executions, newest first."""
        with self._lock:
            found: list[Execution] = []
            for stream in self._streams:
                if stream.region == region:
                    self._extend(stream, now)
                    found = [e for e in stream.executions if e.created <= now]
            found += [e for e in self._launched if e.region == region and e.created <= now]
        return sorted(found, key=lambda e: (e.created, e.name), reverse=True)

    def all_executions(self, now: float) -> list[Execution]:
        with self._lock:
            found: list[Execution] = []
            for stream in self._streams:
                self._extend(stream, now)
                found += [e for e in stream.executions if e.created <= now]
            found += [e for e in self._launched if e.created <= now]
        return found

    def vertex_jobs(self, region: str | None, now: float) -> list[VertexJob]:
        """Custom jobs (of one region, or all), newest first."""
        jobs = [
            j
            for e in self.all_executions(now)
            for j in e.jobs
            if j.created <= now and (region is None or j.region == region)
        ]
        return sorted(jobs, key=lambda j: (j.created, j.job_id), reverse=True)

    def wandb_runs(self, now: float) -> list[WandbRun]:
        runs = [j.run for j in self.vertex_jobs(None, now) if j.run is not None and j.run.created <= now]
        return sorted(runs, key=lambda r: (r.created, r.run_id), reverse=True)

    # -- builds

    def _build_history(self) -> None:
        rng = self._build_rng
        t0 = self.clock.t0
        # The newest build is working at start, one before it failed.
        planned = [self._plan_build(rng, t0 - rng.uniform(60, 120), outcome="SUCCESS", working_at=t0)]
        newest = planned[0].created - rng.uniform(300, 1800)
        k = 0
        while newest > t0 - HISTORY_S:
            build = self._plan_build(rng, newest, outcome="FAILURE" if k == 1 else "")
            planned.append(build)
            newest = build.created - rng.uniform(900, 3600)
            k += 1
        self._builds = list(reversed(planned))
        self._next_build = t0 + rng.uniform(30, 600)

    def _plan_build(self, rng: random.Random, created_w: float, *, outcome: str = "", working_at: float = 0.0) -> Build:
        real = self.clock.to_real
        queued_s = rng.uniform(3, 40)
        working_s = rng.uniform(240, 900)
        if working_at:
            queued_s = min(queued_s, (working_at - created_w) / 2)
        outcome = outcome or rng.choices(("SUCCESS", "FAILURE", "TIMEOUT", "CANCELLED"), (0.8, 0.14, 0.02, 0.04))[0]
        image = rng.choice(("arr-trainer", "arr-trainer", "arr-vertex-launcher"))
        location = "global" if rng.random() < 0.75 else self.regions[0]
        detail = ""
        if outcome == "FAILURE":
            detail = 'Build step failure: build step 0 "gcr.io/cloud-builders/docker" failed: step exited with non-zero status: 1'
        elif outcome == "TIMEOUT":
            detail = "Build timed out after 3600s"
        return Build(
            build_id=_uuid(rng),
            location=location,
            created=real(created_w),
            started=real(created_w + queued_s),
            finished=real(created_w + queued_s + working_s),
            outcome=outcome,
            image=f"us-docker.pkg.dev/{self.project}/arr/{image}",
            tag=_token(rng, 7),
            digest="sha256:" + "".join(rng.choice("0123456789abcdef") for _ in range(64)),
            failure_detail=detail,
        )

    def builds(self, location: str | None, now: float) -> list[Build]:
        """Builds of one location ("global" or a region; None = all), newest first."""
        with self._lock:
            horizon = self.clock.to_world(now)
            while self._next_build <= horizon:
                self._builds.append(self._plan_build(self._build_rng, self._next_build))
                self._next_build += self._build_rng.uniform(600, 2400)
            found = [b for b in self._builds if b.created <= now and (location is None or b.location == location)]
        return sorted(found, key=lambda b: (b.created, b.build_id), reverse=True)


def _uuid(rng: random.Random) -> str:
    h = "".join(rng.choice("0123456789abcdef") for _ in range(32))
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


def _runner_env(queue: str) -> tuple[tuple[str, str], ...]:
    return (("LAUNCH_QUEUE", queue), ("WANDB_ENTITY", WANDB_ENTITY), ("IDLE_TIMEOUT_S", str(int(IDLE_LIMIT_S))))


def _merge_env(base: tuple[tuple[str, str], ...], overrides: dict[str, str]) -> tuple[tuple[str, str], ...]:
    merged = dict(base)
    merged.update(overrides)
    return tuple(merged.items())


def _job_error(plan: _JobPlan, *, job_id: str, region: str, number: str) -> tuple[int, str]:
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
