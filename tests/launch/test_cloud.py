"""Turning cloud answers and failures into plain values (real proto and exception types)."""

from __future__ import annotations

import datetime

import pytest
from google.api_core import exceptions as gexc
from google.cloud import aiplatform_v1, run_v2

from arr_actors.launch import cloud
from arr_actors.sources.errors import translate

EPOCH = 1_700_000_000.0


def ts(seconds: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)


def test_job_from_proto_keeps_id_state_time_and_makes_text_inert():
    proto = aiplatform_v1.CustomJob(
        name="projects/123/locations/us-west2/customJobs/4455",
        display_name="train \x1b[31mred\x1b[0m\nnext",
        state=aiplatform_v1.JobState.JOB_STATE_FAILED,
        create_time=ts(EPOCH),
        error={"message": "machine type \x07not supported"},
    )
    job = cloud.job_from_proto(proto)
    assert job is not None
    assert (job.id, job.state, job.created_at) == ("4455", "JOB_STATE_FAILED", EPOCH)
    assert job.display_name == "train red next"
    assert job.error == "machine type not supported"


def test_job_without_a_creation_time_is_skipped():
    assert cloud.job_from_proto(aiplatform_v1.CustomJob(name="projects/1/locations/r/customJobs/9")) is None


@pytest.mark.parametrize(
    ("fields", "state", "message"),
    [
        ({}, "PENDING", ""),
        ({"running_count": 1, "start_time": ts(EPOCH)}, "RUNNING", ""),
        (
            {
                "completion_time": ts(EPOCH + 9),
                "failed_count": 1,
                "conditions": [{"type_": "Completed", "state": "CONDITION_FAILED", "message": "Task failed: exit 1"}],
            },
            "FAILED",
            "Task failed: exit 1",
        ),
        (
            {
                "completion_time": ts(EPOCH + 9),
                "succeeded_count": 1,
                "task_count": 1,
                "conditions": [{"type_": "Completed", "state": "CONDITION_SUCCEEDED", "message": "done"}],
            },
            "FINISHED",
            "",
        ),
    ],
)
def test_execution_status_is_the_runner_tables(fields, state, message):
    proto = run_v2.Execution(name="projects/p/locations/r/jobs/j/executions/e", **fields)
    execution = cloud.execution_status_from_proto(proto)
    assert (execution.state, execution.message) == (state, message)


def test_error_codes_come_from_grpc_even_through_a_translated_error():
    unavailable = gexc.ServiceUnavailable("down")
    assert cloud.error_code(unavailable) == "UNAVAILABLE"
    assert cloud.error_code(gexc.DeadlineExceeded("slow")) == "DEADLINE_EXCEEDED"
    try:
        raise translate(unavailable, service="logging") from unavailable
    except Exception as exc:
        assert cloud.error_code(exc) == "UNAVAILABLE"
    assert cloud.error_code(ValueError("x")) == "ValueError"
    assert cloud.error_code(TimeoutError()) == "DEADLINE_EXCEEDED"


def test_server_side_filter_time_is_rfc3339_rounded_down():
    assert cloud.rfc3339(EPOCH + 0.9) == "2023-11-14T22:13:20Z"
