"""The viewer side on every supported Python: a fast subset in a viewer-only environment per version.

The full suite runs on the Python that runs pytest. For each other supported
version found here (pyenv's versions under ``$(pyenv root)/versions``, or
``python3.X`` on PATH), a virtual environment with the light install
(``pip install -e .``: urwid, pykka, tomli on 3.10) and the test tools, but no
cloud library, runs the subset: codec, settings, render and UI units,
recording reader, player and replay (one of them in a pseudo-terminal),
diagnostics, and the viewer-only and remote-view tests. Environments are built
side by side and kept in the pytest cache, keyed by version and setup.cfg, so a
rerun only runs tests.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SUPPORTED = ("3.10", "3.11", "3.12", "3.13")

#: The test tools of the test extra that the subset needs; no cloud library among them.
TEST_TOOLS = ("pytest>=8", "pytest-timeout>=2.2", "pexpect>=4.9", "pyte>=0.8.2", "psutil>=5.9", "hypothesis>=6.100")

SUBSET = (
    "tests/test_messages.py",
    "tests/test_config.py",
    "tests/ui",
    "tests/recording/test_recording_reader.py",
    "tests/recording/test_player.py",
    "tests/recording/test_recorder.py",
    "tests/recording/test_replay_script.py",
    "tests/diagnostics",
    "tests/hosts/test_viewer_only.py",
    "tests/hosts/test_remote_view.py",
    "tests/hosts/test_demo_steps.py",
)

EXCLUDED = (
    # needs the cloud libraries at import (the emulator), so a marker cannot deselect it
    "tests/diagnostics/test_diagnostics_execution.py",
    # property and size tests of pure logic: slow, and nothing in them depends on the version
    "tests/diagnostics/test_diagnostics_properties.py",
)

SETUP_TIMEOUT_S = 300
SUBSET_TIMEOUT_S = 300

#: version -> what happened, for the summary at the end of the run (conftest.py prints it)
OUTCOMES: dict[str, str] = {}


def pyenv_versions_dir() -> Path:
    root = os.environ.get("PYENV_ROOT", "")
    if not root and shutil.which("pyenv"):
        found = subprocess.run(["pyenv", "root"], capture_output=True, text=True, timeout=30)
        root = found.stdout.strip() if found.returncode == 0 else ""
    return Path(root or Path.home() / ".pyenv") / "versions"


def _release(name: str) -> tuple[int, ...] | None:
    match = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", name)
    return tuple(int(x) for x in match.groups()) if match else None


def find_python(version: str) -> str | None:
    """The newest release of ``version`` (e.g. "3.10"), checked by asking it."""
    candidates: list[tuple[tuple[int, ...], Path]] = []
    versions = pyenv_versions_dir()
    if versions.is_dir():
        for entry in versions.iterdir():
            release = _release(entry.name)
            if release is not None and ".".join(map(str, release[:2])) == version:
                candidates.append((release, entry / "bin" / "python"))
    paths = [str(p) for _, p in sorted(candidates, reverse=True)]
    on_path = shutil.which(f"python{version}")
    if on_path:
        paths.append(on_path)
    for path in paths:
        try:
            answer = subprocess.run(
                [path, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                capture_output=True, text=True, timeout=30,
            )
        except OSError:
            continue
        if answer.returncode == 0 and answer.stdout.strip() == version:
            return path
    return None


class ViewerEnvError(Exception):
    """A viewer-only environment could not be built; the message has pip's last words."""


def viewer_env(python: str, version: str, cache_dir: Path) -> Path:
    """A viewer-only virtual environment for ``python``, built once per version and setup.cfg."""
    key = hashlib.sha256((ROOT / "setup.cfg").read_bytes() + "\0".join(TEST_TOOLS).encode()).hexdigest()[:12]
    venv = cache_dir / f"py{version}-{key}"
    done = venv / "ready"
    if done.exists():
        return venv
    for stale in cache_dir.glob(f"py{version}-*"):  # this one half-built, or an older setup.cfg's
        shutil.rmtree(stale, ignore_errors=True)
    subprocess.run([python, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=SETUP_TIMEOUT_S)
    install = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "-e", str(ROOT), *TEST_TOOLS],
        capture_output=True, text=True, timeout=SETUP_TIMEOUT_S, cwd=ROOT,
    )
    if install.returncode != 0:
        raise ViewerEnvError(f"pip install in a Python {version} environment failed:\n{install.stderr[-3000:]}")
    done.write_text("")
    return venv


@dataclass(frozen=True)
class ViewerEnv:
    """One version's viewer-only environment, or why there is none."""

    version: str
    venv: Path | None = None
    skip: str = ""
    failure: str = ""


def prepare(version: str, cache_dir: Path) -> ViewerEnv:
    running = f"{sys.version_info[0]}.{sys.version_info[1]}"
    if version == running:
        return ViewerEnv(version, skip=f"Python {version} runs the full suite here")
    python = find_python(version)
    if python is None:
        return ViewerEnv(
            version, skip=f"Python {version} not found (looked in {pyenv_versions_dir()} and for python{version} on PATH)"
        )
    try:
        return ViewerEnv(version, venv=viewer_env(python, version, cache_dir))
    except (ViewerEnvError, subprocess.SubprocessError, OSError) as exc:
        return ViewerEnv(version, failure=str(exc))


@pytest.fixture(scope="module")
def viewer_envs(cache_dir: Path) -> dict[str, ViewerEnv]:
    """Every version's environment, built side by side (pip waits on the disk and the index more than it computes).

    The subsets themselves run one after the other: on a small machine, running them
    together only slows each one down, and some of their tests measure time.
    """
    with ThreadPoolExecutor(len(SUPPORTED)) as pool:
        return dict(zip(SUPPORTED, pool.map(lambda v: prepare(v, cache_dir), SUPPORTED), strict=True))


@pytest.fixture(scope="module")
def cache_dir(request: pytest.FixtureRequest) -> Path:
    cache = getattr(request.config, "cache", None)
    if cache is None:  # -p no:cacheprovider
        path = ROOT / ".pytest_cache" / "d" / "viewer-envs"
        path.mkdir(parents=True, exist_ok=True)
        return path
    return Path(cache.mkdir("viewer-envs"))


@pytest.mark.timeout(2 * SETUP_TIMEOUT_S + SUBSET_TIMEOUT_S)
@pytest.mark.parametrize("version", SUPPORTED)
def test_the_viewer_subset_passes_on(version: str, viewer_envs: dict[str, ViewerEnv]) -> None:
    prepared = viewer_envs[version]
    if prepared.skip:
        OUTCOMES[version] = "the full suite (this run)" if "full suite" in prepared.skip else "not found"
        pytest.skip(prepared.skip)
    if prepared.failure or prepared.venv is None:
        OUTCOMES[version] = "FAILED to build its environment"
        pytest.fail(prepared.failure)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTEST_ADDOPTS")}
    env["ARRACTORS_VIEWER_ONLY"] = "1"
    started = time.monotonic()
    proc = subprocess.run(
        [str(prepared.venv / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not gcp",
         "-W", "ignore::DeprecationWarning", *(f"--ignore={path}" for path in EXCLUDED), *SUBSET],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT, env=env, timeout=SUBSET_TIMEOUT_S,
    )
    took = time.monotonic() - started
    text = proc.stdout or ""
    summary = text.strip().splitlines()[-1] if text.strip() else "no output"
    OUTCOMES[version] = f"{'passed' if proc.returncode == 0 else 'FAILED'}: {summary} ({took:.0f} s)"
    failures = [line for line in text.splitlines() if line.startswith(("FAILED", "ERROR"))]
    assert proc.returncode == 0, f"the viewer subset failed on Python {version}: {failures}\n{text[-8000:]}"
    assert " skipped" not in summary, f"tests were skipped in the viewer-only environment: {summary}"
