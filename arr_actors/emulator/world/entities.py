"""What the world holds: runner executions, Vertex AI jobs, W&B runs and builds, and their names.

An entity's state is derived from its real timestamps and ``now``; entities
never change once made (a cancelled one is replaced by its cancelled copy:
``cancelled``).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from arr_actors.emulator.runnerlogs import LogLine

RUNNER_JOB = "vertex-ai-launcher"
DEFAULT_QUEUE = "vertex-ai-queue"
QUEUES = (DEFAULT_QUEUE, "vertex-ai-queue-a100")
WANDB_ENTITY = "demo-team"
WANDB_PROJECT = "arr-training"
WANDB_USER = "demo-user"


def project_number(project: str) -> str:
    """A stable 12-digit project number for a project id (real APIs answer with numbers)."""
    digest = hashlib.blake2b(project.encode(), digest_size=8).digest()
    return str(100_000_000_000 + int.from_bytes(digest, "big") % 900_000_000_000)


#: How long a preempted run shows "preempting" before it is over.
PREEMPTING_S = 30.0


@dataclass(frozen=True, slots=True)
class WandbRun:
    run_id: str  # W&B "name" (the short id)
    display_name: str
    created: float
    ended: float
    final_state: str  # finished, failed, crashed, killed, preempted
    exitcode: int | None
    region: str
    job_id: str
    queue: str
    pending_until: float = 0.0  # W&B shows the run "pending" until then (queued for its machine)

    def state(self, now: float) -> str:
        # The wandb SDK's run states (wandb.sdk.sweeps.run_state.RunState): pending and
        # preempting are alive, preempted is over.
        if now < self.pending_until:
            return "pending"
        if now < self.ended:
            return "preempting" if self.final_state == "preempted" and now >= self.ended - PREEMPTING_S else "running"
        return self.final_state

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
    # CancelCustomJob was called at this time: CANCELLING until ``ended``.
    cancel_requested: float = float("inf")

    def state(self, now: float) -> str:
        if self.cancel_requested <= now < self.ended:
            return "CANCELLING"
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


#: How long a cancelled execution, job or build takes to stop (world seconds).
CANCEL_DELAY_S = 5.0


def is_over(status: str) -> bool:
    """Whether a state is final (nothing left to cancel)."""
    return status not in ("QUEUED", "PENDING", "RUNNING", "WORKING", "CANCELLING")


def cancelled_execution(e: Execution, at: float) -> Execution:
    """``e`` as it goes when cancelled at ``at``: its task stops a little later."""
    end = min(e.ended, at + CANCEL_DELAY_S)
    jobs = tuple(cancelled_job(j, at) if not is_over(j.state(at)) else j for j in e.jobs)
    return dataclasses.replace(e, started=min(e.started, end), ended=end, outcome="CANCELLED", failure="", jobs=jobs)


def cancelled_job(j: VertexJob, at: float) -> VertexJob:
    end = min(j.ended, at + CANCEL_DELAY_S)
    return dataclasses.replace(
        j,
        pending_at=min(j.pending_at, end),
        started=min(j.started, end),
        ended=end,
        outcome="CANCELLED",
        error_code=1,
        error="CANCELED",
        cancel_requested=at,
    )


def cancelled_build(b: Build, at: float) -> Build:
    end = min(b.finished, at + CANCEL_DELAY_S)
    return dataclasses.replace(b, started=min(b.started, end), finished=end, outcome="CANCELLED", failure_detail="")
