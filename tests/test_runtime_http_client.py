"""Generated client runtime: bring your own httpx client, `auth=`, closing and context managers."""

from __future__ import annotations

import asyncio
from collections.abc import Generator
from types import ModuleType

from tests.conftest import httpx  # httpx or httpx2 (KIBO_HTTP_LIBRARY)
from tests.kibo_server import KiboServer

ANONYMOUS = "/commerce/customer/authtickets/anonymousshopper"


def test_own_http_client_is_used_and_never_closed(kibo: ModuleType, server: KiboServer) -> None:
    seen: list[str] = []
    http = httpx.Client(
        headers={"X-From-My-Client": "yes"},
        event_hooks={"request": [lambda request: seen.append(request.url.path)]},
    )
    token = server.issue_app_token()
    with kibo.Client(base_url=server.url, access_token=token, http_client=http) as c:
        assert c.storefront_auth_ticket.create_anonymous_shopper_auth_ticket().access_token
    c.close()  # twice, even
    assert not http.is_closed, "the client never closes an http_client it did not create"
    assert seen == ["/api" + ANONYMOUS]
    received = server.last()
    assert received.headers["x-from-my-client"] == "yes"
    assert received.headers["user-agent"].startswith("kibo-authtickets-python/")
    # Still usable by its owner.
    again = http.get(server.url + ANONYMOUS, headers={"Authorization": f"Bearer {token}"})
    assert again.status_code == 200
    http.close()


def test_own_client_with_a_custom_transport(kibo: ModuleType, server: KiboServer) -> None:
    calls: list[httpx.Request] = []
    real = httpx.HTTPTransport()

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return real.handle_request(request)

    class Spy(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            return handler(request)

    with (
        httpx.Client(transport=Spy()) as http,
        kibo.Client(
            base_url=server.url, access_token=server.issue_app_token(), http_client=http
        ) as c,
    ):
        assert c.storefront_auth_ticket.create_anonymous_shopper_auth_ticket().access_token
    assert len(calls) == 1 and calls[0].url.host == "127.0.0.1"
    real.close()


def test_owned_http_client_is_closed(kibo: ModuleType, server: KiboServer) -> None:
    with kibo.Client(base_url=server.url, access_token=server.issue_app_token()) as c:
        c.storefront_auth_ticket.create_anonymous_shopper_auth_ticket()
        assert not c.is_closed
    assert c.is_closed
    other = kibo.Client(base_url=server.url)
    other.close()
    assert other.is_closed


class HeaderAuth(httpx.Auth):
    """Any httpx.Auth works; this one also shows the flow sees each (re)tried request."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.calls = 0

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.calls += 1
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


def test_auth_argument(kibo: ModuleType, server: KiboServer) -> None:
    auth = HeaderAuth(server.issue_app_token())
    with kibo.Client(base_url=server.url, auth=auth) as c:
        c._sleep = lambda seconds: None
        server.fail_next(1, status=503)
        assert c.storefront_auth_ticket.create_anonymous_shopper_auth_ticket().access_token
    assert auth.calls == 2
    assert server.last().headers["authorization"] == f"Bearer {auth.token}"


def test_auth_of_my_own_http_client_is_used(kibo: ModuleType, server: KiboServer) -> None:
    auth = HeaderAuth(server.issue_app_token())
    with httpx.Client(auth=auth) as http, kibo.Client(base_url=server.url, http_client=http) as c:
        assert c.storefront_auth_ticket.create_anonymous_shopper_auth_ticket().access_token
    assert auth.calls == 1


def test_async_own_http_client_is_never_closed(kibo: ModuleType, server: KiboServer) -> None:
    async def main() -> tuple[bool, bool]:
        http = httpx.AsyncClient(headers={"X-Async": "1"})
        async with kibo.AsyncClient(
            base_url=server.url, access_token=server.issue_app_token(), http_client=http
        ) as c:
            await c.storefront_auth_ticket.create_anonymous_shopper_auth_ticket()
        mine_closed = http.is_closed
        await http.aclose()
        async with kibo.AsyncClient(base_url=server.url, access_token="x") as owned:
            pass
        return mine_closed, owned.is_closed

    mine_closed, owned_closed = asyncio.run(main())
    assert mine_closed is False
    assert owned_closed is True
    assert server.last().headers["x-async"] == "1"


def test_my_http_client_is_not_changed(kibo: ModuleType, server: KiboServer) -> None:
    # Its own headers and query parameters go with every request, merged with ours; it keeps them as they were.
    http = httpx.Client(headers={"X-Mine": "1"}, params={"responseFields": "accessToken"})
    before = (list(http.headers.multi_items()), str(http.params))
    token = server.issue_app_token()
    with kibo.Client(base_url=server.url, access_token=token, http_client=http) as c:
        c.storefront_auth_ticket.create_anonymous_shopper_auth_ticket()
        received = server.last()
        assert received.headers["x-mine"] == "1" and received.headers["authorization"] == f"Bearer {token}"
        assert received.query["responseFields"] == "accessToken"
        c.storefront_auth_ticket.create_anonymous_shopper_auth_ticket(response_fields="refreshToken")
        assert server.last().query["responseFields"] == "refreshToken"
    assert (list(http.headers.multi_items()), str(http.params)) == before
    http.close()
