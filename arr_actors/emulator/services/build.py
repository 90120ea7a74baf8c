"""Cloud Build v1: ``CloudBuild.ListBuilds`` and ``CloudBuild.CancelBuild``."""

from __future__ import annotations

from typing import Any

import grpc

from arr_actors.emulator import filters
from arr_actors.emulator.paging import PageRules, fingerprint
from arr_actors.emulator.services.common import Abort, Method, MethodTable, Service, compile_filter, ns, page
from arr_actors.emulator.world import Build
from arr_actors.emulator.world.entities import is_over

_PAGES = PageRules(default=100, maximum=1000)

_STATUSES = ("PENDING", "QUEUED", "WORKING", "SUCCESS", "FAILURE", "INTERNAL_ERROR", "TIMEOUT", "CANCELLED", "EXPIRED")
_S, _T = filters.Field(filters.STRING), filters.Field(filters.TIMESTAMP)
_FIELDS: filters.Schema = {
    ("status",): filters.Field(filters.STRING, _STATUSES),
    ("id",): _S,
    ("build_id",): _S,
    ("images",): _S,
    ("tags",): _S,
    ("create_time",): _T,
    ("start_time",): _T,
    ("finish_time",): _T,
}


class CloudBuild(Service):
    key = "build"

    def methods(self) -> MethodTable:
        cb = self.p.build
        return {
            "google.devtools.cloudbuild.v1.CloudBuild": {
                "ListBuilds": Method(cb.ListBuildsRequest, cb.ListBuildsResponse.serialize, self.list_builds),
                "CancelBuild": Method(cb.CancelBuildRequest, cb.Build.serialize, self.cancel_build),
            },
        }

    def list_builds(self, request: Any) -> Any:
        if request.parent:
            # The project is checked after project_id: a mismatch is the caller's mistake, not a permission.
            project, location = self.parse_name(
                "projects/{project}/locations/{location}", request.parent, field="parent", check_project=False
            )
            if request.project_id and request.project_id != project:
                raise Abort(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"project_id {request.project_id!r} does not match parent {request.parent!r}",
                )
        elif request.project_id:
            # The project-level collection holds the builds of the "global" location only, as in Cloud Build.
            project, location = request.project_id, "global"
        else:
            raise Abort(grpc.StatusCode.INVALID_ARGUMENT, "project_id or parent (projects/PROJECT/locations/LOCATION) is required")
        self.check_project(project, request.parent or f"projects/{project}")
        now = self.now()
        keep = compile_filter(request.filter, _FIELDS)
        builds, token = page(
            [b for b in self.world.builds(location, now) if keep(_getter(b, now))],
            lambda b: (b.created, b.build_id),
            rules=_PAGES,
            request=request,
            query=fingerprint("ListBuilds", project, location, request.filter),
        )
        return self.p.build.ListBuildsResponse(builds=[self._build(b, now) for b in builds], next_page_token=token)

    def cancel_build(self, request: Any) -> Any:
        """Cancels a queued or working build; answers the build."""
        if request.name:
            project, location, build_id = self.parse_name(
                "projects/{project}/locations/{location}/builds/{id}", request.name, check_project=False
            )
        elif request.project_id and request.id:
            project, location, build_id = request.project_id, "global", request.id
        else:
            raise Abort(grpc.StatusCode.INVALID_ARGUMENT, "name, or project_id and id, are required")
        self.check_project(project, request.name or f"projects/{project}/builds/{build_id}")
        now = self.now()
        for build in self.world.builds(location, now):
            if build.build_id != build_id:
                continue
            status = build.status(now)
            if is_over(status):
                raise Abort(grpc.StatusCode.FAILED_PRECONDITION, f"build {build_id} is already in state {status}")
            self.world.cancel("build", build_id, now)
            return self._build(next(b for b in self.world.builds(location, now) if b.build_id == build_id), now)
        raise Abort(grpc.StatusCode.NOT_FOUND, f"build {build_id!r} not found")

    def _build(self, b: Build, now: float) -> Any:
        p = self.p
        cb = p.build
        ts = self.ts
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


def _getter(build: Build, now: float) -> filters.Getter:
    values: dict[tuple[str, ...], object] = {
        ("status",): build.status(now),
        ("id",): build.build_id,
        ("build_id",): build.build_id,
        ("images",): [f"{build.image}:{build.tag}"],
        ("tags",): [build.image.rsplit("/", 1)[-1]],
        ("create_time",): ns(build.created),
        ("start_time",): ns(build.started) if build.started <= now else None,
        ("finish_time",): ns(build.finished) if build.finished <= now else None,
    }
    return values.get
