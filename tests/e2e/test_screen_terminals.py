"""The screen on terminals that are not a modern UTF-8 xterm, and at small and large sizes.

A recording of chosen snapshots is played by the viewer (``scripts/replay.py``)
in a real pseudo-terminal, so no cloud is needed and what is drawn is exactly
the live screen. Colour is judged from the bytes the program sent; everything
else from the screen a person would see.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from arr_actors import config
from arr_actors import messages as m
from arr_actors import recording as rec
from arr_actors.sources import runner
from arr_actors.tables import TABLES
from arr_actors_ui import keys
from e2e.conftest import REPO, program_env
from e2e.pty import Terminal

pytestmark = pytest.mark.e2e

REPLAY = REPO / "scripts" / "replay.py"
NOW = 1_750_000_000.0
TITLES = [spec.title for spec in TABLES]
BUILD_ID = "fcc5e053-1d2b-4c1e-9a7f-0b6e8f3d2a11"
LOG_URL = f"https://console.cloud.google.com/cloud-build/builds;region=us-central1/{BUILD_ID}?project=123456789012"
VERTEX_NOTE = (
    "The replica workerpool0-0 exited with a non-zero status of 1. "
    "To find out more about why your job exited please check the logs"
)
C_LOCALE = {"LANG": "C", "LC_ALL": "C"}
# SGR parameters that set a colour (default colours 39 and 49 included).
COLOUR_PARAM = re.compile(rb"^(3\d|4\d|9[0-7]|10[0-7])$")


def snapshots() -> list[m.TableSnapshot]:
    rows: dict[str, tuple] = {
        "runner": (
            m.RunnerRow("vertex-ai-launcher-aaa11", "us-central1", "vertex-queue", "RUNNING", 2, NOW - 600, NOW - 590,
                        note=runner.RUNNING_NOTE),
            m.RunnerRow("vertex-ai-launcher-bbb22", "us-central1", "vertex-queue", "FAILED", 3, NOW - 7200, NOW - 7190,
                        NOW - 60, note=runner.READING_NOTE),
            m.RunnerRow("vertex-ai-launcher-ccc33", "europe-west4", "vertex-queue", "FAILED", 1, NOW - 9000,
                        NOW - 8990, NOW - 8000, note="CUDA out of memory. Tried to allocate 2.00 GiB"),
        ),
        "builds": (
            m.BuildRow("b4f0c0de-0000-4000-8000-000000000004", "QUEUED", "us-docker.pkg.dev/p/r/eval:v2", "global",
                       NOW - 20),
            m.BuildRow(BUILD_ID, "SUCCESS", "us-docker.pkg.dev/p/r/trainer:v1", "us-central1", NOW - 3000, NOW - 2990,
                       NOW - 2700, log_url=LOG_URL),
        ),
        "vertex": (
            m.VertexRow("9876543210987654321", "gentle-canyon-758", "europe-west4", "FAILED", NOW - 8000, NOW - 7900,
                        NOW - 7000, note=VERTEX_NOTE),
        ),
        "active": (m.WandbRunRow("r1a2b3c4", "llama-7b-lr3e-4", "running", NOW - 500, runtime_s=399.0),),
        "completed": (
            m.WandbRunRow("r9z8y7x6", "llama-13b-base", "failed", NOW - 9000, runtime_s=1200.0, note="exit code 1"),
        ),
    }  # fmt: skip
    return [
        m.TableSnapshot(table=key, seq=1, state="ok", rows=table_rows, fetched_at=NOW - 2, updated_at=NOW - 2,
                        duration_s=1.2, budget_pct=12.0, attempts=1, next_refresh_at=NOW + 28)
        for key, table_rows in rows.items()
    ]  # fmt: skip


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    settings = config.defaults(project="demo-project")
    path = tmp_path / "screen.jsonl"
    messages: list[object] = [*snapshots(), m.FetchStarted("vertex", 2, NOW, NOW + 600)]
    path.write_bytes(rec.encode_header(settings, started_at=NOW) + b"".join(rec.encode_entry(0.0, x) for x in messages))
    return path


@pytest.fixture
def viewer(spawn: Callable[..., Terminal], recording: Path) -> Callable[..., Terminal]:
    """``viewer(*flags, cols=, rows=, term=, **environment)``: the replay of the recording, its tables on screen
    (those that fit: at least the first two)."""

    def start(*flags: str, cols: int = 80, rows: int = 24, term: str = "xterm-256color", **environment: str) -> Terminal:
        argv = [sys.executable, str(REPLAY), str(recording), *flags]
        screen = spawn(argv, cols=cols, rows=rows, term=term, env=program_env(**environment))
        shown = TITLES if rows >= 24 else TITLES[:2]
        # The vertex job's id (its name gives way to its region on narrow screens) says the rows are in.
        screen.wait_for(lambda t: all(title in t.text() for title in shown) and "9876543" in t.text(), timeout=15)
        screen.drain()
        return screen

    return start


def colour_params(output: bytes) -> set[bytes]:
    params = {p for seq in re.findall(rb"\x1b\[([0-9;:]*)m", output) for p in re.split(rb"[;:]", seq)}
    return {p for p in params if COLOUR_PARAM.match(p)}


def quit_viewer(screen: Terminal) -> None:
    screen.press("q")
    assert screen.wait_exit(timeout=5) == 0


# ---------------------------------------------------------------- colour


@pytest.mark.timeout(60)
def test_vt100_gets_bold_underline_and_reverse_and_no_colour_code(viewer) -> None:
    screen = viewer(term="vt100")
    assert colour_params(bytes(screen.output)) == set()
    failed = screen.cell(*screen.find("FAILED"))
    assert failed.bold and failed.underline and failed.fg == "default" and failed.bg == "default"
    assert screen.cell(0, 2).reverse  # the focused table's title
    quit_viewer(screen)


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("term", "flags", "environment", "coloured"),
    [
        ("xterm-256color", (), {}, True),
        ("xterm", (), {}, True),
        ("xterm-256color", ("--color=never",), {}, False),
        ("xterm-256color", (), {"NO_COLOR": "1"}, False),
        ("vt100", ("--color=always",), {}, True),
        ("xterm-256color", ("--color", "always"), {"NO_COLOR": "1"}, True),
        ("vt100", ("--color=auto",), {}, False),
    ],
    ids=["xterm-256color", "xterm", "never", "NO_COLOR", "vt100-always", "always-beats-NO_COLOR", "vt100-auto"],
)
def test_colour_follows_the_terminal_no_color_and_the_flag(viewer, term, flags, environment, coloured) -> None:
    screen = viewer(*flags, term=term, **environment)
    assert bool(colour_params(bytes(screen.output))) is coloured
    failed = screen.cell(*screen.find("FAILED"))
    assert failed.bold  # failed rows stand out with or without colour
    assert (failed.fg != "default") is coloured
    quit_viewer(screen)


@pytest.mark.timeout(60)
def test_a_wrong_colour_choice_is_one_line_and_exit_2(recording: Path) -> None:
    for argv in (
        [sys.executable, str(REPLAY), str(recording), "--color=sometimes"],
        [sys.executable, "-m", "arr_actors", "--color=sometimes"],
    ):
        proc = subprocess.run(argv, capture_output=True, text=True, cwd=REPO, env=program_env(), timeout=30)
        assert proc.returncode == 2
        assert proc.stdout == ""
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and "--color" in lines[0] and "sometimes" in lines[0] and "always" in lines[0], lines


@pytest.mark.timeout(90)
def test_the_monitor_takes_the_colour_flag(spawn: Callable[..., Terminal], tmp_path: Path) -> None:
    env = program_env(XDG_STATE_HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path))
    argv = [sys.executable, "-m", "arr_actors", "--demo", "--no-warm-start", "--color=never"]
    screen = spawn(argv, env=env)
    screen.wait_for(lambda t: all(title in t.text() for title in TITLES), timeout=30)
    screen.drain()
    assert colour_params(bytes(screen.output)) == set()
    assert screen.cell(0, 2).reverse
    screen.press("q")
    assert screen.wait_exit(timeout=10) == 0


# ------------------------------------------------------------ C locale


@pytest.mark.timeout(60)
def test_c_locale_on_vt100_shows_our_words_in_ascii(viewer) -> None:
    screen = viewer(term="vt100", **C_LOCALE)
    text = screen.text()
    assert max(screen.output) < 0x80
    assert "Running..." in text and "reading its log..." in text
    assert not re.search(r"\S\?|\?\S", text)  # "?" only as a key name in the footer
    assert "-- finished --" in text  # the builds' rule
    assert screen.lines()[0].startswith("> W&B Launch agent")
    assert any(re.search(r"Vertex AI jobs  .*[|/\\-] ", line) for line in screen.lines()), screen.dump()  # ASCII spinner
    assert "~" in text  # cut cells end in the ASCII ellipsis
    screen.press("enter")
    screen.wait_text("W&B Launch agent > us-central1/vertex-ai-launcher-aaa11")
    assert "Running..." in screen.line_with(" Note ")
    screen.press("esc")
    screen.wait_for(lambda t: t.lines()[0].startswith("> W&B"), timeout=5)
    screen.press("/", "x")
    screen.wait_for(lambda t: "/x_" in t.lines()[-1], timeout=5)
    assert "enter keeps, esc clears  q  quit" in screen.lines()[-1]
    screen.press("esc")
    screen.wait_for(lambda t: "/x_" not in t.lines()[-1], timeout=5)
    assert max(screen.output) < 0x80
    quit_viewer(screen)


# --------------------------------------------------------------- widths


@pytest.mark.timeout(60)
def test_at_200x60_ids_and_notes_are_whole(viewer) -> None:
    screen = viewer(cols=200, rows=60)
    text = screen.text()
    assert BUILD_ID in text
    # The vertex region column (europe-west4: 13 with its gap) leaves this
    # 126-character note 122 columns: all of it but the end, cut where the line ends.
    assert VERTEX_NOTE[:121] + "…" in text and "europe-west4" in screen.line_with(VERTEX_NOTE[:40])
    assert "CUDA out of memory. Tried to allocate 2.00 GiB" in text
    assert "trainer:v1" in screen.line_with(BUILD_ID)  # the image keeps its room
    quit_viewer(screen)


@pytest.mark.timeout(60)
def test_at_80x24_the_layout_gives_way_as_before(viewer) -> None:
    screen = viewer()
    assert VERTEX_NOTE not in screen.text()
    # The note gives way, and says so (the job's name gives way to its region too).
    vertex = screen.line_with("9876543210987654321")
    assert vertex.rstrip().endswith("…") and "europe-west4" in vertex
    assert "Running…" in screen.line_with("RUNNING")
    assert "q  quit" in screen.lines()[-1]
    quit_viewer(screen)


# ---------------------------------------------------------------- details


def open_detail(screen: Terminal, table_tabs: int, downs: int, title: str) -> None:
    screen.press(*(["tab"] * table_tabs), *(["down"] * downs), "enter")
    screen.wait_text(title)


def close_detail(screen: Terminal) -> None:
    screen.press("esc")
    screen.wait_for(lambda t: all(title in t.text() for title in TITLES), timeout=5)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("size", [(80, 24), (200, 60)])
def test_detail_views_align_labels_show_one_runtime_and_keep_urls_whole(viewer, size: tuple[int, int]) -> None:
    cols, rows = size
    screen = viewer(cols=cols, rows=rows)
    open_detail(screen, 2, 0, "Vertex AI jobs › europe-west4/9876543210987654321")
    assert re.search(r"^ Display name {2,}gentle-canyon-758", screen.text(), re.M)
    value_columns = {
        screen.line_with(f" {label} ").index(value)
        for label, value in (("Display name", "gentle"), ("Region", "europe-west4"), ("Job id", "98765"))
    }
    assert len(value_columns) == 1
    close_detail(screen)

    open_detail(screen, 1, 0, "Active W&B runs › r1a2b3c4")
    assert sum("Runtime" in line for line in screen.lines()) == 1
    close_detail(screen)

    # Cloud Builds: the finished build, below the queued one
    screen.press("tab", "tab", "tab")
    open_detail(screen, 0, 1, f"Cloud Builds › {BUILD_ID}")
    url_lines = [line for line in screen.lines() if "https://" in line]
    assert len(url_lines) == 1
    line = url_lines[0]
    start = line.index("https://")
    if cols > len(LOG_URL) + 20:
        assert LOG_URL in line
    else:
        assert start == 1 and line.rstrip().endswith("…")  # its own line, cut at the screen edge
        assert LOG_URL.startswith(line[start:].rstrip()[:-1])
    assert not any(LOG_URL[-10:] in other for other in screen.lines() if other != line)
    quit_viewer(screen)


# ------------------------------------------------------------------- help


@pytest.mark.timeout(90)
@pytest.mark.parametrize("environment", [{}, C_LOCALE], ids=["utf8", "C"])
def test_at_50x12_every_help_line_is_reachable(viewer, environment: dict[str, str]) -> None:
    screen = viewer(cols=50, rows=12, term="vt100" if environment else "xterm-256color", **environment)
    screen.press("?")
    screen.wait_for(lambda t: "esc closes, arrows scroll" in t.lines()[0], timeout=5)
    assert re.search(r" 1-\d+/\d+ ", screen.lines()[0])  # says there is more
    wanted = {(k, d) for _, k, d in keys.help_rows()}
    seen: set[tuple[str, str]] = set()
    for _ in range(len(wanted) + 40):  # one line a press: enough presses to reach the last
        lines = screen.lines()
        seen |= {(k, d) for k, d in wanted if any(f"  {k}" in line and d in line for line in lines)}
        shown = re.search(r"(\d+)-(\d+)/(\d+)", lines[0])
        assert shown is not None
        if shown[2] == shown[3]:
            break
        before = lines[0]
        screen.press("j")
        screen.wait_for(lambda t, b=before: t.lines()[0] != b, timeout=5)
    assert seen == wanted
    screen.press("g")
    screen.wait_for(lambda t: re.search(r" 1-\d+/", t.lines()[0]), timeout=5)
    screen.press("esc")
    screen.wait_for(lambda t: all(title in t.text() for title in TITLES[:2]), timeout=5)
    quit_viewer(screen)
