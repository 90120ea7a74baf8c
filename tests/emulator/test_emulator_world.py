"""The simulated world, queried directly with a hand-driven clock (no processes, no sleeping)."""

from __future__ import annotations

from collections import Counter

import pytest

from arr_actors.diagnostics import formats
from arr_actors.emulator.world import IDLE_LIMIT_S, SCENARIOS, World, check_scenario

T0 = 1_763_450_000.0
FOUR = ("us-central1", "us-west2", "europe-west4", "asia-northeast1")


def world(*, seed: int = 1, regions: tuple[str, ...] = FOUR, speed: float = 1.0) -> World:
    return World(project="demo-project", regions=regions, seed=seed, speed=speed, t0=T0)


def snapshot(w: World, now: float) -> list[tuple[str, str, str]]:
    return sorted((e.region, e.name, e.status(now)) for e in w.all_executions(now))


def test_same_seed_same_world_other_seed_other_world() -> None:
    assert snapshot(world(seed=5), T0 + 3600) == snapshot(world(seed=5), T0 + 3600)
    assert snapshot(world(seed=5), T0) != snapshot(world(seed=6), T0)


def test_the_future_does_not_depend_on_when_it_was_looked_at() -> None:
    often, once = world(seed=2, speed=20), world(seed=2, speed=20)
    for step in range(1, 40):
        often.executions("us-west2", T0 + step * 30)
        often.builds(None, T0 + step * 30)
    end = T0 + 1200
    assert snapshot(often, end) == snapshot(once, end)
    assert [b.build_id for b in often.builds(None, end)] == [b.build_id for b in once.builds(None, end)]


@pytest.mark.parametrize("seed", range(1, 9))
@pytest.mark.parametrize("regions", [FOUR, ("us-central1",), ("us-central1", "europe-west4")])
def test_the_world_looks_alive_at_start(seed: int, regions: tuple[str, ...]) -> None:
    w = world(seed=seed, regions=regions)
    executions = w.all_executions(T0)
    statuses = Counter(e.status(T0) for e in executions)
    failed_regions = {e.region for e in executions if e.status(T0) == "FAILED"}
    assert statuses["FAILED"] >= 4 and statuses["RUNNING"] >= 1 and statuses["FINISHED"] >= 1
    assert len(failed_regions) >= min(3, len(regions))
    assert len({e.failure for e in executions if e.failure}) >= 3
    jobs = Counter(j.state(T0) for j in w.vertex_jobs(None, T0))
    assert jobs["RUNNING"] >= 1 and jobs["SUCCEEDED"] + jobs["FAILED"] + jobs["CANCELLED"] >= 1
    runs = Counter(r.state(T0) for r in w.wandb_runs(T0))
    assert runs["running"] >= 1 and sum(runs.values()) > runs["running"]
    builds = Counter(b.status(T0) for b in w.builds(None, T0))
    assert builds["WORKING"] >= 1 and builds["SUCCESS"] >= 1 and builds["FAILURE"] >= 1


def test_every_entity_moves_forward_through_its_states() -> None:
    w = world(seed=4, speed=30)
    order = {"PENDING": 0, "RUNNING": 1, "FINISHED": 2, "FAILED": 2, "CANCELLED": 2}
    times = [T0 + k * 20 for k in range(120)]
    last: dict[str, int] = {}
    for now in times:
        for e in w.all_executions(now):
            assert e.created <= e.started <= e.ended
            rank = order[e.status(now)]
            assert rank >= last.get(e.name, 0)
            last[e.name] = rank
    job_order = {"QUEUED": 0, "PENDING": 1, "RUNNING": 2, "SUCCEEDED": 3, "FAILED": 3, "CANCELLED": 3}
    for job in w.vertex_jobs(None, times[-1]):
        ranks = [job_order[job.state(t)] for t in times if job.created <= t]
        assert ranks == sorted(ranks)


def test_the_world_keeps_living_faster_with_speed() -> None:
    w = world(seed=3, speed=60)
    at_start = {e.name for e in w.all_executions(T0)}
    later = T0 + 300  # five real minutes = five world hours
    new = [e for e in w.all_executions(later) if e.name not in at_start]
    assert len(new) >= len(FOUR)
    assert any(e.status(later) in ("FAILED", "FINISHED") for e in new)
    running_at_start = [e for e in w.all_executions(T0) if e.status(T0) == "RUNNING"]
    assert all(e.status(T0 + IDLE_LIMIT_S) != "RUNNING" for e in running_at_start)
    new_runs = [r for r in w.wandb_runs(later) if r.created > T0]
    assert new_runs and any(r.state(later) != "running" for r in new_runs)


def test_logs_follow_the_wrapper_contract() -> None:
    w = world(seed=1)
    end = T0 + 10 * 3600
    for e in w.all_executions(end):
        texts = [line.text for line in e.lines]
        times = [line.at for line in e.lines]
        assert times == sorted(times) and e.started <= times[0] and times[-1] <= e.ended + 1e-6
        assert texts[0] == formats.STARTUP_RUNS.format(runs=0)
        submitted = [t for t in texts if formats.JOB_SUBMITTED.split(" (")[0] in t]
        assert len(submitted) == len([j for j in e.jobs if j.created < e.ended])
        for job in e.jobs:
            assert any(job.job_id in t and "CustomJob created. Resource name: projects/" in t for t in texts)
        assert formats.FINAL_STATS in texts
        final_runs = texts[texts.index(formats.FINAL_STATS) + 1]
        assert final_runs == formats.FINAL_RUNS.format(runs=len(submitted))
        fatal = [t for t in texts if t.startswith("FATAL ERROR DETECTED: ")]
        if e.outcome == "FAILED":
            assert len(fatal) == 1
            i = texts.index(fatal[0])
            assert texts[i + 1] == formats.CONTEXT_BEGIN and formats.KILLING_AGENT in texts[i:]
        else:
            assert not fatal


def test_visible_logs_grow_with_time() -> None:
    w = world(seed=1)
    running = next(e for e in w.all_executions(T0) if e.status(T0) == "RUNNING")
    now_count = len(list(running.visible_lines(T0)))
    assert 0 < now_count < len(running.lines)
    assert len(list(running.visible_lines(running.ended))) == len(running.lines)


def test_launch_ok_submits_a_vertex_job_within_seconds() -> None:
    w = world(seed=1, speed=10)
    e = w.launch(region="us-west2", env=[("LAUNCH_QUEUE", "gpu-queue")], scenario="launch-ok", now=T0 + 5)
    assert e.queue == "gpu-queue" and ("LAUNCH_QUEUE", "gpu-queue") in e.env and e.launched
    assert e.status(T0 + 5) == "PENDING" and e.status(T0 + 8) == "RUNNING"
    jobs = [j for j in w.vertex_jobs("us-west2", T0 + 15) if j.execution == e.name]
    assert len(jobs) == 1 and jobs[0].created <= T0 + 15
    assert [jobs[0].state(T0 + t) for t in (10, 13, 40)] == ["QUEUED", "PENDING", "RUNNING"]
    assert any("Job submitted to Vertex AI! (Runs: 1)" == line.text for line in e.visible_lines(T0 + 15))
    assert e.status(e.ended) == "FINISHED"


def test_launch_runner_fails_with_a_gpu_quota_error() -> None:
    w = world(seed=1)
    e = w.launch(region="us-west2", env=[], scenario="launch-runner-fails", now=T0)
    assert e.queue == "vertex-ai-queue" and e.status(T0 + 15) == "FAILED"
    texts = [line.text for line in e.visible_lines(T0 + 15)]
    quota = [t for t in texts if "ResourceExhausted: 429 Quota exceeded" in t]
    assert quota and "custom_model_training_nvidia_l4_gpus" in quota[0] and "us-west2" in quota[0]
    assert any(t.startswith("FATAL ERROR DETECTED: ") for t in texts) and not e.jobs


def test_launch_no_job_runs_without_submitting() -> None:
    w = world(seed=1, speed=10)
    e = w.launch(region="europe-west4", env=[], scenario="launch-no-job", now=T0)
    assert e.status(T0 + 60) == "RUNNING" and not e.jobs
    texts = [line.text for line in e.lines]
    assert not any("CustomJob created" in t for t in texts)
    assert formats.FINAL_RUNS.format(runs=0) in texts and e.status(e.ended) == "FINISHED"


def test_scenarios_are_checked() -> None:
    assert set(SCENARIOS) >= {"default", "launch-ok", "launch-runner-fails", "launch-no-job"}
    with pytest.raises(ValueError, match="unknown scenario 'fast'"):
        check_scenario("fast")
