"""Final reports: text for people, one JSON document for programs, and the hints."""

from __future__ import annotations

import json

import pytest

from arr_actors.diagnostics.extract import diagnose
from arr_actors.launch import report, watch
from arr_actors.launch.watch import ExecutionStatus, Job

SINCE = 1_700_000_000.0
TARGET = report.Target(
    project="p",
    region="us-west2",
    queue="gpu-queue",
    runner_job="vertex-ai-launcher",
    execution="vertex-ai-launcher-abc12",
)
QUOTA_LINE = (
    "wandb: ERROR launch: Error running job: google.api_core.exceptions.ResourceExhausted: 429 The following "
    "quota metrics exceed quota limits: aiplatform.googleapis.com/custom_model_training_nvidia_l4_gpus "
    "in region us-west2"
)


def watched(*, execution: str | None = "RUNNING", jobs: tuple[Job, ...] = ()) -> watch.Watch:
    w = watch.begin_round(watch.start(now=0, since=SINCE, timeout_s=120, poll_s=5), 1)
    if execution:
        w = watch.saw_execution(w, ExecutionStatus(execution))
    return watch.saw_jobs(w, jobs)


def build(decision, w, **kw):
    kw.setdefault("diagnosis", None)
    return report.build(decision, w, target=TARGET, elapsed_s=14.2, wall_now=SINCE + 40, timeout_s=120, **kw)


def test_success_reports_the_job_and_how_to_watch_it():
    job = Job("8812", "train-resnet", "JOB_STATE_RUNNING", SINCE + 28)
    result = build(watch.Submitted(job), watched(jobs=(job,)))
    assert result.exit_code == 0
    doc = json.loads(report.to_json(result))
    assert doc["outcome"] == "job_submitted"
    assert doc["job"] == {
        "id": "8812", "display_name": "train-resnet", "state": "JOB_STATE_RUNNING", "age_s": 12.0, "confirmed": True
    }
    assert doc["execution"] == "vertex-ai-launcher-abc12"
    assert (doc["region"], doc["queue"]) == ("us-west2", "gpu-queue")
    assert doc["diagnosis"] is None and doc["elapsed_s"] == 14.2
    text = report.to_text(result)
    assert "8812" in text and "train-resnet" in text and "RUNNING, created 12 s ago" in text
    assert "python -m arr_actors" in text


@pytest.mark.parametrize(
    ("refused", "why"),
    [("", "its log did not name a job in time"), ("PERMISSION_DENIED: no role", "could not be read (PERMISSION_DENIED")],
)
def test_an_unconfirmed_job_says_so_and_how_to_check(refused: str, why: str):
    job = Job("8812", "train-resnet", "JOB_STATE_RUNNING", SINCE + 28)
    w = watched(jobs=(job,))
    if refused:
        w = watch.log_refused(w, refused)
    result = build(watch.Submitted(job, confirmed=False), w)
    assert result.exit_code == 0
    doc = json.loads(report.to_json(result))
    assert doc["job"]["confirmed"] is False and doc["message"].endswith("(unconfirmed)")
    assert why in doc["hints"][0] and "diagnose --execution vertex-ai-launcher-abc12" in doc["hints"][0]


def test_runner_failure_gives_the_diagnosis_and_the_diagnose_command():
    diagnosis = diagnose(["Runs: 0", QUOTA_LINE], status="FAILED")
    failed = watch.RunnerFailed(ExecutionStatus("FAILED", "Task failed"))
    result = build(failed, watched(execution="FAILED"), diagnosis=diagnosis)
    assert result.exit_code == 1
    doc = json.loads(report.to_json(result))
    assert doc["outcome"] == "runner_failed"
    assert doc["diagnosis"]["summary"] == "Quota exceeded: custom_model_training_nvidia_l4_gpus in us-west2"
    assert doc["diagnosis"]["category"] == "quota" and doc["diagnosis"]["pattern"] == "gcp.quota_exceeded"
    assert doc["job"] is None
    command = "python -m arr_actors diagnose --execution vertex-ai-launcher-abc12 --region us-west2"
    assert any(command in hint for hint in doc["hints"])
    text = report.to_text(result)
    assert "Quota exceeded: custom_model_training_nvidia_l4_gpus in us-west2" in text.splitlines()[0]
    assert "category:  quota" in text and command in text


def test_runner_failure_without_a_readable_log_falls_back_to_cloud_runs_message():
    result = build(
        watch.RunnerFailed(ExecutionStatus("FAILED", "Task vertex-ai-launcher-abc12-task0 failed: exit code 1")),
        watched(execution="FAILED"),
        log_problem="UNAVAILABLE: Cloud Logging is unavailable",
    )
    assert "exit code 1" in result.headline
    assert any("could not be read" in hint for hint in result.hints)


def test_timeout_hints_name_the_likely_causes_and_how_to_look():
    result = build(watch.TimedOut(), watched(execution="RUNNING"))
    assert result.exit_code == 3
    hints = " | ".join(result.hints)
    assert "agent has not picked up" in hints and "may be empty" in hints
    assert "still starting" not in hints  # the execution already runs
    assert "python -m arr_actors" in hints
    assert "gcloud run jobs executions cancel vertex-ai-launcher-abc12 --region us-west2" in hints
    assert "after 120 s" in result.headline


def test_timeout_while_pending_says_the_runner_is_still_starting_and_lists_polling_errors():
    w = watched(execution="PENDING")
    w = watch.call_failed(w, service=watch.VERTEX, code="UNAVAILABLE", message="try later", at=SINCE + 3)
    w = watch.call_failed(w, service=watch.VERTEX, code="UNAVAILABLE", message="try later", at=SINCE + 8)
    broken = Job("77", "train-x", "JOB_STATE_FAILED", SINCE + 5, error="bad machine")
    w = watch.saw_jobs(w, (broken,))
    result = build(watch.TimedOut(), w)
    hints = result.hints
    assert "still starting" in hints[0]
    assert any(h.startswith("Vertex AI: UNAVAILABLE (2 times), last at ") and "try later" in h for h in hints)
    assert any("77" in h and "FAILED" in h and "bad machine" in h for h in hints)
    doc = report.to_plain(result)
    assert doc["errors"] == [
        {"service": "Vertex AI", "code": "UNAVAILABLE", "count": 2, "last_at": SINCE + 8, "message": "try later"}
    ]


def test_runner_that_finished_without_a_job_exits_3_and_blames_the_queue():
    diagnosis = diagnose(["Runs: 0"], status="FINISHED")
    result = build(watch.RunnerEnded(ExecutionStatus("FINISHED")), watched(execution="FINISHED"), diagnosis=diagnosis)
    assert result.exit_code == 3 and result.outcome == "runner_finished"
    assert "'gpu-queue' was probably empty" in result.hints[0]


def test_interrupted_says_the_execution_keeps_running_and_how_to_cancel_it():
    result = report.interrupted(watch=watched(), target=TARGET, elapsed_s=3)
    assert result.exit_code == 130
    text = report.to_text(result)
    assert "keeps running" in text
    assert "gcloud run jobs executions cancel vertex-ai-launcher-abc12 --region us-west2" in text
    before = report.interrupted(watch=None, target=report.Target("p", "us-west2", "q", "j"), elapsed_s=0.2)
    assert "may have started" in report.to_text(before)


def test_json_document_has_every_field_even_when_empty():
    target = report.Target("p", "us-west2", "q", "j")
    result = report.launch_failed(target=target, message="not found", code="NOT_FOUND", elapsed_s=0.4)
    doc = json.loads(report.to_json(result))
    assert set(doc) >= {"outcome", "execution", "region", "queue", "job", "diagnosis", "hints", "elapsed_s"}
    assert doc["outcome"] == "launch_failed" and doc["exit_code"] == 1 and doc["execution"] is None
