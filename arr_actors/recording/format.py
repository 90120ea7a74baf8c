"""What a recording is: its kind and schema, the header line and one line per UI message.

A recording is a header line followed by one line per UI message::

    {"kind": "arr_actors-recording", "schema": 1, "started_at": "2024-05-01T09:30:00+00:00", "settings": {...}}
    {"t": 0.412, "message": {"type": "FetchStarted", "table": "builds", ...}}
    {"t": 1.873, "message": {"type": "TableSnapshot", "table": "builds", ...}}

``t`` is seconds since the recording started; messages use the codec in
:mod:`arr_actors.messages` (data only, never pickle). Every line is read as a JSON
document by :func:`load_line` first, then taken as a header or as a message.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from arr_actors.config import MAX_ROWS
from arr_actors.inert import dumps
from arr_actors.messages import MAX_EPOCH, TOO_DEEP, UI_MESSAGE_TYPES, CodecError, TableSnapshot, decode, encode

if TYPE_CHECKING:
    from arr_actors.config import Settings

RECORDING_KIND = "arr_actors-recording"
RECORDING_SCHEMA = 1

#: Longest line the reader accepts. A snapshot is capped by max_result_bytes
#: (8 MiB by default) in the runtime; its JSON is a few times that at most.
MAX_LINE_BYTES = 64 * 1024 * 1024

HOW_TO_RECORD = "record one with: python -m arr_actors --record FILE"

#: The latest ``t`` a line may have: a century of recording. Later ones are
#: damage (waiting for them would overflow every timer).
MAX_T = 100 * 366 * 86400.0


class RecordingError(Exception):
    """The stream is not a recording this program can read; the text says why and what to do."""


@dataclass(frozen=True, slots=True)
class Header:
    """The first line of a recording."""

    schema: int
    started_at: str  # ISO 8601, as written
    started_epoch: float | None  # the same moment as epoch seconds, None if unparsable
    settings: Mapping[str, Any] = field(default_factory=dict)


class Entry(NamedTuple):
    """One recorded message, ``t`` seconds after the recording started.

    ``note`` says what was left out of it (rows past what a table can show).
    """

    t: float
    message: Any
    line: int
    note: str = ""


class Skipped(NamedTuple):
    """A line that could not be used, or (``kept``) was used only in part; replay goes on."""

    line: int
    reason: str
    kept: bool = False

    @property
    def text(self) -> str:
        return f"line {self.line}: {self.reason}" if self.kept else f"line {self.line} skipped: {self.reason}"


def iso8601(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, tz=datetime.timezone.utc).isoformat(timespec="milliseconds")


def header_document(settings: Settings, *, started_at: float) -> dict[str, Any]:
    return {
        "kind": RECORDING_KIND,
        "schema": RECORDING_SCHEMA,
        "started_at": iso8601(started_at),
        "settings": settings.summary(),
    }


def _dump(doc: Any) -> bytes:
    # --record - may stream to a terminal: C1 and format characters are escaped, as in every JSON we print.
    return (dumps(doc, separators=(",", ":"), allow_nan=False) + "\n").encode()


def encode_header(settings: Settings, *, started_at: float) -> bytes:
    """The header line, newline included."""
    return _dump(header_document(settings, started_at=started_at))


def encode_entry(t: float, message: Any) -> bytes:
    """One message line, newline included. CodecError if the message cannot be encoded."""
    return _dump({"t": round(max(t, 0.0), 3), "message": encode(message)})


def load_line(line: bytes) -> Any:
    """The JSON document a line holds; CodecError saying why it holds none."""
    try:
        return json.loads(line)
    except UnicodeDecodeError:
        raise CodecError("not UTF-8 text") from None
    except RecursionError:  # Python's parser has no depth limit but the interpreter's
        raise CodecError(TOO_DEEP) from None
    except ValueError as exc:
        raise CodecError(f"not valid JSON ({exc})") from None


def is_header(doc: Any) -> bool:
    """Whether a line's document is a recording header (of any schema)."""
    return isinstance(doc, dict) and doc.get("kind") == RECORDING_KIND


def parse_header(line: bytes) -> Header:
    """The header a first line holds; RecordingError if it is not a readable recording header."""
    try:
        doc = load_line(line)
    except CodecError:
        doc = None
    if not is_header(doc):
        raise RecordingError(f"not an arr_actors recording (its first line is not a recording header); {HOW_TO_RECORD}")
    schema = doc.get("schema")
    if isinstance(schema, bool) or not isinstance(schema, int) or schema < 1:
        raise RecordingError(f"recording header: 'schema' must be a positive integer, got {schema!r}")
    if schema > RECORDING_SCHEMA:
        raise RecordingError(
            f"recording schema {schema} is newer than this program understands ({RECORDING_SCHEMA}); "
            "upgrade arr_actors to replay it"
        )
    started_at = doc.get("started_at")
    if not isinstance(started_at, str):
        started_at = ""
    try:
        started_epoch: float | None = datetime.datetime.fromisoformat(started_at).timestamp()
    except (ValueError, OverflowError):
        started_epoch = None
    if started_epoch is not None and not 0 <= started_epoch <= MAX_EPOCH - MAX_T:
        started_epoch = None  # the replay clock runs from here: it must stay a date the screen can show
    settings = doc.get("settings")
    return Header(
        schema=schema,
        started_at=started_at,
        started_epoch=started_epoch,
        settings=checked_summary(settings) if isinstance(settings, dict) else {},
    )


def checked_summary(summary: dict[str, Any]) -> dict[str, Any]:
    """A header's settings summary with only the table policies whose every value
    is one the settings accept (``tables.TABLE.*`` in ``config.KEYS``)."""
    from arr_actors.config import KEYS

    tables = summary.get("tables")
    if not isinstance(tables, dict):
        return summary
    keys = {key.name: key for key in KEYS}
    kept = {}
    for table, policy in tables.items():
        if not isinstance(policy, dict):
            continue
        fine = True
        for name, value in policy.items():
            key = keys.get(f"tables.{table}.{name}")
            number = not isinstance(value, bool) and isinstance(value, int if key and key.kind == "int" else (int, float))
            if key is None or not number or (key.check is not None and key.check(value)):
                fine = False
                break
        if fine:
            kept[table] = policy
    return {**summary, "tables": kept}


def entry_from(doc: Any, *, number: int) -> Entry:
    """The message a line's document holds; CodecError saying what is wrong with it."""
    if not isinstance(doc, dict):
        raise CodecError(f"expected a JSON object, got {type(doc).__name__}")
    unknown = set(doc) - {"t", "message"}
    if unknown:
        raise CodecError(f"unknown field(s) {', '.join(sorted(unknown))}")
    t = doc.get("t")
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0 <= t <= MAX_T:  # NaN fails too
        raise CodecError(f"'t' must be a number of seconds from 0 to {MAX_T:.0f}, got {_shown(t)}")
    if "message" not in doc:
        raise CodecError("missing 'message'")
    raw, note = _at_most_rows(doc["message"], MAX_ROWS)
    message = decode(raw, expect=UI_MESSAGE_TYPES)
    return Entry(t=float(t), message=message, line=number, note=note)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _at_most_rows(doc: Any, limit: int) -> tuple[Any, str]:
    """A snapshot document with at most ``limit`` rows, cut before decoding, and
    a note saying so: no table shows more (``tables.TABLE.limit``), so more
    rows are not from this program, and decoding them would only cost time."""
    if not isinstance(doc, dict) or doc.get("type") != TableSnapshot.__name__:
        return doc, ""
    rows = doc.get("rows")
    if not isinstance(rows, list) or len(rows) <= limit:
        return doc, ""
    table = doc.get("table")
    name = table if isinstance(table, str) else "?"
    return {**doc, "rows": rows[:limit]}, f"{len(rows)} rows for table {_shown(name)}, only the first {limit} kept"


def parse_entry(line: bytes, *, number: int) -> Entry:
    """One message line; CodecError saying what is wrong with it."""
    return entry_from(load_line(line), number=number)
