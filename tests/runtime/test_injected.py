"""Real faults in real fetch processes: each is contained, killed, restarted, and leaves nothing behind."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from runtime_fake_sources import FACTORY
from runtime_helpers import (
    FAILED_STATES,
    Recorder,
    TreeWatch,
    is_snapshot,
    is_started,
    make_settings,
    ok_gaps,
    states,
)

from arr_actors.messages import FetchStarted, Notice, TableSnapshot
from arr_actors.runtime import system

# fault -> (state the table reaches, text its error contains)
FAULTS = {
    "hang": ("timeout", "(deadline); fetch killed"),
    "block": ("timeout", "(deadline); fetch killed"),
    "loop": ("timeout", "(deadline); fetch killed"),
    "ignore-term": ("timeout", "(deadline); fetch killed"),
    "stop": ("timeout", "(deadline); fetch killed"),
    "grandchild": ("timeout", "(deadline); fetch killed"),
    "escapee": ("timeout", "(deadline); fetch killed"),
    "slow:30": ("timeout", "(deadline); fetch killed"),
    "exit": ("error", "fetch process died (exit status 3)"),
    "segv": ("error", "fetch process died (SIGSEGV)"),
    "abort": ("error", "fetch process died (SIGABRT)"),
    "huge": ("error", "result too large"),
    "flood": ("error", "result too large"),
    "error": ("error", "InjectedError: injected fault: error"),
}
HEALTHY = "runner"
#: Faults after which the child process lives on (the next fetch is a retry, not a restart).
CHILD_SURVIVES = ("error", "huge")


def wait_capturing(rec: Recorder, predicate, *, watch: TreeWatch, tree: system.System, timeout: float, after: int = 0):
    """Like Recorder.wait_for, but keeps recording the process tree meanwhile (grandchildren come and go)."""
    end = time.monotonic() + timeout
    while True:
        watch.capture(tree)
        try:
            return rec.wait_for(predicate, timeout=0.05, after=after)
        except AssertionError:
            if time.monotonic() > end:
                raise


def check_contained(
    rec: Recorder,
    *,
    table: str,
    fault: str,
    deadline: float,
    interval: float,
    backoff_min: float,
    watch: TreeWatch,
    tree: system.System,
) -> None:
    expected_state, expected_text = FAULTS[fault]
    _, started = wait_capturing(rec, is_started(table), watch=watch, tree=tree, timeout=20)
    _, failed = wait_capturing(rec, is_snapshot(table, *FAILED_STATES), watch=watch, tree=tree, timeout=deadline + 10)

    # The table reaches its failure state by deadline + 1 s, saying why. The
    # deadline counts from when the new child had loaded its source: the fetch
    # was announced again then, with that deadline.
    assert failed.state == expected_state, failed
    assert expected_text in failed.error
    if expected_state == "timeout":
        assert f"timed out after {deadline:g} s" in failed.error
    so_far = rec.all()
    announced = [m for m in so_far[: so_far.index(failed)] if isinstance(m, FetchStarted) and m.table == table]
    assert len(announced) == 2, announced  # when asked for, and when its child was ready
    effective = announced[-1]
    assert effective.started_at == started.started_at and effective.deadline_at < started.deadline_at
    assert failed.updated_at - (effective.deadline_at - deadline) <= deadline + 1.0
    assert any(isinstance(m, Notice) and m.level == "error" and m.table == table for m in rec.all(Notice))

    # Restarted (a new child after a kill or crash) or retried, after the backoff.
    index = rec.messages.index(next((t, m) for t, m in rec.messages if m is failed))
    _, again = wait_capturing(rec, is_started(table), watch=watch, tree=tree, timeout=10, after=index)
    assert again.started_at - failed.updated_at >= backoff_min - 0.01
    if fault not in CHILD_SURVIVES:
        assert again.generation == started.generation + 1
        assert "restarting" in states(rec, table)

    # The healthy table kept its schedule the whole time.
    since = next(t for t, m in rec.timed(FetchStarted, table=table))
    rec.wait_for(lambda m: len([1 for s in rec.all(TableSnapshot, table=HEALTHY) if s.state == "ok"]) >= 4, timeout=10)
    gaps = ok_gaps(rec, HEALTHY, since=since)
    assert gaps and max(gaps) <= interval + 1.0, gaps
    assert set(states(rec, HEALTHY)) == {"ok"}


@pytest.mark.timeout(40)
@pytest.mark.parametrize("fault", list(FAULTS))
def test_each_fault_is_contained_and_cleaned_up(tmp_path: Path, fault: str) -> None:
    deadline, interval = 0.8, 0.3
    settings = make_settings(tmp_path, deadline=deadline, interval=interval, faults=(("builds", fault),))
    rec, watch = Recorder(), TreeWatch()
    tree = system._start(settings, [rec], source_factory=FACTORY, tables=(HEALTHY, "builds"))
    try:
        check_contained(
            rec,
            table="builds",
            fault=fault,
            deadline=deadline,
            interval=interval,
            backoff_min=settings.supervision.backoff_initial_s * (1 - settings.supervision.backoff_jitter),
            watch=watch,
            tree=tree,
        )
        if fault in ("grandchild", "escapee"):
            grandchildren = [watch.seen[pid] for pid, cmd in watch.cmdlines.items() if "time.sleep" in cmd]
            assert grandchildren, "the fault should have started a grandchild"
            # The kill took the whole group, long before the System stops.
            end = time.monotonic() + 2.0
            while any(p.is_running() for p in grandchildren) and time.monotonic() < end:
                time.sleep(0.02)
            assert not any(p.is_running() for p in grandchildren)
    finally:
        watch.capture(tree)
        tree.stop()
    watch.assert_all_gone()


@pytest.mark.timeout(60)
def test_all_faults_at_once_across_tables(tmp_path: Path) -> None:
    """Every fault at the same time: four trees, four faulty tables and one healthy table each."""
    deadline, interval = 1.5, 0.5
    faulty_tables = ("builds", "vertex", "active", "completed")
    kinds = list(FAULTS)
    groups = [kinds[i : i + len(faulty_tables)] for i in range(0, len(kinds), len(faulty_tables))]
    trees, recorders, watches, layouts = [], [], [], []
    try:
        for n, group in enumerate(groups):
            layout = dict(zip(faulty_tables, group, strict=False))
            settings = make_settings(
                tmp_path / str(n), deadline=deadline, interval=interval, faults=tuple(layout.items())
            )
            rec, watch = Recorder(), TreeWatch()
            trees.append(system._start(settings, [rec], source_factory=FACTORY, tables=(HEALTHY, *layout)))
            recorders.append(rec)
            watches.append(watch)
            layouts.append((settings, layout))
        for tree, rec, watch, (settings, layout) in zip(trees, recorders, watches, layouts, strict=True):
            for table, fault in layout.items():
                check_contained(
                    rec,
                    table=table,
                    fault=fault,
                    deadline=deadline,
                    interval=interval,
                    backoff_min=settings.supervision.backoff_initial_s * (1 - settings.supervision.backoff_jitter),
                    watch=watch,
                    tree=tree,
                )
    finally:
        for tree, watch in zip(trees, watches, strict=False):
            watch.capture(tree)
            tree.stop()
    for watch in watches:
        watch.assert_all_gone()


@pytest.mark.timeout(30)
def test_a_fetch_that_is_only_slow_completes(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, deadline=3.0, faults=(("builds", "slow:0.3"),))
    rec = Recorder()
    tree = system._start(settings, [rec], source_factory=FACTORY, tables=("builds",))
    try:
        _, snap = rec.wait_for(is_snapshot("builds"), timeout=20)
        assert snap.state == "ok" and len(snap.rows) == 1
        assert 0.3 <= snap.duration_s < 3.0
        assert snap.budget_pct == pytest.approx(snap.duration_s / 1.5 * 100, abs=0.1)
    finally:
        tree.stop()


@pytest.mark.timeout(30)
def test_a_source_returning_the_wrong_type_is_an_error(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    rec = Recorder()
    tree = system._start(settings, [rec], source_factory="runtime_fake_sources:open_broken_source", tables=("builds",))
    try:
        _, snap = rec.wait_for(is_snapshot("builds"), timeout=20)
        assert snap.state == "error"
        assert snap.error == "TypeError: the source returned str, not TableData"
    finally:
        tree.stop()


@pytest.mark.timeout(30)
def test_a_missing_source_module_is_reported(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    rec = Recorder()
    tree = system._start(settings, [rec], source_factory="no_such_module_here:open_source", tables=("builds",))
    try:
        _, snap = rec.wait_for(is_snapshot("builds"), timeout=20)
        assert snap.state == "error"
        assert "cannot import source module 'no_such_module_here'" in snap.error
    finally:
        tree.stop()
