"""The launch state machine: observations and a clock in, the next step out."""

from __future__ import annotations

import pytest

from arr_actors.launch import watch
from arr_actors.launch.watch import Execution, Job

T0 = 1000.0  # monotonic
SINCE = 1_700_000_000.0  # epoch of the launch


def fresh(*, timeout: float = 120.0, poll: float = 5.0) -> watch.Watch:
    return watch.start(now=T0, since=SINCE, timeout_s=timeout, poll_s=poll)


def job(ident: str, state: str, *, at: float = SINCE + 10, error: str = "") -> Job:
    return Job(id=ident, display_name=f"train-{ident}", state=state, created_at=at, error=error)


def round_(
    w: watch.Watch, now: float, *, execution: str | None = "RUNNING", jobs: tuple[Job, ...] | None = ()
) -> watch.Watch:
    w = watch.begin_round(w, now)
    if execution is not None:
        w = watch.saw_execution(w, Execution(execution))
    if jobs is not None:
        w = watch.saw_jobs(w, jobs)
    return w


@pytest.mark.parametrize("state", ["JOB_STATE_RUNNING", "JOB_STATE_PENDING", "JOB_STATE_QUEUED", "JOB_STATE_SUCCEEDED"])
def test_a_new_job_on_its_way_is_success(state):
    w = round_(fresh(), T0 + 1, jobs=(job("1", state),))
    decision = watch.decide(w, T0 + 1)
    assert decision == watch.Submitted(job("1", state))


def test_jobs_created_before_the_launch_do_not_count():
    old = job("old", "JOB_STATE_RUNNING", at=SINCE - 30)
    w = round_(fresh(), T0 + 1, jobs=(old,))
    assert w.jobs == ()
    assert isinstance(watch.decide(w, T0 + 1), watch.Wait)


def test_the_oldest_new_job_is_the_one_reported():
    later = job("b", "JOB_STATE_RUNNING", at=SINCE + 20)
    first = job("a", "JOB_STATE_PENDING", at=SINCE + 5)
    w = round_(fresh(), T0 + 1, jobs=(later, first))
    assert watch.decide(w, T0 + 1) == watch.Submitted(first)


def test_a_failed_new_job_is_not_success_but_is_remembered():
    broken = job("x", "JOB_STATE_FAILED", error="machine type not supported")
    w = round_(fresh(), T0 + 1, jobs=(broken,))
    assert isinstance(watch.decide(w, T0 + 1), watch.Wait)
    assert watch.other_jobs(w) == (broken,)


@pytest.mark.parametrize("state", ["FAILED", "CANCELLED"])
def test_a_failed_execution_ends_at_once_without_waiting_for_the_timeout(state):
    w = round_(fresh(timeout=120), T0 + 3, execution=state, jobs=None)
    decision = watch.decide(w, T0 + 3)
    assert decision == watch.RunnerFailed(Execution(state))


def test_a_submitted_job_wins_over_a_failed_execution_in_the_same_round():
    w = round_(fresh(), T0 + 3, execution="FAILED", jobs=(job("1", "JOB_STATE_RUNNING"),))
    assert isinstance(watch.decide(w, T0 + 3), watch.Submitted)


def test_a_finished_runner_ends_once_vertex_was_listed_after_it_finished():
    w = round_(fresh(), T0 + 1, execution="FINISHED", jobs=None)  # Vertex AI call failed this round
    w = watch.call_failed(w, service=watch.VERTEX, code="UNAVAILABLE", message="down", at=SINCE + 1)
    assert isinstance(watch.decide(w, T0 + 1), watch.Wait)
    w = round_(w, T0 + 6, execution="FINISHED", jobs=())
    assert watch.decide(w, T0 + 6) == watch.RunnerEnded(Execution("FINISHED"))


def test_a_finished_runner_with_a_job_is_still_success():
    w = round_(fresh(), T0 + 1, execution="FINISHED", jobs=(job("1", "JOB_STATE_QUEUED"),))
    assert isinstance(watch.decide(w, T0 + 1), watch.Submitted)


def test_waits_until_the_next_poll_and_never_past_the_deadline():
    w = round_(fresh(timeout=12, poll=5), T0 + 0.5)
    assert watch.decide(w, T0 + 1.5) == watch.Wait(pytest.approx(4.0))
    w = round_(w, T0 + 10)
    assert watch.decide(w, T0 + 10.5) == watch.Wait(pytest.approx(1.5))
    # A round that overran the poll interval starts the next one at once.
    w = round_(w, T0 + 10.6)
    assert watch.decide(w, T0 + 11.9).seconds == pytest.approx(0.1)


def test_times_out_at_the_deadline_when_nothing_happened():
    w = round_(fresh(timeout=10, poll=1), T0 + 10, execution="PENDING")
    assert isinstance(watch.decide(w, T0 + 9.99), watch.Wait)
    assert watch.decide(w, T0 + 10.0) == watch.TimedOut()


def test_results_of_the_last_round_count_even_when_it_ended_past_the_deadline():
    w = round_(fresh(timeout=10, poll=1), T0 + 9.5, jobs=(job("1", "JOB_STATE_RUNNING"),))
    assert isinstance(watch.decide(w, T0 + 11), watch.Submitted)


def test_faults_are_counted_per_service_and_code_and_cleared_by_a_good_answer():
    w = fresh()
    for i in range(3):
        w = watch.call_failed(w, service=watch.VERTEX, code="UNAVAILABLE", message=f"m{i}", at=SINCE + i)
    w = watch.call_failed(w, service=watch.VERTEX, code="DEADLINE_EXCEEDED", message="slow", at=SINCE + 5)
    w = watch.call_failed(w, service=watch.CLOUD_RUN, code="UNAVAILABLE", message="run", at=SINCE + 6)
    assert [(f.service, f.code, f.count, f.message) for f in w.faults] == [
        (watch.VERTEX, "UNAVAILABLE", 3, "m2"),
        (watch.VERTEX, "DEADLINE_EXCEEDED", 1, "slow"),
        (watch.CLOUD_RUN, "UNAVAILABLE", 1, "run"),
    ]
    assert w.failing == (watch.VERTEX, watch.CLOUD_RUN)
    w = watch.saw_jobs(w, ())
    assert w.failing == (watch.CLOUD_RUN,)
    w = watch.saw_execution(w, Execution("RUNNING"))
    assert w.failing == ()
    assert len(w.faults) == 3  # the tally stays for the report


def test_faults_alone_never_end_the_watch_before_the_deadline():
    w = fresh(timeout=30, poll=1)
    for second in range(1, 30):
        w = watch.begin_round(w, T0 + second)
        w = watch.call_failed(w, service=watch.CLOUD_RUN, code="UNAVAILABLE", message="", at=SINCE + second)
        w = watch.call_failed(w, service=watch.VERTEX, code="UNAVAILABLE", message="", at=SINCE + second)
        assert isinstance(watch.decide(w, T0 + second), watch.Wait)
    assert isinstance(watch.decide(w, T0 + 30), watch.TimedOut)


@pytest.mark.parametrize(
    ("state", "fragment"),
    [
        (None, "first status"),
        ("PENDING", "runner to start"),
        ("RUNNING", "agent to submit a training job to Vertex AI (us-west2)"),
        ("FINISHED", "runner finished"),
    ],
)
def test_awaiting_says_what_is_awaited(state, fragment):
    w = fresh() if state is None else watch.saw_execution(fresh(), Execution(state))
    assert fragment in watch.awaiting(w, region="us-west2")
