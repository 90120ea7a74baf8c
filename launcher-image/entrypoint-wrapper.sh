#!/usr/bin/env bash
# Entrypoint of the runner image: runs the W&B Launch agent and watches its output.
#
# The monitor reads what this prints, so every line of our own has a fixed format,
# defined once in arr_actors/diagnostics/formats.py (the FMT_* constants below must
# equal it; tests/launcher_image checks). The fatal and job-submitted patterns are
# generated from the diagnostics registry into fatal-patterns.txt and
# success-patterns.txt (one POSIX ERE per line) next to this script.
#
# Environment:
#   WANDB_API_KEY, WANDB_ENTITY, LAUNCH_QUEUE   required
#   IDLE_TIMEOUT_S     stop after this many seconds without a job submission (default 1800)
#   STATUS_INTERVAL_S  print a "Runner alive" line this often (default 300)
#   KILL_GRACE_S       seconds between TERM and KILL when stopping the agent (default 8;
#                      Cloud Run kills the container 10 s after its own SIGTERM)
#   LAUNCH_MAX_JOBS    the agent's --max-jobs (default 1)
#   LAUNCH_CONFIG      the agent's --config file, when set
#   PATTERNS_DIR       where the pattern files are (default: this script's directory)
#
# Exit status: 0 after the idle timeout or when the agent exits cleanly; 1 when the
# agent printed a fatal error; the agent's own status when it failed; 128+N after
# signal N (SIGTERM and SIGINT are passed on to the agent as SIGTERM); 2 when the
# environment is incomplete or invalid.
set -euo pipefail

readonly FMT_STARTUP_RUNS='Runs: %s'
readonly FMT_MONITORING='Monitoring for fatal errors in agent output...'
readonly FMT_JOB_SUBMITTED='Job submitted to Vertex AI! (Runs: %s)'
readonly FMT_FATAL_DETECTED='FATAL ERROR DETECTED: %s'
readonly FMT_KILLING_AGENT='Killing agent'
readonly FMT_RUNNER_ALIVE='[%s] Runner alive: %ss lifetime, %ss idle, Runs: %s'
readonly FMT_IDLE_TIMEOUT='Idle timeout: no jobs for %ss (limit %ss), shutting down'
readonly FMT_FINAL_STATS='Final stats:'
readonly FMT_FINAL_RUNS='   Runs: %s'
readonly FMT_FINAL_LIFETIME='   Runner lifetime: %s'
readonly FMT_FINAL_IDLE='   Idle time: %s'
readonly FMT_AGENT_STARTING='Starting agent: wandb launch-agent --queue %s --entity %s'
readonly FMT_AGENT_EXITED='Agent exited with code %s'
readonly FMT_SIGNAL_RECEIVED='Received %s, stopping agent'
readonly FMT_CONTEXT_BEGIN='--- agent output around the fatal error ---'
readonly FMT_CONTEXT_LINE='    %s'
readonly FMT_CONTEXT_END='--- end of agent output ---'
readonly FMT_MISSING_ENV='Missing required environment variables: %s (set them on the Cloud Run job; the API key from Secret Manager)'
readonly FMT_BAD_ENV='Invalid %s: %s is not a whole number of seconds greater than 0'
readonly FMT_PATTERNS_MISSING='Cannot read %s: the image is incomplete (rebuild it from launcher-image/)'

# Agent lines kept for the context block of a bailout, and how many more lines
# (for at most BAILOUT_DRAIN_S seconds) to wait for after the fatal one: the
# agent usually prints a traceback right after the error.
readonly CONTEXT_LINES=40
readonly CONTEXT_AFTER=20
readonly BAILOUT_DRAIN_S=2

say() {
    local format=$1
    shift
    # shellcheck disable=SC2059  # the formats are the FMT_* constants above
    printf -- "${format}\n" "$@"
}

human_duration() {
    local seconds=$1 hours minutes
    hours=$((seconds / 3600))
    minutes=$((seconds % 3600 / 60))
    seconds=$((seconds % 60))
    if ((hours > 0)); then
        printf '%dh %dm %ds' "$hours" "$minutes" "$seconds"
    elif ((minutes > 0)); then
        printf '%dm %ds' "$minutes" "$seconds"
    else
        printf '%ds' "$seconds"
    fi
}

seconds_setting() {
    local name=$1 default=$2 value
    value=${!name:-$default}
    if [[ ! $value =~ ^[0-9]{1,9}$ ]] || ((10#$value == 0)); then
        say "$FMT_BAD_ENV" "$name" "$value" >&2
        exit 2
    fi
    printf '%d' "$((10#$value))"
}

# One ERE of the file's patterns, "(p1)|(p2)|...", so each line is matched once.
load_patterns() {
    local file=$1 pattern combined=""
    if [[ ! -r $file ]]; then
        say "$FMT_PATTERNS_MISSING" "$file" >&2
        exit 2
    fi
    while IFS= read -r pattern || [[ -n $pattern ]]; do
        if [[ -n $pattern ]]; then
            combined+="${combined:+|}(${pattern})"
        fi
    done <"$file"
    printf '%s' "$combined"
}

remember() {
    recent+=("$1")
    if ((${#recent[@]} > CONTEXT_LINES)); then
        recent=("${recent[@]:1}")
    fi
}

# Pass the agent's line on (Cloud Logging records our stdout) and act on it.
relay() {
    local line=$1
    printf '%s\n' "$line"
    remember "$line"
}

handle_line() {
    local line=$1
    relay "$line"
    if [[ -n $SUCCESS_RE && $line =~ $SUCCESS_RE ]]; then
        runs=$((runs + 1))
        last_job=$SECONDS
        say "$FMT_JOB_SUBMITTED" "$runs"
    elif [[ -n $FATAL_RE && $line =~ $FATAL_RE ]]; then
        bail_out "$line"
    fi
}

bail_out() {
    local line=$1 extra=0 more deadline
    stopping=1
    say "$FMT_FATAL_DETECTED" "$line"
    deadline=$((SECONDS + BAILOUT_DRAIN_S))
    while ((extra < CONTEXT_AFTER && SECONDS < deadline)); do
        if IFS= read -r -t 1 -u "$agent_out" more; then
            relay "$more"
            extra=$((extra + 1))
        else
            break
        fi
    done
    say "$FMT_CONTEXT_BEGIN"
    for more in "${recent[@]}"; do
        say "$FMT_CONTEXT_LINE" "$more"
    done
    say "$FMT_CONTEXT_END"
    say "$FMT_KILLING_AGENT"
    stop_agent
    exit 1
}

# TERM the agent, relay what it still prints, KILL it after the grace period, reap it.
stop_agent() {
    local deadline line
    if [[ -z $agent_pid ]]; then
        return 0
    fi
    kill -TERM "$agent_pid" 2>/dev/null || true
    deadline=$((SECONDS + KILL_GRACE_S))
    # bash reaps its children as they exit, so kill -0 fails once the agent is gone.
    while kill -0 "$agent_pid" 2>/dev/null; do
        if ((SECONDS >= deadline)); then
            kill -KILL "$agent_pid" 2>/dev/null || true
            break
        fi
        if IFS= read -r -t 0.2 -u "$agent_out" line; then
            relay "$line"
        elif (($? <= 128)); then
            sleep 0.1 # end of output; the process is still exiting
        fi
    done
    wait "$agent_pid" 2>/dev/null || true
    agent_pid=""
}

on_signal() {
    local name=$1 number=$2
    if ((stopping)); then
        return 0 # already on the way out; the exit in progress prints the final stats
    fi
    stopping=1
    say "$FMT_SIGNAL_RECEIVED" "$name"
    stop_agent
    exit $((128 + number))
}

on_exit() {
    local status=$?
    trap - EXIT
    trap '' TERM INT
    stop_agent
    say "$FMT_FINAL_STATS"
    say "$FMT_FINAL_RUNS" "$runs"
    say "$FMT_FINAL_LIFETIME" "$(human_duration $((SECONDS - started)))"
    say "$FMT_FINAL_IDLE" "$(human_duration $((SECONDS - last_job)))"
    rm -rf -- "$workdir"
    exit "$status"
}

check_idle_and_status() {
    local now=$SECONDS clock
    if ((now >= next_status)); then
        printf -v clock '%(%H:%M:%S)T' -1
        say "$FMT_RUNNER_ALIVE" "$clock" "$((now - started))" "$((now - last_job))" "$runs"
        next_status=$((now + STATUS_INTERVAL_S))
    fi
    if ((now - last_job >= IDLE_TIMEOUT_S)); then
        stopping=1
        say "$FMT_IDLE_TIMEOUT" "$((now - last_job))" "$IDLE_TIMEOUT_S"
        stop_agent
        exit 0
    fi
}

main() {
    local name missing=() here partial="" line status code
    for name in WANDB_API_KEY WANDB_ENTITY LAUNCH_QUEUE; do
        if [[ -z ${!name:-} ]]; then
            missing+=("$name")
        fi
    done
    if ((${#missing[@]} > 0)); then
        say "$FMT_MISSING_ENV" "${missing[*]}" >&2
        exit 2
    fi
    IDLE_TIMEOUT_S=$(seconds_setting IDLE_TIMEOUT_S 1800)
    STATUS_INTERVAL_S=$(seconds_setting STATUS_INTERVAL_S 300)
    KILL_GRACE_S=$(seconds_setting KILL_GRACE_S 8)
    LAUNCH_MAX_JOBS=${LAUNCH_MAX_JOBS:-1}
    here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
    FATAL_RE=$(load_patterns "${PATTERNS_DIR:-$here}/fatal-patterns.txt")
    SUCCESS_RE=$(load_patterns "${PATTERNS_DIR:-$here}/success-patterns.txt")

    runs=0
    started=$SECONDS
    last_job=$SECONDS
    next_status=$((SECONDS + STATUS_INTERVAL_S))
    stopping=0
    agent_pid=""
    recent=()
    workdir=$(mktemp -d)
    trap on_exit EXIT
    trap 'on_signal SIGTERM 15' TERM
    trap 'on_signal SIGINT 2' INT

    say "$FMT_STARTUP_RUNS" "$runs"
    say "$FMT_MONITORING"
    say "$FMT_AGENT_STARTING" "$LAUNCH_QUEUE" "$WANDB_ENTITY"
    local agent=(wandb launch-agent --queue "$LAUNCH_QUEUE" --entity "$WANDB_ENTITY" --max-jobs "$LAUNCH_MAX_JOBS")
    if [[ -n ${LAUNCH_CONFIG:-} ]]; then
        agent+=(--config "$LAUNCH_CONFIG")
    fi
    # A FIFO rather than a pipeline: the agent runs as our direct child, so we
    # hold its pid to signal and reap it, and read its output with timeouts.
    mkfifo "$workdir/agent-output"
    "${agent[@]}" >"$workdir/agent-output" 2>&1 &
    agent_pid=$!
    exec {agent_out}<"$workdir/agent-output"

    while true; do
        if IFS= read -r -t 1 -u "$agent_out" line; then
            handle_line "$partial$line"
            partial=""
        else
            status=$?
            if ((status > 128)); then
                partial+=$line # timed out mid-line: keep what arrived
            else
                if [[ -n $partial$line ]]; then
                    handle_line "$partial$line"
                fi
                break
            fi
        fi
        check_idle_and_status
    done

    # The agent closed its output: it has exited (or is about to).
    stopping=1
    code=0
    wait "$agent_pid" || code=$?
    agent_pid=""
    say "$FMT_AGENT_EXITED" "$code"
    exit "$code"
}

# Sourcing the script (the tests do) defines the functions without running the agent.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    main "$@"
fi
