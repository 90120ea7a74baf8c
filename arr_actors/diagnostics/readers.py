"""Readers for every form a pasted log comes in, in front of the one extractor.

``read(text)`` recognises the format, turns it into log lines, oldest first, and
never refuses text: a structured reading that fails falls back to plain text.

Formats (``Reading.format``):

- ``json``: one JSON document: Cloud Logging entries (an array, ``{"entries": [...]}``
  or one entry), or an API error body, where the ``message`` fields are what matters
- ``json_lines``: one JSON value per line; lines that are not JSON are kept as text
- ``cloud_logging``: entries pasted from the console, not strictly valid JSON (trailing
  commas, cut short, several objects back to back): their payload fields are read loosely
- ``yaml``: ``gcloud ... --format=yaml`` output, with messages wrapped over several
  lines re-joined; log entries are ordered by their timestamps
- ``terraform``: diagnostics inside ``╷ │ ╵`` box borders, wrapped paragraphs re-joined
- ``console``: a console copy with `` | `` line prefixes (the Cloud Build log view)
- ``kubectl``: ``kubectl describe`` output
- ``text``: anything else (including ``gcloud run jobs execute`` output and tracebacks)

Every reading also normalises what copying does to text: curly quotes become
straight ones, a traceback flattened onto one line (or with literal ``\\n``) is
split back into lines, and a log given newest first (Cloud Build console copies,
``gcloud logging read``) is turned around when its own order markers say so.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

FORMATS = ("json", "json_lines", "cloud_logging", "yaml", "terraform", "console", "kubectl", "text")
#: Characters of input read; a pasted log is far smaller.
READ_LIMIT = 64 << 20
#: Keys whose string value is the message of a log entry or an error body.
MESSAGE_KEYS = ("textPayload", "message", "msg", "localizedMessage")

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
                         "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"'})  # fmt: skip
_TIMESTAMP = re.compile(r"^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$")
_LEADING_TIME = re.compile(r"^\W{0,3}(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?)")
# A flattened traceback: the points where lines were joined.
_TRACE_SPLIT = re.compile(
    r"\s+(?=File \"|Traceback \(most recent call last\)|During handling of the above exception"
    r"|The above exception was the direct cause"
    r"|(?:[a-z_][A-Za-z0-9_]*\.)*_?[A-Z][A-Za-z0-9_]*(?:Error|Exception|Exhausted|Denied|Argument|NotFound"
    r"|Unavailable|Exceeded|Interrupt|Exit|Failure|Timeout|RpcError)\b:? )"
)
_CONSOLE_PREFIX = re.compile(r"^\s*\|(?: |$)")
_YAML_KEY = re.compile(r"^(\s*)(- )?([A-Za-z_@][\w.@/-]*):(?: (.*)|)$")
_YAML_LOG_KEYS = frozenset({"textPayload", "insertId", "logName", "receiveTimestamp", "jsonPayload", "protoPayload"})
_YAML_ANY_KEYS = frozenset(
    {"message", "code", "status", "error", "errorDetails", "state", "severity", "reason", "domain", *_YAML_LOG_KEYS}
)
_BOX = ("\u2577", "\u2502", "\u2575")  # ╷ │ ╵


@dataclass(frozen=True, slots=True)
class Reading:
    format: str  # one of FORMATS
    lines: tuple[str, ...]  # oldest first
    reversed: bool = False  # the input was newest first and has been turned around


def read(data: str | bytes, *, newest_first: bool = False) -> Reading:
    """The log lines ``data`` holds, oldest first, and the format they were read as; never raises.

    ``newest_first`` says the input lists the newest line first (as ``gcloud
    logging read`` and the console do); entries that carry timestamps are
    ordered by them either way.
    """
    text = data[:READ_LIMIT].decode("utf-8", "replace") if isinstance(data, bytes) else data[:READ_LIMIT]
    text = text.lstrip("\ufeff")
    if not text.isascii():
        text = text.translate(_QUOTES)
    try:
        reading = _structured(text, newest_first=newest_first)
    except (RecursionError, ValueError, TypeError):  # defensive: fall back to text
        reading = None
    if reading is None:
        reading = _plain(text, newest_first=newest_first)
    return Reading(reading.format, tuple(_unflatten(reading.lines)), reading.reversed)


# ---------------------------------------------------------------- structured


def _structured(text: str, *, newest_first: bool) -> Reading | None:
    head = text.lstrip()
    if head.startswith(("{", "[")):
        for attempt in (_json_document, _json_lines, _loose_entries):
            reading = attempt(text, newest_first=newest_first)
            if reading is not None:
                return reading
        return None
    if _looks_like_yaml(text):
        return _yaml(text, newest_first=newest_first)
    return None


def _json_document(text: str, *, newest_first: bool) -> Reading | None:
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return None
    if isinstance(doc, dict) and isinstance(doc.get("entries"), list):
        doc = doc["entries"]
    if isinstance(doc, list) and doc and all(isinstance(entry, dict) and _is_entry(entry) for entry in doc):
        return Reading("json", tuple(entries_to_lines(doc, newest_first=newest_first)))
    if isinstance(doc, dict) and _is_entry(doc):
        return Reading("json", tuple(entries_to_lines([doc], newest_first=newest_first)))
    lines = list(_messages(doc))
    return Reading("json", tuple(lines)) if lines else None


def _json_lines(text: str, *, newest_first: bool) -> Reading | None:
    """One JSON value per line; text lines in between are kept (a GraphQL error, then the agent's lines)."""
    rows: list[tuple[dict[str, Any] | None, str]] = []
    parsed = 0
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        value: Any = None
        if line.startswith(("{", "[")):
            try:
                value = json.loads(line)
            except (json.JSONDecodeError, RecursionError):
                value = None
        if isinstance(value, dict) and _is_entry(value):
            rows.append((value, ""))
            parsed += 1
        elif isinstance(value, (dict, list)):
            rows.extend((None, message) for message in _messages(value))
            parsed += 1
        else:
            rows.append((None, raw.rstrip()))
    if parsed == 0 or not _first_line_is_json(text):
        return None
    entries = [entry for entry, _ in rows if entry is not None]
    if len(entries) == len(rows):
        return Reading("json_lines", tuple(entries_to_lines(entries, newest_first=newest_first)))
    lines = [entry_text(entry) if entry is not None else line for entry, line in rows]
    lines = [line for line in lines if line]
    return Reading("json_lines", tuple(reversed(lines) if newest_first else lines), newest_first)


def _first_line_is_json(text: str) -> bool:
    first = text.lstrip().split("\n", 1)[0].strip()
    try:
        json.loads(first)
    except (json.JSONDecodeError, RecursionError):
        return False
    return True


# A JSON string literal, its key among the payload keys; decoded with json.loads.
_LOOSE_FIELD = re.compile(r'"(textPayload|message|msg|timestamp)"\s*:\s*("(?:[^"\\\n]|\\.)*")', re.DOTALL)


def _loose_entries(text: str, *, newest_first: bool) -> Reading | None:
    """Entries copied from the console: objects back to back, trailing commas, cut short."""
    entries: list[dict[str, Any]] = []
    for chunk in _top_level_objects(text):
        try:
            value = json.loads(chunk)
        except (json.JSONDecodeError, RecursionError):
            value = None
        if isinstance(value, dict):
            if _is_entry(value):
                entries.append(value)
            else:
                entries.extend({"textPayload": message} for message in _messages(value))
            continue
        entry: dict[str, Any] = {}
        for key, literal in _LOOSE_FIELD.findall(chunk):
            try:
                decoded = json.loads(literal)
            except json.JSONDecodeError:
                continue
            slot = "timestamp" if key == "timestamp" else "textPayload"
            entry.setdefault(slot, decoded)
        if "textPayload" in entry:
            entries.append(entry)
    if not entries:
        return None
    return Reading("cloud_logging", tuple(entries_to_lines(entries, newest_first=newest_first)))


def _top_level_objects(text: str) -> Iterator[str]:
    """The ``{...}`` chunks at depth 1 (inside one array or none); strings respected; a cut-off tail too."""
    depth, start, in_string, escaped = 0, -1, False, False
    base = 1 if text.lstrip().startswith("[") else 0
    for i, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
            continue
        if char == '"':
            in_string = True
        elif char in "{[":
            depth += 1
            if depth == base + 1 and char == "{":
                start = i
        elif char in "}]":
            if depth == base + 1 and char == "}" and start >= 0:
                yield text[start : i + 1]
                start = -1
            depth = max(0, depth - 1)
    if start >= 0:
        yield text[start:]


def _is_entry(value: Mapping[str, Any]) -> bool:
    return any(key in value for key in ("textPayload", "jsonPayload", "protoPayload"))


def _messages(value: Any, *, depth: int = 0) -> Iterator[str]:
    """The message strings of an API response or error body, status code attached.

    ``{"code": 429, "message": "...", "status": "RESOURCE_EXHAUSTED"}`` reads as
    ``RESOURCE_EXHAUSTED: ...``: the message is the cause, the status only says
    which family it belongs to (and a bare status is no message at all). A
    message repeated in nested details is given once.
    """
    seen: set[str] = set()
    for message in _walk_messages(value, depth=depth):
        if message not in seen:
            seen.add(message)
            yield message


def _walk_messages(value: Any, *, depth: int) -> Iterator[str]:
    if depth > 20:
        return
    if isinstance(value, list):
        for item in value:
            yield from _walk_messages(item, depth=depth + 1)
        return
    if not isinstance(value, dict):
        return
    if _is_entry(value):
        text = entry_text(value)
        if text:
            yield text
        return
    message = next((value[key] for key in MESSAGE_KEYS if isinstance(value.get(key), str) and value[key]), None)
    if message is not None:
        status = value.get("status")
        reason = value.get("reason")
        prefix = next(
            (code for code in (status, reason) if isinstance(code, str) and re.fullmatch(r"[A-Z][A-Z0-9_]+", code)),
            None,
        )
        yield f"{prefix}: {message}" if prefix and prefix not in message else message
    elif isinstance(value.get("reason"), str) and isinstance(value.get("domain"), str):
        # An ErrorInfo detail: CONSUMER_INVALID and the like, with the consumer it names.
        metadata = value.get("metadata") or value.get("metadatas")
        consumer = metadata.get("consumer") if isinstance(metadata, dict) else None
        named = f" consumer {consumer}" if isinstance(consumer, str) else ""
        yield f"{value['reason']}:{named} ({value['domain']})"
    for item in value.values():
        if isinstance(item, (dict, list)):
            yield from _walk_messages(item, depth=depth + 1)


# ---------------------------------------------------------------- Cloud Logging entries


def entries_to_lines(entries: Sequence[Mapping[str, Any]], *, newest_first: bool = False) -> Iterator[str]:
    """Log lines from Cloud Logging entries, oldest first.

    gcloud prints the newest entry first; when every entry has a timestamp the
    entries are sorted by it, otherwise their order is taken as given (reversed
    with ``newest_first``).
    """
    stamps = [epoch(entry.get("timestamp")) for entry in entries]
    order = list(range(len(entries)))
    if entries and all(stamp is not None for stamp in stamps):
        order.sort(key=lambda i: (stamps[i], -i if newest_first else i))
    elif newest_first:
        order.reverse()
    for i in order:
        text = entry_text(entries[i])
        if text:
            yield text


def entry_text(entry: Mapping[str, Any]) -> str:
    """The text of one Cloud Logging entry (textPayload, jsonPayload.message, protoPayload.status.message)."""
    text = entry.get("textPayload")
    if isinstance(text, str):
        return text
    payload = entry.get("jsonPayload")
    if isinstance(payload, dict):
        for key in ("message", "textPayload", "msg"):
            if isinstance(payload.get(key), str):
                return str(payload[key])
        return json.dumps(payload, ensure_ascii=False, sort_keys=True)
    if isinstance(payload, str):
        return payload
    proto = entry.get("protoPayload")
    if isinstance(proto, dict):
        status = proto.get("status")
        if isinstance(status, dict) and isinstance(status.get("message"), str):
            return str(status["message"])
        response = proto.get("response")
        if isinstance(response, dict):
            return next(iter(_messages(response)), "")
    return ""


def epoch(value: Any) -> float | None:
    """RFC 3339 (as Cloud Logging writes it, up to nanoseconds) to epoch seconds."""
    if not isinstance(value, str):
        return None
    match = _TIMESTAMP.match(value.strip())
    if match is None:
        return None
    whole, fraction, zone = match.groups()
    zone = "+00:00" if zone in (None, "Z") else zone if ":" in zone else f"{zone[:3]}:{zone[3:]}"
    try:
        moment = datetime.fromisoformat(whole.replace(" ", "T") + zone)
    except ValueError:
        return None
    return moment.timestamp() + (float(f"0.{fraction}") if fraction else 0.0)


# ---------------------------------------------------------------- gcloud YAML


def _looks_like_yaml(text: str) -> bool:
    keys = 0
    for line in text.splitlines()[:400]:
        match = _YAML_KEY.match(line)
        if match is not None and match.group(3) in _YAML_ANY_KEYS:
            keys += 1
            if match.group(3) in _YAML_LOG_KEYS or keys >= 2:
                return True
    return False


def _yaml(text: str, *, newest_first: bool) -> Reading:
    """gcloud's YAML: wrapped scalars re-joined; documents that are log entries ordered by timestamp."""
    documents: list[list[tuple[str, str]]] = [[]]
    loose: list[tuple[int, str]] = []  # lines outside any mapping (gcloud's "ERROR: ..." line), by position
    for path, value in _yaml_scalars(text.splitlines()):
        if path == "---":
            documents.append([])
        elif path == "":
            loose.append((sum(len(d) for d in documents), value))
        else:
            documents[-1].append((path, value))
    documents = [doc for doc in documents if doc]
    entries = []
    for doc in documents:
        fields = dict(doc)
        payload = fields.get("textPayload") or fields.get("jsonPayload.message") or fields.get("protoPayload.status.message")
        if payload is not None:
            entries.append({"textPayload": payload, "timestamp": fields.get("timestamp")})
    if entries:
        lines = [line for _, line in loose] + list(entries_to_lines(entries, newest_first=newest_first))
        return Reading("yaml", tuple(lines))
    # Not log entries (an error body, a job description): per document the messages
    # first, they are what matters; then the other scalars as "key: value". An
    # ErrorInfo's reason carries the consumer it names (CONSUMER_INVALID).
    lines = [line for _, line in loose]
    for doc in documents:
        consumer = next((value for path, value in doc if path.rsplit(".", 1)[-1] == "consumer"), None)
        messages, others = [], []
        for path, value in doc:
            key = path.rsplit(".", 1)[-1]
            if key in MESSAGE_KEYS:
                messages.append(value)
            elif key == "reason" and consumer is not None and re.fullmatch(r"[A-Z][A-Z0-9_]+", value):
                others.append(f"{value}: consumer {consumer}")
            else:
                others.append(f"{key}: {value}")
        lines.extend(messages)
        lines.extend(others)
    return Reading("yaml", tuple(lines))


def _yaml_scalars(lines: list[str]) -> Iterator[tuple[str, str]]:
    """(dotted key path, joined value) for each scalar; ("---", "") between documents; ("", line) for non-YAML lines."""
    stack: list[tuple[int, str]] = []  # (indent, key)
    i = 0
    while i < len(lines):
        line = lines[i].rstrip()
        i += 1
        if not line.strip():
            continue
        if line.strip() == "---":
            stack.clear()
            yield "---", ""
            continue
        match = _YAML_KEY.match(line)
        if match is None:
            stripped = line.strip()
            if stripped.startswith("- ") and stack:
                yield ".".join(key for _, key in stack), stripped[2:]
            elif not stack:
                yield "", line
            continue
        indent = len(match.group(1)) + (2 if match.group(2) else 0)
        key, value = match.group(3), (match.group(4) or "").strip()
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = ".".join([*(k for _, k in stack), key])
        if not value:
            stack.append((indent, key))
            continue
        if value in ("|", "|-", "|+", ">", ">-", ">+"):
            block: list[str] = []
            while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > indent):
                block.append(lines[i].strip())
                i += 1
            if value.startswith(">"):
                yield path, " ".join(part for part in block if part)
            else:
                for part in block:
                    if part:
                        yield path, part
            continue
        if value[0] in "'\"":
            quote = value[0]
            while not _closed(value, quote) and i < len(lines) and lines[i].strip() != "---":
                value += " " + lines[i].strip()
                i += 1
            yield path, " ".join(_unquote(value, quote).split("\n"))
            continue
        while i < len(lines) and lines[i].strip() and _indent(lines[i]) > indent and not _YAML_KEY.match(lines[i]):
            value += " " + lines[i].strip()
            i += 1
        yield path, value


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _closed(value: str, quote: str) -> bool:
    body = value[1:]
    if quote == "'":
        body = body.replace("''", "")
        return "'" in body
    return bool(re.search(r'(?<!\\)(?:\\\\)*"', body))


def _unquote(value: str, quote: str) -> str:
    end = value.rfind(quote)
    body = value[1:end] if end > 0 else value[1:]
    if quote == "'":
        return body.replace("''", "'")
    try:
        return str(json.loads(f'"{body}"'))
    except json.JSONDecodeError:
        return body


# ---------------------------------------------------------------- plain text and console copies


def _plain(text: str, *, newest_first: bool) -> Reading:
    lines = text.splitlines()
    fmt = "text"
    if any(line.lstrip().startswith(_BOX) for line in lines):
        lines, fmt = _unbox(lines), "terraform"
    prefixed = sum(1 for line in lines if _CONSOLE_PREFIX.match(line))
    if prefixed >= 3 and prefixed >= len(lines) / 3:
        lines = [_CONSOLE_PREFIX.sub("", line, count=1) for line in lines if line.strip() != "--"]
        fmt = "console"
    elif fmt == "text" and _is_kubectl_describe(lines):
        fmt = "kubectl"
    turn = newest_first or _newest_first(lines)
    return Reading(fmt, tuple(reversed(lines) if turn else lines), turn)


def _unbox(lines: list[str]) -> list[str]:
    """Terraform's diagnostics: box borders dropped, each wrapped paragraph joined onto one line."""
    out: list[str] = []
    paragraph: list[str] = []
    in_box = False

    def flush() -> None:
        if paragraph:
            out.append(" ".join(paragraph))
            paragraph.clear()

    for line in lines:
        stripped = line.strip()
        if stripped.startswith("\u2577"):  # ╷ opens a box
            flush()
            in_box = True
            continue
        if stripped.startswith("\u2575"):  # ╵ closes it
            flush()
            in_box = False
            continue
        if stripped.startswith("\u2502"):
            body = stripped[1:].strip()
            if not body:
                flush()
            elif body.startswith(("with ", "on ")) or re.match(r"^\d+:", body):
                flush()
                out.append(body)  # the resource and source line the error points at
            else:
                paragraph.append(body)
            continue
        flush()
        if not in_box or stripped:
            out.append(line)
    flush()
    return out


def _is_kubectl_describe(lines: list[str]) -> bool:
    head = lines[:5]
    return any(line.startswith("Name:") for line in head) and any(line.startswith("Events:") for line in lines)


# Markers of a log's start and end: seeing an end before a start means newest first.
_START = re.compile(
    r"^\W*(?:Starting Step #|FETCHSOURCE|BUILD$|Runs: 0$|Starting agent: |Creating execution\.\.\.|Traceback \(most recent)"
)
_END = re.compile(
    r"^\W*(?:Finished Step #|ERROR: build step \d|DONE$|PUSH$|Final stats:|Agent exited with code|Execution failed"
    r"|ERROR: \(gcloud\.)"
)


_MARKER_SPAN = 256


def _newest_first(lines: list[str]) -> bool:
    """Whether the log's own markers say it is newest first: timestamps going down, or ends before starts."""
    stamps = []
    for line in lines[:2000]:
        match = _LEADING_TIME.match(line)
        if match is not None:
            stamps.append(match.group(1).replace("T", " "))
    if len(stamps) >= 3:
        down = sum(1 for a, b in zip(stamps, stamps[1:], strict=False) if b < a)
        up = sum(1 for a, b in zip(stamps, stamps[1:], strict=False) if b > a)
        if down != up:
            return down > up
    first_start = first_end = None
    for index, line in enumerate(lines):
        # The markers open a line: looking at its head keeps a huge line of junk cheap.
        stripped = line[:_MARKER_SPAN].strip()
        if first_start is None and _START.match(stripped):
            first_start = index
        if first_end is None and _END.match(stripped):
            first_end = index
        if first_start is not None and first_end is not None:
            break
    if first_start is not None and first_end is not None:
        return first_end < first_start
    return False


def _unflatten(lines: Sequence[str]) -> Iterator[str]:
    """Tracebacks flattened onto one line (joined with spaces, or with literal ``\\n``) split back."""
    for line in lines:
        if len(line) > 200 and "Traceback (most recent call last)" in line:
            if "\\n" in line:
                line = line.replace("\\r\\n", "\n").replace("\\n", "\n").replace('\\"', '"')
            for part in line.split("\n"):
                if len(part) > 200 and "File \"" in part:
                    yield from (piece for piece in _TRACE_SPLIT.split(part) if piece.strip())
                else:
                    yield part
        else:
            yield line
