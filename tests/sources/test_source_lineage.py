"""Lineage on emulator chains: rows fetched over the real wire protocols link up
as the emulated world made them (execution -> job -> W&B run, build -> job), and
what the world did not record stays unknown."""

from __future__ import annotations

import pytest
from source_helpers import emulator_settings, with_limit

from arr_actors import lineage
from arr_actors.sources import open_source
from arr_actors.tables import TABLE_KEYS

pytestmark = pytest.mark.timeout(120)


def _tables(emu, tmp_path, limit: int = 60) -> dict:
    settings = emulator_settings(emu, tmp_path)
    for key in TABLE_KEYS:
        settings = with_limit(settings, key, limit)
    return {key: open_source(settings, key)().rows for key in TABLE_KEYS}


def test_selecting_a_wandb_run_marks_its_vertex_job_and_runner_execution(emulated, tmp_path):
    emu, clock = emulated
    now = clock()
    rows = _tables(emu, tmp_path)
    jobs = {j.job_id: j for j in emu.world.vertex_jobs(None, now)}
    vertex = {r.job_id: r for r in rows["vertex"]}
    runner = {r.execution: r for r in rows["runner"]}
    checked = 0
    for table in ("completed", "active"):
        for run in rows[table]:
            truth = next(j for j in jobs.values() if j.run is not None and j.run.run_id == run.run_id)
            chain = lineage.chain_of(rows, table, run.key)
            assert (table, run.key) in chain.members
            if truth.job_id in vertex:
                assert vertex[truth.job_id].key in chain.keys_in("vertex")
            else:
                assert not chain.keys_in("vertex")
                assert any(f.kind == "Vertex job" and not f.known for f in chain.facts)
            execution = runner.get(truth.execution)
            if truth.job_id in vertex and execution is not None and truth.job_id in execution.job_ids:
                assert execution.key in chain.keys_in("runner")
                checked += 1
            # Nothing is linked that the world did not link.
            for key in chain.keys_in("runner"):
                assert key.endswith("/" + truth.execution)
            for key in chain.keys_in("vertex"):
                assert key.endswith("/" + truth.job_id)
    assert checked >= 1


def test_executions_record_the_jobs_their_logs_name(emulated, tmp_path):
    emu, clock = emulated
    now = clock()
    rows = _tables(emu, tmp_path)
    executions = {e.name: e for e in emu.world.all_executions(now)}
    with_jobs = 0
    for row in rows["runner"]:
        truth = executions[row.execution]
        if row.status in ("RUNNING", "PENDING"):
            assert row.job_ids == ()  # its log is read when it ends
            continue
        logged = [j.job_id for j in truth.jobs if j.created + 0.2 <= now]
        # One read holds at most 1000 entries, newest first: an old execution's
        # log may be cut, so it names fewer jobs, never others or in another order.
        assert list(row.job_ids) == [j for j in logged if j in row.job_ids]
        with_jobs += bool(logged) and list(row.job_ids) == logged
    assert with_jobs >= 1


def test_a_build_links_to_the_jobs_running_its_image_and_a_broken_chain_shows_unknown(emulated, tmp_path):
    emu, clock = emulated
    rows = _tables(emu, tmp_path)
    built = {b.image: b for b in rows["builds"]}
    linked = [j for j in rows["vertex"] if j.image in built]
    assert linked, "the emulator runs jobs on images its builds made"
    job = linked[0]
    chain = lineage.chain_of(rows, "builds", built[job.image].key)
    assert job.key in chain.keys_in("vertex")
    # A job that never ran has no W&B run: that link is unknown, never guessed.
    never_ran = [j for j in rows["vertex"] if not j.run_id]
    assert never_ran, "the emulator has jobs without runs"
    chain = lineage.chain_of(rows, "vertex", never_ran[0].key)
    assert not chain.keys_in("active") and not chain.keys_in("completed")
    assert any(f.kind == "W&B run" and not f.known and "unknown" in f.text for f in chain.facts)
