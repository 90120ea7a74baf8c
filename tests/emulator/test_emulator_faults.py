"""Every fault kind on every service, set and cleared at run time, seen through the real clients."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from emulator_helpers import PROJECT, Clients, job_parent, make_clients
from google.api_core import exceptions as gexc

from arr_actors import emulator

pytestmark = pytest.mark.timeout(60)

REGION = "us-west2"
T = 1.5  # client timeout: a hung call ends after this


@pytest.fixture(scope="module")
def faulty() -> Iterator[emulator.EmulatorProcess]:
    with emulator.spawn(project=PROJECT, regions=(REGION, "europe-west4"), seed=11) as process:
        yield process


@pytest.fixture(scope="module")
def fclients(faulty) -> Iterator[Clients]:
    made = make_clients(faulty.grpc_address)
    yield made
    made.channel.close()


@pytest.fixture(autouse=True)
def no_faults_after(faulty) -> Iterator[None]:
    yield
    faulty.set_faults({})


def calls(c: Clients) -> dict[str, Callable[[], Any]]:
    """One representative call per service, without client retries."""
    return {
        "run": lambda: list(c.executions.list_executions(parent=job_parent(REGION), timeout=T, retry=None)),
        "vertex": lambda: list(c.vertex.list_custom_jobs(parent=f"projects/{PROJECT}/locations/{REGION}", timeout=T, retry=None)),
        "build": lambda: list(c.builds.list_builds(project_id=PROJECT, filter="", timeout=T, retry=None)),
        "logging": lambda: list(
            c.logging.list_log_entries(
                request={"resource_names": [f"projects/{PROJECT}"], "filter": 'resource.type="cloud_run_job"', "page_size": 5},
                timeout=T,
                retry=None,
            ).pages.__next__().entries
        ),
    }


GRPC_SERVICES = ("run", "vertex", "build", "logging")


@pytest.mark.parametrize("service", GRPC_SERVICES)
def test_hang_never_answers_and_touches_only_its_service(faulty, fclients, service: str) -> None:
    faulty.set_faults({service: "hang"})
    started = time.monotonic()
    with pytest.raises(gexc.DeadlineExceeded):
        calls(fclients)[service]()
    assert time.monotonic() - started >= T * 0.9
    for other, call in calls(fclients).items():
        if other != service:
            assert call() is not None


@pytest.mark.parametrize(
    ("service", "code", "exception", "text", "reason"),
    [
        ("run", "PERMISSION_DENIED", gexc.PermissionDenied, "Permission 'run.executions.list' denied on resource "
         "'//run.googleapis.com/projects/", "IAM_PERMISSION_DENIED"),
        ("vertex", "UNAVAILABLE", gexc.ServiceUnavailable, "The service is currently unavailable.", None),
        ("build", "NOT_FOUND", gexc.NotFound, "NOT_FOUND", None),
        ("logging", "RESOURCE_EXHAUSTED", gexc.TooManyRequests, "Quota exceeded for quota metric", "RATE_LIMIT_EXCEEDED"),
        ("run", "INTERNAL", gexc.InternalServerError, "Internal error encountered.", None),
        ("run", "SERVICE_DISABLED", gexc.PermissionDenied, "Cloud Run Admin API has not been used in project ",
         "SERVICE_DISABLED"),
        ("vertex", "UNAUTHENTICATED", gexc.Unauthenticated, "Request is missing required authentication credential",
         "CREDENTIALS_MISSING"),
    ],
)
def test_error_answers_as_google_does(faulty, fclients, service, code, exception, text, reason) -> None:
    faulty.set_faults({service: f"error:{code}"})
    with pytest.raises(exception) as caught:
        calls(fclients)[service]()
    assert text in caught.value.message
    assert caught.value.reason == reason


@pytest.mark.parametrize("service", GRPC_SERVICES)
def test_garbage_is_a_reply_no_client_can_decode(faulty, fclients, service: str) -> None:
    faulty.set_faults({service: "garbage"})
    with pytest.raises(gexc.InternalServerError, match="deserializing response"):
        calls(fclients)[service]()


def test_slow_delays_then_answers_and_faults_clear_at_run_time(faulty, fclients) -> None:
    assert faulty.set_faults(["logging=slow:0.6"]) == {"logging": "slow:0.6"}
    started = time.monotonic()
    assert calls(fclients)["logging"]()
    assert time.monotonic() - started >= 0.6
    faulty.set_faults({})
    started = time.monotonic()
    assert calls(fclients)["logging"]()
    assert time.monotonic() - started < 0.6


def test_all_and_table_names_expand_to_services(faulty, fclients) -> None:
    table = faulty.set_faults(["all=error:UNAVAILABLE", "runner=none"])
    assert table == {
        "vertex": "error:UNAVAILABLE", "build": "error:UNAVAILABLE", "resourcemanager": "error:UNAVAILABLE",
        "wandb": "error:503",
    }
    assert calls(fclients)["run"]() and calls(fclients)["logging"]()
    with pytest.raises(gexc.ServiceUnavailable):
        calls(fclients)["build"]()
    with pytest.raises(emulator.EmulatorError, match="unknown fault kind"):
        faulty.set_faults({"run": "melt"})


def test_run_job_obeys_the_run_fault(faulty, fclients) -> None:
    faulty.set_faults({"run": "error:PERMISSION_DENIED"})
    with pytest.raises(gexc.PermissionDenied):
        fclients.jobs.run_job(name=job_parent(REGION), timeout=T, retry=None)


# ------------------------------------------------------------------- W&B


@pytest.fixture(scope="module")
def fwandb(faulty) -> Any:
    import wandb

    return wandb.Api(overrides={"base_url": faulty.wandb_url}, api_key="k" * 40, timeout=3)


def runs_call(api: Any, faulty, tag: str) -> list:
    # A filter unique per call: wandb.Api caches collections it has seen.
    filters = {"state": "running", "displayName": {"$ne": f"{tag}-{time.monotonic_ns()}"}}
    return list(api.runs(f"{faulty.wandb_entity}/{faulty.wandb_project}", filters=filters, per_page=5))


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("hang", "did not respond in time"),
        ("error:403", "permission denied"),
        ("garbage", "unexpected EOF"),
    ],
)
def test_wandb_faults(faulty, fwandb, kind: str, message: str) -> None:
    assert runs_call(fwandb, faulty, "before")
    faulty.set_faults({"wandb": kind})
    with pytest.raises(Exception, match=message):
        runs_call(fwandb, faulty, kind)
    faulty.set_faults({})
    assert runs_call(fwandb, faulty, "after")


def test_wandb_error_status_and_slow_over_http(faulty) -> None:
    body = json.dumps({"query": "{ viewer { id } }"}).encode()

    def post() -> tuple[int, bytes]:
        request = urllib.request.Request(faulty.wandb_url + "/graphql", data=body, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    faulty.set_faults({"wandb": "error:503"})
    status, payload = post()
    assert status == 503 and json.loads(payload) == {"errors": [{"message": "service unavailable"}], "data": None}
    faulty.set_faults({"wandb": "garbage"})
    status, payload = post()
    assert status == 200
    with pytest.raises(ValueError):
        json.loads(payload)
    faulty.set_faults({"wandb": "slow:0.5"})
    started = time.monotonic()
    assert post()[0] == 200 and time.monotonic() - started >= 0.5


def test_realistic_latency_can_be_switched_on_at_run_time(faulty, fclients) -> None:
    from arr_actors.emulator.latency import PROFILES

    low, _ = PROFILES["realistic"]["ListBuilds"]

    def list_builds() -> None:
        list(fclients.builds.list_builds(project_id=PROJECT, filter="", timeout=15, retry=None))

    faulty.set_latency("realistic")
    try:
        started = time.monotonic()
        list_builds()
        assert time.monotonic() - started >= low
    finally:
        faulty.set_latency("none")
    started = time.monotonic()
    list_builds()
    assert time.monotonic() - started < low
    with pytest.raises(emulator.EmulatorError, match="unknown latency profile"):
        faulty.set_latency("glacial")


def test_concurrent_calls_are_all_served_at_once(faulty, fclients) -> None:
    """Calls held by the emulator (a fault, or latency) never queue behind one another: the
    real services serve a client's concurrent calls independently, and a monitor with 100
    regions makes three fan-outs of 100 calls at once."""
    from google.cloud import run_v2

    calls_at_once = 3 * 100 + 1
    faulty.set_faults({"run": "hang"})
    before = faulty.stats().get("ListExecutions", 0)
    list_executions = fclients.executions.transport.list_executions
    held = [
        list_executions.future(run_v2.ListExecutionsRequest(parent=job_parent(REGION)), timeout=30)
        for _ in range(calls_at_once)
    ]
    try:
        # A call is counted once a worker thread takes it; every one must be taken while all are held.
        deadline = time.monotonic() + 20
        while faulty.stats().get("ListExecutions", 0) - before < calls_at_once:
            assert time.monotonic() < deadline, (
                f"only {faulty.stats().get('ListExecutions', 0) - before} of {calls_at_once} held calls reached "
                "the emulator's handlers"
            )
            time.sleep(0.05)
        assert not any(call.done() for call in held)
    finally:
        for call in held:
            call.cancel()
