"""Settings: defaults, then a TOML file, then ``ARR_*`` environment variables, then flags.

Every key is declared once in ``KEYS`` (dotted name, type, default, check); the
TOML layout, the environment variable names and the validation messages all
come from that one list. The result is a frozen ``Settings`` value that is safe
to hand to any actor or child process.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from arr_actors import safefile
from arr_actors.compat import tomllib
from arr_actors.tables import LOG_READER, PROCESS_KEYS, TABLE_KEYS, TABLES

DEFAULT_REGIONS: tuple[str, ...] = (
    "us-central1",
    "us-east1",
    "us-east4",
    "us-east5",
    "us-south1",
    "us-west1",
    "us-west2",
    "us-west3",
    "us-west4",
    "northamerica-northeast1",
    "southamerica-east1",
    "europe-west1",
    "europe-west2",
    "europe-west3",
    "europe-west4",
    "europe-west9",
    "asia-northeast1",
    "asia-southeast1",
)

DEMO_PROJECT = "demo-project"

#: The most rows a table shows (the upper bound of ``tables.TABLE.limit``):
#: stored and recorded snapshots are cut to it before they are decoded.
MAX_ROWS = 1000


class ConfigError(ValueError):
    """A setting is wrong; the message names the key, the value and what is allowed."""


@dataclass(frozen=True, slots=True)
class TablePolicy:
    interval: float
    budget: float
    deadline: float
    limit: int  # rows shown
    history: int = 0  # rows kept (fetched), shown when the table is zoomed; at least ``limit``

    @property
    def kept(self) -> int:
        """How many rows a refresh fetches: the history, never fewer than are shown."""
        return max(self.limit, self.history)


@dataclass(frozen=True, slots=True)
class WandbSettings:
    entity: str  # "" = the API key's default entity
    project: str


@dataclass(frozen=True, slots=True)
class Supervision:
    backoff_initial_s: float
    backoff_max_s: float
    backoff_jitter: float
    healthy_reset_s: float
    circuit_failures: int
    circuit_window_s: float
    circuit_cooldown_s: float
    kill_grace_s: float
    startup_deadline_s: float
    start_batch_size: int
    start_batch_delay_s: float
    max_result_bytes: int


@dataclass(frozen=True, slots=True)
class ApiSettings:
    call_timeout_s: float
    logging_reads_per_minute: int
    vertex_window_hours: float
    log_read_deadline_s: float
    log_follow_s: float
    log_max_lines: int


@dataclass(frozen=True, slots=True)
class AlertSettings:
    tables: tuple[str, ...]  # tables whose rows that newly fail ring the bell and show a notice


@dataclass(frozen=True, slots=True)
class Paths:
    cache_dir: str
    state_dir: str


@dataclass(frozen=True, slots=True)
class EmulatorSettings:
    address: str  # "host:port" of a gRPC endpoint speaking the Google APIs, or ""
    wandb_url: str  # e.g. "http://127.0.0.1:PORT" for the emulator, "" = W&B default
    speed: float  # world speed of the --demo emulator


#: A dotted setting ``SECTION.FIELD`` lands in ``Settings.SECTION.FIELD``; the
#: fields of each section class are exactly the names after the dot in ``KEYS``.
SECTIONS: dict[str, type] = {
    "wandb": WandbSettings,
    "supervision": Supervision,
    "api": ApiSettings,
    "alerts": AlertSettings,
    "paths": Paths,
    "emulator": EmulatorSettings,
}


@dataclass(frozen=True, slots=True)
class Settings:
    project: str
    regions: tuple[str, ...]
    runner_job: str
    queue: str
    wandb: WandbSettings
    supervision: Supervision
    api: ApiSettings
    alerts: AlertSettings
    paths: Paths
    emulator: EmulatorSettings
    tables: tuple[tuple[str, TablePolicy], ...]
    # how this run was asked for (flags, not settings)
    scenario: str
    faults: tuple[tuple[str, str], ...]  # (table, kind) injected into that table's child
    demo: bool
    config_file: str  # the file that was read, "" if none

    def policy(self, table: str) -> TablePolicy:
        for key, policy in self.tables:
            if key == table:
                return policy
        raise KeyError(f"unknown table {table!r} (tables: {', '.join(TABLE_KEYS)})")

    def fault(self, table: str) -> str:
        for key, kind in self.faults:
            if key == table:
                return kind
        return ""

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    def with_values(self, values: Mapping[str, Any]) -> Settings:
        """These settings with some changed, named as in the TOML file (``{"api.call_timeout_s": 5.0}``)."""
        sections: dict[str, dict[str, Any]] = {}
        top: dict[str, Any] = {}
        for name, value in values.items():
            section, dot, field = name.partition(".")
            if dot and section in SECTIONS and field in {f.name for f in dataclasses.fields(SECTIONS[section])}:
                sections.setdefault(section, {})[field] = value
            elif not dot and name in _TOP_LEVEL:
                top[name] = value
            else:
                raise KeyError(f"unknown setting {name!r}")
        for section, changes in sections.items():
            top[section] = dataclasses.replace(getattr(self, section), **changes)
        return dataclasses.replace(self, **top)

    def summary(self) -> dict[str, Any]:
        """What a recording header and logs say about these settings (no secrets)."""
        return {
            "project": self.project,
            "regions": len(self.regions),
            "runner_job": self.runner_job,
            "wandb": f"{self.wandb.entity}/{self.wandb.project}",
            "demo": self.demo,
            "tables": {k: dataclasses.asdict(p) for k, p in self.tables},
        }


# ----------------------------------------------------------------- key schema


@dataclass(frozen=True, slots=True)
class Key:
    name: str  # dotted, as in the TOML file
    kind: str  # "str", "int", "float", "bool", "list"
    default: Any
    help: str
    check: Callable[[Any], str | None] | None = None  # returns what is allowed, or None if fine

    @property
    def env(self) -> str:
        return "ARR_" + self.name.upper().replace(".", "_").replace("-", "_")


#: Upper bounds of the numeric settings. Every number has one, so no setting
#: can overflow a timer or a conversion later (a deadline of 1e308 once did).
HOUR = 3600.0
DAY = 86400.0
MAX_RESULT_BYTES = 1024 * 1024 * 1024
MAX_READS_PER_MINUTE = 10_000
MAX_COUNT = 1000
MAX_SPEED = 10_000.0


def _bound(high: float) -> str:
    return str(int(high)) if float(high).is_integer() else f"{high:g}"


def _positive(high: float) -> Callable[[Any], str | None]:
    """A check: greater than 0 and at most ``high``; says the range when not."""

    def check(value: Any) -> str | None:
        return None if 0 < value <= high else f"a number greater than 0 and at most {_bound(high)}"

    return check


def _non_negative(high: float) -> Callable[[Any], str | None]:
    """A check: 0 or more and at most ``high``; says the range when not."""

    def check(value: Any) -> str | None:
        return None if 0 <= value <= high else f"a number of 0 or more and at most {_bound(high)}"

    return check


def _fraction(value: Any) -> str | None:
    return None if 0 <= value < 1 else "a fraction of 0 or more and less than 1 (e.g. 0.2)"


def _regions(value: Any) -> str | None:
    if not value:
        return "a non-empty list of regions such as [\"us-central1\"]"
    for region in value:
        if not region or not all(c.isalnum() or c == "-" for c in region) or region != region.lower():
            return f"region names in lower case letters, digits and dashes (bad: {region!r})"
    if len(set(value)) != len(value):
        return "a list without repeated regions"
    return None


#: Tables whose rows can fail (an execution, a build, a job, a run): the ones that may alert.
ALERT_TABLES = ("runner", "builds", "vertex", "completed")


def _alert_tables(value: Any) -> str | None:
    unknown = [v for v in value if v not in ALERT_TABLES]
    if unknown:
        return f"a list of tables among {', '.join(ALERT_TABLES)} (bad: {unknown[0]!r})"
    return None


def _name(value: Any) -> str | None:
    if value and not all(c.isalnum() or c in "-_." for c in value):
        return "letters, digits, '-', '_' or '.'"
    return None


def _xdg(var: str, fallback: str) -> str:
    base = os.environ.get(var) or os.path.join(os.path.expanduser("~"), fallback)
    return os.path.join(base, "arr_actors")


def _keys() -> tuple[Key, ...]:
    keys = [
        Key("project", "str", "", "Google Cloud project id", _name),
        Key("regions", "list", list(DEFAULT_REGIONS), "regions the runner job is deployed to", _regions),
        Key("runner_job", "str", "vertex-ai-launcher", "Cloud Run job name of the runner", _name),
        Key("queue", "str", "vertex-ai-queue", "W&B Launch queue the runner serves", _name),
        Key("wandb.entity", "str", "", "W&B entity (team or user); empty = the API key's default", _name),
        Key("wandb.project", "str", "", "W&B project of the training runs", _name),
        Key("supervision.backoff_initial_s", "float", 1.0, "first restart delay", _positive(HOUR)),
        Key("supervision.backoff_max_s", "float", 60.0, "restart delay cap", _positive(DAY)),
        Key("supervision.backoff_jitter", "float", 0.2, "restart delay jitter (fraction)", _fraction),
        Key("supervision.healthy_reset_s", "float", 120.0, "healthy time that resets the backoff", _positive(DAY)),
        Key("supervision.circuit_failures", "int", 5, "failures in the window that open the circuit", _positive(MAX_COUNT)),
        Key("supervision.circuit_window_s", "float", 120.0, "window for counting failures", _positive(DAY)),
        Key("supervision.circuit_cooldown_s", "float", 60.0, "time before a half-open retry", _positive(DAY)),
        Key("supervision.kill_grace_s", "float", 0.5, "SIGTERM grace before SIGKILL", _non_negative(60.0)),
        Key("supervision.startup_deadline_s", "float", 60.0, "time a new fetch process may take to load", _positive(HOUR)),
        Key("supervision.start_batch_size", "int", 0, "tables started together at launch (0 = all)", _non_negative(MAX_COUNT)),
        Key("supervision.start_batch_delay_s", "float", 0.0, "delay between start batches", _non_negative(HOUR)),
        Key("supervision.max_result_bytes", "int", 8 * 1024 * 1024, "largest fetch result accepted", _positive(MAX_RESULT_BYTES)),
        Key("api.call_timeout_s", "float", 20.0, "timeout of every single cloud call", _positive(HOUR)),
        Key("api.logging_reads_per_minute", "int", 60, "Cloud Logging entries.list calls per minute", _positive(MAX_READS_PER_MINUTE)),
        Key("api.vertex_window_hours", "float", 24.0, "Vertex AI jobs created this many hours back are listed", _positive(24.0 * 366)),
        Key("api.log_read_deadline_s", "float", 90.0, "hard limit of one log read (the log view); past it the read is killed", _positive(HOUR)),
        Key("api.log_follow_s", "float", 10.0, "seconds between reads while following a log (each is one Cloud Logging call)", _positive(HOUR)),
        Key("api.log_max_lines", "int", 10_000, "lines the log view keeps (older ones are dropped, and said so)", _positive(1_000_000)),
        Key("alerts.tables", "list", list(ALERT_TABLES), "tables whose new failures ring the bell", _alert_tables),
        Key("paths.cache_dir", "str", "", "terminal-state memory (default $XDG_CACHE_HOME/arr_actors)"),
        Key("paths.state_dir", "str", "", "event log, warm start, limiter (default $XDG_STATE_HOME/arr_actors)"),
        Key("emulator.address", "str", "", "host:port of a local emulator (gRPC); empty = real Google Cloud"),
        Key("emulator.wandb_url", "str", "", "base URL of a W&B server; empty = api.wandb.ai"),
        Key("emulator.speed", "float", 10.0, "how much faster than real time the --demo world runs", _positive(MAX_SPEED)),
    ]
    for spec in TABLES:
        keys += [
            Key(f"tables.{spec.key}.interval", "float", spec.interval, f"seconds between {spec.key} refreshes", _positive(DAY)),
            Key(f"tables.{spec.key}.budget", "float", spec.budget, f"expected {spec.key} refresh time", _positive(DAY)),
            Key(f"tables.{spec.key}.deadline", "float", spec.deadline, f"hard limit of a {spec.key} refresh", _positive(DAY)),
            Key(f"tables.{spec.key}.limit", "int", spec.limit, f"rows shown in {spec.key}", _positive(MAX_ROWS)),
            Key(f"tables.{spec.key}.history", "int", spec.history, f"rows {spec.key} keeps (zoom shows them)", _positive(MAX_ROWS)),
        ]
    return tuple(keys)


KEYS: tuple[Key, ...] = _keys()
_TOP_LEVEL = frozenset(k.name for k in KEYS if "." not in k.name)
_BY_NAME = {k.name: k for k in KEYS}
_BY_ENV = {k.env: k for k in KEYS}


def _coerce(key: Key, value: Any, *, origin: str) -> Any:
    """Check a value from TOML (typed) or the environment/flags (strings)."""
    where = f"{key.name} (from {origin})"
    try:
        if key.kind == "str":
            if not isinstance(value, str):
                raise TypeError
            out: Any = value.strip()
        elif key.kind == "int":
            if isinstance(value, str):
                value = int(value.strip())
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError
            out = value
        elif key.kind == "float":
            if isinstance(value, str):
                value = float(value.strip())
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError
            out = float(value)  # OverflowError for an integer too large to be a float
            if out != out:
                raise ValueError
            if math.isinf(out):
                raise OverflowError  # a number, past every bound: the message says the range
        elif key.kind == "bool":
            if isinstance(value, str):
                lowered = value.strip().lower()
                if lowered not in ("1", "0", "true", "false", "yes", "no"):
                    raise ValueError
                value = lowered in ("1", "true", "yes")
            if not isinstance(value, bool):
                raise TypeError
            out = value
        else:  # list of strings
            if isinstance(value, str):
                value = [v.strip() for v in value.split(",") if v.strip()]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise TypeError
            out = tuple(v.strip() for v in value)
    except OverflowError:  # an integer too large to be a float: past every upper bound
        problem = key.check(math.inf) if key.check is not None else None
        raise ConfigError(f"{where}: {_shown(value)} is not valid; expected {problem or 'a smaller number'}") from None
    except (TypeError, ValueError):
        expected = {
            "str": "a string",
            "int": "an integer",
            "float": "a number",
            "bool": "true or false",
            "list": "a list of strings (or a comma-separated string)",
        }[key.kind]
        raise ConfigError(f"{where}: {_shown(value)} is not valid; expected {expected}") from None
    if key.check is not None:
        problem = key.check(out)
        if problem:
            raise ConfigError(f"{where}: {_shown(value)} is not valid; expected {problem}")
    return out


def _shown(value: Any) -> str:
    """A value as a message quotes it: a 400-digit number is not worth a screenful."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _flatten(doc: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, value in doc.items():
        dotted = f"{prefix}{name}"
        if isinstance(value, dict):
            flat.update(_flatten(value, dotted + "."))
        else:
            flat[dotted] = value
    return flat


def find_config_file(explicit: str | None = None, *, env: Mapping[str, str] | None = None) -> Path | None:
    """--config, else ./arr_actors.toml, else $XDG_CONFIG_HOME/arr_actors/config.toml."""
    env = os.environ if env is None else env
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise ConfigError(f"--config {explicit}: no such file")
        return path
    local = Path("arr_actors.toml")
    if local.is_file():
        return local
    xdg = env.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    user = Path(xdg) / "arr_actors" / "config.toml"
    return user if user.is_file() else None


#: A settings file is a page of keys; anything far larger is not one.
MAX_CONFIG_BYTES = 1024 * 1024


def read_config_file(path: Path) -> dict[str, Any]:
    # A link to a settings file kept elsewhere (dotfiles) is common: followed.
    # A FIFO or device is refused without blocking, a huge file before reading it.
    try:
        data = safefile.read_regular(path, max_bytes=MAX_CONFIG_BYTES, follow_symlinks=True)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid TOML (nested too deeply)") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    values: dict[str, Any] = {}
    for name, value in _flatten(doc).items():
        key = _BY_NAME.get(name)
        if key is None:
            raise ConfigError(f"{path}: unknown setting {name!r} (see the configuration reference in README.md)")
        values[name] = _coerce(key, value, origin=str(path))
    return values


def load(
    *,
    config_file: str | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    demo: bool = False,
    scenario: str = "",
    faults: tuple[tuple[str, str], ...] = (),
    deadline: float | None = None,
) -> Settings:
    """Build settings: defaults < TOML file < ARR_* environment < overrides (flags)."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {k.name: (tuple(k.default) if k.kind == "list" else k.default) for k in KEYS}
    path = find_config_file(config_file, env=env)
    if path is not None:
        values.update(read_config_file(path))
    for var, raw in env.items():
        if not var.startswith("ARR_"):
            continue
        key = _BY_ENV.get(var)
        if key is None:
            raise ConfigError(f"environment variable {var}: not a setting (known: ARR_PROJECT, ARR_REGIONS, ...)")
        values[key.name] = _coerce(key, raw, origin=f"${var}")
    for name, value in (overrides or {}).items():
        key = _BY_NAME.get(name)
        if key is None:
            raise ConfigError(f"unknown setting {name!r}")
        values[name] = _coerce(key, value, origin="command line")
    if deadline is not None:
        if not 0 < deadline <= DAY:
            raise ConfigError(
                f"--deadline: {_shown(deadline)} is not valid; expected a number of seconds greater than 0 and at most {DAY:g}"
            )
        for spec in TABLES:
            values[f"tables.{spec.key}.deadline"] = float(deadline)
    for table, kind in faults:
        if table not in PROCESS_KEYS:
            raise ConfigError(
                f"--fault {table}={kind}: unknown table {table!r} (tables: {', '.join(TABLE_KEYS)}; "
                f"{LOG_READER} is the log view's reader)"
            )
    if demo and not values["project"]:
        values["project"] = DEMO_PROJECT
    return _build(values, demo=demo, scenario=scenario, faults=faults, config_file=str(path or ""))


def _build(
    values: dict[str, Any], *, demo: bool, scenario: str, faults: tuple[tuple[str, str], ...], config_file: str
) -> Settings:
    if values["supervision.backoff_max_s"] < values["supervision.backoff_initial_s"]:
        raise ConfigError(
            "supervision.backoff_max_s: must be at least supervision.backoff_initial_s "
            f"({values['supervision.backoff_max_s']} < {values['supervision.backoff_initial_s']})"
        )
    values = {
        **values,
        "paths.cache_dir": os.path.expanduser(values["paths.cache_dir"] or _xdg("XDG_CACHE_HOME", ".cache")),
        "paths.state_dir": os.path.expanduser(values["paths.state_dir"] or _xdg("XDG_STATE_HOME", ".local/state")),
    }
    top: dict[str, Any] = {}
    sections: dict[str, dict[str, Any]] = {name: {} for name in SECTIONS}
    policies: dict[str, dict[str, Any]] = {spec.key: {} for spec in TABLES}
    for key in KEYS:
        head, _, rest = key.name.partition(".")
        if head == "tables":
            table, _, field = rest.partition(".")
            policies[table][field] = values[key.name]
        elif head in SECTIONS:
            sections[head][rest] = values[key.name]
        else:
            top[key.name] = values[key.name]
    return Settings(
        **top,
        **{name: SECTIONS[name](**fields) for name, fields in sections.items()},
        tables=tuple((table, TablePolicy(**fields)) for table, fields in policies.items()),
        scenario=scenario,
        faults=tuple(faults),
        demo=demo,
        config_file=config_file,
    )


# ------------------------------------------------------------------ on-disk scope

#: The endpoint part of the scope of the real Google Cloud APIs.
REAL_ENDPOINT = "googleapis"


def scope_name(settings: Settings) -> str:
    """The name that keys everything kept on disk by project and endpoint (``demo-project@demo``).

    The demo has its own endpoint name whatever port its emulator gets, so two
    demo runs share their state while a demo and a real project never do; any
    other emulator is keyed by its address, and a W&B server other than the
    default by its URL. Only letters, digits and ``-_.@`` remain, so the name
    is a plain directory name.
    """
    if settings.demo:
        endpoint = "demo"
    elif settings.emulator.address:
        endpoint = "emulator-" + settings.emulator.address
    else:
        endpoint = REAL_ENDPOINT
    if settings.emulator.wandb_url and not settings.demo:
        endpoint += "+wandb-" + settings.emulator.wandb_url.split("://", 1)[-1]
    name = f"{settings.project or 'no-project'}@{endpoint}"
    return re.sub(r"[^A-Za-z0-9_.@-]", "_", name.strip("/"))


def project_state_dir(settings: Settings) -> str:
    """``{state_dir}/projects/{scope}``: warm start and the Cloud Logging limiter of this project and endpoint."""
    return os.path.join(settings.paths.state_dir, "projects", scope_name(settings))


def project_cache_dir(settings: Settings) -> str:
    """``{cache_dir}/projects/{scope}``: the terminal-state memory of this project and endpoint."""
    return os.path.join(settings.paths.cache_dir, "projects", scope_name(settings))


def defaults(values: Mapping[str, Any] | None = None, **changes: Any) -> Settings:
    """Settings from defaults only (no file, no environment) — for tests and tools.

    ``values`` changes settings by their dotted names (``{"paths.state_dir": ...}``);
    ``changes`` replaces whole fields of :class:`Settings` (``project=``, ``faults=``...).
    """
    base = {k.name: (tuple(k.default) if k.kind == "list" else k.default) for k in KEYS}
    settings = _build(base, demo=False, scenario="", faults=(), config_file="")
    if values:
        settings = settings.with_values(values)
    return settings.replace(**changes) if changes else settings
