"""Generated client runtime: secrets never in repr()/str() of models, log records or error messages.

The test drives real calls that carry every kind of secret (app token in a header, password in a
body, refresh token in a query string, tokens in responses), through successes, retries and
failures, with every logger at DEBUG, then greps everything printable for the secret values.
"""

from __future__ import annotations

import importlib
import json
import logging
import socket
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import HTTP_LIBRARY
from tests.kibo_server import KiboServer

PASSWORD = "Pa55word-hunter2-secret"
REFRESH = "/commerce/customer/authtickets/refresh"


@pytest.fixture()
def app_token(server: KiboServer) -> str:
    return server.issue_app_token()


@pytest.fixture()
def client(kibo: ModuleType, server: KiboServer, app_token: str) -> Iterator[Any]:
    with kibo.Client(base_url=server.url, access_token=app_token) as c:
        c._sleep = lambda seconds: None
        yield c


def assert_clean(text: str, secrets: list[str]) -> None:
    for secret in secrets:
        assert secret not in text, f"secret {secret[:4]}… leaked into: {text[:300]!r}"


# ---- models ----------------------------------------------------------------------------


def test_model_repr_and_str_hide_secrets(kibo: ModuleType) -> None:
    m = importlib.import_module(kibo.__name__ + ".models")
    ticket = m.CustomerAuthTicket.model_validate(
        {
            "accessToken": "acc-SECRET-1",
            "refreshToken": "ref-SECRET-2",
            "jwtAccessToken": "jwt-SECRET-3",
            "userId": "u-visible",
        }
    )
    login = m.CustomerUserAuthInfo(username="a@b.c", password="pw-SECRET-4")
    app = m.OAuthAuthenticationRequest(
        client_id="app", client_secret="cs-SECRET-5", grant_type="client_credentials"
    )
    token = m.OAuthAccessTokenResponse.model_validate(
        {"access_token": "oat-SECRET-6", "refresh_token": "ort-SECRET-7", "token_type": "Bearer"}
    )
    secrets = [f"SECRET-{i}" for i in range(1, 8)]
    for model in (ticket, login, app, token):
        assert_clean(repr(model), secrets)
        assert_clean(str(model), secrets)
        assert_clean(f"{model}", secrets)
        assert_clean(repr([model]), secrets)
    assert "u-visible" in repr(ticket) and "a@b.c" in repr(login)
    # The data is all there for the program.
    assert ticket.model_dump(by_alias=True)["refreshToken"] == "ref-SECRET-2"
    assert login.model_dump()["password"] == "pw-SECRET-4"
    assert app.client_secret == "cs-SECRET-5"
    assert token.model_dump(by_alias=True, mode="json")["access_token"] == "oat-SECRET-6"
    wrapped = m.CustomerAuthTicket.model_validate(
        {"customerAccount": {"id": 1}, "accessToken": "acc-SECRET-1"}
    )
    assert_clean(repr(wrapped), secrets)


# ---- logs and errors over real HTTP ------------------------------------------------------


def test_no_secret_in_logs_or_errors(
    kibo: ModuleType,
    server: KiboServer,
    client: Any,
    app_token: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger: ours, httpx, httpcore
    server.add_user("secret@example.com", PASSWORD)
    errors: list[BaseException] = []

    ticket = client.storefront_auth_ticket.create_user_auth_ticket(
        body={"username": "secret@example.com", "password": PASSWORD}
    )
    server.fail_next(1, status=503)  # a retry, logged
    refreshed = client.storefront_auth_ticket.refresh_user_auth_ticket(
        refresh_token=ticket.refresh_token
    )
    secrets = [
        app_token,
        PASSWORD,
        ticket.access_token,
        ticket.refresh_token,
        ticket.jwt_access_token,
        refreshed.access_token,
        refreshed.refresh_token,
        refreshed.jwt_access_token,
    ]
    assert all(secrets)

    # Failures whose messages are built from requests and responses full of secrets.
    with pytest.raises(kibo.AuthenticationError) as info:  # wrong password
        client.storefront_auth_ticket.create_user_auth_ticket(
            body={"username": "secret@example.com", "password": PASSWORD + "x"}
        )
    errors.append(info.value)
    with pytest.raises(kibo.AuthenticationError) as info:  # a used refresh token, in the URL
        client.storefront_auth_ticket.refresh_user_auth_ticket(refresh_token=ticket.refresh_token)
    errors.append(info.value)
    assert "refreshToken=***" in str(info.value)
    # A server that echoes the secrets it was sent, in the message and in fields.
    echo = {
        "message": f"cannot refresh {refreshed.refresh_token} for Bearer {app_token}",
        "refreshToken": refreshed.refresh_token,
        "items": [{"message": f"token={refreshed.refresh_token}"}],
    }
    server.fail_next(1, status=500, body=echo)  # the refresh spends its token: not retried
    with pytest.raises(kibo.InternalServerError) as info:
        client.storefront_auth_ticket.refresh_user_auth_ticket(
            refresh_token=refreshed.refresh_token
        )
    errors.append(info.value)
    server.fail_next(
        1,
        status=400,
        body=json.dumps(echo)[:60] + " <truncated",
        headers={"Content-Type": "text/plain"},
    )
    with pytest.raises(kibo.BadRequestError) as info:
        client.storefront_auth_ticket.refresh_user_auth_ticket(
            refresh_token=refreshed.refresh_token
        )
    errors.append(info.value)
    # A 2xx body that is broken and carries new secrets of its own.
    fresh = "fresh-SECRET-token-0123456789"
    server.respond_next(
        200, f'{{"accessToken": "{fresh}", "refreshToken": {fresh}}}', content_type="text/plain"
    )
    with pytest.raises(kibo.APIResponseValidationError) as info:
        client.storefront_auth_ticket.refresh_user_auth_ticket(
            refresh_token=refreshed.refresh_token
        )
    errors.append(info.value)
    server.respond_next(200, f"accessToken={fresh}&password={fresh}", content_type="text/plain")
    with pytest.raises(kibo.APIResponseValidationError) as info:
        client.storefront_auth_ticket.create_user_auth_ticket(
            body={"username": "secret@example.com", "password": PASSWORD}
        )
    errors.append(info.value)
    server.respond_next(200, json.dumps({"accessToken": fresh, "requires2FA": "maybe"}))
    with pytest.raises(kibo.APIResponseValidationError) as info:
        client.storefront_auth_ticket.create_anonymous_shopper_auth_ticket()
    errors.append(info.value)
    secrets.append(fresh)

    # Connection errors: nobody listens there, and the URL carries the refresh token.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with kibo.Client(base_url=f"http://127.0.0.1:{port}/api", access_token=app_token) as dead:
        dead._sleep = lambda seconds: None
        with pytest.raises(kibo.APIConnectionError) as info:
            dead.storefront_auth_ticket.refresh_user_auth_ticket(
                refresh_token=refreshed.refresh_token
            )
        errors.append(info.value)

    for exc in errors:
        assert_clean(str(exc), secrets)
        assert_clean(repr(exc), secrets)
        assert_clean(exc.message, secrets)
        assert_clean(" ".join(map(str, exc.args)), secrets)
    assert len(caplog.records) > 20
    for record in caplog.records:
        assert_clean(record.getMessage(), secrets)
    assert_clean(caplog.text, secrets)
    # The log still says what happened, with the secret query value masked.
    ours = [r.getMessage() for r in caplog.records if r.name == "kibo_authtickets"]
    assert f"HTTP request: PUT {server.url}{REFRESH}?refreshToken=*** (attempt 2 of 3)" in ours
    httpx_lines = [r.getMessage() for r in caplog.records if r.name == HTTP_LIBRARY]
    assert httpx_lines and any("refreshToken=***" in m for m in httpx_lines)


def test_secret_names_are_masked_in_free_text(kibo: ModuleType) -> None:
    base = importlib.import_module(kibo.__name__ + "._base_client")
    text = (
        'accessToken=abc123456&userId=u1 {"refreshToken": "r-98765", "password":"p w"} '
        "Authorization: Bearer eyJ0eXAi.x.y client_secret='s3cr3t' tokenType=Bearer"
    )
    redacted = base.redact_text(text)
    for secret in ("abc123456", "r-98765", '"p w"', "eyJ0eXAi", "s3cr3t"):
        assert secret not in redacted
    assert "userId=u1" in redacted and "tokenType=Bearer" in redacted
    assert (
        base.redact_url("http://me:pw-1234@h/api?refreshToken=r1&a=1&refresh_token=r2&x=%20")
        == "http://me:***@h/api?refreshToken=***&a=1&refresh_token=***&x=%20"
    )
