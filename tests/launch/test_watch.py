"""The launch state machine: observations and a clock in, the next step out."""

from __future__ import annotations

import pytest

from arr_actors.launch import watch
from arr_actors.launch.watch import ExecutionStatus, Job

T0 = 1000.0  # monotonic
SINCE = 1_700_000_000.0  # epoch of the launch


def fresh(*, timeout: float = 120.0, poll: float = 5.0) -> watch.Watch:
    return watch.start(now=T0, since=SINCE, timeout_s=timeout, poll_s=poll)


def job(ident: str, state: str, *, at: float = SINCE + 10, error: str = "") -> Job:
    return Job(id=ident, display_name=f"train-{ident}", state=state, created_at=at, error=error)


MINE = "mine"  # the runner's log names every job listed


def round_(
    w: watch.Watch,
    now: float,
    *,
    execution: str | None = "RUNNING",
    jobs: tuple[Job, ...] | None = (),
    log: tuple[str, ...] | str | None = MINE,
) -> watch.Watch:
    """One round as the driver makes it; ``log`` is what the runner's log names
    (read only when a new job waits for it, as the driver does)."""
    w = watch.begin_round(w, now)
    if execution is not None:
        w = watch.saw_execution(w, ExecutionStatus(execution))
    if jobs is not None:
        w = watch.saw_jobs(w, jobs)
    if log is not None and watch.needs_log(w):
        w = watch.saw_log(w, tuple(j.id for j in w.jobs) if log == MINE else log)
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
    assert decision == watch.RunnerFailed(ExecutionStatus(state))


def test_a_submitted_job_wins_over_a_failed_execution_in_the_same_round():
    w = round_(fresh(), T0 + 3, execution="FAILED", jobs=(job("1", "JOB_STATE_RUNNING"),))
    assert isinstance(watch.decide(w, T0 + 3), watch.Submitted)


def test_a_finished_runner_ends_once_vertex_was_listed_after_it_finished():
    w = round_(fresh(), T0 + 1, execution="FINISHED", jobs=None)  # Vertex AI call failed this round
    w = watch.call_failed(w, service=watch.VERTEX, code="UNAVAILABLE", message="down", at=SINCE + 1)
    assert isinstance(watch.decide(w, T0 + 1), watch.Wait)
    w = round_(w, T0 + 6, execution="FINISHED", jobs=())
    assert watch.decide(w, T0 + 6) == watch.RunnerEnded(ExecutionStatus("FINISHED"))


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
    w = watch.saw_execution(w, ExecutionStatus("RUNNING"))
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
    w = fresh() if state is None else watch.saw_execution(fresh(), ExecutionStatus(state))
    assert fragment in watch.awaiting(w, region="us-west2")


# ------------------------------------------------- whose job is it?


def test_a_new_job_the_log_does_not_name_is_someone_elses():
    theirs, mine = job("7", "JOB_STATE_RUNNING", at=SINCE + 2), job("8", "JOB_STATE_PENDING", at=SINCE + 5)
    w = round_(fresh(), T0 + 5, jobs=(theirs,), log=())
    assert watch.needs_log(w)
    assert isinstance(watch.decide(w, T0 + 5), watch.Wait)
    w = round_(w, T0 + 10, jobs=(theirs, mine), log=("8",))
    assert watch.decide(w, T0 + 10) == watch.Submitted(mine, confirmed=True)


def test_the_log_is_read_again_soon_while_a_new_job_waits_for_it():
    w = round_(fresh(poll=5.0), T0 + 5, jobs=(job("7", "JOB_STATE_RUNNING"),), log=())
    assert watch.decide(w, T0 + 5) == watch.Wait(watch.CONFIRM_POLL_S)
    assert "checking the runner's log" in watch.awaiting(w, region="r")


def test_a_log_naming_other_jobs_never_lets_a_stranger_through():
    w = fresh(timeout=60.0)
    w = round_(w, T0 + 5, jobs=(job("7", "JOB_STATE_RUNNING"),), log=("9",))
    for now in (T0 + 30, T0 + 59):
        w = round_(w, now, jobs=(job("7", "JOB_STATE_RUNNING"),), log=("9",))
        assert isinstance(watch.decide(w, now), watch.Wait)
    w = round_(w, T0 + 61, jobs=(job("7", "JOB_STATE_RUNNING"),), log=("9",))
    assert watch.decide(w, T0 + 61) == watch.TimedOut()


def test_a_log_that_names_no_job_in_time_gives_the_oldest_new_job_unconfirmed():
    w = fresh()
    first, second = job("7", "JOB_STATE_RUNNING", at=SINCE + 2), job("8", "JOB_STATE_RUNNING", at=SINCE + 3)
    w = round_(w, T0 + 5, jobs=(second, first), log=())
    w = round_(w, T0 + 5 + w.confirm_s - 1, jobs=(second, first), log=())
    assert isinstance(watch.decide(w, w.round_started), watch.Wait)
    w = round_(w, T0 + 5 + w.confirm_s, jobs=(second, first), log=())
    assert watch.decide(w, w.round_started) == watch.Submitted(first, confirmed=False)


def test_an_unreadable_log_gives_the_oldest_new_job_unconfirmed_at_once():
    w = round_(fresh(), T0 + 5, jobs=(job("7", "JOB_STATE_RUNNING"),), log=None)
    w = watch.log_refused(w, "PERMISSION_DENIED: logging.viewer missing")
    assert not watch.needs_log(w)
    assert watch.decide(w, T0 + 5) == watch.Submitted(job("7", "JOB_STATE_RUNNING"), confirmed=False)


def test_at_the_deadline_an_unconfirmed_new_job_beats_a_timeout():
    w = round_(fresh(timeout=10.0), T0 + 5, jobs=(job("7", "JOB_STATE_QUEUED"),), log=())
    w = round_(w, T0 + 10, jobs=(job("7", "JOB_STATE_QUEUED"),), log=())
    assert watch.decide(w, T0 + 10) == watch.Submitted(job("7", "JOB_STATE_QUEUED"), confirmed=False)


def test_a_failed_runner_whose_log_names_no_job_is_a_failure_not_a_strangers_job():
    w = round_(fresh(), T0 + 5, execution="FAILED", jobs=(job("7", "JOB_STATE_RUNNING"),), log=())
    assert isinstance(watch.decide(w, T0 + 5), watch.RunnerFailed)


def test_failed_jobs_of_others_are_not_reported_as_this_launchs():
    w = round_(fresh(), T0 + 5, execution="FAILED", jobs=(job("6", "JOB_STATE_FAILED"), job("7", "JOB_STATE_FAILED")))
    w = watch.saw_log(w, ("7",))
    assert [j.id for j in watch.other_jobs(w)] == ["7"]


def test_a_finished_runner_with_a_new_job_waits_for_its_log_before_saying_no_job():
    new = job("7", "JOB_STATE_RUNNING")
    w = round_(fresh(), T0 + 5, execution="FINISHED", jobs=(new,), log=())
    assert isinstance(watch.decide(w, T0 + 5), watch.Wait)  # the log may still be on its way
    w = round_(w, T0 + 5 + w.confirm_s, execution="FINISHED", jobs=(new,), log=())
    assert watch.decide(w, w.round_started) == watch.Submitted(new, confirmed=False)
    w = round_(fresh(), T0 + 5, execution="FINISHED", jobs=(new,), log=("9",))
    assert isinstance(watch.decide(w, T0 + 5), watch.RunnerEnded)  # its log names another job
