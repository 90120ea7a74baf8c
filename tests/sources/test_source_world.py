"""Each table's rows match the emulated world field by field, for every state the world produces.

The expected values come from the emulator's world objects (``Emulator.world``)
at the emulator's clock, never from the wire: the sources under test go through
the real client libraries and gRPC/GraphQL to the same world.
"""

from __future__ import annotations

import math

import pytest
from source_helpers import emulator_settings, with_limit

from arr_actors.diagnostics.extract import diagnose
from arr_actors.sources import open_source, runner

pytestmark = pytest.mark.timeout(90)

TERMINAL = ("FINISHED", "FAILED", "CANCELLED")
EPS = 1e-3


def _close(actual, expected) -> bool:
    if expected is None or actual is None:
        return actual is expected
    return abs(actual - expected) <= EPS


# ------------------------------------------------------------------ runner


def _check_runner_row(row, e, now):
    status = e.status(now)
    assert (row.execution, row.region, row.queue, row.status) == (e.name, e.region, e.queue, status)
    assert _close(row.created_at, e.created)
    assert _close(row.started_at, e.started if e.started <= now else None)
    assert _close(row.completed_at, e.ended if e.ended <= now else None)
    if status == "RUNNING":
        assert (row.note, row.runs, row.context) == (runner.RUNNING_NOTE, None, ())
        return
    if status == "PENDING":
        assert (row.note, row.runs) == (runner.PENDING_NOTE, None)
        return
    truth = diagnose([line.text for line in e.visible_lines(now)], status=status)
    assert (row.runs, row.category, row.pattern, row.context) == (
        truth.runs, truth.category, truth.pattern or "", truth.context)
    if status == "FAILED":
        assert row.note == truth.summary and row.note
    elif status == "FINISHED":
        if "Runner completed:" in truth.summary:
            assert row.note == truth.summary
        else:
            assert row.note == f"completed: Runs: {truth.runs}"
    else:
        assert row.note.startswith("cancelled")


def test_runner_all_regions_newest_first(emulated, tmp_path):
    emu, clock = emulated
    emu.control.set_log_gaps(0.0)  # one read exactly; the documented empty pages: test_source_log_pages
    now = clock()
    settings = emulator_settings(emu, tmp_path)
    data = open_source(settings, "runner")()
    truth = sorted(emu.world.all_executions(now), key=lambda e: (e.created, e.name), reverse=True)[:10]
    assert [r.execution for r in data.rows] == [e.name for e in truth]
    for row, e in zip(data.rows, truth, strict=True):
        _check_runner_row(row, e, now)
    assert data.warning == "" and data.deferred == ""
    assert data.log_reads == (1 if any(e.status(now) in TERMINAL for e in truth) else 0)
    assert emu.control.stats().get("ListLogEntries", 0) == data.log_reads


def test_runner_shows_its_executions_before_it_reads_their_logs(emulated, tmp_path):
    """The log read takes seconds: the rows go out first, their notes with the final result."""
    from arr_actors import partial_rows

    emu, clock = emulated
    # Whole log pages: this test counts the reads (empty pages: test_source_log_pages).
    emu.control.set_log_gaps(0.0)
    settings = emulator_settings(emu, tmp_path)
    partial: list[tuple[object, int]] = []
    partial_rows.listen(lambda data: partial.append((data, emu.control.stats().get("ListLogEntries", 0))))
    try:
        final = open_source(settings, "runner")()
    finally:
        partial_rows.listen(None)
    assert final.log_reads == 1
    ((early, reads_then),) = partial
    assert reads_then == 0  # sent before the log read
    assert [r.execution for r in early.rows] == [r.execution for r in final.rows]
    terminal = [i for i, r in enumerate(final.rows) if r.status in TERMINAL]
    assert terminal and all(early.rows[i].note == runner.READING_NOTE for i in terminal)
    assert all(final.rows[i].note != runner.READING_NOTE for i in terminal)
    # Nothing new to read: no partial rows, just the result.
    partial.clear()
    partial_rows.listen(lambda data: partial.append((data, 0)))
    try:
        open_source(settings, "runner")()
    finally:
        partial_rows.listen(None)
    assert partial == []


def test_runner_every_state_of_one_execution(emulated, tmp_path):
    """Terminal states from history; PENDING -> RUNNING -> terminal for an execution of the future."""
    emu, clock = emulated
    emu.control.set_log_gaps(0.0)  # counts reads exactly; the documented empty pages: test_source_log_pages
    world = emu.world
    t0 = clock()
    seen = set()
    for status in TERMINAL:
        e = next(e for e in sorted(world.all_executions(t0), key=lambda e: -e.created) if e.status(t0) == status)
        newer = world.executions(e.region, t0)
        settings = with_limit(emulator_settings(emu, tmp_path, regions=(e.region,)), "runner", newer.index(e) + 1)
        data = open_source(settings, "runner")()
        _check_runner_row(data.rows[-1], e, t0)
        seen.add(data.rows[-1].status)
    future = min(
        (e for region in world.regions for e in world.executions(region, t0 + 4 * 3600) if e.created > t0),
        key=lambda e: e.created,
    )
    for moment in ((future.created + future.started) / 2, (future.started + future.ended) / 2, future.ended + 1):
        clock.set(moment)
        # Executions created after this one may be newer by its end: read down to it.
        newer = world.executions(future.region, moment)
        settings = with_limit(emulator_settings(emu, tmp_path, regions=(future.region,)), "runner", newer.index(future) + 1)
        data = open_source(settings, "runner")()
        assert data.rows[-1].execution == future.name
        _check_runner_row(data.rows[-1], future, moment)
        seen.add(data.rows[-1].status)
        # Logs are read only once the execution is terminal.
        assert data.log_reads == (1 if future.status(moment) in TERMINAL else 0)
    assert {"PENDING", "RUNNING", "FINISHED", "FAILED", "CANCELLED"} <= seen


# ------------------------------------------------------------------ builds


def _expected_builds(world, now, limit):
    newest = world.builds(None, now)
    active = [b for b in newest if b.status(now) in ("QUEUED", "WORKING")]
    done = [b for b in newest if b.status(now) not in ("QUEUED", "WORKING")]
    return (active + done)[:limit]


def _check_builds(data, world, now, limit):
    truth = _expected_builds(world, now, limit)
    assert [r.build_id for r in data.rows] == [b.build_id for b in truth]
    for row, b in zip(data.rows, truth, strict=True):
        assert (row.status, row.image, row.region) == (b.status(now), f"{b.image}:{b.tag}", b.location)
        assert _close(row.created_at, b.created)
        assert _close(row.started_at, b.started if b.started <= now else None)
        assert _close(row.finished_at, b.finished if b.finished <= now else None)
        assert b.build_id in row.log_url and row.log_url.startswith("https://")
    return {r.status for r in data.rows}


def test_builds_match_world(emulated, tmp_path):
    emu, clock = emulated
    t0 = clock()
    settings = with_limit(emulator_settings(emu, tmp_path), "builds", 50)
    fetch = open_source(settings, "builds")
    seen = _check_builds(fetch(), emu.world, t0, 50)
    # A build of the future while it is queued, then working.
    future = min((b for b in emu.world.builds(None, t0 + 6 * 3600) if b.created > t0), key=lambda b: b.created)
    for moment in ((future.created + future.started) / 2, (future.started + future.finished) / 2):
        clock.set(moment)
        seen |= _check_builds(fetch(), emu.world, moment, 50)
    produced = {b.status(t0) for b in emu.world.builds(None, t0)} | {"QUEUED", "WORKING"}
    assert seen == produced
    # The default limit keeps active builds first.
    defaults = emulator_settings(emu, tmp_path)
    _check_builds(open_source(defaults, "builds")(), emu.world, clock(), defaults.policy("builds").kept)


# ------------------------------------------------------------------ vertex


def _check_vertex(data, world, now, limit):
    truth = world.vertex_jobs(None, now)[:limit]
    assert [r.job_id for r in data.rows] == [j.job_id for j in truth]
    for row, j in zip(data.rows, truth, strict=True):
        state = j.state(now)
        assert (row.display_name, row.region, row.state) == (j.display_name, j.region, state)
        assert _close(row.created_at, j.created)
        assert _close(row.started_at, j.started if j.started <= now and j.ended > j.started else None)
        assert _close(row.ended_at, j.ended if j.ended <= now else None)
        assert row.note == (j.error if state == "FAILED" else "")
    return {r.state for r in data.rows}


def test_vertex_match_world(emulated, tmp_path):
    emu, clock = emulated
    t0 = clock()
    settings = with_limit(emulator_settings(emu, tmp_path), "vertex", 500)
    fetch = open_source(settings, "vertex")
    seen = _check_vertex(fetch(), emu.world, t0, 500)
    future = min((j for j in emu.world.vertex_jobs(None, t0 + 6 * 3600) if j.created > t0), key=lambda j: j.created)
    for moment in ((future.created + future.pending_at) / 2, (future.pending_at + future.started) / 2):
        clock.set(moment)
        seen |= _check_vertex(fetch(), emu.world, moment, 500)
    assert {"QUEUED", "PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"} <= seen
    # The default top N across all regions (the rows it keeps, shown when zoomed).
    defaults = emulator_settings(emu, tmp_path)
    top = open_source(defaults, "vertex")()
    _check_vertex(top, emu.world, clock(), defaults.policy("vertex").kept)


# ------------------------------------------------------------------- W&B


#: The wandb SDK's alive run states (wandb.sdk.sweeps.run_state.RunState).
ALIVE = ("running", "pending", "preempting")


def _check_runs(data, runs, now, *, completed):
    assert [r.run_id for r in data.rows] == [run.run_id for run in runs]
    for row, run in zip(data.rows, runs, strict=True):
        state = run.state(now)
        assert (row.name, row.state) == (run.display_name, state)
        assert row.created_at == math.floor(run.created)
        assert abs(row.runtime_s - run.runtime(now)) <= EPS
        assert row.url.endswith(f"/demo-team/arr-training/runs/{run.run_id}")
        if completed:
            assert row.note == (f"exit code {run.exitcode}" if run.exitcode is not None else state)
        else:
            assert row.note == ""
    return {r.state for r in data.rows}


def test_wandb_tables_match_world(emulated, tmp_path):
    emu, clock = emulated
    now = clock()
    settings = with_limit(with_limit(emulator_settings(emu, tmp_path), "active", 100), "completed", 100)
    runs = emu.world.wandb_runs(now)
    active = open_source(settings, "active")()
    seen = _check_runs(active, [r for r in runs if r.state(now) in ALIVE][:100], now, completed=False)
    done = open_source(settings, "completed")()
    seen |= _check_runs(done, [r for r in runs if r.state(now) not in ALIVE][:100], now, completed=True)
    assert seen == {r.state(now) for r in runs}
    assert {"running", "finished", "failed", "crashed", "killed", "preempted"} <= seen
    # Default limits: the newest of each it keeps (shown when zoomed).
    defaults = emulator_settings(emu, tmp_path)
    top = open_source(defaults, "completed")()
    kept = defaults.policy("completed").kept
    _check_runs(top, [r for r in runs if r.state(now) not in ALIVE][:kept], now, completed=True)


def test_pending_and_preempting_runs_are_active_and_preempted_ones_completed(emulated, tmp_path):
    """Every state of the wandb SDK's run-state list lands in the table it belongs to."""
    emu, clock = emulated
    t0 = clock()
    future = [r for r in emu.world.wandb_runs(t0 + 12 * 3600) if r.created > t0]
    pending = next(r for r in future if r.pending_until > r.created)
    preempted = next(r for r in future if r.final_state == "preempted")
    settings = with_limit(with_limit(emulator_settings(emu, tmp_path), "active", 100), "completed", 100)
    for run, moment, alive in (
        (pending, (pending.created + pending.pending_until) / 2, "pending"),
        (preempted, preempted.ended - 1.0, "preempting"),
    ):
        clock.set(moment)
        assert run.state(moment) == alive
        active = open_source(settings, "active")()
        assert run.run_id in {row.run_id for row in active.rows if row.state == alive}
    clock.set(preempted.ended + 1.0)
    done = open_source(settings, "completed")()
    row = next(row for row in done.rows if row.run_id == preempted.run_id)
    assert (row.state, row.note) == ("preempted", "preempted")
