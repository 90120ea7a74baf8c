"""The recording format and its reader: round trips, bad input, following, memory."""

from __future__ import annotations

import io
import json
import os
import threading
import time
import tracemalloc
from pathlib import Path

import pytest
from recording_samples import NOW, final_snapshots, sample_snapshots, session_messages

from arr_actors import messages as m
from arr_actors import recording as rec
from arr_actors.once_document import once_document


def write_recording(path: Path, settings, messages, *, extra: bytes = b"") -> None:
    with open(path, "wb") as fh:
        fh.write(rec.encode_header(settings, started_at=NOW))
        for t, msg in messages:
            fh.write(rec.encode_entry(t, msg))
        fh.write(extra)


def items_of(data: bytes, **kwargs) -> tuple[rec.Recording, list]:
    recording = rec.read_recording(io.BytesIO(data), **kwargs)
    return recording, list(recording)


def test_round_trip_keeps_every_message_and_its_time(settings, tmp_path):
    messages = session_messages()
    path = tmp_path / "session.jsonl"
    write_recording(path, settings, messages)
    with open(path, "rb") as fh:
        recording = rec.read_recording(fh)
        entries = list(recording)
    assert recording.header.schema == 1
    assert recording.header.settings == json.loads(json.dumps(settings.summary()))
    assert recording.header.started_epoch == pytest.approx(NOW)
    assert [e.message for e in entries] == [msg for _t, msg in messages]
    assert [e.t for e in entries] == [pytest.approx(t, abs=1e-3) for t, _msg in messages]
    assert [e.line for e in entries] == list(range(2, len(messages) + 2))
    assert recording.entries == len(messages) and recording.skipped == 0


def test_header_line_has_the_documented_shape(settings):
    doc = json.loads(rec.encode_header(settings, started_at=NOW))
    assert doc["kind"] == "arr_actors-recording"
    assert doc["schema"] == 1
    assert doc["started_at"].startswith("2024-05-01T09:30:00")
    assert doc["settings"]["project"] == "demo-project"
    line = json.loads(rec.encode_entry(1.23456, m.PauseChanged(True)))
    assert line == {"t": 1.235, "message": {"type": "PauseChanged", "paused": True}}


def test_last_snapshots_match_what_the_session_ended_with(settings):
    messages = session_messages()
    data = rec.encode_header(settings, started_at=NOW) + b"".join(rec.encode_entry(t, x) for t, x in messages)
    latest = rec.last_snapshots(rec.read_recording(io.BytesIO(data)))
    assert latest == final_snapshots(messages)
    assert latest["vertex"].state == "timeout"


# ---------------------------------------------------------------- bad input


def header(settings) -> bytes:
    return rec.encode_header(settings, started_at=NOW)


def good(t: float = 0.0) -> bytes:
    return rec.encode_entry(t, m.PauseChanged(False))


def test_truncated_last_line_is_skipped_with_its_line_number(settings):
    snapshot = sample_snapshots()["runner"]
    cut = rec.encode_entry(2.0, snapshot)[:-40]
    recording, items = items_of(header(settings) + good() + cut)
    assert [type(i) for i in items] == [rec.Entry, rec.Skipped]
    assert items[1].line == 3
    assert "truncated" in items[1].text and items[1].text.startswith("line 3 skipped")
    assert recording.skipped == 1


def test_unknown_message_type_is_skipped_and_reading_goes_on(settings):
    unknown = b'{"t": 1.0, "message": {"type": "Teleport", "to": "mars"}}\n'
    _, items = items_of(header(settings) + good() + unknown + good(2.0))
    assert [type(i) for i in items] == [rec.Entry, rec.Skipped, rec.Entry]
    assert items[1] == rec.Skipped(3, "unknown message type 'Teleport'")


def test_a_command_is_not_a_screen_message(settings):
    command = b'{"t": 1.0, "message": {"type": "SetPaused", "paused": true}}\n'
    _, items = items_of(header(settings) + command)
    assert isinstance(items[0], rec.Skipped) and "not allowed here" in items[0].reason


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b'{"t": 1.0, "message": {"type": "TableSnapshot", "table": "builds", "seq": "seven", "state": "ok"}}',
         "TableSnapshot.seq: expected an integer"),
        (b'{"t": 1.0, "message": {"type": "TableSnapshot", "table": "builds", "seq": 1, "state": "melting"}}',
         "'melting' is not one of"),
        (b'{"t": 1.0, "message": {"type": "Notice", "text": "x", "colour": "red"}}', "unknown field(s) colour"),
        (b'{"t": -1, "message": {"type": "PauseChanged", "paused": true}}', "'t' must be a number"),
        (b'{"t": "soon", "message": {"type": "PauseChanged", "paused": true}}', "'t' must be a number"),
        (b'{"message": {"type": "PauseChanged", "paused": true}}', "'t' must be a number"),
        (b'{"t": 1.0}', "missing 'message'"),
        (b'{"t": 1.0, "message": {"type": "PauseChanged", "paused": true}, "x": 1}', "unknown field(s) x"),
        (b'[1, 2, 3]', "expected a JSON object"),
        (b'{"t": 1.0, "message": ', "not valid JSON"),
        (b'\xff\xfe garbage', "not"),
    ],
)
def test_malformed_line_is_skipped_naming_line_and_field(settings, line, reason):
    _, items = items_of(header(settings) + good() + line + b"\n" + good(3.0))
    assert [type(i) for i in items] == [rec.Entry, rec.Skipped, rec.Entry]
    assert items[1].line == 3
    assert reason in items[1].reason


def test_blank_lines_and_crlf_are_tolerated(settings):
    _, items = items_of(header(settings) + b"\n" + good().replace(b"\n", b"\r\n") + b"   \n" + good(1.0))
    assert [type(i) for i in items] == [rec.Entry, rec.Entry]


def test_newer_schema_is_refused_clearly(settings):
    doc = json.loads(header(settings))
    doc["schema"] = 2
    with pytest.raises(rec.RecordingError, match=r"schema 2 is newer than this program understands \(1\); upgrade"):
        rec.read_recording(io.BytesIO(json.dumps(doc).encode() + b"\n" + good()))


@pytest.mark.parametrize(
    "data",
    [
        b'{"type": "TableSnapshot"}\n',
        b"hello world\n",
        b"\x89PNG\r\n\x1a\n\x00\x00",
        b'{"kind": "arr_actors-warm-start", "schema": 1}\n',
    ],
)
def test_not_a_recording_is_a_clear_error(data):
    with pytest.raises(rec.RecordingError, match="not an arr_actors recording.*--record FILE"):
        rec.read_recording(io.BytesIO(data))


def test_empty_input_is_a_clear_error():
    with pytest.raises(rec.RecordingError, match="empty input"):
        rec.read_recording(io.BytesIO(b""))


def test_bad_schema_value_is_a_clear_error(settings):
    doc = json.loads(header(settings))
    doc["schema"] = "one"
    with pytest.raises(rec.RecordingError, match="'schema' must be a positive integer"):
        rec.read_recording(io.BytesIO(json.dumps(doc).encode() + b"\n"))


def test_overlong_line_is_skipped_in_bounded_memory(settings):
    huge = b'{"t": 1, "message": "' + b"x" * 5000 + b'"}\n'
    recording, items = items_of(header(settings) + good() + huge + good(2.0), max_line=1024)
    assert [type(i) for i in items] == [rec.Entry, rec.Skipped, rec.Entry]
    assert items[1].line == 3 and "longer than 1024 bytes" in items[1].reason
    assert items[2].line == 4


def test_overlong_last_line_without_newline(settings):
    _, items = items_of(header(settings) + good() + b"y" * 5000, max_line=1024)
    assert [type(i) for i in items] == [rec.Entry, rec.Skipped]
    assert "longer than" in items[1].reason


# ---------------------------------------------------------------- pipes and following


@pytest.mark.timeout(20)
def test_pipe_closing_mid_stream_ends_cleanly_with_a_warning(settings):
    r, w = os.pipe()
    messages = session_messages()
    lines = [rec.encode_entry(t, msg) for t, msg in messages]

    def writer() -> None:
        with os.fdopen(w, "wb") as out:
            out.write(header(settings))
            for line in lines[:5]:
                out.write(line)
                out.flush()
            out.write(lines[5][: len(lines[5]) // 2])  # the remote end dies mid-line

    thread = threading.Thread(target=writer)
    thread.start()
    with os.fdopen(r, "rb") as stream:
        recording = rec.read_recording(stream, follow=True)
        items = list(recording)
    thread.join()
    assert [i.message for i in items[:5]] == [msg for _t, msg in messages[:5]]
    assert items[5] == rec.Skipped(7, "truncated (the recording ends in the middle of this line)")
    assert len(items) == 6


@pytest.mark.timeout(20)
def test_pipe_lines_split_across_writes_and_overlong_lines(settings):
    r, w = os.pipe()
    blob = header(settings) + good(1.0) + b'{"t": 2, "x": "' + b"y" * 5000 + b'"}\n' + good(3.0) + b"z" * 3000

    def writer() -> None:
        with os.fdopen(w, "wb", buffering=0) as out:
            for i in range(0, len(blob), 777):  # chunks that cut lines anywhere
                out.write(blob[i : i + 777])

    thread = threading.Thread(target=writer)
    thread.start()
    with os.fdopen(r, "rb") as stream:
        items = list(rec.read_recording(stream, max_line=1024))
    thread.join()
    assert [(type(i).__name__, i.line) for i in items] == [
        ("Entry", 2), ("Skipped", 3), ("Entry", 4), ("Skipped", 5)
    ]
    assert "longer than 1024 bytes" in items[1].reason and "longer than 1024 bytes" in items[3].reason


@pytest.mark.timeout(20)
def test_interrupt_ends_a_read_waiting_on_a_silent_pipe(settings):
    """The remote end is alive but silent: quitting the replay must not wait for it."""
    r, w = os.pipe()
    os.write(w, header(settings) + good())
    stream = os.fdopen(r, "rb")
    recording = rec.read_recording(stream)
    seen: list = []
    thread = threading.Thread(target=lambda: seen.extend(recording))
    thread.start()
    deadline = time.monotonic() + 10
    while not seen and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    recording.interrupt()
    thread.join(5)
    assert not thread.is_alive()
    stream.close()  # nothing holds the stream any more: closing it does not wait
    os.close(w)
    assert time.monotonic() - started < 2
    assert [i.message for i in seen] == [m.PauseChanged(False)]


@pytest.mark.timeout(30)
def test_follow_reads_a_growing_file_until_stopped(settings, tmp_path):
    path = tmp_path / "growing.jsonl"
    messages = session_messages()
    stop = threading.Event()
    seen: list = []
    got_some = threading.Event()

    def reader() -> None:
        with open(path, "rb") as fh:
            for item in rec.read_recording(fh, follow=True, poll_s=0.02, stop=stop):
                seen.append(item)
                got_some.set()

    with open(path, "wb") as out:
        out.write(header(settings))
        out.flush()
        thread = threading.Thread(target=reader)
        thread.start()
        # Write in pieces, splitting a line across writes: the reader must wait for the rest.
        blob = b"".join(rec.encode_entry(t, msg) for t, msg in messages)
        middle = len(blob) // 2 + 7
        out.write(blob[:middle])
        out.flush()
        assert got_some.wait(10)
        out.write(blob[middle:])
        out.flush()
        deadline = time.monotonic() + 10
        while len(seen) < len(messages) and time.monotonic() < deadline:
            time.sleep(0.01)
        stop.set()
        thread.join(5)
    assert not thread.is_alive()
    assert [i.message for i in seen] == [msg for _t, msg in messages]


@pytest.mark.timeout(30)
def test_follow_starts_over_when_the_file_is_replaced_by_a_new_recording(settings, tmp_path):
    path = tmp_path / "restarted.jsonl"
    write_recording(path, settings, [(0.0, m.PauseChanged(True))] * 30)
    stop = threading.Event()
    seen: list = []

    def reader() -> None:
        with open(path, "rb") as fh:
            for item in rec.read_recording(fh, follow=True, poll_s=0.02, stop=stop):
                seen.append(item)

    thread = threading.Thread(target=reader)
    thread.start()
    deadline = time.monotonic() + 10
    while len(seen) < 30 and time.monotonic() < deadline:
        time.sleep(0.01)
    write_recording(path, settings, [(0.0, m.PauseChanged(False))])  # truncates: a new --record run
    while len(seen) < 31 and time.monotonic() < deadline:
        time.sleep(0.01)
    stop.set()
    thread.join(5)
    assert [i.message for i in seen] == [m.PauseChanged(True)] * 30 + [m.PauseChanged(False)]


# ---------------------------------------------------------------- memory


@pytest.mark.timeout(60)
def test_large_recording_is_read_in_bounded_memory(settings, tmp_path):
    """50 MB of snapshots: peak Python allocation stays that of a few lines, not the file.

    Rows carry long notes so the file is large in bytes while decoding stays quick.
    """
    path = tmp_path / "large.jsonl"
    base = sample_snapshots()
    snapshot_lines = []
    for n, _snap in enumerate(base.values()):
        rows = tuple(
            m.RunnerRow(f"exec-{n}-{i}", "us-central1", "q", "FAILED", 1, NOW, note=f"{n}{i}" * 20_000)
            for i in range(5)
        )
        snapshot_lines.append(rec.encode_entry(float(n), m.TableSnapshot("runner", n, "ok", rows, fetched_at=NOW)))
    with open(path, "wb") as fh:
        fh.write(header(settings))
        written = 0
        lines = 0
        while written < 50 * 1024 * 1024:
            line = snapshot_lines[lines % len(snapshot_lines)]
            fh.write(line)
            written += len(line)
            lines += 1
    size = path.stat().st_size
    tracemalloc.start()
    try:
        with open(path, "rb") as fh:
            recording = rec.read_recording(fh)
            count = 0
            last = None
            for item in recording:
                assert isinstance(item, rec.Entry)
                count += 1
                last = item
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == lines
    assert last is not None and last.message.rows[0].note.startswith(str((lines - 1) % len(snapshot_lines)))
    longest = max(len(line) for line in snapshot_lines)
    print(f"read {size / 1e6:.1f} MB in {count} lines of up to {longest / 1e3:.0f} kB; peak {peak / 1e6:.2f} MB")
    assert peak < 20 * longest, f"peak {peak} bytes for a {size} byte file (longest line {longest})"


# ---------------------------------------------------------------- pure helpers


def test_shift_times_moves_moments_not_durations():
    snap = sample_snapshots()["completed"]
    shifted = rec.shift_times(snap, 100.0)
    assert shifted.fetched_at == snap.fetched_at + 100
    assert shifted.next_refresh_at == snap.next_refresh_at + 100
    assert shifted.duration_s == snap.duration_s
    assert shifted.rows[0].created_at == snap.rows[0].created_at + 100
    assert shifted.rows[0].runtime_s == snap.rows[0].runtime_s
    assert rec.shift_times(m.Notice("x", at=5.0), 1.0).at == 6.0
    assert rec.shift_times(m.Notice("x"), 1.0).at == 0.0  # unset stays unset
    vertex = sample_snapshots()["vertex"].rows[0]
    assert rec.shift_times(vertex, 1.0).ended_at is None


def test_once_document_shape():
    snaps = sample_snapshots()
    doc = once_document({k: v for k, v in snaps.items() if k != "active"}, generated_at=NOW)
    assert doc["schema"] == 1 and doc["generated_at"] == "2024-05-01T09:30:00+00:00"
    assert list(doc["tables"]) == ["runner", "builds", "vertex", "active", "completed"]
    runner = doc["tables"]["runner"]
    assert set(runner) == {"state", "rows", "error", "fetched_at", "duration_s", "attempts", "restarts"}
    assert runner["rows"][0] == m.row_to_plain(snaps["runner"].rows[0])
    assert doc["tables"]["active"]["state"] == "error" and doc["tables"]["active"]["rows"] == []
    json.dumps(doc)
