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

from arr_actors.diagnostics.readers.common import _QUOTES, FORMATS, READ_LIMIT, Reading, epoch
from arr_actors.diagnostics.readers.jsonish import (
    MESSAGE_KEYS,
    _json_document,
    _json_lines,
    _loose_entries,
    entries_to_lines,
    entry_text,
)
from arr_actors.diagnostics.readers.text import _plain, _unflatten
from arr_actors.diagnostics.readers.yaml import _looks_like_yaml, _yaml


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


__all__ = ["FORMATS", "MESSAGE_KEYS", "READ_LIMIT", "Reading", "entries_to_lines", "entry_text", "epoch", "read"]
