"""``python -m arr_actors diagnose``: find the real error in a runner execution's log.

Reads a saved or pasted log in any of the forms ``readers`` knows (plain lines,
Cloud Logging entries as JSON, JSON lines or console copies, gcloud YAML,
Terraform output, Cloud Build console copies, ``kubectl describe``) or, with
``--execution``, fetches one execution's log through the project's Cloud
Logging limiter, and prints what the runner table would show. Readable text is
never refused: a structured reading that fails falls back to plain text.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import IO, Any

from arr_actors.diagnostics.extract import Diagnosis, diagnose
from arr_actors.diagnostics.readers import READ_LIMIT, Reading, entries_to_lines, entry_text, read
from arr_actors.inert import dumps, inert, inert_line
from arr_actors.usage import EXIT_USAGE, Parser, UsageError

__all__ = ["entries_to_lines", "entry_text", "format_text", "main", "parser"]

PROG = "python -m arr_actors diagnose"
EXIT_OK, EXIT_FAILED = 0, 1
EXIT_INTERRUPTED = 130

#: Bytes of one input line kept; the rest of the line is read and dropped, and the output says so.
LINE_KEEP = 64 << 10
#: Bytes read at a time: never more than a line keeps, so only a chunk's first line can be too long.
CHUNK = LINE_KEEP

EPILOG = f"""\
input: plain log lines (oldest first; --newest-first if not, though a log whose own
markers show it is newest first is turned around), Cloud Logging entries (a JSON
array, one per line, or pasted from the console; sorted by timestamp when every
entry has one), gcloud --format=yaml output, API error bodies, Terraform output,
Cloud Build console copies, kubectl describe output.

exit status: 0 the log shows a finished or running runner (or nothing known),
1 the log shows a failure, 2 usage error, a file that cannot be read, or input
without any text (e.g. only NUL bytes).

limits: {LINE_KEEP >> 10} KiB of each line and {READ_LIMIT >> 20} MiB in all are read; the output says what was cut.
"""

def parser() -> argparse.ArgumentParser:
    p = Parser(
        prog=PROG,
        description="Find the real error (or the success note) in a W&B Launch runner execution's log.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", nargs="?", metavar="FILE|-", help="saved log; '-' or nothing reads standard input")
    p.add_argument("--json", action="store_true", help="print outcome, summary, category, pattern, runs and context as JSON")
    p.add_argument("--newest-first", action="store_true", help="the input lists the newest line first (gcloud's order)")
    p.add_argument("--context", action="store_true", help="also print the lines around the match")
    p.add_argument("--format", action="store_true", help="also print which format the input was read as")
    p.add_argument("--status", metavar="STATUS", help="the execution's status when known (FAILED, SUCCEEDED, RUNNING...)")
    p.add_argument("--execution", metavar="NAME", help="fetch this Cloud Run execution's log instead of reading a file")
    p.add_argument("--region", metavar="REGION", help="the execution's region (with --execution)")
    p.add_argument("--config", metavar="FILE", help="settings file (with --execution)")
    p.add_argument("--demo", action="store_true", help="with --execution: read it from the embedded emulator (as launch --demo)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:
        # Ctrl-C while waiting on a pipe or FIFO that never delivers: one line, no traceback.
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _main(argv: Sequence[str] | None) -> int:
    notes: list[str] = []
    try:
        args = parser().parse_args(list(sys.argv[1:] if argv is None else argv))
        if args.execution:
            if args.file:
                raise UsageError("give either FILE or --execution, not both")
            if not args.region:
                raise UsageError("--execution needs --region (the region the runner job ran in)")
            lines: Iterable[Any] = _execution_lines(
                args.execution, region=args.region, config_file=args.config, demo=args.demo
            )
            diagnosis = diagnose(lines, status=args.status)
        else:
            if args.region or args.config or args.demo:
                raise UsageError("--region, --config and --demo only apply with --execution")
            reading, notes = _read_input(args.file or "-", newest_first=args.newest_first)
            diagnosis = diagnose(reading.lines, status=args.status)
            if args.format:
                print(f"format:   {reading.format}{' (newest first, turned around)' if reading.reversed else ''}")
    except UsageError as exc:
        print(f"{PROG}: error: {inert(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    try:
        if args.json:
            plain = diagnosis.to_plain()
            if notes:
                plain["notes"] = notes
            print(dumps(plain, indent=2))
        else:
            print(format_text(diagnosis, context=args.context, notes=notes))
        sys.stdout.flush()
    except BrokenPipeError:
        pass
    return EXIT_FAILED if diagnosis.outcome == "failed" else EXIT_OK


def format_text(diagnosis: Diagnosis, *, context: bool = False, notes: Sequence[str] = ()) -> str:
    # The summary and context are log text, already cleaned; made inert again here
    # so that no diagnosis (e.g. one rebuilt from a file) prints anything raw.
    category = diagnosis.category + (f" ({diagnosis.pattern})" if diagnosis.pattern else "")
    lines = [
        f"summary:  {inert(diagnosis.summary)}",
        f"outcome:  {diagnosis.outcome}",
        f"category: {inert(category)}",
        f"runs:     {'unknown' if diagnosis.runs is None else diagnosis.runs}",
    ]
    lines.extend(f"note:     {note}" for note in notes)
    if context and diagnosis.context:
        lines.append("context:")
        lines.extend(f"  {inert_line(line).rstrip()}" for line in diagnosis.context)
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Input:
    """What was kept of an input: every line cut to ``LINE_KEEP`` bytes, all of it to ``READ_LIMIT``."""

    data: bytes
    read: int  # bytes read
    cut_lines: tuple[int, ...]  # 1-based numbers of the lines cut at LINE_KEEP bytes
    stopped: bool  # reading stopped at READ_LIMIT bytes with more to come
    line_keep: int = LINE_KEEP

    def notes(self) -> list[str]:
        notes = []
        if self.cut_lines:
            numbers = ", ".join(str(n) for n in self.cut_lines[:5])
            more = f" and {len(self.cut_lines) - 5} more" if len(self.cut_lines) > 5 else ""
            which = "line" if len(self.cut_lines) == 1 else "lines"
            rest = "it" if len(self.cut_lines) == 1 else "each"
            notes.append(f"{which} {numbers}{more} cut at {_size(self.line_keep)}: the rest of {rest} was skipped")
        if self.stopped:
            notes.append(f"input cut after {_size(self.read)}: the rest was not read")
        return notes


def _size(count: int) -> str:
    for unit, size in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= size and count % size == 0:
            return f"{count // size} {unit}"
    return f"{count} bytes"


def read_bounded(stream: IO[bytes], *, line_keep: int = LINE_KEEP, limit: int = READ_LIMIT) -> Input:
    """Read ``stream`` in bounded memory: at most ``line_keep`` bytes of each line and
    ``limit`` bytes in all are read, so neither ``/dev/zero`` nor a huge file without
    a newline can take more than that."""
    chunk_size = min(CHUNK, line_keep)
    kept = bytearray()
    cut: list[int] = []
    line_number, line_length, total = 1, 0, 0  # the line being read, its bytes so far
    while total < limit:
        chunk = stream.read(min(chunk_size, limit - total))
        if not chunk:
            return Input(bytes(kept), total, tuple(cut), stopped=False, line_keep=line_keep)
        total += len(chunk)
        first = chunk.find(b"\n")
        head = chunk if first < 0 else chunk[:first]
        room = line_keep - line_length
        if len(head) > room:  # the current line grows past what is kept
            if not cut or cut[-1] != line_number:
                cut.append(line_number)
            head = head[:room]
        kept += head
        line_length += len(head)
        if first < 0:
            continue
        # Lines that start and end inside this chunk are shorter than a chunk: kept whole.
        last = chunk.rfind(b"\n")
        kept += chunk[first:]
        line_number += chunk.count(b"\n", first)
        line_length = len(chunk) - last - 1
    more = stream.read(1)
    return Input(bytes(kept), total, tuple(cut), stopped=bool(more), line_keep=line_keep)


def _read_input(name: str, *, newest_first: bool) -> tuple[Reading, list[str]]:
    if name == "-":
        return _read_stream(sys.stdin.buffer, origin="standard input", newest_first=newest_first)
    try:
        with open(name, "rb") as stream:
            return _read_stream(stream, origin=name, newest_first=newest_first)
    except IsADirectoryError:
        raise UsageError(f"{name}: is a directory; give a log file") from None
    except OSError as exc:
        raise UsageError(f"{name}: cannot read ({exc.strerror or exc})") from None


# Bytes that carry no text: NUL, the other C0 controls, DEL, and whitespace.
_NO_TEXT = bytes(range(0x21)) + b"\x7f"


def _read_stream(stream: IO[bytes], *, origin: str, newest_first: bool) -> tuple[Reading, list[str]]:
    try:
        got = read_bounded(stream)
    except OSError as exc:
        raise UsageError(f"{origin}: cannot read ({exc.strerror or exc})") from None
    if not got.data.translate(None, _NO_TEXT) and got.data.translate(None, b" \t\r\n\f\v"):
        # Not an empty log but no text at all (/dev/zero, a sparse or zeroed file):
        # "no log lines" would hide that the wrong thing was given.
        what = "only NUL bytes" if not got.data.strip(b"\0") else "only control characters and blanks"
        stopped = ", stopped there" if got.stopped else ""
        raise UsageError(f"{origin}: not a text log ({_size(got.read)} read{stopped}, {what}); give a log file")
    return read(got.data, newest_first=newest_first), got.notes()


def _execution_lines(execution: str, *, region: str, config_file: str | None, demo: bool = False) -> list[str]:
    from arr_actors import config, extras

    extras.require_cloud_libraries("diagnose --execution")
    try:
        settings = config.load(config_file=config_file, demo=demo)
    except config.ConfigError as exc:
        raise UsageError(str(exc)) from None
    try:
        from arr_actors.sources.logs import ExecutionNotFound, read_one_execution
    except ImportError as exc:
        raise UsageError(f"reading Cloud Logging is not available in this installation ({exc})") from None
    from arr_actors.cli import StartupError, cloud_endpoints
    from arr_actors.sources.errors import SourceError

    try:
        with cloud_endpoints(settings) as live:
            # The search is bounded by when the execution ran (Cloud Run's create and completion times).
            read = read_one_execution(live, execution=execution, region=region)
    except StartupError as exc:
        raise UsageError(str(exc)) from None
    except ExecutionNotFound as exc:
        raise UsageError(
            f"no log lines for execution {execution} in {region}: {exc}; check the name and the region "
            f"(the monitor's runner table lists recent executions)"
        ) from None
    except SourceError as exc:  # says what is wrong and what to do
        raise UsageError(f"could not read the log of {execution} in {region}: {exc}") from None
    except Exception as exc:
        raise UsageError(f"could not read the log of {execution} in {region}: {type(exc).__name__}: {exc}") from None
    lines = list(read.lines.get(execution, ()))
    if not lines and read.incomplete:
        raise UsageError(
            f"the log of {execution} in {region} is not complete yet: Cloud Logging had not finished its search "
            f"after {read.calls} pages; try again in a minute"
        )
    if not lines:
        raise UsageError(
            f"no log lines for execution {execution} in {region}: check the name and the region "
            f"(the monitor's runner table lists recent executions)"
        )
    return lines
