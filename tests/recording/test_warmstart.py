"""Warm start: the file the monitor keeps, and the stale first frame it gives."""

from __future__ import annotations

import dataclasses
import json
import os
import threading
import time

import pytest
from recording_samples import NOW, sample_snapshots

from arr_actors import messages as m
from arr_actors import warmstart as ws


def failed_first_refresh(table: str) -> m.TableSnapshot:
    return m.TableSnapshot(table=table, seq=1, state="error", error="DeadlineExceeded: 504", updated_at=NOW + 60,
                           attempts=1, next_refresh_at=NOW + 90)


@pytest.mark.timeout(20)
def test_snapshots_come_back_stale_with_their_age(settings):
    snaps = sample_snapshots()
    writer = ws.WarmStartWriter(settings)
    for snap in snaps.values():
        writer.tell(snap)
    writer.tell(m.Notice("ignored"))
    writer.stop()
    assert writer.failure is None
    initial, notice = ws.load_warm_start(settings)
    assert notice is None
    assert [s.table for s in initial] == ["runner", "builds", "vertex", "active", "completed"]
    for loaded in initial:
        original = snaps[loaded.table]
        assert loaded.state == "stale"
        assert loaded.rows == original.rows
        assert loaded.fetched_at == original.fetched_at  # the age shows how old the rows are
        assert loaded.next_refresh_at is None and loaded.error == ""
        assert loaded.warning == ws.STALE_WARNING


def test_missing_file_gives_nothing(settings):
    assert ws.load_warm_start(settings) == ((), None)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"{not json", "not valid JSON"),
        (b"", "not valid JSON"),
        (b"[]", "not a warm-start file"),
        (json.dumps({"kind": "arr_actors-warm-start", "schema": 0, "snapshots": []}).encode(),
         "written by another version (schema 0"),
        (json.dumps({"kind": "arr_actors-warm-start", "schema": 7, "snapshots": []}).encode(),
         "written by another version (schema 7"),
        (json.dumps({"kind": "arr_actors-warm-start", "schema": 1, "snapshots": {}}).encode(),
         "'snapshots' is not a list"),
        (json.dumps({"kind": "arr_actors-warm-start", "schema": 1,
                     "snapshots": [{"type": "TableSnapshot", "table": "runner", "seq": 1, "state": "fine"}]}).encode(),
         "snapshot 1: TableSnapshot"),
    ],
)
def test_unusable_file_is_ignored_with_a_notice(settings, content, reason):
    path = ws.warm_start_path(settings)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(content)
    initial, notice = ws.load_warm_start(settings)
    assert initial == ()
    assert notice is not None and notice.level == "warning"
    assert notice.text.startswith(f"warm start file {path} ignored: ")
    assert reason in notice.text


def test_unreadable_file_is_ignored_with_a_notice(settings):
    os.makedirs(ws.warm_start_path(settings))  # a directory where the file should be
    initial, notice = ws.load_warm_start(settings)
    assert initial == () and notice is not None and "cannot read it" in notice.text


def test_tables_that_no_longer_exist_are_dropped(settings):
    doc = ws.document(sample_snapshots(), saved_at=NOW)
    doc["snapshots"][0]["table"] = "retired"
    ws.write_file(ws.warm_start_path(settings), {}, saved_at=NOW)
    with open(ws.warm_start_path(settings), "w") as fh:
        json.dump(doc, fh)
    initial, notice = ws.load_warm_start(settings)
    assert notice is None
    assert [s.table for s in initial] == ["builds", "vertex", "active", "completed"]


@pytest.mark.timeout(20)
def test_a_failing_table_keeps_the_previous_runs_rows_on_disk(settings):
    snaps = sample_snapshots()
    ws.write_file(ws.warm_start_path(settings), snaps, saved_at=NOW)
    writer = ws.WarmStartWriter(settings)
    writer.tell(failed_first_refresh("builds"))
    fresh = dataclasses.replace(snaps["runner"], seq=5, rows=snaps["runner"].rows[:1], fetched_at=NOW + 60)
    writer.tell(fresh)
    writer.stop()
    stored = ws.read_file(ws.warm_start_path(settings))
    assert stored["builds"] == snaps["builds"]
    assert stored["runner"] == fresh


@pytest.mark.timeout(20)
def test_writes_are_debounced_but_keep_up(settings):
    writer = ws.WarmStartWriter(settings, debounce_s=0.2)
    snap = sample_snapshots()["builds"]
    started = time.monotonic()
    seq = 0
    while time.monotonic() - started < 1.0:
        seq += 1
        writer.tell(dataclasses.replace(snap, seq=seq, fetched_at=NOW + seq))
        time.sleep(0.005)
    elapsed = time.monotonic() - started
    writer.stop()
    assert seq > 50
    # One write per debounce period at most (plus the first and the final one), and more than one.
    assert 2 <= writer.writes <= elapsed / 0.2 + 2, (writer.writes, elapsed)
    assert ws.read_file(ws.warm_start_path(settings))["builds"].seq == seq  # the final state is on disk


@pytest.mark.timeout(20)
def test_nothing_new_means_no_write(settings):
    writer = ws.WarmStartWriter(settings)
    writer.tell(failed_first_refresh("vertex"))  # no data to keep
    writer.stop()
    assert writer.writes == 0
    assert not os.path.exists(ws.warm_start_path(settings))


@pytest.mark.timeout(30)
def test_readers_never_see_a_partly_written_file(settings):
    path = ws.warm_start_path(settings)
    snaps = sample_snapshots()
    ws.write_file(path, snaps, saved_at=NOW)
    writer = ws.WarmStartWriter(settings, debounce_s=0.0)
    stop = threading.Event()
    problems: list[str] = []
    reads = 0

    def read_loop() -> None:
        nonlocal reads
        while not stop.is_set():
            try:
                assert len(ws.read_file(path)) == 5
                reads += 1
            except (ws.WarmStartError, AssertionError) as exc:
                problems.append(repr(exc))

    reader = threading.Thread(target=read_loop)
    reader.start()
    try:
        for i in range(300):
            for snap in snaps.values():
                writer.tell(dataclasses.replace(snap, seq=i, fetched_at=NOW + i))
            time.sleep(0.001)
    finally:
        writer.stop()
        stop.set()
        reader.join(5)
    assert writer.writes > 10 and reads > 10
    assert problems == []
    assert not [f for f in os.listdir(os.path.dirname(path)) if f.endswith(".tmp")]


@pytest.mark.timeout(20)
def test_a_write_failure_does_not_stop_the_monitor(settings, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    bad = settings.replace(state_dir=str(blocker / "state"))
    writer = ws.WarmStartWriter(bad)
    writer.tell(sample_snapshots()["runner"])
    writer.stop()
    assert isinstance(writer.failure, OSError)
    assert not writer._thread.is_alive()


class Collect:
    def __init__(self) -> None:
        self.messages: list = []

    def tell(self, message) -> None:
        self.messages.append(message)


def test_carry_over_keeps_warm_rows_until_fresh_data():
    snaps = sample_snapshots()
    initial = tuple(ws.as_stale(s) for s in snaps.values())
    ui = Collect()
    wrapped = ws.CarryOver(ui, initial=initial)
    wrapped.tell(m.FetchStarted("builds", 1, NOW, NOW + 30))
    wrapped.tell(failed_first_refresh("builds"))
    fresh = dataclasses.replace(snaps["builds"], seq=2, rows=snaps["builds"].rows[:1], fetched_at=NOW + 70)
    wrapped.tell(fresh)
    wrapped.tell(failed_first_refresh("builds"))  # after fresh data the runtime's own rows are the truth
    started, failed, ok, failed_later = ui.messages
    assert isinstance(started, m.FetchStarted)
    assert failed.state == "error" and failed.error == "DeadlineExceeded: 504"
    assert failed.rows == snaps["builds"].rows and failed.fetched_at == snaps["builds"].fetched_at
    assert ok == fresh
    assert failed_later == failed_first_refresh("builds")


def test_carry_over_passes_an_empty_ok_table_through():
    snaps = sample_snapshots()
    ui = Collect()
    wrapped = ws.CarryOver(ui, initial=(ws.as_stale(snaps["active"]),))
    empty = m.TableSnapshot(table="active", seq=1, state="ok", fetched_at=NOW + 5)
    wrapped.tell(empty)
    assert ui.messages == [empty]


def test_carry_over_feeds_every_subscriber_the_same_messages():
    snaps = sample_snapshots()
    ui, recorder = Collect(), Collect()
    wrapped = ws.CarryOver(ui, recorder, initial=(ws.as_stale(snaps["builds"]),))
    wrapped.tell(failed_first_refresh("builds"))
    wrapped.tell(m.PauseChanged(True))
    assert ui.messages == recorder.messages
    assert ui.messages[0].rows == snaps["builds"].rows
