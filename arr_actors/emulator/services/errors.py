"""Errors as Google's APIs send them: the status, the message text, and ``ErrorInfo`` in the details.

``google.api_core`` reads the ``grpc-status-details-bin`` trailer into an
exception's ``details`` and ``reason``, so the product's error-to-advice
mapping meets what it meets in a real project. The texts follow the public
error reports of these APIs:

- ``SERVICE_DISABLED`` (PERMISSION_DENIED): "<API title> has not been used in
  project N before or it is disabled. Enable it by visiting https://console.
  developers.google.com/apis/api/<api>/overview?project=N then retry. ...";
  ErrorInfo domain ``googleapis.com``, metadata ``service``, ``consumer``.
- ``IAM_PERMISSION_DENIED`` (PERMISSION_DENIED): "Permission '<permission>'
  denied on resource '//<api>/projects/<project>' (or it may not exist).";
  ErrorInfo domain ``iam.googleapis.com``, metadata ``permission``. The
  resource named here is the project; the real service names the exact
  resource of the call, which the emulator does not model.
- ``CREDENTIALS_MISSING`` (UNAUTHENTICATED): "Request is missing required
  authentication credential. Expected OAuth 2 access token, login cookie or
  other valid authentication credential. See https://developers.google.com/
  identity/sign-in/web/devconsole-project."; domain ``googleapis.com``.
- ``RATE_LIMIT_EXCEEDED`` (RESOURCE_EXHAUSTED): "Quota exceeded for quota
  metric ... of service '<api>' for consumer 'project_number:N'.".

Other status codes carry Google's generic texts where they are well known
("The service is currently unavailable.", "Internal error encountered.") and
no ErrorInfo: whether the real services attach one to those is not
documented, so the emulator does not invent it.
"""

from __future__ import annotations

from typing import Any

import grpc

#: service key -> (API name, the title its SERVICE_DISABLED message uses)
APIS: dict[str, tuple[str, str]] = {
    "run": ("run.googleapis.com", "Cloud Run Admin API"),
    "vertex": ("aiplatform.googleapis.com", "Vertex AI API"),
    "build": ("cloudbuild.googleapis.com", "Cloud Build API"),
    "logging": ("logging.googleapis.com", "Cloud Logging API"),
    "resourcemanager": ("cloudresourcemanager.googleapis.com", "Cloud Resource Manager API"),
}

#: The IAM permission each emulated method checks (TestIamPermissions needs none).
PERMISSIONS: dict[str, str] = {
    "ListExecutions": "run.executions.list",
    "GetExecution": "run.executions.get",
    "CancelExecution": "run.executions.cancel",
    "CancelCustomJob": "aiplatform.customJobs.cancel",
    "RunJob": "run.jobs.runWithOverrides",
    "ListCustomJobs": "aiplatform.customJobs.list",
    "GetCustomJob": "aiplatform.customJobs.get",
    "ListBuilds": "cloudbuild.builds.list",
    "ListLogEntries": "logging.logEntries.list",
    "GetProject": "resourcemanager.projects.get",
}

_GENERIC = {
    "UNAVAILABLE": "The service is currently unavailable.",
    "INTERNAL": "Internal error encountered.",
    "DEADLINE_EXCEEDED": "Deadline exceeded.",
}


def reason_of(code: str, reason: str, *, method: str) -> str:
    """The reason a fault of ``code`` carries: the one asked for, else the usual one for the code."""
    if reason:
        return reason
    if code == "PERMISSION_DENIED" and method in PERMISSIONS:
        return "IAM_PERMISSION_DENIED"
    if code == "UNAUTHENTICATED":
        return "CREDENTIALS_MISSING"
    if code == "RESOURCE_EXHAUSTED":
        return "RATE_LIMIT_EXCEEDED"
    return ""


def describe(
    code: str, reason: str, *, service: str, method: str, project: str, number: str
) -> tuple[str, tuple[tuple[str, str, dict[str, str]], ...]]:
    """(message, ErrorInfos as (reason, domain, metadata)) of an error Google would send."""
    api, title = APIS.get(service, ("", ""))
    if reason == "SERVICE_DISABLED":
        url = f"https://console.developers.google.com/apis/api/{api}/overview?project={number}"
        message = (
            f"{title} has not been used in project {number} before or it is disabled. Enable it by visiting {url} "
            "then retry. If you enabled this API recently, wait a few minutes for the action to propagate to our "
            "systems and retry."
        )
        metadata = {"service": api, "consumer": f"projects/{number}", "activationUrl": url, "serviceTitle": title}
        return message, (("SERVICE_DISABLED", "googleapis.com", metadata),)
    if reason == "IAM_PERMISSION_DENIED":
        permission = PERMISSIONS.get(method, "")
        message = f"Permission '{permission}' denied on resource '//{api}/projects/{project}' (or it may not exist)."
        return message, (("IAM_PERMISSION_DENIED", "iam.googleapis.com", {"permission": permission}),)
    if reason == "CREDENTIALS_MISSING":
        message = (
            "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie "
            "or other valid authentication credential. "
            "See https://developers.google.com/identity/sign-in/web/devconsole-project."
        )
        return message, (("CREDENTIALS_MISSING", "googleapis.com", {"service": api, "method": method}),)
    if reason == "RATE_LIMIT_EXCEEDED":
        message = (
            f"Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute' of service "
            f"'{api}' for consumer 'project_number:{number}'."
        )
        metadata = {"service": api, "consumer": f"projects/{number}", "quota_metric": f"{api}/read_requests"}
        return message, (("RATE_LIMIT_EXCEEDED", "googleapis.com", metadata),)
    return _GENERIC.get(code, f"{code} (the real text of this status is not modelled)"), ()


def abort(
    context: grpc.ServicerContext, code: str, reason: str, *, service: str, method: str, project: str, number: str
) -> None:
    """End the call as Google would for ``code`` / ``reason`` (raises, like ``context.abort``)."""
    from google.protobuf import any_pb2
    from google.rpc import error_details_pb2, status_pb2
    from grpc_status import rpc_status

    reason = reason_of(code, reason, method=method)
    message, infos = describe(code, reason, service=service, method=method, project=project, number=number)
    details = []
    for why, domain, metadata in infos:
        packed = any_pb2.Any()
        packed.Pack(error_details_pb2.ErrorInfo(reason=why, domain=domain, metadata=metadata))
        details.append(packed)
    status: Any = status_pb2.Status(code=grpc.StatusCode[code].value[0], message=message, details=details)
    context.abort_with_status(rpc_status.to_status(status))
