"""Errors a table can show: what went wrong and what the user can do about it.

Cloud and W&B client libraries raise their own exception types. ``translate``
turns the ones a user can act on (credentials, roles, disabled APIs, timeouts,
missing settings) into a :class:`SourceError` whose message says what to do.
This module imports nothing heavy: it recognises exception types by their
module and class name, so the UI process may import it freely.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


class SourceError(Exception):
    """A fetch failed for a reason the user can act on; ``str()`` is the whole message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True, slots=True)
class Service:
    """A Google Cloud API as the user meets it: in messages, IAM and ``gcloud services``."""

    title: str
    api: str
    role_title: str
    role: str


SERVICES: dict[str, Service] = {
    "run": Service("Cloud Run", "run.googleapis.com", "Cloud Run Viewer", "roles/run.viewer"),
    "aiplatform": Service("Vertex AI", "aiplatform.googleapis.com", "Vertex AI Viewer", "roles/aiplatform.viewer"),
    "cloudbuild": Service(
        "Cloud Build", "cloudbuild.googleapis.com", "Cloud Build Viewer", "roles/cloudbuild.builds.viewer"
    ),
    "logging": Service("Cloud Logging", "logging.googleapis.com", "Logs Viewer", "roles/logging.viewer"),
}

LOGIN_HINT = "run `gcloud auth application-default login`"
NO_CREDENTIALS = f"no valid Google Cloud credentials: {LOGIN_HINT}"
WANDB_LOGIN_HINT = "run `wandb login` or set WANDB_API_KEY"

# Texts by which a permission error says the API itself is off, not a role.
_DISABLED_MARKERS = ("SERVICE_DISABLED", "has not been used in project", "is disabled", "API not enabled")
# gRPC reports a failed credentials refresh inside the channel as UNAVAILABLE with this text.
_CREDENTIAL_PLUGIN_MARKER = "Getting metadata from plugin failed"
_MAX_DETAIL = 300
# How wandb words a response body it could not parse.
_UNREADABLE_MARKERS = ("unexpected eof", "invalid character", "cannot unmarshal", "expecting value", "jsondecodeerror")


def project_missing() -> SourceError:
    return SourceError("no Google Cloud project set: set `project` in the config file or ARR_PROJECT")


def wandb_project_missing() -> SourceError:
    return SourceError("no W&B project set: set `wandb.project` in the config file or ARR_WANDB_PROJECT")


def shorten(text: str, limit: int = _MAX_DETAIL) -> str:
    """``text`` on one line, cut to ``limit`` characters with ``...`` when longer."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _detail(exc: BaseException) -> str:
    """The exception's own message (api_core keeps it without the status code prefix)."""
    return shorten(getattr(exc, "message", None) or str(exc))


def _class_names(exc: BaseException) -> set[str]:
    """Qualified names of the exception's class and its bases (``google.api_core.exceptions.NotFound``...)."""
    return {f"{c.__module__}.{c.__name__}" for c in type(exc).__mro__}


def api_core_name(exc: BaseException) -> str | None:
    """The ``google.api_core.exceptions`` class an exception is (``NotFound``...), or None."""
    for cls in type(exc).__mro__:
        if cls.__module__ == "google.api_core.exceptions":
            return cls.__name__
    return None


def describe(exc: BaseException) -> str:
    """``Type: message`` in one line, for warnings and fallbacks."""
    text = _detail(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _error_text(exc: BaseException) -> str:
    parts = [str(exc), str(getattr(exc, "reason", "") or "")]
    for detail in getattr(exc, "details", None) or ():
        parts.append(str(detail))
    return " ".join(parts)


def is_credentials_error(exc: BaseException) -> bool:
    names = _class_names(exc)
    if names & {
        "google.auth.exceptions.DefaultCredentialsError",
        "google.auth.exceptions.RefreshError",
        "google.api_core.exceptions.Unauthenticated",
        "google.api_core.exceptions.Unauthorized",
    }:
        return True
    return _CREDENTIAL_PLUGIN_MARKER in str(exc)


def translate(exc: BaseException, *, service: str, timeout_s: float | None = None, where: str = "") -> SourceError:
    """A SourceError telling the user what went wrong in ``service`` and what to do.

    ``service`` is a key of SERVICES; ``where`` (e.g. a region) is added to the
    message when given. An exception nobody can act on keeps its own type and
    text so nothing is hidden.
    """
    if isinstance(exc, SourceError):
        return exc
    svc = SERVICES[service]
    at = f" ({where})" if where else ""
    if is_credentials_error(exc):
        return SourceError(NO_CREDENTIALS)
    name = api_core_name(exc)
    text = _error_text(exc)
    if name in ("PermissionDenied", "Forbidden"):
        if any(marker in text for marker in _DISABLED_MARKERS):
            return SourceError(
                f"the {svc.title} API is not enabled in this project{at}: "
                f"run `gcloud services enable {svc.api}`"
            )
        return SourceError(
            f"permission denied by {svc.title}{at}: your account needs the {svc.role_title} role "
            f"({svc.role}); ask a project owner to grant it. Detail: {_detail(exc)}"
        )
    if name == "DeadlineExceeded" or _is_timeout(exc):
        limit = f" within {timeout_s:g} s" if timeout_s else " in time"
        return SourceError(
            f"{svc.title} did not answer{limit}{at}; the next refresh retries "
            "(raise api.call_timeout_s if it is just slow)"
        )
    if name == "ServiceUnavailable":
        return SourceError(f"{svc.title} is unavailable{at}: {_detail(exc)}")
    if name == "NotFound":
        return SourceError(f"{svc.title}: not found{at}: {_detail(exc)}")
    if name in ("ResourceExhausted", "TooManyRequests"):
        return SourceError(
            f"{svc.title} quota exceeded{at}; the next refresh retries. Detail: "
            f"{_detail(exc)}"
        )
    if "deserializ" in text.lower():
        return SourceError(
            f"{svc.title} sent an answer that could not be decoded{at}; the next refresh retries. "
            f"Detail: {describe(exc)}"
        )
    if name is not None:
        return SourceError(f"{svc.title} error{at}: {describe(exc)}")
    return SourceError(f"{svc.title}{at}: {describe(exc)}")


def _is_timeout(exc: BaseException) -> bool:
    return isinstance(exc, TimeoutError) or "DEADLINE_EXCEEDED" in str(exc)


def _http_status(exc: BaseException) -> int | None:
    """The HTTP status of a failed W&B call: wandb's ``response.http_status``, or a requests response's.

    Looked for down the chain of causes too: wandb reports a refused check of
    the key, made when an Api is built, as an ``AuthenticationError`` raised
    from the failed request that holds the status.
    """
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        for holder in (link, getattr(link, "exc", None)):
            response = getattr(holder, "response", None)
            for name in ("http_status", "status_code"):
                value = getattr(response, name, None)
                if isinstance(value, int) and not isinstance(value, bool) and value:
                    return value
        link = link.__cause__
    return None


def translate_wandb(exc: BaseException, *, timeout_s: float | None = None) -> SourceError:
    """A SourceError for a failed W&B public API call.

    wandb reports an unreachable or silent server as a failed credentials check,
    so "did not answer" is recognised before anything that looks like auth.
    """
    if isinstance(exc, SourceError):
        return exc
    names = {n.rsplit(".", 1)[-1] for n in _class_names(exc)}
    # W&B's own words for a refused key ("permission denied") are those of a 403: its status decides.
    status = _http_status(exc)
    text = str(exc)
    lowered = text.lower()
    if isinstance(exc, TimeoutError) or any(
        marker in lowered for marker in ("did not respond in time", "timed out", "timeout", "deadline exceeded")
    ):
        # wandb retries server errors until the timeout, so a failing server also ends up here.
        limit = f" within {timeout_s:g} s" if timeout_s else " in time"
        return SourceError(
            f"W&B gave no usable answer{limit} (slow, unreachable or failing server); the next refresh retries"
        )
    if any(marker in lowered for marker in _UNREADABLE_MARKERS):
        return SourceError(f"W&B sent an answer that could not be read; the next refresh retries. Detail: {shorten(text)}")
    if any(marker in lowered for marker in ("connection refused", "failed to connect", "name or service not known")):
        return SourceError(f"cannot reach the W&B server; check the network or emulator.wandb_url. Detail: {shorten(text)}")
    if names & {"MailboxClosedError", "HandleAbandonedError"} or "service process is not running" in lowered:
        # wandb.Api's requests go through its wandb-core helper process, which the next fetch starts afresh.
        return SourceError("W&B's helper process (wandb-core) stopped during the fetch; the next refresh starts it again")
    if status == 403:
        return _wandb_denied(text)
    if (
        "AuthenticationError" in names
        or "no authentication configured" in lowered
        or status == 401
        or re.search(r"\b401\b", text)
        or "unauthorized" in lowered
        or "invalid api key" in lowered
        or "relogin" in lowered
    ):
        return SourceError(f"W&B rejected the credentials: {WANDB_LOGIN_HINT}. Detail: {shorten(text)}")
    if re.search(r"\b403\b", text) or "forbidden" in lowered or "permission" in lowered:
        return _wandb_denied(text)
    return SourceError(f"W&B error: {describe(exc)}")


def _wandb_denied(text: str) -> SourceError:
    return SourceError(
        f"W&B denied access: check that your W&B account may read the configured entity/project. Detail: {shorten(text)}"
    )
