"""Cloud Logging's GAPIC client, without the rest of ``logging_v2``.

``google.cloud.logging_v2``'s ``__init__`` is the hand-written library
(its own client, loggers, sinks, metrics, handlers for Python's ``logging``)
and imports every message module through ``logging_v2.types``: about 3.5 MB in
the runner's fetch process and the log reader's, which only list entries
through the generated ``LoggingServiceV2Client``. Importing this module
registers the package and its ``types`` without running their ``__init__``
(:mod:`arr_actors.sources.deferred`; they stay whole for anyone who asks for
more) and loads that client, its gRPC transport and the types they name.
"""

from __future__ import annotations

from arr_actors.sources.deferred import defer_packages

#: Registered before the client is imported, parents first.
DEFERRED_PACKAGES = ("google.cloud.logging_v2", "google.cloud.logging_v2.types")

defer_packages(*DEFERRED_PACKAGES)

from google.cloud.logging_v2.services.logging_service_v2.client import LoggingServiceV2Client  # noqa: E402
from google.cloud.logging_v2.services.logging_service_v2.transports.grpc import (  # noqa: E402
    LoggingServiceV2GrpcTransport,
)

__all__ = ["DEFERRED_PACKAGES", "LoggingServiceV2Client", "LoggingServiceV2GrpcTransport"]
