"""The Recorder subscriber and headless recording (--record -)."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from recording_samples import PYTHON, ROOT, session_messages, subprocess_env

from arr_actors import messages as m
from arr_actors import recording as rec

DRIVER = Path(__file__).with_name("headless_driver.py")


def wait_for(predicate, *, timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def read_back(data: bytes) -> tuple[rec.Recording, list]:
    recording = rec.read_recording(io.BytesIO(data))
    return recording, list(recording)


@pytest.mark.timeout(20)
def test_recorder_writes_each_message_as_it_arrives(settings, tmp_path):
    path = tmp_path / "live.jsonl"
    recorder = rec.Recorder.open(str(path), settings)
    messages = [msg for _t, msg in session_messages()]
    try:
        recorder.tell(messages[0])
        # Flushed per line: a reader (e.g. replay --follow) sees the message while recording goes on.
        wait_for(lambda: path.read_bytes().count(b"\n") == 2, what="first message on disk")
        for msg in messages[1:]:
            recorder.tell(msg)
    finally:
        recorder.stop()
    recording, items = read_back(path.read_bytes())
    assert recording.header.settings["project"] == "demo-project"
    assert [i.message for i in items] == messages
    assert all(isinstance(i, rec.Entry) for i in items)
    times = [i.t for i in items]
    assert times == sorted(times) and times[0] >= 0
    assert recorder.written == len(messages) + 1


@pytest.mark.timeout(20)
def test_times_are_seconds_since_the_recording_started(settings):
    out = io.BytesIO()
    now = [100.0]
    recorder = rec.Recorder(out, settings, clock=lambda: now[0])
    now[0] = 102.5
    recorder.tell(m.PauseChanged(True))
    now[0] = 110.0
    recorder.tell(m.PauseChanged(False))
    recorder.stop()
    _, items = read_back(out.getvalue())
    assert [i.t for i in items] == [2.5, 10.0]


@pytest.mark.timeout(20)
def test_tell_after_stop_is_ignored_and_stop_is_idempotent(settings):
    out = io.BytesIO()
    recorder = rec.Recorder(out, settings)
    recorder.tell(m.PauseChanged(True))
    recorder.stop()
    recorder.tell(m.PauseChanged(False))
    recorder.stop()
    _, items = read_back(out.getvalue())
    assert [i.message for i in items] == [m.PauseChanged(True)]


@pytest.mark.timeout(20)
def test_things_that_are_not_messages_are_not_written(settings):
    out = io.BytesIO()
    recorder = rec.Recorder(out, settings)
    recorder.tell("hello")
    recorder.tell(m.Notice("bad", at=float("nan")))  # cannot be encoded
    recorder.tell(m.PauseChanged(True))
    recorder.stop()
    _, items = read_back(out.getvalue())
    assert [i.message for i in items] == [m.PauseChanged(True)]


@pytest.mark.timeout(30)
def test_a_stalled_output_never_blocks_tell_and_drops_are_recorded(settings):
    r, w = os.pipe()
    out = os.fdopen(w, "wb")
    recorder = rec.Recorder(out, settings, queue_limit=50, close=True)
    big = [msg for _t, msg in session_messages() if isinstance(msg, m.TableSnapshot)][0]
    started = time.monotonic()
    for _ in range(2000):  # far more than the 64 KiB pipe holds: nobody reads it yet
        recorder.tell(big)
    told_in = time.monotonic() - started
    assert told_in < 5, f"tell blocked: {told_in:.1f} s for 2000 messages"
    chunks: list[bytes] = []
    drain = threading.Thread(target=lambda: chunks.extend(iter(lambda: os.read(r, 65536), b"")))
    drain.start()
    wait_for(lambda: recorder.written > 40, what="the output to drain")
    recorder.tell(m.PauseChanged(True))  # the queue has room again
    recorder.stop(timeout=10)
    drain.join(10)
    os.close(r)
    _, items = read_back(b"".join(chunks))
    kinds = [type(i.message).__name__ for i in items]
    notices = [i.message for i in items if isinstance(i.message, m.Notice)]
    assert len(notices) == 1 and "messages dropped (the output was too slow)" in notices[0].text
    dropped = int(notices[0].text.split()[1])
    assert kinds.count("TableSnapshot") + dropped == 2000
    assert kinds[-1] == "PauseChanged"


@pytest.mark.timeout(20)
def test_a_closed_pipe_stops_writing_and_reports_once(settings):
    r, w = os.pipe()
    out = os.fdopen(w, "wb")
    failures: list[OSError] = []
    recorder = rec.Recorder(out, settings, on_failure=failures.append, close=True)
    os.close(r)
    recorder.tell(m.PauseChanged(True))
    recorder.tell(m.PauseChanged(False))
    wait_for(lambda: recorder.failure is not None, what="the write failure")
    recorder.stop()
    assert isinstance(recorder.failure, BrokenPipeError)
    assert len(failures) == 1


# ---------------------------------------------------------------- headless (--record -)


def start_headless(mode: str) -> subprocess.Popen:
    return subprocess.Popen(
        [PYTHON, str(DRIVER), mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=subprocess_env(),
    )


def read_lines(stream, count: int) -> bytes:
    data = b""
    for _ in range(count):
        data += stream.readline()
    return data


@pytest.mark.timeout(30)
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_headless_streams_until_a_signal_then_stops_the_system(sig):
    proc = start_headless("session")
    try:
        head = read_lines(proc.stdout, 6)  # header + 5 messages: it is streaming
        proc.send_signal(sig)
        rest, err = proc.communicate(timeout=15)
    finally:
        proc.kill()
    assert proc.returncode == 0, err.decode()
    assert b"stopped" in err and b"Traceback" not in err
    recording, items = read_back(head + rest)
    assert recording.header.settings["project"] == "demo-project"
    assert len(items) >= 5 and all(isinstance(i, rec.Entry) for i in items)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("mode", ["session", "idle"])
def test_headless_exits_cleanly_when_the_reader_goes_away(mode):
    """The remote viewer quits: the pipe closes, even while no message is being written."""
    proc = start_headless(mode)
    try:
        read_lines(proc.stdout, 3)
        if mode == "idle":
            assert proc.stderr.readline() == b"idle\n"  # nothing more will be written
        proc.stdout.close()
        proc.wait(timeout=15)
        err = proc.stderr.read()
    finally:
        proc.kill()
    assert proc.returncode == 0, err.decode()
    assert b"stopped" in err
    assert b"Traceback" not in err and b"Exception" not in err
