"""What the world holds: runner executions, Vertex AI jobs, W&B runs and builds, and their names.

An entity's state is derived from its real timestamps and ``now``; entities
never change once made.
"""

from __future__ import annotations

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
