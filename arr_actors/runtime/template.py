"""A fork template: a process that loads shared client libraries once, then forks fetch processes from itself.

The launcher forks one template per entry of ``tables.FORK_TEMPLATES`` as soon
as it has its settings. A template imports its modules (the Google client
stack; the W&B package), freezes the garbage collector's heap and then forks
the fetch processes of its tables when the launcher asks, so they start with
those libraries loaded and share their pages copy-on-write instead of each
loading a copy of its own.

What keeps this safe:

* **Single-threaded, no channels.** A template only imports. It starts no
  thread (checked before it says ready) and makes no gRPC channel; every
  channel is made after the fork, in the fetch process. gRPC's own fork
  support is switched off (``GRPC_ENABLE_FORK_SUPPORT=false``): its fork
  handlers are for processes that made gRPC objects *before* forking, which a
  template never does; gRPC's documentation calls this "use after fork", where
  fork works normally because nothing of gRPC's C core is bound yet.
* **Frozen heap.** As Python's documentation of ``gc.freeze`` advises: the
  collector is disabled while the template loads (a collection would leave
  freed holes in its pages, which the fetch processes' own allocations would
  then fill, copying those pages), ``gc.freeze()`` runs right before the
  first fork (the collector of a fetch process never walks those objects, so
  it never writes to the pages they live on), and each fetch process enables
  the collector again first thing.
* **The launcher stays the parent.** The launcher (a subreaper) owns, kills and
  reaps every fetch process. A template therefore forks twice: an intermediate
  process forks the fetch process and waits; the template reports the pid
  (``ChildSpawned``), the launcher starts tracking it and answers
  ``ChildAdopted``, and only then does the intermediate exit, so the fetch
  process is re-parented to the launcher — never before the launcher knows its
  pid, so it is never mistaken for an orphan. The fetch process itself waits
  for the same word (a byte on a pipe only the template can write), then for
  the re-parenting, and only then arms its parent-death signal against the
  launcher and starts; if the template dies first, it reads end-of-file and
  exits without having done anything.
* **Only while needed.** Once every table it forks for has its process and it
  has forked nothing for a while, the launcher closes its socket and the
  template exits: its children keep sharing the pages among themselves, and
  what only the template still held is given back. The next spawn that needs
  it starts it again.
* **The launcher always answers.** A template that hangs or dies while loading
  is killed at its deadline (``load_deadline``) and its tables are forked by
  the launcher as before; the launcher says so (``TemplateFailed``), and the
  event log and a notice show it.

Fault injection for tests: ``settings.faults`` may hold ``("template", KIND)``
for every template or ``("template:NAME", KIND)`` for one (``hang``: hang
holding the GIL while loading; ``exit``: die while loading).

Protocol (codec JSON, one message per SOCK_SEQPACKET packet, like the launcher's):
  launcher -> template: SpawnChild + the child's socket (SCM_RIGHTS); ChildAdopted
  template -> launcher: TemplateReady, then ChildSpawned / ChildSpawnFailed per SpawnChild
"""

from __future__ import annotations

import contextlib
import ctypes
import faulthandler
import gc
import importlib
import os
import signal
import socket
import sys
import time
from typing import TYPE_CHECKING, NoReturn

from arr_actors import messages
from arr_actors.messages import (
    TEMPLATE_MESSAGE_TYPES,
    ChildAdopted,
    ChildSpawned,
    ChildSpawnFailed,
    SpawnChild,
    TemplateReady,
)
from arr_actors.runtime import child

if TYPE_CHECKING:
    from collections.abc import Sequence

    from arr_actors.config import Settings

#: The key of ``settings.faults`` that injects a fault into every fork template.
FAULT_KEY = "template"
FAULT_KINDS = ("hang", "exit")
#: Longest a template may take to load before the launcher kills it (bounded
#: by ``supervision.startup_deadline_s``). Its tables wait for it, so this is
#: well below a fetch process's own allowance: a template late by this much is
#: given up, and its tables load their libraries themselves.
LOAD_DEADLINE_S = 15.0
#: How long a fetch process waits to be re-parented to the launcher once adopted.
REPARENT_TIMEOUT_S = 5.0
MAX_PACKET = 1 << 20
EXIT_CODE_INTERNAL = child.EXIT_CODE_INTERNAL
GO = b"\x01"


def load_deadline(settings: Settings) -> float:
    return min(LOAD_DEADLINE_S, settings.supervision.startup_deadline_s)


def process_name(name: str) -> str:
    """The name ``ps`` shows for template ``name`` (at most 15 bytes)."""
    return f"arr-tpl-{name}"[:15]


def run(
    sock_fd: int,
    *,
    name: str,
    modules: Sequence[str],
    settings: Settings,
    source_factory: str,
    launcher_pid: int,
) -> NoReturn:
    """Entry point right after the launcher forked the template. Never returns."""
    code = EXIT_CODE_INTERNAL
    try:
        _prepare(name, launcher_pid)
        sock = socket.socket(fileno=sock_fd)
        gc.disable()
        began = time.monotonic()
        load(modules, fault=settings.fault(f"{FAULT_KEY}:{name}") or settings.fault(FAULT_KEY))
        threads = len(os.listdir("/proc/self/task"))
        if threads != 1:
            # Forking a threaded process can deadlock the child: better no template at all.
            raise RuntimeError(f"loading {', '.join(modules)} started {threads - 1} thread(s); cannot fork safely")
        gc.freeze()
        _send(sock, TemplateReady(name=name, pid=os.getpid(), load_s=round(time.monotonic() - began, 6)))
        serve(sock, settings=settings, source_factory=source_factory, launcher_pid=launcher_pid)
        code = 0
    except BaseException:  # the process ends here whatever happened; say why first (fetch.log)
        import traceback

        print(f"fork template {name!r}:", file=sys.stderr)
        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        os._exit(code)


def _prepare(name: str, launcher_pid: int) -> None:
    child.name_process(process_name(name))
    with contextlib.suppress(OSError):
        os.setpgid(0, 0)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(child.PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != launcher_pid:
        os._exit(0)  # the launcher died before the signal was armed
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.close(devnull)
    faulthandler.enable()
    # Set before gRPC is imported, which reads it once (see the module docstring).
    os.environ["GRPC_ENABLE_FORK_SUPPORT"] = "false"
    # A W&B fetch process must not prompt (it has no terminal); set before wandb is imported.
    os.environ.setdefault("WANDB_SILENT", "true")


def load(modules: Sequence[str], *, fault: str = "") -> None:
    """Import ``modules`` (in order); ``fault`` makes the loading hang or die, for tests."""
    for index, module in enumerate(modules):
        if index == len(modules) // 2 and fault:
            _apply_fault(fault)
        importlib.import_module(module)


def _apply_fault(kind: str) -> None:
    if kind == "hang":
        # A C call holding the GIL: no Python-level handler or thread can end it.
        ctypes.PyDLL(None).sleep(3600)
    elif kind == "exit":
        os._exit(3)
    else:
        raise ValueError(f"unknown template fault {kind!r} (kinds: {', '.join(FAULT_KINDS)})")


def serve(sock: socket.socket, *, settings: Settings, source_factory: str, launcher_pid: int) -> None:
    """Fork a fetch process for every SpawnChild until the launcher closes the socket."""
    waiting: dict[int, tuple[int, int]] = {}  # token -> (intermediate pid, write end of its go pipe)
    while True:
        data, fds, _flags, _addr = socket.recv_fds(sock, MAX_PACKET, 4)
        if not data:
            return
        try:
            message = messages.from_json(data, expect=TEMPLATE_MESSAGE_TYPES)
        except messages.CodecError:
            for fd in fds:
                os.close(fd)
            raise
        if isinstance(message, SpawnChild):
            if len(fds) != 1:
                for fd in fds:
                    os.close(fd)
                _send(sock, ChildSpawnFailed(token=message.token, error="template protocol error: spawn without a socket"))
                continue
            report, handover = fork_child(
                message, fds[0], sock=sock, settings=settings, source_factory=source_factory, launcher_pid=launcher_pid
            )
            if handover is not None:
                waiting[message.token] = handover
            _send(sock, report)
        elif isinstance(message, ChildAdopted):
            for fd in fds:
                os.close(fd)
            handover = waiting.pop(message.token, None)
            if handover is not None:
                _release(*handover)


def fork_child(
    order: SpawnChild,
    conn_fd: int,
    *,
    sock: socket.socket,
    settings: Settings,
    source_factory: str,
    launcher_pid: int,
) -> tuple[ChildSpawned | ChildSpawnFailed, tuple[int, int] | None]:
    """Fork the fetch process of ``order`` through an intermediate; its report and what releases it."""
    go_r, go_w = os.pipe()
    pid_r, pid_w = os.pipe()
    try:
        intermediate = os.fork()
    except OSError as exc:
        for fd in (go_r, go_w, pid_r, pid_w, conn_fd):
            os.close(fd)
        return ChildSpawnFailed(token=order.token, error=f"fork failed: {exc.strerror}"), None
    if intermediate == 0:
        _intermediate(order, conn_fd, go_r, go_w, pid_r, pid_w, sock, settings, source_factory, launcher_pid)
    os.close(go_r)
    os.close(pid_w)
    os.close(conn_fd)
    try:
        raw = os.read(pid_r, 32)
    finally:
        os.close(pid_r)
    if not raw:
        os.close(go_w)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(intermediate, 0)
        return ChildSpawnFailed(token=order.token, error="the fork template could not fork"), None
    return ChildSpawned(token=order.token, pid=int(raw)), (intermediate, go_w)


def _intermediate(
    order: SpawnChild,
    conn_fd: int,
    go_r: int,
    go_w: int,
    pid_r: int,
    pid_w: int,
    sock: socket.socket,
    settings: Settings,
    source_factory: str,
    launcher_pid: int,
) -> NoReturn:
    """Fork the fetch process, say its pid, wait for the word, exit (so it is re-parented to the launcher)."""
    try:
        sock.detach()
        # Only what this fork needs: no other child's go pipe or socket may be
        # held open here (a go pipe must reach end-of-file when the template dies).
        _close_all_but({0, 1, 2, conn_fd, go_r, pid_w})
        try:
            pid = os.fork()
        except OSError:
            os._exit(1)
        if pid == 0:
            os.close(pid_w)
            become_child(order, conn_fd, go_r, settings=settings, source_factory=source_factory, launcher_pid=launcher_pid)
        # Both sides set the group, so it exists before anyone can signal it.
        with contextlib.suppress(OSError):
            os.setpgid(pid, pid)
        os.close(conn_fd)
        os.write(pid_w, str(pid).encode())
        os.read(go_r, 1)  # the word, or end-of-file when the template is gone: exit either way
    finally:
        os._exit(0)


def become_child(
    order: SpawnChild, conn_fd: int, go_r: int, *, settings: Settings, source_factory: str, launcher_pid: int
) -> NoReturn:
    """In the fetch process: wait until the launcher is our parent, then serve fetches."""
    try:
        gc.enable()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        with contextlib.suppress(OSError):
            os.setpgid(0, 0)
        if os.read(go_r, 1) != GO:
            os._exit(0)  # the template went away before the launcher adopted us: nobody knows our pid
        os.close(go_r)
        end = time.monotonic() + REPARENT_TIMEOUT_S
        while os.getppid() != launcher_pid:
            if time.monotonic() > end:
                os._exit(0)
            time.sleep(0.0005)
        if conn_fd != 3:
            os.dup2(conn_fd, 3)
        os.closerange(4, _max_fd())
        child.run(
            3,
            settings=settings,
            table=order.table,
            generation=order.generation,
            source_factory=source_factory,
            launcher_pid=launcher_pid,
        )
    finally:
        os._exit(EXIT_CODE_INTERNAL)


def _release(intermediate: int, go_w: int) -> None:
    """The launcher adopted the child: let the intermediate exit (the child reads its word too), reap it."""
    with contextlib.suppress(OSError):
        os.write(go_w, GO * 2)  # one byte for the intermediate, one for the fetch process
    os.close(go_w)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(intermediate, 0)


def _send(sock: socket.socket, report: TemplateReady | ChildSpawned | ChildSpawnFailed) -> None:
    sock.send(messages.to_json(report).encode())


def _close_all_but(keep: set[int]) -> None:
    low = 0
    for fd in sorted(keep):
        if fd > low:
            os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, _max_fd())


def _max_fd() -> int:
    try:
        return os.sysconf("SC_OPEN_MAX")
    except (ValueError, OSError):
        return 65536
