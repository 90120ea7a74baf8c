"""Cloud calls counted where they are made: in the fetch process, per service.

Every gRPC channel a :class:`~arr_actors.sources.clients.Clients` builds goes
through :class:`CallCounter`, a client interceptor that counts each call (a
page of a list is a call) by the service its method belongs to. The fetch
process takes the counts after every fetch (``take``) and sends them with the
result, so the screen can show calls per minute per service without asking
any service, and the counts are those of the process that made the calls.

W&B calls are counted in the same process, one level up: wandb 0.31's
``wandb.Api`` hands every request to its ``wandb-core`` helper process, which
makes the HTTP call, so nothing here sees the traffic itself.
:func:`count_wandb_requests` counts each request on its way to the helper
instead (service ``wandb``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

#: gRPC service-name prefix -> the service as the status line names it.
SERVICES: tuple[tuple[str, str], ...] = (
    ("google.cloud.run.", "run"),
    ("google.cloud.aiplatform.", "aiplatform"),
    ("google.devtools.cloudbuild.", "cloudbuild"),
    ("google.logging.", "logging"),
)

#: The service W&B requests are counted under.
WANDB = "wandb"

_lock = threading.Lock()
_counts: dict[str, int] = {}


def service_of(method: str) -> str:
    """The service of a gRPC method path such as ``/google.logging.v2.LoggingServiceV2/ListLogEntries``."""
    name = method.lstrip("/")
    for prefix, service in SERVICES:
        if name.startswith(prefix):
            return service
    return name.split("/", 1)[0] or "other"


def record(service: str, n: int = 1) -> None:
    with _lock:
        _counts[service] = _counts.get(service, 0) + n


def take() -> tuple[tuple[str, int], ...]:
    """The calls made since the last ``take``, per service (sorted), and start counting afresh."""
    with _lock:
        out = tuple(sorted(_counts.items()))
        _counts.clear()
    return out


def _interceptor_class() -> type:
    import grpc

    class CallCounter(
        grpc.UnaryUnaryClientInterceptor,
        grpc.UnaryStreamClientInterceptor,
        grpc.StreamUnaryClientInterceptor,
        grpc.StreamStreamClientInterceptor,
    ):
        """Counts every call before it goes out (a call that fails still used the quota)."""

        def _count(self, details: Any) -> None:
            record(service_of(str(getattr(details, "method", ""))))

        def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
            self._count(details)
            return continuation(details, request)

        def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
            self._count(details)
            return continuation(details, request)

        def intercept_stream_unary(self, continuation: Any, details: Any, requests: Any) -> Any:
            self._count(details)
            return continuation(details, requests)

        def intercept_stream_stream(self, continuation: Any, details: Any, requests: Any) -> Any:
            self._count(details)
            return continuation(details, requests)

    return CallCounter


def counted(channel: Any) -> Any:
    """``channel`` with every call counted."""
    import grpc

    return grpc.intercept_channel(channel, _interceptor_class()())


def counted_channels(create_channel: Callable[..., Any]) -> Callable[..., Any]:
    """A channel factory (a GAPIC transport's ``create_channel``) whose channels count their calls."""

    def create(*args: Any, **kwargs: Any) -> Any:
        return counted(create_channel(*args, **kwargs))

    return create


def counted_transport(transport_cls: Any) -> Callable[..., Any]:
    """What a GAPIC client takes as ``transport``: builds ``transport_cls`` as the
    client would (credentials, endpoint, scopes), on channels that count their calls."""

    def build(**kwargs: Any) -> Any:
        return transport_cls(channel=counted_channels(transport_cls.create_channel), **kwargs)

    return build


def count_wandb_requests() -> bool:
    """Count, from now on in this process, every request the W&B public API sends to its server.

    In wandb 0.31 every request of ``wandb.Api`` (a GraphQL query or page,
    the login check made when the Api is built) passes
    ``ServiceApi.send_api_request`` on its way to ``wandb-core``, which sends
    it to the server as one HTTP request: each is one call, counted before it
    goes (a call that fails still used the quota). The library's own class is
    wrapped, once per process, so the calls made while the Api is built count
    too. Retries ``wandb-core`` makes by itself cannot be seen from here.
    Returns False when this wandb has no such method: its calls are then not
    counted.
    """
    try:
        from wandb.apis.public.service_api import ServiceApi
    except ImportError:
        return False
    send = getattr(ServiceApi, "send_api_request", None)
    if send is None:
        return False
    if getattr(send, "_arr_counted", False):
        return True

    def send_api_request(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        record(WANDB)
        return send(self, request, *args, **kwargs)

    send_api_request._arr_counted = True  # type: ignore[attr-defined]
    send_api_request.__wrapped__ = send  # type: ignore[attr-defined]
    ServiceApi.send_api_request = send_api_request  # type: ignore[method-assign]
    return True


__all__ = [
    "SERVICES",
    "WANDB",
    "count_wandb_requests",
    "counted",
    "counted_channels",
    "counted_transport",
    "record",
    "service_of",
    "take",
]
