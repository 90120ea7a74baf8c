"""Cancelling executions, custom jobs and builds: the real clients, the real request and response types."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from emulator_helpers import PROJECT, REGIONS, make_clients

from arr_actors import emulator, messages
from arr_actors.config import defaults
from arr_actors.emulator.world.entities import CANCEL_DELAY_S
from arr_actors.sources import actions
from arr_actors.sources.errors import SourceError


@pytest.fixture(scope="module")
def emu() -> Iterator[emulator.EmulatorProcess]:
    # A world of its own: these tests change it.
    with emulator.spawn(project=PROJECT, regions=REGIONS, seed=11) as process:
        yield process


@pytest.fixture(scope="module")
def settings(emu, tmp_path_factory):
    state = tmp_path_factory.mktemp("state")
    return defaults(project=PROJECT, regions=REGIONS, values={"emulator.address": emu.grpc_address, "paths.state_dir": str(state), "paths.cache_dir": str(state)})


@pytest.fixture(scope="module")
def clients(emu):
    made = make_clients(emu.grpc_address)
    yield made
    made.channel.close()


def wait_until(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


@pytest.mark.timeout(60)
def test_a_cancelled_custom_job_is_cancelling_then_cancelled(settings, clients) -> None:
    from google.cloud import aiplatform_v1

    state = aiplatform_v1.JobState
    jobs = [j for r in REGIONS for j in clients.vertex.list_custom_jobs(parent=f"projects/{PROJECT}/locations/{r}")]
    running = next(j for j in jobs if j.state == state.JOB_STATE_RUNNING)
    region, job_id = running.name.split("/")[3], running.name.rsplit("/", 1)[-1]
    action = messages.Action("cancel", "vertex", f"{region}/{job_id}", f"job {job_id}", region, job_id)
    actions.run(settings, action)
    name = f"projects/{PROJECT}/locations/{region}/customJobs/{job_id}"
    assert clients.vertex.get_custom_job(name=name).state == state.JOB_STATE_CANCELLING
    actions.run(settings, action)  # asking again while it stops is not an error
    assert wait_until(lambda: clients.vertex.get_custom_job(name=name).state == state.JOB_STATE_CANCELLED, 3 * CANCEL_DELAY_S)
    with pytest.raises(SourceError, match=f"cannot cancel job {job_id}: .*already in state JOB_STATE_CANCELLED"):
        actions.run(settings, action)


@pytest.mark.timeout(60)
def test_a_cancelled_execution_stops_as_cancelled(settings, clients) -> None:
    from arr_actors.sources.runner import execution_status

    running = None
    for region in REGIONS:
        parent = f"projects/{PROJECT}/locations/{region}/jobs/{emulator.RUNNER_JOB}"
        running = next((e for e in clients.executions.list_executions(parent=parent) if e.running_count), running)
    assert running is not None
    short, region = running.name.rsplit("/", 1)[-1], running.name.split("/")[3]
    action = messages.Action("cancel", "runner", f"{region}/{short}", short, region, short)
    actions.run(settings, action)
    assert wait_until(
        lambda: execution_status(clients.executions.get_execution(name=running.name)) == "CANCELLED", 3 * CANCEL_DELAY_S
    )
    with pytest.raises(SourceError, match="cannot be cancelled: it has already completed"):
        actions.run(settings, action)


@pytest.mark.timeout(60)
def test_a_cancelled_build_stops_as_cancelled(settings, clients) -> None:
    from google.cloud.devtools import cloudbuild_v1

    status = cloudbuild_v1.Build.Status
    assert wait_until(
        lambda: any(b.status in (status.QUEUED, status.WORKING) for b in clients.builds.list_builds(project_id=PROJECT)),
        30,
    ), "the world starts a build now and then"
    build = next(b for b in clients.builds.list_builds(project_id=PROJECT) if b.status in (status.QUEUED, status.WORKING))
    actions.run(settings, messages.Action("cancel", "builds", build.id, build.id, "global", build.id))

    def cancelled() -> bool:
        return next(b for b in clients.builds.list_builds(project_id=PROJECT) if b.id == build.id).status == status.CANCELLED

    assert wait_until(cancelled, 3 * CANCEL_DELAY_S)


def test_a_refused_permission_names_the_role_that_grants_it(emu, settings) -> None:
    emu.set_faults({"vertex": "error:PERMISSION_DENIED"})
    try:
        action = messages.Action("cancel", "vertex", "us-central1/1", "job 1", "us-central1", "1")
        with pytest.raises(SourceError, match=r"cannot cancel job 1: .*Vertex AI User role \(roles/aiplatform.user\)"):
            actions.run(settings, action)
    finally:
        emu.set_faults({})
