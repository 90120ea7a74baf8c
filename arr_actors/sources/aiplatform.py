"""Vertex AI's JobService client and the request types we send, without the rest of ``aiplatform_v1``.

Importing any module of ``google.cloud.aiplatform_v1`` first runs the
package's ``__init__``, which imports every service client (over 30) and,
through ``aiplatform_v1.types``, every message module (over 120): about 50 MB
and 0.5 s in a fetch process that already holds the shared client stack, for a
table that uses one service and about 27 of those modules. Importing this
module loads only those: it registers the two packages without running their
``__init__`` (:mod:`arr_actors.sources.deferred`; the packages stay whole for
anyone who asks for more), then imports the JobService client, its gRPC
transport and the request types.
"""

from __future__ import annotations

from arr_actors.sources.deferred import defer_packages

#: Registered before the client is imported, parents first.
DEFERRED_PACKAGES = ("google.cloud.aiplatform_v1", "google.cloud.aiplatform_v1.types")

defer_packages(*DEFERRED_PACKAGES)

from google.cloud.aiplatform_v1.services.job_service.client import JobServiceClient  # noqa: E402
from google.cloud.aiplatform_v1.services.job_service.transports.grpc import JobServiceGrpcTransport  # noqa: E402
from google.cloud.aiplatform_v1.types.job_service import CancelCustomJobRequest, ListCustomJobsRequest  # noqa: E402

__all__ = ["DEFERRED_PACKAGES", "CancelCustomJobRequest", "JobServiceClient", "JobServiceGrpcTransport", "ListCustomJobsRequest"]
