"""Vertex AI's JobService client and the request types we send, without the rest of ``aiplatform_v1``.

Importing any module of ``google.cloud.aiplatform_v1`` first runs the
package's ``__init__``, which imports every service client (over 30) and,
through ``aiplatform_v1.types``, every message module (over 120): about 50 MB
and 0.5 s in a fetch process that already holds the shared client stack, for a
table that uses one service and about 27 of those modules. Importing this
module loads only those: it registers the two packages without running their
``__init__`` (their real directories, so their submodules import as usual),
then imports the JobService client, its gRPC transport and the request types.

The packages stay whole for anyone else in the process: the first attribute
asked of one that is not one of its submodules (``aiplatform_v1.CustomJob``,
``from google.cloud.aiplatform_v1 import JobServiceClient``) runs its real
``__init__`` then, into the same module object, and from there on it is the
package as its authors wrote it. The emulator's ``protos.load(light=True)``
registers bare packages the same way but never completes them, which is only
safe in a process that uses no client.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
from typing import Any

#: Registered before the client is imported, parents first.
DEFERRED_PACKAGES = ("google.cloud.aiplatform_v1", "google.cloud.aiplatform_v1.types")


def _is_submodule(package: str, attr: str) -> bool:
    try:
        return importlib.util.find_spec(f"{package}.{attr}") is not None
    except (ImportError, ValueError):
        return False


def defer_init(name: str) -> None:
    """Register package ``name`` without running its ``__init__`` (nothing if it is imported already).

    Its ``__init__`` runs on the first attribute asked of it that is not a
    submodule (a submodule's name is left to the import system, which imports
    just that submodule, as it would for any package).
    """
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    module = importlib.util.module_from_spec(spec)
    loader = spec.loader
    # Another thread asking while the __init__ runs waits for it to end; the
    # __init__'s own lookups (the same thread, state "running") find nothing
    # yet, as they would in the real import.
    lock = threading.RLock()
    state = "deferred"

    def __getattr__(attr: str) -> Any:
        nonlocal state
        with lock:
            if state == "deferred" and not _is_submodule(name, attr):
                state = "running"
                try:
                    loader.exec_module(module)
                except BaseException:
                    state = "deferred"
                    raise
                state = "whole"
                module.__dict__.pop("__getattr__", None)
        try:
            return module.__dict__[attr]
        except KeyError:
            raise AttributeError(f"module {name!r} has no attribute {attr!r}") from None

    module.__dict__["__getattr__"] = __getattr__
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    setattr(sys.modules[parent], child, module)


for _package in DEFERRED_PACKAGES:
    defer_init(_package)

from google.cloud.aiplatform_v1.services.job_service.client import JobServiceClient  # noqa: E402
from google.cloud.aiplatform_v1.services.job_service.transports.grpc import JobServiceGrpcTransport  # noqa: E402
from google.cloud.aiplatform_v1.types.job_service import CancelCustomJobRequest  # noqa: E402

__all__ = ["DEFERRED_PACKAGES", "CancelCustomJobRequest", "JobServiceClient", "JobServiceGrpcTransport", "defer_init"]
