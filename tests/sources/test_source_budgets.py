"""API budgets of the runner table, counted at the emulator.

Parallel region fan-out, one batched log read per refresh, terminal results
remembered on disk (also across a restart), and the project-wide limiter
deferring reads instead of dropping them.
"""

from __future__ import annotations

import json
import multiprocessing
import time

import pytest
from source_helpers import emulator_settings, with_limit

from arr_actors import messages
from arr_actors.emulator import latency
from arr_actors.sources import limiter as limiter_mod
from arr_actors.sources import open_source, runner
from arr_actors.sources.common import SourceContext

TERMINAL = ("FINISHED", "FAILED", "CANCELLED")


@pytest.fixture(autouse=True)
def _no_log_gaps(emulated):
    """These tests count calls; Cloud Logging's documented empty pages are tested in test_source_log_pages."""
    emulated[0].control.set_log_gaps(0.0)


def _log_reads(emu) -> int:
    return emu.control.stats().get("ListLogEntries", 0)


@pytest.mark.timeout(90)
def test_refresh_takes_about_two_calls_not_the_sum(emulated, tmp_path, record_property):
    """18 regions + 5 newly terminal executions under the `realistic` latency profile."""
    emu, clock = emulated
    now = clock()
    newest = sorted(emu.world.all_executions(now), key=lambda e: (e.created, e.name), reverse=True)
    terminal_seen = 0
    limit = 0
    for index, e in enumerate(newest, start=1):
        terminal_seen += e.status(now) in TERMINAL
        if terminal_seen == 5:
            limit = index
            break
    assert terminal_seen == 5
    settings = with_limit(emulator_settings(emu, tmp_path, values={"api.call_timeout_s": 10.0}), "runner", limit)
    assert len(settings.regions) == 18
    ctx = SourceContext(settings)
    # Build the clients first: this measures the refresh, not library imports.
    ctx.clients.executions()
    ctx.clients.logging()
    ctx.memory()
    emu.control.set_latency("realistic")
    emu.control.stats(reset=True)
    started = time.monotonic()
    data = runner.fetch(settings, ctx)
    elapsed = time.monotonic() - started
    ctx.close()
    stats = emu.control.stats()
    assert stats == {"ListExecutions": 18, "ListLogEntries": 1}
    assert data.log_reads == 1 and sum(r.status in TERMINAL for r in data.rows) == 5
    assert all(r.note and r.note != "log not read (see table status)" for r in data.rows)
    lists = [latency.delay("realistic", "ListExecutions", seed=1, call_index=i) for i in range(18)]
    log = latency.delay("realistic", "ListLogEntries", seed=1, call_index=0)
    sequential = sum(lists) + log
    critical = max(lists) + log
    record_property("runner_refresh_s", round(elapsed, 2))
    record_property("critical_path_s", round(critical, 2))
    record_property("sequential_sum_s", round(sequential, 2))
    print(f"runner refresh {elapsed:.2f} s; critical path {critical:.2f} s; sequential sum {sequential:.2f} s")
    assert elapsed >= critical - 0.05  # the emulator really delayed the calls
    assert elapsed < 0.5 * sequential


def _fetch_in_new_process(settings, out) -> None:
    from arr_actors import messages
    from arr_actors.sources import open_source

    out.put(messages.to_json(open_source(settings, "runner")()))


@pytest.mark.timeout(90)
def test_nothing_new_means_no_log_reads_even_after_restart(emulated, tmp_path):
    emu, clock = emulated
    settings = emulator_settings(emu, tmp_path)
    fetch = open_source(settings, "runner")
    first = fetch()
    assert first.log_reads == 1 and _log_reads(emu) == 1
    for _ in range(20):
        again = fetch()
        assert again.log_reads == 0
        assert again.rows == first.rows
    assert _log_reads(emu) == 1

    # A restart: a new process, a new open_source, the same cache directory.
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    child = ctx.Process(target=_fetch_in_new_process, args=(settings, out))
    child.start()
    restarted = messages.from_json(out.get(timeout=60))
    child.join(timeout=10)
    assert child.exitcode == 0
    assert restarted.log_reads == 0 and restarted.rows == first.rows
    assert _log_reads(emu) == 1

    # Time moves on until a running execution has ended: one more read, then none again.
    running = {r.execution for r in first.rows if r.status == "RUNNING"}
    ending = min((e for e in emu.world.all_executions(clock()) if e.name in running), key=lambda e: e.ended)
    clock.set(ending.ended + 1)
    in_region = emu.world.executions(ending.region, clock())
    regional = with_limit(
        emulator_settings(emu, tmp_path, regions=(ending.region,)), "runner", in_region.index(ending) + 1
    )
    fetch_regional = open_source(regional, "runner")
    later = fetch_regional()
    assert later.log_reads == 1 and _log_reads(emu) == 2
    row = next(r for r in later.rows if r.execution == ending.name)
    assert row.status == ending.outcome
    assert row.note not in (runner.RUNNING_NOTE, "", "log not read (see table status)")
    assert fetch_regional().log_reads == 0 and _log_reads(emu) == 2
    # All regions at the new time: whatever else ended is read in one call, then never again.
    catch_up = fetch()
    assert catch_up.log_reads <= 1 and _log_reads(emu) == 2 + catch_up.log_reads
    assert fetch().log_reads == 0 and _log_reads(emu) == 2 + catch_up.log_reads


@pytest.mark.timeout(60)
def test_limiter_defers_reads_and_the_table_says_so(emulated, tmp_path):
    emu, _clock = emulated
    settings = emulator_settings(emu, tmp_path, values={"api.logging_reads_per_minute": 2})
    shared = limiter_mod.for_settings(settings)
    # Someone else (the detail view, `launch`) used this minute's budget.
    assert shared.try_acquire() and shared.try_acquire()
    fetch = open_source(settings, "runner")
    for _ in range(2):
        data = fetch()
        assert data.log_reads == 0 and _log_reads(emu) == 0
        assert "deferred to the next refresh" in data.deferred and "2 reads per minute" in data.deferred
        terminal = [r for r in data.rows if r.status in TERMINAL]
        assert terminal and all(r.note == "log read deferred (Cloud Logging limit)" for r in terminal)
    # The minute passes (the limiter file holds call times; age them).
    shared.path.write_text(json.dumps([time.time() - 61, time.time() - 61]))
    data = fetch()
    assert data.log_reads == 1 and data.deferred == "" and _log_reads(emu) == 1
    assert shared.used() == 1


@pytest.mark.timeout(60)
def test_failed_log_read_keeps_rows_and_retries_next_refresh(emulated, tmp_path):
    emu, _clock = emulated
    settings = emulator_settings(emu, tmp_path)
    fetch = open_source(settings, "runner")
    emu.control.set_faults({"logging": "error:UNAVAILABLE"})
    broken = fetch()
    assert broken.rows and broken.log_reads == 1
    assert broken.warning.startswith("logs not read: Cloud Logging is unavailable")
    assert all(r.note == "log not read (see table status)" for r in broken.rows if r.status in TERMINAL)
    emu.control.set_faults({})
    fixed = fetch()
    assert fixed.warning == "" and fixed.log_reads == 1
    assert fetch().log_reads == 0
    assert _log_reads(emu) == 2
