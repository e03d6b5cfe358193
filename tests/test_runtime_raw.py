"""Generated client runtime: `client.<resource>.with_raw_response.<method>(...)`."""

from __future__ import annotations

import asyncio
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import (
    httpx,  # httpx or httpx2 (KIBO_HTTP_LIBRARY)
    models,
)
from tests.kibo_server import KiboServer


def test_raw_response_exposes_the_http_response(
    kibo: ModuleType, server: KiboServer, client: Any
) -> None:
    server.add_user("raw@example.com", "pw-123456")
    raw = client.storefront_auth_ticket.with_raw_response.create_user_auth_ticket(
        body={"username": "raw@example.com", "password": "pw-123456"}
    )
    assert raw.status_code == 200
    assert isinstance(raw.http_response, httpx.Response)
    assert raw.headers is raw.http_response.headers
    assert raw.headers["x-vol-correlation"]
    assert raw.headers["content-type"] == "application/json"
    assert raw.json()["userId"] == server.users["raw@example.com"].user_id
    assert raw.retries_taken == 0
    assert raw.elapsed >= 0
    ticket = raw.parse()
    assert isinstance(ticket, models(kibo).CustomerAuthTicket)
    assert ticket.access_token == raw.json()["accessToken"]
    assert raw.parse() is ticket, "parsed once, then cached"
    assert repr(raw) == "<RawResponse [200]>"
    # The request went out like a normal call: the marker header stays inside the client.
    assert not [h for h in server.last().headers if "raw" in h.lower()]


def test_raw_response_of_an_operation_without_a_body(server: KiboServer, client: Any) -> None:
    server.add_user("otp-raw@example.com", "pw-123456")
    raw = client.storefront_auth_ticket.with_raw_response.request_otp(
        body={"email": "otp-raw@example.com"}
    )
    assert raw.status_code == 200
    assert raw.content == b""
    assert raw.parse() is None


def test_raw_response_counts_retries(server: KiboServer, client: Any) -> None:
    server.fail_next(2, status=502)
    raw = client.storefront_auth_ticket.with_raw_response.create_anonymous_shopper_auth_ticket()
    assert raw.retries_taken == 2
    assert raw.parse().access_token


def test_raw_response_still_raises_status_errors(
    kibo: ModuleType, server: KiboServer, client: Any
) -> None:
    server.fail_next(status=404)
    with pytest.raises(kibo.NotFoundError):
        client.storefront_auth_ticket.with_raw_response.create_anonymous_shopper_auth_ticket()


def test_bad_body_raises_only_when_parsed(
    kibo: ModuleType, server: KiboServer, client: Any
) -> None:
    server.respond_next(200, b"<html>not json</html>", content_type="text/html")
    raw = client.storefront_auth_ticket.with_raw_response.create_anonymous_shopper_auth_ticket()
    assert raw.status_code == 200
    assert raw.text == "<html>not json</html>"
    with pytest.raises(kibo.APIResponseValidationError, match="not valid JSON"):
        raw.parse()


def test_raw_response_takes_the_per_call_options(server: KiboServer, client: Any) -> None:
    raw = client.storefront_auth_ticket.with_raw_response.create_anonymous_shopper_auth_ticket(
        extra_headers={"X-Label": "raw"}, extra_query={"responseFields": "userId"}, timeout=5.0
    )
    assert raw.json().keys() == {"userId"}
    assert server.last().headers["x-label"] == "raw"


def test_async_raw_response(kibo: ModuleType, server: KiboServer) -> None:
    async def main() -> Any:
        async with kibo.AsyncClient(
            base_url=server.url, access_token=server.issue_app_token()
        ) as c:
            raw_methods = c.storefront_auth_ticket.with_raw_response
            raw = await raw_methods.create_anonymous_shopper_auth_ticket()
            return raw, raw.parse()

    raw, ticket = asyncio.run(main())
    assert raw.status_code == 200
    assert isinstance(raw.http_response, httpx.Response)
    assert isinstance(ticket, models(kibo).CustomerAuthTicket)
    assert ticket.access_token == raw.json()["accessToken"]
