from __future__ import annotations

import subprocess
import sys

import pytest

from arr_actors.cli import main


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "arr_actors", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--deadline", "soon"], "--deadline: 'soon' is not a number of seconds"),
        (["--deadline", "-1"], "greater than 0"),
        (["--deadline", "inf"], "--deadline: 'inf' must be a number of seconds greater than 0 and at most 86400"),
        (["--fault", "builds"], "is not TABLE=KIND"),
        (["--fault", "nope=hang"], "unknown table 'nope'"),
        (["--fault", "builds=explode"], "unknown fault kind 'explode'"),
        (["--fault", "builds=slow:x"], "slow needs seconds"),
        (["--fault", "builds=hang:5"], "hang takes no argument"),
        (["--bogus"], "unrecognized arguments: --bogus"),
        (["--json"], "--json needs --once"),
        (["--once", "--record", "x.jsonl"], "--record cannot be combined with --once"),
        (["--scenario", "launch-ok"], "--scenario needs --demo"),
        (["--config", "/no/such/file.toml"], "--config /no/such/file.toml: no such file"),
    ],
)
def test_argument_errors_print_one_line_and_exit_2(argv, fragment, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert fragment in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_config_errors_exit_2_without_traceback(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("[tables.runner]\ndeadline = 0\n")
    assert main(["--config", str(bad), "--once"]) == 2
    err = capsys.readouterr().err
    assert "tables.runner.deadline" in err and str(bad) in err


@pytest.mark.timeout(60)
def test_help_of_every_command_works_in_a_real_process():
    for args in ([], ["launch"], ["diagnose"], ["emulator"]):
        proc = run_cli(*args, "--help")
        assert proc.returncode == 0, (args, proc.stderr)
        assert "usage:" in proc.stdout


@pytest.mark.timeout(60)
def test_bad_environment_variable_is_a_usage_error():
    import os

    env = dict(os.environ, ARR_TABLES_RUNNER_INTERVAL="often")
    proc = run_cli("--once", env=env)
    assert proc.returncode == 2
    assert "ARR_TABLES_RUNNER_INTERVAL" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.timeout(60)
def test_no_project_stops_at_start_with_the_fix(tmp_path):
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("ARR_")}
    env.update(XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_STATE_HOME=str(tmp_path / "state"))
    for args in ((), ("--once",), ("--record", "-")):
        proc = subprocess.run(
            [sys.executable, "-m", "arr_actors", *args],
            capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path, stdin=subprocess.DEVNULL,
        )
        assert proc.returncode == 2, (args, proc.stderr)
        assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
        assert "no Google Cloud project set" in proc.stderr
        assert "arr_actors.toml" in proc.stderr and "ARR_PROJECT" in proc.stderr and "gcloud config" in proc.stderr
