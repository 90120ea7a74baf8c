"""The gRPC server over every emulated service: faults, malformed requests and handler errors.

Requests and responses are the real generated message types, (de)serialized
with ``Type.deserialize`` / ``Type.serialize`` in ``grpc`` generic handlers.
A request that does not deserialize gets INVALID_ARGUMENT naming the type it
should have been; an error inside a handler gets INTERNAL with its message.
Neither stops the server.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import grpc

from arr_actors.emulator.control import Stopping
from arr_actors.emulator.services import errors
from arr_actors.emulator.services.build import CloudBuild
from arr_actors.emulator.services.common import Abort, Service
from arr_actors.emulator.services.logs import CloudLogging
from arr_actors.emulator.services.resourcemanager import ResourceManager
from arr_actors.emulator.services.run import CloudRun
from arr_actors.emulator.services.vertex import VertexAI

if TYPE_CHECKING:
    from arr_actors.emulator.control import Control
    from arr_actors.emulator.protos import Protos
    from arr_actors.emulator.world import World

#: Bytes that are not a valid protobuf message of any type: a truncated varint tag.
GARBAGE = b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01\x08"

SERVICE_TYPES: tuple[type[Service], ...] = (CloudRun, VertexAI, CloudBuild, CloudLogging, ResourceManager)

#: Calls served at once. Every call holds a worker thread while it waits out its latency
#: (or a fault), and the real services never make a client's concurrent calls wait for one
#: another, so the pool must outnumber the calls a monitor makes at once: three region
#: fan-outs of up to 128 calls each (sources/common.py) plus log reads and launches. With
#: fewer, calls past the pool queue before their latency even starts, and a refresh of
#: 100 regions measured the queue rather than the product. Threads are made only as calls
#: arrive.
MAX_CONCURRENT_CALLS = 512


@dataclass(frozen=True, slots=True)
class _Malformed:
    type_name: str
    error: str


class _GarbageReply:
    """Marks a response the serializer replaces with bytes no client can decode."""


_GARBAGE_REPLY = _GarbageReply()


class Services:
    """The handlers of every service, over one world and one control."""

    def __init__(self, world: World, control: Control, protos: Protos, *, clock: Callable[[], float] = time.time) -> None:
        self.control = control
        self.world = world
        self.services = tuple(kind(world, control, protos, clock=clock) for kind in SERVICE_TYPES)

    def handlers(self) -> list[grpc.GenericRpcHandler]:
        out: list[grpc.GenericRpcHandler] = []
        for service in self.services:
            for service_name, methods in service.methods().items():
                table = {
                    name: grpc.unary_unary_rpc_method_handler(
                        self._wrap(name, service=service.key, body=method.body),
                        request_deserializer=_lenient(method.request_type),
                        response_serializer=_serializer(method.serialize),
                    )
                    for name, method in methods.items()
                }
                out.append(grpc.method_handlers_generic_handler(service_name, table))
        return out

    def _wrap(self, method: str, *, service: str, body: Callable[[Any], Any]) -> Callable[[Any, grpc.ServicerContext], Any]:
        def handle(request: Any, context: grpc.ServicerContext) -> Any:
            try:
                # Set when the call ends, so a call held here wakes the moment its client gives up.
                wake = threading.Event()
                if not context.add_callback(wake.set):
                    wake.set()  # already over
                fault = self.control.admit(method, service, gone=lambda: not context.is_active(), wake=wake)
            except Stopping:
                context.abort(grpc.StatusCode.UNAVAILABLE, "the emulator is shutting down or the call was cancelled")
            if isinstance(request, _Malformed):
                context.abort(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"the request is not a valid {request.type_name}: {request.error}",
                )
            if fault is not None and fault.kind == "error":
                self._abort(context, fault.grpc_code, fault.reason, service=service, method=method)
            if errors.PERMISSIONS.get(method, "") in self.control.denied_permissions:
                self._abort(context, "PERMISSION_DENIED", "IAM_PERMISSION_DENIED", service=service, method=method)
            try:
                reply = body(request)
            except Abort as exc:
                context.abort(exc.code, exc.message)
            except Exception as exc:  # a bug must cost one call, not the server
                traceback.print_exc()
                context.abort(grpc.StatusCode.INTERNAL, f"emulator error in {method}: {type(exc).__name__}: {exc}")
            if fault is not None and fault.kind == "garbage":
                return _GARBAGE_REPLY
            return reply

        return handle

    def _abort(self, context: grpc.ServicerContext, code: str, reason: str, *, service: str, method: str) -> None:
        errors.abort(
            context, code, reason, service=service, method=method,
            project=self.world.project, number=self.world.project_number,
        )


def _lenient(request_type: Any) -> Callable[[bytes], Any]:
    """Deserialize, or hand the handler a marker so it answers INVALID_ARGUMENT (grpc would say INTERNAL)."""
    type_name = request_type.pb().DESCRIPTOR.full_name

    def deserialize(data: bytes) -> Any:
        try:
            return request_type.deserialize(data)
        except Exception as exc:
            return _Malformed(type_name, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)

    return deserialize


def _serializer(serialize: Callable[[Any], bytes]) -> Callable[[Any], bytes]:
    def write(reply: Any) -> bytes:
        if reply is _GARBAGE_REPLY:
            return GARBAGE
        return serialize(reply)

    return write


def start_server(services: Services, *, port: int, max_workers: int = MAX_CONCURRENT_CALLS) -> tuple[grpc.Server, int]:
    """A gRPC server on 127.0.0.1 only; returns it (started) and its port."""
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="emulator-grpc"),
        handlers=services.handlers(),
        # Without this, two servers could share a port and split its calls.
        options=[("grpc.so_reuseport", 0)],
    )
    try:
        bound = server.add_insecure_port(f"127.0.0.1:{port}")
    except RuntimeError:
        bound = 0
    if not bound:
        raise OSError(f"cannot listen on 127.0.0.1:{port} (is the port in use?)")
    server.start()
    return server, bound
