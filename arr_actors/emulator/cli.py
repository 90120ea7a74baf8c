"""``python -m arr_actors emulator``: serve until SIGTERM or Ctrl-C.

Prints, one per line and flushed, then nothing more on stdout::

    grpc 127.0.0.1:PORT
    wandb http://127.0.0.1:PORT
    project demo-project
    wandb-entity demo-team
    wandb-project arr-training
    ready

Exit codes: 0 after a clean stop, 1 when it cannot start (e.g. port in use),
2 for bad flags. With ``--parent-pid`` (set by ``spawn``) it also stops when
that process dies: parent-death signal, a parent-pid check and end of stdin.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
from collections.abc import Sequence

from arr_actors.emulator.options import PROG, parse_args
from arr_actors.inert import inert
from arr_actors.usage import EXIT_USAGE, UsageError

EXIT_OK, EXIT_TROUBLE = 0, 1
_PR_SET_PDEATHSIG = 1


def main(argv: Sequence[str] | None = None) -> int:
    try:
        options = parse_args(sys.argv[1:] if argv is None else argv)
    except UsageError as exc:
        print(f"{PROG}: error: {inert(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    stop = threading.Event()
    if options.parent_pid:
        if not _follow_parent(options.parent_pid, stop):
            return EXIT_TROUBLE
    # A handler runs on the main thread between two bytecodes, possibly inside
    # ``stop.wait`` or inside another handler's ``stop.set`` (a second SIGTERM:
    # the parent's and the parent-death signal): taking the event's lock there
    # deadlocked the process for good. It only notes the signal; the loop below
    # looks every 0.1 s.
    signalled: list[int] = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda signum, _frame: signalled.append(signum))

    from arr_actors.emulator.server import Emulator

    emulator = Emulator(options, light_imports=True)
    try:
        emulator.start()
    except OSError as exc:
        print(f"{PROG}: error: {inert(str(exc))}", file=sys.stderr)
        return EXIT_TROUBLE
    try:
        info = emulator.info()
        print(f"grpc {emulator.grpc_address}")
        print(f"wandb {emulator.wandb_url}")
        print(f"project {info['project']}")
        print(f"wandb-entity {info['wandb_entity']}")
        print(f"wandb-project {info['wandb_project']}")
        print("ready", flush=True)
        # A timed wait: signal handlers run between the waits.
        while not signalled and not stop.wait(0.1):
            pass
    except (BrokenPipeError, KeyboardInterrupt):
        pass
    finally:
        emulator.stop()
    return EXIT_OK


def _follow_parent(parent_pid: int, stop: threading.Event) -> bool:
    """Arrange to stop when the parent dies; False if it is already gone."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: the checks below still apply
    # The parent may have died before the signal was armed.
    if os.getppid() != parent_pid:
        return False

    def watch_parent() -> None:
        while not stop.wait(0.5):
            if os.getppid() != parent_pid:
                stop.set()

    def watch_stdin() -> None:
        # The parent holds the other end of our stdin: end of file means it is gone.
        try:
            while os.read(0, 4096):
                pass
        except OSError:
            pass
        stop.set()

    threading.Thread(target=watch_parent, name="emulator-parent", daemon=True).start()
    if not os.isatty(0):
        threading.Thread(target=watch_stdin, name="emulator-stdin", daemon=True).start()
    return True
