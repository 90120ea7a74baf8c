"""Every value that crosses an actor or process boundary, and their JSON codec.

Messages are frozen, slotted dataclasses holding tuples, so a snapshot handed to
the UI can never be changed behind its back. The rows of the tables are
messages too, declared in ``arr_actors.rows`` and re-exported here. The codec
is the only way these values are written to pipes, recordings and warm-start
files: it is versioned and strict, so a bad document fails here with a message
naming the field, never later inside a widget. One snapshot's journey through
these types, from the fetch process to the screen, is told in
:mod:`arr_actors.runtime`.

One module per kind: ``base`` (schema version, number limits, ``TableStatus``),
``fetch`` (the fetch round trip), ``launcher`` (the launcher's typed protocol),
``events`` (what subscribers receive and the actors' commands), ``logs``
(reading one item's whole log) and ``codec``.
Import them from here.

The codec and the launcher's protocol are imported on first use: the screen
needs neither before its first frame (a start without a warm-start file
decodes nothing), and they are about 10 ms of that frame's imports.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from arr_actors.messages.base import (
    MAX_EPOCH,
    MAX_INT,
    MAX_SECONDS,
    NOTICE_LEVELS,
    SCHEMA_VERSION,
    TOO_DEEP,
    CodecError,
    TableStatus,
)
from arr_actors.messages.events import (
    ActionDone,
    ActionRequest,
    FetchStarted,
    Notice,
    PauseChanged,
    PlaybackEnded,
    RefreshRequest,
    SetPaused,
    Subscriber,
    TableSnapshot,
    Tick,
)
from arr_actors.messages.fetch import ACTION_KINDS, Action, FetchReady, FetchResult, StartFetch, TableData
from arr_actors.messages.logs import LOG_TABLES, LogCursor, LogPage, LogRequest, LogSource, LogStop
from arr_actors.rows import BuildRow, DetailField, FieldKind, Row, RunnerRow, VertexRow, WandbRunRow

if TYPE_CHECKING:
    from arr_actors.messages.codec import (
        LAUNCHER_MESSAGE_TYPES,
        LAUNCHER_REPORT_TYPES,
        MESSAGE_TYPES,
        TEMPLATE_MESSAGE_TYPES,
        TEMPLATE_REPORT_TYPES,
        UI_MESSAGE_TYPES,
        decode,
        encode,
        from_json,
        is_moment,
        parse_json,
        row_to_plain,
        to_json,
    )
    from arr_actors.messages.launcher import (
        ChildAdopted,
        ChildExited,
        ChildSpawned,
        ChildSpawnFailed,
        KillChild,
        LauncherInit,
        LauncherReady,
        SpawnChild,
        StopLauncher,
        TemplateFailed,
        TemplateReady,
    )

#: Names imported from their module on first use (see the module docstring).
_LAZY = {
    "arr_actors.messages.codec": (
        "LAUNCHER_MESSAGE_TYPES",
        "LAUNCHER_REPORT_TYPES",
        "MESSAGE_TYPES",
        "TEMPLATE_MESSAGE_TYPES",
        "TEMPLATE_REPORT_TYPES",
        "UI_MESSAGE_TYPES",
        "decode",
        "encode",
        "from_json",
        "is_moment",
        "parse_json",
        "row_to_plain",
        "to_json",
    ),
    "arr_actors.messages.launcher": (
        "ChildAdopted",
        "ChildExited",
        "ChildSpawned",
        "ChildSpawnFailed",
        "KillChild",
        "LauncherInit",
        "LauncherReady",
        "SpawnChild",
        "StopLauncher",
        "TemplateFailed",
        "TemplateReady",
    ),
}
_LAZY_MODULE = {name: module for module, names in _LAZY.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _LAZY_MODULE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # once: later lookups find it here
    return value


__all__ = [
    "SCHEMA_VERSION",
    "NOTICE_LEVELS",
    "TableStatus",
    "DetailField",
    "FieldKind",
    "CodecError",
    "RunnerRow",
    "BuildRow",
    "VertexRow",
    "WandbRunRow",
    "Row",
    "TableData",
    "ACTION_KINDS",
    "Action",
    "ActionRequest",
    "ActionDone",
    "LOG_TABLES",
    "LogCursor",
    "LogPage",
    "LogRequest",
    "LogSource",
    "LogStop",
    "PlaybackEnded",
    "StartFetch",
    "FetchResult",
    "FetchReady",
    "LauncherInit",
    "LauncherReady",
    "SpawnChild",
    "KillChild",
    "StopLauncher",
    "ChildSpawned",
    "ChildSpawnFailed",
    "ChildExited",
    "LAUNCHER_MESSAGE_TYPES",
    "LAUNCHER_REPORT_TYPES",
    "TEMPLATE_MESSAGE_TYPES",
    "TEMPLATE_REPORT_TYPES",
    "ChildAdopted",
    "TemplateFailed",
    "TemplateReady",
    "Subscriber",
    "TableSnapshot",
    "FetchStarted",
    "Notice",
    "PauseChanged",
    "RefreshRequest",
    "SetPaused",
    "Tick",
    "MESSAGE_TYPES",
    "UI_MESSAGE_TYPES",
    "MAX_INT",
    "MAX_EPOCH",
    "MAX_SECONDS",
    "TOO_DEEP",
    "is_moment",
    "parse_json",
    "encode",
    "decode",
    "to_json",
    "from_json",
    "row_to_plain",
]
