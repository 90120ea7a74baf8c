"""Key latency and loop lag while every table's fetch hangs in C code holding the GIL.

The fetches run in their own processes, so a hung one must not slow the UI: a
key press (``?`` opens and closes the help) must redraw at once, and the
spinner frames must reach the screen on time.
"""

from __future__ import annotations

from arr_actors.tables import TABLE_KEYS
from benchmarks.cloud import monitor_env, start_emulator
from benchmarks.monitor import Monitor
from benchmarks.plan import Plan, region_names
from benchmarks.report import Progress, Report
from benchmarks.screen import help_open, spinner_lags, spinning_everywhere, tables_shown
from benchmarks.stats import summary


def measure_keys(plan: Plan, workdir: str, report: Report, say: Progress) -> None:
    regions = region_names(18)
    home = workdir
    with start_emulator(plan, regions=regions) as emu:
        env = monitor_env(emu, home=home, regions=regions)
        faults = [f"--fault={key}=hang" for key in TABLE_KEYS]
        with Monitor(["--deadline", "600", *faults], env=env, home=home) as monitor:
            term = monitor.term
            term.wait_until(spinning_everywhere, timeout=30, what="a spinner in every table")
            lags = spinner_lags(term, seconds=plan.loop_lag_s)
            samples: list[float] = []
            for n in range(plan.key_presses):
                opening = n % 2 == 0
                sent = term.send(b"?")
                shown = term.wait_until(help_open if opening else tables_shown, timeout=10, what="help toggled by '?'")
                samples.append(shown - sent)
                # Presses at irregular moments, so they do not fall into step with the spinner ticks.
                term.read_for(0.02 + 0.05 * ((n * 7919) % 11) / 10)
            still_hung = spinning_everywhere(term) or help_open(term)
    if not lags:
        raise RuntimeError("no spinner frame was seen while the fetches hung")
    keys = summary([1000 * x for x in samples])
    loop = summary([1000 * x for x in lags])
    report.put(
        key_latency_p99_ms=round(keys["p99"], 1),
        loop_lag_p99_ms=round(loop["p99"], 1),
        key_latency_ms={k: round(v, 1) for k, v in keys.items()},
        loop_lag_ms={**{k: round(v, 1) for k, v in loop.items()}, "method": "spinner frames: tick time to screen"},
    )
    if not still_hung:
        report.notes.append("key latency: the fetches stopped hanging during the measurement")
