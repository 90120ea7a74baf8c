"""The emulator as a process: the CLI's printed lines and exit codes, loopback only, clean stops, no orphans."""

from __future__ import annotations

import ipaddress
import json
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request

import psutil
import pytest
from emulator_helpers import job_parent, make_clients

from arr_actors import emulator
from arr_actors.emulator import main

pytestmark = pytest.mark.timeout(60)

LINE_FORMATS = {
    "grpc": r"127\.0\.0\.1:\d+",
    "wandb": r"http://127\.0\.0\.1:\d+",
    "project": r"[a-z0-9-]+",
    "wandb-entity": r"\S+",
    "wandb-project": r"\S+",
}


def wait_gone(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False


def read_header(proc: subprocess.Popen[str]) -> dict[str, str]:
    assert proc.stdout is not None
    header = {}
    for line in proc.stdout:
        if line.strip() == "ready":
            return header
        key, _, value = line.rstrip("\n").partition(" ")
        assert key in LINE_FORMATS and re.fullmatch(LINE_FORMATS[key], value), line
        header[key] = value
    raise AssertionError(f"no 'ready' line; stderr: {proc.stderr.read() if proc.stderr else ''}")


def test_cli_prints_its_addresses_serves_with_faults_and_stops_on_sigterm() -> None:
    command = [
        sys.executable, "-m", "arr_actors", "emulator", "--port", "0", "--project", "cli-project",
        "--regions", "us-central1,europe-west4", "--fault", "logging=error:PERMISSION_DENIED", "--seed", "9",
    ]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        header = read_header(proc)
        assert header["project"] == "cli-project"
        clients = make_clients(header["grpc"])
        from google.api_core import exceptions as gexc

        assert list(clients.executions.list_executions(parent=job_parent("us-central1", "cli-project"), timeout=10))
        with pytest.raises(gexc.PermissionDenied):
            list(clients.logging.list_log_entries(resource_names=["projects/cli-project"], timeout=10))
        # A call held by a hang fault must not hold up the stop.
        request = urllib.request.Request(header["wandb"] + "/_control", data=json.dumps({"faults": {"run": "hang"}}).encode())
        urllib.request.urlopen(request, timeout=10).close()
        outcome: list[BaseException] = []

        def hung_call() -> None:
            try:
                list(clients.executions.list_executions(parent=job_parent("us-central1", "cli-project"), timeout=30, retry=None))
            except gexc.GoogleAPICallError as exc:
                outcome.append(exc)

        hung = threading.Thread(target=hung_call, daemon=True)
        hung.start()

        def calls() -> int:
            with urllib.request.urlopen(header["wandb"] + "/_stats", timeout=10) as response:
                return int(json.loads(response.read()).get("ListExecutions", 0))

        deadline = time.monotonic() + 10
        while calls() < 2 and time.monotonic() < deadline:  # the held call has reached the server
            time.sleep(0.05)
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert time.monotonic() - started < 5
        hung.join(10)
        assert not hung.is_alive() and isinstance(outcome[0], gexc.ServiceUnavailable)
        clients.channel.close()
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--speed", "0"], "--speed"),
        (["--fault", "moon=hang"], "unknown service 'moon'"),
        (["--fault", "run=melt"], "unknown fault kind 'melt'"),
        (["--scenario", "dance"], "unknown (scenarios:"),
        (["--latency", "fast"], "unknown latency profile 'fast' (profiles:"),
        (["--latency", "realistic:0"], "the factor after ':' must be a number above 0"),
        (["--latency", "realistic:x"], "the factor after ':' must be a number above 0"),
        (["--regions", "US-EAST"], "is not a region name"),
        (["--port", "99999"], "0-65535"),
        (["--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_bad_flags_give_one_line_and_exit_2(capsys, argv: list[str], message: str) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("python -m arr_actors emulator: error: ") and message in err


def test_bad_flags_through_the_real_command_line() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "arr_actors", "emulator", "--scenario", "dance"], capture_output=True, text=True, timeout=30
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().count("\n") == 0 and "unknown (scenarios:" in proc.stderr


def test_listens_on_loopback_only(emu) -> None:
    listening = [c for c in psutil.Process(emu.pid).net_connections(kind="inet") if c.status == psutil.CONN_LISTEN]
    ports = {int(emu.grpc_address.rsplit(":", 1)[1]), int(emu.wandb_url.rsplit(":", 1)[1])}
    assert {c.laddr.port for c in listening} == ports
    for connection in listening:
        address = ipaddress.ip_address(connection.laddr.ip)
        address = getattr(address, "ipv4_mapped", None) or address  # gRPC listens on ::ffff:127.0.0.1
        assert str(address) == "127.0.0.1", connection
    others = {
        a.address
        for addrs in psutil.net_if_addrs().values()
        for a in addrs
        if a.family == socket.AF_INET and not a.address.startswith("127.")
    }
    for address in others:
        for port in ports:
            with pytest.raises(OSError):
                socket.create_connection((address, port), timeout=2).close()


def test_spawn_reports_startup_problems_clearly() -> None:
    with pytest.raises(emulator.EmulatorError, match="unknown scenario|unknown \\(scenarios"):
        emulator.spawn(scenario="dance")
    with pytest.raises(emulator.EmulatorError, match="unknown fault kind 'melt'"):
        emulator.spawn(faults=["run=melt"])
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(emulator.EmulatorError, match=f"cannot listen on 127.0.0.1:{port}"):
            emulator.spawn(regions=("us-central1",), port=port)


def test_the_child_dies_with_its_parent() -> None:
    script = textwrap.dedent(
        """
        import sys, time
        from arr_actors import emulator
        emu = emulator.spawn(regions=("us-central1",))
        print(emu.pid, flush=True)
        time.sleep(120)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        assert psutil.pid_exists(child)
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        assert wait_gone(child), "the emulator outlived its parent"
    finally:
        parent.kill()
        parent.wait()


def test_stop_is_clean_idempotent_and_startup_is_quick() -> None:
    started = time.monotonic()
    process = emulator.spawn(regions=emulator.DEFAULT_REGIONS, speed=10)
    startup = time.monotonic() - started
    # Generous: the machine is shared. The figure itself is reported by the benchmark.
    assert startup < 10, f"spawn took {startup:.1f} s"
    with process:
        assert process.alive and process.stats() == {}
    assert not process.alive and wait_gone(process.pid, timeout=1)
    process.stop()
    assert not os.path.exists(process._stderr_path)


def test_the_emulator_process_loads_message_types_without_the_client_libraries() -> None:
    script = textwrap.dedent(
        """
        import sys
        from arr_actors.emulator import protos
        types = protos.load(light=True)
        assert types.vertex_custom_job.CustomJob(display_name="x").display_name == "x"
        heavy = [m for m in sys.modules if m.startswith(("google.cloud.aiplatform_v1.services", "google.cloud.run_v2.services"))]
        print(len(heavy))
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "0"


@pytest.mark.timeout(60)
def test_a_burst_of_termination_signals_stops_it() -> None:
    # The parent's SIGTERM and the parent-death signal can come together; a
    # handler that took the stop event's lock inside another handler (or
    # inside the main thread's wait) deadlocked the process for good.
    command = [sys.executable, "-m", "arr_actors", "emulator", "--port", "0", "--project", "p", "--regions", "us-central1"]
    for attempt in range(5):
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            read_header(proc)
            for _ in range(200):
                proc.send_signal(signal.SIGTERM)
            try:
                code = proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pytest.fail(f"attempt {attempt + 1}: still running 10 s after 200 SIGTERMs")
            assert code == 0
        finally:
            proc.kill()
            proc.wait()
