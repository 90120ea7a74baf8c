"""What every emulated gRPC service shares: errors, timestamps, resource names, filters and pages.

A service is a class over the world that lists its methods (``Method``) per
gRPC service name; ``dispatch.Services`` serves them. A handler that finds
the request wrong raises ``Abort``: the call ends with that status and
message, and the server carries on.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, TypeVar

import grpc

from arr_actors.emulator import filters
from arr_actors.emulator.filters import FilterError
from arr_actors.emulator.paging import PageRules, PageTokenError, SortKey, cut_page

if TYPE_CHECKING:
    from arr_actors.emulator.control import Control
    from arr_actors.emulator.protos import Protos
    from arr_actors.emulator.world import World

T = TypeVar("T")


class Abort(Exception):
    """Ends the call with ``code`` and ``message``."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Method(NamedTuple):
    """One unary method: how its request arrives, how its reply leaves, and the handler between."""

    request_type: Any
    serialize: Callable[[Any], bytes]
    body: Callable[[Any], Any]


class Pb2Request:
    """A plain protobuf request class with the two methods the dispatcher uses of proto-plus types."""

    def __init__(self, cls: Any) -> None:
        self._cls = cls

    def pb(self) -> Any:
        return self._cls

    def deserialize(self, data: bytes) -> Any:
        return self._cls.FromString(data)


#: gRPC service name -> method name -> Method.
MethodTable = dict[str, dict[str, Method]]


def ns(at: float) -> int:
    """Epoch seconds -> nanoseconds: the one rounding used for timestamps on the wire and in filters."""
    return int(round(at * 1e9))


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@functools.cache
def _name_pattern(template: str) -> re.Pattern[str]:
    parts = _PLACEHOLDER.split(template)
    # split() alternates literal text and placeholder names.
    return re.compile("".join(re.escape(p) if i % 2 == 0 else "([^/]+)" for i, p in enumerate(parts)))


def match_name(template: str, name: str) -> tuple[str, ...] | None:
    """The segments of ``name`` in the places of ``template``'s ``{placeholders}``, or None."""
    m = _name_pattern(template).fullmatch(name)
    return None if m is None else m.groups()


class Service:
    """Base of one emulated API: the world it answers from, and the checks all its methods share."""

    #: The name faults and latency are configured by (faults.SERVICES).
    key: ClassVar[str] = ""

    def __init__(self, world: World, control: Control, protos: Protos, *, clock: Callable[[], float] = time.time) -> None:
        self.world = world
        self.control = control
        self.p = protos
        self.now = clock
        self._timestamp = protos.timestamp_pb2.Timestamp

    def methods(self) -> MethodTable:
        raise NotImplementedError

    def ts(self, at: float) -> Any:
        """A protobuf Timestamp for epoch seconds."""
        seconds, nanos = divmod(ns(at), 1_000_000_000)
        return self._timestamp(seconds=seconds, nanos=nanos)

    def check_project(self, given: str, resource: str) -> None:
        if given not in (self.world.project, self.world.project_number):
            raise Abort(
                grpc.StatusCode.PERMISSION_DENIED,
                f"Permission denied on resource {resource!r} (or it may not exist); "
                f"this emulator serves project {self.world.project!r}",
            )

    def parse_name(self, template: str, name: str, *, field: str = "name", check_project: bool = True) -> tuple[str, ...]:
        """``name``'s segments for ``template`` (e.g. ``projects/{project}/locations/{region}``).

        A name of another shape is INVALID_ARGUMENT naming the expected one; with
        ``check_project`` a project other than the emulator's is PERMISSION_DENIED.
        """
        parts = match_name(template, name)
        if parts is None:
            expected = _PLACEHOLDER.sub(lambda m: m.group(1).upper(), template)
            raise Abort(grpc.StatusCode.INVALID_ARGUMENT, f"{field} {name!r} is not {expected}")
        if check_project:
            self.check_project(parts[0], name)
        return parts


def compile_filter(text: str, schema: filters.Schema, *, wildcard_maps: tuple[str, ...] = ()) -> filters.Predicate:
    """An AIP-160 list filter as a predicate; a filter the emulator cannot answer is INVALID_ARGUMENT."""
    try:
        return filters.compile_filter(text, schema, wildcard_maps=wildcard_maps)
    except FilterError as exc:
        raise Abort(grpc.StatusCode.INVALID_ARGUMENT, f"invalid filter {text!r}: {exc}") from None


def page(
    items: Sequence[T],
    key: Callable[[T], SortKey],
    *,
    rules: PageRules,
    request: Any,
    query: str,
    descending: bool = True,
) -> tuple[list[T], str]:
    """The page ``request.page_size`` / ``request.page_token`` ask for, and the next token.

    ``items`` are sorted by ``key`` in that direction; a page size or token the
    API would refuse is INVALID_ARGUMENT.
    """
    try:
        size = rules.size(request.page_size)
        return cut_page(items, key, descending=descending, page_size=size, page_token=request.page_token, query=query)
    except PageTokenError as exc:
        raise Abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc)) from None
