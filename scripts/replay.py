#!/usr/bin/env python3
"""Replay a recording of the monitor in the same terminal UI, or print its final tables.

    python scripts/replay.py session.jsonl                 # at the recorded pace
    python scripts/replay.py session.jsonl --speed 10      # ten times faster
    python scripts/replay.py session.jsonl --follow        # keep reading as the file grows
    python scripts/replay.py session.jsonl --once --json   # final tables, like --once --json
    ssh host 'python -m arr_actors --record -' | python scripts/replay.py -

Needs only the standard library, urwid and the arr_actors message and UI
packages: no cloud or W&B library is imported, so it runs on any host.
Exit status: 0 done, 1 with --once when a table is not ok (as the monitor),
2 when the input is not a readable recording or an argument is wrong.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from typing import IO, Any

try:
    import arr_actors  # noqa: F401
except ImportError:  # run from a source checkout without installing
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from arr_actors import config, recording
from arr_actors.inert import dumps, inert
from arr_actors.messages import TableSnapshot
from arr_actors.once_document import once_document
from arr_actors.recording.headless import silence
from arr_actors.usage import EXIT_USAGE, Parser, UsageError, number

PROG = "replay.py"
EXIT_OK, EXIT_TROUBLE = 0, 1
EXIT_INTERRUPTED = 130

#: Warnings printed by --once before the rest are only counted.
MAX_WARNINGS = 20


def _speed(text: str) -> float:
    return number(text, example="e.g. 10 for ten times faster")


def parser() -> Parser:
    p = Parser(prog=PROG, description="Replay a recording made with 'python -m arr_actors --record FILE|-'.")
    p.add_argument("file", metavar="FILE|-", help="the recording; '-' reads it from standard input (e.g. from ssh)")
    p.add_argument("--speed", type=_speed, default=1.0, metavar="X",
                   help="play X times faster than recorded (default 1)")
    p.add_argument("--follow", action="store_true",
                   help="keep reading as the file grows (a pipe is read until it closes)")
    p.add_argument("--once", action="store_true", help="print the final state of every table and exit")
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto", metavar="WHEN",
                   help="colour on screen: auto (what the terminal says it can do, and NO_COLOR), always or never")
    p.add_argument("--json", action="store_true",
                   help="with --once: print the same JSON document as the monitor's --once --json")
    return p


def settings_for(header: recording.Header) -> config.Settings:
    """Settings for the UI from the header's summary (only what the screen shows)."""
    settings = config.defaults()
    summary = header.settings
    changes: dict[str, Any] = {}
    for key in ("project", "runner_job"):
        if isinstance(summary.get(key), str):
            changes[key] = summary[key]
    count = summary.get("regions")
    if isinstance(count, int) and not isinstance(count, bool) and 0 < count <= 1000:
        # The header keeps only how many regions the monitor watched; the screen shows just that number.
        known = config.DEFAULT_REGIONS
        changes["regions"] = known[:count] + tuple(f"region-{i + 1}" for i in range(len(known), count))
    if isinstance(summary.get("demo"), bool):
        changes["demo"] = summary["demo"]
    tables = summary.get("tables")
    if isinstance(tables, dict):
        policies = []
        for key, policy in settings.tables:
            recorded = tables.get(key)
            with contextlib.suppress(TypeError):
                policy = config.TablePolicy(**recorded) if isinstance(recorded, dict) else policy
            policies.append((key, policy))
        changes["tables"] = tuple(policies)
    return settings.replace(**changes)


def _open(name: str, *, for_ui: bool) -> IO[bytes]:
    if name != "-":
        try:
            return open(name, "rb")
        except OSError as exc:
            raise UsageError(f"{name}: cannot read ({exc.strerror})") from None
    if sys.stdin.isatty():
        raise UsageError(
            "standard input is a terminal: pipe a recording in, "
            "e.g. ssh host 'python -m arr_actors --record -' | python scripts/replay.py -"
        )
    if not for_ui:
        return sys.stdin.buffer
    # The recording arrives on stdin, but the UI reads keys from stdin: move the
    # recording to its own descriptor and give stdin back to the terminal.
    try:
        tty = os.open("/dev/tty", os.O_RDONLY)
    except OSError:
        raise UsageError("no terminal to draw on (/dev/tty): use --once --json to print the tables instead") from None
    data_fd = os.dup(0)
    os.dup2(tty, 0)
    os.close(tty)
    return os.fdopen(data_fd, "rb")


def run_once(rec: recording.Recording, *, name: str, as_json: bool) -> int:
    latest: dict[str, Any] = {}
    last_t = 0.0
    shown = 0
    for item in rec:
        if isinstance(item, recording.Skipped):
            if shown < MAX_WARNINGS:
                print(f"{PROG}: {inert(name)}: {inert(item.text)}", file=sys.stderr)
            shown += 1
            continue
        last_t = item.t
        if isinstance(item.message, TableSnapshot):
            latest[item.message.table] = item.message
    if shown > MAX_WARNINGS:
        print(f"{PROG}: {inert(name)}: ... {shown - MAX_WARNINGS} more lines skipped", file=sys.stderr)
    origin = rec.header.started_epoch
    doc = once_document(latest, generated_at=None if origin is None else origin + last_t)
    if as_json:
        print(dumps(doc, indent=2))
    else:
        from arr_actors.cli import format_once_text

        print(format_once_text(doc))
    return EXIT_OK if all(t["state"] == "ok" for t in doc["tables"].values()) else EXIT_TROUBLE


def run_ui(rec: recording.Recording, *, speed: float, live: bool, stop: threading.Event, color: str = "auto") -> int:
    from ui import app

    # The screen runs on the player's clock: the recording shows at its own time, clock times included.
    player = recording.Player(rec, speed=speed, live=live, stop=stop, shift=False)
    settings = settings_for(rec.header)
    return int(app.run(settings, start_system=player, replay_label="REPLAY", clock=player.clock, color=color) or 0)


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:
        # Ctrl-C while opening or reading a FIFO that never delivers: one line, no traceback.
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _main(argv: list[str] | None) -> int:
    try:
        args = parser().parse_args(sys.argv[1:] if argv is None else argv)
        if args.json and not args.once:
            raise UsageError("--json needs --once")
        if args.once and args.follow:
            raise UsageError("--follow cannot be combined with --once (a followed file never ends)")
        stream = _open(args.file, for_ui=not args.once)
    except UsageError as exc:
        print(f"{PROG}: error: {inert(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    name = "stdin" if args.file == "-" else args.file
    try:
        with stream:
            stop = threading.Event()
            try:
                rec = recording.read_recording(stream, follow=args.follow, stop=stop)
            except recording.RecordingError as exc:
                print(f"{PROG}: {inert(name)}: {inert(str(exc))}", file=sys.stderr)
                return EXIT_USAGE
            if args.once:
                return run_once(rec, name=name, as_json=args.json)
            return run_ui(rec, speed=args.speed, live=args.follow or args.file == "-", stop=stop, color=args.color)
    except BrokenPipeError:
        # Our own output was closed (e.g. piped into head): nothing left to say.
        silence(sys.stdout)
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
