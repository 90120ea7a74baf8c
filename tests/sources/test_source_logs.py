"""Cloud Logging filter building and grouping of real LogEntry messages."""

from __future__ import annotations

import datetime as dt

import pytest

from arr_actors import config
from arr_actors.sources import logs

log_types = pytest.importorskip("google.cloud.logging_v2.types")


def test_filter_single_region():
    settings = config.defaults(project="p", runner_job="vertex-ai-launcher")
    assert logs.build_filter(settings, "us-west2", ["a-1", "b-2"]) == (
        'resource.type="cloud_run_job" AND resource.labels.job_name="vertex-ai-launcher" '
        'AND resource.labels.location="us-west2" AND '
        '(labels."run.googleapis.com/execution_name"="a-1" OR labels."run.googleapis.com/execution_name"="b-2")'
    )


def test_filter_all_regions_with_lower_time_bound_and_quoting():
    settings = config.defaults(project="p", runner_job='job"x')
    since = dt.datetime(2025, 3, 1, 12, 0, 5, tzinfo=dt.timezone.utc).timestamp()
    text = logs.build_filter(settings, None, ["e1"], since=since)
    assert "location" not in text
    assert 'resource.labels.job_name="job\\"x"' in text
    assert text.endswith('AND timestamp>="2025-03-01T12:00:05Z"')
    with pytest.raises(ValueError):
        logs.build_filter(settings, None, [])


def _entry(execution, text, seconds, *, json_message=None):
    entry = log_types.LogEntry(
        timestamp=dt.datetime(2025, 3, 1, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=seconds),
        labels={logs.EXECUTION_LABEL: execution},
    )
    if json_message is not None:
        entry.json_payload = {"message": json_message}
    else:
        entry.text_payload = text
    return entry


def test_group_entries_chronological_per_execution_and_capped():
    newest_first = [
        _entry("a", "a3", 3),
        _entry("b", "b2\nb2-second", 2),
        _entry("other", "x", 2),
        _entry("a", "", 2, json_message="a2 json"),
        _entry("a", "a1", 1),
    ]
    grouped = logs.group_entries(newest_first, ["a", "b", "c"], limit_per_execution=10)
    assert grouped == {"a": ["a1", "a2 json", "a3"], "b": ["b2", "b2-second"], "c": []}
    capped = logs.group_entries(newest_first, ["a"], limit_per_execution=2)
    assert capped == {"a": ["a2 json", "a3"]}


def test_read_without_project_is_a_clear_error(tmp_path):
    settings = config.defaults(project="", values={"paths.state_dir": str(tmp_path)})
    with pytest.raises(logs.SourceError, match="ARR_PROJECT"):
        logs.read_execution_logs(settings, region=None, executions=["e"])
    assert logs.read_execution_logs(settings, region=None, executions=[]) == {}


def test_unusable_limiter_file_is_a_clear_error(tmp_path):
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the state directory should be")
    settings = config.defaults(project="p", values={"paths.state_dir": str(blocked)})
    with pytest.raises(logs.LimiterUnavailable, match="paths.state_dir is writable"):
        logs.read_execution_logs(settings, region=None, executions=["e"], wait_s=0)
