"""The strict, versioned JSON codec: the only way messages are written to pipes, recordings and files."""

from __future__ import annotations

import dataclasses
import enum
import json
import math
import types
import typing
from typing import Any, Union

# Settings travel to the fetch processes through this codec (LauncherInit).
from arr_actors.config import SECTIONS, Settings, TablePolicy
from arr_actors.messages.base import (
    MAX_EPOCH,
    MAX_INT,
    MAX_SECONDS,
    SCHEMA_VERSION,
    TOO_DEEP,
    CodecError,
    TableStatus,
    table_status,
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
    TableSnapshot,
    Tick,
)
from arr_actors.messages.fetch import Action, FetchReady, FetchResult, StartFetch, TableData
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
from arr_actors.messages.logs import LogCursor, LogPage, LogRequest, LogSource, LogStop
from arr_actors.rows import BuildRow, Row, RunnerRow, VertexRow, WandbRunRow

# ------------------------------------------------------------------- codec

#: Every type the codec knows, by the name written in documents.
MESSAGE_TYPES: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        RunnerRow,
        BuildRow,
        VertexRow,
        WandbRunRow,
        TableData,
        Action,
        StartFetch,
        FetchResult,
        FetchReady,
        LauncherInit,
        LauncherReady,
        SpawnChild,
        KillChild,
        StopLauncher,
        ChildSpawned,
        ChildSpawnFailed,
        ChildExited,
        TemplateReady,
        TemplateFailed,
        ChildAdopted,
        Settings,
        *SECTIONS.values(),
        TablePolicy,
        TableSnapshot,
        FetchStarted,
        Notice,
        PauseChanged,
        RefreshRequest,
        SetPaused,
        ActionRequest,
        ActionDone,
        PlaybackEnded,
        Tick,
        LogSource,
        LogCursor,
        LogRequest,
        LogStop,
        LogPage,
    )
}

#: Messages the UI receives; the ones a recording holds.
UI_MESSAGE_TYPES = (TableSnapshot, FetchStarted, Notice, PauseChanged, ActionDone)
#: What the process-starter thread sends the launcher, and what it answers.
LAUNCHER_MESSAGE_TYPES = (LauncherInit, SpawnChild, KillChild, StopLauncher)
LAUNCHER_REPORT_TYPES = (LauncherReady, ChildSpawned, ChildSpawnFailed, ChildExited, TemplateReady, TemplateFailed)
#: What the launcher sends a fork template, and what the template answers.
TEMPLATE_MESSAGE_TYPES = (SpawnChild, ChildAdopted)
TEMPLATE_REPORT_TYPES = (TemplateReady, ChildSpawned, ChildSpawnFailed)

_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    hints = _HINTS.get(cls)
    if hints is None:
        hints = typing.get_type_hints(cls)
        _HINTS[cls] = hints
    return hints


def encode(message: Any) -> dict[str, Any]:
    """A message as a plain JSON-ready dict, tagged with its type name."""
    cls = type(message)
    if MESSAGE_TYPES.get(cls.__name__) is not cls:
        raise CodecError(f"cannot encode {cls.__name__}: not a message type")
    out: dict[str, Any] = {"type": cls.__name__}
    for f in dataclasses.fields(message):
        out[f.name] = _encode_value(getattr(message, f.name))
    return out


def _encode_value(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return encode(value)
    if isinstance(value, tuple):
        return [_encode_value(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        raise CodecError(f"cannot encode non-finite number {value!r}")
    return value


def decode(obj: Any, *, expect: tuple[type, ...] | None = None) -> Any:
    """The message a dict describes. Raises CodecError naming what is wrong."""
    if not isinstance(obj, dict):
        raise CodecError(f"expected an object with a 'type', got {type(obj).__name__}")
    name = obj.get("type")
    if not isinstance(name, str):
        raise CodecError("missing or non-string 'type'")
    cls = MESSAGE_TYPES.get(name)
    if cls is None:
        raise CodecError(f"unknown message type {name!r}")
    if expect is not None and cls not in expect:
        allowed = ", ".join(c.__name__ for c in expect)
        raise CodecError(f"message type {name!r} not allowed here (expected {allowed})")
    return _decode_dataclass(cls, obj, path=name)


def _decode_dataclass(cls: type, obj: dict[str, Any], *, path: str) -> Any:
    hints = _hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(obj) - set(fields) - {"type"}
    if unknown:
        raise CodecError(f"{path}: unknown field(s) {', '.join(sorted(unknown))}")
    kwargs: dict[str, Any] = {}
    for name, f in fields.items():
        if name not in obj:
            has_default = f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
            if has_default:
                continue
            raise CodecError(f"{path}.{name}: missing")
        kwargs[name] = _decode_value(hints[name], obj[name], path=f"{path}.{name}", moment=is_moment(name))
    try:
        return cls(**kwargs)
    except CodecError as exc:
        raise CodecError(f"{path}: {exc}") from None
    except (TypeError, ValueError) as exc:
        raise CodecError(f"{path}: {exc}") from None


def is_moment(name: str) -> bool:
    """Whether a field holds a moment (epoch seconds): ``at``, ``now`` and every ``*_at``."""
    return name in ("at", "now") or name.endswith("_at")


def _decode_value(tp: Any, value: Any, *, path: str, moment: bool = False) -> Any:
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        options = typing.get_args(tp)
        if value is None:
            if type(None) in options:
                return None
            raise CodecError(f"{path}: must not be null")
        dataclass_options = tuple(o for o in options if isinstance(o, type) and dataclasses.is_dataclass(o))
        if dataclass_options and isinstance(value, dict):
            return decode(value, expect=dataclass_options)
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _decode_value(option, value, path=path, moment=moment)
            except CodecError as exc:
                errors.append(str(exc))
        raise CodecError(errors[0] if len(errors) == 1 else f"{path}: {_describe(value)} does not fit {tp}")
    if origin is tuple:
        if not isinstance(value, list):
            raise CodecError(f"{path}: expected a list, got {_describe(value)}")
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode_value(args[0], v, path=f"{path}[{i}]") for i, v in enumerate(value))
        # A pair or other fixed shape, e.g. Settings.tables' (table, policy).
        if len(value) != len(args):
            raise CodecError(f"{path}: expected a list of {len(args)} items, got {len(value)}")
        return tuple(_decode_value(t, v, path=f"{path}[{i}]") for i, (t, v) in enumerate(zip(args, value, strict=True)))
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return decode(value, expect=(tp,))
    if tp is TableStatus:
        if not isinstance(value, str):
            raise CodecError(f"{path}: expected a string, got {_describe(value)}")
        return table_status(value, path=path)
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise CodecError(f"{path}: expected a number, got {_describe(value)}")
        return _number(value, path=path, moment=moment)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise CodecError(f"{path}: expected an integer, got {_describe(value)}")
        if not -MAX_INT <= value <= MAX_INT:
            raise CodecError(f"{path}: {_describe(value)} is out of range (at most 2**53 either way)")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise CodecError(f"{path}: expected true or false, got {_describe(value)}")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise CodecError(f"{path}: expected a string, got {_describe(value)}")
        return value
    raise CodecError(f"{path}: unsupported field type {tp}")  # pragma: no cover - schema bug


def _number(value: int | float, *, path: str, moment: bool) -> float:
    """A float field's value, checked: finite, and a moment between 1970 and 9999 or
    any other number no larger than that, so no later conversion overflows."""
    if isinstance(value, int) and not -MAX_INT <= value <= MAX_INT:
        raise CodecError(f"{path}: {_describe(value)} is out of range")
    if not math.isfinite(value):
        raise CodecError(f"{path}: expected a finite number")
    if moment and not 0 <= value <= MAX_EPOCH:
        raise CodecError(f"{path}: {value!r} is not a moment between 1970 and 9999 (epoch seconds)")
    if not -MAX_SECONDS <= value <= MAX_SECONDS:
        raise CodecError(f"{path}: {value!r} is out of range (at most {MAX_SECONDS:.0f} either way)")
    return float(value)


def _describe(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, (dict, list)) else type(value).__name__
    return text if len(text) <= 40 else text[:37] + "..."


def parse_json(text: str | bytes) -> Any:
    """The JSON value ``text`` holds; CodecError when it holds none.

    Python's parser has no depth limit of its own: a document nested deeper
    than the interpreter's recursion limit raises RecursionError, reported here
    like any other bad document. Integers of more than 4300 digits are refused
    by the parser itself; the codec refuses anything past :data:`MAX_INT`.
    """
    try:
        return json.loads(text)
    except UnicodeDecodeError:
        raise CodecError("not UTF-8 text") from None
    except RecursionError:
        raise CodecError(TOO_DEEP) from None
    except ValueError as exc:
        raise CodecError(f"not valid JSON: {exc}") from None


def to_json(message: Any) -> str:
    """One message as a compact JSON document carrying the schema version."""
    doc = encode(message)
    doc["schema"] = SCHEMA_VERSION
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def from_json(text: str | bytes, *, expect: tuple[type, ...] | None = None) -> Any:
    """Parse a document written by :func:`to_json`; CodecError on anything else."""
    obj = parse_json(text)
    if not isinstance(obj, dict):
        raise CodecError(f"expected a JSON object, got {type(obj).__name__}")
    schema = obj.pop("schema", None)
    if schema is None:
        raise CodecError("missing 'schema' version")
    if isinstance(schema, bool) or not isinstance(schema, int):
        raise CodecError(f"'schema' must be an integer, got {_describe(schema)}")
    if schema > SCHEMA_VERSION:
        raise CodecError(
            f"schema {schema} is newer than this program understands ({SCHEMA_VERSION}); upgrade arr_actors"
        )
    if schema < 1:
        raise CodecError(f"schema {schema} is not valid")
    return decode(obj, expect=expect)


def row_to_plain(row: Row) -> dict[str, Any]:
    """A row as plain JSON fields without the type tag (for --once --json)."""
    doc = encode(row)
    doc.pop("type")
    return doc
