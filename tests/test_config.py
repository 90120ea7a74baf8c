from __future__ import annotations

from pathlib import Path

import pytest

from arr_actors import config
from arr_actors.config import DEFAULT_REGIONS, KEYS, ConfigError
from arr_actors.tables import TABLE_KEYS, TABLES

EXAMPLE = Path(__file__).resolve().parents[1] / "arr_actors" / "examples" / "config.example.toml"


@pytest.fixture(autouse=True)
def _isolated_cwd(tmp_path, monkeypatch):
    # ./arr_actors.toml and $XDG_CONFIG_HOME are part of the lookup: keep them empty.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_defaults_match_the_tables_registry():
    s = config.load(env={})
    assert s.regions == DEFAULT_REGIONS and len(s.regions) == 18
    assert s.runner_job == "vertex-ai-launcher"
    for spec in TABLES:
        p = s.policy(spec.key)
        assert (p.interval, p.budget, p.deadline, p.limit) == (spec.interval, spec.budget, spec.deadline, spec.limit)
    assert s.config_file == ""


def test_example_file_loads_and_sets_every_table():
    s = config.load(config_file=str(EXAMPLE), env={})
    assert s.project == "my-gcp-project"
    assert s.wandb.entity == "my-team"
    assert s.config_file == str(EXAMPLE)
    assert [k for k, _ in s.tables] == list(TABLE_KEYS)


def test_precedence_defaults_file_env_flags(tmp_path):
    cfg = write(tmp_path / "c.toml", 'project = "from-file"\nqueue = "file-q"\n[tables.runner]\ninterval = 11\n')
    s = config.load(config_file=str(cfg), env={})
    assert (s.project, s.queue, s.policy("runner").interval) == ("from-file", "file-q", 11.0)
    env = {"ARR_PROJECT": "from-env", "ARR_TABLES_RUNNER_INTERVAL": "12"}
    s = config.load(config_file=str(cfg), env=env)
    assert (s.project, s.queue, s.policy("runner").interval) == ("from-env", "file-q", 12.0)
    s = config.load(config_file=str(cfg), env=env, overrides={"project": "from-flag"}, deadline=3)
    assert s.project == "from-flag"
    assert all(p.deadline == 3.0 for _, p in s.tables)


def test_lookup_order_local_file_then_xdg(tmp_path):
    write(tmp_path / "xdg" / "arr_actors" / "config.toml", 'project = "xdg"\n')
    assert config.load(env={"XDG_CONFIG_HOME": str(tmp_path / "xdg")}).project == "xdg"
    write(tmp_path / "arr_actors.toml", 'project = "local"\n')
    assert config.load(env={"XDG_CONFIG_HOME": str(tmp_path / "xdg")}).project == "local"


def test_env_lists_are_comma_separated():
    s = config.load(env={"ARR_REGIONS": "us-central1, europe-west4"})
    assert s.regions == ("us-central1", "europe-west4")


def test_demo_uses_the_demo_project_unless_one_is_set():
    assert config.load(env={}, demo=True).project == "demo-project"
    assert config.load(env={"ARR_PROJECT": "p1"}, demo=True).project == "p1"


@pytest.mark.parametrize(
    ("toml", "fragment"),
    [
        ('regions = []', "regions"),
        ('regions = ["US-CENTRAL1"]', "lower case"),
        ('regions = ["us-central1", "us-central1"]', "repeated"),
        ('regions = "us-central1"', None),  # a string is accepted as a comma list
        ('[tables.runner]\ninterval = 0', "tables.runner.interval"),
        ('[tables.runner]\ninterval = "soon"', "expected a number"),
        ('[tables.vertex]\nlimit = 2.5', "expected an integer"),
        ('[tables.vertex]\nlimit = true', "expected an integer"),
        ('[supervision]\nbackoff_jitter = 1.5', "fraction"),
        ('[supervision]\nkill_grace_s = -1', "0 or more"),
        ('[supervision]\nbackoff_initial_s = 10\nbackoff_max_s = 5', "backoff_max_s"),
        ('project = "has space"', "project"),
        ('colour = "blue"', "unknown setting 'colour'"),
        ('[tables.nosuch]\ninterval = 3', "unknown setting 'tables.nosuch.interval'"),
        ('project = ', "not valid TOML"),
    ],
)
def test_file_validation_errors_name_key_and_value(tmp_path, toml, fragment):
    cfg = write(tmp_path / "c.toml", toml + "\n")
    if fragment is None:
        assert config.load(config_file=str(cfg), env={}).regions == ("us-central1",)
        return
    with pytest.raises(ConfigError) as info:
        config.load(config_file=str(cfg), env={})
    assert fragment in str(info.value)
    assert str(cfg) in str(info.value) or "backoff_max_s" in fragment


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"ARR_TABLES_BUILDS_DEADLINE": "-3"}, "$ARR_TABLES_BUILDS_DEADLINE"),
        ({"ARR_TABLES_BUILDS_DEADLINE": "nan"}, "expected a number"),
        ({"ARR_API_LOGGING_READS_PER_MINUTE": "sixty"}, "expected an integer"),
        ({"ARR_NOPE": "1"}, "ARR_NOPE"),
    ],
)
def test_environment_validation_errors(env, fragment):
    with pytest.raises(ConfigError) as info:
        config.load(env=env)
    assert fragment in str(info.value)


def test_flag_errors():
    with pytest.raises(ConfigError, match="--deadline"):
        config.load(env={}, deadline=0)
    with pytest.raises(ConfigError, match="unknown table 'nope'"):
        config.load(env={}, faults=(("nope", "hang"),))
    with pytest.raises(ConfigError, match="--config /no/such.toml: no such file"):
        config.load(config_file="/no/such.toml", env={})


def test_every_key_has_an_env_name_and_help():
    envs = [k.env for k in KEYS]
    assert len(envs) == len(set(envs))
    assert all(k.help for k in KEYS)


def test_settings_are_frozen():
    s = config.defaults()
    with pytest.raises(AttributeError):
        s.project = "x"  # type: ignore[misc]
    assert s.replace(project="x").project == "x" and s.project == ""


def test_every_key_lands_in_its_section_under_its_own_name():
    """One loop over KEYS builds the settings: ``SECTION.FIELD`` is ``settings.SECTION.FIELD``."""
    import functools

    values = {}
    for key in KEYS:
        if key.name.startswith("tables.") or key.name.startswith("paths."):
            continue
        if key.kind == "float":
            values[key.name] = float(key.default) + 0.5
        elif key.kind == "int":
            values[key.name] = int(key.default) + 3
        elif key.kind == "str":
            values[key.name] = "changed-" + key.name.replace(".", "-")
    s = config.load(env={}, overrides=values)
    for name, value in values.items():
        assert functools.reduce(getattr, name.split("."), s) == value, name
    for spec in TABLES:
        for field in ("interval", "budget", "deadline", "limit"):
            key = f"tables.{spec.key}.{field}"
            assert getattr(s.policy(spec.key), field) == next(k.default for k in KEYS if k.name == key)
    assert s.with_values({"api.call_timeout_s": 7.0}).api.call_timeout_s == 7.0
    with pytest.raises(KeyError, match="nosuch"):
        s.with_values({"api.nosuch": 1})


def test_on_disk_state_is_keyed_by_project_and_endpoint(tmp_path):
    from arr_actors import warmstart
    from arr_actors.sources import limiter, runner_memory

    dirs = {"paths.state_dir": str(tmp_path / "state"), "paths.cache_dir": str(tmp_path / "cache")}
    real = config.defaults(dirs, project="p")
    other = config.defaults(dirs, project="q")
    demo = config.defaults(dirs, project="p", demo=True)
    demo_again = demo.with_values({"emulator.address": "127.0.0.1:4711", "emulator.wandb_url": "http://127.0.0.1:4712"})
    emulated = config.defaults({**dirs, "emulator.address": "127.0.0.1:4711"}, project="p")
    emulated_elsewhere = emulated.with_values({"emulator.address": "127.0.0.1:4800"})
    scopes = [real, other, demo, emulated, emulated_elsewhere]
    for where in (warmstart.warm_start_path, lambda s: str(limiter.for_settings(s).path), config.project_cache_dir):
        places = [where(s) for s in scopes]
        assert len(set(places)) == len(places), places
        assert where(demo) == where(demo_again)  # a demo's emulator port changes every run
    with runner_memory.open_memory(real) as a, runner_memory.open_memory(demo) as b:
        assert a.path != b.path
    assert config.scope_name(real) == "p@googleapis" and config.scope_name(demo) == "p@demo"


def test_alert_tables_are_chosen_from_the_tables_whose_rows_can_fail(tmp_path) -> None:
    assert config.load(env={}, config_file=None).alerts.tables == ("runner", "builds", "vertex", "completed")
    assert config.load(env={"ARR_ALERTS_TABLES": "vertex,builds"}).alerts.tables == ("vertex", "builds")
    assert config.load(env={"ARR_ALERTS_TABLES": ""}).alerts.tables == ()
    with pytest.raises(ConfigError, match=r"alerts.tables .*among runner, builds, vertex, completed \(bad: 'active'\)"):
        config.load(env={"ARR_ALERTS_TABLES": "runner,active"})
