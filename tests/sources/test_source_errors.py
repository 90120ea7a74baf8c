"""Cloud and W&B exceptions become messages that say what to do."""

from __future__ import annotations

import pytest

from arr_actors.sources.errors import NO_CREDENTIALS, SourceError, translate, translate_wandb

core = pytest.importorskip("google.api_core.exceptions")
auth_exceptions = pytest.importorskip("google.auth.exceptions")


@pytest.mark.parametrize(
    "exc",
    [
        core.Unauthenticated("Request had invalid authentication credentials."),
        auth_exceptions.DefaultCredentialsError("Your default credentials were not found."),
        auth_exceptions.RefreshError("invalid_grant: Token has been expired or revoked."),
        core.ServiceUnavailable("Getting metadata from plugin failed with error: invalid_grant"),
    ],
)
def test_credentials(exc):
    message = str(translate(exc, service="run"))
    assert message == NO_CREDENTIALS
    assert "gcloud auth application-default login" in message


@pytest.mark.parametrize(
    ("service", "role", "api"),
    [
        ("run", "roles/run.viewer", "run.googleapis.com"),
        ("aiplatform", "roles/aiplatform.viewer", "aiplatform.googleapis.com"),
        ("cloudbuild", "roles/cloudbuild.builds.viewer", "cloudbuild.googleapis.com"),
        ("logging", "roles/logging.viewer", "logging.googleapis.com"),
    ],
)
def test_permission_denied_names_role_or_api(service, role, api):
    denied = str(translate(core.PermissionDenied("The caller does not have permission"), service=service, where="us-west2"))
    assert role in denied and "us-west2" in denied and "permission denied" in denied
    disabled = str(translate(core.PermissionDenied(
        "Cloud API has not been used in project 123 before or it is disabled. Enable it by visiting ..."
    ), service=service))
    assert f"gcloud services enable {api}" in disabled
    assert role not in disabled


def test_deadline_and_other_errors():
    slow = str(translate(core.DeadlineExceeded("Deadline Exceeded"), service="aiplatform", timeout_s=2.5))
    assert "did not answer within 2.5 s" in slow and "Vertex AI" in slow
    assert "unavailable" in str(translate(core.ServiceUnavailable("down"), service="cloudbuild"))
    internal = str(translate(core.InternalServerError("Exception deserializing response!"), service="run"))
    assert internal.startswith("Cloud Run sent an answer that could not be decoded")
    other = str(translate(core.InternalServerError("boom"), service="run", where="us-east1"))
    assert other == "Cloud Run error (us-east1): InternalServerError: boom"
    plain = str(translate(ValueError("boom"), service="logging"))
    assert plain == "Cloud Logging: ValueError: boom"
    same = SourceError("already clear")
    assert translate(same, service="run") is same


def test_wandb_errors():
    assert "wandb login" in str(translate_wandb(Exception("HTTP 401: Unauthorized")))
    assert "WANDB_API_KEY" in str(translate_wandb(Exception("No authentication configured. Use `wandb login`")))
    assert "W&B gave no usable answer within 3 s" in str(translate_wandb(TimeoutError("timed out"), timeout_s=3))
    assert "could not be read" in str(translate_wandb(RuntimeError("WandbApiFailedError: unexpected EOF")))
    assert "cannot reach the W&B server" in str(translate_wandb(OSError("dial tcp: connection refused")))
    assert str(translate_wandb(RuntimeError("server said 500"))) == "W&B error: RuntimeError: server said 500"


def _refused_key_check(status: int) -> BaseException:
    """What wandb raises when the key check made while building an Api gets ``status`` (as wandb 0.31 words it)."""
    from wandb.errors import AuthenticationError
    from wandb.proto.wandb_api_pb2 import ApiErrorResponse
    from wandb.sdk.lib.service.service_connection import WandbApiFailedError

    failed = WandbApiFailedError("permission denied", ApiErrorResponse(http_status=status, message="permission denied"))
    try:
        raise AuthenticationError("Failed to verify credentials with https://api.wandb.ai: permission denied") from failed
    except AuthenticationError as exc:
        return exc


def test_wandb_key_check_refused_is_told_by_the_status_it_carries():
    pytest.importorskip("wandb")
    assert str(translate_wandb(_refused_key_check(403))).startswith("W&B denied access: check that your W&B account")
    assert str(translate_wandb(_refused_key_check(401))).startswith("W&B rejected the credentials: run `wandb login`")


def test_wandb_helper_that_stopped_is_named():
    pytest.importorskip("wandb")
    from wandb.sdk.mailbox import MailboxClosedError

    said = "W&B's helper process (wandb-core) stopped during the fetch; the next refresh starts it again"
    assert str(translate_wandb(MailboxClosedError())) == said
    assert str(translate_wandb(RuntimeError("Failed to execute API request: the service process is not running."))) == said
