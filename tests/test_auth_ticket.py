"""CustomerTicketAuth / AsyncCustomerTicketAuth against the loopback Kibo server.

Real HTTP, injected clock (the server's): no test sleeps.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import httpx  # httpx or httpx2 (KIBO_HTTP_LIBRARY)
from tests.kibo_server import KiboServer

REFRESH = "/commerce/customer/authtickets/refresh"
CURRENT = "/commerce/customer/accounts/current"
ACCESS_TTL = 1800.0  # the server's default access-token lifetime


# Kibo's environment variables of the machine running the tests must not leak in.
pytestmark = pytest.mark.usefixtures("no_kibo_env")


@pytest.fixture()
def app_client(kibo: ModuleType, kibo_server: KiboServer) -> Iterator[Any]:
    with kibo.Client(
        base_url=kibo_server.url, access_token=kibo_server.issue_app_token(), max_retries=0
    ) as c:
        yield c


def _login(client: Any, server: KiboServer, username: str = "shopper@example.com") -> Any:
    server.add_user(username, "correct horse")
    return client.storefront_auth_ticket.create_user_auth_ticket(
        body={"username": username, "password": "correct horse"}
    )


def _ticket_auth(kibo: ModuleType, client: Any, ticket: Any, server: KiboServer, **kw: Any) -> Any:
    from kibo_authtickets.auth import CustomerTicketAuth

    return CustomerTicketAuth(client, ticket, clock=server.now, **kw)


def test_sends_user_claims_and_keeps_app_token(
    kibo: ModuleType, kibo_server: KiboServer, app_client: Any
) -> None:
    ticket = _login(app_client, kibo_server)
    auth = _ticket_auth(kibo, app_client, ticket, kibo_server)
    with httpx.Client(auth=auth) as http:
        response = http.get(kibo_server.url + CURRENT)
    assert response.status_code == 200
    assert response.json()["userId"] == ticket.user_id
    sent = kibo_server.last("GET", CURRENT).headers
    assert sent["x-vol-user-claims"] == ticket.access_token
    assert sent["authorization"] == app_client._default_headers["Authorization"]
    assert kibo_server.count("PUT", REFRESH) == 0
    assert auth.refresh_count == 0


def test_refreshes_within_margin_only(
    kibo: ModuleType, kibo_server: KiboServer, app_client: Any
) -> None:
    seen: list[Any] = []
    ticket = _login(app_client, kibo_server)
    auth = _ticket_auth(
        kibo, app_client, ticket, kibo_server, refresh_margin=180.0, on_refresh=seen.append
    )
    with httpx.Client(auth=auth) as http:
        kibo_server.advance(ACCESS_TTL - 181)  # 181 s left: not yet
        assert http.get(kibo_server.url + CURRENT).status_code == 200
        assert kibo_server.count("PUT", REFRESH) == 0
        kibo_server.advance(2)  # 179 s left: inside the margin
        assert http.get(kibo_server.url + CURRENT).status_code == 200
    assert kibo_server.count("PUT", REFRESH) == 1
    assert len(seen) == 1 and seen[0] is auth.ticket
    assert auth.ticket.access_token != ticket.access_token
    assert kibo_server.last("GET", CURRENT).headers["x-vol-user-claims"] == auth.ticket.access_token


def test_client_clock_behind_server_recovers_with_one_refresh_on_401(
    kibo: ModuleType, kibo_server: KiboServer, app_client: Any
) -> None:
    from datetime import timedelta

    ticket = _login(app_client, kibo_server)
    # The client's clock runs 10 minutes slow: it believes the ticket is still good.
    slow_clock = lambda: kibo_server.now() - timedelta(minutes=10)  # noqa: E731
    from kibo_authtickets.auth import CustomerTicketAuth

    auth = CustomerTicketAuth(app_client, ticket, clock=slow_clock)
    kibo_server.advance(ACCESS_TTL + 1)  # expired for the server, 599 s left for the client
    with httpx.Client(auth=auth) as http:
        response = http.get(kibo_server.url + CURRENT)
    assert response.status_code == 200
    assert kibo_server.count("PUT", REFRESH) == 1
    statuses = [r.status for r in kibo_server.requests if r.path == CURRENT]
    assert statuses == [401, 200]


def test_client_clock_ahead_refreshes_early_without_any_401(
    kibo: ModuleType, kibo_server: KiboServer, app_client: Any
) -> None:
    from datetime import timedelta

    from kibo_authtickets.auth import CustomerTicketAuth

    ticket = _login(app_client, kibo_server)
    fast_clock = lambda: kibo_server.now() + timedelta(minutes=28)  # noqa: E731
    auth = CustomerTicketAuth(app_client, ticket, clock=fast_clock)
    with httpx.Client(auth=auth) as http:
        assert http.get(kibo_server.url + CURRENT).status_code == 200
    assert kibo_server.count("PUT", REFRESH) == 1
    assert [r.status for r in kibo_server.requests if r.path == CURRENT] == [200]


def test_401_refreshes_once_and_retries_once(
    kibo: ModuleType, kibo_server: KiboServer, app_client: Any
) -> None:
    ticket = _login(app_client, kibo_server)
    auth = _ticket_auth(kibo, app_client, ticket, kibo_server)
    kibo_server.revoke(ticket.access_token)
    with httpx.Client(auth=auth) as http:
        assert http.get(kibo_server.url + CURRENT).status_code == 200
        # A 401 that a fresh ticket does not cure is returned, not looped on.
        kibo_server.fail_next(3, status=401, path=CURRENT)
        assert http.get(kibo_server.url + CURRENT).status_code == 401
    assert kibo_server.count("PUT", REFRESH) == 2
    assert kibo_server.count("GET", CURRENT) == 4


def test_fifty_threads_race_on_an_expiring_ticket_one_refresh(
    kibo: ModuleType, kibo_server: KiboServer, app_client: Any
) -> None:
    ticket = _login(app_client, kibo_server)
    refreshed: list[Any] = []
    auth = _ticket_auth(kibo, app_client, ticket, kibo_server, on_refresh=refreshed.append)
    kibo_server.advance(ACCESS_TTL - 60)  # inside the 180 s margin for everyone
    barrier = threading.Barrier(50)
    statuses: list[int] = []
    errors: list[BaseException] = []

    with httpx.Client(auth=auth, limits=httpx.Limits(max_connections=50)) as http:

        def worker() -> None:
            try:
                barrier.wait(timeout=30)
                statuses.append(http.get(kibo_server.url + CURRENT).status_code)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(50)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert not errors
    assert statuses == [200] * 50
    assert kibo_server.count("PUT", REFRESH) == 1
    assert auth.refresh_count == 1 and len(refreshed) == 1


def test_fifty_threads_race_on_a_revoked_ticket_one_refresh(
    kibo: ModuleType, kibo_server: KiboServer, app_client: Any
) -> None:
    ticket = _login(app_client, kibo_server)
    auth = _ticket_auth(kibo, app_client, ticket, kibo_server)
    kibo_server.revoke(ticket.access_token)  # not due locally: every thread learns it from a 401
    barrier = threading.Barrier(50)
    statuses: list[int] = []
    with httpx.Client(auth=auth, limits=httpx.Limits(max_connections=50)) as http:

        def worker() -> None:
            barrier.wait(timeout=30)
            statuses.append(http.get(kibo_server.url + CURRENT).status_code)

        threads = [threading.Thread(target=worker) for _ in range(50)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert statuses == [200] * 50
    assert kibo_server.count("PUT", REFRESH) == 1


def test_fifty_tasks_race_on_an_expiring_ticket_one_refresh(
    kibo: ModuleType, kibo_server: KiboServer
) -> None:
    from kibo_authtickets.auth import AsyncCustomerTicketAuth

    kibo_server.add_user("async@example.com", "pw")
    app_token = kibo_server.issue_app_token()
    refreshed: list[Any] = []

    async def on_refresh(ticket: Any) -> None:
        await asyncio.sleep(0)
        refreshed.append(ticket)

    async def main() -> list[int]:
        async with kibo.AsyncClient(base_url=kibo_server.url, access_token=app_token) as client:
            ticket = await client.storefront_auth_ticket.create_user_auth_ticket(
                body={"username": "async@example.com", "password": "pw"}
            )
            auth = AsyncCustomerTicketAuth(
                client, ticket, clock=kibo_server.now, on_refresh=on_refresh
            )
            kibo_server.advance(ACCESS_TTL - 10)
            async with httpx.AsyncClient(
                auth=auth, limits=httpx.Limits(max_connections=50)
            ) as http:
                responses = await asyncio.gather(
                    *(http.get(kibo_server.url + CURRENT) for _ in range(50))
                )
            assert auth.refresh_count == 1
            return [r.status_code for r in responses]

    assert asyncio.run(main()) == [200] * 50
    assert kibo_server.count("PUT", REFRESH) == 1
    assert len(refreshed) == 1


def test_async_401_refreshes_once(kibo: ModuleType, kibo_server: KiboServer) -> None:
    from kibo_authtickets.auth import AsyncCustomerTicketAuth

    kibo_server.add_user("a401@example.com", "pw")
    app_token = kibo_server.issue_app_token()

    async def main() -> int:
        async with kibo.AsyncClient(base_url=kibo_server.url, access_token=app_token) as client:
            ticket = await client.storefront_auth_ticket.create_user_auth_ticket(
                body={"username": "a401@example.com", "password": "pw"}
            )
            kibo_server.revoke(ticket.access_token)
            auth = AsyncCustomerTicketAuth(client, ticket, clock=kibo_server.now)
            async with httpx.AsyncClient(auth=auth) as http:
                return (await http.get(kibo_server.url + CURRENT)).status_code

    assert asyncio.run(main()) == 200
    assert kibo_server.count("PUT", REFRESH) == 1


def test_expired_refresh_token_raises_without_a_network_call(
    kibo: ModuleType, kibo_server: KiboServer, app_client: Any
) -> None:
    ticket = _login(app_client, kibo_server)
    auth = _ticket_auth(kibo, app_client, ticket, kibo_server)
    kibo_server.advance(8 * 24 * 3600)  # past the 7-day refresh token
    before = len(kibo_server.requests)
    with httpx.Client(auth=auth) as http, pytest.raises(kibo.TicketExpiredError) as caught:
        http.get(kibo_server.url + CURRENT)
    assert len(kibo_server.requests) == before  # neither the refresh nor the call went out
    assert isinstance(caught.value, kibo.APIError)
    assert "log the shopper in again" in str(caught.value)
    assert ticket.refresh_token not in str(caught.value)


def test_rejected_refresh_token_raises_ticket_expired(
    kibo: ModuleType, kibo_server: KiboServer, app_client: Any
) -> None:
    ticket = _login(app_client, kibo_server)
    auth = _ticket_auth(kibo, app_client, ticket, kibo_server)
    kibo_server.revoke(ticket.refresh_token)
    kibo_server.advance(ACCESS_TTL - 5)
    with httpx.Client(auth=auth) as http, pytest.raises(kibo.TicketExpiredError) as caught:
        http.get(kibo_server.url + CURRENT)
    assert kibo_server.count("PUT", REFRESH) == 1
    assert kibo_server.count("GET", CURRENT) == 0
    assert isinstance(caught.value.__cause__, kibo.AuthenticationError)
    for secret in (ticket.refresh_token, ticket.access_token):
        assert secret not in str(caught.value) and secret not in str(caught.value.__cause__)


def test_server_error_during_refresh_is_not_ticket_expired(
    kibo: ModuleType, kibo_server: KiboServer, app_client: Any
) -> None:
    ticket = _login(app_client, kibo_server)
    auth = _ticket_auth(kibo, app_client, ticket, kibo_server)
    kibo_server.advance(ACCESS_TTL - 5)
    kibo_server.fail_next(1, status=503, path=REFRESH)
    with httpx.Client(auth=auth) as http, pytest.raises(kibo.InternalServerError):
        http.get(kibo_server.url + CURRENT)
    with httpx.Client(auth=auth) as http:  # the ticket was kept: the next call refreshes fine
        assert http.get(kibo_server.url + CURRENT).status_code == 200
    assert auth.refresh_count == 1


def test_wrong_flavour_raises(kibo: ModuleType, kibo_server: KiboServer, app_client: Any) -> None:
    ticket = _login(app_client, kibo_server)
    auth = _ticket_auth(kibo, app_client, ticket, kibo_server)

    async def main() -> None:
        async with httpx.AsyncClient(auth=auth) as http:
            await http.get(kibo_server.url + CURRENT)

    with pytest.raises(RuntimeError, match="AsyncCustomerTicketAuth"):
        asyncio.run(main())
    assert "access" not in repr(auth).lower() or ticket.access_token not in repr(auth)


def test_accepts_a_ticket_mapping_and_works_as_generated_client_auth(
    kibo: ModuleType, kibo_server: KiboServer, app_client: Any
) -> None:
    """`Client(auth=CustomerTicketAuth(app_client, ticket))`: generated calls for the shopper."""
    ticket = _login(app_client, kibo_server)
    wire = ticket.model_dump(mode="json", by_alias=True, exclude_unset=True)
    auth = _ticket_auth(kibo, app_client, wire, kibo_server)
    with kibo.Client(base_url=kibo_server.url, auth=auth) as shopper:
        kibo_server.advance(ACCESS_TTL - 1)
        shopper.storefront_auth_ticket.create_anonymous_shopper_auth_ticket()
    sent = kibo_server.last("GET", "/commerce/customer/authtickets/anonymousshopper").headers
    assert sent["x-vol-user-claims"] == auth.ticket.access_token
    assert sent["authorization"].startswith("Bearer ")
    assert kibo_server.count("PUT", REFRESH) == 1
