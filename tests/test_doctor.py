"""``python -m arr_actors doctor`` on every branch, against the emulator's faults (real wire protocols)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from arr_actors import config, emulator

pytestmark = pytest.mark.timeout(120)

REGIONS = ("us-central1", "europe-west4")
PROJECT = "doctor-project"


@pytest.fixture(scope="module")
def emu() -> Iterator[emulator.EmulatorProcess]:
    with emulator.spawn(project=PROJECT, regions=REGIONS) as process:
        yield process


@pytest.fixture
def fresh(emu) -> Iterator[emulator.EmulatorProcess]:
    emu.set_faults({})
    emu.set_denied_permissions([])
    yield emu
    emu.set_faults({})
    emu.set_denied_permissions([])


def environment(emu, tmp_path, **changes: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARR_")}
    env.update(
        ARR_PROJECT=PROJECT,
        ARR_REGIONS=",".join(REGIONS),
        ARR_EMULATOR_ADDRESS=emu.grpc_address,
        ARR_EMULATOR_WANDB_URL=emu.wandb_url,
        ARR_WANDB_ENTITY=emu.wandb_entity,
        ARR_WANDB_PROJECT=emu.wandb_project,
        ARR_API_CALL_TIMEOUT_S="3",
        ARR_PATHS_STATE_DIR=str(tmp_path / "state"),
    )
    env.update(changes)
    return {k: v for k, v in env.items() if v != ""}


def doctor(env: dict[str, str], *args: str, cwd: str | None = None) -> tuple[int, dict[str, str], str]:
    """(exit code, the line of each check by name, the whole output)."""
    proc = subprocess.run(
        [sys.executable, "-m", "arr_actors", "doctor", *args],
        capture_output=True, text=True, env=env, timeout=110, cwd=cwd,
    )
    lines: dict[str, str] = {}
    current = ""
    for line in proc.stdout.splitlines():
        if line[:4] in ("PASS", "FAIL", "SKIP"):
            current = line[6:24].strip()
            lines[current] = line
        elif line.startswith("      fix: ") and current:
            lines[current] += "\n" + line
    return proc.returncode, lines, proc.stdout + proc.stderr


def test_all_good_is_exit_0_and_every_check_passes(fresh, tmp_path):
    code, lines, out = doctor(environment(fresh, tmp_path))
    assert code == 0, out
    assert len(lines) == 13 and all(line.startswith("PASS") for line in lines.values()), out
    assert "all good" in out


def test_a_disabled_api_names_the_enable_command(fresh, tmp_path):
    fresh.set_faults({"run": "error:SERVICE_DISABLED"})
    code, lines, out = doctor(environment(fresh, tmp_path))
    assert code == 1, out
    assert lines["Cloud Run API"].startswith("FAIL")
    assert f"fix: gcloud services enable run.googleapis.com --project {PROJECT}" in lines["Cloud Run API"]
    assert lines["runner job"].startswith("SKIP") and "Cloud Run API failed" in lines["runner job"]
    assert lines["Vertex AI API"].startswith("PASS")


def test_missing_permissions_name_the_roles_that_grant_them(fresh, tmp_path):
    fresh.set_denied_permissions(["run.jobs.runWithOverrides", "logging.logEntries.list"])
    code, lines, out = doctor(environment(fresh, tmp_path))
    assert code == 1, out
    assert lines["Cloud Logging API"].startswith("FAIL") and "--role=roles/logging.viewer" in lines["Cloud Logging API"]
    permissions = lines["permissions"]
    assert permissions.startswith("FAIL")
    assert "run.jobs.runWithOverrides" in permissions and "logging.logEntries.list" in permissions
    assert f"gcloud projects add-iam-policy-binding {PROJECT}" in permissions
    assert "--role=roles/run.developer" in permissions and "--role=roles/logging.viewer" in permissions
    assert lines["Cloud Run API"].startswith("PASS")


def test_rejected_credentials_say_how_to_sign_in(fresh, tmp_path):
    fresh.set_faults({"vertex": "error:UNAUTHENTICATED"})
    code, lines, out = doctor(environment(fresh, tmp_path))
    assert code == 1, out
    assert lines["Vertex AI API"].startswith("FAIL")
    assert "fix: gcloud auth application-default login" in lines["Vertex AI API"]


def test_regions_without_the_runner_job_are_named(fresh, tmp_path):
    env = environment(fresh, tmp_path, ARR_REGIONS="us-central1,asia-east1,europe-west4")
    code, lines, out = doctor(env)
    assert code == 1, out
    runner = lines["runner job"]
    assert runner.startswith("FAIL") and "not in: asia-east1" in runner
    assert "fix: export ARR_REGIONS=us-central1,europe-west4" in runner


def test_a_project_the_account_cannot_see(fresh, tmp_path):
    fresh.set_faults({"resourcemanager": "error:IAM_PERMISSION_DENIED"})
    code, lines, out = doctor(environment(fresh, tmp_path))
    assert code == 1, out
    assert lines["project"].startswith("FAIL") and "does not exist or" in lines["project"]
    assert "fix: gcloud projects list" in lines["project"]


def test_a_slow_api_fails_with_its_timeout(fresh, tmp_path):
    fresh.set_faults({"build": "hang"})
    code, lines, out = doctor(environment(fresh, tmp_path))
    assert code == 1, out
    assert lines["Cloud Build API"].startswith("FAIL") and "no answer within 3 s" in lines["Cloud Build API"]


def test_a_rejected_w_and_b_key(fresh, tmp_path):
    fresh.set_faults({"wandb": "error:401"})
    code, lines, out = doctor(environment(fresh, tmp_path))
    assert code == 1, out
    assert lines["W&B key"].startswith("FAIL") and "fix: wandb login --relogin" in lines["W&B key"]
    assert all(lines[name].startswith("SKIP") for name in ("W&B entity", "W&B project", "W&B queue"))


def test_unknown_w_and_b_entity_project_and_queue(fresh, tmp_path):
    code, lines, out = doctor(environment(fresh, tmp_path, ARR_WANDB_PROJECT="no-such-project", ARR_QUEUE="no-queue"))
    assert code == 1, out
    assert lines["W&B project"].startswith("FAIL") and "does not exist" in lines["W&B project"]
    assert lines["W&B queue"].startswith("FAIL") and "create_run_queue(name='no-queue'" in lines["W&B queue"]
    code, lines, out = doctor(environment(fresh, tmp_path, ARR_WANDB_ENTITY="nobody"))
    assert lines["W&B entity"].startswith("FAIL") and lines["W&B project"].startswith("SKIP")


def test_missing_settings_and_credentials_on_real_google_cloud(fresh, tmp_path):
    env = environment(
        fresh, tmp_path, ARR_EMULATOR_ADDRESS="", ARR_PROJECT="real-project-123",
        GOOGLE_APPLICATION_CREDENTIALS=str(tmp_path / "no-such-key.json"), NO_GCE_CHECK="True",
    )
    code, lines, out = doctor(env)
    assert code == 1, out
    assert lines["credentials"].startswith("FAIL")
    assert "fix: gcloud auth application-default login" in lines["credentials"]
    assert lines["Cloud Run API"].startswith("SKIP") and lines["permissions"].startswith("SKIP")
    assert lines["W&B key"].startswith("PASS")  # W&B is still asked (here: the emulator's)
    code, lines, out = doctor(environment(fresh, tmp_path, ARR_PROJECT="", ARR_WANDB_PROJECT=""), cwd=str(tmp_path))
    assert code == 1 and lines["settings"].startswith("FAIL") and "ARR_PROJECT" in lines["settings"], out


def test_a_check_that_hangs_past_its_deadline_is_stopped_and_the_rest_still_run(fresh, tmp_path):
    from arr_actors.doctor import guard

    fresh.set_faults({"wandb": "hang"})
    settings = config.defaults(
        {
            "emulator.address": fresh.grpc_address, "emulator.wandb_url": fresh.wandb_url,
            "wandb.entity": fresh.wandb_entity, "wandb.project": fresh.wandb_project, "api.call_timeout_s": 30.0,
            "paths.state_dir": str(tmp_path / "state"),
        },
        project=PROJECT, regions=REGIONS,
    )
    shown = []
    results = guard.run(settings, show=shown.append, deadline_s=8.0)
    by_name = {r.check: r for r in results}
    assert by_name["W&B key"].ok is False and "no answer within 8 s; stopped" in by_name["W&B key"].detail
    assert by_name["W&B entity"].ok is None
    assert by_name["runner job"].ok is True and shown == results


def test_demo_and_usage(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARR_")}
    env["ARR_PATHS_STATE_DIR"] = str(tmp_path / "state")
    code, lines, out = doctor(env, "--demo")
    assert code == 0 and "all good" in out, out
    code, _, out = doctor(env, "--bogus")
    assert code == 2 and "unrecognized arguments" in out and "Traceback" not in out


def test_a_spent_cloud_logging_budget_is_said_as_such(fresh, tmp_path):
    from arr_actors.sources import limiter

    env = environment(fresh, tmp_path, ARR_API_LOGGING_READS_PER_MINUTE="1")
    settings = config.load(env={k: v for k, v in env.items() if k.startswith("ARR_")})
    assert limiter.for_settings(settings).try_acquire()  # another reader of the project took this minute's read
    code, lines, out = doctor(env, cwd=str(tmp_path))
    assert code == 1, out
    assert lines["Cloud Logging API"].startswith("FAIL") and "used up for now" in lines["Cloud Logging API"]


def test_service_text_is_made_inert():
    from arr_actors.doctor import format_result
    from arr_actors.doctor.checks import Result

    shown = format_result(Result("W&B key", False, "evil\x1b]0;title\x07 \x1b[31mred\u202e", "run\x1b[2J this"))
    assert "\x1b" not in shown and "\u202e" not in shown and "\x07" not in shown
    assert "evil" in shown and "red" in shown and "fix: run this" in shown
