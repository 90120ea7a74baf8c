"""The benchmark run by ``scripts/bench.py``: one module per role.

Shared parts:
    plan            how big and how long each measurement is (``--quick`` shrinks it)
    goals           the targets, and how a value meets one
    stats           percentiles and summaries of samples
    report          the report document, its table, progress lines
    process_tree    memory and CPU of process trees; what a run left behind
    monitor         ``python -m arr_actors`` in a pseudo-terminal (tests/e2e/pty.py), its tree sampled
    screen          reading the monitor's screen, with the UI's own labels and glyphs
    cloud           the emulator, and settings or an environment pointing the product at it
    critical_path   the slowest necessary chain of emulated calls
    subscribers     a runtime subscriber and what its messages say about fetches
    baseline        the old design: the runner refresh with every call in turn

Measurements (``--only NAME``), each a function ``(plan, workdir, report, say)``:
    runner_refresh  product against ``baseline`` (runner_refresh), log reads with nothing new (log_reads)
    startup         first frame, all tables filled against the critical path, idle CPU, memory (startup);
                    warm start (warm_start) and the CPU cost of one frame (render_cost)
    keys            key latency and loop lag while every fetch hangs (key_latency)
    supervision     kill latency (kill_latency), restart after a cloud hang (restart)
    scaling         more regions and executions (scaling)
    log_view        a 10,000-line log opened with l; key latency while following (log_view)

``run`` runs them in order and reaps leftovers; ``cli`` is the command line.
"""
