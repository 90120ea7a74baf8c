"""Pure parts of the emulator: page tokens, fault specs, latency profiles, the GraphQL executor."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arr_actors.emulator import faults, graphql, latency, paging
from arr_actors.emulator.graphql import GraphQLError, Obj

# ------------------------------------------------------------------- paging


@given(
    keys=st.lists(st.integers(min_value=0, max_value=10_000), unique=True, max_size=60),
    size=st.integers(min_value=1, max_value=9),
    descending=st.booleans(),
)
def test_pages_cover_every_item_once_in_order(keys: list[int], size: int, descending: bool) -> None:
    items = sorted(keys, reverse=descending)
    seen: list[int] = []
    token = ""
    for _ in range(len(items) + 2):
        page, token = paging.cut_page(
            items, lambda k: (float(k), "x"), descending=descending, page_size=size, page_token=token, query="q"
        )
        assert len(page) <= size
        seen += page
        if not token:
            break
    assert seen == items


def test_items_arriving_at_the_head_do_not_shift_later_pages() -> None:
    items = [50.0, 40.0, 30.0, 20.0, 10.0]
    key = lambda k: (k, "")  # noqa: E731
    first, token = paging.cut_page(items, key, descending=True, page_size=2, page_token="", query="q")
    second, _ = paging.cut_page([70.0, 60.0, *items], key, descending=True, page_size=2, page_token=token, query="q")
    assert first == [50.0, 40.0] and second == [30.0, 20.0]


def test_page_tokens_are_bound_to_their_query_and_checked() -> None:
    _, token = paging.cut_page([3, 2, 1], lambda k: (k,), descending=True, page_size=1, page_token="", query="a")
    with pytest.raises(paging.PageTokenError, match="different request"):
        paging.cut_page([3, 2, 1], lambda k: (k,), descending=True, page_size=1, page_token=token, query="b")
    with pytest.raises(paging.PageTokenError, match="invalid page_token"):
        paging.cut_page([3, 2, 1], lambda k: (k,), descending=True, page_size=1, page_token="!!nonsense", query="a")


def test_page_size_rules() -> None:
    clamp = paging.PageRules(default=100, maximum=1000)
    strict = paging.PageRules(default=50, maximum=1000, reject_above_maximum=True)
    assert clamp.size(0) == 100 and clamp.size(5000) == 1000 and strict.size(0) == 50
    with pytest.raises(paging.PageTokenError, match="at most 1000"):
        strict.size(1001)
    with pytest.raises(paging.PageTokenError, match="negative"):
        clamp.size(-1)


# ------------------------------------------------------------------- faults


def test_fault_specs_in_every_form_give_the_same_table() -> None:
    expected = faults.build_table(["run=hang", "logging=slow:2.5"])
    assert faults.build_table({"run": "hang", "logging": "slow:2.5"}) == expected
    assert faults.build_table([("run", "hang"), ("logging", "slow:2.5")]) == expected
    assert expected["logging"] == faults.Fault("slow", seconds=2.5)


def test_all_aliases_and_none_apply_in_order() -> None:
    table = faults.build_table(["all=error:UNAVAILABLE", "wandb=none", "runner=garbage"])
    assert set(table) == {"run", "vertex", "build", "logging", "resourcemanager"}
    assert table["run"].kind == table["logging"].kind == "garbage"
    assert table["vertex"] == faults.Fault("error", grpc_code="UNAVAILABLE", http_status=503)


def test_error_codes_map_between_grpc_and_http() -> None:
    assert faults.parse_kind("error:permission_denied") == faults.Fault("error", grpc_code="PERMISSION_DENIED", http_status=403)
    assert faults.parse_kind("error:429") == faults.Fault("error", grpc_code="RESOURCE_EXHAUSTED", http_status=429)
    plain = faults.table_to_plain(faults.build_table(["wandb=error:503", "run=error:NOT_FOUND"]))
    assert plain == {"run": "error:NOT_FOUND", "wandb": "error:503"}
    assert faults.build_table(plain) == faults.build_table(["wandb=error:503", "run=error:NOT_FOUND"])


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("run", "is not SERVICE=KIND"),
        ("moon=hang", "unknown service 'moon'"),
        ("run=explode", "unknown fault kind 'explode'"),
        ("run=slow:soon", "slow needs seconds"),
        ("run=slow:-1", ">= 0"),
        ("run=error:TEAPOT", "neither a gRPC status name"),
        ("wandb=error:200", "400-599"),
    ],
)
def test_bad_fault_specs_are_rejected_with_a_reason(spec: str, message: str) -> None:
    with pytest.raises(faults.FaultError, match=message):
        faults.build_table([spec])


# ------------------------------------------------------------------- latency


def test_realistic_latency_is_deterministic_and_within_the_table() -> None:
    table = latency.PROFILES["realistic"]
    assert set(table) == set(latency.METHODS)
    for method, (low, high) in table.items():
        delays = [latency.delay("realistic", method, seed=7, call_index=i) for i in range(50)]
        assert all(low <= d <= high for d in delays)
        assert delays == [latency.delay("realistic", method, seed=7, call_index=i) for i in range(50)]
        assert delays != [latency.delay("realistic", method, seed=8, call_index=i) for i in range(50)]
    assert table["ListLogEntries"][0] >= 2.0 and table["ListExecutions"][1] <= 2.0
    assert latency.delay("none", "ListLogEntries", seed=1, call_index=0) == 0.0
    assert latency.worst_case("realistic", "ListBuilds") == table["ListBuilds"][1]
    with pytest.raises(latency.LatencyError, match="unknown latency profile"):
        latency.check_profile("slowish")


def test_a_latency_factor_scales_every_delay_of_the_profile() -> None:
    for method in latency.METHODS:
        for i in range(10):
            full = latency.delay("realistic", method, seed=7, call_index=i)
            assert latency.delay("realistic:0.2", method, seed=7, call_index=i) == pytest.approx(full * 0.2)
        assert latency.worst_case("realistic:0.5", method) == pytest.approx(latency.worst_case("realistic", method) / 2)
    assert latency.parse("realistic") == ("realistic", 1.0)
    for bad in ("realistic:", "realistic:-1", "realistic:nan", "realistic:inf", "none:zero"):
        with pytest.raises(latency.LatencyError, match="must be a number above 0"):
            latency.check_profile(bad)


# ------------------------------------------------------------------- GraphQL

ROOT = Obj(
    "Query",
    {
        "viewer": Obj("User", {"id": "1", "entity": "team", "teams": [Obj("Entity", {"name": "a"}), Obj("Entity", {"name": "b"})]}),
        "echo": lambda args: args,
        "project": lambda args: Obj("Project", {"name": args["name"]}) if args.get("name") == "p" else None,
    },
)


def test_graphql_fragments_aliases_variables_and_typename() -> None:
    query = """
    # a comment
    query Q($name: String!, $n: Int = 5) {
        me: viewer { ...U  teams { name } }
        project(name: $name) { __typename name }
        missing: project(name: "nope") { name }
        echo(a: $n, b: [1, 2.5, "x", true, null, ENUM], c: {k: $name})
    }
    fragment U on User { id ... on User { entity } }
    """
    result = graphql.execute(query, ROOT, variables={"name": "p"})
    assert result == {
        "data": {
            "me": {"id": "1", "entity": "team", "teams": [{"name": "a"}, {"name": "b"}]},
            "project": {"__typename": "Project", "name": "p"},
            "missing": None,
            "echo": {"a": 5, "b": [1, 2.5, "x", True, None, "ENUM"], "c": {"k": "p"}},
        }
    }


def test_graphql_anonymous_operation_and_directives() -> None:
    result = graphql.execute('{ viewer { id entity @skip(if: true) } }', ROOT)
    assert result == {"data": {"viewer": {"id": "1"}}}
    result = graphql.execute("query A { viewer { id } } query B { viewer { entity } }", ROOT, operation_name="B")
    assert result == {"data": {"viewer": {"entity": "team"}}}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("{ viewer { nope } }", 'Cannot query field "nope" on type "User"'),
        ("{ viewer }", "must have a selection of subfields"),
        ("{ viewer { id ", "Syntax Error"),
        ("{ viewer { ...Missing } }", 'Unknown fragment "Missing"'),
        ("mutation { viewer { id } }", "mutation operations are not supported"),
        ("query A { viewer { id } } query B { viewer { id } }", "Must provide operation name"),
        ("", "no operation"),
        ("{ viewer { id } } %", "unexpected character"),
        ("{ viewer { ...A } } fragment A on User { id ...A }", 'Cannot spread fragment "A" within itself'),
        ("{ viewer " + "{ teams " * 2000 + "}" * 2001, "nested too deeply"),
    ],
)
def test_graphql_errors_are_reported_not_raised_through(query: str, message: str) -> None:
    with pytest.raises(GraphQLError, match=message):
        graphql.execute(query, ROOT)


@given(st.text(alphabet=st.sampled_from(list('{}()[]:$@!."#,=| \nqueryviewr0123fragmenton...')), max_size=80))
def test_any_text_is_either_a_result_or_a_graphql_error(text: str) -> None:
    try:
        result = graphql.execute(text, ROOT)
    except GraphQLError:
        return
    assert "data" in result
