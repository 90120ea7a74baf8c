"""Cloud Run, Vertex AI, Cloud Build and Cloud Logging through the unmodified client libraries."""

from __future__ import annotations

import datetime as dt

import grpc
import pytest
from emulator_helpers import PROJECT, REGIONS, job_parent, short
from google.api_core import exceptions as gexc

from arr_actors.emulator.options import DEFAULT_LOG_GAPS

pytestmark = pytest.mark.timeout(60)

T = 10  # client timeout of every call, seconds


def executions(clients, region: str, page_size: int = 0) -> list:
    return list(clients.executions.list_executions(request={"parent": job_parent(region), "page_size": page_size}, timeout=T))


# ------------------------------------------------------------------- Cloud Run


def test_executions_are_realistic_in_every_region(clients) -> None:
    seen_status = set()
    for region in REGIONS:
        items = executions(clients, region)
        assert items, region
        created = [e.create_time for e in items]
        assert created == sorted(created, reverse=True)  # newest first
        for e in items:
            assert e.name == f"{job_parent(region)}/executions/{short(e.name)}"
            assert short(e.name).startswith("vertex-ai-launcher-") and len(short(e.name)) == len("vertex-ai-launcher-") + 5
            assert e.job == "vertex-ai-launcher" and e.task_count == 1
            env = {v.name: v.value for v in e.template.containers[0].env}
            assert env["LAUNCH_QUEUE"].startswith("vertex-ai-queue")
            completed = next(c for c in e.conditions if c.type_ == "Completed")
            counts = (e.running_count, e.succeeded_count, e.failed_count, e.cancelled_count)
            if e.failed_count:
                status = "FAILED"
                assert counts == (0, 0, 1, 0) and completed.state.name == "CONDITION_FAILED"
                assert completed.execution_reason.name == "NON_ZERO_EXIT_CODE"
            elif e.succeeded_count:
                status = "FINISHED"
                assert counts == (0, 1, 0, 0) and completed.state.name == "CONDITION_SUCCEEDED"
            elif e.cancelled_count:
                status = "CANCELLED"
                assert completed.execution_reason.name == "CANCELLED"
            else:
                status = "RUNNING"
                assert counts == (1, 0, 0, 0) and e.reconciling
            if status == "RUNNING":
                assert not e.completion_time
            else:
                assert e.create_time <= e.start_time <= e.completion_time
            seen_status.add(status)
    assert {"FAILED", "FINISHED", "RUNNING"} <= seen_status


def test_the_job_wildcard_lists_the_runner_executions(clients) -> None:
    wildcard = f"projects/{PROJECT}/locations/{REGIONS[0]}/jobs/-"
    listed = clients.executions.list_executions(parent=wildcard, timeout=T)
    assert [e.name for e in listed] == [e.name for e in executions(clients, REGIONS[0])]


def test_failed_executions_span_several_regions(clients) -> None:
    regions = {region for region in REGIONS for e in executions(clients, region) if e.failed_count}
    assert len(regions) >= 3


def test_execution_paging_returns_the_same_executions(clients) -> None:
    region = REGIONS[0]
    pager = clients.executions.list_executions(request={"parent": job_parent(region), "page_size": 2}, timeout=T)
    pages = list(pager.pages)
    assert len(pages) >= 3 and all(len(p.executions) <= 2 for p in pages)
    assert [e.name for p in pages for e in p.executions] == [e.name for e in executions(clients, region)]


def test_get_execution_and_its_errors(clients) -> None:
    first = executions(clients, REGIONS[1])[0]
    assert clients.executions.get_execution(name=first.name, timeout=T).uid == first.uid
    with pytest.raises(gexc.NotFound, match="vertex-ai-launcher-zzzzz"):
        clients.executions.get_execution(name=f"{job_parent(REGIONS[1])}/executions/vertex-ai-launcher-zzzzz", timeout=T)
    with pytest.raises(gexc.NotFound, match="does not exist"):
        executions_of = f"projects/{PROJECT}/locations/{REGIONS[0]}/jobs/other-job"
        list(clients.executions.list_executions(parent=executions_of, timeout=T))
    with pytest.raises(gexc.NotFound, match="asia-south1"):
        list(clients.executions.list_executions(parent=job_parent("asia-south1"), timeout=T))
    with pytest.raises(gexc.PermissionDenied, match="someone-else"):
        list(clients.executions.list_executions(parent=job_parent(REGIONS[0], "someone-else"), timeout=T))
    with pytest.raises(gexc.InvalidArgument, match="is not projects/PROJECT/locations/REGION/jobs/JOB"):
        list(clients.executions.list_executions(parent="jobs/vertex-ai-launcher", timeout=T))


def test_a_page_token_only_works_for_its_own_query(clients) -> None:
    page = clients.executions.list_executions(request={"parent": job_parent(REGIONS[0]), "page_size": 1}, timeout=T)
    token = next(iter(page.pages)).next_page_token
    assert token
    with pytest.raises(gexc.InvalidArgument, match="different request"):
        list(clients.executions.list_executions(request={"parent": job_parent(REGIONS[1]), "page_token": token}, timeout=T))


# ------------------------------------------------------------------- Vertex AI


def custom_jobs(clients, region: str, **request) -> list:
    request = {"parent": f"projects/{PROJECT}/locations/{region}", **request}
    return list(clients.vertex.list_custom_jobs(request=request, timeout=T))


def test_custom_jobs_list_get_and_page(clients) -> None:
    jobs = custom_jobs(clients, REGIONS[0])
    assert jobs
    states = {j.state.name for j in jobs}
    assert "JOB_STATE_RUNNING" in states
    for job in jobs:
        assert job.name.startswith("projects/") and f"/locations/{REGIONS[0]}/customJobs/" in job.name
        spec = job.job_spec.worker_pool_specs[0]
        assert spec.machine_spec.machine_type and spec.container_spec.image_uri
        if job.state.name == "JOB_STATE_FAILED":
            assert job.error.message and job.end_time
        if job.state.name == "JOB_STATE_SUCCEEDED":
            assert job.start_time <= job.end_time and not job.error.message
    request = {"parent": f"projects/{PROJECT}/locations/{REGIONS[0]}", "page_size": 1}
    pager = clients.vertex.list_custom_jobs(request=request, timeout=T)
    assert [j.name for j in pager] == [j.name for j in jobs]
    got = clients.vertex.get_custom_job(name=jobs[0].name, timeout=T)
    assert got.display_name == jobs[0].display_name
    with pytest.raises(gexc.NotFound):
        clients.vertex.get_custom_job(name=f"projects/{PROJECT}/locations/{REGIONS[0]}/customJobs/1", timeout=T)


def test_custom_job_filters(clients) -> None:
    every = [j for region in REGIONS for j in custom_jobs(clients, region)]
    times = sorted(j.create_time for j in every)
    middle = times[len(times) // 2]
    stamp = middle.rfc3339()  # nanoseconds, as the API returned them
    newer = [j for region in REGIONS for j in custom_jobs(clients, region, filter=f'create_time>"{stamp}"')]
    assert newer and {j.name for j in newer} == {j.name for j in every if j.create_time > middle}
    running = custom_jobs(clients, REGIONS[0], filter='state="JOB_STATE_RUNNING" OR state="JOB_STATE_PENDING"')
    assert running and all(j.state.name in ("JOB_STATE_RUNNING", "JOB_STATE_PENDING") for j in running)
    both = custom_jobs(clients, REGIONS[0], filter=f'state="JOB_STATE_RUNNING" AND create_time>="{stamp}"')
    assert all(j.create_time >= middle for j in both)
    with pytest.raises(gexc.InvalidArgument, match="unsupported filter field 'colour'"):
        custom_jobs(clients, REGIONS[0], filter='colour="blue"')


def test_vertex_accepts_the_project_number_it_answers_with(clients) -> None:
    jobs = custom_jobs(clients, REGIONS[0])
    number = jobs[0].name.split("/")[1]
    assert number.isdigit()
    by_number = list(clients.vertex.list_custom_jobs(parent=f"projects/{number}/locations/{REGIONS[0]}", timeout=T))
    assert [j.name for j in by_number] == [j.name for j in jobs]


# ------------------------------------------------------------------- Cloud Build


def test_builds_project_level_regional_paging_and_filters(clients) -> None:
    from google.cloud.devtools import cloudbuild_v1

    global_builds = list(clients.builds.list_builds(project_id=PROJECT, filter="", timeout=T))
    regional_request = cloudbuild_v1.ListBuildsRequest(parent=f"projects/{PROJECT}/locations/{REGIONS[0]}")
    regional = list(clients.builds.list_builds(request=regional_request, timeout=T))
    every = global_builds + regional
    assert global_builds and regional
    assert all("/locations/global/builds/" in b.name for b in global_builds)
    assert all(f"/locations/{REGIONS[0]}/builds/" in b.name for b in regional)
    statuses = {b.status.name for b in every}
    assert {"WORKING", "SUCCESS", "FAILURE"} <= statuses
    for b in every:
        assert b.images and b.log_url.startswith("https://console.cloud.google.com/cloud-build/builds") and b.create_time
        if b.status.name == "SUCCESS":
            assert b.start_time <= b.finish_time and b.results.images[0].digest.startswith("sha256:")
        if b.status.name == "FAILURE":
            assert b.failure_info.detail
        if b.status.name in ("QUEUED", "WORKING"):
            assert not b.finish_time
    paged = clients.builds.list_builds(request={"project_id": PROJECT, "page_size": 2}, timeout=T)
    assert [b.id for b in paged] == [b.id for b in global_builds]
    working = list(clients.builds.list_builds(project_id=PROJECT, filter='status="WORKING" OR status="QUEUED"', timeout=T))
    assert {b.id for b in working} == {b.id for b in global_builds if b.status.name in ("WORKING", "QUEUED")}
    with pytest.raises(gexc.InvalidArgument, match="unknown value 'DONE'"):
        list(clients.builds.list_builds(project_id=PROJECT, filter='status="DONE"', timeout=T))


# ------------------------------------------------------------------- Cloud Logging

EXEC_LABEL = 'labels."run.googleapis.com/execution_name"'


def failed_names(clients, count: int) -> list[str]:
    names = [short(e.name) for region in REGIONS for e in executions(clients, region) if e.failed_count]
    assert len(names) >= count
    return names[:count]


def entries(clients, filter_: str, *, order: str = "timestamp desc", page_size: int = 1000) -> list:
    request = {"resource_names": [f"projects/{PROJECT}"], "filter": filter_, "order_by": order, "page_size": page_size}
    return list(clients.logging.list_log_entries(request=request, timeout=T))


def test_logs_of_one_execution_with_the_predecessors_filter(clients) -> None:
    name = failed_names(clients, 1)[0]
    text = f"resource.type=cloud_run_job AND resource.labels.job_name=vertex-ai-launcher AND {EXEC_LABEL}={name}"
    found = entries(clients, text)
    assert found
    for entry in found:
        assert entry.labels["run.googleapis.com/execution_name"] == name
        assert entry.resource.type == "cloud_run_job"
        assert entry.resource.labels["job_name"] == "vertex-ai-launcher" and entry.resource.labels["location"] in REGIONS
        assert entry.log_name.startswith(f"projects/{PROJECT}/logs/run.googleapis.com%2F")
    lines = [e.text_payload for e in found]
    assert any(line.startswith("FATAL ERROR DETECTED: ") for line in lines)
    assert "Killing agent" in lines and "Runs: 0" in lines


def test_an_or_of_execution_names_reads_them_in_one_call(clients, emu) -> None:
    names = failed_names(clients, 3)
    ors = " OR ".join(f'{EXEC_LABEL}="{n}"' for n in names)
    before = emu.stats().get("ListLogEntries", 0)
    found = entries(clients, f'resource.type="cloud_run_job" AND ({ors})')
    assert emu.stats()["ListLogEntries"] == before + 1
    assert {e.labels["run.googleapis.com/execution_name"] for e in found} == set(names)
    grouped = entries(clients, f'resource.type="cloud_run_job" AND {EXEC_LABEL}=("{names[0]}" OR "{names[1]}")')
    assert {e.labels["run.googleapis.com/execution_name"] for e in grouped} == set(names[:2])


def test_log_order_and_paging(emu, clients) -> None:
    emu.set_log_gaps(0.0)  # whole pages only: this test is about order and cuts (gaps: test_emulator_strict)
    try:
        _check_log_order_and_paging(clients)
    finally:
        emu.set_log_gaps(DEFAULT_LOG_GAPS)


def _check_log_order_and_paging(clients) -> None:
    names = failed_names(clients, 2)
    text = f'resource.type="cloud_run_job" AND ({EXEC_LABEL}="{names[0]}" OR {EXEC_LABEL}="{names[1]}")'
    newest_first = entries(clients, text, order="timestamp desc")
    oldest_first = entries(clients, text, order="timestamp asc")
    stamps = [e.timestamp for e in newest_first]
    assert stamps == sorted(stamps, reverse=True)
    assert [e.insert_id for e in oldest_first] == [e.insert_id for e in reversed(newest_first)]
    request = {"resource_names": [f"projects/{PROJECT}"], "filter": text, "order_by": "timestamp desc", "page_size": 7}
    pages = list(clients.logging.list_log_entries(request=request, timeout=T).pages)
    assert len(pages) == -(-len(newest_first) // 7)
    assert [e.insert_id for p in pages for e in p.entries] == [e.insert_id for e in newest_first]


def test_default_log_page_size_is_fifty_as_in_cloud_logging(clients) -> None:
    request = {"resource_names": [f"projects/{PROJECT}"], "filter": 'resource.type="cloud_run_job"'}
    first = next(iter(clients.logging.list_log_entries(request=request, timeout=T).pages))
    assert len(first.entries) == 50 and first.next_page_token


def test_log_time_and_severity_filters(clients) -> None:
    name = failed_names(clients, 1)[0]
    every = entries(clients, f'{EXEC_LABEL}="{name}"', order="timestamp asc")
    cut = every[len(every) // 2].timestamp
    stamp = cut.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    later = entries(clients, f'{EXEC_LABEL}="{name}" AND timestamp>="{stamp}"', order="timestamp asc")
    assert later and all(e.timestamp >= cut for e in later) and len(later) < len(every)
    errors = entries(clients, f'{EXEC_LABEL}="{name}" severity>=ERROR')
    assert errors and all(e.severity >= 500 for e in errors)


@pytest.mark.parametrize(
    ("request_fields", "message"),
    [
        ({"filter": 'labels."run.googleapis.com/execution_name"=~"x"'}, "operator '=~' is not supported"),
        ({"filter": "jsonPayload.message=x"}, "unsupported filter field 'jsonPayload.message'"),
        ({"filter": 'resource.type="cloud_run_job" AND ('}, "ends too early"),
        ({"order_by": "severity desc"}, "order_by 'severity desc' is not supported"),
        ({"page_size": 5000}, "at most 1000"),
        ({"resource_names": []}, "resource_names is required"),
        ({"resource_names": ["folders/1"]}, "not supported by this emulator"),
    ],
)
def test_unsupported_log_requests_are_invalid_arguments(clients, request_fields: dict, message: str) -> None:
    request = {"resource_names": [f"projects/{PROJECT}"], **request_fields}
    with pytest.raises(gexc.InvalidArgument, match=message.replace("(", r"\(")):
        list(clients.logging.list_log_entries(request=request, timeout=T))


# ------------------------------------------------------------------- malformed requests

METHODS = [
    "/google.cloud.run.v2.Jobs/RunJob",
    "/google.cloud.run.v2.Executions/ListExecutions",
    "/google.cloud.run.v2.Executions/GetExecution",
    "/google.cloud.aiplatform.v1.JobService/ListCustomJobs",
    "/google.cloud.aiplatform.v1.JobService/GetCustomJob",
    "/google.devtools.cloudbuild.v1.CloudBuild/ListBuilds",
    "/google.logging.v2.LoggingServiceV2/ListLogEntries",
]


@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.rsplit("/", 1)[-1])
def test_garbage_bytes_get_a_clear_error_and_the_server_carries_on(clients, method: str) -> None:
    call = clients.channel.unary_unary(method)
    with pytest.raises(grpc.RpcError) as caught:
        call(b"\xff\xff\xff\x07garbage", timeout=T)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "the request is not a valid google." in caught.value.details()
    assert executions(clients, REGIONS[0])


def test_unknown_methods_are_unimplemented(clients) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        clients.channel.unary_unary("/google.cloud.run.v2.Executions/DeleteExecution")(b"", timeout=T)
    assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED
