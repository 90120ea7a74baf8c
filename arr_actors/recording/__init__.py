"""Recordings: every message the screen receives, as JSON lines, and their replay.

One module per role:

- :mod:`~arr_actors.recording.format`: what a recording is (kind, schema, header
  and message lines), encoding and decoding one line;
- :mod:`~arr_actors.recording.lines`: bounded line reading from a file, a pipe
  or a file still being written (follow);
- :mod:`~arr_actors.recording.reader`: a recording read line by line, each
  unusable line reported as a warning naming its number;
- :mod:`~arr_actors.recording.player`: playback at the recorded pace (speed,
  follow, pause) as the replay's "system";
- :mod:`~arr_actors.recording.recorder`: the subscriber that appends every
  message to a recording;
- :mod:`~arr_actors.recording.headless`: the monitor without a screen, streaming
  its recording to a file or stdout (``--record -``).

The package needs only the standard library and the message types, so
``scripts/replay.py`` can run on a host without any cloud library.
"""

from __future__ import annotations

from arr_actors.recording.format import (
    MAX_LINE_BYTES,
    RECORDING_KIND,
    RECORDING_SCHEMA,
    Entry,
    Header,
    RecordingError,
    Skipped,
    encode_entry,
    encode_header,
    header_document,
    parse_entry,
    parse_header,
)
from arr_actors.recording.headless import record_headless
from arr_actors.recording.player import Player, shift_times
from arr_actors.recording.reader import Recording, last_snapshots, read_recording
from arr_actors.recording.recorder import Recorder

__all__ = [
    "RECORDING_KIND",
    "RECORDING_SCHEMA",
    "MAX_LINE_BYTES",
    "RecordingError",
    "Header",
    "Entry",
    "Skipped",
    "Recording",
    "Recorder",
    "header_document",
    "encode_header",
    "encode_entry",
    "parse_header",
    "parse_entry",
    "read_recording",
    "last_snapshots",
    "shift_times",
    "Player",
    "record_headless",
]
