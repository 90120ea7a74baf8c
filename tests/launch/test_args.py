"""Usage errors: one clear line on stderr, exit 2, never a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from arr_actors.launch import main
from arr_actors.launch.args import DEFAULT_POLL_S, DEFAULT_TIMEOUT_S, parse


def test_defaults():
    options = parse([])
    assert (options.timeout_s, options.poll_s) == (DEFAULT_TIMEOUT_S, DEFAULT_POLL_S) == (120.0, 5.0)
    assert options.region == "" and options.queue == "" and not options.json and not options.demo


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--timeout", "soon"], "--timeout: 'soon' is not a number of seconds"),
        (["--timeout", "0"], "--timeout: '0' must be a number of seconds greater than 0"),
        (["--poll", "-1"], "--poll: '-1' must be a number of seconds greater than 0"),
        (["--poll", "nan"], "must be a number of seconds greater than 0"),
        (["--timeout", "90000"], "--timeout: '90000' must be a number of seconds greater than 0 and at most 86400"),
        (["--region", "US Central"], "--region: 'US Central' is not a region name"),
        (["--region", "mars-north1"], "--region mars-north1: not a configured region"),
        (["--queue", ""], "--queue: '' is not a queue name"),
        (["--scenario", "launch-ok"], "--scenario needs --demo"),
        (["--config", "/no/such/file.toml"], "--config /no/such/file.toml: no such file"),
        (["--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_usage_errors_exit_2_with_one_line(argv, fragment, capsys):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert fragment in captured.err
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert captured.out == ""


def test_missing_project_is_a_usage_error(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no ./arr_actors.toml
    assert main([]) == 2
    assert "no Google Cloud project set" in capsys.readouterr().err


def test_bad_config_value_is_a_usage_error(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("api.call_timeout_s = -3\n".replace("api.", "[api]\n"))
    assert main(["--config", str(bad)]) == 2
    assert "api.call_timeout_s" in capsys.readouterr().err


@pytest.mark.timeout(60)
def test_usage_error_in_a_real_process_through_the_cli():
    proc = subprocess.run(
        [sys.executable, "-m", "arr_actors", "launch", "--poll", "often"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("python -m arr_actors launch: error: argument --poll: 'often'")
    assert "Traceback" not in proc.stderr and proc.stdout == ""
