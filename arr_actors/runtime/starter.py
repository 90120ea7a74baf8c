"""The process-starter thread: the UI process's side of the launcher.

One long-lived thread per System starts the launcher process and then reads its
reports for as long as the System runs. Starting the launcher from this thread
matters: the launcher arms ``PR_SET_PDEATHSIG``, which fires when the *thread*
that created it exits, so that thread must live exactly as long as the System.

Fetchers call :meth:`ProcessStarter.spawn` and :meth:`ProcessStarter.kill` from
their own threads; each child's reports (spawned, exited) come back to the
``deliver`` callable given at spawn time — a fetcher actor's ``tell``. Both
ways the messages are those of :mod:`arr_actors.messages` (see the protocol in
:mod:`arr_actors.runtime.launcher`); the reports are delivered as they come.

The launcher kills and reaps its tree while it runs. Every process of that tree
carries this starter's mark (:mod:`arr_actors.runtime.proctree`), so when the
launcher is SIGKILLed (its children die with it, what they started does not)
or stopped, this side finds and ends the rest: after each launcher's end, and
once more on closing, whatever happened before.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from arr_actors import messages, safefile
from arr_actors.messages import (
    LAUNCHER_REPORT_TYPES,
    ChildExited,
    ChildSpawned,
    ChildSpawnFailed,
    KillChild,
    LauncherInit,
    LauncherReady,
    SpawnChild,
    StopLauncher,
    TemplateFailed,
    TemplateReady,
)
from arr_actors.runtime import proctree

if TYPE_CHECKING:
    from arr_actors.config import Settings

log = logging.getLogger(__name__)

MAX_PACKET = 1 << 16
#: How long the launcher may take to come up (a fresh interpreter on a busy machine).
LAUNCH_TIMEOUT_S = 20.0
#: The launcher's stderr (and its children's: faulthandler tracebacks, library warnings).
LOG_NAME = "fetch.log"
LOG_MAX_BYTES = 1024 * 1024
#: Pause before starting a new launcher after the previous one died.
RELAUNCH_DELAY_S = 0.5
#: Pause between attempts while the launcher cannot be started at all.
RETRY_LAUNCH_S = 5.0
#: How long a message to the launcher may wait for room in the socket.
SEND_TIMEOUT_S = 5.0
#: How long ending what a dead launcher left behind may take.
SWEEP_S = 1.0


class LauncherError(RuntimeError):
    """The launcher process could not be started or reached."""


@dataclass(slots=True)
class _Entry:
    """A child the launcher was asked to start (starter-private, mutable)."""

    table: str
    deliver: Callable[[Any], None]
    pid: int | None = None


class ProcessStarter:
    def __init__(
        self,
        settings: Settings,
        *,
        source_factory: str,
        on_template: Callable[[TemplateReady | TemplateFailed], None] | None = None,
    ) -> None:
        self._settings = settings
        self._source_factory = source_factory
        # Told when a fork template is ready or was given up (from this thread; must not block).
        self._on_template = on_template
        self._lock = threading.Lock()  # guards _sock, _entries, _proc (never held while waiting)
        self._sock: socket.socket | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._entries: dict[int, _Entry] = {}
        self._tokens = itertools.count(1)
        self._closing = threading.Event()
        self._ready = threading.Event()
        self._start_error: str = ""
        self._thread = threading.Thread(target=self._run, name="process-starter", daemon=True)
        # Marks every process of our launchers' trees (their environment inherits it).
        self._token = proctree.new_token()
        self._session: int | None = None  # the unreaped launcher's session (it leads one)
        self.launches = 0

    def start(self) -> None:
        """Start the thread, which starts the launcher. Returns at once.

        Spawning waits for the launcher to be up; if it cannot start, every
        spawn fails with the reason (and the tables show it).
        """
        self._thread.start()

    def wait_ready(self, timeout: float = LAUNCH_TIMEOUT_S) -> bool:
        return self._ready.wait(timeout) and not self._start_error

    @property
    def launcher_pid(self) -> int | None:
        with self._lock:
            return self._proc.pid if self._proc is not None else None

    def child_pids(self) -> dict[str, list[int]]:
        """Pids of the children the launcher runs now, by table."""
        out: dict[str, list[int]] = {}
        with self._lock:
            for entry in self._entries.values():
                if entry.pid is not None:
                    out.setdefault(entry.table, []).append(entry.pid)
        return out

    def spawn(self, table: str, deliver: Callable[[Any], None], *, generation: int) -> tuple[int, socket.socket]:
        """Ask for child ``generation`` of ``table``; returns its token and the parent's end of its socket.

        Raises LauncherError when the launcher cannot be reached; the child's
        fate is otherwise reported to ``deliver``.
        """
        parent_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        token = next(self._tokens)
        with self._lock:
            self._entries[token] = _Entry(table=table, deliver=deliver)
        try:
            self._send(SpawnChild(token=token, table=table, generation=generation), fds=[child_end.fileno()])
        except LauncherError:
            with self._lock:
                self._entries.pop(token, None)
            parent_end.close()
            raise
        finally:
            child_end.close()
        return token, parent_end

    def kill(self, token: int, *, grace: float) -> None:
        """SIGTERM the child's group, SIGKILL after ``grace`` (0: at once). Its exit is reported as usual."""
        try:
            self._send(KillChild(token=token, grace=grace))
        except LauncherError as exc:
            # Without a launcher the child is gone already (PR_SET_PDEATHSIG), or will be with it.
            log.warning("could not ask for the kill of child %d: %s", token, exc)

    def kill_table(self, table: str) -> None:
        with self._lock:
            tokens = [t for t, e in self._entries.items() if e.table == table]
        for token in tokens:
            self.kill(token, grace=0.0)

    def close(self, *, timeout: float = 2.0) -> None:
        """Kill every child, let the launcher reap them and exit, end the thread, and leave no process behind."""
        self._closing.set()
        with self._lock:
            proc = self._proc
        if proc is not None:
            # A stopped launcher reads nothing: continue it, so it kills and
            # reaps its tree in order instead of being killed with it.
            with contextlib.suppress(OSError):
                proc.send_signal(signal.SIGCONT)
        with contextlib.suppress(LauncherError):
            self._send(StopLauncher(), wait=False)
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        if self._thread.is_alive():
            # The launcher did not exit in time: end it the hard way. Its
            # children die with it (PR_SET_PDEATHSIG); the sweep below ends the rest.
            with self._lock:
                proc = self._proc
            if proc is not None:
                with contextlib.suppress(OSError):
                    proc.kill()
            self._thread.join(1.0)
        self._sweep()

    def _sweep(self) -> None:
        """End every process of our launchers' trees that is still there, wherever it was re-parented."""
        with self._lock:
            # Only while the launcher is unreaped: a session id, like a pid, can be reused.
            sessions = () if self._session is None else (self._session,)
        left = proctree.end(proctree.tree(self._token, sessions=sessions), within=SWEEP_S)
        if left:
            log.warning("could not end processes of the fetch process launcher: %s", left)

    def _send(
        self, message: SpawnChild | KillChild | StopLauncher, *, fds: list[int] | None = None, wait: bool = True
    ) -> None:
        data = messages.to_json(message).encode()
        if wait and not self._closing.is_set():
            self._ready.wait(LAUNCH_TIMEOUT_S)
        with self._lock:
            sock = self._sock
        if sock is None:
            raise LauncherError(self._start_error or "the fetch process launcher is not running")
        # Each send is one packet, atomic without a lock. It never waits long:
        # a launcher that stops reading for SEND_TIMEOUT_S counts as gone.
        end = time.monotonic() + SEND_TIMEOUT_S
        while True:
            try:
                if fds:
                    socket.send_fds(sock, [data], fds, socket.MSG_DONTWAIT)
                else:
                    sock.send(data, socket.MSG_DONTWAIT)
                return
            except BlockingIOError:
                left = end - time.monotonic()
                if left <= 0:
                    raise LauncherError("the fetch process launcher is not responding") from None
                select.select([], [sock], [], left)
            except OSError as exc:
                raise LauncherError(f"cannot reach the fetch process launcher: {exc}") from None

    def _run(self) -> None:
        # What an earlier run of the program left when it was SIGKILLed with its
        # launcher stopped: nothing can want it any more.
        left = proctree.end(proctree.abandoned, within=SWEEP_S)
        if left:
            log.warning("could not end processes left by an earlier run: %s", left)
        while not self._closing.is_set():
            try:
                sock, proc = self._launch()
            except (OSError, LauncherError, ValueError) as exc:
                # Spawns fail with this reason (the tables show it) until a later try works.
                self._start_error = f"cannot start the fetch process launcher: {exc}"
                self._ready.set()
                log.warning("%s", self._start_error)
                self._closing.wait(RETRY_LAUNCH_S)
                continue
            self._start_error = ""
            self._ready.set()
            if self._closing.is_set():
                # close() may have run while the launcher was coming up.
                with contextlib.suppress(LauncherError):
                    self._send(StopLauncher(), wait=False)
            self._serve(sock)
            with self._lock:
                self._sock = None
            sock.close()
            self._orphan_all()
            # A launcher that was killed could not end what its children
            # started (they died with it): end it before the next launcher
            # starts, and before reaping the launcher — until then its zombie
            # keeps its pid, so the session id names nothing else.
            self._sweep()
            try:
                proc.wait(timeout=5.0)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            with self._lock:
                self._session = None
            if not self._closing.is_set():
                log.warning("the fetch process launcher exited (status %s); starting a new one", proc.returncode)
                self._closing.wait(RELAUNCH_DELAY_S)

    def _launch(self) -> tuple[socket.socket, subprocess.Popen[bytes]]:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        stderr = _open_log(self._settings.paths.state_dir)
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", "arr_actors.runtime.launcher", str(theirs.fileno()), str(os.getpid())],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                # Its own session: Ctrl-C in the terminal reaches the UI process,
                # which decides; the launcher follows through the control socket.
                # The session and the mark in the environment name its whole tree.
                start_new_session=True,
                env=proctree.marked_env(os.environ, self._token),
            )
        except OSError:
            ours.close()
            raise
        finally:
            theirs.close()
            if stderr is not subprocess.DEVNULL:
                os.close(stderr)
        with self._lock:
            self._proc = proc
            self._session = proc.pid
        init = LauncherInit(settings=self._settings, source_factory=self._source_factory, sys_path=tuple(sys.path))
        try:
            ours.send(messages.to_json(init).encode())
            ours.settimeout(LAUNCH_TIMEOUT_S)
            data = ours.recv(MAX_PACKET)
            ours.settimeout(None)
            try:
                messages.from_json(data, expect=(LauncherReady,))
            except messages.CodecError as exc:
                raise LauncherError(f"unexpected first message ({exc}; see {LOG_NAME} in the state directory)") from None
        except (OSError, ValueError, LauncherError):
            ours.close()
            with contextlib.suppress(OSError):
                proc.kill()
            proc.wait()
            raise
        with self._lock:
            self._sock = ours
        self.launches += 1
        return ours, proc

    def _serve(self, sock: socket.socket) -> None:
        while True:
            try:
                data = sock.recv(MAX_PACKET)
            except OSError:
                return
            if not data:
                return
            try:
                report = messages.from_json(data, expect=LAUNCHER_REPORT_TYPES)
                self._dispatch(report)
            except Exception:
                log.exception("bad report from the fetch process launcher: %r", data[:200])

    def _dispatch(
        self, report: LauncherReady | ChildSpawned | ChildSpawnFailed | ChildExited | TemplateReady | TemplateFailed
    ) -> None:
        if isinstance(report, LauncherReady):
            return  # said once, at start (read by _launch)
        if isinstance(report, (TemplateReady, TemplateFailed)):
            if isinstance(report, TemplateFailed):
                log.info("fork template %s given up: %s", report.name, report.error)
            if self._on_template is not None:
                self._on_template(report)
            return
        with self._lock:
            entry = self._entries.get(report.token)
            if entry is not None and isinstance(report, ChildSpawned):
                entry.pid = report.pid
            elif isinstance(report, (ChildSpawnFailed, ChildExited)):
                self._entries.pop(report.token, None)
        if entry is not None:
            _deliver(entry, report)

    def _orphan_all(self) -> None:
        """The launcher is gone, and every child with it: say so for each."""
        with self._lock:
            entries, self._entries = self._entries, {}
        for token, entry in entries.items():
            _deliver(entry, ChildExited(token=token, pid=entry.pid, returncode=None))


def _deliver(entry: _Entry, report: Any) -> None:
    try:
        entry.deliver(report)
    except Exception:  # a fetcher that stopped no longer cares
        log.debug("dropped %r", report)


def _open_log(state_dir: str) -> Any:
    """An fd for the launcher's stderr in the state directory (0600), or DEVNULL."""
    try:
        safefile.private_dir(state_dir)
        path = os.path.join(state_dir, LOG_NAME)
        with contextlib.suppress(FileNotFoundError):
            # lstat: a planted link is renamed, never its target; opening below refuses it.
            if os.lstat(path).st_size > LOG_MAX_BYTES:
                os.replace(path, path + ".1")
        return safefile.open_append(path)
    except OSError:
        return subprocess.DEVNULL
