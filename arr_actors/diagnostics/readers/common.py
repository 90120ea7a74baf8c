"""What every reader shares: the formats, the size limit, the normalising tables, a reading, times and order markers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

FORMATS = ("json", "json_lines", "cloud_logging", "yaml", "terraform", "console", "kubectl", "text")
#: Characters of input read; a pasted log is far smaller.


READ_LIMIT = 64 << 20
#: Keys whose string value is the message of a log entry or an error body.


_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
                         "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"'})  # fmt: skip


_TIMESTAMP = re.compile(r"^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$")


_LEADING_TIME = re.compile(r"^\W{0,3}(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?)")
# A flattened traceback: the points where lines were joined.


@dataclass(frozen=True, slots=True)
class Reading:
    format: str  # one of FORMATS
    lines: tuple[str, ...]  # oldest first
    reversed: bool = False  # the input was newest first and has been turned around


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
