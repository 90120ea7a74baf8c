"""Settings are checked against a sane range, named in the message, before anything runs.

A number that passes the checks cannot overflow a timer or a conversion later:
values such as a deadline of 1e10 or 1e308, a kill grace of 1e308 or a row
limit of 1e20 used to be accepted and then crash every fetch (or every
refresh). The settings file itself is untrusted text: bad UTF-8, deep nesting,
a huge file or a FIFO are one-line errors.
"""

from __future__ import annotations

import faulthandler
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from arr_actors import config
from arr_actors.cli import main
from arr_actors.config import KEYS, ConfigError

NUMERIC = [key for key in KEYS if key.kind in ("int", "float")]
HUGE_INT = "9" * 400
AT_MOST = re.compile(r"(at most|less than) ([0-9.e+]+)")


def load_env(**env: str) -> config.Settings:
    return config.load(env=env)


def upper_bound(key: config.Key) -> float:
    """The largest value a key accepts, as its error message names it."""
    with pytest.raises(ConfigError) as info:
        load_env(**{key.env: "1e308" if key.kind == "float" else HUGE_INT})
    found = AT_MOST.search(str(info.value))
    assert found, f"{key.name}: the message does not name the allowed range: {info.value}"
    high = float(found.group(2))
    return high if found.group(1) == "at most" else high * (1 - 1e-9)  # the largest value below it


@pytest.mark.parametrize("key", NUMERIC, ids=[k.name for k in NUMERIC])
@pytest.mark.parametrize("value", ["1e308", "1e10", "1e20", HUGE_INT])
def test_huge_numbers_are_refused_naming_key_origin_and_range(key: config.Key, value: str) -> None:
    if key.kind == "int" and "e" in value:
        value = str(int(float(value)))  # the same size, written as an integer
    with pytest.raises(ConfigError) as info:
        load_env(**{key.env: value})
    text = str(info.value)
    assert text.startswith(f"{key.name} (from ${key.env}): ") and "\n" not in text
    assert AT_MOST.search(text) and len(text) < 200


@pytest.mark.parametrize("key", NUMERIC, ids=[k.name for k in NUMERIC])
def test_every_bound_is_accepted_and_safe_as_a_timer(key: config.Key) -> None:
    high = upper_bound(key)
    # backoff_max_s must be at least backoff_initial_s: both at their bound.
    others = {"ARR_SUPERVISION_BACKOFF_MAX_S": "86400"} if key.name == "supervision.backoff_initial_s" else {}
    value = str(int(high)) if key.kind == "int" else repr(high)
    load_env(**others, **{key.env: value})  # the bound itself is allowed
    above = str(int(high) + 1) if key.kind == "int" else repr(high * 1.5)
    with pytest.raises(ConfigError):
        load_env(**others, **{key.env: above})
    if key.kind == "float":
        # Every duration at its bound fits the timers it feeds (past TIMEOUT_MAX they raise OverflowError).
        assert high <= threading.TIMEOUT_MAX
        assert threading.Lock().acquire(timeout=high)
        faulthandler.dump_traceback_later(high, exit=True)
        faulthandler.cancel_dump_traceback_later()


@pytest.mark.parametrize(
    ("toml", "fragment"),
    [
        ("[supervision]\nkill_grace_s = 1e308\n", "supervision.kill_grace_s"),
        ("[supervision]\nstartup_deadline_s = 1e308\n", "supervision.startup_deadline_s"),
        ("[tables.builds]\nlimit = 100000000000000000000\n", "tables.builds.limit"),
        (f"[tables.builds]\ninterval = {HUGE_INT}\n", "tables.builds.interval"),
        ("[tables.runner]\ndeadline = 1e10\n", "tables.runner.deadline"),
    ],
)
def test_a_settings_file_with_huge_numbers_is_refused_with_the_range(tmp_path: Path, toml: str, fragment: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError) as info:
        config.load(config_file=str(path), env={})
    assert fragment in str(info.value) and "at most" in str(info.value) and str(path) in str(info.value)


@pytest.mark.parametrize("deadline", [1e10, 1e308, float("inf"), float("nan")])
def test_a_deadline_flag_out_of_range_is_refused(deadline: float) -> None:
    with pytest.raises(ConfigError, match=r"--deadline: .* at most 86400"):
        config.load(env={}, deadline=deadline)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b'project = "caf\xe9"\n', "not UTF-8 text"),
        (b"\xff\xfe[tables]\n", "not UTF-8 text"),
        (b"a = " + b"[" * 100_000 + b"]" * 100_000 + b"\n", "not valid TOML"),
        (b"# " + b"x" * (2 * 1024 * 1024) + b"\n", "larger than 1 MiB"),
    ],
    ids=["latin-1", "utf-16 mark", "nested", "huge"],
)
def test_a_damaged_settings_file_is_one_line_exit_2(tmp_path: Path, content: bytes, fragment: str, capsys) -> None:
    path = tmp_path / "c.toml"
    path.write_bytes(content)
    assert main(["--config", str(path), "--once"]) == 2
    err = capsys.readouterr().err
    assert fragment in err and str(path) in err
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.timeout(30)
def test_a_fifo_as_the_settings_file_does_not_hang(tmp_path: Path, capsys) -> None:
    fifo = tmp_path / "c.toml"
    os.mkfifo(fifo)
    assert main(["--config", str(fifo), "--once"]) == 2
    assert str(fifo) in capsys.readouterr().err


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "env",
    [
        {"ARR_SUPERVISION_KILL_GRACE_S": "1e308"},
        {"ARR_SUPERVISION_STARTUP_DEADLINE_S": "1e308"},
        {"ARR_TABLES_VERTEX_LIMIT": "100000000000000000000"},
        {"ARR_API_CALL_TIMEOUT_S": "1e300"},
    ],
)
def test_the_program_refuses_them_in_one_line_before_starting(tmp_path: Path, env: dict[str, str]) -> None:
    full = {**os.environ, **env}
    proc = subprocess.run([sys.executable, "-m", "arr_actors", "--demo", "--once"], capture_output=True, text=True,
                          timeout=50, env=full, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "at most" in proc.stderr and next(iter(env)) in proc.stderr


@pytest.mark.timeout(120)
def test_a_demo_round_with_every_timer_at_its_bound_works(tmp_path: Path) -> None:
    env = {**os.environ}
    for key in NUMERIC:
        if key.name.startswith(("supervision.", "api.")) or key.name.endswith((".deadline", ".limit")):
            high = upper_bound(key)
            env[key.env] = str(int(high)) if key.kind == "int" else repr(high)
    env["ARR_SUPERVISION_BACKOFF_INITIAL_S"] = "1.0"  # must stay at most backoff_max_s
    env.pop("ARR_SUPERVISION_START_BATCH_DELAY_S", None)  # an hour between start batches is allowed, but slow
    env.pop("ARR_SUPERVISION_START_BATCH_SIZE", None)
    proc = subprocess.run([sys.executable, "-m", "arr_actors", "--demo", "--once", "--json"], capture_output=True,
                          text=True, timeout=110, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "exit status 70" not in proc.stdout
