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
