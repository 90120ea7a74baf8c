"""The cloud calls ``launch`` makes, each with a timeout, answering plain values.

Clients come from the shared factory (:mod:`arr_actors.sources.clients`), log
reads go through the shared reader and its project-wide limiter. Every failure
is raised as :class:`CallFailed` (service, gRPC code, a message the user can act
on); the driver counts and reports them. No GAPIC retry runs underneath: the
driver's own polling is the retry, so every failure is seen and counted.
Client libraries are imported here, lazily, never at import time of the package.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from arr_actors.diagnostics.text import one_line
from arr_actors.inert import inert as one_display_line
from arr_actors.launch.watch import CLOUD_LOGGING, CLOUD_RUN, EXECUTION_FAILED, VERTEX, ExecutionStatus, Job
from arr_actors.sources.common import epoch, last_segment, rfc3339
from arr_actors.sources.errors import SERVICES, translate
from arr_actors.sources.runner import QUEUE_ENV, execution_status

if TYPE_CHECKING:
    from arr_actors.config import Settings

#: Longest text kept from a cloud message (condition messages, job errors, names).
TEXT_LIMIT = 300
#: Pages of Vertex AI jobs read per look; with the server-side filter one page is the norm.
MAX_PAGES = 5
PAGE_SIZE = 100

#: Service title (as CallFailed names it) -> key of errors.SERVICES
_SERVICE_KEYS = {service.title: key for key, service in SERVICES.items()}


class CallFailed(Exception):
    """A cloud call failed; ``code`` is the gRPC status name (or the exception type)."""

    def __init__(self, *, service: str, code: str, message: str) -> None:
        super().__init__(f"{service}: {code}: {message}")
        self.service = service
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Launched:
    name: str  # projects/P/locations/R/jobs/J/executions/E
    created_at: float | None  # epoch seconds on the server's clock, None if not given

    @property
    def short_name(self) -> str:
        return last_segment(self.name)


def inert(text: object) -> str:
    """Untrusted cloud text as one short, safe line."""
    return one_line(one_display_line(str(text or "")), limit=TEXT_LIMIT)


def error_code(exc: BaseException) -> str:
    """The gRPC status name of a failure, else its exception type."""
    status = getattr(exc, "grpc_status_code", None)
    if status is not None and getattr(status, "name", None):
        return str(status.name)
    code = getattr(exc, "code", None)
    if callable(code):  # a bare grpc.RpcError
        try:
            return str(code().name)
        except Exception:
            pass
    if isinstance(exc, TimeoutError):
        return "DEADLINE_EXCEEDED"
    if exc.__cause__ is not None:  # a SourceError keeps the client library's error as its cause
        return error_code(exc.__cause__)
    return type(exc).__name__


def _failed(exc: Exception, *, service: str, timeout_s: float, where: str) -> CallFailed:
    code = error_code(exc)
    if code == "DEADLINE_EXCEEDED":
        message = (
            f"{service} did not answer within {timeout_s:g} s ({where}); "
            "raise api.call_timeout_s if the network is slow"
        )
    else:
        message = translate(exc, service=_SERVICE_KEYS[service], timeout_s=timeout_s, where=where).message
    return CallFailed(service=service, code=code, message=inert(message))


def execution_status_from_proto(execution: Any) -> ExecutionStatus:
    """The status as the runner table computes it, plus Cloud Run's own word on a failure."""
    state = execution_status(execution)
    message = ""
    if state in EXECUTION_FAILED:
        for condition in execution.conditions:
            if condition.type_ == "Completed" and condition.message:
                message = inert(condition.message)
    return ExecutionStatus(state, message)


def job_from_proto(job: Any) -> Job | None:
    created = epoch(job.create_time)
    if created is None:
        return None
    return Job(
        id=inert(last_segment(job.name)),
        display_name=inert(job.display_name),
        state=job.state.name,
        created_at=created,
        error=inert(job.error.message) if job.error and job.error.message else "",
    )


class Cloud:
    """The calls of one launch, against one project and region."""

    def __init__(self, settings: Settings, *, region: str) -> None:
        from arr_actors.sources.clients import Clients

        self.settings = settings
        self.region = region
        self.clients = Clients(settings)
        # Vertex AI filters by create_time server-side; a server that refuses the
        # filter gets unfiltered listings from then on (jobs are filtered here anyway).
        self._server_filter = True

    def close(self) -> None:
        self.clients.close()

    @property
    def location(self) -> str:
        return f"projects/{self.settings.project}/locations/{self.region}"

    def run_job(self, *, queue: str, timeout_s: float) -> Launched:
        """Start one execution of the runner job with the queue as an environment override."""
        from google.cloud import run_v2

        request = run_v2.RunJobRequest(
            name=f"{self.location}/jobs/{self.settings.runner_job}",
            overrides=run_v2.RunJobRequest.Overrides(
                container_overrides=[
                    run_v2.RunJobRequest.Overrides.ContainerOverride(env=[run_v2.EnvVar(name=QUEUE_ENV, value=queue)])
                ]
            ),
        )
        try:
            client = self.clients.jobs()
            # Not retried: a retry after a lost answer could start a second execution.
            operation = client.run_job(request=request, retry=None, timeout=timeout_s)
            execution = operation.metadata
            if (execution is None or not execution.name) and operation.done():
                execution = operation.result(timeout=timeout_s, retry=None)
        except Exception as exc:
            raise _failed(exc, service=CLOUD_RUN, timeout_s=timeout_s, where=self.region) from None
        if execution is None or not execution.name:
            raise CallFailed(
                service=CLOUD_RUN, code="NO_EXECUTION", message="RunJob did not say which execution it started"
            )
        return Launched(name=execution.name, created_at=epoch(execution.create_time))

    def execution(self, name: str, *, timeout_s: float) -> ExecutionStatus:
        try:
            proto = self.clients.executions().get_execution(name=name, retry=None, timeout=timeout_s)
            return execution_status_from_proto(proto)
        except Exception as exc:
            raise _failed(exc, service=CLOUD_RUN, timeout_s=timeout_s, where=self.region) from None

    def jobs_since(self, since: float, *, timeout_s: float) -> tuple[Job, ...]:
        """Vertex AI custom jobs of the region created at or after ``since`` (epoch seconds)."""
        try:
            return self._list_jobs(since, timeout_s=timeout_s)
        except Exception as exc:
            if self._server_filter and error_code(exc) == "INVALID_ARGUMENT":
                self._server_filter = False
                try:
                    return self._list_jobs(since, timeout_s=timeout_s)
                except Exception as again:
                    exc = again
            raise _failed(exc, service=VERTEX, timeout_s=timeout_s, where=self.region) from None

    def _list_jobs(self, since: float, *, timeout_s: float) -> tuple[Job, ...]:
        from arr_actors.sources.aiplatform import ListCustomJobsRequest

        request = ListCustomJobsRequest(parent=self.location, page_size=PAGE_SIZE)
        if self._server_filter:
            request.filter = f'create_time>="{rfc3339(since)}"'
        pager = self.clients.job_service(self.region).list_custom_jobs(request=request, retry=None, timeout=timeout_s)
        jobs: list[Job] = []
        for number, page in enumerate(pager.pages):
            for proto in page.custom_jobs:
                job = job_from_proto(proto)
                if job is not None and job.created_at >= since:
                    jobs.append(job)
            if number + 1 >= MAX_PAGES:
                break
        return tuple(jobs)

    def execution_log(self, name: str, *, timeout_s: float, since: float | None) -> list[str]:
        """The execution's log lines, oldest first: one read through the shared reader and limiter.

        ``name`` is the short execution name; ``since`` (epoch) bounds the search.
        Waits at most ``timeout_s`` for a slot of the project's Cloud Logging budget.
        """
        from arr_actors.sources.logs import LogReadDeferred, read_execution_logs

        settings = self.settings.with_values({"api.call_timeout_s": max(1.0, timeout_s)})
        try:
            found = read_execution_logs(
                settings, region=self.region, executions=[name], since=since, wait_s=timeout_s, clients=self.clients
            )
        except LogReadDeferred as exc:
            raise CallFailed(service=CLOUD_LOGGING, code="READ_LIMIT", message=inert(exc.message)) from None
        except Exception as exc:
            raise _failed(exc, service=CLOUD_LOGGING, timeout_s=timeout_s, where=self.region) from None
        return list(found.get(name, ()))
