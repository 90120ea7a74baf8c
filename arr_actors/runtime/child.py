"""The fetch process of one table: receive a request, run the source, send the result.

A child is forked by the launcher (a small single-threaded process that never
imports gRPC, so the fork is as clean as a fork server's) and then:

* leads its own process group, so the runtime can kill it together with
  anything it started (``killpg``);
* arms ``PR_SET_PDEATHSIG`` so the kernel kills it when the launcher dies, and
  checks the launcher is still its parent (the launcher may have died before
  the signal was armed);
* watches the launcher from a thread as a second line of defence, and arms a
  faulthandler timer per fetch that ends the process shortly after the deadline
  even if nothing else does.

Start-up is kept apart from fetching: the child builds its source first — the
source imports its cloud libraries and makes its clients, which takes seconds —
and only then says ``FetchReady`` and reads its first StartFetch, so a fetch's
deadline measures the fetch. ``supervision.startup_deadline_s`` bounds the
start-up instead.

StartFetch in, FetchReady and FetchResult out: codec JSON over a
``multiprocessing`` connection. A result larger than
``settings.supervision.max_result_bytes`` is replaced by an error here, and the parent
refuses oversized messages on its side as well.
"""

from __future__ import annotations

import contextlib
import ctypes
import faulthandler
import functools
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any, NoReturn

from arr_actors import messages, partial_rows
from arr_actors.messages import FetchReady, FetchResult, LogPage, StartFetch, TableData
from arr_actors.runtime import injected
from arr_actors.tables import LOG_READER, LOG_READER_PRELOAD, load_function

if TYPE_CHECKING:
    from arr_actors.config import Settings

PR_SET_PDEATHSIG = 1
PR_SET_NAME = 15
#: Largest request the child accepts (requests are a few dozen bytes).
REQUEST_MAX_BYTES = 64 * 1024
#: The self-destruct timer fires this long after deadline + kill grace: only when
#: the runtime failed to kill the process itself (the table has long shown the
#: timeout by then; this only ends the process).
SELF_DESTRUCT_MARGIN_S = 2.0
EXIT_CODE_INTERNAL = 70


def run(
    conn_fd: int,
    *,
    settings: Settings,
    table: str,
    generation: int,
    source_factory: str,
    launcher_pid: int,
) -> NoReturn:
    """Entry point right after the fork. Never returns."""
    code = EXIT_CODE_INTERNAL
    born = time.monotonic()
    try:
        prepare_process(launcher_pid, table=table)
        if table == LOG_READER:
            code = serve_logs(Connection(conn_fd), settings=settings, generation=generation, born=born)
        else:
            code = serve(
                Connection(conn_fd),
                settings=settings,
                table=table,
                generation=generation,
                source_factory=source_factory,
                born=born,
            )
    except BaseException:  # the process ends here whatever happened; say why first
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        os._exit(code)


def prepare_process(launcher_pid: int, *, table: str = "") -> None:
    name_process(f"fetch-{table}")
    # Our own process group (the launcher sets it too, so it exists before
    # anyone can signal it): killpg then reaches everything this child starts.
    with contextlib.suppress(OSError):
        os.setpgid(0, 0)
    _arm_parent_death_signal()
    if os.getppid() != launcher_pid:
        # The launcher died between the fork and prctl: nobody would kill us.
        os._exit(0)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.close(devnull)
    faulthandler.enable(all_threads=True)
    threading.Thread(target=_watch_parent, args=(launcher_pid,), name="parent-watch", daemon=True).start()


def _arm_parent_death_signal() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")


def name_process(name: str) -> None:
    """Set the name ps and top show (``comm``, at most 15 bytes); a fork keeps its parent's otherwise."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_NAME, ctypes.c_char_p(name.encode()[:15]), 0, 0, 0)


def _watch_parent(launcher_pid: int) -> None:
    """End the whole process group when the launcher goes away."""
    try:
        pidfd = os.pidfd_open(launcher_pid)
    except (AttributeError, OSError):
        pidfd = -1
    if pidfd >= 0:
        select.select([pidfd], [], [])
    else:
        while os.getppid() == launcher_pid:
            time.sleep(1.0)
    os.killpg(0, signal.SIGKILL)


def serve(
    conn: Connection,
    *,
    settings: Settings,
    table: str,
    generation: int,
    source_factory: str,
    born: float | None = None,
) -> int:
    """Build the source, say ready, then answer StartFetch until the parent closes the connection.

    ``born`` (monotonic) is when the process started; the start-up time reported
    with FetchReady counts from there.
    """
    fault = settings.fault(table)
    deadline = settings.policy(table).deadline
    limit = settings.supervision.max_result_bytes
    began = time.monotonic() if born is None else born
    fetch, startup_error = open_fetch(settings, table=table, source_factory=source_factory)
    startup_s = round(time.monotonic() - began, 6)
    ready = FetchReady(table=table, generation=generation, startup_s=startup_s, error=startup_error)
    for request in requests(conn, ready=ready, settings=settings, deadline=deadline):
        data: TableData | None = None
        error = ""
        action_error = run_action(settings, request)
        try:
            # Faults act at fetch time, after start-up: ``hang`` hangs a fetch, not the loading.
            if fault:
                data = injected.apply_fault(fault, max_result_bytes=limit, send_raw=conn.send_bytes)
            if data is None:
                if fetch is None and startup_error:
                    # The first fetch reports why the source could not be built ...
                    error, startup_error = startup_error, ""
                else:
                    if fetch is None:
                        # ... later ones try again (credentials may have been fixed since).
                        fetch = load_function(source_factory)(settings, table)
                    partial_rows.listen(functools.partial(_send_partial, conn, request, limit=limit))
                    try:
                        data = fetch()
                    finally:
                        partial_rows.listen(None)
                    if not isinstance(data, TableData):
                        raise TypeError(f"the source returned {type(data).__name__}, not TableData")
        except (Exception, SystemExit) as exc:
            data, error = None, describe_error(exc)
        usage = api_usage(settings, data)
        if action_error:
            usage["action_error"] = action_error
        payload = encode_result(request, data=data, error=error, limit=limit, usage=usage)
        faulthandler.cancel_dump_traceback_later()
        conn.send_bytes(payload)
    return 0


def requests(conn: Connection, *, ready: FetchReady, settings: Settings, deadline: float) -> Iterator[StartFetch]:
    """Say ``ready``, then yield each StartFetch the parent sends, with the
    self-destruct timer armed for its ``deadline``, until the parent closes the
    connection (or had already given up on this process)."""
    try:
        conn.send_bytes(messages.to_json(ready).encode())
    except OSError:
        return  # the parent already gave up on this process
    while True:
        try:
            raw = conn.recv_bytes(REQUEST_MAX_BYTES)
        except EOFError:
            return
        request = messages.from_json(bytes(raw), expect=(StartFetch,))
        faulthandler.dump_traceback_later(deadline + settings.supervision.kill_grace_s + SELF_DESTRUCT_MARGIN_S, exit=True)
        yield request


def serve_logs(conn: Connection, *, settings: Settings, generation: int, born: float | None = None) -> int:
    """The log reader's process: load the Cloud Logging client, say ready, then
    answer each StartFetch's ``log`` request: every page but the last as a
    partial result as it arrives, the last one as the final result."""
    import importlib

    deadline = settings.api.log_read_deadline_s
    limit = settings.supervision.max_result_bytes
    began = time.monotonic() if born is None else born
    clients: Any = None
    error = ""
    faulthandler.dump_traceback_later(
        settings.supervision.startup_deadline_s + settings.supervision.kill_grace_s + SELF_DESTRUCT_MARGIN_S, exit=True
    )
    try:
        for module in LOG_READER_PRELOAD:
            importlib.import_module(module)
        from arr_actors.sources.clients import Clients

        clients = Clients(settings)
        clients.logging()
    except (Exception, SystemExit) as exc:
        error = describe_error(exc)
    finally:
        faulthandler.cancel_dump_traceback_later()
    fault = settings.fault(LOG_READER)
    ready = FetchReady(table=LOG_READER, generation=generation, startup_s=round(time.monotonic() - began, 6), error=error)
    for request in requests(conn, ready=ready, settings=settings, deadline=deadline):
        page = read_log(settings, request, clients=clients, error=error, fault=fault, conn=conn, limit=limit)
        result = FetchResult(table=request.table, generation=request.generation, seq=request.seq, log=page, **api_usage(settings, None))
        payload, problem = _encoded(result, limit)
        if not payload:
            failed = LogPage(request=page.request, error=problem)
            payload = messages.to_json(FetchResult(table=request.table, generation=request.generation, seq=request.seq, log=failed)).encode()
        faulthandler.cancel_dump_traceback_later()
        conn.send_bytes(payload)
    return 0


def read_log(
    settings: Settings, request: StartFetch, *, clients: Any, error: str, fault: str, conn: Connection, limit: int
) -> LogPage:
    """Carry out one log read; a failure is a page that says why (the pages sent before it stand)."""
    wanted = request.log
    if wanted is None:
        return LogPage(request=0, error="the log reader was sent a fetch without a log to read")
    if clients is None:
        return LogPage(request=wanted.request, error=error or "the Cloud Logging client could not be made")

    def send(page: LogPage) -> None:
        partial = FetchResult(table=request.table, generation=request.generation, seq=request.seq, log=page, partial=True)
        payload, problem = _encoded(partial, limit)
        if not payload:
            # The view shows the gap rather than lose it silently.
            gap = LogPage(request=page.request, lines=(f"[{len(page.lines):,} lines not shown: {problem}]",), older=page.older, done=False)
            partial = FetchResult(table=request.table, generation=request.generation, seq=request.seq, log=gap, partial=True)
            payload = messages.to_json(partial).encode()
        conn.send_bytes(payload)

    try:
        if fault:
            injected.apply_fault(fault, max_result_bytes=limit, send_raw=conn.send_bytes)
        from arr_actors.sources import logread

        return logread.read(settings, wanted, send=send, clients=clients)
    except (Exception, SystemExit) as exc:
        free_at = getattr(exc, "free_at", None)
        return LogPage(request=wanted.request, error=describe_error(exc), throttled_until=free_at)


def open_fetch(
    settings: Settings, *, table: str, source_factory: str
) -> tuple[Callable[[], TableData] | None, str]:
    """Build the table's fetch function: ``(fetch, "")``, or ``(None, why not)``.

    This is where the source's libraries are imported and its clients made. A
    faulthandler timer ends the process if it takes far longer than the runtime
    allows (the runtime kills it at ``startup_deadline_s``; this only acts when
    that failed).
    """
    faulthandler.dump_traceback_later(
        settings.supervision.startup_deadline_s + settings.supervision.kill_grace_s + SELF_DESTRUCT_MARGIN_S, exit=True
    )
    try:
        return load_function(source_factory)(settings, table), ""
    except (Exception, SystemExit) as exc:
        return None, describe_error(exc)
    finally:
        faulthandler.cancel_dump_traceback_later()


def _send_partial(conn: Connection, request: StartFetch, data: TableData, *, limit: int) -> None:
    """Send the rows a fetch has so far; rows that cannot be sent are left for the final result."""
    if not isinstance(data, TableData):
        return
    result = FetchResult(table=request.table, generation=request.generation, seq=request.seq, data=data, partial=True)
    payload, _ = _encoded(result, limit)
    if payload:
        conn.send_bytes(payload)


def run_action(settings: Settings, request: StartFetch) -> str:
    """Carry out the action a fetch carries (before the fetch, so its rows show
    the effect); "" when done or when there is none, else why it failed."""
    if request.action is None:
        return ""
    try:
        from arr_actors.sources import actions

        actions.run(settings, request.action)
    except (Exception, SystemExit) as exc:
        return describe_error(exc)
    return ""


def api_usage(settings: Settings, data: TableData | None) -> dict[str, Any]:
    """What this process's fetch cost: its calls per service, and for a
    process that reads Cloud Logging, the shared limiter's count and (when the
    fetch held log reads back) until when it is full. Modules are looked up,
    not imported: a source that never loaded them made no such calls."""
    usage: dict[str, Any] = {}
    counting = sys.modules.get("arr_actors.sources.counting")
    if counting is not None:
        usage["calls"] = counting.take()
    limiter = sys.modules.get("arr_actors.sources.limiter")
    if limiter is not None and "arr_actors.sources.logs" in sys.modules:
        try:
            used, free_at = limiter.for_settings(settings).status()
        except OSError:
            return usage
        usage["logging_used"] = used
        if data is not None and data.deferred:
            usage["throttled_until"] = free_at
    return usage


def encode_result(
    request: StartFetch, *, data: TableData | None, error: str, limit: int, usage: dict[str, Any] | None = None
) -> bytes:
    """The answer to ``request`` as codec JSON, or an error result when it cannot be sent as it is."""
    usage = usage or {}
    result = FetchResult(
        table=request.table, generation=request.generation, seq=request.seq, data=data, error=error, **usage
    )
    payload, problem = _encoded(result, limit)
    if payload:
        return payload
    result = FetchResult(table=request.table, generation=request.generation, seq=request.seq, error=problem, **usage)
    return messages.to_json(result).encode()


def _encoded(result: FetchResult, limit: int) -> tuple[bytes, str]:
    """``result`` as codec JSON within ``limit`` bytes, or no bytes and why it cannot be sent."""
    try:
        payload = messages.to_json(result).encode()
    except messages.CodecError as exc:
        return b"", f"the source returned rows that cannot be encoded: {exc}"
    if len(payload) > limit:
        return b"", (
            f"result too large: {len(payload):,} bytes (limit {limit:,} bytes); "
            "lower the table's row limit or raise supervision.max_result_bytes"
        )
    return payload, ""


def describe_error(exc: BaseException) -> str:
    """A source's error as the user sees it: SourceError text as is, anything else as ``Type: message``."""
    errors = sys.modules.get("arr_actors.sources.errors")
    source_error = getattr(errors, "SourceError", None) if errors is not None else None
    if source_error is not None and isinstance(exc, source_error):
        return str(exc) or type(exc).__name__
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__

