"""Untrusted input: extraction never raises, output is inert, time and memory stay bounded."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arr_actors.diagnostics import formats
from arr_actors.diagnostics.extract import SUMMARY_LIMIT, Diagnosis, diagnose
from arr_actors.diagnostics.text import LINE_LIMIT, clean_line

# Lines that look like the real thing, so generated logs exercise the matching paths too.
REAL = [
    formats.STARTUP_RUNS.format(runs=0),
    formats.FATAL_DETECTED.format(line="x"),
    formats.KILLING_AGENT,
    "[08:17:45] Runner alive: 1204s lifetime, 360s idle, Runs: 2",
    "google.api_core.exceptions.PermissionDenied: 403 Permission 'x' denied",
    "QuotaExceeded: Quota 'NVIDIA_L4_GPUS' exceeded. Limit: 0.0 in region us-west2.",
    "wandb: ERROR \x1b[31mboom\x1b[0m",
    "Traceback (most recent call last):",
    "ValueError: " + "v" * 3000,
    formats.IDLE_TIMEOUT.format(idle=5, limit=5),
    *formats.final_stats(runs=1, lifetime_s=10, idle_s=5),
]
ITEMS = st.one_of(
    st.text(),
    st.binary(),
    st.sampled_from(REAL),
    st.builds(lambda a, b: a + b, st.sampled_from(REAL), st.text()),
    st.none(),
)
STATUSES = st.one_of(st.none(), st.sampled_from(["FAILED", "SUCCEEDED", "RUNNING", "CANCELLED", "", "??"]), st.text())


def inert(text: str) -> bool:
    return all(ch == " " or ch.isprintable() for ch in text) and "\x1b" not in text


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(ITEMS, max_size=60), status=STATUSES)
def test_diagnose_never_raises_and_its_output_is_inert(lines, status):
    d = diagnose(lines, status=status)
    assert isinstance(d, Diagnosis)
    assert d.outcome in ("failed", "finished", "running", "unknown")
    assert len(d.summary) <= SUMMARY_LIMIT and "\n" not in d.summary
    assert inert(d.summary) and all(inert(line) for line in d.context)
    assert all(len(line) <= LINE_LIMIT for line in d.context)
    assert len(d.context) <= 20 + 1 + 80 + 100
    assert d.runs is None or 0 <= d.runs < 10**9


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_clean_line_removes_every_escape_and_control_character(text):
    cleaned = clean_line(text)
    assert inert(cleaned) or not cleaned
    assert len(cleaned) <= LINE_LIMIT
    assert clean_line(cleaned) == cleaned


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["\x1b[", "\x1b]", "\x07", "\x9b", "\x1b\\", "31m", "ok", "\r", "\t", "\u202e"])))
def test_escape_fragments_in_any_order_leave_nothing_behind(parts):
    cleaned = clean_line("".join(parts))
    assert inert(cleaned)


def test_known_escape_sequences_are_removed_and_text_kept():
    assert clean_line("\x1b[1;31mred\x1b[0m and \x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\") == "red and link"
    assert clean_line("progress 10%\rprogress 100%") == "progress 100%"
    assert clean_line("tab\there") == "tab    here"
    assert clean_line("x" * 100_000).endswith("\u2026")


def synthetic_log(count: int) -> Iterator[str]:
    """A noisy runner log: pip output, agent polling, status lines, one real error in the middle."""
    noise = (
        formats.AGENT_POLLING.format(queue="vertex-ai-queue", running=0, max_jobs=1),
        "Collecting torch==2.3.0 (from -r requirements.txt (line 1))",
        "  Downloading torch-2.3.0-cp311-cp311-manylinux1_x86_64.whl (779.1 MB)",
        "2025-11-18 08:17:45,123 INFO worker.py:1234 -- Connecting to existing cluster at 10.0.0.2:6379",
        "Epoch 3/10: loss=0.2345 accuracy=0.9123 lr=0.0003",
        "[08:17:45] Runner alive: 1204s lifetime, 360s idle, Runs: 2",
        '  File "/usr/lib/python3.11/site-packages/wandb/sdk/launch/agent/agent.py", line 612, in loop',
        "Successfully installed numpy-1.26.4 pandas-2.2.2 requests-2.32.3",
    )
    middle = count // 2
    for i in range(count):
        if i == middle:
            yield "QuotaExceeded: Quota 'NVIDIA_L4_GPUS' exceeded. Limit: 0.0 in region us-west2."
        else:
            yield noise[i % len(noise)]


@pytest.mark.timeout(120)
def test_one_million_lines_in_bounded_time():
    started = time.perf_counter()
    d = diagnose(synthetic_log(1_000_000))
    elapsed = time.perf_counter() - started
    print(f"diagnose: 1,000,000 lines in {elapsed:.2f} s")
    assert d.summary == "Quota exceeded: NVIDIA_L4_GPUS in us-west2" and d.runs == 2
    # The target is < 5 s on an idle machine; the bound is generous because test
    # machines are shared. A quadratic slip would take minutes, not seconds.
    assert elapsed < 20


@pytest.mark.timeout(120)
def test_memory_stays_bounded_by_the_windows_not_the_log():
    tracemalloc.start()
    try:
        diagnose(synthetic_log(2_000))
        _, small = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        diagnose(synthetic_log(200_000))
        _, large = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert large < 4 * 1024 * 1024
    assert large < small * 4 + 1024 * 1024  # 100x the lines, about the same memory


def test_huge_lines_cost_bounded_work():
    huge = "Error " * 2_000_000  # 12 MB on one line, full of needles
    started = time.perf_counter()
    d = diagnose([huge, huge.encode(), "x\n" * 200_000])
    assert time.perf_counter() - started < 10
    assert len(d.summary) <= SUMMARY_LIMIT
