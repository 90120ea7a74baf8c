"""The real generated message types the emulator serves, imported as cheaply as possible.

Importing ``google.cloud.aiplatform_v1`` runs its package ``__init__``, which
imports every service client and type (about 1.5 s and 50 MB); run_v2,
logging_v2 and cloudbuild_v1 likewise pull in their clients. The emulator
only needs the proto-plus message modules under ``<package>.types``, which
import their siblings directly. In a process of its own the emulator
therefore registers the packages as bare namespaces (their real directories,
without running their ``__init__``), cutting its start from about 2 s to
0.4 s. If that ever fails, the normal imports are used.

Never call ``load(light=True)`` in a process that also uses the client
libraries: the bare packages would hide their clients.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from dataclasses import dataclass
from typing import Any

_PACKAGES = (
    "google.cloud.run_v2",
    "google.cloud.run_v2.types",
    "google.cloud.aiplatform_v1",
    "google.cloud.aiplatform_v1.types",
    "google.cloud.logging_v2",
    "google.cloud.logging_v2.types",
    "google.cloud.devtools.cloudbuild_v1",
    "google.cloud.devtools.cloudbuild_v1.types",
)


@dataclass(frozen=True, slots=True)
class Protos:
    """The message modules, by role."""

    run_execution: Any  # google.cloud.run_v2.types.execution
    run_job: Any
    run_condition: Any
    run_task_template: Any
    run_k8s: Any
    vertex_custom_job: Any  # google.cloud.aiplatform_v1.types.custom_job
    vertex_job_service: Any
    vertex_job_state: Any
    vertex_machine: Any
    build: Any  # google.cloud.devtools.cloudbuild_v1.types.cloudbuild
    logging: Any  # google.cloud.logging_v2.types.logging
    log_entry: Any
    operations_pb2: Any
    any_pb2: Any
    status_pb2: Any
    monitored_resource_pb2: Any
    duration_pb2: Any
    timestamp_pb2: Any


def _bare_package(name: str) -> None:
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.submodule_search_locations is None:
        raise ImportError(f"no package {name}")
    module = types.ModuleType(name)
    module.__path__ = list(spec.submodule_search_locations)
    module.__spec__ = spec
    module.__package__ = name
    sys.modules[name] = module


def load(*, light: bool) -> Protos:
    if light:
        installed = [p for p in _PACKAGES if p not in sys.modules]
        try:
            for name in _PACKAGES:
                _bare_package(name)
            return _import()
        except ImportError:
            for name in installed:
                sys.modules.pop(name, None)
    return _import()


def _import() -> Protos:
    def mod(name: str) -> Any:
        return importlib.import_module(name)

    return Protos(
        run_execution=mod("google.cloud.run_v2.types.execution"),
        run_job=mod("google.cloud.run_v2.types.job"),
        run_condition=mod("google.cloud.run_v2.types.condition"),
        run_task_template=mod("google.cloud.run_v2.types.task_template"),
        run_k8s=mod("google.cloud.run_v2.types.k8s_min"),
        vertex_custom_job=mod("google.cloud.aiplatform_v1.types.custom_job"),
        vertex_job_service=mod("google.cloud.aiplatform_v1.types.job_service"),
        vertex_job_state=mod("google.cloud.aiplatform_v1.types.job_state"),
        vertex_machine=mod("google.cloud.aiplatform_v1.types.machine_resources"),
        build=mod("google.cloud.devtools.cloudbuild_v1.types.cloudbuild"),
        logging=mod("google.cloud.logging_v2.types.logging"),
        log_entry=mod("google.cloud.logging_v2.types.log_entry"),
        operations_pb2=mod("google.longrunning.operations_pb2"),
        any_pb2=mod("google.protobuf.any_pb2"),
        status_pb2=mod("google.rpc.status_pb2"),
        monitored_resource_pb2=mod("google.api.monitored_resource_pb2"),
        duration_pb2=mod("google.protobuf.duration_pb2"),
        timestamp_pb2=mod("google.protobuf.timestamp_pb2"),
    )
