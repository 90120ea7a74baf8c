"""``spawn``: the emulator in a child process, for ``--demo``, the tests and the benchmarks.

The child is ``python -m arr_actors.emulator`` in a session of its own; this
process reads its printed addresses, talks to its ``/_control`` and
``/_stats`` endpoints, and kills it on ``stop()``. The child stops by itself
when this process dies, however it dies (see cli.py). Only the standard
library is imported here.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from typing import Any

from arr_actors.config import DEFAULT_REGIONS, DEMO_PROJECT
from arr_actors.emulator import faults as faults_mod
from arr_actors.emulator.options import DEFAULT_LOG_GAPS, Options, to_argv, validate
from arr_actors.usage import UsageError

_HEADER_KEYS = ("grpc", "wandb", "project", "wandb-entity", "wandb-project")


class EmulatorError(RuntimeError):
    """The emulator could not start, or refused a control request; the message says why."""


class EmulatorProcess:
    """A running emulator child. Use as a context manager or call ``stop()``."""

    def __init__(self, proc: subprocess.Popen[bytes], header: Mapping[str, str], stderr_path: str) -> None:
        self._proc = proc
        self._stderr_path = stderr_path
        self.grpc_address = header["grpc"]
        self.wandb_url = header["wandb"]
        self.project = header["project"]
        self.wandb_entity = header["wandb-entity"]
        self.wandb_project = header["wandb-project"]
        # An emulator that dies while we run (killed, crashed) is reaped at once, not
        # left a zombie until stop(): nothing else waits on it while the UI runs.
        self._reaper = threading.Thread(target=_reap_when_dead, args=(proc,), name="emulator-reaper", daemon=True)
        self._reaper.start()

    @property
    def pid(self) -> int:
        return self._proc.pid

    @property
    def alive(self) -> bool:
        return self._proc.poll() is None

    # -- control

    def _request(self, path: str, doc: Any = None, *, timeout: float = 10.0) -> Any:
        data = None if doc is None else json.dumps(doc).encode()
        request = urllib.request.Request(
            self.wandb_url + path,
            data=data,
            method="GET" if data is None else "POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            try:
                message = json.loads(exc.read()).get("error", exc.reason)
            except ValueError:
                message = exc.reason
            raise EmulatorError(f"emulator refused {path}: {message}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise EmulatorError(f"emulator at {self.wandb_url} did not answer {path}: {exc}") from None

    def set_faults(self, spec: faults_mod.FaultSpec | None) -> dict[str, str]:
        """Replace every fault: ``{"run": "hang"}``, ``["logging=slow:2"]``, ``{}`` clears. Returns the new table."""
        try:
            table = faults_mod.build_table(spec)  # a bad spec fails here, with the emulator's own message
        except faults_mod.FaultError as exc:
            raise EmulatorError(str(exc)) from None
        plain = faults_mod.table_to_plain(table)
        return dict(self._request("/_control", {"faults": plain})["faults"])

    def set_scenario(self, name: str) -> None:
        self._request("/_control", {"scenario": name})

    def set_latency(self, profile: str) -> None:
        self._request("/_control", {"latency": profile})

    def set_denied_permissions(self, permissions: Iterable[str]) -> None:
        """IAM permissions the emulated account lacks (``[]`` grants everything again)."""
        self._request("/_control", {"denied_permissions": list(permissions)})

    def set_log_gaps(self, share: float) -> None:
        """How often a Cloud Logging page is first answered empty with a token (0 = never)."""
        self._request("/_control", {"log_gaps": share})

    def set_log_volume(self, lines: int) -> None:
        """Extra lines every execution and Vertex AI job writes while it runs (e.g. 10000 for a long log)."""
        self._request("/_control", {"log_volume": lines})

    def stats(self, *, reset: bool = False) -> dict[str, int]:
        """Calls per method since start (or the last reset), e.g. ``{"ListLogEntries": 3}``."""
        return dict(self._request("/_stats?reset=1" if reset else "/_stats"))

    def peak_per_minute(self) -> dict[str, int]:
        """The most calls of each method in any 60 s window since start (or the last reset)."""
        return dict(self._request("/_stats?detail=1")["peak_per_minute"])

    # -- lifetime

    def stop(self, timeout: float = 3.0) -> None:
        """SIGTERM, then SIGKILL after ``timeout``; reaps the child. Safe to call twice."""
        proc = self._proc
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        with contextlib.suppress(OSError):
            os.unlink(self._stderr_path)

    def __enter__(self) -> EmulatorProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"EmulatorProcess(pid={self.pid}, grpc={self.grpc_address}, wandb={self.wandb_url})"


def spawn(
    *,
    scenario: str = "default",
    faults: Iterable[str] | Mapping[str, str] = (),
    latency: str = "none",
    project: str = DEMO_PROJECT,
    regions: Iterable[str] = DEFAULT_REGIONS,
    seed: int = 1,
    speed: float = 1.0,
    port: int = 0,
    http_port: int = 0,
    log_gaps: float = DEFAULT_LOG_GAPS,
    startup_timeout: float = 20.0,
) -> EmulatorProcess:
    """Start the emulator in a child process and return once it listens.

    ``faults`` are ``"SERVICE=KIND"`` strings, ``(service, kind)`` pairs or a
    mapping. The child dies with this process; because the parent-death
    signal follows the creating *thread*, call this from a thread that lives
    as long as the emulator should (normally the main thread).
    Raises EmulatorError (bad options, or the child failed to start).
    """
    try:
        fault_list = [f"{k}={v}" for k, v in faults.items()] if isinstance(faults, Mapping) else _fault_strings(faults)
        options = validate(
            Options(
                port=port,
                http_port=http_port,
                project=project,
                scenario=scenario,
                faults=tuple(fault_list),
                latency=latency,
                seed=seed,
                speed=float(speed),
                regions=tuple(regions),
                log_gaps=float(log_gaps),
                parent_pid=os.getpid(),
            )
        )
    except (UsageError, faults_mod.FaultError, TypeError, ValueError) as exc:
        raise EmulatorError(str(exc)) from None
    fd, stderr_path = tempfile.mkstemp(prefix="arr-emulator-", suffix=".log")
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "arr_actors.emulator", *to_argv(options)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=fd,
            start_new_session=True,
            env=env,
        )
    except OSError as exc:
        os.close(fd)
        os.unlink(stderr_path)
        raise EmulatorError(f"could not start the emulator: {exc}") from None
    os.close(fd)
    try:
        header = _read_header(proc, startup_timeout)
    except EmulatorError as exc:
        _kill(proc)
        detail = _tail(stderr_path)
        with contextlib.suppress(OSError):
            os.unlink(stderr_path)
        raise EmulatorError(f"{exc}{': ' + detail if detail else ''}") from None
    return EmulatorProcess(proc, header, stderr_path)


def _fault_strings(faults: Iterable[Any]) -> list[str]:
    out = []
    for entry in faults:
        if isinstance(entry, str):
            out.append(entry)
        elif isinstance(entry, tuple) and len(entry) == 2:
            out.append(f"{entry[0]}={entry[1]}")
        else:
            raise faults_mod.FaultError(f"fault {entry!r} is neither 'SERVICE=KIND' nor a (service, kind) pair")
    return out


def _read_header(proc: subprocess.Popen[bytes], timeout: float) -> dict[str, str]:
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    header: dict[str, str] = {}
    buffer = b""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise EmulatorError(f"the emulator did not report its address within {timeout:g} s")
            if not selector.select(left):
                continue
            chunk = os.read(fd, 4096)
            if not chunk:
                code = proc.wait()
                raise EmulatorError(f"the emulator exited with code {code} before it was ready")
            buffer += chunk
            while b"\n" in buffer:
                raw, buffer = buffer.split(b"\n", 1)
                line = raw.decode(errors="replace").strip()
                if line == "ready":
                    missing = [k for k in _HEADER_KEYS if k not in header]
                    if missing:
                        raise EmulatorError(f"the emulator did not report {', '.join(missing)}")
                    return header
                key, _, value = line.partition(" ")
                if key in _HEADER_KEYS:
                    header[key] = value


def _reap_when_dead(proc: subprocess.Popen[bytes]) -> None:
    """Wait for the child to exit, then reap it through Popen (which records its exit status)."""
    if hasattr(os, "waitid"):
        # WNOWAIT: wait without reaping, so Popen's lock is not held while blocked and
        # stop() can still poll, signal and wait as usual.
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
        proc.poll()
    else:
        with contextlib.suppress(ChildProcessError, OSError):
            proc.wait()


def _kill(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _tail(path: str, limit: int = 800) -> str:
    try:
        with open(path, "rb") as fh:
            text = fh.read().decode(errors="replace").strip()
    except OSError:
        return ""
    return text[-limit:].replace("\n", " | ")
