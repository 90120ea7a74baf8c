"""Fault injection per emulated service: parsing and the values the servers act on.

A fault is written ``SERVICE=KIND``: ``run=hang``, ``logging=slow:3``,
``vertex=error:PERMISSION_DENIED``, ``wandb=error:503``, ``build=garbage``,
``all=error:UNAVAILABLE``, ``run=error:SERVICE_DISABLED``. ``none`` clears a
service's fault. An error fault may name an ``ErrorInfo`` reason instead of a
status (``REASONS``); the call then fails the way Google's APIs report that
reason: its status, its message and the reason in the status details. Table names are
accepted as aliases for the services behind them (``runner`` is Cloud Run and
Cloud Logging, ``active`` and ``completed`` are W&B).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

#: The emulated services, each a group of RPCs (or the GraphQL endpoint).
SERVICES: tuple[str, ...] = ("run", "vertex", "build", "logging", "resourcemanager", "wandb")

#: ErrorInfo reasons an error fault may name -> the gRPC status Google's APIs send with them.
REASONS: dict[str, str] = {
    "SERVICE_DISABLED": "PERMISSION_DENIED",
    "IAM_PERMISSION_DENIED": "PERMISSION_DENIED",
    "CREDENTIALS_MISSING": "UNAUTHENTICATED",
    "RATE_LIMIT_EXCEEDED": "RESOURCE_EXHAUSTED",
}

#: Table name -> the services its source calls.
TABLE_ALIASES: dict[str, tuple[str, ...]] = {
    "runner": ("run", "logging"),
    "builds": ("build",),
    "active": ("wandb",),
    "completed": ("wandb",),
    "all": SERVICES,
}

KINDS: tuple[str, ...] = ("hang", "slow:SECONDS", "error:CODE", "garbage", "none")

#: gRPC status code names an ``error:`` fault may use, with the HTTP status the
#: GraphQL endpoint answers when the same fault applies to every service.
GRPC_TO_HTTP: dict[str, int] = {
    "CANCELLED": 499,
    "UNKNOWN": 500,
    "INVALID_ARGUMENT": 400,
    "DEADLINE_EXCEEDED": 504,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "PERMISSION_DENIED": 403,
    "RESOURCE_EXHAUSTED": 429,
    "FAILED_PRECONDITION": 400,
    "ABORTED": 409,
    "OUT_OF_RANGE": 400,
    "UNIMPLEMENTED": 501,
    "INTERNAL": 500,
    "UNAVAILABLE": 503,
    "DATA_LOSS": 500,
    "UNAUTHENTICATED": 401,
}

_HTTP_TO_GRPC: dict[int, str] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


class FaultError(ValueError):
    """A fault specification is wrong; the message names it and what is allowed."""


@dataclass(frozen=True, slots=True)
class Fault:
    """What one service does to every call while the fault is set."""

    kind: str  # "hang", "slow", "error", "garbage"
    seconds: float = 0.0  # slow
    grpc_code: str = ""  # error: status name for the gRPC services
    http_status: int = 0  # error: status for the GraphQL endpoint
    reason: str = ""  # error: the ErrorInfo reason (REASONS), or "" for the status's usual one

    def describe(self) -> str:
        if self.kind == "slow":
            return f"slow:{self.seconds:g}"
        if self.kind == "error":
            return f"error:{self.reason or self.grpc_code}/{self.http_status}"
        return self.kind


def parse_kind(text: str) -> Fault | None:
    """``"slow:2.5"`` -> ``Fault("slow", 2.5)``; ``"none"`` -> ``None`` (no fault)."""
    name, sep, arg = text.strip().partition(":")
    if name == "none" and not sep:
        return None
    if name in ("hang", "garbage") and not sep:
        return Fault(name)
    if name == "slow":
        try:
            seconds = float(arg)
        except ValueError:
            raise FaultError(f"fault kind {text!r}: slow needs seconds, e.g. slow:3") from None
        if not math.isfinite(seconds) or seconds < 0:
            raise FaultError(f"fault kind {text!r}: slow needs a finite number of seconds >= 0")
        return Fault("slow", seconds=seconds)
    if name == "error":
        return _error_fault(text, arg.strip())
    raise FaultError(f"unknown fault kind {text!r} (kinds: {', '.join(KINDS)})")


def _error_fault(text: str, code: str) -> Fault:
    if code.isdigit():
        status = int(code)
        if not 400 <= status <= 599:
            raise FaultError(f"fault kind {text!r}: an HTTP status must be 400-599")
        return Fault("error", grpc_code=_HTTP_TO_GRPC.get(status, "UNKNOWN"), http_status=status)
    name = code.upper()
    if name in REASONS:
        status_name = REASONS[name]
        return Fault("error", grpc_code=status_name, http_status=GRPC_TO_HTTP[status_name], reason=name)
    if name not in GRPC_TO_HTTP:
        raise FaultError(
            f"fault kind {text!r}: {code!r} is neither a gRPC status name "
            f"({', '.join(sorted(GRPC_TO_HTTP))}), an ErrorInfo reason ({', '.join(REASONS)}) "
            "nor an HTTP status number"
        )
    return Fault("error", grpc_code=name, http_status=GRPC_TO_HTTP[name])


def parse_assignment(text: str) -> tuple[tuple[str, ...], Fault | None]:
    """``"runner=hang"`` -> ``(("run", "logging"), Fault("hang"))``."""
    target, sep, kind = text.partition("=")
    target = target.strip()
    if not sep or not target or not kind.strip():
        raise FaultError(f"{text!r} is not SERVICE=KIND (e.g. logging=hang)")
    return services_of(target), parse_kind(kind)


def services_of(target: str) -> tuple[str, ...]:
    if target in SERVICES:
        return (target,)
    if target in TABLE_ALIASES:
        return TABLE_ALIASES[target]
    names = ", ".join((*SERVICES, *TABLE_ALIASES))
    raise FaultError(f"unknown service {target!r} (services: {names})")


FaultSpec = str | Mapping[str, str] | Iterable[str] | Iterable[tuple[str, str]]


def build_table(spec: FaultSpec | None) -> dict[str, Fault]:
    """Faults by service from ``{"run": "hang"}``, ``["run=hang"]``, ``[("run", "hang")]`` or ``"run=hang"``.

    Entries apply in order, so ``["all=hang", "wandb=none"]`` hangs every
    service but W&B.
    """
    if spec is None:
        return {}
    if isinstance(spec, str):
        items: list[str] = [spec]
    elif isinstance(spec, Mapping):
        items = [f"{k}={v}" for k, v in spec.items()]
    else:
        items = []
        for entry in spec:
            if isinstance(entry, str):
                items.append(entry)
            elif isinstance(entry, tuple) and len(entry) == 2 and all(isinstance(p, str) for p in entry):
                items.append(f"{entry[0]}={entry[1]}")
            else:
                raise FaultError(f"fault {entry!r} is neither 'SERVICE=KIND' nor a (service, kind) pair")
    table: dict[str, Fault] = {}
    for item in items:
        services, fault = parse_assignment(item)
        for service in services:
            if fault is None:
                table.pop(service, None)
            else:
                table[service] = fault
    return table


def table_to_plain(table: Mapping[str, Fault]) -> dict[str, str]:
    """The table as ``SERVICE -> KIND`` text that ``build_table`` reads back."""
    out = {}
    for service, fault in sorted(table.items()):
        if fault.kind == "slow":
            out[service] = f"slow:{fault.seconds:g}"
        elif fault.kind == "error":
            out[service] = f"error:{fault.http_status if service == 'wandb' else fault.reason or fault.grpc_code}"
        else:
            out[service] = fault.kind
    return out
