from __future__ import annotations

import keyword

import pytest

from generator.naming import NameAllocator, method_name, package_name_for, pascal_case, snake_case


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        ("refreshToken", "refresh_token"),
        ("accountId", "account_id"),
        ("responseFields", "response_fields"),
        ("StorefrontAuthTicket", "storefront_auth_ticket"),
        ("B2BAccount", "b2b_account"),
        ("HTTPServer", "http_server"),
        ("x-vol-user-claims", "x_vol_user_claims"),
        ("my.field name", "my_field_name"),
        ("$filter", "filter"),
        ("class", "class_"),
        ("from", "from_"),
        ("2fa", "v2fa"),
        ("", "value"),
        ("---", "value"),
    ],
)
def test_snake_case(wire: str, expected: str) -> None:
    assert snake_case(wire) == expected


def test_every_name_is_an_identifier() -> None:
    for text in ["import", "None", "1st", "a b", "ünïcode", "\x00", "'\"", "a\u2028b"]:
        for name in (snake_case(text), pascal_case(text)):
            assert name.isidentifier() and name.isascii()
            assert not keyword.iskeyword(name)


def test_method_names_from_summary_then_route() -> None:
    assert method_name("Create User Auth Ticket", "post", "/x") == "create_user_auth_ticket"
    assert method_name(None, "get", "/commerce/{id}/items") == "get_commerce_id_items"
    assert method_name("   ", "delete", "/a") == "delete_a"
    long = method_name(" ".join(["word"] * 40), "get", "/")
    assert len(long) <= 60


def test_collisions_get_deterministic_suffixes() -> None:
    names = NameAllocator(reserved={"body"})
    assert [names.allocate(n) for n in ["body", "a", "a", "a"]] == ["body_2", "a", "a_2", "a_3"]


def test_package_name_from_the_spec_info() -> None:
    assert package_name_for({"title": "Kibo Storefront Auth Tickets"}) == "kibo_storefront_auth_tickets"
    assert package_name_for({"title": "x", "x-package-name": "kibo_authtickets"}) == "kibo_authtickets"
    assert package_name_for({"x-package-name": '"; import os #'}) == "import_os"
    assert package_name_for({"x-package-name": "class"}) == "class_"
    assert package_name_for(None) == "api_client"
