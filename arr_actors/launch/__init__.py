"""``python -m arr_actors launch``: start the runner job and follow it until the training job exists.

One execution of the runner job (Cloud Run) is started with the queue as an
environment override; then the execution's status and the region's Vertex AI
custom jobs are polled until one of three answers holds: a new training job is
on its way (exit 0), the runner failed (exit 1, with the real error from its
log), or nothing happened in time (exit 3, with what to check).

Layout: ``args`` (flags), ``watch`` (the pure state machine), ``report`` and
``progress`` (pure rendering), ``cloud`` (the calls), ``run`` (the driver).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from arr_actors.inert import inert, inert_block
from arr_actors.launch.args import PROG
from arr_actors.usage import EXIT_USAGE, UsageError

__all__ = ["PROG", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``launch`` with ``argv`` (without the subcommand name); returns the exit status."""
    from arr_actors import config
    from arr_actors.launch import args, report
    from arr_actors.launch.progress import Progress
    from arr_actors.launch.run import follow, new_target

    try:
        options = args.parse(sys.argv[1:] if argv is None else argv)
        settings = config.load(config_file=options.config, demo=options.demo, scenario=options.scenario)
        region = options.region or settings.regions[0]
        if region not in settings.regions:
            raise UsageError(
                f"--region {region}: not a configured region (configured: {', '.join(settings.regions)}); "
                "add it to `regions` in the config file or ARR_REGIONS"
            )
        if not settings.project:
            raise UsageError(
                "no Google Cloud project set: set `project` in the config file or ARR_PROJECT, or use --demo"
            )
    except (UsageError, config.ConfigError) as exc:
        print(f"{PROG}: error: {inert(str(exc))}", file=sys.stderr)
        return EXIT_USAGE

    from arr_actors.cli import StartupError, cloud_endpoints

    out = sys.stdout
    progress_stream = sys.stderr if options.json else sys.stdout
    try:
        with cloud_endpoints(settings) as live:
            progress = Progress(progress_stream, target=new_target(live, options, region=region))
            result = follow(live, options, region=region, progress=progress)
            if options.json:
                out.write(report.to_json(result) + "\n")
                if result.outcome == "interrupted":
                    sys.stderr.write(inert_block(report.to_text(result)) + "\n")
            else:
                # The report quotes cloud text (job names, error messages, log lines): inert line by line.
                out.write(inert_block(report.to_text(result)) + "\n")
            out.flush()
            return result.exit_code
    except StartupError as exc:
        print(f"{PROG}: error: {inert(str(exc))}", file=sys.stderr)
        return report.EXIT_FAILED
    except KeyboardInterrupt:
        # Only reachable while the demo emulator starts or stops: nothing was launched then
        # (or the result was already printed).
        print("Interrupted.", file=sys.stderr)
        return report.EXIT_INTERRUPTED
