"""``python -m arr_actors diagnose``: find the real error in a runner execution's log.

Reads a saved log (plain lines, or Cloud Logging entries as ``gcloud logging
read --format=json`` prints them) or, with ``--execution``, fetches one
execution's log through the project's Cloud Logging limiter, and prints what the
runner table would show.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import IO, Any, NoReturn

from arr_actors.diagnostics.extract import Diagnosis, diagnose

PROG = "python -m arr_actors diagnose"
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

EPILOG = """\
input: plain log lines (oldest first; --newest-first if not), or a JSON array of
Cloud Logging entries (textPayload or jsonPayload.message, sorted by timestamp when
every entry has one), or one entry per line.

exit status: 0 the log shows a finished or running runner (or nothing known),
1 the log shows a failure, 2 usage error or unreadable input.
"""

_JSON_START = re.compile(rb"\A\s*(?:\[\s*[{\]]|\{)")
_TIMESTAMP = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$")


class UsageError(Exception):
    """The user's arguments or input are wrong; the message says what and what to do."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)")


def parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog=PROG,
        description="Find the real error (or the success note) in a W&B Launch runner execution's log.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", nargs="?", metavar="FILE|-", help="saved log; '-' or nothing reads standard input")
    p.add_argument("--json", action="store_true", help="print outcome, summary, category, pattern, runs and context as JSON")
    p.add_argument("--newest-first", action="store_true", help="the input lists the newest line first (gcloud's order)")
    p.add_argument("--context", action="store_true", help="also print the lines around the match")
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
            diagnosis = _diagnose_input(args.file or "-", newest_first=args.newest_first, status=args.status)
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


def _diagnose_input(name: str, *, newest_first: bool, status: str | None) -> Diagnosis:
    if name == "-":
        return _diagnose_stream(sys.stdin.buffer, origin="standard input", newest_first=newest_first, status=status)
    try:
        with open(name, "rb") as stream:
            return _diagnose_stream(stream, origin=name, newest_first=newest_first, status=status)
    except IsADirectoryError:
        raise UsageError(f"{name}: is a directory; give a log file") from None
    except OSError as exc:
        raise UsageError(f"{name}: cannot read ({exc.strerror or exc})") from None


def _diagnose_stream(stream: IO[bytes], *, origin: str, newest_first: bool, status: str | None) -> Diagnosis:
    reader = stream if isinstance(stream, io.BufferedReader) else io.BufferedReader(stream)  # type: ignore[arg-type]
    try:
        head = reader.peek(4096)[:4096]
        if _JSON_START.match(head):
            lines = entries_to_lines(_read_entries(reader.read(), origin=origin), newest_first=newest_first)
            return diagnose(lines, status=status)
        if newest_first:
            return diagnose(list(reader)[::-1], status=status)
        # Streams: plain logs can be larger than memory.
        return diagnose(reader, status=status)
    except OSError as exc:
        raise UsageError(f"{origin}: cannot read ({exc.strerror or exc})") from None


def _read_entries(data: bytes, *, origin: str) -> list[Any]:
    text = data.decode("utf-8", "replace")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg != "Extra data":
            raise UsageError(f"{origin}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
        doc = _json_lines(text, origin=origin)
    except RecursionError:
        raise UsageError(f"{origin}: JSON nested too deeply") from None
    if isinstance(doc, dict):
        doc = doc["entries"] if "entries" in doc else [doc]
    if not isinstance(doc, list):
        raise UsageError(f"{origin}: expected a JSON array of log entries, got {type(doc).__name__}")
    for number, entry in enumerate(doc, start=1):
        if not isinstance(entry, dict):
            raise UsageError(f"{origin}: log entry #{number} is not a JSON object")
    return doc


def _json_lines(text: str, *, origin: str) -> list[Any]:
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entries.append(json.loads(line))
        except (json.JSONDecodeError, RecursionError) as exc:
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
            raise UsageError(f"{origin}: line {number} is not a JSON log entry ({reason})") from None
    return entries


def entries_to_lines(entries: Sequence[dict[str, Any]], *, newest_first: bool = False) -> Iterator[str]:
    """Log lines from Cloud Logging entries, oldest first.

    gcloud prints the newest entry first; when every entry has a timestamp the
    entries are sorted by it, otherwise their order is taken as given (reversed
    with ``newest_first``).
    """
    stamps = [_epoch(entry.get("timestamp")) for entry in entries]
    order = list(range(len(entries)))
    if entries and all(stamp is not None for stamp in stamps):
        order.sort(key=lambda i: (stamps[i], -i if newest_first else i))
    elif newest_first:
        order.reverse()
    for i in order:
        text = entry_text(entries[i])
        if text:
            yield text


def entry_text(entry: dict[str, Any]) -> str:
    """The text of one Cloud Logging entry (textPayload, jsonPayload.message, or jsonPayload)."""
    text = entry.get("textPayload")
    if isinstance(text, str):
        return text
    payload = entry.get("jsonPayload")
    if isinstance(payload, dict):
        for key in ("message", "textPayload", "msg"):
            if isinstance(payload.get(key), str):
                return payload[key]
        return json.dumps(payload, ensure_ascii=False, sort_keys=True)
    if isinstance(payload, str):
        return payload
    return ""


def _epoch(value: Any) -> float | None:
    """RFC 3339 (as Cloud Logging writes it, up to nanoseconds) to epoch seconds."""
    if not isinstance(value, str):
        return None
    match = _TIMESTAMP.match(value.strip())
    if match is None:
        return None
    whole, fraction, zone = match.groups()
    try:
        moment = datetime.fromisoformat(whole + ("+00:00" if zone == "Z" else zone))
    except ValueError:
        return None
    return moment.timestamp() + (float(f"0.{fraction}") if fraction else 0.0)


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
