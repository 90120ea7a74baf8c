"""Actions on the cloud, carried out in the fetch process of the row's table.

One function per kind and table: cancel a runner execution
(``Executions.CancelExecution``), a Vertex AI custom job
(``JobService.CancelCustomJob``) or a build (``CloudBuild.CancelBuild``). The
call only asks: the service confirms by what the next listing shows
(CANCELLING, then CANCELLED). A refusal for want of a permission names the
role that grants it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from arr_actors.sources.clients import Clients, require_project
from arr_actors.sources.errors import SERVICES, SourceError, api_core_name, translate

if TYPE_CHECKING:
    from arr_actors.config import Settings
    from arr_actors.messages import Action


@dataclass(frozen=True, slots=True)
class Role:
    title: str
    name: str


#: The role each cancel needs, by table (the viewer roles the tables need do not allow it).
CANCEL_ROLES: dict[str, tuple[str, Role]] = {
    "runner": ("run", Role("Cloud Run Developer", "roles/run.developer")),
    "vertex": ("aiplatform", Role("Vertex AI User", "roles/aiplatform.user")),
    "builds": ("cloudbuild", Role("Cloud Build Editor", "roles/cloudbuild.builds.editor")),
}

_clients: Clients | None = None


def _clients_for(settings: Settings) -> Clients:
    # One per fetch process, like the sources' own (channels are made in the child).
    global _clients
    if _clients is None or _clients.settings != settings:
        _clients = Clients(settings)
    return _clients


def run(settings: Settings, action: Action) -> None:
    """Carry out ``action``; raises SourceError saying why the service refused."""
    if action.kind != "cancel" or action.table not in CANCEL_ROLES:
        raise SourceError(f"{action.name}: cannot {action.kind} a row of the {action.table} table")
    service, role = CANCEL_ROLES[action.table]
    clients = _clients_for(settings)
    project = require_project(settings)
    call: Callable[[], Any] = {
        "runner": lambda: _cancel_execution(clients, settings, project, action),
        "vertex": lambda: _cancel_job(clients, settings, project, action),
        "builds": lambda: _cancel_build(clients, settings, project, action),
    }[action.table]
    try:
        call()
    except SourceError:
        raise
    except Exception as exc:
        if api_core_name(exc) in ("PermissionDenied", "Forbidden"):
            title = SERVICES[service].title
            raise SourceError(
                f"cannot cancel {action.name}: permission denied by {title}; your account needs the "
                f"{role.title} role ({role.name})"
            ) from exc
        if api_core_name(exc) == "FailedPrecondition":
            raise SourceError(f"cannot cancel {action.name}: {getattr(exc, 'message', exc)}") from exc
        raise SourceError(f"cannot cancel {action.name}: {translate(exc, service=service, where=action.region)}") from exc


def _cancel_execution(clients: Clients, settings: Settings, project: str, action: Action) -> None:
    from arr_actors.sources.cloudrun import CancelExecutionRequest

    name = f"projects/{project}/locations/{action.region}/jobs/{settings.runner_job}/executions/{action.ident}"
    clients.executions().cancel_execution(request=CancelExecutionRequest(name=name), timeout=settings.api.call_timeout_s)


def _cancel_job(clients: Clients, settings: Settings, project: str, action: Action) -> None:
    from arr_actors.sources.aiplatform import CancelCustomJobRequest

    name = f"projects/{project}/locations/{action.region}/customJobs/{action.ident}"
    clients.job_service(action.region).cancel_custom_job(
        request=CancelCustomJobRequest(name=name), timeout=settings.api.call_timeout_s
    )


def _cancel_build(clients: Clients, settings: Settings, project: str, action: Action) -> None:
    from google.cloud.devtools import cloudbuild_v1

    if action.region and action.region != "global":
        request = cloudbuild_v1.CancelBuildRequest(
            name=f"projects/{project}/locations/{action.region}/builds/{action.ident}",
            project_id=project,
            id=action.ident,
        )
    else:
        request = cloudbuild_v1.CancelBuildRequest(project_id=project, id=action.ident)
    clients.cloud_build().cancel_build(request=request, timeout=settings.api.call_timeout_s)


__all__ = ["CANCEL_ROLES", "run"]
