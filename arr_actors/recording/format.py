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
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from arr_actors.inert import dumps
from arr_actors.messages import UI_MESSAGE_TYPES, CodecError, decode, encode

if TYPE_CHECKING:
    from arr_actors.config import Settings

RECORDING_KIND = "arr_actors-recording"
RECORDING_SCHEMA = 1

#: Longest line the reader accepts. A snapshot is capped by max_result_bytes
#: (8 MiB by default) in the runtime; its JSON is a few times that at most.
MAX_LINE_BYTES = 64 * 1024 * 1024

HOW_TO_RECORD = "record one with: python -m arr_actors --record FILE"


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
    """One recorded message, ``t`` seconds after the recording started."""

    t: float
    message: Any
    line: int


class Skipped(NamedTuple):
    """A line that could not be used; replay goes on without it."""

    line: int
    reason: str

    @property
    def text(self) -> str:
        return f"line {self.line} skipped: {self.reason}"


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
    except ValueError:
        started_epoch = None
    settings = doc.get("settings")
    return Header(
        schema=schema,
        started_at=started_at,
        started_epoch=started_epoch,
        settings=settings if isinstance(settings, dict) else {},
    )


def entry_from(doc: Any, *, number: int) -> Entry:
    """The message a line's document holds; CodecError saying what is wrong with it."""
    if not isinstance(doc, dict):
        raise CodecError(f"expected a JSON object, got {type(doc).__name__}")
    unknown = set(doc) - {"t", "message"}
    if unknown:
        raise CodecError(f"unknown field(s) {', '.join(sorted(unknown))}")
    t = doc.get("t")
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t) or t < 0:
        raise CodecError(f"'t' must be a number of seconds of 0 or more, got {t!r}")
    if "message" not in doc:
        raise CodecError("missing 'message'")
    message = decode(doc["message"], expect=UI_MESSAGE_TYPES)
    return Entry(t=float(t), message=message, line=number)


def parse_entry(line: bytes, *, number: int) -> Entry:
    """One message line; CodecError saying what is wrong with it."""
    return entry_from(load_line(line), number=number)
