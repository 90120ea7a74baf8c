"""The World: every stream under one lock, and the queries the services answer from."""

from __future__ import annotations

import dataclasses
import math
import random
import threading
from collections.abc import Iterable

from arr_actors.emulator.world import launches
from arr_actors.emulator.world.clock import Clock
from arr_actors.emulator.world.entities import (
    Build,
    Execution,
    VertexJob,
    WandbRun,
    cancelled_build,
    cancelled_execution,
    cancelled_job,
)
from arr_actors.emulator.world.history import BuildStream, RegionStream
from arr_actors.emulator.world.maker import Maker
from arr_actors.emulator.world.plans import pins


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
        self.regions = tuple(regions)
        if not self.regions:
            raise ValueError("the world needs at least one region")
        self.seed = seed
        self.clock = Clock(t0, speed)
        self._maker = Maker(project=project, clock=self.clock, build_region=self.regions[0])
        self.project_number = self._maker.project_number
        self._lock = threading.Lock()
        # The streams are drawn in this order; changing it changes every world.
        self._launch_rng = self._rng("launches")
        self._launched: list[Execution] = []
        pinned = pins(self._rng("pins"), len(self.regions))
        self._streams = [RegionStream(i, r, self._rng(f"region:{r}")) for i, r in enumerate(self.regions)]
        for stream in self._streams:
            stream.plan_history(self._maker, pinned)
        self._job_images: dict[str, str] = {}
        self._builds = BuildStream(self._rng("builds"))
        self._builds.plan_history(self._maker)
        # (kind, id) -> when it was cancelled: "execution" region/name, "job" job id, "build" build id
        self._cancels: dict[tuple[str, str], float] = {}

    def cancel(self, kind: str, key: str, now: float) -> None:
        """Cancel an execution (``region/name``), a Vertex AI job or a build from ``now`` on
        (the first request counts; the caller checks it was still running)."""
        with self._lock:
            self._cancels.setdefault((kind, key), now)

    def _as_cancelled_build(self, b: Build) -> Build:
        at = self._cancels.get(("build", b.build_id))
        return cancelled_build(b, at) if at is not None and at < b.finished else b

    def _as_cancelled_execution(self, e: Execution) -> Execution:
        at = self._cancels.get(("execution", f"{e.region}/{e.name}"))
        if at is not None and at < e.ended:
            e = cancelled_execution(e, at)
        if any(("job", j.job_id) in self._cancels for j in e.jobs):
            jobs = []
            for j in e.jobs:
                at = self._cancels.get(("job", j.job_id))
                jobs.append(cancelled_job(j, at) if at is not None and at < j.ended else j)
            e = dataclasses.replace(e, jobs=tuple(jobs))
        return e

    def _rng(self, stream: str) -> random.Random:
        return random.Random(f"{self.seed}:{self.project}:{stream}")

    def launch(self, *, region: str, env: Iterable[tuple[str, str]], scenario: str, now: float) -> Execution:
        """A new execution started by RunJob; the scenario decides how it goes."""
        launches.check_scenario(scenario)
        with self._lock:
            execution = launches.launch(self._maker, self._launch_rng, region=region, env=env, scenario=scenario, now=now)
            self._launched.append(execution)
            return execution

    # Queries: everything created at or before ``now``.

    def executions(self, region: str, now: float) -> list[Execution]:
        """A region's executions, newest first."""
        with self._lock:
            found: list[Execution] = []
            for stream in self._streams:
                if stream.region == region:
                    stream.extend(self._maker, now)
                    found = [e for e in stream.executions if e.created <= now]
            found += [e for e in self._launched if e.region == region and e.created <= now]
            if self._cancels:
                found = [self._as_cancelled_execution(e) for e in found]
        return sorted(found, key=lambda e: (e.created, e.name), reverse=True)

    def all_executions(self, now: float) -> list[Execution]:
        with self._lock:
            found: list[Execution] = []
            for stream in self._streams:
                stream.extend(self._maker, now)
                found += [e for e in stream.executions if e.created <= now]
            found += [e for e in self._launched if e.created <= now]
            if self._cancels:
                found = [self._as_cancelled_execution(e) for e in found]
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

    def job_image(self, job: VertexJob) -> str:
        """The image a job runs: the newest arr-trainer build that succeeded before
        the job was created, so the chain build -> job holds; a job older than
        every such build keeps an image no build in view made."""
        cached = self._job_images.get(job.job_id)
        if cached is None:
            made = [
                b
                for b in self.builds(None, job.created)
                if b.outcome == "SUCCESS" and b.finished <= job.created and b.image.endswith("/arr-trainer")
            ]
            cached = f"{made[0].image}:{made[0].tag}" if made else job.image
            self._job_images[job.job_id] = cached
        return cached

    def builds(self, location: str | None, now: float) -> list[Build]:
        """Builds of one location ("global" or a region; None = all), newest first."""
        with self._lock:
            self._builds.extend(self._maker, now)
            found = [b for b in self._builds.builds if b.created <= now and (location is None or b.location == location)]
            if self._cancels:
                found = [self._as_cancelled_build(b) for b in found]
        return sorted(found, key=lambda b: (b.created, b.build_id), reverse=True)
