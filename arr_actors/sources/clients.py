"""The one place that builds cloud and W&B clients.

Real Google Cloud by default: Application Default Credentials and the real
endpoints (Vertex AI is regional, ``{region}-aiplatform.googleapis.com``; Cloud
Run, Cloud Build and Cloud Logging use their global endpoints, the region goes in
the resource name). Every channel counts its calls (``counting``). When
``settings.emulator.address`` is set every GAPIC client talks to it over one
insecure loopback channel instead, and ``settings.emulator.wandb_url``
points ``wandb.Api`` at a local W&B server.

A :class:`Clients` is created inside a table's child process (gRPC is not
fork-safe, so channels are never inherited) and lives as long as the child:
clients are built on first use and reused by every fetch. Client libraries are
imported inside the functions here, never at import time, so that importing
``arr_actors.sources`` loads no cloud library.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from arr_actors.sources import counting, wandb_helper
from arr_actors.sources.errors import WANDB_LOGIN_HINT, SourceError, project_missing, translate, translate_wandb

if TYPE_CHECKING:
    import grpc

    from arr_actors.config import Settings

T = TypeVar("T")

# The emulator accepts any W&B key; wandb insists on 40+ characters after an optional "prefix-".
EMULATOR_WANDB_KEY = "emulator-" + "0" * 40


def aiplatform_endpoint(region: str) -> str:
    return f"{region}-aiplatform.googleapis.com"


class Clients:
    """Lazily built, cached clients for one settings value; safe to use from several threads."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str], Any] = {}
        self._channel: grpc.Channel | None = None

    @property
    def emulated(self) -> bool:
        return bool(self.settings.emulator.address)

    def _get(self, key: tuple[str, str], build: Callable[[], T], *, service: str) -> T:
        with self._lock:
            client = self._cache.get(key)
            if client is None:
                try:
                    client = build()
                except SourceError:
                    raise
                except Exception as exc:  # credentials lookup happens here for real clients
                    raise translate(exc, service=service) from exc
                self._cache[key] = client
            return client

    def _emulator_channel(self) -> grpc.Channel:
        # Called with self._lock held.
        if self._channel is None:
            import grpc

            self._channel = counting.counted(
                grpc.insecure_channel(
                    self.settings.emulator.address,
                    options=[("grpc.max_receive_message_length", 64 * 1024 * 1024)],
                )
            )
        return self._channel

    # ------------------------------------------------------------- Cloud Run v2

    def executions(self) -> Any:
        """``run_v2.ExecutionsClient`` (the location is part of every request's parent)."""

        def build() -> Any:
            # The Executions service alone, not all of run_v2 (see the module).
            from arr_actors.sources.cloudrun import ExecutionsClient, ExecutionsGrpcTransport

            if self.emulated:
                return ExecutionsClient(transport=ExecutionsGrpcTransport(channel=self._emulator_channel()))
            return ExecutionsClient(transport=counting.counted_transport(ExecutionsGrpcTransport))

        return self._get(("run.executions", ""), build, service="run")

    def jobs(self) -> Any:
        """``run_v2.JobsClient`` (used by ``launch`` to start an execution)."""

        def build() -> Any:
            from google.cloud import run_v2

            if self.emulated:
                from google.cloud.run_v2.services.jobs.transports import JobsGrpcTransport

                return run_v2.JobsClient(transport=JobsGrpcTransport(channel=self._emulator_channel()))
            from google.cloud.run_v2.services.jobs.transports import JobsGrpcTransport

            return run_v2.JobsClient(transport=counting.counted_transport(JobsGrpcTransport))

        return self._get(("run.jobs", ""), build, service="run")

    # ----------------------------------------------------------- Vertex AI v1

    def job_service(self, region: str) -> Any:
        """Vertex AI's ``JobServiceClient`` bound to ``region``'s endpoint."""

        def build() -> Any:
            # The JobService alone, not all of aiplatform_v1 (see the module).
            from arr_actors.sources.aiplatform import JobServiceClient, JobServiceGrpcTransport

            if self.emulated:
                return JobServiceClient(transport=JobServiceGrpcTransport(channel=self._emulator_channel()))
            return JobServiceClient(
                client_options={"api_endpoint": aiplatform_endpoint(region)},
                transport=counting.counted_transport(JobServiceGrpcTransport),
            )

        # All regions share the one emulator channel; real clients need one endpoint each.
        return self._get(("aiplatform.jobs", "" if self.emulated else region), build, service="aiplatform")

    # ----------------------------------------------------------- Cloud Build v1

    def cloud_build(self) -> Any:
        def build() -> Any:
            from google.cloud.devtools import cloudbuild_v1

            if self.emulated:
                from google.cloud.devtools.cloudbuild_v1.services.cloud_build.transports import (
                    CloudBuildGrpcTransport,
                )

                return cloudbuild_v1.CloudBuildClient(
                    transport=CloudBuildGrpcTransport(channel=self._emulator_channel())
                )
            from google.cloud.devtools.cloudbuild_v1.services.cloud_build.transports import CloudBuildGrpcTransport

            return cloudbuild_v1.CloudBuildClient(transport=counting.counted_transport(CloudBuildGrpcTransport))

        return self._get(("cloudbuild", ""), build, service="cloudbuild")

    # --------------------------------------------------------- Cloud Logging v2

    def logging(self) -> Any:
        """The Cloud Logging GAPIC client (``LoggingServiceV2Client``)."""

        def build() -> Any:
            # The generated client alone, not the hand-written logging_v2 library (see the module).
            from arr_actors.sources.cloudlogging import LoggingServiceV2Client, LoggingServiceV2GrpcTransport

            if self.emulated:
                return LoggingServiceV2Client(transport=LoggingServiceV2GrpcTransport(channel=self._emulator_channel()))
            return LoggingServiceV2Client(transport=counting.counted_transport(LoggingServiceV2GrpcTransport))

        return self._get(("logging", ""), build, service="logging")

    # ------------------------------------------------------------------- W&B

    @contextlib.contextmanager
    def wandb_api(self) -> Iterator[Any]:
        """A ``wandb.Api`` for the configured server for one fetch, with the call timeout set.

        wandb 0.31's ``wandb.Api`` sends every request through a ``wandb-core``
        helper process it starts, which would live as long as this process
        while a W&B table fetches for a second or two every 30 or 60. So each
        fetch gets a new Api, and the helper is stopped when the fetch ends,
        however it ends (:mod:`arr_actors.sources.wandb_helper`): about 0.25 s,
        60 ms of CPU and one more request (the key's check, made when an Api
        is built) per fetch. A helper that died is
        replaced at the next fetch rather than failing every later one. The
        entity (configured, else the key's default once known) is handed to
        each Api, which would otherwise ask the server for it every time.
        """
        with self._lock:
            entity = self.settings.wandb.entity or self._cache.get(("wandb.entity", ""))
        try:
            yield build_wandb_api(self.settings, entity=entity)
        finally:
            wandb_helper.stop()

    def wandb_default_entity(self, api: Any) -> str | None:
        """The W&B key's default entity, asked of the server once per process (it is the key's, not the fetch's)."""
        with self._lock:
            known = self._cache.get(("wandb.entity", ""))
        if known:
            return str(known)
        entity = api.default_entity
        if entity:
            with self._lock:
                self._cache[("wandb.entity", "")] = entity
        return entity

    def close(self) -> None:
        with self._lock:
            if self._channel is not None:
                self._channel.close()
                self._channel = None
            self._cache.clear()


def require_project(settings: Settings) -> str:
    if not settings.project:
        raise project_missing()
    return settings.project


def wandb_api_key(settings: Settings) -> str | None:
    """The key to hand ``wandb.Api``: a dummy for the emulator, else WANDB_API_KEY, else None (wandb's login).

    With the emulator configured the W&B URL is the emulator's, and a real key
    must never be sent there.
    """
    if settings.emulator.address and settings.emulator.wandb_url:
        return EMULATOR_WANDB_KEY
    key = os.environ.get("WANDB_API_KEY", "").strip()
    return key or None


def build_wandb_api(settings: Settings, *, entity: str | None = None) -> Any:
    """``wandb.Api`` pointed at ``settings.emulator.wandb_url`` (or W&B itself), never prompting.

    With ``entity`` known, the Api takes it as its default instead of asking
    the server for the key's (``api.runs`` asks otherwise, even given a path
    that names the entity).
    """
    os.environ.setdefault("WANDB_SILENT", "true")
    import wandb

    overrides: dict[str, Any] = {}
    if settings.emulator.wandb_url:
        overrides["base_url"] = settings.emulator.wandb_url
    if entity:
        overrides["entity"] = entity
    key = wandb_api_key(settings)
    timeout = max(1, math.ceil(settings.api.call_timeout_s))
    if key is None and not _wandb_has_stored_login(settings):
        # wandb.Api would otherwise try to prompt, and a table's child has no terminal.
        raise SourceError(f"no W&B API key: {WANDB_LOGIN_HINT}")
    try:
        return wandb.Api(overrides=overrides or None, api_key=key, timeout=timeout)
    except Exception as exc:
        raise translate_wandb(exc, timeout_s=settings.api.call_timeout_s) from exc


def _wandb_has_stored_login(settings: Settings) -> bool:
    """Whether ``wandb login`` stored a key (netrc) for the server, without prompting."""
    try:
        from wandb.sdk.lib.wbauth import authenticate

        host = settings.emulator.wandb_url or _wandb_default_base_url()
        found = authenticate.authenticate_session(
            host=host, source="arr_actors", no_offline=True, prompt=False, update_session=False
        )
        return found is not None
    except Exception:
        # Private wandb API moved or failed: let wandb.Api decide (it raises when it cannot prompt).
        return True


def _wandb_default_base_url() -> str:
    from wandb import env
    from wandb.sdk import wandb_setup

    default = str(wandb_setup.singleton().settings.base_url)
    return env.get_base_url(default) or default
