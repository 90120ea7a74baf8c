"""``--once``: one round, first outcome per table, a JSON document, nothing left running."""

from __future__ import annotations

import datetime
import json
import time
from pathlib import Path

import pytest
from runtime_fake_sources import FACTORY, GO_FILE, SLOW_LOAD_S
from runtime_helpers import descendants, make_settings

from arr_actors.runtime.once import ROUND_SLACK_S, round_timeout, run_once
from arr_actors.tables import TABLE_KEYS


@pytest.mark.timeout(60)
def test_one_round_reports_every_table_and_leaves_no_process(tmp_path: Path) -> None:
    deadline = 2.0
    settings = make_settings(
        tmp_path, deadline=deadline, faults=(("builds", "hang"), ("vertex", "segv"), ("active", "grandchild"))
    )
    before = descendants()
    started = time.monotonic()
    doc = run_once(settings, source_factory=FACTORY)
    took = time.monotonic() - started
    assert descendants() == before
    assert took < deadline + 3.0
    json.dumps(doc)  # plain JSON all the way down
    assert doc["schema"] == 1
    assert datetime.datetime.fromisoformat(doc["generated_at"]).tzinfo is not None
    tables = doc["tables"]
    assert list(tables) == list(TABLE_KEYS)
    assert tables["builds"]["state"] == "timeout"
    assert tables["builds"]["error"] == "timed out after 2 s (deadline); fetch killed"
    assert tables["active"]["state"] == "timeout"
    assert tables["vertex"]["state"] == "error" and tables["vertex"]["error"] == "fetch process died (SIGSEGV)"
    for key in ("runner", "completed"):
        entry = tables[key]
        assert entry["state"] == "ok" and entry["error"] == ""
        assert len(entry["rows"]) == 1 and "type" not in entry["rows"][0]
        assert entry["fetched_at"] and entry["duration_s"] < deadline
    for entry in tables.values():
        assert entry["attempts"] == 1 and entry["restarts"] == 0
        assert set(entry) == {"state", "rows", "error", "fetched_at", "duration_s", "attempts", "restarts"}


@pytest.mark.timeout(60)
def test_all_ok_when_nothing_is_wrong(tmp_path: Path) -> None:
    doc = run_once(make_settings(tmp_path), source_factory=FACTORY)
    assert {entry["state"] for entry in doc["tables"].values()} == {"ok"}


@pytest.mark.timeout(60)
def test_sources_slower_to_load_than_the_deadline_still_answer_in_one_round(tmp_path: Path) -> None:
    """Five new children loading their sources at once take longer than the deadline; no table times out."""
    deadline = 0.8
    assert SLOW_LOAD_S > deadline
    settings = make_settings(tmp_path, deadline=deadline, faults=(("builds", "hang"),))
    doc = run_once(settings, source_factory="runtime_fake_sources:open_slow_loading_source")
    tables = doc["tables"]
    assert tables["builds"]["state"] == "timeout"
    assert tables["builds"]["error"] == "timed out after 0.8 s (deadline); fetch killed"
    for key in TABLE_KEYS:
        if key != "builds":
            assert tables[key]["state"] == "ok", (key, tables[key]["error"])
            assert tables[key]["duration_s"] < deadline


def test_the_round_allows_for_start_up_deadline_and_kill(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, deadline=2.0, values={"supervision.startup_deadline_s": 7.0, "supervision.kill_grace_s": 0.5})
    assert round_timeout(settings) == 7.0 + 2.0 + 0.5 + ROUND_SLACK_S


@pytest.mark.timeout(60)
def test_rows_shown_mid_fetch_are_not_taken_for_the_tables_outcome(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, deadline=20.0)
    (tmp_path / "state").mkdir(parents=True, exist_ok=True)
    (tmp_path / "state" / GO_FILE).touch()  # each fetch reports a partial row, then finishes at once
    doc = run_once(settings, source_factory="runtime_fake_sources:open_progress_source")
    for key in TABLE_KEYS:
        assert [row["build_id"] for row in doc["tables"][key]["rows"]] == ["final"], key
