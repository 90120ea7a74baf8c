"""A gRPC front for the emulator whose Cloud Logging answers as the real one may: empty pages first.

``ListLogEntriesResponse`` documents that a page may be empty and still carry a
``next_page_token`` ("the search found no log entries so far but it did not
have time to search all the possible log entries"). This front forwards every
call to the emulator byte for byte, except that each position of an
``entries.list`` search first gets ``empty_pages`` such empty pages. It records
the filters it saw so a test can check what was asked.
"""

from __future__ import annotations

import threading
from concurrent import futures
from typing import Any

import grpc

LIST_LOG_ENTRIES = "/google.logging.v2.LoggingServiceV2/ListLogEntries"
_PREFIX = "partial."


class PartialPages:
    """Serves on 127.0.0.1; ``address`` goes where the emulator's gRPC address would."""

    def __init__(self, target: str, *, empty_pages: int) -> None:
        self.empty_pages = empty_pages  # may be changed while serving
        self.filters: list[str] = []
        self._lock = threading.Lock()
        self._channel = grpc.insecure_channel(target, options=[("grpc.max_receive_message_length", 64 * 1024 * 1024)])
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
        self._server.add_generic_rpc_handlers((_Handler(self),))
        port = self._server.add_insecure_port("127.0.0.1:0")
        self.address = f"127.0.0.1:{port}"
        self._server.start()

    def stop(self) -> None:
        self._server.stop(grace=None)
        self._channel.close()

    def __enter__(self) -> PartialPages:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def forward(self, method: str, request: bytes, context: grpc.ServicerContext) -> bytes:
        call = self._channel.unary_unary(method)
        try:
            return call(request, timeout=context.time_remaining())  # type: ignore[no-any-return]
        except grpc.RpcError as exc:
            context.abort(exc.code(), exc.details() or "")
            raise

    def list_log_entries(self, request: bytes, context: grpc.ServicerContext) -> bytes:
        from google.cloud.logging_v2.types import ListLogEntriesRequest, ListLogEntriesResponse

        parsed = ListLogEntriesRequest.deserialize(request)
        with self._lock:
            self.filters.append(parsed.filter)
        served, original = 0, parsed.page_token
        if original.startswith(_PREFIX):
            count, _, original = original[len(_PREFIX) :].partition(".")
            served = int(count)
        if served < self.empty_pages:
            reply = ListLogEntriesResponse(entries=[], next_page_token=f"{_PREFIX}{served + 1}.{original}")
            return ListLogEntriesResponse.serialize(reply)  # type: ignore[no-any-return]
        parsed.page_token = original
        return self.forward(LIST_LOG_ENTRIES, ListLogEntriesRequest.serialize(parsed), context)


class _Handler(grpc.GenericRpcHandler):
    def __init__(self, front: PartialPages) -> None:
        self._front = front

    def service(self, handler_call_details: Any) -> grpc.RpcMethodHandler:
        method = handler_call_details.method
        if method == LIST_LOG_ENTRIES:
            return grpc.unary_unary_rpc_method_handler(self._front.list_log_entries)
        return grpc.unary_unary_rpc_method_handler(
            lambda request, context: self._front.forward(method, request, context)
        )
