"""Cloud Logging as documented, not as kind: empty pages with a token, chatty executions, bounded searches.

The emulator's world gives the truth; :class:`partial_pages.PartialPages` puts
in front of it what ``ListLogEntriesResponse`` allows: an empty page with a
``next_page_token`` when the search "did not have time to search all the
possible log entries".
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import datetime

import pytest
from partial_pages import PartialPages
from source_helpers import emulator_settings

from arr_actors.diagnostics.extract import diagnose
from arr_actors.sources import logs, open_source, runner, runner_memory

pytest.importorskip("google.cloud.logging_v2")
pytestmark = pytest.mark.timeout(120)

TERMINAL = ("FINISHED", "FAILED", "CANCELLED")


def _truth_lines(execution, now) -> list[str]:
    return [part for line in execution.visible_lines(now) for part in line.text.rstrip("\n").split("\n")]


def _terminal_shown(emu, now, limit=10):
    newest = sorted(emu.world.all_executions(now), key=lambda e: (e.created, e.name), reverse=True)[:limit]
    return [e for e in newest if e.status(now) in TERMINAL]


def _check_diagnosed(rows, executions, now):
    by_name = {row.execution: row for row in rows}
    for e in executions:
        row = by_name[e.name]
        truth = diagnose(_truth_lines(e, now), status=e.status(now))
        assert row.note == runner.terminal_note(e.status(now), truth), e.name
        assert (row.pattern, row.category, row.runs) == (truth.pattern or "", truth.category, truth.runs)


def test_runner_table_reads_past_empty_pages(emulated, tmp_path):
    emu, clock = emulated
    emu.control.set_log_gaps(0.0)  # the front below decides the empty pages, exactly
    now = clock()
    terminal = _terminal_shown(emu, now)
    assert terminal, "the default world shows finished executions"
    with PartialPages(emu.grpc_address, empty_pages=2) as front:
        settings = emulator_settings(emu, tmp_path, values={"emulator.address": front.address})
        data = open_source(settings, "runner")()
    _check_diagnosed(data.rows, terminal, now)
    assert data.log_reads == 3 and data.warning == ""
    assert all(row.note != runner.INCOMPLETE_NOTE for row in data.rows)


def test_an_unfinished_search_is_not_remembered_and_is_read_again(emulated, tmp_path):
    emu, clock = emulated
    emu.control.set_log_gaps(0.0)  # the front below decides the empty pages, exactly
    now = clock()
    terminal = _terminal_shown(emu, now)
    with PartialPages(emu.grpc_address, empty_pages=logs.MAX_PAGES) as front:
        settings = emulator_settings(emu, tmp_path, values={"emulator.address": front.address})
        fetch = open_source(settings, "runner")
        first = fetch()
        assert first.log_reads == logs.MAX_PAGES
        by_name = {row.execution: row for row in first.rows}
        assert all(by_name[e.name].note == runner.INCOMPLETE_NOTE for e in terminal)
        with runner_memory.open_memory(settings) as memory:
            assert memory.get_many(e.name for e in terminal) == {}
        front.empty_pages = 0  # the service finishes its search this time
        second = fetch()
    _check_diagnosed(second.rows, terminal, now)
    with runner_memory.open_memory(settings) as memory:
        assert set(memory.get_many(e.name for e in terminal)) == {e.name for e in terminal}


def test_a_chatty_execution_does_not_starve_the_others(emulated, tmp_path):
    """The newest entries of all executions together, one shared page, would serve only some of them."""
    emu, clock = emulated
    emu.control.set_log_gaps(0.0)  # empty pages are the other tests' subject; here every page has entries
    now = clock()
    terminal = _terminal_shown(emu, now)
    limit = 3
    entries = sorted(
        ((line.at, e.name) for e in terminal for line in e.visible_lines(now)), reverse=True
    )[: limit * len(terminal)]
    assert {name for _, name in entries} != {e.name for e in terminal}, "the world must make one page starve someone"
    settings = emulator_settings(emu, tmp_path)
    found = logs.read_execution_logs(
        settings, region=None, executions=[e.name for e in terminal], limit_per_execution=limit, wait_s=0
    )
    for e in terminal:
        assert found[e.name] == _truth_lines(e, now)[-limit:], e.name


def _stamps(text: str, op: str) -> list[float]:
    return [
        datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        for value in re.findall(rf'timestamp{op}"([^"]+)"', text)
    ]


def test_diagnose_execution_reads_past_empty_pages_within_the_execution_s_time(emulated, tmp_path):
    emu, clock = emulated
    emu.control.set_log_gaps(0.0)  # the front below decides the empty pages, exactly
    now = clock()
    failed = next(e for e in _terminal_shown(emu, now, limit=30) if e.status(now) == "FAILED")
    with PartialPages(emu.grpc_address, empty_pages=2) as front:
        env = {
            **os.environ,
            "ARR_PROJECT": emu.options.project,
            "ARR_EMULATOR_ADDRESS": front.address,
            "ARR_REGIONS": ",".join(emu.world.regions),
            "ARR_PATHS_STATE_DIR": str(tmp_path / "state"),
        }
        proc = subprocess.run(
            [sys.executable, "-m", "arr_actors", "diagnose", "--execution", failed.name, "--region", failed.region,
             "--json"],
            capture_output=True, text=True, env=env, timeout=90,
        )
        filters = list(front.filters)
    assert proc.returncode == 1, proc.stderr
    truth = diagnose(_truth_lines(failed, now), status="FAILED")
    doc = json.loads(proc.stdout)
    assert (doc["pattern"], doc["summary"]) == (truth.pattern, truth.summary)
    assert len(filters) == 3
    for text in filters:
        (since,), (until,) = _stamps(text, ">="), _stamps(text, "<=")
        assert failed.created - 3600 <= since <= failed.created
        assert failed.ended <= until <= failed.ended + 3600


def test_the_emulator_s_own_empty_pages_are_read_past(emulated, tmp_path):
    """The strict emulator answers some pages empty with a token (on by default): the table still finds every error."""
    emu, clock = emulated
    emu.control.set_log_gaps(0.99)
    now = clock()
    terminal = _terminal_shown(emu, now)
    settings = emulator_settings(emu, tmp_path)
    data = open_source(settings, "runner")()
    assert data.log_reads == emu.control.stats().get("ListLogEntries", 0) > 1
    by_name = {row.execution: row for row in data.rows}
    complete = [e for e in terminal if by_name[e.name].note != runner.INCOMPLETE_NOTE]
    assert complete, "a few empty pages leave the page cap room to finish"
    _check_diagnosed(data.rows, complete, now)
    with runner_memory.open_memory(settings) as memory:
        remembered = set(memory.get_many(e.name for e in terminal))
    assert remembered <= {e.name for e in complete}
