"""HTTP trigger route templates of the local host."""

from __future__ import annotations

import pytest

from sandbox.host.errors import HostError
from sandbox.host.routes import parse_route


def test_literal_route_matches_without_regard_to_case_and_trailing_slash() -> None:
    route = parse_route("health/Check")
    assert route.match("health/check") == {}
    assert route.match("HEALTH/CHECK/") == {}
    assert route.match("health") is None
    assert route.match("health/check/more") is None


def test_parameters_and_optional_last_parameter() -> None:
    route = parse_route("orders/{order_id}/items/{item?}")
    assert route.match("orders/42/items/7") == {"order_id": "42", "item": "7"}
    assert route.match("orders/42/items") == {"order_id": "42"}
    assert route.match("orders/42/items/") == {"order_id": "42"}
    assert route.match("orders//items") is None


def test_constraints() -> None:
    route = parse_route("people/{id:int}/{flag:bool?}")
    assert route.match("people/-5/TRUE") == {"id": "-5", "flag": "TRUE"}
    assert route.match("people/five") is None
    guid = parse_route("x/{id:guid}")
    assert guid.match("x/00000000-0000-4000-8000-000000000001") is not None
    assert guid.match("x/not-a-guid") is None


def test_catch_all() -> None:
    route = parse_route("files/{*path}")
    assert route.match("files/a/b/c.txt") == {"path": "a/b/c.txt"}
    assert route.match("files") == {}
    assert route.match("files/") == {}


def test_optional_only_route_and_empty_route() -> None:
    assert parse_route("{name?}").match("") == {}
    assert parse_route("{name?}").match("bob") == {"name": "bob"}
    assert parse_route("").match("") == {}


def test_more_specific_routes_sort_first() -> None:
    literal = parse_route("orders/latest")
    constrained = parse_route("orders/{id:int}")
    plain = parse_route("orders/{id}")
    optional = parse_route("orders/{id?}")
    ordered = sorted([optional, plain, literal, constrained], key=lambda r: r.precedence)
    assert ordered == [literal, constrained, plain, optional]


@pytest.mark.parametrize(
    "template", ["a/{b?}/c", "a/{b:unknown}", "a/{*b}/c", "a/x{b}", "a/{b"]
)
def test_unsupported_templates_are_refused(template: str) -> None:
    with pytest.raises(HostError):
        parse_route(template)
