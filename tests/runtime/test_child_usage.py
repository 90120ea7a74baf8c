"""What a fetch process sends besides rows: its calls per service, the logging limiter's view, an action's outcome."""

from __future__ import annotations

from pathlib import Path

import arr_actors.sources.logs  # noqa: F401 - a fetch process that reads Cloud Logging has it loaded
from arr_actors import config, messages
from arr_actors.messages import StartFetch, TableData
from arr_actors.runtime import child
from arr_actors.sources import counting, limiter


def settings_in(tmp_path: Path, **values) -> config.Settings:
    """Settings by dotted names (``"api.logging_reads_per_minute"``), project ``p`` unless given."""
    return config.defaults({"project": "p", "paths.state_dir": str(tmp_path), "paths.cache_dir": str(tmp_path), **values})


def test_calls_are_taken_once_and_the_limiter_says_when_a_deferred_read_may_go(tmp_path: Path) -> None:
    settings = settings_in(tmp_path, **{"api.logging_reads_per_minute": 2})
    counting.take()
    counting.record("run", 3)
    counting.record("logging")
    shared = limiter.for_settings(settings)
    assert shared.try_acquire() and shared.try_acquire()
    usage = child.api_usage(settings, TableData(rows=(), deferred="log read deferred"))
    assert usage["calls"] == (("logging", 1), ("run", 3))
    assert usage["logging_used"] == 2 and usage["throttled_until"] is not None
    assert child.api_usage(settings, TableData(rows=()))["calls"] == ()  # taken: counted once
    assert "throttled_until" not in child.api_usage(settings, TableData(rows=()))  # nothing was held back


def test_an_action_is_carried_out_before_the_fetch_and_its_refusal_sent_with_the_result(tmp_path: Path) -> None:
    settings = settings_in(tmp_path, project="")  # no project: the action is refused before any call
    action = messages.Action("cancel", "vertex", "r/1", "Vertex AI job x (1)", "r", "1")
    error = child.run_action(settings, StartFetch("vertex", 1, 1, action=action))
    assert error.startswith("no Google Cloud project set")
    assert child.run_action(settings, StartFetch("vertex", 1, 2)) == ""
    payload = child.encode_result(
        StartFetch("vertex", 1, 1, action=action), data=None, error="x", limit=10**6, usage={"action_error": error}
    )
    assert messages.from_json(payload).action_error == error
