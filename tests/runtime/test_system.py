"""The runtime tree end to end with fake sources: commands, clocks, restarts of its own parts, stopping."""

from __future__ import annotations

import json
import os
import signal
import stat
import time
from pathlib import Path

import psutil
import pykka
import pytest
from runtime_fake_sources import FACTORY, GO_FILE, SLOW_LOAD_S
from runtime_helpers import Recorder, TreeWatch, is_snapshot, is_started, make_settings, subreaper, wait_until

from arr_actors.messages import (
    BuildRow,
    FetchStarted,
    Notice,
    PauseChanged,
    RefreshRequest,
    SetPaused,
    TableSnapshot,
    Tick,
)
from arr_actors.runtime import system
from arr_actors.runtime.fetcher import Fetcher


class FakeClock:
    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def events(settings) -> list[dict]:
    path = Path(settings.paths.state_dir) / "events.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.timeout(30)
def test_deadlines_follow_the_injected_clock_and_hand_ticks(tmp_path: Path) -> None:
    """With a fake clock, a hung fetch is killed when *that* clock passes the deadline, not before."""
    settings = make_settings(tmp_path, deadline=60.0, faults=(("builds", "hang"),), values={"supervision.backoff_initial_s": 5.0, "supervision.backoff_max_s": 60.0})
    clock, rec, watch = FakeClock(), Recorder(), TreeWatch()
    tree = system._start(settings, [rec], source_factory=FACTORY, clock=clock, tick_s=None, tables=("builds",))
    try:
        assert tree.wait_ready()
        start = clock.now
        tree.tell(Tick(now=start))
        _, first = rec.wait_for(is_started("builds"), timeout=10)
        # A new child: until it has loaded its source, the start-up allowance comes on top ...
        assert first.deadline_at == start + settings.supervision.startup_deadline_s + 60.0
        # ... and once it says ready (at fake time ``start``) the deadline counts from there.
        _, ready = rec.wait_for(lambda m: is_started("builds")(m) and m.deadline_at == start + 60.0, timeout=10)
        assert ready.started_at == start and ready.generation == 1
        wait_until(lambda: tree.child_pids().get("builds"), timeout=10, what="the builds child")
        watch.capture(tree)
        (child_pid,) = tree.child_pids()["builds"]
        # A minute of fake time minus a bit: nothing happens.
        tree.tell(Tick(now=start + 59.9))
        time.sleep(0.2)  # give a wrong implementation the chance to act; the assertions below must hold
        assert not rec.all(TableSnapshot)
        # Past the deadline: timeout snapshot, the child is killed and reaped.
        clock.now = start + 60.0
        tree.tell(Tick(now=clock.now))
        _, snap = rec.wait_for(is_snapshot("builds"), timeout=5)
        assert snap.state == "timeout" and snap.error == "timed out after 60 s (deadline); fetch killed"
        assert snap.updated_at == start + 60.0
        wait_until(lambda: child_pid not in tree.child_pids().get("builds", []), timeout=5, what="the kill")
        # The restart waits for the backoff (5 s ± 20 %) on the same clock.
        tree.tell(Tick(now=start + 60.0 + 3.9))
        time.sleep(0.2)
        assert len(rec.all(FetchStarted)) == 2  # the first fetch, asked for and then ready
        clock.now = start + 60.0 + 6.1
        tree.tell(Tick(now=clock.now))
        _, again = rec.wait_for(is_started("builds", generation=2), timeout=5)
        assert again.started_at == clock.now
        wait_until(
            lambda: any(e["event"] == "killed" for e in events(settings)), timeout=5, what="the killed event"
        )
    finally:
        watch.capture(tree)
        tree.stop()
    watch.assert_all_gone()


@pytest.mark.timeout(30)
def test_a_child_that_never_finishes_loading_is_killed_when_its_start_up_allowance_ends(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, deadline=5.0, values={"supervision.startup_deadline_s": 30.0})
    clock, rec, watch = FakeClock(), Recorder(), TreeWatch()
    factory = "runtime_fake_sources:open_hanging_source"
    tree = system._start(settings, [rec], source_factory=factory, clock=clock, tick_s=None, tables=("builds",))
    try:
        assert tree.wait_ready()
        start = clock.now
        tree.tell(Tick(now=start))
        _, first = rec.wait_for(is_started("builds"), timeout=10)
        assert first.deadline_at == start + 30.0 + 5.0
        wait_until(lambda: tree.child_pids().get("builds"), timeout=10, what="the builds child")
        watch.capture(tree)
        (child_pid,) = tree.child_pids()["builds"]
        # Past the deadline but within the start-up allowance: still loading, nothing happens.
        tree.tell(Tick(now=start + 29.9))
        time.sleep(0.2)  # give a wrong implementation the chance to act; the assertions below must hold
        assert not rec.all(TableSnapshot)
        assert len(rec.all(FetchStarted)) == 1
        clock.now = start + 30.0
        tree.tell(Tick(now=clock.now))
        _, snap = rec.wait_for(is_snapshot("builds"), timeout=5)
        assert snap.state == "timeout"
        assert snap.error == "fetch process did not start within 30 s (loading libraries); killed"
        wait_until(lambda: child_pid not in tree.child_pids().get("builds", []), timeout=5, what="the kill")
        wait_until(
            lambda: any(e["event"] == "killed" for e in events(settings)), timeout=5, what="the killed event"
        )
        failed = [e for e in events(settings) if e["event"] == "failed"]
        assert failed and failed[0]["detail"].startswith("timeout: fetch process did not start")
        assert not any(e["event"] == "ready" for e in events(settings))
    finally:
        watch.capture(tree)
        tree.stop()
    watch.assert_all_gone()


@pytest.mark.timeout(30)
def test_loading_the_source_does_not_count_against_the_deadline(tmp_path: Path) -> None:
    """The source takes longer to load than the whole deadline; the first fetch still succeeds."""
    settings = make_settings(tmp_path, deadline=0.8)
    assert SLOW_LOAD_S > 0.8
    rec = Recorder()
    factory = "runtime_fake_sources:open_slow_loading_source"
    tree = system._start(settings, [rec], source_factory=factory, tables=("builds",))
    try:
        _, snap = rec.wait_for(is_snapshot("builds"), timeout=20)
        wait_until(lambda: any(e["event"] == "ready" for e in events(settings)), timeout=5, what="the ready event")
    finally:
        tree.stop()
    assert snap.state == "ok", snap.error
    assert snap.duration_s < 0.8  # the fetch, without the loading
    first, ready = [m for m in rec.all(FetchStarted) if m.generation == 1][:2]
    assert ready.started_at == first.started_at  # the same fetch, announced again with its real deadline
    assert ready.deadline_at - first.started_at >= SLOW_LOAD_S + 0.8 - 0.05
    (loaded,) = [e for e in events(settings) if e["event"] == "ready"]
    assert loaded["table"] == "builds" and loaded["generation"] == 1 and loaded["duration"] >= SLOW_LOAD_S


@pytest.mark.timeout(30)
def test_pause_stops_refreshes_and_manual_refresh_still_works(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, interval=0.2)
    rec = Recorder()
    tree = system._start(settings, [rec], source_factory=FACTORY, tables=("runner", "builds"))
    try:
        rec.wait_for(is_snapshot("builds", "ok"), timeout=20)
        mark = rec.count()
        tree.tell(SetPaused(paused=True))
        _, paused = rec.wait_for(lambda m: isinstance(m, PauseChanged), timeout=5, after=mark)
        assert paused.paused is True
        # Every table then says it has no next refresh while paused (a snapshot
        # published before the pause took effect still has one).
        since_pause = next(i for i, (_, m) in enumerate(rec.messages) if m is paused) + 1
        for table in ("runner", "builds"):
            _, snap = rec.wait_for(is_snapshot(table), timeout=5, after=since_pause)
            assert snap.next_refresh_at is None
        # Let a fetch that was already running finish; after that nothing new may start.
        time.sleep(0.3)
        quiet_from = rec.count()
        time.sleep(0.8)  # four intervals: an absence can only be observed by waiting
        assert not [m for _, m in rec.messages[quiet_from:] if isinstance(m, FetchStarted)]
        tree.tell(RefreshRequest(table="builds"))
        rec.wait_for(is_started("builds"), timeout=5, after=quiet_from)
        rec.wait_for(is_snapshot("builds", "ok"), timeout=5, after=quiet_from)
        assert not [m for _, m in rec.messages[quiet_from:] if isinstance(m, FetchStarted) and m.table == "runner"]
        tree.tell(SetPaused(paused=False))
        mark = rec.count()
        rec.wait_for(lambda m: isinstance(m, PauseChanged) and not m.paused, timeout=5, after=mark)
        rec.wait_for(is_started("runner"), timeout=5, after=mark)
    finally:
        tree.stop()


@pytest.mark.timeout(30)
def test_refresh_while_fetching_is_coalesced_and_logged(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, deadline=5.0, faults=(("builds", "slow:0.6"),))
    rec = Recorder()
    tree = system._start(settings, [rec], source_factory=FACTORY, tables=("builds",))
    try:
        rec.wait_for(is_started("builds"), timeout=20)
        for _ in range(3):
            tree.tell(RefreshRequest(table="builds"))
        rec.wait_for(is_snapshot("builds", "ok"), timeout=10)
        # One fetch (announced when asked for and again when its child was ready).
        assert len({(m.generation, m.started_at) for m in rec.all(FetchStarted)}) == 1
        wait_until(
            lambda: len([e for e in events(settings) if e["event"] == "skipped"]) == 3, timeout=5, what="skipped events"
        )
    finally:
        tree.stop()
    log = Path(settings.paths.state_dir) / "events.jsonl"
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    # The fork template's own lines (template_ready) are not the table's.
    kinds = [e["event"] for e in events(settings) if not e["table"].startswith("template:")]
    assert sorted(kinds[:7]) == ["completed", "launched", "ready", "skipped", "skipped", "skipped", "started"]
    assert kinds.index("started") < kinds.index("ready") < kinds.index("completed")
    completed = [e for e in events(settings) if e["event"] == "completed"]
    assert completed and completed[0]["table"] == "builds" and completed[0]["duration"] >= 0.6
    assert completed[0]["budget_pct"] == pytest.approx(completed[0]["duration"] / 2.5 * 100, abs=0.1)


@pytest.mark.timeout(30)
def test_a_dead_fetcher_actor_is_replaced_and_the_table_carries_on(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, interval=0.2, deadline=5.0, faults=(("builds", "slow:0.4"),))
    rec, watch = Recorder(), TreeWatch()
    tree = system._start(settings, [rec], source_factory=FACTORY, tables=("builds",))
    try:
        rec.wait_for(is_snapshot("builds", "ok"), timeout=20)
        mark = rec.count()
        rec.wait_for(is_started("builds"), timeout=5, after=mark)
        watch.capture(tree)
        (fetcher,) = [
            ref
            for ref in pykka.ActorRegistry.get_by_class(Fetcher)
            if ref.is_alive() and ref.proxy().table.get() == "builds"
        ]
        fetcher.stop()  # the actor dies in the middle of a fetch
        _, failed = rec.wait_for(is_snapshot("builds", "error", "stale"), timeout=5, after=mark)
        assert "fetcher stopped unexpectedly" in failed.error
        rec.wait_for(is_snapshot("builds", "ok"), timeout=10, after=rec.count())
        assert any(e["detail"] == "fetcher actor restarted" for e in events(settings) if e["event"] == "restarted")
    finally:
        watch.capture(tree)
        tree.stop()
    watch.assert_all_gone()


@pytest.mark.timeout(30)
def test_a_dead_launcher_is_replaced(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, interval=0.2, deadline=1.0, faults=(("builds", "hang"),))
    rec, watch = Recorder(), TreeWatch()
    with subreaper():  # the killed launcher's children are orphaned: let them come to us
        tree = system._start(settings, [rec], source_factory=FACTORY, tables=("runner", "builds"))
        try:
            check_launcher_replaced(tree, rec, watch)
        finally:
            tree.stop()
        watch.assert_all_gone()


def running(proc: psutil.Process) -> bool:
    """Alive and not a zombie (a zombie is dead; its reaping is checked separately)."""
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def check_launcher_replaced(tree: system.System, rec: Recorder, watch: TreeWatch) -> None:
    rec.wait_for(is_snapshot("runner", "ok"), timeout=20)
    wait_until(lambda: tree.child_pids().get("builds"), timeout=10, what="the builds child")
    watch.capture(tree)
    first = tree.launcher_pid
    os.kill(first, signal.SIGKILL)
    wait_until(lambda: tree.launcher_pid not in (None, first), timeout=10, what="a new launcher")
    # The old children died with their launcher (PR_SET_PDEATHSIG) ...
    old = [p for pid, p in watch.seen.items() if pid != first]
    wait_until(lambda: not any(running(p) for p in old), timeout=5, what="old children to die")
    # ... and the tables go on with new ones.
    mark = rec.count()
    rec.wait_for(is_snapshot("runner", "ok"), timeout=10, after=mark)
    watch.capture(tree)


@pytest.mark.timeout(30)
def test_stop_is_quick_idempotent_and_leaves_nothing(tmp_path: Path) -> None:
    faults = (
        ("runner", "hang"),
        ("builds", "ignore-term"),
        ("vertex", "grandchild"),
        ("active", "stop"),
        ("completed", "loop"),
    )
    settings = make_settings(tmp_path, deadline=30.0, faults=faults, values={"supervision.kill_grace_s": 5.0})
    rec, watch = Recorder(), TreeWatch()
    tree = system.start(settings, [rec], source_factory=FACTORY)
    try:
        wait_until(lambda: sum(len(p) for p in tree.child_pids().values()) == 5, timeout=20, what="five children")

        def grandchild_seen() -> bool:
            watch.capture(tree)
            return len(watch.seen) >= 7  # launcher, five children, the vertex grandchild

        wait_until(grandchild_seen, timeout=10, what="the grandchild")
    finally:
        started = time.monotonic()
        tree.stop()
        took = time.monotonic() - started
        tree.stop()
    assert took < 2.0
    watch.assert_all_gone(timeout=0.5)
    # After stop the System refuses nothing and does nothing.
    tree.tell(RefreshRequest())


@pytest.mark.timeout(30)
def test_tell_rejects_what_is_not_a_command(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    tree = system._start(settings, [], source_factory=FACTORY, tables=("builds",))
    try:
        with pytest.raises(TypeError, match="Notice is not a command"):
            tree.tell(Notice(text="x"))  # type: ignore[arg-type]
    finally:
        tree.stop()


@pytest.mark.timeout(30)
def test_a_failing_subscriber_does_not_stop_the_others(tmp_path: Path) -> None:
    class Broken:
        def tell(self, message):
            raise RuntimeError("subscriber is broken")

    settings = make_settings(tmp_path)
    rec = Recorder()
    tree = system._start(settings, [Broken(), rec], source_factory=FACTORY, tables=("builds",))
    try:
        rec.wait_for(is_snapshot("builds", "ok"), timeout=20)
        mark = rec.count()
        rec.wait_for(is_snapshot("builds", "ok"), timeout=5, after=mark)
    finally:
        tree.stop()


@pytest.mark.timeout(30)
def test_launcher_start_failure_shows_in_every_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from arr_actors.runtime import starter

    monkeypatch.setattr(starter.sys, "executable", str(tmp_path / "no-such-python"))
    settings = make_settings(tmp_path)
    rec = Recorder()
    tree = system._start(settings, [rec], source_factory=FACTORY, tables=("builds",))
    try:
        _, snap = rec.wait_for(is_snapshot("builds"), timeout=20)
        assert snap.state == "error"
        assert "cannot start the fetch process launcher" in snap.error
    finally:
        tree.stop()


@pytest.mark.timeout(30)
def test_a_message_that_breaks_a_handler_does_not_stop_the_watchdog(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    clock, rec = FakeClock(), Recorder()
    tree = system._start(settings, [rec], source_factory=FACTORY, clock=clock, tick_s=None, tables=("builds",))
    try:
        assert tree.wait_ready()
        tree.tell(Tick(now="not a time"))  # type: ignore[arg-type]  # raises inside the handler
        tree.tell(RefreshRequest(table="no-such-table"))
        tree.tell(Tick(now=clock.now))
        _, snap = rec.wait_for(is_snapshot("builds", "ok"), timeout=10)
    finally:
        tree.stop()


@pytest.mark.timeout(60)
def test_rows_a_fetch_already_has_are_shown_while_it_goes_on(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, deadline=30.0, interval=600.0)
    rec = Recorder()
    factory = "runtime_fake_sources:open_progress_source"
    tree = system._start(settings, [rec], source_factory=factory, tables=("builds",))
    try:
        _, partial = rec.wait_for(is_snapshot("builds", "ok"), timeout=20)
        # Shown mid-fetch: the spinner's deadline is still there, no duration yet.
        assert [r.build_id for r in partial.rows] == ["partial"]
        assert partial.fetch_deadline_at is not None and partial.duration_s is None
        (Path(settings.paths.state_dir) / GO_FILE).touch()
        _, final = rec.wait_for(lambda m: is_snapshot("builds", "ok")(m) and m.fetch_deadline_at is None, timeout=20)
        assert [r.build_id for r in final.rows] == ["final"] and final.duration_s is not None
        assert final.next_refresh_at is not None
    finally:
        tree.stop()


@pytest.mark.timeout(30)
def test_a_warm_start_shows_the_previous_runs_rows_under_a_failed_refresh_to_every_subscriber(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path, deadline=5.0, faults=(("builds", "error"),))
    previous_rows = (BuildRow(build_id="yesterday", status="SUCCESS", image="img", region="global", created_at=1.0),)
    warm = TableSnapshot(table="builds", seq=0, state="stale", rows=previous_rows, fetched_at=100.0)
    screen, recording = Recorder(), Recorder()
    tree = system._start(settings, [screen, recording], source_factory=FACTORY, tables=("builds",), warm=[warm])
    try:
        _, failed = screen.wait_for(is_snapshot("builds"), timeout=20)
    finally:
        tree.stop()
    # The failure is the table's own (error: no rows of this run), over the previous run's rows and age.
    assert failed.state == "error" and failed.error == "InjectedError: injected fault: error"
    assert failed.rows == previous_rows and failed.fetched_at == 100.0
    assert [m for _, m in recording.messages] == [m for _, m in screen.messages]  # what the screen showed
