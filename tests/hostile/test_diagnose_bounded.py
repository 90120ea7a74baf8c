"""``diagnose`` on endless, huge and empty-of-text input: bounded memory, bounded time, a clear word."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest
from hostile_env import ROOT

#: Peak memory allowed to ``diagnose`` on any input (the interpreter and its imports take ~20 MB).
RSS_LIMIT_MB = 100

# Runs diagnose as its only child and reports the child's peak RSS: the test's own
# process has had other children, so it cannot measure this one.
MEASURE = r"""
import json, resource, subprocess, sys, threading
mode = sys.argv[1]
cmd = [sys.executable, "-m", "arr_actors", "diagnose", "-"]
if mode == "zero":
    with open("/dev/zero", "rb") as zero:
        proc = subprocess.run(cmd, stdin=zero, capture_output=True)
    rc, out, err = proc.returncode, proc.stdout, proc.stderr
else:
    # 500 MB without a newline, from a generator through a pipe (nothing on disk).
    child = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    def feed():
        block = b"x" * (1 << 20)
        try:
            for _ in range(500):
                child.stdin.write(block)
            child.stdin.close()
        except OSError:  # diagnose stopped reading: what it says about that is checked
            pass
    threading.Thread(target=feed, daemon=True).start()
    out, err = child.stdout.read(), child.stderr.read()
    rc = child.wait()
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"rc": rc, "out": out.decode(), "err": err.decode(), "peak_mb": peak}))
"""


def measured(mode: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", MEASURE, mode], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


@pytest.mark.timeout(150)
def test_dev_zero_ends_in_bounded_memory_and_says_it_is_not_text() -> None:
    result = measured("zero")
    assert result["rc"] == 2, result
    assert "No log lines" not in result["out"]
    assert "NUL" in result["err"] and "not a text log" in result["err"], result["err"]
    assert result["err"].count("\n") == 1 and "Traceback" not in result["err"]
    assert result["peak_mb"] < RSS_LIMIT_MB, result


@pytest.mark.timeout(150)
def test_500_mb_without_a_newline_ends_in_bounded_memory_and_says_what_was_cut() -> None:
    result = measured("long")
    assert result["rc"] == 0, result
    assert "line 1 cut at 64 KiB" in result["out"], result["out"]
    assert "input cut after 64 MiB" in result["out"], result["out"]
    assert result["peak_mb"] < RSS_LIMIT_MB, result


class Endless(io.RawIOBase):
    """A stream of ``unit`` repeated forever (or ``total`` bytes), produced as it is read."""

    def __init__(self, unit: bytes, total: int | None = None) -> None:
        self.unit, self.left = unit, total

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        size = len(buffer) if self.left is None else min(len(buffer), self.left)
        data = (self.unit * (size // len(self.unit) + 1))[:size]
        buffer[:size] = data
        if self.left is not None:
            self.left -= size
        return size


def test_read_bounded_keeps_the_head_of_long_lines_and_every_short_one() -> None:
    from arr_actors.diagnostics import cli as diagnose_cli

    text = b"short 1\n" + b"y" * 300 + b"\nshort 3\n" + b"z" * 1000 + b"\nshort 5\n"
    got = diagnose_cli.read_bounded(io.BufferedReader(Endless(text, len(text))), line_keep=100, limit=1 << 20)
    assert got.data == b"short 1\n" + b"y" * 100 + b"\nshort 3\n" + b"z" * 100 + b"\nshort 5\n"
    assert got.cut_lines == (2, 4) and not got.stopped
    assert got.notes() == ["lines 2, 4 cut at 100 bytes: the rest of each was skipped"]


def test_read_bounded_stops_at_the_limit_and_says_so() -> None:
    from arr_actors.diagnostics import cli as diagnose_cli

    got = diagnose_cli.read_bounded(io.BufferedReader(Endless(b"\0")), line_keep=4096, limit=1 << 20)
    assert len(got.data) == 4096 and got.read == 1 << 20 and got.stopped
    assert got.notes() == [
        "line 1 cut at 4 KiB: the rest of it was skipped",
        "input cut after 1 MiB: the rest was not read",
    ]


@pytest.mark.parametrize(
    ("data", "code", "says"),
    [
        (b"\0" * 5000, 2, "only NUL bytes"),
        (b"\0\n\0\x07\x08\n", 2, "only control characters"),
        (b"", 0, "No log lines"),
        (b"\n\n", 0, "No runner status"),
    ],
    ids=["nul", "controls", "empty", "blank-lines"],
)
def test_input_without_text_is_named_not_passed_off_as_an_empty_log(data: bytes, code: int, says: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "arr_actors", "diagnose", "-"], input=data, capture_output=True, timeout=60, cwd=ROOT
    )
    assert proc.returncode == code, proc.stderr
    assert says in (proc.stderr if code else proc.stdout).decode()
