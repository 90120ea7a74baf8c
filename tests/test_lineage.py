"""Lineage, pure: which rows a row's chain holds, what is unknown and why, and stepping through a chain."""

from __future__ import annotations

from arr_actors import lineage
from arr_actors.rows import BuildRow, RunnerRow, VertexRow, WandbRunRow

IMAGE = "us-docker.pkg.dev/p/arr/arr-trainer:abc1234"


def tables() -> dict:
    return {
        "runner": (
            RunnerRow("launcher-aaaaa", "us-central1", "q", "FAILED", 1, 100.0, job_ids=("111",)),
            RunnerRow("launcher-bbbbb", "us-central1", "q", "FINISHED", 1, 50.0, job_ids=("222", "999")),
            RunnerRow("launcher-ccccc", "us-central1", "q", "RUNNING", None, 40.0),
        ),
        "builds": (BuildRow("b-1", "SUCCESS", IMAGE, "global", 10.0), BuildRow("b-2", "SUCCESS", IMAGE + "x", "global", 5.0)),
        "vertex": (
            VertexRow("111", "gentle-pine-1", "us-central1", "FAILED", 101.0, run_id="run1", image=IMAGE),
            VertexRow("222", "quiet-tide-2", "us-central1", "SUCCEEDED", 51.0, run_id="run2", image=IMAGE),
            VertexRow("333", "wild-orbit-3", "us-central1", "FAILED", 30.0),
        ),
        "active": (),
        "completed": (WandbRunRow("run1", "gentle-pine-1", "failed", 120.0), WandbRunRow("run2", "quiet-tide-2", "finished", 60.0)),
    }


def test_created_job_ids_reads_the_agent_lines_in_order_once_each() -> None:
    lines = [
        "INFO:google.cloud.aiplatform.jobs:CustomJob created. Resource name: projects/1/locations/us-central1/customJobs/42",
        "CustomJob created. Resource name: projects/1/locations/europe-west4/customJobs/7",
        "CustomJob created. Resource name: projects/1/locations/us-central1/customJobs/42",
        "Creating CustomJob",
    ]
    assert lineage.created_job_ids(lines) == ("42", "7")


def test_run_id_from_the_label_then_the_environment() -> None:
    assert lineage.run_id_of({"wandb-run-id": "abc"}, [("WANDB_RUN_ID", "zzz")]) == "abc"
    assert lineage.run_id_of({}, [("OTHER", "x"), ("WANDB_RUN_ID", "zzz")]) == "zzz"
    assert lineage.run_id_of({"team": "x"}) == ""


def test_a_wandb_run_links_to_its_job_execution_and_build_and_nothing_else() -> None:
    chain = lineage.chain_of(tables(), "completed", "run1")
    assert chain.members == (
        ("runner", "us-central1/launcher-aaaaa"),
        ("builds", "b-1"),
        ("vertex", "us-central1/111"),
        ("completed", "run1"),
    )
    assert all(f.known for f in chain.facts)


def test_an_execution_names_jobs_missing_from_the_table() -> None:
    chain = lineage.chain_of(tables(), "runner", "us-central1/launcher-bbbbb")
    assert chain.keys_in("vertex") == {"us-central1/222"} and chain.keys_in("completed") == {"run2"}
    assert lineage.Fact("Vertex job", "999 (not in the Vertex table)") in chain.facts


def test_a_build_links_the_jobs_running_its_image_not_their_siblings() -> None:
    chain = lineage.chain_of(tables(), "builds", "b-1")
    assert chain.keys_in("vertex") == {"us-central1/111", "us-central1/222"}
    assert chain.keys_in("builds") == {"b-1"}
    assert not lineage.chain_of(tables(), "builds", "b-2").keys_in("vertex")


def test_broken_links_are_unknown_never_guessed_from_time() -> None:
    rows = tables()
    # Job 333 was created right after execution ccccc, but nothing records the link.
    chain = lineage.chain_of(rows, "vertex", "us-central1/333")
    assert chain.members == (("vertex", "us-central1/333"),)
    unknown = {f.kind: f.text for f in chain.facts if not f.known}
    assert set(unknown) == {"Execution", "W&B run", "Build"}
    running = lineage.chain_of(rows, "runner", "us-central1/launcher-ccccc")
    assert running.facts == (lineage.Fact("Vertex job", "unknown until its log is read (when it ends)", False),)
    assert lineage.chain_of(rows, "runner", "nowhere").members == ()


def test_step_cycles_through_the_chain_both_ways() -> None:
    chain = lineage.chain_of(tables(), "completed", "run1")
    here = ("completed", "run1")
    forward = []
    for _ in range(4):
        here = lineage.step(chain, here)
        forward.append(here)
    assert forward == [*chain.members[:3], ("completed", "run1")]
    assert lineage.step(chain, ("completed", "run1"), forward=False) == ("vertex", "us-central1/111")
    assert lineage.step(lineage.chain_of(tables(), "vertex", "us-central1/333"), ("vertex", "us-central1/333")) is None
