"""What ``launch`` has seen so far, and what to do next: a pure state machine.

The driver feeds observations in (the execution's status, the Vertex AI jobs
listed, the job ids the runner's own log says it created, failed calls), one
round per poll, and asks :func:`decide` what follows: wait a little longer, or
stop with one of the outcomes.

Which job is this launch's? Any job created in the region after the launch
may be another runner's (a second launch, a runner started by a schedule).
The exact link is the agent's ``CustomJob created. Resource name: ...`` line
in this execution's log, so a job is reported once that line names it. When
the log cannot say (it cannot be read, or it has not named any job within
``confirm_s`` of the job appearing, Cloud Logging lagging behind), the oldest
new job is reported as unconfirmed rather than waiting for the timeout.

Nothing here does I/O or reads a clock; ``now`` is whatever monotonic clock
the caller uses, epoch times come from the cloud (or the caller's wall clock).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from arr_actors.sources.errors import SERVICES

#: Vertex AI states that mean the training job was submitted and is on its way.
#: SUCCEEDED counts too: a job that already finished was still submitted by this launch.
SUBMITTED_STATES = frozenset({"JOB_STATE_QUEUED", "JOB_STATE_PENDING", "JOB_STATE_RUNNING", "JOB_STATE_SUCCEEDED"})
#: Execution states after which the runner will never submit anything.
EXECUTION_FAILED = frozenset({"FAILED", "CANCELLED"})
#: The runner ended on its own (idle timeout, or done).
EXECUTION_FINISHED = "FINISHED"

#: The services a launch calls, named as errors.SERVICES names them to the user.
VERTEX = SERVICES["aiplatform"].title
CLOUD_RUN = SERVICES["run"].title
CLOUD_LOGGING = SERVICES["logging"].title


@dataclass(frozen=True, slots=True)
class Job:
    """A Vertex AI custom job as listed (text fields already made inert)."""

    id: str
    display_name: str
    state: str  # JOB_STATE_...
    created_at: float  # epoch seconds
    error: str = ""


@dataclass(frozen=True, slots=True)
class ExecutionStatus:
    """The state of this launch's execution as last polled (the execution is known by name
    from RunJob), with Cloud Run's own word on a failure."""

    state: str  # PENDING | RUNNING | FINISHED | FAILED | CANCELLED (as the runner table says)
    message: str = ""  # the condition message Cloud Run gives (e.g. why a task failed)


@dataclass(frozen=True, slots=True)
class Fault:
    """Calls to one service that failed with one code."""

    service: str
    code: str  # gRPC status name (UNAVAILABLE, DEADLINE_EXCEEDED...) or an exception type
    count: int
    last_at: float  # epoch seconds of the newest failure
    message: str  # what the newest failure said, user-actionable where possible


@dataclass(frozen=True, slots=True)
class Watch:
    deadline: float  # on the caller's monotonic clock
    poll_s: float
    since: float  # epoch: jobs created at or after this belong to this launch
    round: int = 0
    round_started: float = 0.0
    execution: ExecutionStatus | None = None
    ended_round: int | None = None  # first round in which the execution was seen FINISHED
    jobs: tuple[Job, ...] = ()  # jobs of this launch in the newest successful listing
    jobs_round: int = 0  # round of the newest successful listing (0 = none yet)
    faults: tuple[Fault, ...] = ()
    failing: tuple[str, ...] = ()  # services whose newest call failed
    confirm_s: float = 20.0  # how long a new job waits for the runner's log to name it
    candidate_at: float | None = None  # when a new job on its way was first listed (monotonic)
    log_ids: tuple[str, ...] | None = None  # job ids the runner's log names (None: not read yet)
    log_refused: str = ""  # why the log cannot be read at all ("" while it can, or may)


# ------------------------------------------------------------------ decisions


@dataclass(frozen=True, slots=True)
class Wait:
    seconds: float


@dataclass(frozen=True, slots=True)
class Submitted:
    job: Job
    confirmed: bool = True  # the runner's log names this job (else: the oldest new job, unconfirmed)


@dataclass(frozen=True, slots=True)
class RunnerFailed:
    execution: ExecutionStatus


@dataclass(frozen=True, slots=True)
class RunnerEnded:
    """The execution finished, and a listing made after that shows no job of this launch."""

    execution: ExecutionStatus


@dataclass(frozen=True, slots=True)
class TimedOut:
    pass


Decision = Wait | Submitted | RunnerFailed | RunnerEnded | TimedOut


# --------------------------------------------------------------- transitions


#: How often the log is read again while a new job waits for it to name it.
CONFIRM_POLL_S = 2.0


def start(*, now: float, since: float, timeout_s: float, poll_s: float, confirm_s: float = 20.0) -> Watch:
    return Watch(deadline=now + timeout_s, poll_s=poll_s, since=since, round_started=now, confirm_s=confirm_s)


def begin_round(watch: Watch, now: float) -> Watch:
    return replace(watch, round=watch.round + 1, round_started=now)


def saw_execution(watch: Watch, execution: ExecutionStatus) -> Watch:
    ended = watch.ended_round
    if execution.state == EXECUTION_FINISHED and ended is None:
        ended = watch.round
    return replace(watch, execution=execution, ended_round=ended, failing=_without(watch.failing, CLOUD_RUN))


def saw_jobs(watch: Watch, jobs: tuple[Job, ...]) -> Watch:
    """A successful listing; only jobs created since the launch are kept, oldest first."""
    new = tuple(sorted((j for j in jobs if j.created_at >= watch.since), key=lambda j: (j.created_at, j.id)))
    candidate_at = watch.candidate_at
    if candidate_at is None and _on_their_way(new):
        candidate_at = watch.round_started
    return replace(
        watch, jobs=new, jobs_round=watch.round, failing=_without(watch.failing, VERTEX), candidate_at=candidate_at
    )


def saw_log(watch: Watch, job_ids: tuple[str, ...]) -> Watch:
    """The runner's log was read: these are the jobs it says it created."""
    return replace(watch, log_ids=tuple(job_ids), failing=_without(watch.failing, CLOUD_LOGGING))


def log_refused(watch: Watch, reason: str) -> Watch:
    """The runner's log cannot be read (a missing role, a disabled API): stop trying."""
    return replace(watch, log_refused=reason)


def needs_log(watch: Watch) -> bool:
    """Whether the runner's log should be read this round: a new job waits for it to name it."""
    if watch.log_refused:
        return False
    candidates = _on_their_way(watch.jobs)
    return bool(candidates) and not any(j.id in (watch.log_ids or ()) for j in candidates)


def _on_their_way(jobs: tuple[Job, ...]) -> list[Job]:
    """The jobs that were submitted and are on their way (oldest first, as listed)."""
    return [j for j in jobs if j.state in SUBMITTED_STATES]


def call_failed(watch: Watch, *, service: str, code: str, message: str, at: float) -> Watch:
    faults = list(watch.faults)
    for i, fault in enumerate(faults):
        if fault.service == service and fault.code == code:
            faults[i] = Fault(service, code, fault.count + 1, at, message)
            break
    else:
        faults.append(Fault(service, code, 1, at, message))
    failing = watch.failing if service in watch.failing else (*watch.failing, service)
    return replace(watch, faults=tuple(faults), failing=failing)


def _without(services: tuple[str, ...], service: str) -> tuple[str, ...]:
    return tuple(s for s in services if s != service)


def decide(watch: Watch, now: float) -> Decision:
    """What follows the newest round. A submitted job of this launch wins over
    everything else: it is what the user launched for, even if the runner died
    right after."""
    job = submitted_job(watch)
    if job is not None:
        return Submitted(job, confirmed=True)
    execution = watch.execution
    if execution is not None and execution.state in EXECUTION_FAILED and not watch.log_refused:
        # Its log names no job on its way: whatever else appeared is not this runner's.
        return RunnerFailed(execution)
    unconfirmed = unconfirmed_job(watch, now)
    if unconfirmed is not None:
        return Submitted(unconfirmed, confirmed=False)
    if execution is not None and execution.state in EXECUTION_FAILED:
        return RunnerFailed(execution)
    if (
        execution is not None
        and watch.ended_round is not None
        and watch.jobs_round >= watch.ended_round
        and not _confirming(watch, now)
    ):
        # The execution is polled before Vertex AI in every round, so this listing
        # was made after the runner had finished: no job can appear any more.
        return RunnerEnded(execution)
    if now >= watch.deadline:
        return TimedOut()
    poll = min(watch.poll_s, CONFIRM_POLL_S) if needs_log(watch) else watch.poll_s
    return Wait(max(0.0, min(watch.round_started + poll, watch.deadline) - now))


def submitted_job(watch: Watch) -> Job | None:
    """The new job on its way that the runner's log names as its own."""
    return next((j for j in _on_their_way(watch.jobs) if j.id in (watch.log_ids or ())), None)


def _confirming(watch: Watch, now: float) -> bool:
    """A new job waits for the runner's log, which has named nothing yet, and may still."""
    return (
        needs_log(watch)
        and not watch.log_ids
        and watch.candidate_at is not None
        and now - watch.candidate_at < watch.confirm_s
    )


def unconfirmed_job(watch: Watch, now: float) -> Job | None:
    """The oldest new job on its way, when the runner's log cannot tell whose it is.

    That is when the log cannot be read at all, or when it has named no job
    at all by the time ``confirm_s`` passed since the job appeared (or the
    launch's deadline came). A log that names other jobs says these ones are
    not ours.
    """
    candidates = _on_their_way(watch.jobs)
    if not candidates:
        return None
    if not watch.log_refused:
        if watch.log_ids:
            return None  # the log names this launch's jobs, and these are not among them
        waited = watch.candidate_at is not None and now - watch.candidate_at >= watch.confirm_s
        if not (waited or now >= watch.deadline):
            return None
    return candidates[0]


def other_jobs(watch: Watch) -> tuple[Job, ...]:
    """Jobs of this launch that are not on their way (failed, cancelled...): those
    the runner's log names, or every new one while the log names none."""
    mine = [j for j in watch.jobs if j.id in watch.log_ids] if watch.log_ids else watch.jobs
    return tuple(j for j in mine if j.state not in SUBMITTED_STATES)


def awaiting(watch: Watch, *, region: str) -> str:
    """What the launch is waiting for, in the user's words."""
    execution = watch.execution
    if execution is None:
        return "waiting for the execution's first status"
    if execution.state == "PENDING":
        return "waiting for the runner to start"
    if needs_log(watch):
        return "a new training job appeared; checking the runner's log says it is this launch's"
    if execution.state == "RUNNING":
        return f"waiting for the agent to submit a training job to Vertex AI ({region})"
    if execution.state == EXECUTION_FINISHED:
        return "the runner finished; looking at Vertex AI once more"
    return "the runner has stopped"
