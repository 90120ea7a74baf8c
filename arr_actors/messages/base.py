"""Shared by every message: the schema version, limits on numbers, the codec's error and a table's status."""

from __future__ import annotations

import enum

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


def table_status(value: object, *, path: str) -> TableStatus:
    try:
        return TableStatus(value)
    except ValueError:
        choices = ", ".join(status.value for status in TableStatus)
        raise CodecError(f"{path}: {value!r} is not one of {choices}") from None
