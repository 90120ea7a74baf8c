"""Which parts of the program need the optional cloud libraries, and the one line that says how to get them.

``pip install arr_actors`` gives the viewer (``replay``, ``view``) and ``diagnose``
of a log with only urwid and pykka; the monitor, ``launch``, ``diagnose
--execution`` and the emulator behind ``--demo`` talk to (real or emulated)
Google Cloud and W&B and need ``pip install 'arr_actors[gcp]'``.
"""

from __future__ import annotations

import importlib.util

from arr_actors.usage import UsageError

#: The extra that holds the cloud libraries (setup.cfg).
EXTRA = "gcp"
INSTALL = f"pip install 'arr_actors[{EXTRA}]'"

#: One module of each library in the extra: found means installed.
CLOUD_MODULES = (
    "grpc",
    "google.cloud.run_v2",
    "google.cloud.aiplatform_v1",
    "google.cloud.logging_v2",
    "google.cloud.devtools.cloudbuild_v1",
    "wandb",
)


def missing_cloud_modules() -> tuple[str, ...]:
    """The cloud modules that cannot be imported here (found, not imported: this costs milliseconds)."""
    missing = []
    for name in CLOUD_MODULES:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):  # a parent package is missing or broken
            found = False
        if not found:
            missing.append(name)
    return tuple(missing)


def require_cloud_libraries(what: str) -> None:
    """Raise a UsageError naming the install command when the cloud libraries are not installed."""
    missing = missing_cloud_modules()
    if missing:
        raise UsageError(
            f"{what} needs the cloud libraries, which are not installed here (no {missing[0]}): {INSTALL}"
        )
