"""JSON documents, JSON lines and Cloud Logging entries pasted loosely: the message fields are what matter."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from arr_actors.diagnostics.readers.common import Reading, epoch

MESSAGE_KEYS = ("textPayload", "message", "msg", "localizedMessage")


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
