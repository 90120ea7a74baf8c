"""The emulated Google Cloud APIs on one gRPC server, one module per API.

``run`` (Cloud Run v2 jobs and executions), ``vertex`` (Vertex AI v1
JobService), ``build`` (Cloud Build v1), ``logs`` (Cloud Logging v2) and
``resourcemanager`` (Resource Manager v3 projects, for ``doctor``) each
declare their methods; ``errors`` builds the errors Google sends; ``common`` holds what they share (resource names,
filters, pages, ``Abort``); ``dispatch`` serves them with faults applied.
"""

from __future__ import annotations

from arr_actors.emulator.services.dispatch import GARBAGE, Services, start_server

__all__ = ["GARBAGE", "Services", "start_server"]
