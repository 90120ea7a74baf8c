"""How a launch ended, for people (text) and programs (one JSON document).

:func:`build` turns the final :class:`~arr_actors.launch.watch.Watch` and the
reason it stopped into a :class:`Result`; :func:`to_text` and :func:`to_json`
render it. All pure: the caller passes the clocks.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from arr_actors.inert import dumps
from arr_actors.launch.watch import (
    Fault,
    Job,
    RunnerEnded,
    RunnerFailed,
    Submitted,
    TimedOut,
    Watch,
    other_jobs,
)

if TYPE_CHECKING:
    from arr_actors.diagnostics.extract import Diagnosis

SCHEMA = 1
WATCH_COMMAND = "python -m arr_actors"

EXIT_SUBMITTED = 0
EXIT_FAILED = 1
EXIT_NO_JOB = 3
EXIT_INTERRUPTED = 130

#: outcome -> exit status
OUTCOMES = {
    "job_submitted": EXIT_SUBMITTED,
    "runner_failed": EXIT_FAILED,
    "launch_failed": EXIT_FAILED,
    "runner_finished": EXIT_NO_JOB,
    "timeout": EXIT_NO_JOB,
    "interrupted": EXIT_INTERRUPTED,
}


@dataclass(frozen=True, slots=True)
class Target:
    """Where the launch happened."""

    project: str
    region: str
    queue: str
    runner_job: str
    execution: str = ""  # short execution name, "" until RunJob answered

    def diagnose_command(self) -> str:
        return f"python -m arr_actors diagnose --execution {self.execution} --region {self.region}"

    def cancel_command(self) -> str:
        return f"gcloud run jobs executions cancel {self.execution} --region {self.region}"


@dataclass(frozen=True, slots=True)
class JobReport:
    id: str
    display_name: str
    state: str
    age_s: float
    confirmed: bool = True  # the runner's log names it; else it is the oldest job created after the launch


@dataclass(frozen=True, slots=True)
class Result:
    outcome: str  # a key of OUTCOMES
    headline: str  # one line saying what happened
    target: Target
    elapsed_s: float
    job: JobReport | None = None
    diagnosis: Diagnosis | None = None
    execution_state: str = ""  # as last seen, "" if never
    hints: tuple[str, ...] = ()
    faults: tuple[Fault, ...] = ()

    @property
    def exit_code(self) -> int:
        return OUTCOMES[self.outcome]


# -------------------------------------------------------------------- build


def build(
    decision: Submitted | RunnerFailed | RunnerEnded | TimedOut,
    watch: Watch,
    *,
    target: Target,
    elapsed_s: float,
    wall_now: float,
    timeout_s: float,
    diagnosis: Diagnosis | None = None,
    log_problem: str = "",
) -> Result:
    """The result of a launch that got as far as watching."""
    state = watch.execution.state if watch.execution else ""
    common: dict[str, Any] = {
        "target": target,
        "elapsed_s": elapsed_s,
        "execution_state": state,
        "faults": watch.faults,
        "diagnosis": diagnosis,
    }
    if isinstance(decision, Submitted):
        job = decision.job
        job_report = JobReport(
            job.id, job.display_name, job.state, max(0.0, wall_now - job.created_at), confirmed=decision.confirmed
        )
        hints = [
            f"watch it: {WATCH_COMMAND}",
            f"details: gcloud ai custom-jobs describe {job.id} --region {target.region}",
        ]
        if not decision.confirmed:
            why = (
                f"its log could not be read ({watch.log_refused})"
                if watch.log_refused
                else "its log did not name a job in time"
            )
            hints.insert(
                0,
                f"not confirmed: this is the first job created in {target.region} after the launch, but the "
                f"runner's log did not say it created it ({why}); check with {target.diagnose_command()}",
            )
        return Result(
            "job_submitted",
            f"Training job submitted: {job.id} ({job.display_name or 'no display name'}) is "
            f"{short_state(job.state)} in {target.region}" + ("" if decision.confirmed else " (unconfirmed)"),
            job=job_report,
            hints=tuple(hints),
            **common,
        )
    if isinstance(decision, RunnerFailed):
        summary = _failure_summary(decision, diagnosis, log_problem)
        hints = [f"full log: {target.diagnose_command()}"]
        if log_problem:
            hints.append(f"the log could not be read: {log_problem}")
        hints += [job_note(job) for job in other_jobs(watch)]
        verb = "was cancelled" if decision.execution.state == "CANCELLED" else "failed"
        return Result(
            "runner_failed",
            f"The runner {verb}: {summary}",
            hints=tuple(hints),
            **common,
        )
    if isinstance(decision, RunnerEnded):
        summary = diagnosis.summary if diagnosis is not None and diagnosis.summary else "no summary in its log"
        return Result(
            "runner_finished",
            f"The runner finished without submitting a training job ({summary})",
            hints=(
                f"the queue {target.queue!r} was probably empty: add a job to it in W&B, then launch again",
                *(job_note(job) for job in other_jobs(watch)),
                f"the runner's log: {target.diagnose_command()}",
                f"look around: {WATCH_COMMAND}",
            ),
            **common,
        )
    return Result(
        "timeout",
        f"No training job in Vertex AI ({target.region}) after {timeout_s:g} s"
        + (f"; execution {target.execution} is {state}" if state else ""),
        hints=timeout_hints(watch, target=target),
        **common,
    )


def _failure_summary(decision: RunnerFailed, diagnosis: Diagnosis | None, log_problem: str) -> str:
    if diagnosis is not None and diagnosis.outcome == "failed" and diagnosis.summary:
        return diagnosis.summary
    if decision.execution.message:
        return decision.execution.message
    if diagnosis is not None and diagnosis.summary:
        return diagnosis.summary
    return "no error found in its log" if not log_problem else "its log could not be read"


def job_note(job: Job) -> str:
    """One line on a Vertex AI job: id, name, state, and its error if it has one."""
    note = f"Vertex AI job {job.id} ({job.display_name or 'no display name'}) is {short_state(job.state)}"
    return note + (f": {job.error}" if job.error else "")


def timeout_hints(watch: Watch, *, target: Target) -> tuple[str, ...]:
    """What may be wrong, most likely first, then how to look and how to stop the runner."""
    execution = watch.execution
    hints: list[str] = []
    # A service still failing at the end is the likeliest reason nothing was seen.
    for fault in watch.faults:
        if fault.service in watch.failing:
            hints.append(
                f"{describe_fault(fault)}: retried until the timeout, so a job may exist that could not be seen"
            )
    if execution is None or execution.state == "PENDING":
        hints.append(
            "the runner is still starting: Cloud Run has not started the execution's container yet "
            "(this can take a minute or two; cold image pulls take longer)"
        )
    hints.append(
        f"the agent has not picked up the job yet: the runner polls the queue {target.queue!r} "
        "and submits to Vertex AI only after it has taken a job"
    )
    hints.append(f"the queue {target.queue!r} may be empty: check it in W&B (Launch > queues) and add a job")
    hints += [job_note(job) for job in other_jobs(watch)]
    hints += [f"{describe_fault(f)} (it answered again later)" for f in watch.faults if f.service not in watch.failing]
    hints.append(f"look at the runner, Vertex AI and W&B: {WATCH_COMMAND}")
    if target.execution:
        hints.append(f"the runner's log so far: {target.diagnose_command()}")
        hints.append(f"the execution keeps running; to stop it: {target.cancel_command()}")
    return tuple(hints)


def launch_failed(*, target: Target, message: str, code: str, elapsed_s: float) -> Result:
    hints = [
        f"check the job exists: gcloud run jobs describe {target.runner_job} --region {target.region}",
        "pick another region with --region (the configured regions are in the config file)",
    ]
    if code in ("DEADLINE_EXCEEDED", "UNAVAILABLE"):
        # The request may have reached Cloud Run before the answer was lost.
        hints.insert(0, f"an execution may have started anyway: look with {WATCH_COMMAND} before launching again")
    return Result(
        "launch_failed",
        f"Could not start the runner job {target.runner_job!r} in {target.region}: {message}",
        target=target,
        elapsed_s=elapsed_s,
        hints=tuple(hints),
    )


def interrupted(*, watch: Watch | None, target: Target, elapsed_s: float) -> Result:
    if target.execution:
        headline = f"Interrupted. Execution {target.execution} keeps running in {target.region}."
        hints: tuple[str, ...] = (
            f"to cancel it: {target.cancel_command()}",
            f"to follow it: {WATCH_COMMAND}",
        )
    else:
        headline = "Interrupted before Cloud Run said which execution it started."
        hints = (
            f"an execution of {target.runner_job} may have started in {target.region}: look with {WATCH_COMMAND}",
        )
    return Result(
        "interrupted",
        headline,
        target=target,
        elapsed_s=elapsed_s,
        execution_state=watch.execution.state if watch is not None and watch.execution else "",
        hints=hints,
        faults=watch.faults if watch is not None else (),
    )


# ------------------------------------------------------------------- render


def short_state(state: str) -> str:
    return state.removeprefix("JOB_STATE_")


def clock(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch).strftime("%H:%M:%S")


def describe_fault(fault: Fault) -> str:
    times = "1 time" if fault.count == 1 else f"{fault.count} times"
    text = f"{fault.service}: {fault.code} ({times}), last at {clock(fault.last_at)}"
    return text + (f": {fault.message}" if fault.message else "")


def to_text(result: Result) -> str:
    """The final report for a person: a headline, the facts, then what to do."""
    target = result.target
    lines = [result.headline]
    facts: list[tuple[str, str]] = []
    if result.job is not None:
        job = result.job
        facts += [
            ("job id", job.id),
            ("name", job.display_name or "-"),
            ("state", f"{short_state(job.state)}, created {job.age_s:.0f} s ago"),
        ]
    if result.diagnosis is not None and result.outcome in ("runner_failed", "runner_finished"):
        diag = result.diagnosis
        facts.append(("category", diag.category))
        if diag.runs is not None:
            facts.append(("runs", str(diag.runs)))
    if target.execution:
        execution = target.execution + (f" ({result.execution_state})" if result.execution_state else "")
        facts.append(("execution", execution))
    facts += [("region", target.region), ("queue", target.queue), ("took", f"{result.elapsed_s:.0f} s")]
    lines += [f"  {name + ':':<11}{value}" for name, value in facts]
    if result.outcome != "timeout":
        # The timeout's hints already list the polling errors, with the likely reasons.
        if result.faults:
            lines.append("Errors while polling (retried):")
            lines += [f"  - {describe_fault(f)}" for f in result.faults]
    if result.hints:
        lines.append("What to check:" if result.outcome in ("timeout", "runner_finished") else "Next:")
        lines += [f"  - {hint}" for hint in result.hints]
    return "\n".join(lines)


def to_plain(result: Result) -> dict[str, Any]:
    target = result.target
    job = result.job
    diag = result.diagnosis
    return {
        "schema": SCHEMA,
        "outcome": result.outcome,
        "exit_code": result.exit_code,
        "message": result.headline,
        "project": target.project,
        "region": target.region,
        "queue": target.queue,
        "runner_job": target.runner_job,
        "execution": target.execution or None,
        "execution_state": result.execution_state or None,
        "job": None
        if job is None
        else {
            "id": job.id,
            "display_name": job.display_name,
            "state": job.state,
            "age_s": round(job.age_s, 1),
            "confirmed": job.confirmed,
        },
        "diagnosis": None
        if diag is None
        else {"summary": diag.summary, "category": diag.category, "pattern": diag.pattern, "runs": diag.runs},
        "hints": list(result.hints),
        "errors": [
            {
                "service": f.service,
                "code": f.code,
                "count": f.count,
                "last_at": round(f.last_at, 3),
                "message": f.message,
            }
            for f in result.faults
        ],
        "elapsed_s": round(result.elapsed_s, 1),
    }


def to_json(result: Result) -> str:
    return dumps(to_plain(result), indent=2)
