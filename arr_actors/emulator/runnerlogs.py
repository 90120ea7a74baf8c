"""What a runner execution writes to Cloud Logging: the wrapper's and the W&B agent's lines.

The wrapper's own lines come from ``arr_actors.diagnostics.formats`` (the one
definition the real wrapper is tested against). The agent's lines and the
failures are data: ``FAILURES`` lists every error class the diagnostics know,
each with the agent's one-line error (``headline``, the line the wrapper's
fatal check fires on) and the lines that carry the detailed cause (``detail``,
e.g. a traceback ending in the exception line). A failure log always ends in
the wrapper's bailout: ``FATAL ERROR DETECTED: <line>``, the agent output
around it, ``Killing agent`` and the final stats; the detailed cause is
printed either before the bailout or after it (late stderr).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from arr_actors.diagnostics import formats

#: Cloud Run puts a job's stdout and stderr in these logs (URL-encoded log ids).
STDOUT_LOG = "run.googleapis.com%2Fstdout"
STDERR_LOG = "run.googleapis.com%2Fstderr"
SYSTEM_LOG = "run.googleapis.com%2Fvarlog%2Fsystem"


@dataclass(frozen=True, slots=True)
class LogLine:
    at: float  # epoch seconds
    text: str
    log: str  # STDOUT_LOG, STDERR_LOG or SYSTEM_LOG
    severity: str  # Cloud Logging severity name


@dataclass(frozen=True, slots=True)
class FailureClass:
    """One way a runner dies. Templates use the fields of ``LogContext``."""

    key: str
    category: str  # the diagnostics category these lines must be recognised as
    headline: str  # the agent's error line; the wrapper bails out on it
    detail: tuple[str, ...] = ()  # the detailed cause (traceback, kubelet events, ...)


_TRACE_GRPC = (
    "Traceback (most recent call last):",
    '  File "/usr/local/lib/python3.11/site-packages/google/api_core/grpc_helpers.py", line 76, in error_remapped_callable',
    "    return callable_(*args, **kwargs)",
    "grpc._channel._InactiveRpcError: <_InactiveRpcError of RPC that terminated with:",
    "The above exception was the direct cause of the following exception:",
    "Traceback (most recent call last):",
    '  File "/usr/local/lib/python3.11/site-packages/wandb/sdk/launch/runner/vertex_runner.py", line 214, in launch_vertex_job',
    "    job.submit()",
)
_ERROR_RUNNING = "wandb: ERROR launch: Error running job: "

QUOTA_L4 = (
    "google.api_core.exceptions.ResourceExhausted: 429 Quota exceeded for quota metric "
    "'custom_model_training_nvidia_l4_gpus' and limit 'custom_model_training_nvidia_l4_gpus_per_region' "
    "of service 'aiplatform.googleapis.com' for consumer 'project_number:{project_number}' in region {region}."
)

#: Every error class the diagnostics know, as a runner would print it.
FAILURES: tuple[FailureClass, ...] = (
    FailureClass("quota", "quota", _ERROR_RUNNING + QUOTA_L4, (*_TRACE_GRPC, QUOTA_L4)),
    FailureClass(
        "quota_metrics",
        "quota",
        _ERROR_RUNNING
        + "google.api_core.exceptions.ResourceExhausted: 429 The following quota metrics exceed quota limits: "
        "aiplatform.googleapis.com/custom_model_training_nvidia_a100_gpus in region {region}",
    ),
    FailureClass(
        "machine_type",
        "machine_type",
        _ERROR_RUNNING + 'google.api_core.exceptions.InvalidArgument: 400 Machine type "a3-highgpu-1g" is not supported.',
        (*_TRACE_GRPC, 'google.api_core.exceptions.InvalidArgument: 400 Machine type "a3-highgpu-1g" is not supported.'),
    ),
    FailureClass(
        "accelerator",
        "machine_type",
        _ERROR_RUNNING + "GPU 'NVIDIA_L4' is not supported for machine type 'n1-standard-4'",
    ),
    FailureClass(
        "invalid_argument",
        "invalid_argument",
        _ERROR_RUNNING
        + "google.api_core.exceptions.InvalidArgument: 400 Invalid value for field "
        "'worker_pool_specs[0].replica_count': 0. Must be positive.",
    ),
    FailureClass(
        "permission_denied",
        "permission_denied",
        _ERROR_RUNNING
        + "google.api_core.exceptions.PermissionDenied: 403 Permission 'aiplatform.customJobs.create' denied on "
        "resource '//aiplatform.googleapis.com/projects/{project}/locations/{region}' (or it may not exist).",
        (
            *_TRACE_GRPC,
            "google.api_core.exceptions.PermissionDenied: 403 Permission 'aiplatform.customJobs.create' denied on "
            "resource '//aiplatform.googleapis.com/projects/{project}/locations/{region}' (or it may not exist).",
        ),
    ),
    FailureClass(
        "not_found",
        "not_found",
        _ERROR_RUNNING + "google.api_core.exceptions.NotFound: 404 Bucket gs://{project}-staging does not exist.",
    ),
    FailureClass(
        "image_pull",
        "image_pull",
        _ERROR_RUNNING + 'Back-off pulling image "{image}": ImagePullBackOff',
        (
            'Failed to pull image "{image}": rpc error: code = NotFound desc = manifest unknown',
            "Error: ErrImagePull",
        ),
    ),
    FailureClass(
        "service_unavailable",
        "service_error",
        _ERROR_RUNNING + "google.api_core.exceptions.ServiceUnavailable: 503 The service is currently unavailable.",
        (*_TRACE_GRPC, "google.api_core.exceptions.ServiceUnavailable: 503 The service is currently unavailable."),
    ),
    FailureClass(
        "internal_error",
        "service_error",
        _ERROR_RUNNING + "google.api_core.exceptions.InternalServerError: 500 Internal error encountered.",
    ),
    FailureClass(
        "http_429",
        "http_error",
        _ERROR_RUNNING
        + 'googleapiclient.errors.HttpError: <HttpError 429 when requesting '
        'https://storage.googleapis.com/storage/v1/b/{project}-staging/o?alt=json returned "Too Many Requests">',
    ),
    FailureClass(
        "python_exception",
        "python_exception",
        "wandb: ERROR launch: Error running job: KeyError: 'entry_point'",
        (
            "Traceback (most recent call last):",
            '  File "/usr/local/lib/python3.11/site-packages/wandb/sdk/launch/agent/agent.py", line 512, in thread_run_job',
            "    self._thread_run_job(launch_spec, job, default_config, api)",
            '  File "/usr/local/lib/python3.11/site-packages/wandb/sdk/launch/_project_spec.py", line 211, in from_spec',
            '    entry_point = spec["entry_point"]',
            "KeyError: 'entry_point'",
        ),
    ),
    FailureClass(
        "timeout",
        "timeout",
        _ERROR_RUNNING + "google.api_core.exceptions.DeadlineExceeded: 504 Deadline Exceeded",
    ),
    FailureClass("wandb_error", "wandb_error", "wandb: ERROR Unable to find queue {queue} in entity {entity}"),
    FailureClass(
        "zone_stockout",
        "capacity",
        _ERROR_RUNNING
        + "google.api_core.exceptions.ServiceUnavailable: 503 ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS: The zone "
        "'projects/{project}/zones/{region}-a' does not have enough resources available to fulfill the request.",
    ),
    FailureClass(
        "out_of_memory",
        "memory",
        _ERROR_RUNNING + "The replica workerpool0-0 ran out-of-memory and exited with a non-zero status of 9(SIGKILL).",
    ),
    FailureClass(
        "exec_format",
        "image_start",
        _ERROR_RUNNING + "terminated: Application failed to start: failed to load /app/entrypoint.sh: exec format error",
    ),
    FailureClass(
        "consumer_invalid",
        "invalid_project",
        _ERROR_RUNNING
        + "google.api_core.exceptions.PermissionDenied: 403 CONSUMER_INVALID: Permission denied on resource project "
        "My Project.",
    ),
    FailureClass(
        "pip_requirement",
        "build_dependency",
        _ERROR_RUNNING + "ERROR: No matching distribution found for torch==2.9.9",
    ),
    FailureClass(
        "docker_build",
        "build_failed",
        _ERROR_RUNNING + "The command '/bin/sh -c pip install -r requirements.txt' returned a non-zero code: 1",
    ),
    FailureClass(
        "replica_exit",
        "container_exit",
        "Task vertex-ai-launcher-x7k2p-task0 failed with message: The container exited with a non-zero status of 1.",
    ),
    FailureClass(
        "wandb_500",
        "wandb_service_error",
        "wandb: ERROR Error while calling W&B API: An internal error occurred. Please contact support. (<Response [500]>)",
    ),
    FailureClass(
        "wandb_400",
        "wandb_api_error",
        "wandb: ERROR Error while calling W&B API: Agent user not valid (<Response [400]>)",
    ),
)

FAILURES_BY_KEY: Mapping[str, FailureClass] = {f.key: f for f in FAILURES}


@dataclass(frozen=True, slots=True)
class LogContext:
    """The names a runner's lines mention."""

    project: str
    project_number: str
    region: str
    queue: str
    entity: str
    wandb_project: str
    image: str

    def fill(self, template: str) -> str:
        return template.format(
            project=self.project,
            project_number=self.project_number,
            region=self.region,
            queue=self.queue,
            entity=self.entity,
            wandb_project=self.wandb_project,
            image=self.image,
        )


@dataclass(frozen=True, slots=True)
class Submission:
    at: float  # when the wrapper counted it
    resource: str  # projects/NUMBER/locations/REGION/customJobs/ID


@dataclass(frozen=True, slots=True)
class RunnerTimeline:
    """When things happen in one execution (epoch seconds)."""

    started: float
    ended: float
    outcome: str  # FINISHED (idle timeout), FAILED, CANCELLED
    submissions: tuple[Submission, ...] = ()
    failure: FailureClass | None = None  # FAILED only
    cause_after: bool = False  # print the detailed cause after the bailout
    alive_every: float = 300.0  # seconds between "Runner alive" lines
    #: seconds between the agent's status lines (wandb.sdk.launch.agent.agent.DEFAULT_PRINT_INTERVAL;
    #: the wrapper does not run the agent verbose, which would print every 20 s)
    agent_status_every: float = 300.0
    idle_limit: float = 1800.0  # what the idle timeout line names


class _Lines:
    def __init__(self) -> None:
        self.items: list[LogLine] = []

    def out(self, at: float, text: str) -> None:
        self.items.append(LogLine(at, text, STDOUT_LOG, "INFO"))

    def err(self, at: float, text: str) -> None:
        self.items.append(LogLine(at, text, STDERR_LOG, "ERROR"))

    def system(self, at: float, text: str) -> None:
        self.items.append(LogLine(at, text, SYSTEM_LOG, "WARNING"))


def _clock(at: float) -> str:
    return time.strftime("%H:%M:%S", time.gmtime(at))


def runner_lines(timeline: RunnerTimeline, ctx: LogContext) -> tuple[LogLine, ...]:
    """Every line the execution writes, in time order (later ones appear as time passes)."""
    lines = _Lines()
    start = timeline.started
    lines.out(start + 0.1, formats.STARTUP_RUNS.format(runs=0))
    lines.out(start + 0.2, formats.AGENT_STARTING.format(queue=ctx.queue, entity=ctx.entity))
    lines.out(start + 0.3, formats.MONITORING)
    lines.err(start + 2.0, f"wandb: Currently logged in as: demo-user ({ctx.entity}) to https://api.wandb.ai.")
    lines.err(start + 2.5, formats.AGENT_POLLING.format(queue=ctx.queue, running=0, max_jobs=1))

    submissions = [s for s in timeline.submissions if s.at < timeline.ended]
    for runs, sub in enumerate(submissions, start=1):
        _submission(lines, sub, runs=runs, ctx=ctx)

    end = timeline.ended
    last_activity = start
    tick = start + timeline.alive_every
    while tick < end - 1.0:
        done = [s for s in submissions if s.at <= tick]
        last_activity = done[-1].at if done else start
        lifetime, idle = int(tick - start), int(tick - last_activity)
        lines.out(tick, formats.RUNNER_ALIVE.format(clock=_clock(tick), lifetime=lifetime, idle=idle, runs=len(done)))
        tick += timeline.alive_every
    # The agent's own status line, on its own clock (it started a few seconds after the wrapper). Its
    # running count stays 0: the timeline does not say when the submitted jobs end (a simplification).
    tick = start + 2.5 + timeline.agent_status_every
    while tick < end - 1.0:
        lines.err(tick, formats.AGENT_POLLING.format(queue=ctx.queue, running=0, max_jobs=1))
        tick += timeline.agent_status_every
    last_activity = submissions[-1].at if submissions else start
    runs = len(submissions)
    stats = formats.final_stats(runs=runs, lifetime_s=int(end - start), idle_s=int(end - last_activity))

    if timeline.outcome == "FAILED":
        failure = timeline.failure or FAILURES_BY_KEY["quota"]
        _bailout(lines, failure, at=end - 2.0, cause_after=timeline.cause_after, ctx=ctx)
        for offset, text in enumerate(stats):
            lines.out(end - 0.5 + offset * 0.01, text)
        lines.system(end, "Container called exit(1).")
    elif timeline.outcome == "CANCELLED":
        lines.out(end - 1.0, formats.SIGNAL_RECEIVED.format(signal="SIGTERM"))
        for offset, text in enumerate(stats):
            lines.out(end - 0.5 + offset * 0.01, text)
    else:
        idle = int(end - last_activity)
        lines.out(end - 1.0, formats.IDLE_TIMEOUT.format(idle=idle, limit=int(timeline.idle_limit)))
        for offset, text in enumerate(stats):
            lines.out(end - 0.5 + offset * 0.01, text)
    return tuple(sorted(lines.items, key=lambda line: line.at))


def _submission(lines: _Lines, sub: Submission, *, runs: int, ctx: LogContext) -> None:
    job_id = sub.resource.rsplit("/", 1)[-1]
    lines.err(sub.at - 1.5, formats.AGENT_LAUNCHING.format(entity=ctx.entity, project=ctx.wandb_project))
    lines.err(sub.at - 1.0, "INFO:google.cloud.aiplatform.jobs:Creating CustomJob")
    lines.err(sub.at - 0.2, "INFO:google.cloud.aiplatform.jobs:" + formats.AGENT_JOB_CREATED.format(resource=sub.resource))
    lines.err(
        sub.at - 0.1,
        "INFO:google.cloud.aiplatform.jobs:View Custom Job: "
        f"https://console.cloud.google.com/ai/platform/locations/{ctx.region}/training/{job_id}?project={ctx.project_number}",
    )
    lines.out(sub.at, formats.JOB_SUBMITTED.format(runs=runs))


def _bailout(lines: _Lines, failure: FailureClass, *, at: float, cause_after: bool, ctx: LogContext) -> None:
    headline = ctx.fill(failure.headline)
    detail = [ctx.fill(t) for t in failure.detail]
    launching = formats.AGENT_LAUNCHING.format(entity=ctx.entity, project=ctx.wandb_project)
    lines.err(at - 2.0, launching)
    seen = [launching]
    if not cause_after:
        for index, text in enumerate(detail):
            lines.err(at - 1.5 + index * 0.01, text)
        seen += detail
    lines.err(at - 0.5, headline)
    seen.append(headline)
    lines.out(at, formats.FATAL_DETECTED.format(line=headline))
    lines.out(at + 0.01, formats.CONTEXT_BEGIN)
    for index, text in enumerate(seen[-12:]):
        lines.out(at + 0.02 + index * 0.001, formats.CONTEXT_LINE.format(line=text))
    lines.out(at + 0.05, formats.CONTEXT_END)
    lines.out(at + 0.1, formats.KILLING_AGENT)
    if cause_after:
        # The agent's stderr arrives after the wrapper already reacted to the headline.
        for index, text in enumerate(detail):
            lines.err(at + 0.3 + index * 0.01, text)


def fatal_line(failure: FailureClass, ctx: LogContext) -> str:
    """The ``FATAL ERROR DETECTED: ...`` line a failure of this class prints."""
    return formats.FATAL_DETECTED.format(line=ctx.fill(failure.headline))
