"""AppTokenAuth and Client(client_id=..., client_secret=...) against the loopback Kibo server."""

from __future__ import annotations

import asyncio
import logging
import threading
from types import ModuleType

import pytest

from tests.conftest import httpx  # httpx or httpx2 (KIBO_HTTP_LIBRARY)
from tests.kibo_server import KiboServer

OAUTH = "/platform/applications/authtickets/oauth"
ANONYMOUS = "/commerce/customer/authtickets/anonymousshopper"
SECRET = "app-shared-secret-0123456789"


# Kibo's environment variables of the machine running the tests must not leak in.
pytestmark = pytest.mark.usefixtures("no_kibo_env")


def test_client_fetches_caches_and_sends_the_app_token(
    kibo: ModuleType, kibo_server: KiboServer
) -> None:
    kibo_server.add_app("my-app", SECRET)
    with kibo.Client(
        base_url=kibo_server.url,
        client_id="my-app",
        client_secret=SECRET,
        auth_host=kibo_server.url,
    ) as client:
        for _ in range(3):
            client.storefront_auth_ticket.create_anonymous_shopper_auth_ticket()
    assert kibo_server.count("POST", OAUTH) == 1
    token_request = kibo_server.last("POST", OAUTH)
    assert token_request.json == {
        "client_id": "my-app",
        "client_secret": SECRET,
        "grant_type": "client_credentials",
    }
    assert "authorization" not in token_request.headers
    bearer = kibo_server.last("GET", ANONYMOUS).headers["authorization"]
    assert bearer.removeprefix("Bearer ") in kibo_server.app_tokens


def test_auth_host_accepts_a_bare_origin(kibo: ModuleType, kibo_server: KiboServer) -> None:
    """`auth_host=http://127.0.0.1:PORT` gets the spec's `/api` path, like `home.mozu.com` does."""
    from kibo_authtickets.auth import AppTokenAuth

    kibo_server.add_app("my-app", SECRET)
    auth = AppTokenAuth("my-app", SECRET, auth_host=kibo_server.origin)
    assert auth.token_url == kibo_server.url + OAUTH
    with kibo.Client(base_url=kibo_server.url, auth=auth) as client:
        client.storefront_auth_ticket.create_anonymous_shopper_auth_ticket()
    assert auth.fetch_count == 1


def test_token_is_renewed_before_expires_in_runs_out(
    kibo: ModuleType, kibo_server: KiboServer
) -> None:
    from kibo_authtickets.auth import AppTokenAuth

    kibo_server.add_app("my-app", SECRET, expires_in=3600)
    auth = AppTokenAuth("my-app", SECRET, auth_host=kibo_server.url, skew=60, clock=kibo_server.now)
    with kibo.Client(base_url=kibo_server.url, auth=auth, max_retries=0) as client:
        client.storefront_auth_ticket.create_anonymous_shopper_auth_ticket()
        kibo_server.advance(3600 - 61)
        client.storefront_auth_ticket.create_anonymous_shopper_auth_ticket()
        assert auth.fetch_count == 1
        kibo_server.advance(2)  # 59 s left: inside the skew
        client.storefront_auth_ticket.create_anonymous_shopper_auth_ticket()
        assert auth.fetch_count == 2
        kibo_server.advance(3600 - 30)  # the first token has long expired on the server
        client.storefront_auth_ticket.create_anonymous_shopper_auth_ticket()
    assert auth.fetch_count == 3
    assert kibo_server.count("POST", OAUTH) == 3
    assert [r.status for r in kibo_server.requests if r.path == ANONYMOUS] == [200] * 4


def test_a_rejected_app_token_is_fetched_again_once(kibo: ModuleType, kibo_server: KiboServer) -> None:
    """The server enforces expiry (here the client's clock is frozen, so it never renews early): the
    401 makes AppTokenAuth fetch a new token once and send the call again (API.md §3)."""
    from kibo_authtickets.auth import AppTokenAuth

    kibo_server.add_app("my-app", SECRET, expires_in=3600)
    frozen = kibo_server.now()
    auth = AppTokenAuth("my-app", SECRET, auth_host=kibo_server.url, clock=lambda: frozen)
    with kibo.Client(base_url=kibo_server.url, auth=auth, max_retries=0) as client:
        client.storefront_auth_ticket.create_anonymous_shopper_auth_ticket()
        kibo_server.advance(3601)
        assert client.storefront_auth_ticket.create_anonymous_shopper_auth_ticket().access_token
        assert auth.fetch_count == 2
        assert kibo_server.count("GET", ANONYMOUS) == 3  # 200, 401, 200
        # A token the server keeps rejecting: one new fetch, then the 401 is the caller's.
        kibo_server.fail_next(2, status=401, path=ANONYMOUS)
        with pytest.raises(kibo.AuthenticationError):
            client.storefront_auth_ticket.create_anonymous_shopper_auth_ticket()
    assert auth.fetch_count == 3


def test_fifty_threads_share_one_token_fetch(kibo: ModuleType, kibo_server: KiboServer) -> None:
    kibo_server.add_app("my-app", SECRET)
    barrier = threading.Barrier(50)
    results: list[str] = []
    with kibo.Client(
        base_url=kibo_server.url,
        client_id="my-app",
        client_secret=SECRET,
        auth_host=kibo_server.url,
        http_client=httpx.Client(limits=httpx.Limits(max_connections=50)),
    ) as client:

        def worker() -> None:
            barrier.wait(timeout=30)
            ticket = client.storefront_auth_ticket.create_anonymous_shopper_auth_ticket()
            results.append(ticket.user_id)

        threads = [threading.Thread(target=worker) for _ in range(50)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert len(results) == 50
    assert kibo_server.count("POST", OAUTH) == 1


def test_async_client_fetches_once_for_fifty_tasks(
    kibo: ModuleType, kibo_server: KiboServer
) -> None:
    kibo_server.add_app("my-app", SECRET)

    async def main() -> int:
        async with kibo.AsyncClient(
            base_url=kibo_server.url,
            client_id="my-app",
            client_secret=SECRET,
            auth_host=kibo_server.url,
        ) as client:
            tickets = await asyncio.gather(
                *(
                    client.storefront_auth_ticket.create_anonymous_shopper_auth_ticket()
                    for _ in range(50)
                )
            )
            return len(tickets)

    assert asyncio.run(main()) == 50
    assert kibo_server.count("POST", OAUTH) == 1


def test_bad_credentials_raise_authentication_error_without_the_secret(
    kibo: ModuleType, kibo_server: KiboServer, caplog: pytest.LogCaptureFixture
) -> None:
    kibo_server.add_app("my-app", SECRET)
    caplog.set_level(logging.DEBUG)
    wrong = "wrong-secret-value-987654321"
    with (
        kibo.Client(
            base_url=kibo_server.url,
            client_id="my-app",
            client_secret=wrong,
            auth_host=kibo_server.url,
        ) as client,
        pytest.raises(kibo.AuthenticationError) as caught,
    ):
        client.storefront_auth_ticket.create_anonymous_shopper_auth_ticket()
    error = caught.value
    assert error.status_code == 401
    assert "application token" in str(error)
    assert error.correlation_id
    for text in (str(error), repr(error), repr(error.body), caplog.text, repr(client._auth)):
        assert wrong not in text and SECRET not in text
    assert kibo_server.count("GET", ANONYMOUS) == 0


def test_environment_supplies_credentials_and_auth_host(
    kibo: ModuleType, kibo_server: KiboServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    kibo_server.add_app("env-app", SECRET)
    monkeypatch.setenv("KIBO_CLIENT_ID", "env-app")
    monkeypatch.setenv("KIBO_SHARED_SECRET", SECRET)
    monkeypatch.setenv("KIBO_AUTH_HOST", kibo_server.origin)
    with kibo.Client(base_url=kibo_server.url) as client:
        client.storefront_auth_ticket.create_anonymous_shopper_auth_ticket()
    assert kibo_server.count("POST", OAUTH) == 1
    # An explicit access token wins over the environment: no token fetch.
    token = kibo_server.issue_app_token()
    with kibo.Client(base_url=kibo_server.url, access_token=token) as client:
        client.storefront_auth_ticket.create_anonymous_shopper_auth_ticket()
    assert kibo_server.count("POST", OAUTH) == 1


def test_credential_arguments_are_validated(kibo: ModuleType) -> None:
    with pytest.raises(ValueError, match="client_secret"):
        kibo.Client(base_url="http://127.0.0.1:9/api", client_id="only-id")
    with pytest.raises(ValueError, match="not both"):
        kibo.Client(
            base_url="http://127.0.0.1:9/api", access_token="t", client_id="a", client_secret="b"
        )


def test_default_and_regional_token_hosts(kibo: ModuleType) -> None:
    from kibo_authtickets.auth import TOKEN_SERVERS, AppTokenAuth

    assert AppTokenAuth("a", "b").token_url == "https://home.mozu.com/api" + OAUTH
    assert AppTokenAuth("a", "b", auth_host="home.euw1.kibocommerce.com").token_url == (
        "https://home.euw1.kibocommerce.com/api" + OAUTH
    )
    eu = kibo.Client(server="EURO Site Level Api", tenant_id="1", site_id="2", access_token="t")
    assert eu.operation_base_url(TOKEN_SERVERS) == "https://home.euw1.kibocommerce.com/api"
    us = kibo.Client(tenant_id="1", site_id="2", access_token="t")
    assert us.operation_base_url(TOKEN_SERVERS) == "https://home.mozu.com/api"
    from_url = kibo.Client(base_url="https://t1-s2.sb.euw1.kibocommerce.com/api", access_token="t")
    assert from_url.operation_base_url(TOKEN_SERVERS) == "https://home.euw1.kibocommerce.com/api"
    overridden = kibo.Client(tenant_id="1", site_id="2", access_token="t", auth_host="auth.example")
    assert overridden.operation_base_url(TOKEN_SERVERS) == "https://auth.example/api"


def test_oauth_operation_goes_to_the_auth_host(kibo: ModuleType, kibo_server: KiboServer) -> None:
    kibo_server.add_app("my-app", SECRET, expires_in=1234)
    with kibo.Client(
        base_url="https://t1-s2.sandbox.mozu.com/api", auth_host=kibo_server.url, access_token="x"
    ) as c:
        token = c.app_auth_tickets.oauth_authenticate_app(
            body={
                "client_id": "my-app",
                "client_secret": SECRET,
                "grant_type": "client_credentials",
            }
        )
    assert token.expires_in == 1234
    assert token.access_token in kibo_server.app_tokens
    assert SECRET not in repr(token)
