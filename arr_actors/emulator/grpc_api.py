"""The gRPC services: Cloud Run v2, Vertex AI v1, Cloud Build v1 and Cloud Logging v2.

Requests and responses are the real generated message types, (de)serialized
with ``Type.deserialize`` / ``Type.serialize`` in ``grpc`` generic handlers.
A request that does not deserialize gets INVALID_ARGUMENT naming the type it
should have been; an error inside a handler gets INTERNAL with its message.
Neither stops the server.
"""

from __future__ import annotations

import hashlib
import re
import time
import traceback
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import grpc

from arr_actors.emulator import filters, runnerlogs
from arr_actors.emulator.control import Control, Stopping
from arr_actors.emulator.filters import FilterError
from arr_actors.emulator.paging import PageRules, PageTokenError, cut_page, fingerprint
from arr_actors.emulator.protos import Protos
from arr_actors.emulator.world import RUNNER_JOB, Build, Execution, VertexJob, World

#: Bytes that are not a valid protobuf message of any type: a truncated varint tag.
GARBAGE = b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01\x08"

_RUN_PAGES = PageRules(default=100, maximum=1000)
_VERTEX_PAGES = PageRules(default=100, maximum=1000)
_BUILD_PAGES = PageRules(default=100, maximum=1000)
_LOG_PAGES = PageRules(default=50, maximum=1000, reject_above_maximum=True)

_SEVERITY_NUMBERS = {
    "DEFAULT": 0,
    "DEBUG": 100,
    "INFO": 200,
    "NOTICE": 300,
    "WARNING": 400,
    "ERROR": 500,
    "CRITICAL": 600,
    "ALERT": 700,
    "EMERGENCY": 800,
}


class _Abort(Exception):
    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class _Malformed:
    type_name: str
    error: str


class _GarbageReply:
    """Marks a response the serializer replaces with bytes no client can decode."""


_GARBAGE_REPLY = _GarbageReply()


def _ns(at: float) -> int:
    """Epoch seconds -> nanoseconds: the one rounding used for timestamps on the wire and in filters."""
    return int(round(at * 1e9))


def _ts(pb2_timestamp: Any, at: float) -> Any:
    seconds, nanos = divmod(_ns(at), 1_000_000_000)
    return pb2_timestamp(seconds=seconds, nanos=nanos)


class Services:
    """The handlers, over one world and one control."""

    def __init__(self, world: World, control: Control, protos: Protos, *, clock: Callable[[], float] = time.time) -> None:
        self.world = world
        self.control = control
        self.p = protos
        self.now = clock
        self._timestamp = protos.timestamp_pb2.Timestamp

    # ------------------------------------------------------------ plumbing

    def handlers(self) -> list[grpc.GenericRpcHandler]:
        p = self.p
        run_ex, run_job = p.run_execution, p.run_job
        vertex = p.vertex_job_service
        build = p.build
        logging = p.logging
        services: dict[str, dict[str, tuple[str, Any, Callable[[Any], bytes], Callable[[Any], Any]]]] = {
            "google.cloud.run.v2.Jobs": {
                "RunJob": ("run", run_job.RunJobRequest, lambda m: m.SerializeToString(), self.run_job),
            },
            "google.cloud.run.v2.Executions": {
                "ListExecutions": (
                    "run",
                    run_ex.ListExecutionsRequest,
                    run_ex.ListExecutionsResponse.serialize,
                    self.list_executions,
                ),
                "GetExecution": ("run", run_ex.GetExecutionRequest, run_ex.Execution.serialize, self.get_execution),
            },
            "google.cloud.aiplatform.v1.JobService": {
                "ListCustomJobs": (
                    "vertex",
                    vertex.ListCustomJobsRequest,
                    vertex.ListCustomJobsResponse.serialize,
                    self.list_custom_jobs,
                ),
                "GetCustomJob": (
                    "vertex",
                    vertex.GetCustomJobRequest,
                    p.vertex_custom_job.CustomJob.serialize,
                    self.get_custom_job,
                ),
            },
            "google.devtools.cloudbuild.v1.CloudBuild": {
                "ListBuilds": ("build", build.ListBuildsRequest, build.ListBuildsResponse.serialize, self.list_builds),
            },
            "google.logging.v2.LoggingServiceV2": {
                "ListLogEntries": (
                    "logging",
                    logging.ListLogEntriesRequest,
                    logging.ListLogEntriesResponse.serialize,
                    self.list_log_entries,
                ),
            },
        }
        out: list[grpc.GenericRpcHandler] = []
        for service_name, methods in services.items():
            table = {
                method: grpc.unary_unary_rpc_method_handler(
                    self._wrap(method, service=service, body=body),
                    request_deserializer=_lenient(request_type),
                    response_serializer=_serializer(serialize),
                )
                for method, (service, request_type, serialize, body) in methods.items()
            }
            out.append(grpc.method_handlers_generic_handler(service_name, table))
        return out

    def _wrap(self, method: str, *, service: str, body: Callable[[Any], Any]) -> Callable[[Any, grpc.ServicerContext], Any]:
        def handle(request: Any, context: grpc.ServicerContext) -> Any:
            try:
                fault = self.control.admit(method, service, gone=lambda: not context.is_active())
            except Stopping:
                context.abort(grpc.StatusCode.UNAVAILABLE, "the emulator is shutting down or the call was cancelled")
            if isinstance(request, _Malformed):
                context.abort(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"the request is not a valid {request.type_name}: {request.error}",
                )
            if fault is not None and fault.kind == "error":
                context.abort(grpc.StatusCode[fault.grpc_code], f"injected fault: {service}=error:{fault.grpc_code}")
            try:
                reply = body(request)
            except _Abort as exc:
                context.abort(exc.code, exc.message)
            except Exception as exc:  # a bug must cost one call, not the server
                traceback.print_exc()
                context.abort(grpc.StatusCode.INTERNAL, f"emulator error in {method}: {type(exc).__name__}: {exc}")
            if fault is not None and fault.kind == "garbage":
                return _GARBAGE_REPLY
            return reply

        return handle

    # ------------------------------------------------------------ names

    def _project(self, given: str, resource: str) -> None:
        if given not in (self.world.project, self.world.project_number):
            raise _Abort(
                grpc.StatusCode.PERMISSION_DENIED,
                f"Permission denied on resource {resource!r} (or it may not exist); "
                f"this emulator serves project {self.world.project!r}",
            )

    def _job_parent(self, parent: str) -> str:
        m = re.fullmatch(r"projects/([^/]+)/locations/([^/]+)/jobs/([^/]+)", parent)
        if m is None:
            raise _Abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"parent {parent!r} is not projects/PROJECT/locations/REGION/jobs/JOB",
            )
        project, region, job = m.groups()
        self._project(project, parent)
        # "-" is Cloud Run's wildcard for every job of the region.
        self._job_exists(region, RUNNER_JOB if job == "-" else job)
        return region

    def _job_exists(self, region: str, job: str) -> None:
        if job != RUNNER_JOB or region not in self.world.regions:
            raise _Abort(
                grpc.StatusCode.NOT_FOUND,
                f"Resource '{job}' of kind 'JOB' in region '{region}' in project '{self.world.project}' does not exist. "
                f"(The emulator deploys job '{RUNNER_JOB}' in: {', '.join(self.world.regions)})",
            )

    # ------------------------------------------------------------ Cloud Run

    def run_job(self, request: Any) -> Any:
        m = re.fullmatch(r"projects/([^/]+)/locations/([^/]+)/jobs/([^/]+)", request.name)
        if m is None:
            raise _Abort(
                grpc.StatusCode.INVALID_ARGUMENT, f"name {request.name!r} is not projects/PROJECT/locations/REGION/jobs/JOB"
            )
        project, region, job = m.groups()
        self._project(project, request.name)
        self._job_exists(region, job)
        env: list[tuple[str, str]] = []
        for container in request.overrides.container_overrides:
            for var in container.env:
                if not var.name:
                    raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, "overrides.container_overrides[].env[].name must not be empty")
                env.append((var.name, var.value))
        now = self.now()
        p = self.p
        operation = p.operations_pb2.Operation(
            name=f"projects/{self.world.project}/locations/{region}/operations/{_digest(request.name, str(now))}",
            done=True,
        )
        if request.validate_only:
            return operation
        execution = self.world.launch(region=region, env=env, scenario=self.control.scenario, now=now)
        message = p.run_execution.Execution.pb(self._execution(execution, now))
        operation.metadata.Pack(message)
        operation.response.Pack(message)
        return operation

    def list_executions(self, request: Any) -> Any:
        region = self._job_parent(request.parent)
        now = self.now()
        items = self.world.executions(region, now)
        try:
            size = _RUN_PAGES.size(request.page_size)
            page, token = cut_page(
                items,
                lambda e: (e.created, e.name),
                descending=True,
                page_size=size,
                page_token=request.page_token,
                query=fingerprint("ListExecutions", request.parent),
            )
        except PageTokenError as exc:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc)) from None
        return self.p.run_execution.ListExecutionsResponse(
            executions=[self._execution(e, now) for e in page], next_page_token=token
        )

    def get_execution(self, request: Any) -> Any:
        m = re.fullmatch(r"projects/([^/]+)/locations/([^/]+)/jobs/([^/]+)/executions/([^/]+)", request.name)
        if m is None:
            raise _Abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"name {request.name!r} is not projects/PROJECT/locations/REGION/jobs/JOB/executions/EXECUTION",
            )
        project, region, job, name = m.groups()
        self._project(project, request.name)
        self._job_exists(region, job)
        now = self.now()
        for execution in self.world.executions(region, now):
            if execution.name == name:
                return self._execution(execution, now)
        raise _Abort(
            grpc.StatusCode.NOT_FOUND,
            f"Resource '{name}' of kind 'EXECUTION' in region '{region}' in project '{self.world.project}' does not exist.",
        )

    def _execution(self, e: Execution, now: float) -> Any:
        p = self.p
        ts = lambda at: _ts(self._timestamp, at)  # noqa: E731
        status = e.status(now)
        project = self.world.project
        conditions = _conditions(e, status)
        transitions = [t for t in (e.created, e.started, e.ended) if t <= now]
        k8s = p.run_k8s
        container = k8s.Container(
            name="launcher",
            image=f"us-docker.pkg.dev/{project}/arr/arr-vertex-launcher:latest",
            env=[k8s.EnvVar(name=k, value=v) for k, v in e.env],
            resources=k8s.ResourceRequirements(limits={"cpu": "1", "memory": "2Gi"}),
        )
        template = p.run_task_template.TaskTemplate(
            containers=[container],
            max_retries=0,
            timeout=p.duration_pb2.Duration(seconds=86400),
            service_account=f"arr-launcher@{project}.iam.gserviceaccount.com",
        )
        cond_type = p.run_condition.Condition
        log_filter = (
            f'resource.type="cloud_run_job"\nresource.labels.job_name="{RUNNER_JOB}"\n'
            f'resource.labels.location="{e.region}"\nlabels."run.googleapis.com/execution_name"="{e.name}"'
        )
        fields: dict[str, Any] = {
            "name": f"projects/{project}/locations/{e.region}/jobs/{RUNNER_JOB}/executions/{e.name}",
            "uid": e.uid,
            "creator": "demo-user@example.com",
            "generation": 1,
            "labels": {"run.googleapis.com/client-name": "arr_actors"},
            "create_time": ts(e.created),
            "update_time": ts(max(transitions)),
            "launch_stage": 2,  # google.api.LaunchStage.GA
            "job": RUNNER_JOB,
            "parallelism": 1,
            "task_count": 1,
            "template": template,
            "reconciling": status in ("PENDING", "RUNNING"),
            "conditions": [
                cond_type(
                    type_=c_type,
                    state=c_state,
                    message=message,
                    last_transition_time=ts(at),
                    execution_reason=reason,
                )
                for c_type, c_state, message, at, reason in conditions
            ],
            "observed_generation": 1,
            "running_count": 1 if status == "RUNNING" else 0,
            "succeeded_count": 1 if status == "FINISHED" else 0,
            "failed_count": 1 if status == "FAILED" else 0,
            "cancelled_count": 1 if status == "CANCELLED" else 0,
            "log_uri": "https://console.cloud.google.com/logs/viewer?project="
            + project
            + "&advancedFilter="
            + _url_quote(log_filter),
            "etag": f'"{_digest(e.uid, status)}"',
        }
        if e.started <= now:
            fields["start_time"] = ts(e.started)
        if e.ended <= now:
            fields["completion_time"] = ts(e.ended)
            fields["expire_time"] = ts(e.ended + 7 * 86400)
        return p.run_execution.Execution(**fields)

    # ------------------------------------------------------------ Vertex AI

    def _vertex_location(self, parent: str) -> str:
        m = re.fullmatch(r"projects/([^/]+)/locations/([^/]+)", parent)
        if m is None:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, f"parent {parent!r} is not projects/PROJECT/locations/REGION")
        self._project(m.group(1), parent)
        return m.group(2)

    def list_custom_jobs(self, request: Any) -> Any:
        region = self._vertex_location(request.parent)
        now = self.now()
        try:
            keep = filters.compile_filter(request.filter, _VERTEX_FIELDS, wildcard_maps=("labels",))
        except FilterError as exc:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, f"invalid filter {request.filter!r}: {exc}") from None
        items = [j for j in self.world.vertex_jobs(region, now) if keep(_vertex_getter(j, now))]
        try:
            size = _VERTEX_PAGES.size(request.page_size)
            page, token = cut_page(
                items,
                lambda j: (j.created, j.job_id),
                descending=True,
                page_size=size,
                page_token=request.page_token,
                query=fingerprint("ListCustomJobs", request.parent, request.filter),
            )
        except PageTokenError as exc:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc)) from None
        return self.p.vertex_job_service.ListCustomJobsResponse(
            custom_jobs=[self._custom_job(j, now) for j in page], next_page_token=token
        )

    def get_custom_job(self, request: Any) -> Any:
        m = re.fullmatch(r"projects/([^/]+)/locations/([^/]+)/customJobs/([^/]+)", request.name)
        if m is None:
            raise _Abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"name {request.name!r} is not projects/PROJECT/locations/REGION/customJobs/ID",
            )
        project, region, job_id = m.groups()
        self._project(project, request.name)
        now = self.now()
        for job in self.world.vertex_jobs(region, now):
            if job.job_id == job_id:
                return self._custom_job(job, now)
        raise _Abort(grpc.StatusCode.NOT_FOUND, f"The CustomJob {request.name!r} does not exist.")

    def _custom_job(self, j: VertexJob, now: float) -> Any:
        p = self.p
        ts = lambda at: _ts(self._timestamp, at)  # noqa: E731
        state = j.state(now)
        cj = p.vertex_custom_job
        spec = cj.CustomJobSpec(
            worker_pool_specs=[
                cj.WorkerPoolSpec(
                    machine_spec=p.vertex_machine.MachineSpec(
                        machine_type=j.machine_type,
                        accelerator_type=j.accelerator_type,
                        accelerator_count=j.accelerator_count,
                    ),
                    replica_count=1,
                    container_spec=cj.ContainerSpec(image_uri=j.image),
                    disk_spec=p.vertex_machine.DiskSpec(boot_disk_type="pd-ssd", boot_disk_size_gb=100),
                )
            ],
            service_account=f"arr-training@{self.world.project}.iam.gserviceaccount.com",
            base_output_directory={"output_uri_prefix": f"gs://{self.world.project}-staging/vertex/{j.job_id}"},
        )
        transitions = [t for t in (j.created, j.pending_at, j.started, j.ended) if t <= now]
        fields: dict[str, Any] = {
            "name": f"projects/{self.world.project_number}/locations/{j.region}/customJobs/{j.job_id}",
            "display_name": j.display_name,
            "job_spec": spec,
            "state": "JOB_STATE_" + state,
            "create_time": ts(j.created),
            "update_time": ts(max(transitions)),
            "labels": {},
        }
        if j.started <= now and j.ended > j.started:
            fields["start_time"] = ts(j.started)
        if j.ended <= now:
            fields["end_time"] = ts(j.ended)
            if j.error:
                fields["error"] = p.status_pb2.Status(code=j.error_code, message=j.error)
        return cj.CustomJob(**fields)

    # ------------------------------------------------------------ Cloud Build

    def list_builds(self, request: Any) -> Any:
        if request.parent:
            m = re.fullmatch(r"projects/([^/]+)/locations/([^/]+)", request.parent)
            if m is None:
                raise _Abort(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"parent {request.parent!r} is not projects/PROJECT/locations/LOCATION",
                )
            project, location = m.groups()
            if request.project_id and request.project_id != project:
                raise _Abort(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"project_id {request.project_id!r} does not match parent {request.parent!r}",
                )
        elif request.project_id:
            # The project-level collection holds the builds of the "global" location only, as in Cloud Build.
            project, location = request.project_id, "global"
        else:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, "project_id or parent (projects/PROJECT/locations/LOCATION) is required")
        self._project(project, request.parent or f"projects/{project}")
        now = self.now()
        try:
            keep = filters.compile_filter(request.filter, _BUILD_FIELDS)
        except FilterError as exc:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, f"invalid filter {request.filter!r}: {exc}") from None
        items = [b for b in self.world.builds(location, now) if keep(_build_getter(b, now))]
        try:
            size = _BUILD_PAGES.size(request.page_size)
            page, token = cut_page(
                items,
                lambda b: (b.created, b.build_id),
                descending=True,
                page_size=size,
                page_token=request.page_token,
                query=fingerprint("ListBuilds", project, location, request.filter),
            )
        except PageTokenError as exc:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc)) from None
        return self.p.build.ListBuildsResponse(builds=[self._build(b, now) for b in page], next_page_token=token)

    def _build(self, b: Build, now: float) -> Any:
        p = self.p
        cb = p.build
        ts = lambda at: _ts(self._timestamp, at)  # noqa: E731
        status = b.status(now)
        project, number = self.world.project, self.world.project_number
        image = f"{b.image}:{b.tag}"
        steps = [
            cb.BuildStep(name="gcr.io/cloud-builders/docker", args=["build", "-t", image, "."], id="build"),
            cb.BuildStep(name="gcr.io/cloud-builders/docker", args=["push", image], id="push"),
        ]
        fields: dict[str, Any] = {
            "name": f"projects/{number}/locations/{b.location}/builds/{b.build_id}",
            "id": b.build_id,
            "project_id": project,
            "status": status,
            "steps": steps,
            "create_time": ts(b.created),
            "timeout": p.duration_pb2.Duration(seconds=3600),
            "images": [image],
            "logs_bucket": f"gs://{number}.cloudbuild-logs.googleusercontent.com",
            "log_url": f"https://console.cloud.google.com/cloud-build/builds;region={b.location}/{b.build_id}?project={number}",
            "substitutions": {"SHORT_SHA": b.tag, "_IMAGE": b.image.rsplit("/", 1)[-1]},
            "tags": [b.image.rsplit("/", 1)[-1]],
            "service_account": f"projects/{project}/serviceAccounts/{number}-compute@developer.gserviceaccount.com",
        }
        if b.started <= now:
            fields["start_time"] = ts(b.started)
        if b.finished <= now:
            fields["finish_time"] = ts(b.finished)
            if status == "SUCCESS":
                fields["results"] = cb.Results(images=[cb.BuiltImage(name=image, digest=b.digest)])
            if b.failure_detail:
                fields["status_detail"] = b.failure_detail
                if status == "FAILURE":
                    fields["failure_info"] = cb.Build.FailureInfo(type_="USER_BUILD_STEP", detail=b.failure_detail)
        return cb.Build(**fields)

    # ------------------------------------------------------------ Cloud Logging

    def list_log_entries(self, request: Any) -> Any:
        if not request.resource_names:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, "resource_names is required (e.g. [\"projects/PROJECT\"])")
        ours = False
        for name in request.resource_names:
            m = re.fullmatch(r"projects/([^/]+)", name)
            if m is None:
                raise _Abort(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"resource name {name!r} is not supported by this emulator (use projects/PROJECT)",
                )
            self._project(m.group(1), name)
            ours = True
        order = " ".join(request.order_by.lower().split()) or "timestamp asc"
        if order not in ("timestamp asc", "timestamp desc"):
            raise _Abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"order_by {request.order_by!r} is not supported; use \"timestamp asc\" or \"timestamp desc\"",
            )
        try:
            keep = filters.compile_filter(request.filter, _LOG_FIELDS, wildcard_maps=("labels",))
            size = _LOG_PAGES.size(request.page_size)
        except (FilterError, PageTokenError) as exc:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, f"invalid request: {exc}") from None
        now = self.now()
        entries: list[tuple[float, str, Execution, runnerlogs.LogLine]] = []
        if ours:
            for execution in self.world.all_executions(now):
                for index, line in enumerate(execution.visible_lines(now)):
                    insert_id = f"{execution.uid[:8]}{index:06d}"
                    if keep(_log_getter(self.world, execution, line=line, insert_id=insert_id)):
                        entries.append((line.at, insert_id, execution, line))
        descending = order == "timestamp desc"
        entries.sort(key=lambda e: (e[0], e[1]), reverse=descending)
        try:
            page, token = cut_page(
                entries,
                lambda e: (e[0], e[1]),
                descending=descending,
                page_size=size,
                page_token=request.page_token,
                query=fingerprint("ListLogEntries", *request.resource_names, request.filter, order),
            )
        except PageTokenError as exc:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc)) from None
        return self.p.logging.ListLogEntriesResponse(
            entries=[self._log_entry(execution, line=line, insert_id=insert_id) for _, insert_id, execution, line in page],
            next_page_token=token,
        )

    def _log_entry(self, execution: Execution, *, line: runnerlogs.LogLine, insert_id: str) -> Any:
        p = self.p
        project = self.world.project
        resource = p.monitored_resource_pb2.MonitoredResource(
            type="cloud_run_job",
            labels={"job_name": RUNNER_JOB, "location": execution.region, "project_id": project},
        )
        return p.log_entry.LogEntry(
            log_name=f"projects/{project}/logs/{line.log}",
            resource=resource,
            text_payload=line.text,
            timestamp=_ts(self._timestamp, line.at),
            receive_timestamp=_ts(self._timestamp, line.at + 0.4),
            severity=_SEVERITY_NUMBERS[line.severity],
            insert_id=insert_id,
            labels={
                "run.googleapis.com/execution_name": execution.name,
                "run.googleapis.com/task_index": "0",
                "run.googleapis.com/task_attempt": "0",
                "instanceId": "00" + execution.uid.replace("-", "")[:30],
            },
        )


# ------------------------------------------------------------------- filter schemas

_S, _T = filters.Field(filters.STRING), filters.Field(filters.TIMESTAMP)

_LOG_FIELDS: filters.Schema = {
    ("resource", "type"): _S,
    ("resource", "labels", "job_name"): _S,
    ("resource", "labels", "location"): _S,
    ("resource", "labels", "project_id"): _S,
    ("logName",): _S,
    ("log_name",): _S,
    ("severity",): filters.Field(filters.SEVERITY),
    ("timestamp",): _T,
    ("receiveTimestamp",): _T,
    ("textPayload",): _S,
    ("text_payload",): _S,
    ("insertId",): _S,
}

_VERTEX_STATES = tuple(
    "JOB_STATE_" + s
    for s in ("QUEUED", "PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLING", "CANCELLED", "PAUSED", "EXPIRED")
)
_VERTEX_FIELDS: filters.Schema = {
    ("state",): filters.Field(filters.STRING, _VERTEX_STATES),
    ("display_name",): _S,
    ("name",): _S,
    ("create_time",): _T,
    ("update_time",): _T,
    ("start_time",): _T,
    ("end_time",): _T,
}

_BUILD_STATUSES = ("PENDING", "QUEUED", "WORKING", "SUCCESS", "FAILURE", "INTERNAL_ERROR", "TIMEOUT", "CANCELLED", "EXPIRED")
_BUILD_FIELDS: filters.Schema = {
    ("status",): filters.Field(filters.STRING, _BUILD_STATUSES),
    ("id",): _S,
    ("build_id",): _S,
    ("images",): _S,
    ("tags",): _S,
    ("create_time",): _T,
    ("start_time",): _T,
    ("finish_time",): _T,
}


def _log_getter(world: World, execution: Execution, *, line: runnerlogs.LogLine, insert_id: str) -> filters.Getter:
    values: dict[tuple[str, ...], object] = {
        ("resource", "type"): "cloud_run_job",
        ("resource", "labels", "job_name"): RUNNER_JOB,
        ("resource", "labels", "location"): execution.region,
        ("resource", "labels", "project_id"): world.project,
        ("logName",): f"projects/{world.project}/logs/{line.log}",
        ("log_name",): f"projects/{world.project}/logs/{line.log}",
        ("severity",): line.severity,
        ("timestamp",): _ns(line.at),
        ("receiveTimestamp",): _ns(line.at + 0.4),
        ("textPayload",): line.text,
        ("text_payload",): line.text,
        ("insertId",): insert_id,
        ("labels", "run.googleapis.com/execution_name"): execution.name,
        ("labels", "run.googleapis.com/task_index"): "0",
        ("labels", "run.googleapis.com/task_attempt"): "0",
    }
    return values.get


def _vertex_getter(job: VertexJob, now: float) -> filters.Getter:
    state = job.state(now)
    values: dict[tuple[str, ...], object] = {
        ("state",): "JOB_STATE_" + state,
        ("display_name",): job.display_name,
        ("name",): job.job_id,
        ("create_time",): _ns(job.created),
        ("update_time",): _ns(max(t for t in (job.created, job.pending_at, job.started, job.ended) if t <= now)),
        ("start_time",): _ns(job.started) if job.started <= now and job.ended > job.started else None,
        ("end_time",): _ns(job.ended) if job.ended <= now else None,
    }
    return values.get


def _build_getter(build: Build, now: float) -> filters.Getter:
    values: dict[tuple[str, ...], object] = {
        ("status",): build.status(now),
        ("id",): build.build_id,
        ("build_id",): build.build_id,
        ("images",): [f"{build.image}:{build.tag}"],
        ("tags",): [build.image.rsplit("/", 1)[-1]],
        ("create_time",): _ns(build.created),
        ("start_time",): _ns(build.started) if build.started <= now else None,
        ("finish_time",): _ns(build.finished) if build.finished <= now else None,
    }
    return values.get


def _conditions(e: Execution, status: str) -> list[tuple[str, str, str, float, str]]:
    """(type, state, message, transition time, execution reason) as Cloud Run reports them."""
    none = "EXECUTION_REASON_UNDEFINED"
    started = ("Started", "CONDITION_SUCCEEDED", "", e.started, none)
    resources = ("ResourcesAvailable", "CONDITION_SUCCEEDED", "", e.started, none)
    if status == "PENDING":
        return [
            ("Completed", "CONDITION_PENDING", "Waiting for execution to start.", e.created, "EXECUTION_REASON_UNDEFINED"),
            ("ResourcesAvailable", "CONDITION_RECONCILING", "Provisioning resources.", e.created, "EXECUTION_REASON_UNDEFINED"),
            ("Started", "CONDITION_PENDING", "", e.created, "EXECUTION_REASON_UNDEFINED"),
        ]
    if status == "RUNNING":
        return [("Completed", "CONDITION_RECONCILING", "1 task running.", e.started, none), resources, started]
    took = _go_duration(e.ended - e.started)
    if status == "FINISHED":
        completed = ("Completed", "CONDITION_SUCCEEDED", f"Execution completed successfully in {took}.", e.ended, none)
    elif status == "FAILED":
        completed = (
            "Completed",
            "CONDITION_FAILED",
            f"Task {e.name}-task0 failed with message: The container exited with an exit code of 1.",
            e.ended,
            "NON_ZERO_EXIT_CODE",
        )
    else:
        completed = ("Completed", "CONDITION_FAILED", "The execution was cancelled.", e.ended, "CANCELLED")
    return [completed, resources, started]


def _go_duration(seconds: float) -> str:
    """``2112.5`` -> ``"35m12.5s"``, the way Cloud Run words durations."""
    seconds = max(0.0, seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{secs:.2f}s"
    if minutes or hours:
        text = f"{int(minutes)}m{text}"
    if hours:
        text = f"{int(hours)}h{text}"
    return text


def _digest(*parts: str) -> str:
    return hashlib.blake2b("|".join(parts).encode(), digest_size=8).hexdigest()


def _url_quote(text: str) -> str:
    return quote(text, safe="")


def _lenient(request_type: Any) -> Callable[[bytes], Any]:
    """Deserialize, or hand the handler a marker so it answers INVALID_ARGUMENT (grpc would say INTERNAL)."""
    type_name = request_type.pb().DESCRIPTOR.full_name

    def deserialize(data: bytes) -> Any:
        try:
            return request_type.deserialize(data)
        except Exception as exc:
            return _Malformed(type_name, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)

    return deserialize


def _serializer(serialize: Callable[[Any], bytes]) -> Callable[[Any], bytes]:
    def write(reply: Any) -> bytes:
        if reply is _GARBAGE_REPLY:
            return GARBAGE
        return serialize(reply)

    return write


def start_server(services: Services, *, port: int, max_workers: int = 64) -> tuple[grpc.Server, int]:
    """A gRPC server on 127.0.0.1 only; returns it (started) and its port."""
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="emulator-grpc"),
        handlers=services.handlers(),
        # Without this, two servers could share a port and split its calls.
        options=[("grpc.so_reuseport", 0)],
    )
    try:
        bound = server.add_insecure_port(f"127.0.0.1:{port}")
    except RuntimeError:
        bound = 0
    if not bound:
        raise OSError(f"cannot listen on 127.0.0.1:{port} (is the port in use?)")
    server.start()
    return server, bound

