"""Generated client runtime: JSON bodies parse whatever Content-Type the server claims.

Kibo's spec declares its 200 responses as application/json, text/json and text/plain, and real
servers sometimes send none or a wrong one; the JSON body decides, not the header.
"""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import models
from tests.kibo_server import KiboServer


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "text/json",
        "text/json; charset=utf-8",
        "text/plain",
        "text/plain; charset=utf-8",
        None,  # no Content-Type header at all
        "text/html",  # wrong
        "application/octet-stream",  # wrong
    ],
)
def test_json_body_parses_whatever_the_content_type(
    kibo: ModuleType, server: KiboServer, client: Any, content_type: str | None
) -> None:
    server.add_user("ct@example.com", "pw-123456")
    server.response_content_type = content_type
    ticket = client.storefront_auth_ticket.create_user_auth_ticket(
        body={"username": "ct@example.com", "password": "pw-123456"}
    )
    assert isinstance(ticket, models(kibo).CustomerAuthTicket)
    assert ticket.customer_account is not None
    assert ticket.customer_account.email_address == "ct@example.com"
    assert ticket.access_token and server.is_valid_access_token(ticket.access_token)
    received = server.requests[-1]
    assert received.headers.get("content-type") == "application/json"
    assert received.headers.get("accept") == "application/json"


TICKET = {"accessToken": "tok-123456", "userId": "u1", "requires2FA": False}


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (json.dumps(TICKET).encode(), "text/plain"),
        # A UTF-8 byte-order mark, as some .NET stacks write it.
        (b"\xef\xbb\xbf" + json.dumps(TICKET).encode(), "application/json"),
        # Another declared charset.
        (json.dumps(TICKET).encode("utf-16"), "application/json; charset=utf-16"),
        # Double-encoded: a JSON string whose text is the JSON document (text/plain endpoints).
        (json.dumps(json.dumps(TICKET)).encode(), "text/plain"),
        # Pretty-printed with surrounding whitespace.
        (b"\r\n  " + json.dumps(TICKET, indent=4).encode() + b"\n", None),
    ],
)
def test_odd_but_valid_json_bodies(
    kibo: ModuleType, server: KiboServer, client: Any, body: bytes, content_type: str | None
) -> None:
    server.respond_next(200, body, content_type=content_type)
    ticket = client.storefront_auth_ticket.create_anonymous_shopper_auth_ticket()
    assert isinstance(ticket, models(kibo).CustomerAuthTicket)
    assert ticket.access_token == "tok-123456"
    assert ticket.user_id == "u1"
    assert ticket.model_dump(by_alias=True)["requires2FA"] is False


def test_non_ascii_text_survives(kibo: ModuleType, server: KiboServer, client: Any) -> None:
    server.add_user("zoë@example.com", "pässwörd-✓", account_id=77)
    ticket = client.storefront_auth_ticket.create_user_auth_ticket(
        body={"username": "zoë@example.com", "password": "pässwörd-✓"}
    )
    assert ticket.customer_account.email_address == "zoë@example.com"


def test_error_bodies_parse_whatever_the_content_type(
    kibo: ModuleType, server: KiboServer, client: Any
) -> None:
    server.response_content_type = "text/plain"
    with pytest.raises(kibo.NotFoundError) as info:
        client.storefront_auth_ticket.impersonate_cart(body={"cartId": "c1", "accountId": 9999})
    assert info.value.error is not None
    assert info.value.error.message == "Customer account not found"
