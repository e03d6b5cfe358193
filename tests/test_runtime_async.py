"""Generated client runtime: `AsyncClient` — same resources and methods, same retry/error logic."""

from __future__ import annotations

import asyncio
import inspect
import socket
from collections.abc import Awaitable, Callable
from types import ModuleType
from typing import Any, TypeVar

import pytest

from tests.conftest import models
from tests.kibo_server import KiboServer

ANONYMOUS = "/commerce/customer/authtickets/anonymousshopper"
T = TypeVar("T")


@pytest.fixture()
def server(kibo_server: KiboServer) -> KiboServer:
    return kibo_server


def run(
    kibo: ModuleType,
    server: KiboServer,
    body: Callable[[Any, list[float]], Awaitable[T]],
    **kwargs: Any,
) -> tuple[T, list[float]]:
    """Run `body(client, sleeps)` with an AsyncClient whose sleeps are recorded, not slept."""
    sleeps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async def main() -> T:
        kwargs.setdefault("base_url", server.url)
        kwargs.setdefault("access_token", server.issue_app_token())
        async with kibo.AsyncClient(**kwargs) as c:
            c._sleep = fake_sleep
            c._retry.jitter = lambda: 0.0
            return await body(c, sleeps)

    return asyncio.run(main()), sleeps


def public_methods(obj: Any) -> dict[str, Any]:
    return {
        name: getattr(obj, name)
        for name in dir(obj)
        if not name.startswith("_") and name != "with_raw_response" and callable(getattr(obj, name))
    }


def test_same_resources_and_methods_as_the_sync_client(kibo: ModuleType) -> None:
    sync, asyn = (
        kibo.Client(base_url="http://127.0.0.1:9/api"),
        kibo.AsyncClient(base_url="http://127.0.0.1:9/api"),
    )
    try:
        for resource in ("storefront_auth_ticket", "app_auth_tickets"):
            sync_methods = public_methods(getattr(sync, resource))
            async_methods = public_methods(getattr(asyn, resource))
            assert sync_methods.keys() == async_methods.keys() and sync_methods
            for name, method in async_methods.items():
                assert inspect.iscoroutinefunction(method), name
                assert not inspect.iscoroutinefunction(sync_methods[name]), name
                sync_params = inspect.signature(sync_methods[name]).parameters
                assert inspect.signature(method).parameters.keys() == sync_params.keys(), name
                raw = getattr(getattr(asyn, resource).with_raw_response, name)
                assert inspect.iscoroutinefunction(raw), name
    finally:
        sync.close()
        asyncio.run(asyn.close())


def test_one_retry_policy_two_thin_transports(kibo: ModuleType) -> None:
    base = inspect.getmodule(kibo.Client.__mro__[1])
    assert base is not None
    # Request building, the retry loop, parsing and error mapping are inherited from one class.
    for name in (
        "_request_flow",
        "_build_request",
        "_process_response",
        "_parse",
        "_make_status_error",
    ):
        assert (
            getattr(kibo.Client, name)
            is getattr(kibo.AsyncClient, name)
            is getattr(base.BaseClient, name)
        )


def test_async_user_ticket_lifecycle(kibo: ModuleType, server: KiboServer) -> None:
    server.add_user("async@example.com", "pw-123456", account_id=55)

    async def body(c: Any, sleeps: list[float]) -> Any:
        ticket = await c.storefront_auth_ticket.create_user_auth_ticket(
            body=models(kibo).CustomerUserAuthInfo(
                username="async@example.com", password="pw-123456"
            )
        )
        refreshed = await c.storefront_auth_ticket.refresh_user_auth_ticket(
            refresh_token=ticket.refresh_token
        )
        cart = await c.storefront_auth_ticket.impersonate_cart(
            body={"cartId": "c1", "accountId": 55}
        )
        return ticket, refreshed, cart

    (ticket, refreshed, cart), sleeps = run(kibo, server, body)
    assert ticket.customer_account.id == 55
    assert refreshed.access_token != ticket.access_token
    assert server.is_valid_access_token(refreshed.access_token)
    assert cart.customer_account.id == 55
    assert sleeps == []


def test_async_concurrent_calls_share_one_client(kibo: ModuleType, server: KiboServer) -> None:
    async def body(c: Any, sleeps: list[float]) -> list[Any]:
        calls = [c.storefront_auth_ticket.create_anonymous_shopper_auth_ticket() for _ in range(12)]
        return list(await asyncio.gather(*calls))

    tickets, _ = run(kibo, server, body)
    assert len({t.access_token for t in tickets}) == 12
    assert server.count("GET", ANONYMOUS) == 12


def test_async_retries_use_the_same_policy(kibo: ModuleType, server: KiboServer) -> None:
    server.fail_next(2, status=503)
    server.fail_next(1, status=429, headers={"Retry-After": "4"})

    async def body(c: Any, sleeps: list[float]) -> Any:
        return await c.storefront_auth_ticket.create_anonymous_shopper_auth_ticket()

    ticket, sleeps = run(kibo, server, body, max_retries=3)
    assert ticket.access_token
    assert sleeps == [0.5, 1.0, 4.0]
    assert server.count() == 4


def test_async_errors(kibo: ModuleType, server: KiboServer) -> None:
    async def body(c: Any, sleeps: list[float]) -> list[BaseException]:
        server.fail_next(3, status=500)
        server.fail_next(1, status=404)
        server.respond_next(200, b"not json", content_type="text/plain")
        results = []
        for _ in range(3):
            try:
                await c.storefront_auth_ticket.create_anonymous_shopper_auth_ticket()
            except kibo.APIError as exc:
                results.append(exc)
        return results

    (exhausted, missing, bad_body), sleeps = run(kibo, server, body)
    assert isinstance(exhausted, kibo.InternalServerError) and exhausted.status_code == 500
    assert isinstance(exhausted.error, models(kibo).KiboError)
    assert isinstance(missing, kibo.NotFoundError)
    assert isinstance(bad_body, kibo.APIResponseValidationError)
    assert sleeps == [0.5, 1.0]


def test_async_timeout_after_retries(kibo: ModuleType, server: KiboServer) -> None:
    server.delay_next(2, 2.0, path=ANONYMOUS)

    async def body(c: Any, sleeps: list[float]) -> BaseException:
        with pytest.raises(kibo.APITimeoutError) as info:
            await c.storefront_auth_ticket.create_anonymous_shopper_auth_ticket(timeout=0.05)
        return info.value

    exc, sleeps = run(kibo, server, body, max_retries=1)
    assert "after 2 attempts" in str(exc)
    assert sleeps == [0.5]
    assert server.count() == 2


def test_async_connection_error(kibo: ModuleType, server: KiboServer) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    async def body(c: Any, sleeps: list[float]) -> BaseException:
        with pytest.raises(kibo.APIConnectionError) as info:
            await c.storefront_auth_ticket.create_anonymous_shopper_auth_ticket()
        return info.value

    exc, sleeps = run(kibo, server, body, base_url=f"http://127.0.0.1:{port}/api")
    assert type(exc) is kibo.APIConnectionError
    assert sleeps == [0.5, 1.0]


def test_async_per_call_options(kibo: ModuleType, server: KiboServer) -> None:
    async def body(c: Any, sleeps: list[float]) -> Any:
        return await c.storefront_auth_ticket.create_anonymous_shopper_auth_ticket(
            extra_headers={"X-Async-Label": "a"},
            extra_query={"responseFields": "userId"},
            timeout=5,
        )

    ticket, _ = run(kibo, server, body)
    assert ticket.user_id and ticket.access_token is None
    assert server.last().headers["x-async-label"] == "a"
    assert server.last().headers["user-agent"] == f"kibo-authtickets-python/{kibo.__version__}"
