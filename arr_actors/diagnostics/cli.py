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
import json
import sys
from collections.abc import Iterable, Sequence
from typing import IO, Any

from arr_actors.diagnostics.extract import Diagnosis, diagnose
from arr_actors.diagnostics.readers import READ_LIMIT, Reading, entries_to_lines, entry_text, read
from arr_actors.usage import EXIT_USAGE, Parser, UsageError

__all__ = ["entries_to_lines", "entry_text", "format_text", "main", "parser"]

PROG = "python -m arr_actors diagnose"
EXIT_OK, EXIT_FAILED = 0, 1

EPILOG = """\
input: plain log lines (oldest first; --newest-first if not, though a log whose own
markers show it is newest first is turned around), Cloud Logging entries (a JSON
array, one per line, or pasted from the console; sorted by timestamp when every
entry has one), gcloud --format=yaml output, API error bodies, Terraform output,
Cloud Build console copies, kubectl describe output.

exit status: 0 the log shows a finished or running runner (or nothing known),
1 the log shows a failure, 2 usage error or a file that cannot be read.
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
    return p


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = parser().parse_args(list(sys.argv[1:] if argv is None else argv))
        if args.execution:
            if args.file:
                raise UsageError("give either FILE or --execution, not both")
            if not args.region:
                raise UsageError("--execution needs --region (the region the runner job ran in)")
            lines: Iterable[Any] = _execution_lines(args.execution, region=args.region, config_file=args.config)
            diagnosis = diagnose(lines, status=args.status)
        else:
            if args.region or args.config:
                raise UsageError("--region and --config only apply with --execution")
            reading = _read_input(args.file or "-", newest_first=args.newest_first)
            diagnosis = diagnose(reading.lines, status=args.status)
            if args.format:
                print(f"format:   {reading.format}{' (newest first, turned around)' if reading.reversed else ''}")
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        if args.json:
            print(json.dumps(diagnosis.to_plain(), indent=2, ensure_ascii=False))
        else:
            print(format_text(diagnosis, context=args.context))
        sys.stdout.flush()
    except BrokenPipeError:
        pass
    return EXIT_FAILED if diagnosis.outcome == "failed" else EXIT_OK


def format_text(diagnosis: Diagnosis, *, context: bool = False) -> str:
    category = diagnosis.category + (f" ({diagnosis.pattern})" if diagnosis.pattern else "")
    lines = [
        f"summary:  {diagnosis.summary}",
        f"outcome:  {diagnosis.outcome}",
        f"category: {category}",
        f"runs:     {'unknown' if diagnosis.runs is None else diagnosis.runs}",
    ]
    if context and diagnosis.context:
        lines.append("context:")
        lines.extend(f"  {line}" for line in diagnosis.context)
    return "\n".join(lines)


def _read_input(name: str, *, newest_first: bool) -> Reading:
    if name == "-":
        return _read_stream(sys.stdin.buffer, origin="standard input", newest_first=newest_first)
    try:
        with open(name, "rb") as stream:
            return _read_stream(stream, origin=name, newest_first=newest_first)
    except IsADirectoryError:
        raise UsageError(f"{name}: is a directory; give a log file") from None
    except OSError as exc:
        raise UsageError(f"{name}: cannot read ({exc.strerror or exc})") from None


def _read_stream(stream: IO[bytes], *, origin: str, newest_first: bool) -> Reading:
    try:
        data = stream.read(READ_LIMIT)
    except OSError as exc:
        raise UsageError(f"{origin}: cannot read ({exc.strerror or exc})") from None
    return read(data, newest_first=newest_first)


def _execution_lines(execution: str, *, region: str, config_file: str | None) -> list[str]:
    from arr_actors import config

    try:
        settings = config.load(config_file=config_file)
    except config.ConfigError as exc:
        raise UsageError(str(exc)) from None
    try:
        from arr_actors.sources.logs import ExecutionNotFound, read_one_execution
    except ImportError as exc:
        raise UsageError(f"reading Cloud Logging is not available in this installation ({exc})") from None
    from arr_actors.sources.errors import SourceError

    try:
        # The search is bounded by when the execution ran (Cloud Run's create and completion times).
        read = read_one_execution(settings, execution=execution, region=region)
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
