"""login() / alogin(): password login with the two-factor step, end to end (loopback server)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import httpx  # httpx or httpx2 (KIBO_HTTP_LIBRARY)
from tests.kibo_server import KiboServer

TWO_FA_REQUEST = "/commerce/customer/authtickets/2fa/request"
TWO_FA_AUTH = "/commerce/customer/authtickets/2fa/auth"
CURRENT = "/commerce/customer/accounts/current"
PASSWORD = "s3cret-Passw0rd!"
APP_SECRET = "app-secret-for-the-login-test"


# Kibo's environment variables of the machine running the tests must not leak in.
pytestmark = pytest.mark.usefixtures("no_kibo_env")


@pytest.fixture()
def client(kibo: ModuleType, kibo_server: KiboServer) -> Iterator[Any]:
    kibo_server.add_app("app", APP_SECRET)
    with kibo.Client(
        base_url=kibo_server.url,
        client_id="app",
        client_secret=APP_SECRET,
        auth_host=kibo_server.url,
    ) as c:
        yield c


def test_login_without_two_factor(kibo_server: KiboServer, client: Any) -> None:
    from kibo_authtickets.auth import login

    kibo_server.add_user("plain@example.com", PASSWORD)
    ticket = login(client, "plain@example.com", PASSWORD)
    assert ticket.refresh_token and not ticket.requires_2fa
    assert kibo_server.count("POST", TWO_FA_REQUEST) == 0


def test_two_factor_login_end_to_end_then_call_on_behalf_of_the_shopper(
    kibo: ModuleType, kibo_server: KiboServer, client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from kibo_authtickets.auth import CustomerTicketAuth, login

    caplog.set_level(logging.DEBUG)
    user = kibo_server.add_user("twofa@example.com", PASSWORD, requires_2fa=True)
    codes: list[str] = []

    def read_code(pending: Any) -> str:
        assert pending.requires_2fa is True and pending.refresh_token is None
        codes.append(kibo_server.sent_codes[pending.user_id])  # "the shopper reads their email"
        return codes[-1]

    ticket = login(
        client, "twofa@example.com", PASSWORD, two_factor_code=read_code, fingerprint="fp-1"
    )
    assert ticket.user_id == user.user_id and ticket.refresh_token and not ticket.requires_2fa
    assert ticket.customer_account.last_2fa_date is not None
    assert (
        kibo_server.count("POST", TWO_FA_REQUEST) == 1
        and kibo_server.count("POST", TWO_FA_AUTH) == 1
    )
    assert kibo_server.last("POST", TWO_FA_REQUEST).headers["x-vol-user-claims"]
    assert kibo_server.last("POST", "/commerce/customer/authtickets").json["fingerprint"] == "fp-1"

    auth = CustomerTicketAuth(client, ticket, clock=kibo_server.now)
    kibo_server.advance(1800 - 30)
    with httpx.Client(auth=auth) as http:
        assert http.get(kibo_server.url + CURRENT).json()["userId"] == user.user_id
    assert auth.refresh_count == 1
    for secret in (PASSWORD, APP_SECRET, codes[0], ticket.access_token, ticket.refresh_token):
        assert secret not in caplog.text


def test_two_factor_code_later_and_wrong_code(
    kibo: ModuleType, kibo_server: KiboServer, client: Any
) -> None:
    from kibo_authtickets.auth import TwoFactorRequired, complete_two_factor_login, login

    user = kibo_server.add_user("later@example.com", PASSWORD, requires_2fa=True)
    with pytest.raises(TwoFactorRequired) as caught:
        login(client, "later@example.com", PASSWORD)
    pending = caught.value.ticket
    assert pending.access_token not in str(caught.value) and pending.access_token not in repr(
        pending
    )
    code = kibo_server.sent_codes[user.user_id]
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(kibo.AuthenticationError) as bad:
        complete_two_factor_login(client, pending, wrong)
    assert wrong not in str(bad.value)
    ticket = complete_two_factor_login(client, pending, code)
    assert ticket.refresh_token


def test_wrong_password_is_an_authentication_error_without_the_password(
    kibo: ModuleType, kibo_server: KiboServer, client: Any
) -> None:
    from kibo_authtickets.auth import login

    kibo_server.add_user("who@example.com", PASSWORD)
    with pytest.raises(kibo.AuthenticationError) as caught:
        login(client, "who@example.com", "not-the-password-42")
    assert "not-the-password-42" not in str(caught.value) and "not-the-password-42" not in repr(
        caught.value.body
    )


def test_async_two_factor_login(kibo: ModuleType, kibo_server: KiboServer) -> None:
    from kibo_authtickets.auth import alogin

    kibo_server.add_app("app", APP_SECRET)
    user = kibo_server.add_user("async2fa@example.com", PASSWORD, requires_2fa=True)

    async def code_from_inbox(pending: Any) -> str:
        await asyncio.sleep(0)
        return kibo_server.sent_codes[pending.user_id]

    async def main() -> Any:
        async with kibo.AsyncClient(
            base_url=kibo_server.url,
            client_id="app",
            client_secret=APP_SECRET,
            auth_host=kibo_server.url,
        ) as c:
            return await alogin(
                c, "async2fa@example.com", PASSWORD, two_factor_code=code_from_inbox
            )

    ticket = asyncio.run(main())
    assert ticket.user_id == user.user_id and ticket.refresh_token
    assert kibo_server.count("POST", TWO_FA_AUTH) == 1
