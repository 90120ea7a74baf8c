"""Helpers shared by the emulator tests: the real client libraries pointed at an emulator."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from arr_actors import emulator

REGIONS = ("us-central1", "us-west2", "europe-west4", "asia-northeast1")
PROJECT = "test-project"


@dataclass(frozen=True)
class Clients:
    """The unmodified Google client libraries on an insecure channel to one emulator."""

    channel: Any
    executions: Any
    jobs: Any
    vertex: Any
    builds: Any
    logging: Any


def make_clients(address: str) -> Clients:
    import grpc
    from google.cloud import aiplatform_v1, run_v2
    from google.cloud.aiplatform_v1.services.job_service.transports import JobServiceGrpcTransport
    from google.cloud.devtools import cloudbuild_v1
    from google.cloud.devtools.cloudbuild_v1.services.cloud_build.transports import CloudBuildGrpcTransport
    from google.cloud.logging_v2.services.logging_service_v2 import LoggingServiceV2Client
    from google.cloud.logging_v2.services.logging_service_v2.transports import LoggingServiceV2GrpcTransport
    from google.cloud.run_v2.services.executions.transports import ExecutionsGrpcTransport
    from google.cloud.run_v2.services.jobs.transports import JobsGrpcTransport

    channel = grpc.insecure_channel(address)
    return Clients(
        channel=channel,
        executions=run_v2.ExecutionsClient(transport=ExecutionsGrpcTransport(channel=channel)),
        jobs=run_v2.JobsClient(transport=JobsGrpcTransport(channel=channel)),
        vertex=aiplatform_v1.JobServiceClient(transport=JobServiceGrpcTransport(channel=channel)),
        builds=cloudbuild_v1.CloudBuildClient(transport=CloudBuildGrpcTransport(channel=channel)),
        logging=LoggingServiceV2Client(transport=LoggingServiceV2GrpcTransport(channel=channel)),
    )


def job_parent(region: str, project: str = PROJECT) -> str:
    return f"projects/{project}/locations/{region}/jobs/{emulator.RUNNER_JOB}"


def short(name: str) -> str:
    return name.rsplit("/", 1)[-1]
