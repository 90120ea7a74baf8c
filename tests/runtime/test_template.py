"""Fork templates: fetch processes forked with the shared libraries loaded, adopted by the launcher;
a template that hangs or dies while loading is killed and its tables are forked by the launcher."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import psutil
import pytest
from runtime_fake_sources import FACTORY
from runtime_helpers import Recorder, TreeWatch, is_snapshot, make_settings, subreaper, wait_until

from arr_actors import emulator
from arr_actors.messages import Notice, RefreshRequest
from arr_actors.runtime import launcher as launcher_module
from arr_actors.runtime import system, template
from arr_actors.tables import FORK_TEMPLATES

GOOGLE_TABLES = ("runner", "builds", "vertex")
WANDB_TABLES = ("active", "completed")


def events(settings) -> list[dict]:
    path = Path(settings.paths.state_dir) / "events.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def template_processes(launcher_pid: int) -> dict[str, psutil.Process]:
    names = {template.process_name(name) for name in FORK_TEMPLATES}
    found = {}
    for proc in psutil.Process(launcher_pid).children():
        try:
            name = proc.name()
        except psutil.NoSuchProcess:  # a template retiring, a fetch process just killed
            continue
        if name in names:
            found[name] = proc
    return found


def maps_grpc(pid: int) -> bool:
    """Whether gRPC's extension module is loaded in the process (the fake sources never import it)."""
    return "cygrpc" in Path(f"/proc/{pid}/maps").read_text()


def gone_or_zombie(pid: int) -> bool:
    """Whether ``pid`` has exited (it may be reaped between any two looks at it)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def child_of(tree: system.System, table: str) -> int:
    pids = tree.child_pids().get(table, [])
    assert pids, f"no child for {table}"
    return pids[0]


@pytest.mark.timeout(120)
def test_fetch_processes_are_forked_by_their_template_and_are_the_launchers_children(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, deadline=5.0, interval=3600.0)
    rec = Recorder()
    with subreaper():
        watch = TreeWatch()
        tree = system._start(settings, [rec], source_factory=FACTORY, tables=("builds", "vertex", "active"))
        try:
            for table in ("builds", "vertex", "active"):
                rec.wait_for(is_snapshot(table, "ok"), timeout=40)
            launcher = tree.launcher_pid
            assert launcher is not None
            watch.capture(tree)
            for table in ("builds", "vertex", "active"):
                pid = child_of(tree, table)
                assert psutil.Process(pid).ppid() == launcher  # adopted: the launcher kills and reaps it
                assert os.getpgid(pid) == pid
            # The fake sources import no cloud library: gRPC is there because the Google
            # tables' processes were forked from the Google template, and only there.
            assert maps_grpc(child_of(tree, "builds")) and maps_grpc(child_of(tree, "vertex"))
            assert not maps_grpc(child_of(tree, "active"))
            ready = [e for e in events(settings) if e["event"] == "template_ready"]
            assert sorted(e["table"] for e in ready) == ["template:google", "template:wandb"]
            assert not [e for e in events(settings) if e["event"] == "template_failed"]
            # Every table of each template has its process: idle, the templates retire.
            # A template's idle time starts at its last fork: a fetch process restarted
            # meanwhile (a slow fetch on a loaded machine) starts it again, hence the margin.
            retire = launcher_module.RETIRE_IDLE_S + 30
            try:
                wait_until(lambda: not template_processes(launcher), timeout=retire, what="the templates to retire")
            except AssertionError:
                left = {name: proc.pid for name, proc in template_processes(launcher).items()}
                happened = [(e["table"], e["event"], e.get("detail", "")) for e in events(settings)]
                raise AssertionError(f"templates still there: {left}; events: {happened}") from None
            # A new incarnation is forked by a template again, started anew for it.
            old = child_of(tree, "builds")
            os.kill(old, signal.SIGKILL)
            wait_until(lambda: "builds" not in tree.child_pids(), timeout=10, what="the builds child to be reaped")
            tree.tell(RefreshRequest(table="builds"))
            rec.wait_for(is_snapshot("builds", "ok"), timeout=30, after=rec.count())
            assert maps_grpc(child_of(tree, "builds"))
            ready = [e for e in events(settings) if e["event"] == "template_ready"]
            assert sorted(e["table"] for e in ready) == ["template:google", "template:google", "template:wandb"]
            watch.capture(tree)
            wait_until(lambda: not template_processes(launcher), timeout=retire, what="the template to retire again")
        finally:
            tree.stop()
        watch.assert_all_gone(timeout=5.0)  # every process of the tree, templates included


@pytest.mark.timeout(60)
def test_a_template_forked_fetch_killed_at_its_deadline_is_reaped_by_the_launcher(tmp_path: Path) -> None:
    """A fetch hanging while holding the GIL, in a process the template forked: the
    launcher kills its group at the deadline and reaps it; the table says timeout."""
    # The deadline leaves the test time to look at the child before it is killed,
    # also on a loaded machine (its maps are gone once it is).
    settings = make_settings(tmp_path, deadline=3.0, interval=3600.0, faults=(("builds", "hang"),))
    rec = Recorder()
    with subreaper():
        watch = TreeWatch()
        tree = system._start(settings, [rec], source_factory=FACTORY, tables=("builds",))
        try:
            wait_until(lambda: "builds" in tree.child_pids(), timeout=30, what="the builds child")
            hung = child_of(tree, "builds")
            assert maps_grpc(hung)  # forked by the Google template
            watch.capture(tree)
            at, snap = rec.wait_for(is_snapshot("builds", "timeout"), timeout=30)
            wait_until(lambda: gone_or_zombie(hung), timeout=5, what="the hung child to be gone")
            assert psutil.Process(tree.launcher_pid).is_running()  # the launcher lives on
            wait_until(
                lambda: [e for e in events(settings) if e["event"] == "killed" and e["table"] == "builds"],
                timeout=5,
                what="the kill in the event log",
            )
        finally:
            tree.stop()
        watch.assert_all_gone(timeout=5.0)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("fault", ["hang", "exit"])
def test_a_template_that_hangs_or_dies_while_loading_is_given_up_and_its_tables_still_fill(
    tmp_path: Path, fault: str
) -> None:
    deadline = 4.0
    settings = make_settings(tmp_path, deadline=5.0, interval=3600.0, faults=(("template", fault),), values={"supervision.startup_deadline_s": deadline})
    rec = Recorder()
    with subreaper():
        watch = TreeWatch()
        began = time.monotonic()
        tree = system._start(settings, [rec], source_factory=FACTORY, tables=("builds",))
        try:
            _, notice = rec.wait_for(lambda m: isinstance(m, Notice) and "fork template" in m.text, timeout=30)
            assert notice.level == "warning" and "'google'" in notice.text
            assert ("still loading" in notice.text) == (fault == "hang"), notice.text
            at, _ = rec.wait_for(is_snapshot("builds", "ok"), timeout=30)
            if fault == "hang":
                assert at - began >= deadline * 0.9  # it waited for the template, up to its deadline
            launcher = tree.launcher_pid
            assert launcher is not None
            watch.capture(tree)
            wait_until(lambda: not template_processes(launcher), timeout=5, what="the template to be gone")
            assert not maps_grpc(child_of(tree, "builds")), "forked by the launcher itself"
            failed = [e for e in events(settings) if e["event"] == "template_failed"]
            assert len(failed) == 1 and failed[0]["table"] == "template:google", failed
        finally:
            tree.stop()
        watch.assert_all_gone(timeout=5.0)


@pytest.mark.timeout(60)
def test_no_table_waits_for_another_tables_template(tmp_path: Path) -> None:
    """The W&B template hangs while loading: the Google tables fill as soon as their own
    libraries are loaded, long before the W&B tables fall back at the template's deadline."""
    deadline = 6.0
    settings = make_settings(tmp_path, deadline=5.0, interval=3600.0, faults=(("template:wandb", "hang"),), values={"supervision.startup_deadline_s": deadline})
    rec = Recorder()
    began = time.monotonic()
    tree = system._start(settings, [rec], source_factory=FACTORY, tables=("builds", "active"))
    try:
        builds_at, _ = rec.wait_for(is_snapshot("builds", "ok"), timeout=30)
        active_at, _ = rec.wait_for(is_snapshot("active", "ok"), timeout=30)
        _, notice = rec.wait_for(lambda m: isinstance(m, Notice) and "fork template" in m.text, timeout=5)
        assert "'wandb'" in notice.text
    finally:
        tree.stop()
    assert active_at - began >= deadline * 0.9
    assert builds_at - began < deadline * 0.9, "builds waited for the W&B template"
    assert template_events_ok(settings)


def template_events_ok(settings) -> bool:
    kinds = {(e["table"], e["event"]) for e in events(settings)}
    return ("template:google", "template_ready") in kinds and ("template:wandb", "template_failed") in kinds


@pytest.mark.timeout(120)
def test_grpc_works_in_processes_forked_from_the_template(tmp_path: Path) -> None:
    """gRPC is imported before the fork and used only after it ("use after fork"): several
    processes forked from one template make channels and calls at once, again and again."""
    regions = ("us-central1", "europe-west1", "asia-east1")
    with emulator.spawn(project="tpl-project", regions=regions, seed=5) as emu:
        settings = make_settings(tmp_path, deadline=30.0, interval=3600.0, project=emu.project, regions=regions, values={"emulator.address": emu.grpc_address, "emulator.wandb_url": emu.wandb_url, "wandb.entity": emu.wandb_entity, "wandb.project": emu.wandb_project})
        rec = Recorder()
        tree = system._start(settings, [rec], tables=GOOGLE_TABLES)
        try:
            for round_ in range(3):
                mark = rec.count()
                if round_:
                    for table in GOOGLE_TABLES:
                        tree.tell(RefreshRequest(table=table))
                for table in GOOGLE_TABLES:
                    _, snap = rec.wait_for(is_snapshot(table, "ok", "error", "stale"), timeout=60, after=mark)
                    assert snap.state == "ok" and snap.rows, (table, snap.state, snap.error)
            ready = [e for e in events(settings) if e["event"] == "template_ready"]
            assert [e["table"] for e in ready] == ["template:google"]
            assert not [e for e in events(settings) if e["event"] == "template_failed"]
        finally:
            tree.stop()


def test_each_template_holds_only_what_several_tables_share():
    from arr_actors.tables import TABLES

    users = {name: [t.key for t in TABLES if t.template == name] for name in FORK_TEMPLATES}
    assert all(len(keys) >= 2 for keys in users.values()), users
    # A Cloud library only one table uses (run_v2, cloudbuild_v1, aiplatform_v1...)
    # stays in that table's preload list: in a template it would only delay the others.
    own = {module for spec in TABLES for module in spec.preload if module.startswith("google.cloud.")}
    for modules in FORK_TEMPLATES.values():
        assert not [m for m in modules if m.startswith("google.cloud.")], modules
    assert own
