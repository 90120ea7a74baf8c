"""The checks of ``doctor``: each asks the real service the smallest question that proves one thing.

A check is a function of a :class:`Probe` (settings, clients, what earlier
checks learned) returning a :class:`Result`: passed, failed with the exact
command that fixes it, or skipped because something it needs failed first.
Every cloud call carries ``settings.api.call_timeout_s``; the checks run in a child
process the parent kills when one overruns (see ``arr_actors.doctor.guard``).

What is asked, and why that call:

- credentials: ``google.auth.default()`` finds Application Default
  Credentials; the account is the service account's email, else the token's
  (Google's ``tokeninfo``).
- project: Resource Manager ``GetProject``.
- each API: the smallest read of the monitor itself, one item — it fails with
  ``SERVICE_DISABLED`` when the API is off and ``IAM_PERMISSION_DENIED`` when
  the read permission is missing.
- permissions: Resource Manager ``TestIamPermissions`` on the project with
  every permission the monitor and ``launch`` use; it answers the subset held.
- runner job: one ``ListExecutions`` item per configured region, in parallel:
  ``NOT_FOUND`` says the job is not deployed there.
- W&B: GraphQL ``viewer`` (the key), ``entity``, ``project``, and the launch
  queue (``runQueue`` of the entity's ``model-registry`` project, where W&B
  keeps launch queues).
"""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from arr_actors.sources.errors import SERVICES, is_credentials_error

if TYPE_CHECKING:
    from arr_actors.config import Settings
    from arr_actors.sources.clients import Clients

#: What the monitor and ``launch`` need, by permission, with the predefined role that grants it.
PERMISSIONS: dict[str, tuple[str, str]] = {
    "run.executions.list": ("roles/run.viewer", "the runner table"),
    "run.executions.get": ("roles/run.viewer", "diagnose --execution and launch"),
    "run.jobs.run": ("roles/run.developer", "launch"),
    "run.jobs.runWithOverrides": ("roles/run.developer", "launch (it sets the queue)"),
    "aiplatform.customJobs.list": ("roles/aiplatform.viewer", "the Vertex AI table and launch"),
    "run.executions.cancel": ("roles/run.developer", "cancelling an execution from the monitor"),
    "aiplatform.customJobs.cancel": ("roles/aiplatform.user", "cancelling a Vertex AI job from the monitor"),
    "cloudbuild.builds.list": ("roles/cloudbuild.builds.viewer", "the builds table"),
    "logging.logEntries.list": ("roles/logging.viewer", "runner errors and diagnose"),
}
#: W&B keeps an entity's launch queues in this project (``wandb.sdk.launch.utils.LAUNCH_DEFAULT_PROJECT``).
LAUNCH_PROJECT = "model-registry"
WANDB_DEFAULT_URL = "https://api.wandb.ai"
RESOURCE_MANAGER = "cloudresourcemanager.googleapis.com"


@dataclass(frozen=True, slots=True)
class Result:
    """One line of the report: ``ok`` None is a check that could not run (something before it failed)."""

    check: str
    ok: bool | None
    detail: str
    fix: str = ""


@dataclass(slots=True)
class Probe:
    """What the checks share inside the child: settings, clients, facts learned so far."""

    settings: Settings
    clients: Clients
    failed: set[str] = field(default_factory=set)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def emulated(self) -> bool:
        return bool(self.settings.emulator.address)

    @property
    def project(self) -> str:
        return self.settings.project

    def member(self) -> str:
        """``user:EMAIL`` / ``serviceAccount:EMAIL`` for a binding command, or a placeholder."""
        account = str(self.facts.get("account", ""))
        if not account or "@" not in account:
            return "user:YOUR-ACCOUNT"
        kind = "serviceAccount" if account.endswith(".gserviceaccount.com") else "user"
        return f"{kind}:{account}"


Check = Callable[[Probe], Result]


# ------------------------------------------------------------------ error meaning


def _reason(exc: BaseException) -> str:
    """The ``ErrorInfo.reason`` of a Google API error (``SERVICE_DISABLED``...), or ""."""
    reason = getattr(exc, "reason", None)
    if reason:
        return str(reason)
    for detail in getattr(exc, "details", None) or ():
        if getattr(detail, "reason", ""):
            return str(detail.reason)
    return ""


def _api_error(exc: BaseException) -> str:
    for cls in type(exc).__mro__:
        if cls.__module__ == "google.api_core.exceptions":
            return cls.__name__
    return ""


def _message(exc: BaseException) -> str:
    text = " ".join(str(getattr(exc, "message", None) or exc).split())
    return text if len(text) <= 200 else text[:197] + "..."


def _is_disabled(exc: BaseException) -> bool:
    text = str(exc)
    return _reason(exc) == "SERVICE_DISABLED" or "has not been used in project" in text or "it is disabled" in text


def google_failure(probe: Probe, check: str, exc: BaseException, *, api: str, permission: str = "") -> Result:
    """The result of a failed Google call: what it means and the command that fixes it."""
    project = probe.project
    login = "gcloud auth application-default login"
    if is_credentials_error(exc) or _api_error(exc) == "Unauthenticated":
        return Result(check, False, f"not signed in: {_message(exc)}", login)
    name = _api_error(exc)
    if name in ("PermissionDenied", "Forbidden") and _is_disabled(exc):
        return Result(check, False, f"{api} is not enabled in {project}", f"gcloud services enable {api} --project {project}")
    if name in ("PermissionDenied", "Forbidden"):
        role = PERMISSIONS.get(permission, ("roles/viewer", ""))[0]
        what = f" ({permission})" if permission else ""
        return Result(
            check,
            False,
            f"permission denied{what}: {_message(exc)}",
            f"gcloud projects add-iam-policy-binding {project} --member={probe.member()} --role={role}",
        )
    if name == "DeadlineExceeded" or isinstance(exc, TimeoutError):
        return Result(
            check,
            False,
            f"no answer within {probe.settings.api.call_timeout_s:g} s",
            "check the network, or raise api.call_timeout_s (ARR_API_CALL_TIMEOUT_S=60)",
        )
    if isinstance(exc, ReadBudgetUsed):
        return Result(check, False, str(exc))
    return Result(check, False, f"{name or type(exc).__name__}: {_message(exc)}")


# ------------------------------------------------------------------ Google checks


def check_settings(probe: Probe) -> Result:
    missing = []
    if not probe.project:
        missing.append("`project` (ARR_PROJECT)")
    if not probe.settings.wandb.project:
        missing.append("`wandb.project` (ARR_WANDB_PROJECT)")
    if missing:
        return Result(
            "settings",
            False,
            "not set: " + ", ".join(missing),
            "add them to arr_actors.toml, e.g. project = \"$(gcloud config get-value project)\"; "
            "[wandb] project = \"YOUR-W&B-PROJECT\"",
        )
    where = probe.settings.config_file or "defaults and ARR_* variables"
    return Result("settings", True, f"project {probe.project}, {len(probe.settings.regions)} regions ({where})")


def check_credentials(probe: Probe) -> Result:
    if probe.emulated:
        probe.facts["account"] = "emulator"
        return Result("credentials", True, f"none needed: the emulator at {probe.settings.emulator.address}")
    try:
        import google.auth
        import google.auth.transport.requests

        credentials, _ = google.auth.default(scopes=["https://www.googleapis.com/auth/cloud-platform"])
    except Exception as exc:
        return Result(
            "credentials", False, f"no Application Default Credentials: {_message(exc)}",
            "gcloud auth application-default login",
        )
    account = str(getattr(credentials, "service_account_email", "") or "")
    try:
        import requests

        session = requests.Session()
        request = google.auth.transport.requests.Request(session)
        credentials.refresh(request)
        if not account or "@" not in account:
            answer = session.get(
                "https://oauth2.googleapis.com/tokeninfo",
                params={"access_token": credentials.token},
                timeout=probe.settings.api.call_timeout_s,
            )
            account = str(answer.json().get("email", "")) if answer.ok else ""
    except Exception as exc:
        return Result(
            "credentials", False, f"the credentials do not work: {_message(exc)}",
            "gcloud auth application-default login",
        )
    probe.facts["account"] = account
    kind = type(credentials).__module__.rsplit(".", 1)[-1]
    return Result("credentials", True, f"{account or 'an account without an e-mail scope'} ({kind})")


def _resource_manager(probe: Probe) -> Any:
    from google.cloud import resourcemanager_v3

    if probe.emulated:
        import grpc
        from google.cloud.resourcemanager_v3.services.projects.transports import ProjectsGrpcTransport

        channel = grpc.insecure_channel(probe.settings.emulator.address)
        return resourcemanager_v3.ProjectsClient(transport=ProjectsGrpcTransport(channel=channel))
    return resourcemanager_v3.ProjectsClient()


def _unimplemented(exc: BaseException) -> bool:
    return _api_error(exc) in ("MethodNotImplemented", "NotImplemented")


def check_project(probe: Probe) -> Result:
    try:
        project = _resource_manager(probe).get_project(
            name=f"projects/{probe.project}", timeout=probe.settings.api.call_timeout_s, retry=None
        )
    except Exception as exc:
        if _unimplemented(exc):
            return Result("project", None, "this endpoint serves no Resource Manager (the API checks below still ask)")
        if _api_error(exc) in ("PermissionDenied", "Forbidden", "NotFound") and not _is_disabled(exc):
            return Result(
                "project",
                False,
                f"{probe.project} does not exist or {probe.facts.get('account') or 'this account'} cannot see it",
                "gcloud projects list   # then set `project` in arr_actors.toml to one of them",
            )
        return google_failure(probe, "project", exc, api=RESOURCE_MANAGER)
    state = getattr(project.state, "name", str(project.state))
    number = project.name.rsplit("/", 1)[-1]
    if state != "ACTIVE":
        return Result("project", False, f"{probe.project} is {state}", f"gcloud projects undelete {probe.project}")
    return Result("project", True, f"{probe.project} (number {number}, {project.display_name or 'no display name'})")


def _api_check(title: str, service: str, permission: str, call: Callable[[Probe], Any]) -> Check:
    api = SERVICES[service].api

    def check(probe: Probe) -> Result:
        try:
            call(probe)
        except Exception as exc:
            return google_failure(probe, title, exc, api=api, permission=permission)
        return Result(title, True, f"enabled; {permission} allowed")

    check.__name__ = f"check_{service}"
    return check


def _first_region(probe: Probe) -> str:
    return probe.settings.regions[0]


def _read_run(probe: Probe) -> Any:
    # "-" lists the executions of every job in the region (documented in ListExecutionsRequest.parent),
    # so this proves the API and the permission whether or not the runner job is deployed there.
    parent = f"projects/{probe.project}/locations/{_first_region(probe)}/jobs/-"
    pager = probe.clients.executions().list_executions(
        request={"parent": parent, "page_size": 1}, timeout=probe.settings.api.call_timeout_s, retry=None
    )
    return pager.executions


def _read_vertex(probe: Probe) -> Any:
    region = _first_region(probe)
    pager = probe.clients.job_service(region).list_custom_jobs(
        request={"parent": f"projects/{probe.project}/locations/{region}", "page_size": 1},
        timeout=probe.settings.api.call_timeout_s,
        retry=None,
    )
    return pager.custom_jobs


def _read_build(probe: Probe) -> Any:
    pager = probe.clients.cloud_build().list_builds(
        request={"project_id": probe.project, "parent": f"projects/{probe.project}/locations/global", "page_size": 1},
        timeout=probe.settings.api.call_timeout_s,
        retry=None,
    )
    return pager.builds


class ReadBudgetUsed(Exception):
    """No Cloud Logging read was made: the project's per-minute budget is spent."""


def _read_logging(probe: Probe) -> Any:
    from arr_actors.sources import limiter as limiter_mod

    # One call of the project's 60 per minute, like every other reader.
    if not limiter_mod.for_settings(probe.settings).acquire(min(10.0, probe.settings.api.call_timeout_s)):
        raise ReadBudgetUsed(
            f"the project's Cloud Logging budget ({probe.settings.api.logging_reads_per_minute} reads per minute) "
            "is used up for now; run doctor again in a minute"
        )
    since = datetime.fromtimestamp(int(time.time()) - 60, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    pager = probe.clients.logging().list_log_entries(
        request={
            "resource_names": [f"projects/{probe.project}"],
            "filter": f'resource.type="cloud_run_job" AND timestamp>="{since}"',
            "page_size": 1,
        },
        timeout=probe.settings.api.call_timeout_s,
        retry=None,
    )
    return pager.entries


check_run = _api_check("Cloud Run API", "run", "run.executions.list", _read_run)
check_vertex = _api_check("Vertex AI API", "aiplatform", "aiplatform.customJobs.list", _read_vertex)
check_build = _api_check("Cloud Build API", "cloudbuild", "cloudbuild.builds.list", _read_build)
check_logging = _api_check("Cloud Logging API", "logging", "logging.logEntries.list", _read_logging)


def check_permissions(probe: Probe) -> Result:
    wanted = list(PERMISSIONS)
    try:
        answer = _resource_manager(probe).test_iam_permissions(
            request={"resource": f"projects/{probe.project}", "permissions": wanted},
            timeout=probe.settings.api.call_timeout_s,
            retry=None,
        )
    except Exception as exc:
        if _unimplemented(exc):
            return Result("permissions", None, "this endpoint serves no Resource Manager to test permissions")
        return google_failure(probe, "permissions", exc, api=RESOURCE_MANAGER)
    held = set(answer.permissions)
    missing = [p for p in wanted if p not in held]
    if not missing:
        return Result("permissions", True, f"all {len(wanted)} the monitor and launch use")
    roles = sorted({PERMISSIONS[p][0] for p in missing})
    needed_by = "; ".join(f"{p} ({PERMISSIONS[p][1]})" for p in missing)
    fix = " && ".join(
        f"gcloud projects add-iam-policy-binding {probe.project} --member={probe.member()} --role={role}"
        for role in roles
    )
    return Result("permissions", False, f"missing {needed_by}", fix)


def check_runner_job(probe: Probe) -> Result:
    settings = probe.settings
    job = settings.runner_job

    def ask(region: str) -> bool:
        parent = f"projects/{probe.project}/locations/{region}/jobs/{job}"
        try:
            probe.clients.executions().list_executions(
                request={"parent": parent, "page_size": 1}, timeout=settings.api.call_timeout_s, retry=None
            )
        except Exception as exc:
            if _api_error(exc) == "NotFound":
                return False
            raise
        return True

    deployed: list[str] = []
    absent: list[str] = []
    failed: list[tuple[str, BaseException]] = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=min(32, len(settings.regions))) as pool:
        futures = {region: pool.submit(ask, region) for region in settings.regions}
        for region, future in futures.items():
            try:
                (deployed if future.result() else absent).append(region)
            except Exception as exc:
                failed.append((region, exc))
    if failed and not deployed and not absent:
        return google_failure(probe, "runner job", failed[0][1], api=SERVICES["run"].api, permission="run.executions.list")
    if not deployed:
        return Result(
            "runner job",
            False,
            f"{job} is deployed in none of the {len(settings.regions)} configured regions",
            f"gcloud run jobs deploy {job} --image IMAGE --region {settings.regions[0]} --project {probe.project}"
            "   # image: see launcher-image/",
        )
    if len(deployed) == len(settings.regions):
        detail = f"{job} deployed in all {len(deployed)} configured regions"
    else:
        detail = f"{job} deployed in {len(deployed)} of {len(settings.regions)} regions: {', '.join(deployed)}"
    if failed:
        detail += "; not asked: " + ", ".join(f"{r} ({_message(e)})" for r, e in failed)
    if absent:
        return Result(
            "runner job",
            False,
            detail + f"; not in: {', '.join(absent)}",
            f"export ARR_REGIONS={','.join(deployed)}   # or regions = [...] in arr_actors.toml",
        )
    return Result("runner job", not failed, detail)


# ------------------------------------------------------------------ W&B checks


class WandbError(Exception):
    """A W&B GraphQL call failed; ``status`` is the HTTP status (0 without an answer)."""

    def __init__(self, message: str, *, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


def _wandb_key(probe: Probe) -> str | None:
    from arr_actors.sources.clients import wandb_api_key

    key = wandb_api_key(probe.settings)
    if key:
        return key
    import netrc
    from urllib.parse import urlparse

    host = urlparse(probe.settings.emulator.wandb_url or WANDB_DEFAULT_URL).hostname or ""
    try:
        found = netrc.netrc().authenticators(host)
    except (OSError, netrc.NetrcParseError):
        return None
    return found[2] if found and found[2] else None


def wandb_query(probe: Probe, query: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The ``data`` of one GraphQL query to the configured W&B server, with the call timeout."""
    import requests

    key = probe.facts.get("wandb_key") or _wandb_key(probe)
    if not key:
        raise WandbError("no W&B API key", status=401)
    probe.facts["wandb_key"] = key
    url = (probe.settings.emulator.wandb_url or WANDB_DEFAULT_URL).rstrip("/") + "/graphql"
    try:
        answer = requests.post(
            url, json={"query": query, "variables": dict(variables or {})}, auth=("api", key),
            timeout=probe.settings.api.call_timeout_s,
        )
    except requests.Timeout:
        raise WandbError(f"no answer from {url} within {probe.settings.api.call_timeout_s:g} s") from None
    except requests.RequestException as exc:
        raise WandbError(f"cannot reach {url}: {type(exc).__name__}") from None
    try:
        doc = answer.json()
    except ValueError:
        doc = {}
    errors = doc.get("errors") if isinstance(doc, dict) else None
    if answer.status_code != 200 or errors:
        messages = "; ".join(str(e.get("message", e)) for e in errors or () if isinstance(e, dict))
        raise WandbError(messages or f"HTTP {answer.status_code}", status=answer.status_code)
    data = doc.get("data")
    return data if isinstance(data, dict) else {}


def _wandb_failure(check: str, exc: Exception) -> Result:
    if isinstance(exc, WandbError) and exc.status in (401, 403):
        return Result(check, False, f"W&B rejected the key: {exc}", "wandb login --relogin   # or export WANDB_API_KEY=...")
    return Result(check, False, str(exc) if isinstance(exc, WandbError) else f"{type(exc).__name__}: {exc}")


def check_wandb_key(probe: Probe) -> Result:
    try:
        viewer = wandb_query(probe, "query Viewer { viewer { username entity } }").get("viewer")
    except Exception as exc:
        return _wandb_failure("W&B key", exc)
    if not viewer:
        return Result("W&B key", False, "W&B knows no user for this key", "wandb login --relogin")
    probe.facts["wandb_entity"] = probe.settings.wandb.entity or viewer.get("entity") or ""
    return Result("W&B key", True, f"user {viewer.get('username')} (default entity {viewer.get('entity')})")


def check_wandb_entity(probe: Probe) -> Result:
    entity = probe.facts.get("wandb_entity") or probe.settings.wandb.entity
    if not entity:
        return Result("W&B entity", False, "no entity set and the key has no default", "set [wandb] entity in arr_actors.toml")
    try:
        found = wandb_query(probe, "query Entity($name: String!) { entity(name: $name) { name } }", {"name": entity})
    except Exception as exc:
        return _wandb_failure("W&B entity", exc)
    if not found.get("entity"):
        return Result(
            "W&B entity", False, f"{entity} does not exist or the key cannot see it",
            "set [wandb] entity in arr_actors.toml (ARR_WANDB_ENTITY) to your team or user name",
        )
    return Result("W&B entity", True, entity)


_PROJECT_QUERY = "query Project($entity: String!, $name: String!) { project(entityName: $entity, name: $name) { name } }"


def check_wandb_project(probe: Probe) -> Result:
    entity = probe.facts.get("wandb_entity") or probe.settings.wandb.entity
    name = probe.settings.wandb.project
    try:
        found = wandb_query(probe, _PROJECT_QUERY, {"entity": entity, "name": name})
    except Exception as exc:
        return _wandb_failure("W&B project", exc)
    if not found.get("project"):
        return Result(
            "W&B project", False, f"{entity}/{name} does not exist",
            "set [wandb] project in arr_actors.toml (ARR_WANDB_PROJECT) to the project your runs log to",
        )
    return Result("W&B project", True, f"{entity}/{name}")


_QUEUE_QUERY = (
    "query Queue($entity: String!, $project: String!, $queue: String!) "
    "{ project(entityName: $entity, name: $project) { runQueue(name: $queue) { id name } } }"
)


def check_wandb_queue(probe: Probe) -> Result:
    entity = probe.facts.get("wandb_entity") or probe.settings.wandb.entity
    queue = probe.settings.queue
    try:
        found = wandb_query(probe, _QUEUE_QUERY, {"entity": entity, "project": LAUNCH_PROJECT, "queue": queue})
    except Exception as exc:
        return _wandb_failure("W&B queue", exc)
    if not (found.get("project") or {}).get("runQueue"):
        return Result(
            "W&B queue", False, f"launch queue {queue} not found in {entity}",
            f"python -c \"import wandb; wandb.Api().create_run_queue(name='{queue}', type='vertex', entity='{entity}')\"",
        )
    return Result("W&B queue", True, f"{entity}/{queue}")


#: (check, the checks whose failure makes it pointless), in the order printed.
CHECKS: tuple[tuple[Check, tuple[str, ...]], ...] = (
    (check_settings, ()),
    (check_credentials, ("settings",)),
    (check_project, ("settings", "credentials")),
    (check_run, ("settings", "credentials")),
    (check_vertex, ("settings", "credentials")),
    (check_build, ("settings", "credentials")),
    (check_logging, ("settings", "credentials")),
    (check_permissions, ("settings", "credentials")),
    (check_runner_job, ("settings", "credentials", "Cloud Run API")),
    (check_wandb_key, ("settings",)),
    (check_wandb_entity, ("settings", "W&B key")),
    (check_wandb_project, ("settings", "W&B key", "W&B entity")),
    (check_wandb_queue, ("settings", "W&B key", "W&B entity")),
)

#: The name each check reports under, in order (the parent needs them to report a hung check).
NAMES: tuple[str, ...] = (
    "settings", "credentials", "project", "Cloud Run API", "Vertex AI API", "Cloud Build API",
    "Cloud Logging API", "permissions", "runner job", "W&B key", "W&B entity", "W&B project", "W&B queue",
)


def run_checks(probe: Probe, *, skip: set[str], emit: Callable[[str, Result | None], None]) -> None:
    """Run every check not in ``skip``; ``emit(name, None)`` as one starts, ``emit(name, result)`` when done."""
    for (check, needs), name in zip(CHECKS, NAMES, strict=True):
        if name in skip:
            continue
        blocked = [n for n in needs if n in probe.failed]
        if blocked:
            result = Result(name, None, f"not checked: {blocked[0]} failed")
        else:
            emit(name, None)
            try:
                result = check(probe)
            except Exception as exc:  # a check's own bug must not hide the others
                result = Result(name, False, f"{type(exc).__name__}: {_message(exc)}")
        if result.ok is not True:
            probe.failed.add(name)
        emit(name, result)
