"""Cloud Run v2's Executions client and the request types we send, without the rest of ``run_v2``.

``google.cloud.run_v2``'s ``__init__`` imports all six of its service
clients (sync and async) and every message module: about 6 MB in the runner's
fetch process, which lists and cancels executions. Importing this module
registers the package and its ``types`` without running their ``__init__``
(:mod:`arr_actors.sources.deferred`; they stay whole for anyone who asks for
more) and loads the Executions client, its gRPC transport and the types they
name: under 1 MB. (``launch`` starts executions with the Jobs client and
its request types from the whole package.)
"""

from __future__ import annotations

from arr_actors.sources.deferred import defer_packages

#: Registered before the client is imported, parents first.
DEFERRED_PACKAGES = ("google.cloud.run_v2", "google.cloud.run_v2.types")

defer_packages(*DEFERRED_PACKAGES)

from google.cloud.run_v2.services.executions.client import ExecutionsClient  # noqa: E402
from google.cloud.run_v2.services.executions.transports.grpc import ExecutionsGrpcTransport  # noqa: E402
from google.cloud.run_v2.types.execution import CancelExecutionRequest  # noqa: E402

__all__ = ["DEFERRED_PACKAGES", "CancelExecutionRequest", "ExecutionsClient", "ExecutionsGrpcTransport"]
