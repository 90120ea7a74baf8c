"""The log view (``l``): opening a 10,000-line log, and key latency while following one.

Every execution and job of the emulated world is given 10,000 extra log lines
(``log_volume``), so the failed execution opened has a log past the view's
bound. Three moments are timed from the key press: the view on screen with
the log lines the row already holds and its error line (``first screen``),
the first page of the full log from Cloud Logging drawn in its place, and the
whole read done (ten pages of 1,000 entries, each a call with the realistic
profile's 2-3 s). Then a running execution's log is followed with a read every
second while keys scroll it: each key's time to redraw.
"""

from __future__ import annotations

import re

from benchmarks.cloud import monitor_env, profile_name
from benchmarks.monitor import Monitor
from benchmarks.plan import Plan, region_names
from benchmarks.report import Progress, Report
from benchmarks.screen import tables_shown
from benchmarks.stats import summary

#: Lines every item's log is given on top of its own.
LOG_VOLUME = 10_000
HEADER = re.compile(r"^ ?execution \S+, lines (\d+)-(\d+) of (\d+)")


def _header(term: object) -> re.Match[str] | None:
    return HEADER.search(term.lines()[0])  # type: ignore[attr-defined]


def _footer(term: object) -> str:
    return str(term.lines()[-1])  # type: ignore[attr-defined]


def measure_log_view(plan: Plan, workdir: str, report: Report, say: Progress) -> None:
    from arr_actors import emulator

    regions = region_names(18)
    # The world moves in real time here: a followed execution writes while it is watched.
    with emulator.spawn(latency=profile_name(plan.latency_scale), regions=regions, seed=plan.seed, log_gaps=0.0) as emu:
        emu.set_log_volume(LOG_VOLUME)
        env = monitor_env(emu, home=workdir, regions=regions, settings={"api.log_follow_s": 1.0})
        with Monitor([], env=env, home=workdir) as monitor:
            term = monitor.term
            term.wait_until(tables_shown, timeout=60, what="the tables")
            term.wait_until(lambda t: re.search(r"W&B Launch agent  \d+(?:/\d+)? rows?", t.text()), timeout=120, what="runner rows")
            # The runner table has read its executions' logs (the rows hold their excerpts).
            term.wait_until(lambda t: re.search(r"calls/min .*logging [1-9]", _footer(t)), timeout=120, what="the runner's log read")
            term.send(b"f")  # failed executions only
            term.wait_until(lambda t: "failed only" in _footer(t), timeout=10, what="failed only")
            sent = term.send(b"l")

            def shown(t: object) -> bool:
                found = _header(t)
                return found is not None and int(found.group(3)) > 0

            view = term.wait_until(shown, timeout=10, what="the log view with lines") - sent
            excerpt = "excerpt" in term.lines()[0]
            first_page = term.wait_until(lambda t: shown(t) and "excerpt" not in t.lines()[0], timeout=60, what="the first page") - sent
            whole = term.wait_until(lambda t: "reading" not in t.lines()[0], timeout=120, what="the whole log") - sent
            match = _header(term)
            total = int(match.group(3)) if match else 0
            cut = "older lines not read" in term.lines()[0]
            term.send(b"\x1b")
            term.wait_until(lambda t: not _header(t), timeout=10, what="the log closed")
            term.send(b"f")  # active only: a running execution, followed
            term.wait_until(lambda t: "active only" in _footer(t), timeout=10, what="active only")
            term.send(b"l")
            term.wait_until(lambda t: "following every 1 s: next read in" in t.text(), timeout=90, what="following")
            term.wait_until(lambda t: (h := _header(t)) is not None and int(h.group(1)) > 2, timeout=10, what="lines to scroll")
            samples: list[float] = []
            # Off the newest line first, so new lines no longer move the view under the keys.
            at_end = _header(term)
            end_start = int(at_end.group(1)) if at_end else 0
            term.send(b"k")
            term.wait_until(lambda t: (h := _header(t)) is not None and int(h.group(1)) < end_start, timeout=10, what="off the end")
            for n in range(plan.key_presses):
                now_at = _header(term)
                start = int(now_at.group(1)) if now_at else 0
                key, want = (b"k", start - 1) if n % 2 == 0 else (b"j", start + 1)
                pressed = term.send(key)

                def scrolled(t: object, want: int = want) -> bool:
                    found = _header(t)
                    return found is not None and int(found.group(1)) == want

                shown = term.wait_until(scrolled, timeout=10, what="the view scrolled")
                samples.append(shown - pressed)
                term.read_for(0.02 + 0.05 * ((n * 7919) % 11) / 10)
            followed = _header(term)
            term.send(b"\x1b")
            term.wait_until(lambda t: not _header(t), timeout=10, what="the log closed")
    keys = summary([1000 * x for x in samples])
    report.put(
        log_view={
            "lines_in_view": total,
            "older_lines_not_read": cut,
            "first_screen_s": round(view, 3),
            "first_screen_is_excerpt": excerpt,
            "first_page_s": round(first_page, 3),
            "whole_log_s": round(whole, 3),
            "method": "key press to screen: the view with the row's excerpt and error line; the first page of "
            "Cloud Logging drawn in its place; the last page",
        },
        log_follow_key_latency_p99_ms=round(keys["p99"], 1),
        log_follow_key_latency_ms={**{k: round(v, 1) for k, v in keys.items()}, "lines_at_end": int(followed.group(3)) if followed else 0},
    )
