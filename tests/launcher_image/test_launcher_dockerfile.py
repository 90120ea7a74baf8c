"""The runner image's Dockerfile: the obvious properties, checked without building it."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "launcher-image" / "Dockerfile"
SECRET_WORDS = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL", re.I)


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    assert not pending, "a continuation line ends the file"
    result = []
    for line in logical:
        keyword, _, rest = line.partition(" ")
        result.append((keyword.upper(), rest.strip()))
    return result


def of(keyword: str) -> list[str]:
    return [rest for key, rest in instructions() if key == keyword]


def test_slim_python_base():
    (base,) = of("FROM")
    assert re.fullmatch(r"python:3\.\d+-slim(?:-\w+)?", base), base


def test_runs_as_a_non_root_user():
    users = of("USER")
    assert users, "no USER: the container would run as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    keywords = [key for key, _ in instructions()]
    last = {key: i for i, key in enumerate(keywords)}
    assert last["USER"] > last["RUN"], "USER must come after the last RUN (which runs as root)"


def test_entrypoint_is_the_wrapper_in_exec_form():
    (entrypoint,) = of("ENTRYPOINT")
    argv = json.loads(entrypoint)  # exec form: signals reach tini and the wrapper, no sh -c
    assert argv[-1] == "/opt/launcher/entrypoint-wrapper.sh"
    copies = " ".join(of("COPY"))
    assert "entrypoint-wrapper.sh /opt/launcher/entrypoint-wrapper.sh" in copies
    assert "fatal-patterns.txt" in copies and "success-patterns.txt" in copies
    assert not of("CMD"), "a CMD would be passed to the wrapper as arguments"


def test_wandb_is_installed():
    assert any(re.search(r"pip install .*\bwandb\b", run) for run in of("RUN"))


def test_no_secrets_are_baked_in():
    for keyword in ("ENV", "ARG", "LABEL"):
        for rest in of(keyword):
            names = re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=", rest) or [rest.split()[0]]
            for name in names:
                assert not SECRET_WORDS.search(name), f"{keyword} {name} would bake a secret into the image"
    text = "\n".join(rest for _, rest in instructions())
    assert "WANDB_API_KEY" not in text
    assert not of("ADD"), "ADD can fetch remote files; COPY only what is in the context"
