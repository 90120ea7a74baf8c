"""The list-filter parser: the forms the product sends, precedence, and clear rejections."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arr_actors.emulator import filters as F

SCHEMA: F.Schema = {
    ("resource", "type"): F.Field(F.STRING),
    ("resource", "labels", "job_name"): F.Field(F.STRING),
    ("timestamp",): F.Field(F.TIMESTAMP),
    ("severity",): F.Field(F.SEVERITY),
    ("state",): F.Field(F.STRING, ("JOB_STATE_RUNNING", "JOB_STATE_FAILED")),
}
EXEC = ("labels", "run.googleapis.com/execution_name")


def item(name: str = "vertex-ai-launcher-abcde", **extra: object) -> F.Getter:
    values: dict[tuple[str, ...], object] = {
        ("resource", "type"): "cloud_run_job",
        ("resource", "labels", "job_name"): "vertex-ai-launcher",
        ("timestamp",): 1_763_453_865 * 10**9,  # 2025-11-18T08:17:45Z, in nanoseconds
        ("severity",): "ERROR",
        ("state",): "JOB_STATE_RUNNING",
        EXEC: name,
    }
    values.update({tuple(k.split("__")): v for k, v in extra.items()})
    return values.get


def matches(text: str, getter: F.Getter | None = None) -> bool:
    return F.compile_filter(text, SCHEMA, wildcard_maps=("labels",))(getter or item())


@pytest.mark.parametrize(
    "text",
    [
        "",
        'resource.type="cloud_run_job"',
        "resource.type=cloud_run_job AND resource.labels.job_name=vertex-ai-launcher",
        'resource.type="cloud_run_job" resource.labels.job_name="vertex-ai-launcher"',  # juxtaposition is AND
        'labels."run.googleapis.com/execution_name"="vertex-ai-launcher-abcde"',
        'labels."run.googleapis.com/execution_name"=vertex-ai-launcher-abcde',
        'resource.type="cloud_run_job" AND (labels."run.googleapis.com/execution_name"="x" '
        'OR labels."run.googleapis.com/execution_name"="vertex-ai-launcher-abcde")',
        'labels."run.googleapis.com/execution_name"=("x" OR "vertex-ai-launcher-abcde")',
        'timestamp>="2025-11-18T08:00:00Z"',
        "timestamp<2025-11-18T09:00:00Z",
        'timestamp>"2025-11-18T09:00:00+01:00"',
        "severity>=WARNING",
        "NOT severity<ERROR",
        "-resource.type=cloud_build",
        'resource.type:"run"',
        'state="JOB_STATE_RUNNING" OR state="JOB_STATE_FAILED"',
        'state!="JOB_STATE_FAILED"',
    ],
)
def test_forms_that_match(text: str) -> None:
    assert matches(text)


@pytest.mark.parametrize(
    "text",
    [
        'resource.type="cloud_build"',
        'labels."run.googleapis.com/execution_name"="vertex-ai-launcher-zzzzz"',
        'labels."run.googleapis.com/execution_name"=("x" OR "y")',
        'labels."run.googleapis.com/execution_name"!=("x" OR "vertex-ai-launcher-abcde")',
        'timestamp>"2025-11-18T08:17:45Z"',
        "severity<ERROR",
        'state="JOB_STATE_FAILED"',
        'labels.other="x"',
    ],
)
def test_forms_that_do_not_match(text: str) -> None:
    assert not matches(text)


def test_timestamps_compare_to_the_nanosecond() -> None:
    at = item(**{"timestamp": 1_763_453_865_123_456_789})
    assert matches('timestamp="2025-11-18T08:17:45.123456789Z"', at)
    assert matches('timestamp>"2025-11-18T08:17:45.123456788Z"', at)
    assert not matches('timestamp>"2025-11-18T08:17:45.123456789Z"', at)
    assert matches('timestamp<"2025-11-18T09:17:45.2+01:00"', at)


def test_or_binds_tighter_than_and_as_in_both_real_languages() -> None:
    # a AND b OR c  ==  a AND (b OR c): false when a is false, whatever c is.
    assert not matches('resource.type="cloud_build" AND severity=ERROR OR severity=INFO')
    assert matches('severity=INFO OR severity=ERROR AND resource.type="cloud_run_job"')


def test_or_of_execution_names_selects_each_of_them() -> None:
    text = " OR ".join(f'labels."run.googleapis.com/execution_name"="e{i}"' for i in range(5))
    text = f'resource.type="cloud_run_job" AND ({text})'
    assert [i for i in range(7) if matches(text, item(f"e{i}"))] == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("foo=1", "unsupported filter field 'foo'"),
        ("resource.type", "global text search is not supported"),
        ('resource.type="x" AND', "ends too early"),
        ('(resource.type="x"', "missing ')'"),
        ('resource.type="x")', "unexpected ')'"),
        ('timestamp>"yesterday"', "not an RFC 3339 timestamp"),
        ("severity=LOUD", "unknown severity 'LOUD'"),
        ('resource.type=~"x"', "operator '=~' is not supported"),
        ("AND severity=INFO", "nothing on its left"),
        ('resource.type>"a"', "only =, != and ':' apply"),
        ('state="JOB_STATE_BORED"', "unknown value 'JOB_STATE_BORED'"),
        ('state>"JOB_STATE_RUNNING"', "only = and != apply"),
        ('x="unterminated', "unexpected character"),
        ("timestamp:2025", "does not apply to timestamps"),
        ("(" * 5000 + "severity=INFO" + ")" * 5000, "nested too deeply"),
        ("severity=INFO OR " * 2000 + "severity=INFO", "at most 20000 are allowed"),
    ],
)
def test_unsupported_or_malformed_filters_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(F.FilterError, match=message.replace("(", r"\(").replace(")", r"\)")):
        F.compile_filter(text, SCHEMA, wildcard_maps=("labels",))


@given(st.text(alphabet=st.sampled_from(list('abc."=!<>:()- ANDORNOT\\/_12Z')), max_size=60))
def test_any_text_is_either_a_filter_or_a_filter_error(text: str) -> None:
    try:
        predicate = F.compile_filter(text, SCHEMA, wildcard_maps=("labels",))
    except F.FilterError:
        return
    assert predicate(item()) in (True, False)
