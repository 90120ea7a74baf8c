"""Every value that crosses an actor or process boundary, and their JSON codec.

Messages are frozen, slotted dataclasses holding tuples, so a snapshot handed to
the UI can never be changed behind its back. The rows of the tables are
messages too, declared in ``arr_actors.rows`` and re-exported here. The codec
is the only way these values are written to pipes, recordings and warm-start
files: it is versioned and strict, so a bad document fails here with a message
naming the field, never later inside a widget. One snapshot's journey through
these types, from the fetch process to the screen, is told in
:mod:`arr_actors.runtime`.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import math
import types
import typing
from dataclasses import dataclass
from typing import Any, Protocol, Union

# Settings travel to the fetch processes through this codec (LauncherInit).
from arr_actors.config import SECTIONS, Settings, TablePolicy
from arr_actors.rows import BuildRow, DetailField, FieldKind, Row, RunnerRow, VertexRow, WandbRunRow

SCHEMA_VERSION = 1

NOTICE_LEVELS = ("info", "warning", "error")

#: The largest integer a document may hold: every integer a float can hold
#: exactly, so no count, id or size is ever rounded or overflows a conversion.
MAX_INT = 2**53
#: The latest moment a document may name (epoch seconds of 9999-01-01 UTC): any
#: later one, shown as a local date, could pass the year 9999 that dates end at.
MAX_EPOCH = 253_370_764_800.0
#: No duration or amount in a document is larger than that either.
MAX_SECONDS = MAX_EPOCH
#: What a document nested past the parser's recursion limit is called.
TOO_DEEP = "nested too deeply to be one of this program's documents"


class CodecError(ValueError):
    """A document could not be turned into a message; the text says where and why."""


class TableStatus(str, enum.Enum):
    """What a table's latest snapshot says about its rows; documents hold the value."""

    OK = "ok"
    STALE = "stale"  # the refresh failed: the rows are the last known good
    ERROR = "error"  # the refresh failed and no rows were ever fetched
    TIMEOUT = "timeout"  # the refresh passed its deadline and was killed
    RESTARTING = "restarting"  # a new fetch process is starting after a failure
    CIRCUIT_OPEN = "circuit_open"  # too many failures: retrying later

    def __str__(self) -> str:
        # The value, on every Python version (a plain str-mixin enum formats
        # as "TableStatus.OK" in f-strings from 3.11 on).
        return self.value

    @property
    def failing(self) -> bool:
        """Whether the last refresh failed (any state but ``ok``)."""
        return self is not TableStatus.OK


def _table_status(value: object, *, path: str) -> TableStatus:
    try:
        return TableStatus(value)
    except ValueError:
        choices = ", ".join(status.value for status in TableStatus)
        raise CodecError(f"{path}: {value!r} is not one of {choices}") from None


# ---------------------------------------------------------------- fetch results


@dataclass(frozen=True, slots=True)
class TableData:
    """What one successful fetch of a source returns (built in the child process).

    ``warning`` reports partial trouble that still produced rows, e.g.
    "2 of 18 regions failed: ...". ``log_reads`` counts Cloud Logging
    ``entries.list`` calls made by this fetch; ``deferred`` says work was put off
    to a later refresh (e.g. log reads held back by the rate limiter).
    """

    rows: tuple[Row, ...]
    warning: str = ""
    log_reads: int = 0
    deferred: str = ""


# ------------------------------------------------------- the fetch round trip

#: What an action does to the row it names.
ACTION_KINDS = ("cancel",)


@dataclass(frozen=True, slots=True)
class Action:
    """Something that changes the cloud, on one row: ``kind`` (``cancel``) of
    the row ``key`` of ``table``; ``name`` says what it is to a person."""

    kind: str
    table: str
    key: str
    name: str
    region: str = ""
    ident: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ACTION_KINDS:
            raise CodecError(f"Action.kind: {self.kind!r} is not one of {', '.join(ACTION_KINDS)}")


@dataclass(frozen=True, slots=True)
class StartFetch:
    """Run fetch ``seq`` of ``table`` in its child of incarnation ``generation``.

    Decided by the policy, carried out by the table's fetcher (which starts the
    child if needed) and sent on, as it is, to the fetch process. With an
    ``action``, the fetch process carries it out first, under the fetch's
    deadline, and the rows that follow show its effect.
    """

    table: str
    generation: int
    seq: int
    action: Action | None = None


@dataclass(frozen=True, slots=True)
class FetchResult:
    """The answer to one StartFetch: rows or an error text (``data`` None).

    The fetch process sends it; the fetcher passes it on to the watchdog as it
    is, or makes one itself when the process could not answer (it could not be
    started, sent something invalid or too large). ``partial`` results carry
    the rows a fetch has so far; the final result of the same ``seq`` follows
    (see :mod:`arr_actors.partial_rows`).

    The fetch process counts its cloud calls and sends them along: ``calls``
    (service, calls made by this fetch), and for a process that reads Cloud
    Logging the project-wide limiter's view: ``logging_used`` (calls in the
    last minute, every process together) and ``throttled_until`` (when the
    limiter allows a call again, when it is full).
    """

    table: str
    generation: int
    seq: int
    data: TableData | None = None
    error: str = ""
    partial: bool = False
    calls: tuple[tuple[str, int], ...] = ()
    logging_used: int | None = None
    throttled_until: float | None = None
    #: The fetch carried an action: "" when the service accepted it, else why not.
    action_error: str = ""


@dataclass(frozen=True, slots=True)
class FetchReady:
    """Fetch process -> watchdog, once, before any result: the source is loaded, fetches can start.

    ``startup_s`` is how long loading the source's libraries and clients took;
    ``error`` says why building the source failed (the first fetch reports it too).
    """

    table: str
    generation: int
    startup_s: float
    error: str = ""


# ------------------------------------------------ the fetch process launcher
# The UI process's process-starter thread and the launcher process talk in these
# (one message per packet). ``token`` names one child incarnation (a pid can be
# reused, a token is not).


@dataclass(frozen=True, slots=True)
class LauncherInit:
    """Starter -> launcher, first: what every fetch process needs."""

    settings: Settings
    source_factory: str  # "module:function" a child calls as factory(settings, table)
    sys_path: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LauncherReady:
    """Launcher -> starter, once, after LauncherInit."""

    pid: int


@dataclass(frozen=True, slots=True)
class SpawnChild:
    """Starter -> launcher: fork a fetch process; its socket end comes with the packet (SCM_RIGHTS)."""

    token: int
    table: str
    generation: int


@dataclass(frozen=True, slots=True)
class KillChild:
    """Starter -> launcher: SIGTERM the child's group, SIGKILL after ``grace`` (0: at once)."""

    token: int
    grace: float


@dataclass(frozen=True, slots=True)
class StopLauncher:
    """Starter -> launcher: kill every child, reap them all, exit."""


@dataclass(frozen=True, slots=True)
class ChildSpawned:
    token: int
    pid: int


@dataclass(frozen=True, slots=True)
class ChildSpawnFailed:
    token: int
    error: str


@dataclass(frozen=True, slots=True)
class ChildExited:
    """The launcher reaped the child (``returncode`` < 0: killed by that signal).

    ``returncode`` (and ``pid``, if it never got one) is None when the launcher
    itself went away and took its children with it; the starter says so.
    """

    token: int
    pid: int | None
    returncode: int | None


# A fork template (``runtime/template.py``) talks to the launcher over a socket
# of its own: SpawnChild (+ the child's socket) and ChildAdopted in,
# TemplateReady, ChildSpawned and ChildSpawnFailed out. The launcher passes
# TemplateReady and TemplateFailed on to the starter, for the event log.


@dataclass(frozen=True, slots=True)
class TemplateReady:
    """Fork template -> launcher (and launcher -> starter): its libraries are loaded in ``load_s``."""

    name: str
    pid: int
    load_s: float


@dataclass(frozen=True, slots=True)
class TemplateFailed:
    """Launcher -> starter: a fork template was given up; its tables are forked by the launcher itself."""

    name: str
    error: str


@dataclass(frozen=True, slots=True)
class ChildAdopted:
    """Launcher -> fork template: the launcher tracks this child now; let it become the launcher's child."""

    token: int


# -------------------------------------------------------------- to the UI etc.


@dataclass(frozen=True, slots=True)
class TableSnapshot:
    """The whole visible state of one table at one moment.

    ``rows`` are always the last known good rows: a failed refresh keeps them and
    says so through ``state``, ``error`` and ``fetched_at`` (when those rows were
    fetched). ``next_refresh_at`` is when the next attempt is due (None when
    paused or not scheduled).
    """

    table: str
    seq: int
    state: TableStatus
    rows: tuple[Row, ...] = ()
    error: str = ""
    warning: str = ""
    fetched_at: float | None = None
    updated_at: float = 0.0
    duration_s: float | None = None
    budget_pct: float | None = None
    attempts: int = 0
    restarts: int = 0
    next_refresh_at: float | None = None
    # The deadline of the fetch in flight when this snapshot was taken, None
    # when no fetch is running: a snapshot sent mid-fetch (a restart, a pause)
    # must not stop the spinner that FetchStarted began.
    fetch_deadline_at: float | None = None
    # This table's cloud calls in the minute before ``updated_at``, per service
    # (counted in its fetch process); the Cloud Logging calls of the whole
    # program in that minute as the shared limiter counts them (None: this
    # table does not read logs); and until when the limiter holds its log
    # reads back (None: it does not).
    calls: tuple[tuple[str, int], ...] = ()
    logging_used: int | None = None
    throttled_until: float | None = None

    def __post_init__(self) -> None:
        # Built from a plain string too (the string of a state is its value).
        if not isinstance(self.state, TableStatus):
            object.__setattr__(self, "state", _table_status(self.state, path="TableSnapshot.state"))


@dataclass(frozen=True, slots=True)
class FetchStarted:
    """A fetch of ``table`` began; drives the spinner until the next snapshot."""

    table: str
    generation: int
    started_at: float
    deadline_at: float


@dataclass(frozen=True, slots=True)
class Notice:
    """Something the user should read (a toast in the UI, a line on stderr elsewhere)."""

    text: str
    level: str = "info"
    table: str = ""
    at: float = 0.0

    def __post_init__(self) -> None:
        if self.level not in NOTICE_LEVELS:
            raise CodecError(f"Notice.level: {self.level!r} is not one of {', '.join(NOTICE_LEVELS)}")


@dataclass(frozen=True, slots=True)
class ActionDone:
    """The fetch that carried ``action`` is over: ``error`` empty when the service
    accepted it (its rows then show the effect), else why not."""

    action: Action
    error: str = ""


@dataclass(frozen=True, slots=True)
class PlaybackEnded:
    """A replay reached the end of its recording, whose last message was at ``at``."""

    at: float


@dataclass(frozen=True, slots=True)
class PauseChanged:
    """Auto-refresh was paused or resumed."""

    paused: bool


# ------------------------------------------------------------ actor commands


@dataclass(frozen=True, slots=True)
class RefreshRequest:
    """Ask for a refresh now: one table, or every table when ``table`` is empty."""

    table: str = ""
    manual: bool = True


@dataclass(frozen=True, slots=True)
class SetPaused:
    paused: bool


@dataclass(frozen=True, slots=True)
class ActionRequest:
    """Carry out ``action`` (confirmed by the user) in its table's fetch process."""

    action: Action


@dataclass(frozen=True, slots=True)
class Tick:
    """Clock tick for the watchdog (sent by a ticker thread, or by tests by hand)."""

    now: float


class Subscriber(Protocol):
    """Anything messages are told to: the UI actor, a recorder, the warm-start
    writer, the runtime system (commands), an actor ref. ``tell`` never blocks."""

    def tell(self, message: Any, /) -> None: ...


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
        return _table_status(value, path=path)
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


__all__ = [
    "SCHEMA_VERSION",
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
