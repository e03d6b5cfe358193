"""The authentication runtime tested where it lives (`generator/runtime/oauth.py`, `_setup.py`,
`kibo/`), with the stand-in `_config.py`: bound here to a small ticket model and refresh call, as a
package's rendered `auth.py` binds it to its own. Faults are injected with httpx.MockTransport; the
generated package is tested over real HTTP in tests/test_auth_*.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pydantic
import pytest

from generator.runtime import _config, errors
from generator.runtime._base_client import SyncAPIClient
from generator.runtime._model_base import Model
from generator.runtime._setup import ClientSetup, clean_secret
from generator.runtime.kibo import login as login_flow
from generator.runtime.kibo import tickets
from generator.runtime.oauth import TOKEN_PATH, AppTokenAuth

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


class Ticket(Model):
    access_token: str | None = pydantic.Field(None, alias="accessToken")
    access_token_expiration: datetime | None = pydantic.Field(None, alias="accessTokenExpiration")
    refresh_token: str | None = pydantic.Field(None, alias="refreshToken")
    refresh_token_expiration: datetime | None = pydantic.Field(None, alias="refreshTokenExpiration")
    requires_2fa: bool | None = pydantic.Field(None, alias="requires2FA")
    user_id: str | None = pydantic.Field(None, alias="userId")


def _ticket(token: str, expires_in: float, refresh: str = "r1") -> Ticket:
    return Ticket.model_validate({
        "accessToken": token,
        "accessTokenExpiration": (NOW + timedelta(seconds=expires_in)).isoformat(),
        "refreshToken": refresh,
        "refreshTokenExpiration": (NOW + timedelta(days=1)).isoformat(),
    })  # fmt: skip


class TicketAuth(tickets.CustomerTicketAuth[SyncAPIClient, Ticket]):
    """What a package's auth.py renders: the ticket model and the refresh operation."""

    refreshes: list[str]

    @classmethod
    def ticket_type(cls) -> type[Ticket]:
        return Ticket

    def call_refresh(self, client: SyncAPIClient, refresh_token: str) -> Ticket:
        self.refreshes = [*getattr(self, "refreshes", []), refresh_token]
        if refresh_token == "spent":
            request = httpx.Request("PUT", "https://api.test/refresh")
            raise errors.AuthenticationError("rejected", response=httpx.Response(401, request=request), body=None)
        return _ticket("new-access", 3600, refresh="r2")


def _client(handler: Any, *, auth: httpx.Auth | None = None) -> SyncAPIClient:
    http = httpx.Client(transport=httpx.MockTransport(handler))
    return SyncAPIClient(
        base_url="https://api.test", auth=auth, timeout=5.0, max_retries=0,
        default_headers={"Authorization": "Bearer app"}, http_client=http,
    )  # fmt: skip


def test_app_token_auth_fetches_caches_and_renews_once_after_a_401() -> None:
    seen: list[tuple[str, dict[str, Any] | str | None]] = []
    tokens: Iterator[str] = iter(["t1", "t2"])

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(TOKEN_PATH):
            seen.append(("token", json.loads(request.content)))
            return httpx.Response(200, json={"access_token": next(tokens), "expires_in": 3600})
        seen.append(("call", request.headers.get("Authorization")))
        return httpx.Response(401 if request.headers["Authorization"] == "Bearer t1" and len(seen) == 2 else 200)

    auth = AppTokenAuth("id", "very-secret", clock=lambda: NOW)
    assert auth.token_url == "https://auth.example.test/api" + TOKEN_PATH  # the stand-in's server
    with httpx.Client(transport=httpx.MockTransport(handler), auth=auth) as http:
        assert http.get("https://api.test/a").status_code == 200
        assert http.get("https://api.test/b").status_code == 200
    body = {"client_id": "id", "client_secret": "very-secret", "grant_type": "client_credentials"}
    first, second = ("call", "Bearer t1"), ("call", "Bearer t2")
    assert seen == [("token", body), first, ("token", body), second, second]
    assert auth.fetch_count == 2 and "very-secret" not in repr(auth)


def test_app_token_errors_never_show_the_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, json={"message": "bad secret very-secret"})

    auth = AppTokenAuth("id", "very-secret", token_url="https://auth.test/token")
    with httpx.Client(transport=httpx.MockTransport(handler), auth=auth) as http, pytest.raises(
        errors.PermissionDeniedError
    ) as caught:
        http.get("https://api.test/a")
    assert "very-secret" not in str(caught.value) and "403" in str(caught.value)
    monkeypatch.setenv("RUNTIME_CLIENT_ID", "from-env")  # the stand-in ENVIRONMENT's names
    monkeypatch.setenv("RUNTIME_CLIENT_SECRET", "s")
    assert AppTokenAuth().client_id == "from-env"


def test_client_setup_reads_config_arguments_then_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    def setup(**overrides: Any) -> ClientSetup:
        arguments: dict[str, Any] = dict(
            base_url="https://proxy.test/api", server=None, variables={}, api_host=None, auth_host=None,
            context={}, access_token=None, auth=None, client_id=None, client_secret=None, default_headers=None,
            app_token_auth=AppTokenAuth,
        )  # fmt: skip
        return ClientSetup(**{**arguments, **overrides})

    monkeypatch.setenv("RUNTIME_TENANT", "42")
    plain = setup(access_token=" tok\n")
    assert plain.headers == {"x-tenant": "42", "Authorization": "Bearer tok"}  # a context header, a clean token
    assert setup(context={"tenant_id": "7"}).headers["x-tenant"] == "7"  # an argument wins
    made = setup(client_id="id", client_secret="s")
    assert isinstance(made.auth, AppTokenAuth)
    # A base_url that is none of the spec's servers: the token comes from that same origin.
    assert made.auth.token_url == "https://proxy.test/api" + _config.APP_TOKEN.path  # type: ignore[union-attr]
    with pytest.raises(errors.ConfigurationError, match="RUNTIME_CLIENT_ID and RUNTIME_CLIENT_SECRET"):
        setup(client_id="id")
    with pytest.raises(errors.ConfigurationError, match="not both"):
        setup(client_id="id", client_secret="s", access_token="t")
    with pytest.raises(errors.ConfigurationError, match="control characters"):
        clean_secret("access_token", "a\x00b")
    assert setup(client_id="id", client_secret="s", app_token_auth=None).auth is None  # no token operation


def test_ticket_auth_sends_claims_and_refreshes_once_when_due_or_rejected() -> None:
    sent: list[tuple[str | None, str | None]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append((request.headers.get(_config.TICKET.claims_header), request.headers.get("Authorization")))
        return httpx.Response(401 if request.headers.get(_config.TICKET.claims_header) == "old" else 200)

    client = _client(handler)
    auth = TicketAuth(client, _ticket("old", 3600), clock=lambda: NOW)
    with httpx.Client(transport=httpx.MockTransport(handler), auth=auth) as http:
        assert http.get("https://api.test/x").status_code == 200  # 401, one refresh, sent again
        assert http.get("https://api.test/y").status_code == 200
    assert sent == [("old", "Bearer app"), ("new-access", "Bearer app"), ("new-access", "Bearer app")]
    assert auth.refreshes == ["r1"] and auth.refresh_count == 1 and auth.ticket.access_token == "new-access"
    due = TicketAuth(client, _ticket("soon", 60).model_dump(by_alias=True), clock=lambda: NOW)  # a mapping
    assert due.current_ticket().access_token == "new-access"  # within refresh_margin (180 s)
    assert "new-access" not in repr(due) and "r2" not in repr(due)


def test_ticket_auth_raises_ticket_expired_for_a_spent_or_missing_refresh_token() -> None:
    client = _client(lambda request: httpx.Response(200))
    spent = TicketAuth(client, _ticket("t", 0, refresh="spent"), clock=lambda: NOW)
    with pytest.raises(tickets.TicketExpiredError, match="rejected \\(401\\)"):
        spent.current_ticket()
    bare = TicketAuth(client, {"accessToken": "t"}, clock=lambda: NOW)
    bare._margin = 0.0
    assert bare.current_ticket().access_token == "t"  # no expiry known: used until the server says 401
    with pytest.raises(tickets.TicketExpiredError, match="no refresh token"):
        bare._refresh_token(bare.ticket)
    assert issubclass(tickets.TicketExpiredError, errors.APIError)
    with pytest.raises(TypeError, match="expected a Ticket"):
        TicketAuth(client, "not a ticket")  # type: ignore[arg-type]


def test_login_flow_with_and_without_the_two_factor_step() -> None:
    class Pending(login_flow.TwoFactorRequired[Ticket]):
        pass

    calls_made: list[tuple[str, Any]] = []

    def create(body: dict[str, Any]) -> Ticket:
        calls_made.append(("create", body))
        return Ticket.model_validate({"accessToken": "pending", "requires2FA": True, "userId": "u1"})

    def complete(body: dict[str, Any]) -> Ticket:
        calls_made.append(("complete", body))
        return _ticket("full", 3600)

    calls = login_flow.LoginCalls(
        create=create,
        request_code=lambda headers: calls_made.append(("request_code", headers)),
        complete=complete,
        two_factor_required=Pending,
    )
    ticket = login_flow.login(calls, "me", "pw", lambda pending: "012345", {"fingerprint": "f"})
    assert ticket.access_token == "full"
    assert calls_made == [
        ("create", {"username": "me", "password": "pw", "fingerprint": "f"}),
        ("request_code", {_config.TICKET.claims_header: "pending"}),
        ("complete", {"userId": "u1", "otpCode": "012345"}),
    ]
    with pytest.raises(Pending) as caught:
        login_flow.login(calls, "me", "pw", None, {})
    assert caught.value.ticket.user_id == "u1" and "pending" not in repr(caught.value)
    with pytest.raises(errors.InvalidRequestError, match="code must be a str, not int") as refused:
        login_flow.complete_two_factor_login(calls, caught.value.ticket, 12345)  # type: ignore[arg-type]
    assert "12345" not in str(refused.value)
