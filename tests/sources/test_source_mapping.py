"""Row mapping from the real client-library types (proto-plus messages built directly)."""

from __future__ import annotations

import datetime as dt

import pytest

from arr_actors.diagnostics.extract import Diagnosis
from arr_actors.messages import BuildRow
from arr_actors.sources import builds, runner, vertex, wandb_runs

run_v2 = pytest.importorskip("google.cloud.run_v2")
aiplatform_v1 = pytest.importorskip("google.cloud.aiplatform_v1")
cloudbuild_v1 = pytest.importorskip("google.cloud.devtools.cloudbuild_v1")

T0 = dt.datetime(2025, 3, 1, 12, 0, 0, tzinfo=dt.timezone.utc)


def _at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def _execution(**fields):
    Condition = run_v2.Condition
    conditions = fields.pop("completed", None)
    base = dict(
        name="projects/p/locations/us-west2/jobs/vertex-ai-launcher/executions/vertex-ai-launcher-ab12c",
        create_time=_at(0),
        task_count=1,
    )
    base.update(fields)
    execution = run_v2.Execution(**base)
    if conditions is not None:
        state, reason = conditions
        execution.conditions.append(
            Condition(type_="Completed", state=state, execution_reason=reason or Condition.ExecutionReason(0))
        )
    return execution


S = run_v2.Condition.State
R = run_v2.Condition.ExecutionReason


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({}, "PENDING"),
        ({"completed": (S.CONDITION_PENDING, None)}, "PENDING"),
        ({"start_time": _at(5), "running_count": 1, "completed": (S.CONDITION_RECONCILING, None)}, "RUNNING"),
        ({"start_time": _at(5), "running_count": 1}, "RUNNING"),
        (
            {"start_time": _at(5), "completion_time": _at(60), "succeeded_count": 1,
             "completed": (S.CONDITION_SUCCEEDED, None)},
            "FINISHED",
        ),
        (
            {"start_time": _at(5), "completion_time": _at(60), "failed_count": 1,
             "completed": (S.CONDITION_FAILED, R.NON_ZERO_EXIT_CODE)},
            "FAILED",
        ),
        (
            {"start_time": _at(5), "completion_time": _at(60), "cancelled_count": 1,
             "completed": (S.CONDITION_FAILED, R.CANCELLED)},
            "CANCELLED",
        ),
        # Without a Completed condition the counts decide.
        ({"completion_time": _at(60), "succeeded_count": 1}, "FINISHED"),
        ({"completion_time": _at(60), "failed_count": 1}, "FAILED"),
        ({"completion_time": _at(60), "cancelled_count": 1}, "CANCELLED"),
    ],
)
def test_execution_status(fields, status):
    assert runner.execution_status(_execution(**fields)) == status


def test_parse_execution_reads_queue_from_container_env_and_times():
    execution = _execution(
        start_time=_at(5),
        completion_time=_at(65),
        succeeded_count=1,
        completed=(S.CONDITION_SUCCEEDED, None),
        template=run_v2.TaskTemplate(
            containers=[run_v2.Container(env=[run_v2.EnvVar(name="OTHER", value="x"),
                                              run_v2.EnvVar(name="LAUNCH_QUEUE", value="gpu-queue")])]
        ),
    )
    parsed = runner.parse_execution(execution, region="ignored", default_queue="default-q")
    assert parsed == runner.Execution(
        name="vertex-ai-launcher-ab12c",
        region="us-west2",
        queue="gpu-queue",
        status="FINISHED",
        created_at=T0.timestamp(),
        started_at=T0.timestamp() + 5,
        completed_at=T0.timestamp() + 65,
    )
    assert parsed.terminal
    bare = runner.parse_execution(_execution(), region="us-west2", default_queue="default-q")
    assert bare.queue == "default-q" and bare.started_at is None and not bare.terminal


def _diag(outcome, summary, runs=None, category="x", pattern="p.q"):
    return Diagnosis(outcome, summary, category, pattern, runs, ("a", "b"))


def test_notes_for_each_status():
    assert runner.terminal_note("FAILED", _diag("failed", "QuotaExceeded: quota")) == "QuotaExceeded: quota"
    assert runner.terminal_note("FAILED", _diag("failed", "")) == "failed (no error found in the log)"
    completed = _diag("finished", "Runner completed: 2404s lifetime, 860s idle, Runs: 3", runs=3)
    assert runner.terminal_note("FINISHED", completed).startswith("Runner completed:")
    assert runner.terminal_note("FINISHED", _diag("unknown", "", runs=4)) == "completed: Runs: 4"
    assert runner.terminal_note("FINISHED", _diag("unknown", "", runs=None)) == "completed"
    assert runner.terminal_note("FINISHED", _diag("finished", "Runner completed", runs=None)) == "Runner completed"
    assert runner.terminal_note("CANCELLED", _diag("failed", "No log lines", pattern=None)) == "cancelled"
    assert runner.terminal_note("CANCELLED", _diag("failed", "OOM", pattern="k8s.oom")) == "cancelled: OOM"


def test_build_row_running_and_diagnosed():
    base = dict(name="e1", region="r", queue="q", created_at=10.0, started_at=11.0, completed_at=None)
    running = runner.build_row(runner.Execution(status="RUNNING", **base), None)
    assert (running.note, running.runs, running.context) == (runner.RUNNING_NOTE, None, ())
    pending = runner.build_row(runner.Execution(status="PENDING", **base), None)
    assert pending.note == runner.PENDING_NOTE
    failed = runner.build_row(
        runner.Execution(status="FAILED", **{**base, "completed_at": 20.0}),
        _diag("failed", "Machine type not supported", runs=2, category="machine_type", pattern="gcp.machine"),
    )
    assert (failed.note, failed.runs, failed.category, failed.pattern, failed.context) == (
        "Machine type not supported", 2, "machine_type", "gcp.machine", ("a", "b"))
    unread = runner.build_row(runner.Execution(status="FAILED", **base), None, pending_note="deferred")
    assert unread.note == "deferred" and unread.runs is None


def test_should_remember_waits_for_late_logs_only_briefly():
    e = runner.Execution("e", "r", "q", "FAILED", created_at=0.0, started_at=1.0, completed_at=100.0)
    # The wrapper's final stats are in: the log is complete.
    assert runner.should_remember(e, ["Runs: 1", "Final stats:", "   Runs: 1"], now=101.0)
    # Without them the log may still be arriving, for a while.
    assert not runner.should_remember(e, ["Runs: 1"], now=150.0)
    assert not runner.should_remember(e, [], now=150.0)
    assert runner.should_remember(e, ["Runs: 1"], now=100.0 + runner.LOG_SETTLE_S)
    assert runner.should_remember(e, [], now=100.0 + runner.LOG_SETTLE_S)


def test_newest_orders_by_creation_and_limits():
    mk = lambda n, t: runner.Execution(n, "r", "q", "RUNNING", t, None, None)  # noqa: E731
    assert [e.name for e in runner.newest([mk("a", 1), mk("b", 3), mk("c", 2)], 2)] == ["b", "c"]


# ------------------------------------------------------------------ builds


def _build(status, created, **fields):
    return cloudbuild_v1.Build(
        id=fields.pop("id", f"b{created}"),
        name=fields.pop("name", f"projects/p/locations/europe-west1/builds/b{created}"),
        status=status,
        create_time=_at(created),
        **fields,
    )


def test_build_row_fields():
    B = cloudbuild_v1.Build.Status
    b = _build(
        B.SUCCESS, 10, images=["europe-docker.pkg.dev/p/r/trainer:abc"], start_time=_at(12), finish_time=_at(70),
        log_url="https://console.cloud.google.com/cloud-build/builds/b10",
    )
    assert builds.build_row(b) == BuildRow(
        build_id="b10",
        status="SUCCESS",
        image="europe-docker.pkg.dev/p/r/trainer:abc",
        region="europe-west1",
        created_at=T0.timestamp() + 10,
        started_at=T0.timestamp() + 12,
        finished_at=T0.timestamp() + 70,
        log_url="https://console.cloud.google.com/cloud-build/builds/b10",
    )
    pushed = cloudbuild_v1.Build(
        id="x", name="", status=B.WORKING, create_time=_at(1),
        results=cloudbuild_v1.Results(images=[cloudbuild_v1.BuiltImage(name="gcr.io/p/img")]),
    )
    row = builds.build_row(pushed)
    assert (row.image, row.region, row.finished_at, row.active) == ("gcr.io/p/img", "global", None, True)


def test_builds_active_first_then_recent_finished():
    B = cloudbuild_v1.Build.Status
    rows = [builds.build_row(b) for b in (
        _build(B.SUCCESS, 50), _build(B.WORKING, 40), _build(B.FAILURE, 45), _build(B.QUEUED, 10),
        _build(B.SUCCESS, 5),
    )]
    ordered = builds.order_rows(rows, 4)
    assert [(r.build_id, r.status) for r in ordered] == [
        ("b40", "WORKING"), ("b10", "QUEUED"), ("b50", "SUCCESS"), ("b45", "FAILURE")]


# ------------------------------------------------------------------ vertex


def test_vertex_job_row_strips_prefix_and_keeps_error():
    J = aiplatform_v1.JobState
    job = aiplatform_v1.CustomJob(
        name="projects/123/locations/us-central1/customJobs/456789",
        display_name="train-7b",
        state=J.JOB_STATE_FAILED,
        create_time=_at(0),
        start_time=_at(30),
        end_time=_at(90),
        error={"code": 8, "message": "Quota 'NVIDIA_L4_GPUS' exceeded.\n Limit: 0"},
    )
    row = vertex.job_row(job, region="ignored")
    assert (row.job_id, row.display_name, row.region, row.state, row.note) == (
        "456789", "train-7b", "us-central1", "FAILED", "Quota 'NVIDIA_L4_GPUS' exceeded. Limit: 0")
    assert (row.created_at, row.started_at, row.ended_at) == (T0.timestamp(), T0.timestamp() + 30, T0.timestamp() + 90)
    pending = vertex.job_row(
        aiplatform_v1.CustomJob(name="projects/1/locations/r/customJobs/9", state=J.JOB_STATE_PENDING,
                                create_time=_at(1)), region="r")
    assert (pending.state, pending.started_at, pending.note) == ("PENDING", None, "")


# ------------------------------------------------------------------- wandb


def test_wandb_time_runtime_and_exit_note():
    assert wandb_runs.parse_time("2025-03-01T12:00:00") == T0.timestamp()
    assert wandb_runs.parse_time("2025-03-01T12:00:00Z") == T0.timestamp()
    assert wandb_runs.parse_time("garbage") is None
    assert wandb_runs.runtime_of({"_runtime": 42.5}, state="finished", created_at=1, heartbeat_at=9, now=99) == 42.5
    assert wandb_runs.runtime_of({}, state="finished", created_at=1, heartbeat_at=9, now=99) == 8
    assert wandb_runs.runtime_of({}, state="running", created_at=1, heartbeat_at=9, now=99) == 98
    assert wandb_runs.exit_note({"exit_code": 1, "failure_reason": "CUDA  out of\nmemory"}, state="failed") == (
        "exit code 1: CUDA out of memory")
    assert wandb_runs.exit_note({}, state="crashed") == "crashed"
    assert wandb_runs.exit_note({}, state="finished") == ""
