"""Issue 12.3 / API.md §3 "Auth lifecycle": ticket faults over real HTTP (the loopback Kibo server)."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import httpx  # httpx or httpx2 (KIBO_HTTP_LIBRARY)
from tests.kibo_server import KiboServer

REFRESH = "/commerce/customer/authtickets/refresh"
CURRENT = "/commerce/customer/accounts/current"
OAUTH = "/platform/applications/authtickets/oauth"
SECRET = "app-shared-secret-0123456789"

pytestmark = pytest.mark.usefixtures("no_kibo_env")


def login(client: Any, server: KiboServer, username: str = "life@example.com") -> Any:
    server.add_user(username, "correct horse")
    return client.storefront_auth_ticket.create_user_auth_ticket(
        body={"username": username, "password": "correct horse"}
    )


def race(threads: int, call: Any) -> None:
    """`call()` from `threads` threads released at once; each must return True."""
    barrier = threading.Barrier(threads)
    results: list[bool] = []

    def run() -> None:
        barrier.wait()
        results.append(call())

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert results == [True] * threads


def test_a_refresh_that_times_out_is_not_a_logout(kibo: ModuleType, server: KiboServer) -> None:
    """The server refreshed (and spent the refresh token) but answered after the client's timeout:
    the caller gets APITimeoutError, the refresh is not sent again with the spent token, and the
    ticket is kept."""
    from kibo_authtickets.auth import CustomerTicketAuth

    with kibo.Client(base_url=server.url, access_token=server.issue_app_token(), timeout=0.3) as app:
        app._sleep = lambda seconds: None
        ticket = login(app, server)
        auth = CustomerTicketAuth(app, ticket, clock=server.now)
        server.advance(server.access_ttl - 10)  # inside the margin: the next call refreshes
        server.delay_next(1, 0.8, path=REFRESH)
        with httpx.Client(auth=auth) as http, pytest.raises(kibo.APITimeoutError):
            http.get(server.url + CURRENT)
    assert server.count("PUT", REFRESH) == 1
    assert auth.ticket is ticket and auth.refresh_count == 0


def test_short_tickets_cause_no_refresh_storm(kibo: ModuleType, server: KiboServer) -> None:
    """Tickets that live 60 s (less than the 180 s margin): 50 racing threads cause one refresh, and
    the new ticket is not refreshed again at once (its margin is half its lifetime)."""
    from kibo_authtickets.auth import CustomerTicketAuth

    server.access_ttl = 60
    with kibo.Client(base_url=server.url, access_token=server.issue_app_token()) as app:
        auth = CustomerTicketAuth(app, login(app, server), clock=server.now)  # due: 60 s < 180 s
        with httpx.Client(auth=auth) as http:
            race(50, lambda: http.get(server.url + CURRENT).status_code == 200)
            assert server.count("PUT", REFRESH) == 1
            for _ in range(5):
                assert http.get(server.url + CURRENT).status_code == 200
            assert server.count("PUT", REFRESH) == 1
            server.advance(31)  # past half its lifetime: refreshed once more
            assert http.get(server.url + CURRENT).status_code == 200
    assert server.count("PUT", REFRESH) == 2


def test_a_ticket_that_arrives_expired_is_used_until_rejected(kibo: ModuleType, server: KiboServer) -> None:
    """The client's clock runs an hour ahead: every ticket looks expired on arrival. One refresh for
    the racing burst, then the new ticket is used as it is (the server accepts it)."""
    from kibo_authtickets.auth import CustomerTicketAuth

    def ahead() -> Any:
        return server.now() + timedelta(hours=1)

    with kibo.Client(base_url=server.url, access_token=server.issue_app_token()) as app:
        auth = CustomerTicketAuth(app, login(app, server), clock=ahead)
        with httpx.Client(auth=auth) as http:
            race(50, lambda: http.get(server.url + CURRENT).status_code == 200)
            for _ in range(5):
                assert http.get(server.url + CURRENT).status_code == 200
    assert server.count("PUT", REFRESH) == 1


def test_a_revoked_app_token_does_not_end_the_shoppers_session(kibo: ModuleType, server: KiboServer) -> None:
    from kibo_authtickets.auth import AppTokenAuth, CustomerTicketAuth

    server.add_app("my-app", SECRET)
    app_auth = AppTokenAuth("my-app", SECRET, auth_host=server.url)
    with kibo.Client(base_url=server.url, auth=app_auth) as app:
        ticket = login(app, server)
        auth = CustomerTicketAuth(app, ticket, clock=server.now)
        with httpx.Client(auth=auth) as http:
            assert http.get(server.url + CURRENT).status_code == 200
            assert app_auth._token is not None
            server.advance(server.access_ttl - 10)  # the ticket is due: its refresh carries the app token
            server.revoke(app_auth._token)  # the app token, not the shopper's ticket
            assert http.get(server.url + CURRENT).status_code == 200
    calls = [(r.method, r.path, r.status) for r in server.requests if r.path in (REFRESH, OAUTH)]
    assert calls[-3:] == [("PUT", REFRESH, 401), ("POST", OAUTH, 200), ("PUT", REFRESH, 200)]
    assert app_auth.fetch_count == 2
    assert auth.refresh_count == 1  # refreshed once, never "logged out" (no TicketExpiredError)


def test_one_async_auth_used_from_two_event_loops_refreshes_once(kibo: ModuleType, server: KiboServer) -> None:
    from kibo_authtickets.auth import AsyncCustomerTicketAuth

    with kibo.Client(base_url=server.url, access_token=server.issue_app_token()) as sync_app:
        ticket = login(sync_app, server)
    server.advance(server.access_ttl - 10)  # due
    app = kibo.AsyncClient(base_url=server.url, access_token=server.issue_app_token())
    auth = AsyncCustomerTicketAuth(app, ticket, clock=server.now)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def loop() -> None:
        async def main() -> None:
            barrier.wait()
            await asyncio.gather(*(auth.current_ticket() for _ in range(25)))

        try:
            asyncio.run(main())
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=loop) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert server.count("PUT", REFRESH) == 1 and auth.refresh_count == 1
