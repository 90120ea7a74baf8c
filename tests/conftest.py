"""Keep every test (and every process it starts) away from the user's real files."""

from __future__ import annotations

import os
import tempfile

_HOME = tempfile.mkdtemp(prefix="arr-actors-tests-")
for _var, _sub in (("XDG_CACHE_HOME", "cache"), ("XDG_STATE_HOME", "state"), ("XDG_CONFIG_HOME", "config")):
    os.environ[_var] = os.path.join(_HOME, _sub)
for _var in [v for v in os.environ if v.startswith("ARR_")]:
    del os.environ[_var]
# The emulator accepts any key; never let a developer's real key reach a test.
os.environ["WANDB_API_KEY"] = "0" * 40
os.environ.setdefault("WANDB_SILENT", "true")


def pytest_runtest_setup(item):  # noqa: ANN001 - pytest's hook signature
    """A test marked gcp is skipped, saying why, where the cloud libraries are not installed."""
    if item.get_closest_marker("gcp") is None:
        return
    from arr_actors import extras

    missing = extras.missing_cloud_modules()
    if missing:
        import pytest

        pytest.skip(f"needs the cloud libraries ({missing[0]} is missing): {extras.INSTALL}")
