"""Jobs.RunJob and the launch scenarios, observed the way ``launch`` observes them."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from emulator_helpers import PROJECT, Clients, job_parent, make_clients, short
from google.cloud import run_v2

from arr_actors import emulator

pytestmark = pytest.mark.timeout(90)

REGIONS = ("us-west2", "europe-west4")
SPEED = 200.0  # a launched runner idles out after 1800 / 200 = 9 s
T = 10
V = TypeVar("V")


@pytest.fixture(scope="module")
def fast() -> Iterator[emulator.EmulatorProcess]:
    with emulator.spawn(project=PROJECT, regions=REGIONS, seed=5, speed=SPEED) as process:
        yield process


@pytest.fixture(scope="module")
def sclients(fast) -> Iterator[Clients]:
    made = make_clients(fast.grpc_address)
    yield made
    made.channel.close()


def wait_for(what: str, probe: Callable[[], V | None], *, timeout: float = 30.0) -> V:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.2)


def launch(c: Clients, region: str, queue: str | None = None) -> Any:
    overrides = None
    if queue:
        container = run_v2.RunJobRequest.Overrides.ContainerOverride(env=[run_v2.EnvVar(name="LAUNCH_QUEUE", value=queue)])
        overrides = run_v2.RunJobRequest.Overrides(container_overrides=[container])
    return c.jobs.run_job(request=run_v2.RunJobRequest(name=job_parent(region), overrides=overrides), timeout=T)


def logs(c: Clients, execution: str) -> list[str]:
    request = {
        "resource_names": [f"projects/{PROJECT}"],
        "filter": f'resource.type="cloud_run_job" AND labels."run.googleapis.com/execution_name"="{execution}"',
        "order_by": "timestamp asc",
        "page_size": 1000,
    }
    return [e.text_payload for e in c.logging.list_log_entries(request=request, timeout=T)]


def jobs_of(c: Clients, region: str, since: Any) -> list:
    stamp = since.rfc3339()
    request = {"parent": f"projects/{PROJECT}/locations/{region}", "filter": f'create_time>="{stamp}"'}
    return list(c.vertex.list_custom_jobs(request=request, timeout=T))


def test_run_job_returns_an_operation_done_when_its_execution_ends(fast, sclients) -> None:
    """Not done at once: the client polls google.longrunning.Operations until the execution has ended."""
    fast.set_scenario("launch-ok")
    operation = launch(sclients, REGIONS[0], queue="gpu-queue")
    assert not operation.done()
    metadata = operation.metadata
    assert metadata.name.startswith(job_parent(REGIONS[0]) + "/executions/vertex-ai-launcher-")
    execution = operation.result(timeout=6 * T)
    assert execution.completion_time
    assert execution.name == metadata.name and execution.create_time
    assert {v.name: v.value for v in execution.template.containers[0].env}["LAUNCH_QUEUE"] == "gpu-queue"
    listed = sclients.executions.get_execution(name=execution.name, timeout=T)
    assert listed.uid == execution.uid


@pytest.fixture(scope="module")
def launched(fast, sclients) -> dict[str, Any]:
    """One execution per scenario, all started up front so their waits overlap."""
    out = {}
    for scenario, region in (("launch-ok", REGIONS[1]), ("launch-runner-fails", REGIONS[0]), ("launch-no-job", REGIONS[1])):
        fast.set_scenario(scenario)
        out[scenario] = launch(sclients, region).metadata  # the execution, as RunJob's metadata names it
    fast.set_scenario("default")
    return out


def submitted_jobs(lines: list[str]) -> list[str]:
    return [t.split("Resource name: ", 1)[1] for t in lines if "CustomJob created. Resource name: " in t]


def test_launch_ok_submits_a_vertex_job_within_seconds(sclients, launched) -> None:
    execution = launched["launch-ok"]
    resource = wait_for("the submission", lambda: submitted_jobs(logs(sclients, short(execution.name))), timeout=20)[0]
    job = sclients.vertex.get_custom_job(name=resource, timeout=T)
    assert job.state.name in ("JOB_STATE_QUEUED", "JOB_STATE_PENDING", "JOB_STATE_RUNNING")
    assert job.create_time >= execution.create_time
    assert job.create_time.timestamp() - execution.create_time.timestamp() < 10
    assert resource in {j.name for j in jobs_of(sclients, REGIONS[1], execution.create_time)}
    wait_for("the wrapper to count it", lambda: "Job submitted to Vertex AI! (Runs: 1)" in logs(sclients, short(execution.name)))


def test_launch_runner_fails_with_a_gpu_quota_error(sclients, launched) -> None:
    execution = launched["launch-runner-fails"]

    def failed() -> Any:
        current = sclients.executions.get_execution(name=execution.name, timeout=T)
        return current if current.failed_count else None

    done = wait_for("the runner to fail", failed, timeout=20)
    assert done.completion_time and next(c for c in done.conditions if c.type_ == "Completed").state.name == "CONDITION_FAILED"
    lines = logs(sclients, short(execution.name))
    text = "\n".join(lines)
    assert "ResourceExhausted: 429 Quota exceeded for quota metric 'custom_model_training_nvidia_l4_gpus'" in text
    assert f"in region {REGIONS[0]}" in text and "FATAL ERROR DETECTED: " in text
    assert not submitted_jobs(lines)


def test_launch_no_job_runs_but_never_submits(sclients, launched) -> None:
    execution = launched["launch-no-job"]
    wait_for("the agent to poll", lambda: any("agent polling on queues" in t for t in logs(sclients, short(execution.name))))

    def finished() -> Any:
        current = sclients.executions.get_execution(name=execution.name, timeout=T)
        return current if current.succeeded_count else None

    wait_for("the idle timeout", finished, timeout=30)
    lines = logs(sclients, short(execution.name))
    assert not submitted_jobs(lines) and "   Runs: 0" in lines
    assert any(t.startswith("Idle timeout: no jobs for") for t in lines)


def test_validate_only_creates_nothing(fast, sclients) -> None:
    before = fast.stats().get("RunJob", 0)
    operation = sclients.jobs.run_job(request=run_v2.RunJobRequest(name=job_parent(REGIONS[0]), validate_only=True), timeout=T)
    assert operation.done() and fast.stats()["RunJob"] == before + 1
    assert operation.metadata is None  # no execution was started


def test_run_job_for_a_job_or_region_that_does_not_exist(sclients) -> None:
    from google.api_core import exceptions as gexc

    with pytest.raises(gexc.NotFound, match="asia-south1"):
        sclients.jobs.run_job(name=job_parent("asia-south1"), timeout=T)
    with pytest.raises(gexc.NotFound, match="'other-job' of kind 'JOB'"):
        sclients.jobs.run_job(name=f"projects/{PROJECT}/locations/{REGIONS[0]}/jobs/other-job", timeout=T)


def test_unknown_scenario_is_refused(fast) -> None:
    with pytest.raises(emulator.EmulatorError, match="unknown scenario 'dance'"):
        fast.set_scenario("dance")
