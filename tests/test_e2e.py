"""End to end: the committed generated client calls every storefront operation over real HTTP.

The loopback server checks each request and response against spec/ (contract violations fail the test).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from types import ModuleType

from .conftest import models as models_of
from .kibo_server import KiboServer


def test_all_four_operations_round_trip(kibo: ModuleType, kibo_server_session: KiboServer) -> None:
    server = kibo_server_session
    user = server.add_user("ada@example.com", "s3cret-pw", account_id=1001)
    models = models_of(kibo)
    with kibo.Client(base_url=server.url, access_token=server.issue_app_token(), max_retries=0) as client:
        tickets = client.storefront_auth_ticket

        ticket = tickets.create_user_auth_ticket(
            body=models.CustomerUserAuthInfo(username="ada@example.com", password="s3cret-pw"),
            response_fields=None,
        )
        assert isinstance(ticket, models.CustomerAuthTicket)
        assert isinstance(ticket.access_token_expiration, datetime)
        assert ticket.customer_account is not None and ticket.customer_account.id == 1001
        assert ticket.user_id == user.user_id
        created = server.last("POST", "/commerce/customer/authtickets")
        assert created is not None
        assert created.json == {"username": "ada@example.com", "password": "s3cret-pw"}
        assert created.headers.get("content-type") == "application/json"
        assert created.query == {}

        refreshed = tickets.refresh_user_auth_ticket(refresh_token=ticket.refresh_token, account_id=1001)
        assert isinstance(refreshed, models.CustomerAuthTicket)
        assert refreshed.access_token != ticket.access_token
        refresh = server.last("PUT", "/commerce/customer/authtickets/refresh")
        assert refresh is not None
        assert refresh.query == {"refreshToken": ticket.refresh_token, "accountId": "1001"}
        assert refresh.body == b""

        anonymous = tickets.create_anonymous_shopper_auth_ticket(response_fields="accessToken,userId")
        assert isinstance(anonymous, models.CustomerAuthTicket)
        assert anonymous.access_token
        anon = server.last("GET", "/commerce/customer/authtickets/anonymousshopper")
        assert anon is not None and anon.query == {"responseFields": "accessToken,userId"}

        impersonated = tickets.impersonate_cart(body={"cartId": "cart-9", "accountId": 1001})
        assert isinstance(impersonated, models.CustomerAuthTicket)
        impersonate = server.last("POST", "/commerce/customer/authtickets/impersonatecart")
        assert impersonate is not None and impersonate.json == {"cartId": "cart-9", "accountId": 1001}

    assert server.count() == 4
    for record in server.requests:
        assert record.headers.get("authorization", "").startswith("Bearer ")
        assert record.headers.get("user-agent", "").startswith("kibo-authtickets-python/")


def test_snake_case_mapping_body_is_sent_with_wire_names(kibo: ModuleType, kibo_server_session: KiboServer) -> None:
    server = kibo_server_session
    server.add_user("bob@example.com", "pw-123456")
    with kibo.Client(base_url=server.url, access_token=server.issue_app_token(), max_retries=0) as client:
        client.storefront_auth_ticket.create_user_auth_ticket(
            body={"username": "bob@example.com", "password": "pw-123456", "account_id": None}
        )
    record = server.last("POST", "/commerce/customer/authtickets")
    assert record is not None
    assert record.json == {"username": "bob@example.com", "password": "pw-123456", "accountId": None}


def test_async_client_round_trip(kibo: ModuleType, kibo_server_session: KiboServer) -> None:
    server = kibo_server_session
    server.add_user("cy@example.com", "pw-abcdef")
    token = server.issue_app_token()

    async def scenario() -> None:
        async with kibo.AsyncClient(base_url=server.url, access_token=token, max_retries=0) as client:
            ticket = await client.storefront_auth_ticket.create_user_auth_ticket(
                body={"username": "cy@example.com", "password": "pw-abcdef"}
            )
            again = await client.storefront_auth_ticket.refresh_user_auth_ticket(refresh_token=ticket.refresh_token)
            assert again.user_id == ticket.user_id

    asyncio.run(scenario())
    assert server.count("PUT", "/commerce/customer/authtickets/refresh") == 1
