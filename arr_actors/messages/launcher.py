"""The typed protocol between the process starter and the launcher (and its fork templates)."""

from __future__ import annotations

from dataclasses import dataclass

# Settings travel to the fetch processes through this codec (LauncherInit).
from arr_actors.config import Settings

# ------------------------------------------------ the fetch process launcher
# The UI process's process-starter thread and the launcher process talk in these
# (one message per packet). ``token`` names one child incarnation (a pid can be
# reused, a token is not).


@dataclass(frozen=True, slots=True)
class LauncherInit:
    """Starter -> launcher, first: what every fetch process needs."""

    settings: Settings
    source_factory: str  # "module:function" a child calls as factory(settings, table)
    sys_path: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LauncherReady:
    """Launcher -> starter, once, after LauncherInit."""

    pid: int


@dataclass(frozen=True, slots=True)
class SpawnChild:
    """Starter -> launcher: fork a fetch process; its socket end comes with the packet (SCM_RIGHTS)."""

    token: int
    table: str
    generation: int


@dataclass(frozen=True, slots=True)
class KillChild:
    """Starter -> launcher: SIGTERM the child's group, SIGKILL after ``grace`` (0: at once)."""

    token: int
    grace: float


@dataclass(frozen=True, slots=True)
class StopLauncher:
    """Starter -> launcher: kill every child, reap them all, exit."""


@dataclass(frozen=True, slots=True)
class ChildSpawned:
    token: int
    pid: int


@dataclass(frozen=True, slots=True)
class ChildSpawnFailed:
    token: int
    error: str


@dataclass(frozen=True, slots=True)
class ChildExited:
    """The launcher reaped the child (``returncode`` < 0: killed by that signal).

    ``returncode`` (and ``pid``, if it never got one) is None when the launcher
    itself went away and took its children with it; the starter says so.
    """

    token: int
    pid: int | None
    returncode: int | None


# A fork template (``runtime/template.py``) talks to the launcher over a socket
# of its own: SpawnChild (+ the child's socket) and ChildAdopted in,
# TemplateReady, ChildSpawned and ChildSpawnFailed out. The launcher passes
# TemplateReady and TemplateFailed on to the starter, for the event log.


@dataclass(frozen=True, slots=True)
class TemplateReady:
    """Fork template -> launcher (and launcher -> starter): its libraries are loaded in ``load_s``."""

    name: str
    pid: int
    load_s: float


@dataclass(frozen=True, slots=True)
class TemplateFailed:
    """Launcher -> starter: a fork template was given up; its tables are forked by the launcher itself."""

    name: str
    error: str


@dataclass(frozen=True, slots=True)
class ChildAdopted:
    """Launcher -> fork template: the launcher tracks this child now; let it become the launcher's child."""

    token: int
