from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arr_actors import config
from arr_actors import messages as m

text = st.text(max_size=40)
times = st.floats(min_value=0, max_value=4e9, allow_nan=False, allow_infinity=False)
opt_times = st.none() | times
lines = st.lists(st.text(max_size=80), max_size=5).map(tuple)

runner_rows = st.builds(
    m.RunnerRow,
    execution=text,
    region=text,
    queue=text,
    status=st.sampled_from(["RUNNING", "FINISHED", "FAILED", "CANCELLED", "PENDING"]),
    runs=st.none() | st.integers(min_value=0, max_value=10**6),
    created_at=times,
    started_at=opt_times,
    completed_at=opt_times,
    note=text,
    category=text,
    pattern=text,
    context=lines,
)
build_rows = st.builds(m.BuildRow, build_id=text, status=text, image=text, region=text, created_at=times,
                       started_at=opt_times, finished_at=opt_times, log_url=text)
vertex_rows = st.builds(m.VertexRow, job_id=text, display_name=text, region=text, state=text, created_at=times,
                        started_at=opt_times, ended_at=opt_times, note=text)
run_rows = st.builds(m.WandbRunRow, run_id=text, name=text, state=text, created_at=times,
                     runtime_s=opt_times, note=text, url=text)
any_rows = st.lists(runner_rows | build_rows | vertex_rows | run_rows, max_size=4).map(tuple)

snapshots = st.builds(
    m.TableSnapshot,
    table=st.sampled_from(["runner", "builds", "vertex", "active", "completed"]),
    seq=st.integers(min_value=0, max_value=2**40),
    state=st.sampled_from(m.TableStatus),
    rows=any_rows,
    error=text,
    warning=text,
    fetched_at=opt_times,
    updated_at=times,
    duration_s=opt_times,
    budget_pct=opt_times,
    attempts=st.integers(min_value=0, max_value=10**6),
    restarts=st.integers(min_value=0, max_value=10**6),
    next_refresh_at=opt_times,
)
others = st.one_of(
    st.builds(m.FetchStarted, table=text, generation=st.integers(0, 10**6), started_at=times, deadline_at=times),
    st.builds(m.Notice, text=text, level=st.sampled_from(m.NOTICE_LEVELS), table=text, at=times),
    st.builds(m.PauseChanged, paused=st.booleans()),
    st.builds(m.RefreshRequest, table=text, manual=st.booleans()),
    st.builds(m.SetPaused, paused=st.booleans()),
    st.builds(m.Tick, now=times),
    st.builds(m.StartFetch, table=text, generation=st.integers(0, 10**6), seq=st.integers(0, 10**6)),
    st.builds(m.FetchResult, table=text, generation=st.integers(0, 10**6), seq=st.integers(0, 10**6),
              data=st.none() | st.builds(m.TableData, rows=any_rows, warning=text,
                                         log_reads=st.integers(0, 100), deferred=text),
              error=text, partial=st.booleans()),
    st.builds(m.FetchReady, table=text, generation=st.integers(0, 10**6), startup_s=times, error=text),
    st.builds(m.SpawnChild, token=st.integers(0, 10**6), table=text, generation=st.integers(0, 10**6)),
    st.builds(m.KillChild, token=st.integers(0, 10**6), grace=times),
    st.just(m.StopLauncher()),
    st.builds(m.LauncherReady, pid=st.integers(1, 2**22)),
    st.builds(m.ChildSpawned, token=st.integers(0, 10**6), pid=st.integers(1, 2**22)),
    st.builds(m.ChildSpawnFailed, token=st.integers(0, 10**6), error=text),
    st.builds(m.ChildExited, token=st.integers(0, 10**6), pid=st.none() | st.integers(1, 2**22),
              returncode=st.none() | st.integers(-64, 255)),
)


@settings(max_examples=300)
@given(snapshots | others)
def test_round_trip_is_exact(message):
    assert m.from_json(m.to_json(message)) == message


def test_every_message_type_is_frozen_and_slotted():
    for cls in m.MESSAGE_TYPES.values():
        assert dataclasses.is_dataclass(cls)
        assert cls.__dataclass_params__.frozen, cls
        assert hasattr(cls, "__slots__"), cls


def doc(**changes):
    base = json.loads(m.to_json(m.TableSnapshot(table="runner", seq=1, state="ok")))
    base.update(changes)
    return json.dumps(base)


@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        ("not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        (json.dumps({"type": "TableSnapshot"}), "missing 'schema'"),
        (doc(schema=2), "newer than this program"),
        (doc(schema="1"), "'schema' must be an integer"),
        (doc(type="Bogus"), "unknown message type 'Bogus'"),
        (doc(type=None), "missing or non-string 'type'"),
        (doc(seq="1"), "TableSnapshot.seq: expected an integer"),
        (doc(seq=True), "TableSnapshot.seq: expected an integer"),
        (doc(state="sleepy"), "state"),
        (doc(fetched_at="yesterday"), "TableSnapshot.fetched_at"),
        (doc(rows={"a": 1}), "TableSnapshot.rows: expected a list"),
        (doc(rows=[{"type": "Notice", "text": "x"}]), "not allowed here"),
        (doc(rows=[{"type": "BuildRow", "build_id": "b"}]), "BuildRow.status: missing"),
        (doc(rows=[7]), "TableSnapshot.rows[0]"),
        (doc(colour="red"), "unknown field(s) colour"),
        (json.dumps({"schema": 1, "type": "Tick"}), "Tick.now: missing"),
    ],
)
def test_bad_documents_are_rejected_with_a_clear_error(document, fragment):
    with pytest.raises(m.CodecError) as info:
        m.from_json(document)
    assert fragment in str(info.value)


def test_expect_restricts_types():
    with pytest.raises(m.CodecError, match="not allowed"):
        m.from_json(m.to_json(m.Tick(now=1.0)), expect=m.UI_MESSAGE_TYPES)


def test_non_finite_numbers_are_refused():
    with pytest.raises(m.CodecError):
        m.to_json(m.Tick(now=float("nan")))
    with pytest.raises(m.CodecError):
        m.from_json('{"schema":1,"type":"Tick","now":1e999}')


def test_row_to_plain_drops_the_tag():
    row = m.BuildRow(build_id="b1", status="SUCCESS", image="img", region="global", created_at=1.0)
    plain = m.row_to_plain(row)
    assert "type" not in plain and plain["build_id"] == "b1"


# ------------------------------------------------------------- table status


def test_a_table_status_travels_as_its_string():
    snapshot = m.TableSnapshot(table="runner", seq=1, state=m.TableStatus.CIRCUIT_OPEN)
    doc = json.loads(m.to_json(snapshot))
    assert doc["state"] == "circuit_open" and type(doc["state"]) is str
    assert m.from_json(m.to_json(snapshot)).state is m.TableStatus.CIRCUIT_OPEN
    # Built from the string, a snapshot holds the member.
    assert m.TableSnapshot(table="runner", seq=1, state="stale").state is m.TableStatus.STALE  # type: ignore[arg-type]
    # Formatted like the string on every Python version (the --once text output).
    assert f"{m.TableStatus.TIMEOUT:<8}|" == "timeout |" and str(m.TableStatus.OK) == "ok"
    assert [s for s in m.TableStatus if not s.failing] == [m.TableStatus.OK]


def test_a_bad_table_status_names_the_choices():
    with pytest.raises(m.CodecError, match=r"TableSnapshot.state: 'sleepy' is not one of ok, stale, error"):
        m.TableSnapshot(table="runner", seq=1, state="sleepy")  # type: ignore[arg-type]
    with pytest.raises(m.CodecError, match="TableSnapshot.state: expected a string"):
        m.from_json(doc(state=3))


# ------------------------------------------------------------ rows' answers

NOW = 10_000.0


def test_runtimes_count_while_running_and_stop_at_the_end():
    running = m.RunnerRow("e1", "r", "q", "RUNNING", 1, created_at=NOW - 100, started_at=NOW - 90)
    pending = m.RunnerRow("e2", "r", "q", "PENDING", None, created_at=NOW - 100)
    done = m.VertexRow("j", "n", "r", "FAILED", NOW - 500, started_at=NOW - 400, ended_at=NOW - 100)
    queued = m.BuildRow("b", "QUEUED", "img", "global", NOW - 50)
    assert running.is_running and running.runtime(NOW) == 90 and running.runtime(NOW + 5) == 95
    assert not pending.is_running and pending.runtime(NOW) is None and pending.active
    assert done.runtime(NOW) == 300 and done.runtime(NOW + 60) == 300 and not done.active
    assert queued.runtime(NOW) is None and queued.active and not queued.is_running
    assert (running.status, done.status, queued.status) == ("RUNNING", "FAILED", "QUEUED")


def test_a_wandb_runtime_counts_on_from_its_fetch():
    run = m.WandbRunRow("r1", "n", "running", NOW - 1000, runtime_s=400.0)
    assert run.runtime(NOW, fetched_at=NOW - 10) == 410.0 and run.runtime(NOW) == 400.0
    finished = m.WandbRunRow("r2", "n", "finished", NOW - 1000, runtime_s=400.0)
    assert finished.runtime(NOW, fetched_at=NOW - 10) == 400.0 and finished.status == "finished"
    assert m.WandbRunRow("r3", "n", "running", NOW - 30).runtime(NOW) == 30


@pytest.mark.parametrize(
    "row",
    [
        m.RunnerRow("e", "r", "q", "FAILED", 2, NOW, note="oom", context=("a", "b")),
        m.BuildRow("b", "SUCCESS", "img", "global", NOW),
        m.VertexRow("j", "n", "r", "RUNNING", NOW),
        m.WandbRunRow("r", "n", "crashed", NOW, runtime_s=3.0),
    ],
    ids=lambda row: type(row).__name__,
)
def test_detail_fields_show_every_field_once_and_the_runtime(row):
    fields = row.detail_fields()
    assert [f.kind for f in fields].count("runtime") == 1
    assert [f.kind for f in fields].count("status") == 1
    labels = [f.label for f in fields]
    assert len(labels) == len(set(labels))
    # Every value of the row appears (the log context as a whole, times as numbers).
    values = [f.value for f in fields]
    for f in dataclasses.fields(row):
        if f.name == "runtime_s":  # a reported runtime is what the one runtime line shows
            continue
        assert getattr(row, f.name) in values, f.name
    assert all(f.kind == "time" for f in fields if isinstance(f.value, float) and f.value == NOW)


def test_settings_travel_to_the_launcher_through_the_codec():
    settings = config.defaults(faults=(("builds", "hang"),), regions=("us-east1", "europe-west4"))
    init = m.LauncherInit(settings=settings, source_factory="arr_actors.sources:open_source", sys_path=("/x",))
    assert m.from_json(m.to_json(init), expect=m.LAUNCHER_MESSAGE_TYPES) == init


def test_a_pair_of_the_settings_must_be_a_pair():
    init = m.LauncherInit(settings=config.defaults(), source_factory="a:b", sys_path=())
    document = json.loads(m.to_json(init))
    document["settings"]["tables"][0] = ["runner"]
    with pytest.raises(m.CodecError, match=r"Settings\.tables\[0\]: expected a list of 2 items, got 1"):
        m.from_json(json.dumps(document))
    with pytest.raises(m.CodecError, match="not allowed here"):
        m.from_json(m.to_json(m.StopLauncher()), expect=m.LAUNCHER_REPORT_TYPES)


@pytest.mark.timeout(60)
def test_the_codec_and_the_launcher_protocol_load_on_first_use() -> None:
    # A fresh interpreter: the screen imports the messages before its first frame, which needs neither.
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import arr_actors.messages as m\n"
        "print(sorted(n for n in ('arr_actors.messages.codec', 'arr_actors.messages.launcher') if n in sys.modules))\n"
        "from arr_actors.messages import *\n"
        "print(all(getattr(m, n) is getattr(sys.modules[v], n) for v, ns in m._LAZY.items() for n in ns))\n"
        "print(sorted(set(m.__all__) - set(dir(m))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=50, check=True)
    assert out.stdout.split("\n")[:3] == ["[]", "True", "[]"], out.stdout + out.stderr


def test_a_name_the_package_does_not_have_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'NoSuchMessage'"):
        m.NoSuchMessage  # noqa: B018
    assert m.to_json is m.codec.to_json
