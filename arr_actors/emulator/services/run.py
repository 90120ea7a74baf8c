"""Cloud Run v2: ``Jobs.RunJob``, ``Executions.ListExecutions``, ``GetExecution`` and ``CancelExecution``.

``RunJob`` returns a long-running operation that is not done: its metadata is
the new execution, and ``google.longrunning.Operations.GetOperation`` (served
here too) reports it done, with the execution as its response, once the
execution has ended — as ``gcloud run jobs execute --wait`` waits for it.
Whether the real operation of a failed execution ends with an ``error``
instead of a response is not documented; the emulator always gives the
response (whose conditions say how the execution ended).

``ListExecutions`` is documented as "sorted by creation time, descending" and
is served that way.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any
from urllib.parse import quote

import grpc

from arr_actors.emulator.paging import PageRules, fingerprint
from arr_actors.emulator.services.common import Abort, Method, MethodTable, Pb2Request, Service, page
from arr_actors.emulator.world import RUNNER_JOB, Execution
from arr_actors.emulator.world.entities import is_over

_PAGES = PageRules(default=100, maximum=1000)
_JOB = "projects/{project}/locations/{region}/jobs/{job}"
_EXECUTION = _JOB + "/executions/{execution}"


class CloudRun(Service):
    key = "run"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lock = threading.Lock()
        self._operations: dict[str, tuple[str, str]] = {}  # operation name -> (region, execution name)

    def methods(self) -> MethodTable:
        run_ex, run_job = self.p.run_execution, self.p.run_job
        operations = self.p.operations_pb2
        return {
            "google.cloud.run.v2.Jobs": {
                "RunJob": Method(run_job.RunJobRequest, lambda m: m.SerializeToString(), self.run_job),
            },
            "google.longrunning.Operations": {
                "GetOperation": Method(
                    Pb2Request(operations.GetOperationRequest), lambda m: m.SerializeToString(), self.get_operation
                ),
            },
            "google.cloud.run.v2.Executions": {
                "ListExecutions": Method(run_ex.ListExecutionsRequest, run_ex.ListExecutionsResponse.serialize, self.list_executions),
                "GetExecution": Method(run_ex.GetExecutionRequest, run_ex.Execution.serialize, self.get_execution),
                "CancelExecution": Method(run_ex.CancelExecutionRequest, lambda m: m.SerializeToString(), self.cancel_execution),
            },
        }

    def _job_exists(self, region: str, job: str) -> None:
        if job != RUNNER_JOB or region not in self.world.regions:
            raise Abort(
                grpc.StatusCode.NOT_FOUND,
                f"Resource '{job}' of kind 'JOB' in region '{region}' in project '{self.world.project}' does not exist. "
                f"(The emulator deploys job '{RUNNER_JOB}' in: {', '.join(self.world.regions)})",
            )

    def run_job(self, request: Any) -> Any:
        _, region, job = self.parse_name(_JOB, request.name)
        self._job_exists(region, job)
        env: list[tuple[str, str]] = []
        for container in request.overrides.container_overrides:
            for var in container.env:
                if not var.name:
                    raise Abort(grpc.StatusCode.INVALID_ARGUMENT, "overrides.container_overrides[].env[].name must not be empty")
                env.append((var.name, var.value))
        now = self.now()
        p = self.p
        operation = p.operations_pb2.Operation(
            name=f"projects/{self.world.project}/locations/{region}/operations/{_digest(request.name, str(now))}",
            done=request.validate_only,
        )
        if request.validate_only:
            return operation
        execution = self.world.launch(region=region, env=env, scenario=self.control.scenario, now=now)
        with self._lock:
            self._operations[operation.name] = (region, execution.name)
        return self._operation(operation, execution, now)

    def _operation(self, operation: Any, execution: Execution, now: float) -> Any:
        message = self.p.run_execution.Execution.pb(self._execution(execution, now))
        operation.metadata.Pack(message)
        if execution.status(now) in ("FINISHED", "FAILED", "CANCELLED"):
            operation.done = True
            operation.response.Pack(message)
        return operation

    def get_operation(self, request: Any) -> Any:
        with self._lock:
            found = self._operations.get(request.name)
        if found is None:
            raise Abort(grpc.StatusCode.NOT_FOUND, f"Operation {request.name!r} not found.")
        region, name = found
        now = self.now()
        execution = next(e for e in self.world.executions(region, now) if e.name == name)
        return self._operation(self.p.operations_pb2.Operation(name=request.name), execution, now)

    def list_executions(self, request: Any) -> Any:
        _, region, job = self.parse_name(_JOB, request.parent, field="parent")
        # "-" is Cloud Run's wildcard for every job of the region.
        self._job_exists(region, RUNNER_JOB if job == "-" else job)
        now = self.now()
        executions, token = page(
            self.world.executions(region, now),
            lambda e: (e.created, e.name),
            rules=_PAGES,
            request=request,
            query=fingerprint("ListExecutions", request.parent),
        )
        return self.p.run_execution.ListExecutionsResponse(
            executions=[self._execution(e, now) for e in executions], next_page_token=token
        )

    def get_execution(self, request: Any) -> Any:
        _, region, job, name = self.parse_name(_EXECUTION, request.name)
        self._job_exists(region, job)
        now = self.now()
        for execution in self.world.executions(region, now):
            if execution.name == name:
                return self._execution(execution, now)
        raise Abort(
            grpc.StatusCode.NOT_FOUND,
            f"Resource '{name}' of kind 'EXECUTION' in region '{region}' in project '{self.world.project}' does not exist.",
        )

    def cancel_execution(self, request: Any) -> Any:
        """Cancels a running execution: a long-running operation, answered done, holding the execution."""
        _, region, job, name = self.parse_name(_EXECUTION, request.name)
        self._job_exists(region, job)
        now = self.now()
        for execution in self.world.executions(region, now):
            if execution.name != name:
                continue
            status = execution.status(now)
            if is_over(status):
                raise Abort(
                    grpc.StatusCode.FAILED_PRECONDITION,
                    f"Execution '{name}' cannot be cancelled: it has already completed ({status}).",
                )
            if not request.validate_only:
                self.world.cancel("execution", f"{region}/{name}", now)
                execution = next(e for e in self.world.executions(region, now) if e.name == name)
            operation = self.p.operations_pb2.Operation(
                name=f"projects/{self.world.project}/locations/{region}/operations/{_digest(request.name, str(now))}",
                done=True,
            )
            message = self.p.run_execution.Execution.pb(self._execution(execution, now))
            operation.metadata.Pack(message)
            operation.response.Pack(message)
            return operation
        raise Abort(
            grpc.StatusCode.NOT_FOUND,
            f"Resource '{name}' of kind 'EXECUTION' in region '{region}' in project '{self.world.project}' does not exist.",
        )

    def _execution(self, e: Execution, now: float) -> Any:
        p = self.p
        ts = self.ts
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
            + quote(log_filter, safe=""),
            "etag": f'"{_digest(e.uid, status)}"',
        }
        if e.started <= now:
            fields["start_time"] = ts(e.started)
        if e.ended <= now:
            fields["completion_time"] = ts(e.ended)
            fields["expire_time"] = ts(e.ended + 7 * 86400)
        return p.run_execution.Execution(**fields)


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
