"""Command line: the monitor (default), ``launch``, ``diagnose`` and ``emulator``.

Each subcommand's module owns its own parser and exposes ``main(argv) -> int``;
this module only dispatches and runs the monitor. User errors print one line
naming what was wrong and exit 2 — never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from arr_actors import config, extras
from arr_actors.inert import dumps, inert
from arr_actors.messages import ActionRequest, TableStatus
from arr_actors.runtime import injected as runtime_faults
from arr_actors.tables import LOG_READER, PROCESS_KEYS, TABLE_KEYS
from arr_actors.usage import EXIT_USAGE, Parser, UsageError, seconds

if TYPE_CHECKING:
    from arr_actors.config import Settings

PROG = "python -m arr_actors"

#: subcommand -> module exposing main(argv) -> int
SUBCOMMANDS = {
    "launch": ("arr_actors.launch", "start the runner job and follow it until the training job exists"),
    "diagnose": ("arr_actors.diagnostics.cli", "find the real error in a runner execution's log"),
    "emulator": ("arr_actors.emulator", "serve the local fake cloud used by --demo and the tests"),
    "replay": ("arr_actors.recording.replay", "replay a recording made with --record on this screen (no cloud libraries needed)"),
    "view": ("arr_actors.recording.remote", "watch a monitor running on another host over ssh"),
    "doctor": ("arr_actors.doctor", "check credentials, project, APIs, permissions, regions and W&B, with fixes"),
}

#: subcommands that talk to (real or emulated) Google Cloud: they need the gcp extra
CLOUD_SUBCOMMANDS = ("launch", "emulator")

#: runtime fault kinds --fault TABLE=KIND accepts (injected in that table's fetch process)
FAULT_KINDS = tuple("slow:SECONDS" if kind == "slow" else kind for kind in runtime_faults.FAULT_KINDS)

EXIT_OK, EXIT_TROUBLE = 0, 1

#: Without a project every Google Cloud table fails; say how to set one before anything starts.
NO_PROJECT = (
    "no Google Cloud project set: add `project = \"YOUR-PROJECT\"` to arr_actors.toml, or set ARR_PROJECT "
    "(e.g. `export ARR_PROJECT=$(gcloud config get-value project)`); --demo runs against the built-in emulator"
)


def _fault(text: str) -> tuple[str, str]:
    table, sep, kind = text.partition("=")
    if not sep or not table or not kind:
        raise argparse.ArgumentTypeError(f"{text!r} is not TABLE=KIND (e.g. builds=hang)")
    if table not in PROCESS_KEYS:
        raise argparse.ArgumentTypeError(
            f"unknown table {table!r} in {text!r} (tables: {', '.join(TABLE_KEYS)}; {LOG_READER}: the log view's reader)"
        )
    try:
        runtime_faults.parse(kind)  # the fetch process parses it again: one definition of what is valid
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: {exc}") from None
    return table, kind


def check_scenario(name: str) -> None:
    """A usage error for an emulator scenario that does not exist ("" is the default)."""
    if not name:
        return
    from arr_actors.emulator.world import SCENARIOS  # only when asked: the first frame waits for no import

    if name not in SCENARIOS:
        raise UsageError(f"--scenario {name!r}: unknown (scenarios: {', '.join(SCENARIOS)})")


def check_faults(faults: Sequence[tuple[str, str]]) -> None:
    """A usage error for a second --fault on one table: only one would act, silently."""
    given: dict[str, str] = {}
    for table_key, kind in faults:
        if table_key in given:
            raise UsageError(
                f"--fault {table_key}={kind}: {table_key} already has --fault {table_key}={given[table_key]} "
                "(one fault per table)"
            )
        given[table_key] = kind


def monitor_parser() -> Parser:
    parser = Parser(
        prog=PROG,
        description=(
            "Live monitor of W&B Launch runners (Cloud Run), Cloud Builds, Vertex AI jobs and W&B runs. "
            "Subcommands: "
            + "; ".join(f"{name} ({text})" for name, (_, text) in SUBCOMMANDS.items())
            + f". Run '{PROG} SUBCOMMAND --help' for their options."
        ),
    )
    parser.add_argument("--demo", action="store_true", help="run against the embedded emulator (no cloud needed)")
    parser.add_argument("--config", metavar="FILE", help="settings file (default ./arr_actors.toml, then $XDG_CONFIG_HOME/arr_actors/config.toml)")
    parser.add_argument("--once", action="store_true", help="refresh every table once, print the result and exit (0 when all tables are ok, 1 otherwise)")
    parser.add_argument("--json", action="store_true", help="with --once: print one JSON document")
    parser.add_argument("--record", metavar="FILE", help="append every message the screen receives to FILE as JSON lines; '-' runs headless and streams to stdout")
    parser.add_argument("--fault", action="append", type=_fault, default=[], metavar="TABLE=KIND", help=f"inject a fault into a table's fetch process, or the log reader's (logs=KIND) (repeatable; kinds: {', '.join(FAULT_KINDS)})")
    parser.add_argument("--scenario", metavar="NAME", default="", help="emulator scenario with --demo (default, launch-ok, launch-runner-fails, launch-no-job)")
    parser.add_argument("--deadline", type=seconds, metavar="SECONDS", help="override every table's refresh deadline")
    parser.add_argument("--read-only", action="store_true", help="disable every action (cancel): watch only")
    parser.add_argument("--notify", action="store_true", help="also send alerts of new failures to the desktop with notify-send, where it exists")
    parser.add_argument("--no-warm-start", action="store_true", help="do not show the previous run's tables at start")
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto", metavar="WHEN", help="colour on screen: auto (what the terminal says it can do, and NO_COLOR), always or never")
    parser.add_argument("--version", action=VersionAction)
    return parser


class VersionAction(argparse.Action):
    """``--version``: prints the installed version and exits.

    The version is looked up only when asked: ``importlib.metadata`` and its
    search of every installed distribution cost about 15 ms, and the parser
    is built at every start, before the first frame.
    """

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **_: Any) -> None:
        super().__init__(
            option_strings, dest=dest, default=argparse.SUPPRESS, nargs=0,
            help="show program's version number and exit",
        )

    def __call__(self, parser: argparse.ArgumentParser, namespace: Any, values: Any, option_string: str | None = None) -> None:
        print(f"arr-actors {_version()}")
        parser.exit()


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("arr_actors")
    except Exception:  # not installed (running from a source tree)
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    # The cyclic garbage collector is off until the monitor's first frame is drawn
    # (``python -m arr_actors`` turns it off before importing this module): the
    # imports before that frame create some 50,000 objects and little garbage, and
    # the collector's 70-odd passes over them took ~10 ms of the frame. The
    # monitor turns it on once the frame is drawn (in start_system); every other
    # command turns it on at once.
    gc.disable()
    try:
        return _main(argv)
    finally:
        gc.enable()


def _main(argv: Sequence[str] | None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0] in SUBCOMMANDS:
        gc.enable()
        module_name, _ = SUBCOMMANDS[args_list[0]]
        if args_list[0] in CLOUD_SUBCOMMANDS and "-h" not in args_list and "--help" not in args_list:
            try:
                extras.require_cloud_libraries(args_list[0])
            except UsageError as exc:
                print(f"{PROG} {args_list[0]}: error: {exc}", file=sys.stderr)
                return EXIT_USAGE
        module = importlib.import_module(module_name)
        return int(module.main(args_list[1:]) or 0)
    try:
        args = monitor_parser().parse_args(args_list)
        if args.json and not args.once:
            raise UsageError("--json needs --once (the live monitor draws on the terminal)")
        if args.once and args.record:
            raise UsageError("--record cannot be combined with --once")
        if args.scenario and not args.demo:
            raise UsageError("--scenario needs --demo (scenarios belong to the embedded emulator)")
        extras.require_cloud_libraries("the monitor")
        check_scenario(args.scenario)
        check_faults(args.fault)
        settings = config.load(
            config_file=args.config,
            demo=args.demo,
            scenario=args.scenario,
            faults=tuple(args.fault),
            deadline=args.deadline,
        )
        if not settings.project and not settings.demo:
            raise UsageError(NO_PROJECT)
    except (UsageError, config.ConfigError) as exc:
        print(f"{PROG}: error: {inert(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    try:
        if not args.once and args.record != "-":
            # The screen comes first; the emulator (with --demo) and the system start behind it.
            return _run_monitor(
                settings,
                record=args.record,
                warm_start=not args.no_warm_start,
                color=args.color,
                notify=args.notify,
                read_only=args.read_only,
            )
        gc.enable()
        with cloud_endpoints(settings) as settings:
            if args.once:
                return _run_once(settings, as_json=args.json)
            return _run_headless_record(settings)
    except KeyboardInterrupt:
        return 130
    except StartupError as exc:
        print(f"{PROG}: error: {inert(str(exc))}", file=sys.stderr)
        return EXIT_TROUBLE


class StartupError(Exception):
    """The program could not start (e.g. the demo emulator failed); the message says why."""


@contextlib.contextmanager
def cloud_endpoints(settings: Settings) -> Iterator[Settings]:
    """Yield settings pointing at the real cloud, or at an emulator started for --demo."""
    if not settings.demo:
        yield settings
        return
    from arr_actors import emulator

    try:
        emu = emulator.spawn(
            scenario=settings.scenario or "default",
            project=settings.project,
            regions=settings.regions,
            speed=settings.emulator.speed,
        )
    except Exception as exc:
        raise StartupError(f"could not start the demo emulator: {exc}") from None
    with emu:
        yield settings.with_values(
            {
                "project": emu.project,
                "emulator.address": emu.grpc_address,
                "emulator.wandb_url": emu.wandb_url,
                "wandb.entity": settings.wandb.entity or emu.wandb_entity,
                "wandb.project": settings.wandb.project or emu.wandb_project,
            }
        )


def _run_once(settings: Settings, *, as_json: bool) -> int:
    from arr_actors.runtime.once import run_once

    doc = run_once(settings)
    if as_json:
        print(dumps(doc, indent=2))
    else:
        print(format_once_text(doc))
    return EXIT_OK if all(t["state"] == TableStatus.OK for t in doc["tables"].values()) else EXIT_TROUBLE


def format_once_text(doc: dict[str, Any]) -> str:
    """One line per table: title, state, rows, time taken and the error, made inert
    (the error is a cloud server's or a recording's text)."""
    from arr_actors.tables import table

    lines = []
    for key, entry in doc["tables"].items():
        title = table(key).title
        duration = entry.get("duration_s")
        took = f" in {duration:.1f} s" if isinstance(duration, (int, float)) else ""
        line = f"{title:<20} {inert(str(entry['state'])):<12} {len(entry['rows']):>3} rows{took}"
        if entry.get("error"):
            line += f"  {inert(str(entry['error']))}"
        lines.append(line)
    return "\n".join(lines)


def _run_headless_record(settings: Settings) -> int:
    from arr_actors import recording
    from arr_actors.runtime import system

    return recording.record_headless(
        settings, out=sys.stdout.buffer, start_system=lambda sub: system.start(settings, [sub])
    )


def _run_monitor(
    settings: Settings,
    *,
    record: str | None,
    warm_start: bool,
    color: str = "auto",
    notify: bool = False,
    read_only: bool = False,
) -> int:
    # Only light modules here: the first frame must appear before any heavy import.
    from arr_actors import warmstart
    from arr_actors.messages import TableSnapshot
    from arr_actors_ui import app

    writers: list[Any] = []  # subscribers beside the screen
    screen_feed: list[Any] = []  # subscribers that see exactly what the screen shows
    initial: tuple[Any, ...] = ()
    if warm_start:
        initial, notice = warmstart.load_warm_start(settings)
        if notice is not None:
            initial = (*initial, notice)
    if record:
        from arr_actors import recording

        try:
            recorder = recording.Recorder.open(record, settings)
        except OSError as exc:
            raise StartupError(f"--record {record}: cannot write ({exc.strerror})") from None
        for message in initial:  # the first frame is part of the recording
            recorder.tell(message)
        screen_feed.append(recorder)

    def start_system(ui_subscriber: Any) -> Any:
        gc.enable()  # the first frame is drawn (see main)
        if warm_start:
            # Made here, behind the first frame: its thread starts by reading the
            # file again, which would take turns with that frame for the interpreter
            # lock. Nothing reaches it before the system below runs.
            writers.append(warmstart.WarmStartWriter(settings))
        # The runtime starts from the warm-start rows: until a table has fresh
        # rows, a failed refresh keeps them on screen.
        warm = [m for m in initial if isinstance(m, TableSnapshot)]
        return BackgroundSystem(settings, [ui_subscriber, *screen_feed, *writers], warm=warm, read_only=read_only)

    try:
        return app.run(
            settings, start_system=start_system, initial_messages=initial, color=color, notify=notify,
            read_only=read_only,
        )
    finally:
        for subscriber in (*writers, *screen_feed):
            with contextlib.suppress(Exception):
                subscriber.stop()


class BackgroundSystem:
    """Starts the cloud side (the emulator with --demo, then the runtime system) off the UI thread.

    The first frame must not wait for an emulator to boot: this object is
    returned at once, buffers commands until the system runs, and its thread
    lives until ``stop`` — it must, because the emulator's parent-death signal
    is tied to the thread that started it.
    """

    STOP_TIMEOUT_S = 2.0

    def __init__(
        self, settings: Settings, subscribers: list[Any], *, warm: Sequence[Any] = (), read_only: bool = False
    ) -> None:
        self._settings = settings
        # With --read-only nothing that changes the cloud gets through, whoever asks.
        self._read_only = read_only
        self._subscribers = subscribers
        self._warm = tuple(warm)
        self._lock = threading.Lock()
        self._pending: list[Any] | None = []
        self._system: Any = None
        self._stop = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._main, name="cloud-side", daemon=True)
        self._thread.start()

    def _main(self) -> None:
        from arr_actors.messages import Notice
        from arr_actors.runtime import system as runtime_system

        try:
            with cloud_endpoints(self._settings) as live:
                if self._stop.is_set():
                    return
                system = runtime_system.start(live, self._subscribers, warm=self._warm)
                with self._lock:
                    self._system, pending, self._pending = system, self._pending or [], None
                for command in pending:
                    system.tell(command)
                self._stop.wait()
                system.stop()
        except Exception as exc:
            for subscriber in self._subscribers:
                with contextlib.suppress(Exception):
                    subscriber.tell(Notice(text=f"could not start: {exc}", level="error"))
        finally:
            self._done.set()

    def tell(self, command: Any) -> None:
        if self._read_only and isinstance(command, ActionRequest):
            return
        with self._lock:
            if self._pending is not None:
                self._pending.append(command)
                return
            system = self._system
        if system is not None:
            system.tell(command)

    def stop(self) -> None:
        self._stop.set()
        self._done.wait(self.STOP_TIMEOUT_S)
