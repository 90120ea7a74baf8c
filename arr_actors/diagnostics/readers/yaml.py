"""``gcloud ... --format=yaml`` output: scalars re-joined across wrapped lines, entries ordered by time."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from arr_actors.diagnostics.readers.common import Reading
from arr_actors.diagnostics.readers.jsonish import MESSAGE_KEYS, entries_to_lines

_YAML_KEY = re.compile(r"^(\s*)(- )?([A-Za-z_@][\w.@/-]*):(?: (.*)|)$")


_YAML_LOG_KEYS = frozenset({"textPayload", "insertId", "logName", "receiveTimestamp", "jsonPayload", "protoPayload"})


_YAML_ANY_KEYS = frozenset(
    {"message", "code", "status", "error", "errorDetails", "state", "severity", "reason", "domain", *_YAML_LOG_KEYS}
)


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
