"""The ``launch`` driver: start the runner, poll, stop on the first answer.

Cloud calls run in the main thread, one at a time, each with a timeout that
never reaches far past the launch's own deadline. That keeps Ctrl-C simple:
gRPC waits for an answer in short slices, so KeyboardInterrupt arrives within
a fraction of a second even in the middle of a call, and the sleeps between
polls are interruptible too. A hung server costs at most one call timeout.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from arr_actors.launch import report, watch
from arr_actors.launch.cloud import CallFailed, Cloud, Launched
from arr_actors.launch.progress import FRAME_S, Progress
from arr_actors.launch.report import Result, Target
from arr_actors.lineage import created_job_ids

if TYPE_CHECKING:
    from arr_actors.config import Settings
    from arr_actors.diagnostics.extract import Diagnosis
    from arr_actors.launch.args import Options

#: Shortest timeout given to a call made just before the deadline.
MIN_CALL_S = 1.0
#: Jobs created this long before the execution still count as this launch's
#: (the execution's and the job's timestamps come from different services).
SERVER_SLACK_S = 1.0
#: The same when the execution's creation time is unknown and the local clock is used.
LOCAL_SLACK_S = 5.0
#: How long a failed or finished runner's log is waited for (Cloud Logging lags a little).
LOG_WAIT_S = 12.0
#: Log read failures worth another try within LOG_WAIT_S; anything else (a missing role,
#: a disabled API) will not change in seconds.
TRANSIENT_CODES = frozenset(
    {"UNAVAILABLE", "DEADLINE_EXCEEDED", "INTERNAL", "UNKNOWN", "RESOURCE_EXHAUSTED", "READ_LIMIT"}
)
#: The log search starts this long before the execution was created.
LOG_LOOKBACK_S = 60.0


@dataclass(frozen=True, slots=True)
class Clock:
    monotonic: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep


def call_timeout(settings: Settings, *, remaining: float) -> float:
    """The configured call timeout, shortened so a call ends near the launch's deadline."""
    return min(settings.api.call_timeout_s, max(MIN_CALL_S, remaining))


def follow(settings: Settings, options: Options, *, region: str, progress: Progress, clock: Clock = Clock()) -> Result:
    """Launch and watch; every outcome, Ctrl-C included, comes back as a Result."""
    target = progress.target
    started = clock.monotonic()
    state: watch.Watch | None = None

    def elapsed() -> float:
        return clock.monotonic() - started

    cloud = Cloud(settings, region=region)
    try:
        progress.say(
            f"Starting the runner job {settings.runner_job} in {region} (queue {target.queue!r})", elapsed_s=0.0
        )
        wall_before = clock.wall()
        try:
            launched = cloud.run_job(queue=target.queue, timeout_s=call_timeout(settings, remaining=options.timeout_s))
        except CallFailed as exc:
            return report.launch_failed(target=target, message=exc.message, code=exc.code, elapsed_s=elapsed())
        target = replace(target, execution=launched.short_name)
        progress.target = target
        progress.say(f"Started execution {launched.short_name}", elapsed_s=elapsed())
        since = (
            launched.created_at - SERVER_SLACK_S if launched.created_at is not None else wall_before - LOCAL_SLACK_S
        )
        state = watch.start(now=started, since=since, timeout_s=options.timeout_s, poll_s=options.poll_s)
        log_since = None if launched.created_at is None else launched.created_at - LOG_LOOKBACK_S
        while True:
            state = _round(state, cloud, execution=launched, log_since=log_since, settings=settings, clock=clock)
            progress.update(state, elapsed_s=elapsed())
            decision = watch.decide(state, clock.monotonic())
            if not isinstance(decision, watch.Wait):
                break
            _pause(decision.seconds, progress=progress, clock=clock, elapsed=elapsed)
        diagnosis, log_problem = None, ""
        if isinstance(decision, (watch.RunnerFailed, watch.RunnerEnded)):
            progress.say("Reading the runner's log", elapsed_s=elapsed())
            diagnosis, log_problem = _diagnose(
                cloud,
                launched.short_name,
                status=decision.execution.state,
                since=None if launched.created_at is None else launched.created_at - LOG_LOOKBACK_S,
                progress=progress,
                clock=clock,
                elapsed=elapsed,
            )
        progress.finish()
        return report.build(
            decision,
            state,
            target=target,
            elapsed_s=elapsed(),
            wall_now=clock.wall(),
            timeout_s=options.timeout_s,
            diagnosis=diagnosis,
            log_problem=log_problem,
        )
    except KeyboardInterrupt:
        progress.finish()
        return report.interrupted(watch=state, target=target, elapsed_s=elapsed())
    finally:
        cloud.close()


def _round(
    state: watch.Watch,
    cloud: Cloud,
    *,
    execution: Launched,
    log_since: float | None,
    settings: Settings,
    clock: Clock,
) -> watch.Watch:
    """One look at the execution, then at Vertex AI (in this order: see watch.decide),
    then, when a new job appeared, at the runner's log to see whether it is ours."""
    state = watch.begin_round(state, clock.monotonic())
    try:
        timeout_s = call_timeout(settings, remaining=state.deadline - clock.monotonic())
        state = watch.saw_execution(state, cloud.execution(execution.name, timeout_s=timeout_s))
    except CallFailed as exc:
        state = watch.call_failed(state, service=exc.service, code=exc.code, message=exc.message, at=clock.wall())
    # Vertex AI is asked even when the runner has failed: it may have submitted the job
    # just before, and that job is what the user launched for.
    try:
        timeout_s = call_timeout(settings, remaining=state.deadline - clock.monotonic())
        state = watch.saw_jobs(state, cloud.jobs_since(state.since, timeout_s=timeout_s))
    except CallFailed as exc:
        state = watch.call_failed(state, service=exc.service, code=exc.code, message=exc.message, at=clock.wall())
    if watch.needs_log(state):
        try:
            timeout_s = call_timeout(settings, remaining=state.deadline - clock.monotonic())
            lines = cloud.execution_log(execution.short_name, timeout_s=timeout_s, since=log_since)
            state = watch.saw_log(state, created_job_ids(lines))
        except CallFailed as exc:
            if exc.code in TRANSIENT_CODES:
                state = watch.call_failed(
                    state, service=exc.service, code=exc.code, message=exc.message, at=clock.wall()
                )
            else:
                state = watch.log_refused(state, f"{exc.code}: {exc.message}")
    return state


def _pause(seconds: float, *, progress: Progress, clock: Clock, elapsed: Callable[[], float]) -> None:
    """Sleep until the next round, redrawing the status line on a terminal."""
    end = clock.monotonic() + seconds
    while (left := end - clock.monotonic()) > 0:
        clock.sleep(min(left, FRAME_S) if progress.terminal else left)
        progress.draw(elapsed_s=elapsed())


def _diagnose(
    cloud: Cloud,
    execution: str,
    *,
    status: str,
    since: float | None,
    progress: Progress,
    clock: Clock,
    elapsed: Callable[[], float],
) -> tuple[Diagnosis | None, str]:
    """The runner's diagnosis from its log, waiting briefly for the log to arrive.

    Returns (diagnosis or None, what went wrong reading the log or "").
    Every read goes through the shared Cloud Logging limiter.
    """
    from arr_actors.diagnostics.extract import diagnose

    give_up = clock.monotonic() + LOG_WAIT_S
    diagnosis: Diagnosis | None = None
    problem = ""
    previous = -1
    while True:
        remaining = give_up - clock.monotonic()
        try:
            timeout_s = max(MIN_CALL_S, min(cloud.settings.api.call_timeout_s, remaining))
            lines = cloud.execution_log(execution, timeout_s=timeout_s, since=since)
            diagnosis, problem = diagnose(lines, status=status), ""
            # Done when the error was found, or when the log stopped growing (the newest
            # lines of a failure may still be on their way into Cloud Logging until then).
            found = status not in watch.EXECUTION_FAILED or diagnosis.pattern is not None
            if lines and (found or len(lines) == previous):
                _remember(cloud, execution, status=status, diagnosis=diagnosis)
                return diagnosis, ""
            previous = len(lines) if lines else -1
        except CallFailed as exc:
            problem = f"{exc.code}: {exc.message}"
            if exc.code not in TRANSIENT_CODES:
                return diagnosis, problem
        if clock.monotonic() + 1.0 >= give_up:
            return diagnosis, problem
        _pause(min(2.0, max(0.0, give_up - clock.monotonic())), progress=progress, clock=clock, elapsed=elapsed)


def _remember(cloud: Cloud, execution: str, *, status: str, diagnosis: Diagnosis) -> None:
    """Store a terminal execution's diagnosis in the shared memory, so the monitor and
    ``diagnose`` never read this log again. Best effort: launch has its answer already."""
    from arr_actors.sources import runner_memory

    try:
        memory = runner_memory.open_memory(cloud.settings)
        try:
            memory.put(runner_memory.memory_key(cloud.region, execution), status, diagnosis)
        finally:
            memory.close()
    except Exception:  # a broken cache must not turn a clear answer into a crash
        pass


def new_target(settings: Settings, options: Options, *, region: str) -> Target:
    return Target(
        project=settings.project,
        region=region,
        queue=options.queue or settings.queue,
        runner_job=settings.runner_job,
    )
