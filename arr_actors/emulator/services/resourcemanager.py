"""Resource Manager v3: ``Projects.GetProject`` and ``Projects.TestIamPermissions`` (what ``doctor`` asks).

``GetProject`` answers the emulator's project, by id or number. Any other
project is PERMISSION_DENIED with "... (or it may not exist)", as Google's APIs
answer for a project the caller cannot see (AIP-211: existence is not
disclosed). ``TestIamPermissions`` answers "the subset of the requested
permissions the caller holds": every one except those the control marks as
denied (``denied_permissions``). What the real method answers for a project
that does not exist is not documented; the emulator treats it like
``GetProject``.
"""

from __future__ import annotations

import importlib
from typing import Any

import grpc

from arr_actors.emulator.services.common import Abort, Method, MethodTable, Pb2Request, Service, match_name


class ResourceManager(Service):
    key = "resourcemanager"

    def methods(self) -> MethodTable:
        projects = importlib.import_module("google.cloud.resourcemanager_v3.types.projects")
        iam = importlib.import_module("google.iam.v1.iam_policy_pb2")
        self._projects = projects
        self._iam = iam
        return {
            "google.cloud.resourcemanager.v3.Projects": {
                "GetProject": Method(projects.GetProjectRequest, projects.Project.serialize, self.get_project),
                "TestIamPermissions": Method(
                    Pb2Request(iam.TestIamPermissionsRequest), lambda m: m.SerializeToString(), self.test_iam_permissions
                ),
            },
        }

    def _project_of(self, name: str, *, permission: str) -> None:
        parts = match_name("projects/{project}", name)
        if parts is None:
            raise Abort(grpc.StatusCode.INVALID_ARGUMENT, f"name {name!r} is not projects/PROJECT")
        if parts[0] not in (self.world.project, self.world.project_number):
            raise Abort(
                grpc.StatusCode.PERMISSION_DENIED,
                f"Permission '{permission}' denied on resource '//cloudresourcemanager.googleapis.com/{name}' "
                "(or it may not exist).",
            )

    def get_project(self, request: Any) -> Any:
        self._project_of(request.name, permission="resourcemanager.projects.get")
        return self._projects.Project(
            name=f"projects/{self.world.project_number}",
            project_id=self.world.project,
            display_name=self.world.project,
            state=self._projects.Project.State.ACTIVE,
            create_time=self.ts(self.world.clock.t0 - 400 * 86400),
        )

    def test_iam_permissions(self, request: Any) -> Any:
        self._project_of(request.resource, permission="resourcemanager.projects.get")
        denied = self.control.denied_permissions
        held = [p for p in request.permissions if p not in denied]
        return self._iam.TestIamPermissionsResponse(permissions=held)
