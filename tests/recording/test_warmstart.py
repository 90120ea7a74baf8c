"""Warm start: the file the monitor keeps, and the stale first frame it gives."""

from __future__ import annotations

import dataclasses
import json
import os
import threading
import time

import pytest
from recording_samples import NOW, sample_snapshots

from arr_actors import config
from arr_actors import messages as m
from arr_actors import warmstart as ws
from arr_actors.runtime import policy
from arr_actors.runtime.policy import Limits, Publish


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
    bad = settings.with_values({"paths.state_dir": str(blocker / "state")})
    writer = ws.WarmStartWriter(bad)
    writer.tell(sample_snapshots()["runner"])
    writer.stop()
    assert isinstance(writer.failure, OSError)
    assert not writer._thread.is_alive()


class WarmTable:
    """One table's policy started from a warm-start snapshot, fed by hand as the watchdog feeds it."""

    def __init__(self, warm: m.TableSnapshot) -> None:
        self.table = warm.table
        self.now = NOW + 60
        self.limits = Limits.from_settings(config.defaults(), self.table)
        self.state = policy.initial_state(self.table, self.now, last_known_good=warm)
        self.published: list = []

    def feed(self, event) -> None:
        self.state, commands = policy.handle(self.state, event, self.now, self.limits, rand=0.5)
        self.published += [c.message for c in commands if isinstance(c, Publish)]

    def start(self) -> None:
        """Start the next fetch when it is due; its child is ready at once."""
        self.now = max(self.now, self.state.due_at)
        self.feed(m.Tick(now=self.now))
        self.feed(m.FetchReady(table=self.table, generation=self.state.generation, startup_s=0.0))

    def fetch(self, *, data: m.TableData | None = None, error: str = "") -> None:
        self.start()
        self.now += 1.0
        self.feed(m.FetchResult(self.table, self.state.generation, self.state.seq, data=data, error=error))

    def snapshots(self) -> list[m.TableSnapshot]:
        return [x for x in self.published if isinstance(x, m.TableSnapshot)]


def test_a_failed_first_refresh_keeps_the_warm_rows_until_fresh_data():
    snaps = sample_snapshots()
    t = WarmTable(ws.as_stale(snaps["builds"]))
    t.fetch(error="DeadlineExceeded: 504")
    fresh = m.TableData(rows=snaps["builds"].rows[:1])
    t.fetch(data=fresh)
    fresh_at = t.now
    t.fetch(error="DeadlineExceeded: 504")  # after fresh data the runtime's own rows are the truth
    assert any(isinstance(x, m.FetchStarted) for x in t.published)
    failed, ok, failed_later = t.snapshots()
    assert failed.state == "error" and failed.error == "DeadlineExceeded: 504"
    assert failed.rows == snaps["builds"].rows and failed.fetched_at == snaps["builds"].fetched_at
    assert ok.state == "ok" and ok.rows == fresh.rows and ok.fetched_at == fresh_at
    assert failed_later.state == "stale" and failed_later.rows == fresh.rows and failed_later.fetched_at == fresh_at


def test_an_empty_ok_table_replaces_the_warm_rows():
    snaps = sample_snapshots()
    t = WarmTable(ws.as_stale(snaps["active"]))
    t.fetch(data=m.TableData(rows=()))
    (empty,) = t.snapshots()
    assert empty.state == "ok" and empty.rows == () and empty.fetched_at == t.now


def test_a_timeout_and_its_restart_keep_the_warm_rows():
    snaps = sample_snapshots()
    t = WarmTable(ws.as_stale(snaps["vertex"]))
    t.start()
    t.now += t.limits.table.deadline
    t.feed(m.Tick(now=t.now))  # past the deadline: killed
    t.start()  # a new child: the restart is announced with a snapshot
    timeout, restarting = t.snapshots()
    assert (timeout.state, restarting.state) == ("timeout", "restarting")
    for snap in (timeout, restarting):
        assert snap.rows == snaps["vertex"].rows and snap.fetched_at == snaps["vertex"].fetched_at


@pytest.mark.timeout(20)
def test_the_previous_runs_rows_shown_under_an_error_are_not_kept_as_new(settings):
    snaps = sample_snapshots()
    ws.write_file(ws.warm_start_path(settings), snaps, saved_at=NOW)
    writer = ws.WarmStartWriter(settings)
    # What the runtime publishes for a failed first refresh at a warm start.
    shown = dataclasses.replace(failed_first_refresh("builds"), rows=snaps["builds"].rows,
                                fetched_at=snaps["builds"].fetched_at)
    writer.tell(shown)
    fresh = dataclasses.replace(snaps["vertex"], seq=5, rows=snaps["vertex"].rows[:1], fetched_at=NOW + 60)
    writer.tell(fresh)
    # Once a table has rows of this run, its failures are kept as before (stale, with those rows).
    later = dataclasses.replace(fresh, seq=6, state="stale", error="DeadlineExceeded: 504", updated_at=NOW + 90)
    writer.tell(later)
    writer.stop()
    stored = ws.read_file(ws.warm_start_path(settings))
    assert stored["builds"] == snaps["builds"]
    assert stored["vertex"] == later
