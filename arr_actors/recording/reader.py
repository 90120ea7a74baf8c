"""Reading a recording: its header at once, then its messages, with a warning for each unusable line.

Only a stream that is not a recording at all, or one written by a newer version,
is refused. Everything after the header is reported, never raised: a damaged
line is skipped with a warning naming its number and the replay goes on.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import IO

from arr_actors.messages import CodecError, TableSnapshot
from arr_actors.recording.format import (
    HOW_TO_RECORD,
    MAX_LINE_BYTES,
    Entry,
    Header,
    RecordingError,
    Skipped,
    entry_from,
    is_header,
    load_line,
    parse_header,
)
from arr_actors.recording.lines import Line, LineReader

#: How often a followed file is checked for new lines.
FOLLOW_POLL_S = 0.2


class Recording:
    """A recording being read: ``header``, then iterate for Entry and Skipped items.

    Counters (``entries``, ``skipped``) are updated as the iteration goes, so a
    caller can report them at the end. A line used only in part (a snapshot
    with more rows than a table shows) is an Entry preceded by a ``kept``
    Skipped saying what was left out; it counts as an entry.
    """

    def __init__(self, header: Header, reader: LineReader, lines: Iterator[Line]) -> None:
        self.header = header
        self._reader = reader
        self._lines = lines
        self.entries = 0
        self.skipped = 0

    def interrupt(self) -> None:
        """End the iteration (from another thread), even while it waits for a writer."""
        self._reader.interrupt()

    def __iter__(self) -> Iterator[Entry | Skipped]:
        for line in self._lines:
            if line.problem:
                self.skipped += 1
                yield Skipped(line.number, line.problem)
                continue
            if not line.data.strip():
                continue
            try:
                doc = load_line(line.data)
                if is_header(doc):
                    continue  # a recording restarted in a followed file begins with a new header
                entry = entry_from(doc, number=line.number)
            except CodecError as exc:
                if line.number == 1:
                    continue  # the first line of a restarted recording, still being written
                self.skipped += 1
                yield Skipped(line.number, str(exc))
                continue
            self.entries += 1
            if entry.note:
                yield Skipped(line.number, entry.note, kept=True)
            yield entry


def read_recording(
    stream: IO[bytes],
    *,
    follow: bool = False,
    poll_s: float = FOLLOW_POLL_S,
    stop: threading.Event | None = None,
    max_line: int = MAX_LINE_BYTES,
) -> Recording:
    """Open a recording: read and check its header now, its messages while iterating.

    Raises RecordingError when the stream is empty, is not a recording, or uses
    a newer schema. Everything after the header is reported, never raised:
    iterating yields :class:`Entry` for each message and :class:`Skipped` for
    each line that could not be used (truncated, unknown type, bad field, ...).
    """
    reader = LineReader(stream, follow=follow, poll_s=poll_s, stop=stop, max_line=max_line)
    lines = iter(reader)
    first = next(lines, None)
    if first is None:
        if stop is not None and stop.is_set():
            raise RecordingError("stopped before the recording's header arrived")
        raise RecordingError(f"empty input: a recording starts with a header line; {HOW_TO_RECORD}")
    if first.problem:
        raise RecordingError(f"not an arr_actors recording (first line {first.problem}); {HOW_TO_RECORD}")
    return Recording(parse_header(first.data), reader, lines)


def last_snapshots(items: Iterator[Entry | Skipped] | Recording) -> dict[str, TableSnapshot]:
    """The latest snapshot of each table in a recording (consumes the iterator)."""
    latest: dict[str, TableSnapshot] = {}
    for item in items:
        if isinstance(item, Entry) and isinstance(item.message, TableSnapshot):
            latest[item.message.table] = item.message
    return latest
