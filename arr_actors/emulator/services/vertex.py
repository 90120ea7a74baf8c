"""Vertex AI v1: ``JobService.ListCustomJobs``, ``GetCustomJob`` and ``CancelCustomJob``.

As strict as ``ListCustomJobsRequest`` documents: the filter takes only
``display_name`` (``=``, ``!=``, ``:``), ``state`` (``=``, ``!=``),
``create_time`` (``=``, ``!=``, ``<``, ``<=``, ``>``, ``>=``) and ``labels``
(``labels.key=value``, ``labels.key:*``); anything else is INVALID_ARGUMENT.
The exact wording the real service uses for such a refusal is not documented;
the emulator's text names the field and what is allowed.

The list documents no order and the request has no ``order_by``, so the
emulator lists jobs by job id (numeric ids are random, so this is not the
creation order), never newest first.

``read_mask`` ("Mask specifying which fields to read") is honoured: only the
listed top-level fields of each job are filled. A path that is no field of
``CustomJob`` is refused with INVALID_ARGUMENT; whether the real service
refuses it or ignores it is not documented.
"""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf import empty_pb2

from arr_actors.emulator import filters
from arr_actors.emulator.paging import PageRules, fingerprint
from arr_actors.emulator.services.common import Abort, Method, MethodTable, Service, compile_filter, ns, page
from arr_actors.emulator.world import VertexJob
from arr_actors.emulator.world.entities import is_over

_PAGES = PageRules(default=100, maximum=1000)

_STATES = tuple(
    "JOB_STATE_" + s
    for s in ("QUEUED", "PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLING", "CANCELLED", "PAUSED", "EXPIRED")
)
# The fields and operators ListCustomJobsRequest.filter documents (labels.KEY: any key, = and ':').
_FIELDS: filters.Schema = {
    ("state",): filters.Field(filters.STRING, _STATES, ops=("=", "!=")),
    ("display_name",): filters.Field(filters.STRING, ops=("=", "!=", ":")),
    ("create_time",): filters.Field(filters.TIMESTAMP, ops=("=", "!=", "<", "<=", ">", ">=")),
}


class VertexAI(Service):
    key = "vertex"

    def methods(self) -> MethodTable:
        jobs = self.p.vertex_job_service
        return {
            "google.cloud.aiplatform.v1.JobService": {
                "ListCustomJobs": Method(jobs.ListCustomJobsRequest, jobs.ListCustomJobsResponse.serialize, self.list_custom_jobs),
                "GetCustomJob": Method(jobs.GetCustomJobRequest, self.p.vertex_custom_job.CustomJob.serialize, self.get_custom_job),
                "CancelCustomJob": Method(jobs.CancelCustomJobRequest, lambda m: m.SerializeToString(), self.cancel_custom_job),
            },
        }

    def list_custom_jobs(self, request: Any) -> Any:
        _, region = self.parse_name("projects/{project}/locations/{region}", request.parent, field="parent")
        now = self.now()
        keep = compile_filter(request.filter, _FIELDS, wildcard_maps=("labels",))
        jobs, token = page(
            sorted((j for j in self.world.vertex_jobs(region, now) if keep(_getter(j, now))), key=_listed_order),
            _listed_order,
            rules=_PAGES,
            request=request,
            query=fingerprint("ListCustomJobs", request.parent, request.filter),
            descending=False,
        )
        mask = list(request.read_mask.paths) if "read_mask" in request else []
        known = set(self.p.vertex_custom_job.CustomJob.meta.fields)
        unknown = [path for path in mask if path.split(".", 1)[0] not in known]
        if unknown:
            raise Abort(grpc.StatusCode.INVALID_ARGUMENT, f"read_mask: {unknown[0]!r} is not a field of CustomJob")
        return self.p.vertex_job_service.ListCustomJobsResponse(
            custom_jobs=[_masked(self._custom_job(j, now), mask) for j in jobs], next_page_token=token
        )

    def get_custom_job(self, request: Any) -> Any:
        _, region, job_id = self.parse_name("projects/{project}/locations/{region}/customJobs/{id}", request.name)
        now = self.now()
        for job in self.world.vertex_jobs(region, now):
            if job.job_id == job_id:
                return self._custom_job(job, now)
        raise Abort(grpc.StatusCode.NOT_FOUND, f"The CustomJob {request.name!r} does not exist.")

    def cancel_custom_job(self, request: Any) -> Any:
        """Starts cancelling (the job is CANCELLING, then CANCELLED); answers ``google.protobuf.Empty``."""
        _, region, job_id = self.parse_name("projects/{project}/locations/{region}/customJobs/{id}", request.name)
        now = self.now()
        for job in self.world.vertex_jobs(region, now):
            if job.job_id == job_id:
                state = job.state(now)
                if is_over(state):
                    raise Abort(
                        grpc.StatusCode.FAILED_PRECONDITION,
                        f"Cannot cancel CustomJob {request.name!r}: it is already in state JOB_STATE_{state}.",
                    )
                self.world.cancel("job", job_id, now)
                return empty_pb2.Empty()
        raise Abort(grpc.StatusCode.NOT_FOUND, f"The CustomJob {request.name!r} does not exist.")

    def _custom_job(self, j: VertexJob, now: float) -> Any:
        p = self.p
        ts = self.ts
        state = j.state(now)
        cj = p.vertex_custom_job
        # The W&B Launch agent's Vertex runner labels each job with its run's id
        # and puts WANDB_RUN_ID in the container; a job that never ran has no run.
        labels = {"wandb-run-id": j.run.run_id} if j.run is not None else {}
        env = [{"name": "WANDB_RUN_ID", "value": j.run.run_id}] if j.run is not None else []
        spec = cj.CustomJobSpec(
            worker_pool_specs=[
                cj.WorkerPoolSpec(
                    machine_spec=p.vertex_machine.MachineSpec(
                        machine_type=j.machine_type,
                        accelerator_type=j.accelerator_type,
                        accelerator_count=j.accelerator_count,
                    ),
                    replica_count=1,
                    container_spec=cj.ContainerSpec(image_uri=self.world.job_image(j), env=env),
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
            "labels": labels,
        }
        if j.started <= now and j.ended > j.started:
            fields["start_time"] = ts(j.started)
        if j.ended <= now:
            fields["end_time"] = ts(j.ended)
            if j.error:
                fields["error"] = p.status_pb2.Status(code=j.error_code, message=j.error)
        return cj.CustomJob(**fields)


def _masked(job: Any, paths: list[str]) -> Any:
    """``job`` with only the top-level fields ``paths`` names (all of them when there is no mask)."""
    if not paths:
        return job
    keep = {path.split(".", 1)[0] for path in paths}
    for field in type(job).meta.fields:
        if field not in keep:
            delattr(job, field)
    return job


def _listed_order(job: VertexJob) -> tuple[str, ...]:
    # Not the creation order: the real list documents none, so nothing may rely on one.
    return (job.job_id,)


def _getter(job: VertexJob, now: float) -> filters.Getter:
    state = job.state(now)
    values: dict[tuple[str, ...], object] = {
        ("state",): "JOB_STATE_" + state,
        ("display_name",): job.display_name,
        ("create_time",): ns(job.created),
    }
    return values.get
