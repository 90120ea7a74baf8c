"""The quick benchmark: gross regressions of speed and API budgets, as ratios and counts.

The runner refresh runs the product's way and the old way (every region, then
every log read, in turn) against the same emulated world with its realistic
latencies scaled down five times. Timing on a shared machine is noisy, so only
a ratio with a wide margin is checked (the goal is 8, the test wants 4), and
counts of Cloud Logging calls, which do not depend on timing at all.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import math
import sys
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_bench():
    spec = importlib.util.spec_from_file_location("arr_actors_bench_script", ROOT / "scripts" / "bench.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


bench = load_bench()


@pytest.mark.bench
@pytest.mark.timeout(120)
def test_runner_refresh_beats_the_sequential_design_and_reads_each_log_once(tmp_path):
    plan = dataclasses.replace(bench.Plan.make(quick=True), steady_refreshes=5)
    report = bench.Report()
    before = {p.pid for p in psutil.Process().children(recursive=True)}

    bench.measure_runner_refresh(plan, str(tmp_path), report, bench.Progress(None))

    values = report.values
    refresh = values["runner_refresh"]
    reads = values["logging_reads_per_refresh"]
    assert refresh["newly_terminal_product"][0] >= plan.new_terminal
    assert refresh["log_reads_sequential"] == refresh["newly_terminal_sequential"], "the old way: one read each"
    assert refresh["log_reads_product"] == [1], "the product reads every newly terminal log in one batch"
    assert not refresh["note_disagreements"], "both ways read the same logs, so they must say the same"
    assert reads["steady_refreshes"] >= 1 and reads["steady"] == 0, reads
    assert values["speedup"] >= 4, values
    left = {p.pid for p in psutil.Process().children(recursive=True)} - before
    assert not left, f"processes left behind: {left}"


def test_percentile_never_interpolates_below_the_worst_of_few_samples():
    assert bench.percentile([5.0, 1.0, 3.0], 99) == 5.0
    assert bench.percentile(list(range(1, 101)), 99) == 99
    assert bench.percentile([2.0], 50) == 2.0
    with pytest.raises(ValueError):
        bench.percentile([], 99)


def test_title_line_says_rows_state_and_spinner():
    lines = [
        "▶ W&B Launch agent  10 rows  ⠹ 3 s  updated 2 s ago",
        "  Cloud Builds  3/8 rows  STALE  updated 5 min ago",
        "  Vertex AI jobs  0 rows  TIMED OUT  next try in 2 s",
    ]
    runner = bench.title_view(lines, "W&B Launch agent")
    assert runner == bench.TitleView(rows=10, labels=(), spinner=2) and runner.filled
    builds = bench.title_view(lines, "Cloud Builds")
    assert builds.rows == 8 and builds.labels == ("STALE",) and not builds.filled
    vertex = bench.title_view(lines, "Vertex AI jobs")
    assert vertex.labels == ("TIMED OUT",) and not vertex.filled
    assert bench.title_view(lines, "Active W&B runs") is None


def test_frame_lateness_finds_the_tick_that_drew_the_frame():
    fps, frames = 8.0, 10
    tick = 1_700_000_000 * 8 + 3  # frame 3 of a tick on the 1/8 s grid
    seen = tick / fps + 0.012
    assert math.isclose(bench.frame_lateness(seen, tick % frames, fps=fps, frames=frames), 0.012, abs_tol=1e-6)
    # Seen late, after the next tick already passed: still measured from the tick that drew it.
    late = tick / fps + 0.3
    assert math.isclose(bench.frame_lateness(late, tick % frames, fps=fps, frames=frames), 0.3, abs_tol=1e-6)


def test_goals_mark_pass_and_miss():
    doc = bench.Report(values={"speedup": 9.0, "kill_latency_s": 1.5}).document()
    assert doc["goals"]["speedup"]["met"] is True
    assert doc["goals"]["kill_latency_s"]["met"] is False
    assert doc["goals"]["first_frame_s"]["met"] is None
    table = bench.format_table(doc)
    assert "pass" in table and "MISS" in table
