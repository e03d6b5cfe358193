"""Tests of the test server itself (`tests/kibo_server.py`), with plain httpx."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from tests import server_fixtures
from tests.kibo_server import UTC, FakeClock, KiboServer, load_contract

AUTH = "/commerce/customer/authtickets"
REFRESH = AUTH + "/refresh"
ANON = AUTH + "/anonymousshopper"
IMPERSONATE = AUTH + "/impersonatecart"
TWO_FA_REQUEST = AUTH + "/2fa/request"
TWO_FA_AUTH = AUTH + "/2fa/auth"
OTP_REQUEST = AUTH + "/otp/request"
OTP_AUTH = AUTH + "/otp/auth"
OAUTH = "/platform/applications/authtickets/oauth"
CURRENT = "/commerce/customer/accounts/current"

PASSWORD = "correct horse battery staple"
ERROR_KEYS = {
    "message",
    "errorCode",
    "applicationName",
    "correlationId",
    "items",
    "additionalErrorData",
    "exceptionDetail",
}


def parse_time(value: str) -> datetime:
    assert value.endswith("Z")
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def assert_kibo_error(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) >= ERROR_KEYS
    assert body["correlationId"] == response.headers["x-vol-correlation"]
    assert body["items"] == []
    assert all(set(item) == {"name", "value"} for item in body["additionalErrorData"])
    assert set(body["exceptionDetail"]) == {"type", "message"}
    return body  # type: ignore[no-any-return]


@pytest.fixture()
def app_token(kibo_server: KiboServer) -> str:
    return kibo_server.issue_app_token()


@pytest.fixture()
def client(kibo_server: KiboServer, app_token: str) -> Iterator[httpx.Client]:
    """An httpx client on the server's base URL that sends a valid app token."""
    headers = {"Authorization": f"Bearer {app_token}"}
    with httpx.Client(base_url=kibo_server.url, headers=headers, timeout=5) as c:
        yield c


def login(client: httpx.Client, username: str = "alice@example.com") -> dict[str, Any]:
    response = client.post(AUTH, json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


# -- basics --------------------------------------------------------------------------------


def test_url_points_at_api_on_loopback(kibo_server: KiboServer) -> None:
    assert kibo_server.url == f"http://127.0.0.1:{kibo_server.port}/api"
    assert kibo_server.origin + "/api" == kibo_server.url


def test_every_response_has_a_correlation_id(kibo_server: KiboServer, client: httpx.Client) -> None:
    kibo_server.expect_contract_violations = True  # the unknown path
    ok = client.get(ANON)
    missing = client.get("/no/such/thing")
    for response in (ok, missing):
        assert len(response.headers["x-vol-correlation"]) == 36
    assert ok.headers["x-vol-correlation"] != missing.headers["x-vol-correlation"]


def test_keep_alive_reuses_one_connection(kibo_server: KiboServer, client: httpx.Client) -> None:
    for _ in range(5):
        assert client.get(ANON).status_code == 200
    assert len({r.client_port for r in kibo_server.requests}) == 1


def test_unknown_path_is_404_and_a_contract_violation(
    kibo_server: KiboServer, client: httpx.Client
) -> None:
    kibo_server.expect_contract_violations = True
    assert_kibo_error(client.get("/commerce/nothing"), 404)
    assert kibo_server.contract_violations == [
        "request GET /commerce/nothing: no such operation in the spec"
    ]


def test_start_stop_is_cheap_and_idempotent() -> None:
    server = KiboServer()
    with server:
        port = server.port
        server.start()
        assert server.port == port
    server.stop()
    with pytest.raises(RuntimeError):
        _ = server.url


# -- application tokens ----------------------------------------------------------------------


def test_oauth_issues_a_usable_app_token(kibo_server: KiboServer) -> None:
    kibo_server.add_app("app-1", "s3cret", expires_in=600)
    with httpx.Client(base_url=kibo_server.url) as c:
        body = {"client_id": "app-1", "client_secret": "s3cret", "grant_type": "client_credentials"}
        response = c.post(OAUTH, json=body)
        assert response.status_code == 200
        token = response.json()
        assert token["token_type"] == "Bearer"
        assert token["expires_in"] == 600
        assert token["refresh_token"]
        anon = c.get(ANON, headers={"Authorization": f"Bearer {token['access_token']}"})
        assert anon.status_code == 200


def test_oauth_is_also_served_without_the_api_prefix(kibo_server: KiboServer) -> None:
    kibo_server.add_app("app-1", "s3cret")
    body = {"client_id": "app-1", "client_secret": "s3cret", "grant_type": "client_credentials"}
    response = httpx.post(kibo_server.origin + OAUTH, json=body)
    assert response.status_code == 200
    assert kibo_server.count("POST", OAUTH) == 1
    assert kibo_server.last("POST", OAUTH).full_path == OAUTH


@pytest.mark.parametrize(
    ("client_id", "secret"), [("app-1", "wrong-secret-value"), ("nobody", "s3cret")]
)
def test_oauth_bad_credentials_is_401(kibo_server: KiboServer, client_id: str, secret: str) -> None:
    kibo_server.add_app("app-1", "s3cret")
    body = {"client_id": client_id, "client_secret": secret, "grant_type": "client_credentials"}
    response = httpx.post(kibo_server.url + OAUTH, json=body)
    assert_kibo_error(response, 401)
    assert secret not in response.text


def test_oauth_wrong_grant_type_is_a_400_and_a_contract_violation(kibo_server: KiboServer) -> None:
    kibo_server.expect_contract_violations = True
    kibo_server.add_app("app-1", "s3cret")
    body = {"client_id": "app-1", "client_secret": "s3cret", "grant_type": "password"}
    assert_kibo_error(httpx.post(kibo_server.url + OAUTH, json=body), 400)
    assert any("grant_type" in v and "enum" in v for v in kibo_server.contract_violations)


def test_app_token_expires_with_the_clock() -> None:
    clock = FakeClock()
    with KiboServer(clock=clock) as server:
        server.add_app("app-1", "s3cret", expires_in=60)
        body = {"client_id": "app-1", "client_secret": "s3cret", "grant_type": "client_credentials"}
        token = httpx.post(server.url + OAUTH, json=body).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert httpx.get(server.url + ANON, headers=headers).status_code == 200
        clock.advance(61)
        response = httpx.get(server.url + ANON, headers=headers)
        assert_kibo_error(response, 401)
        assert token not in response.text
        assert not server.contract_violations


@pytest.mark.parametrize(
    "authorization", [None, "Bearer", "Bearer not-a-known-token", "Basic dXNlcjpwYXNz"]
)
def test_storefront_calls_need_an_app_token(
    kibo_server: KiboServer, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = httpx.get(kibo_server.url + ANON, headers=headers)
    body = assert_kibo_error(response, 401)
    assert body["errorCode"] == "UNAUTHORIZED"
    assert "not-a-known-token" not in response.text


def test_registered_app_tokens_and_switching_enforcement_off(kibo_server: KiboServer) -> None:
    kibo_server.app_tokens.add("my-own-token")
    ok = httpx.get(kibo_server.url + ANON, headers={"Authorization": "Bearer my-own-token"})
    assert ok.status_code == 200
    assert httpx.get(kibo_server.url + ANON).status_code == 401
    kibo_server.require_app_token = False
    assert httpx.get(kibo_server.url + ANON).status_code == 200


# -- user auth tickets -----------------------------------------------------------------------


def test_user_ticket_has_the_kibo_shape() -> None:
    clock = FakeClock(datetime(2024, 5, 1, 8, 30, 15, 250000, tzinfo=UTC))
    with KiboServer(clock=clock, access_ttl=600, refresh_ttl=3600) as server:
        user = server.add_user("alice@example.com", PASSWORD, account_id=4242)
        headers = {"Authorization": f"Bearer {server.issue_app_token()}"}
        response = httpx.post(
            server.url + AUTH,
            json={"username": "alice@example.com", "password": PASSWORD},
            headers=headers,
        )
        assert not server.contract_violations
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    ticket = response.json()
    assert ticket["requires2FA"] is False
    assert ticket["userId"] == user.user_id
    assert ticket["accessTokenExpiration"] == "2024-05-01T08:40:15.250Z"
    assert ticket["refreshTokenExpiration"] == "2024-05-01T09:30:15.250Z"
    assert ticket["accessToken"] != ticket["refreshToken"]
    assert ticket["jwtAccessToken"].count(".") == 2
    account = ticket["customerAccount"]
    assert account["id"] == 4242
    assert account["userId"] == user.user_id
    assert account["emailAddress"] == "alice@example.com"
    assert account["userName"] == "alice@example.com"
    assert (account["isAnonymous"], account["isActive"], account["isLocked"]) == (
        False,
        True,
        False,
    )
    assert account["last2FaDate"] is None
    assert len(account["contacts"]) == 2
    for contact in account["contacts"]:
        assert {"address", "phoneNumbers", "types"} <= set(contact)
    assert len(account["attributes"]) == 3
    assert account["notes"] and account["segments"]
    assert set(account["commerceSummary"]["totalOrderAmount"]) == {"amount", "currencyCode"}
    assert "orderCount" in account["commerceSummary"]
    assert set(account["auditInfo"]) == {"createBy", "createDate", "updateBy", "updateDate"}
    parse_time(account["customerSinceDate"])


def test_login_by_email_when_username_differs(
    kibo_server: KiboServer, client: httpx.Client
) -> None:
    kibo_server.add_user("bob", PASSWORD, email="bob@example.com")
    assert login(client, "bob")["customerAccount"]["userName"] == "bob"
    assert login(client, "bob@example.com")["customerAccount"]["userName"] == "bob"


@pytest.mark.parametrize(
    ("username", "password"),
    [("alice@example.com", "Wrong-Password-123"), ("nobody@example.com", PASSWORD)],
)
def test_bad_credentials_are_401_without_echoing_secrets(
    kibo_server: KiboServer, client: httpx.Client, username: str, password: str
) -> None:
    kibo_server.add_user("alice@example.com", PASSWORD)
    response = client.post(AUTH, json={"username": username, "password": password})
    body = assert_kibo_error(response, 401)
    assert body["errorCode"] == "INVALID_CREDENTIALS"
    assert password not in response.text
    assert username not in response.text


def test_missing_credentials_is_400(kibo_server: KiboServer, client: httpx.Client) -> None:
    assert_kibo_error(client.post(AUTH, json={"username": "alice@example.com"}), 400)


def test_response_fields_limits_the_top_level_fields(
    kibo_server: KiboServer, client: httpx.Client
) -> None:
    kibo_server.add_user("alice@example.com", PASSWORD)
    response = client.post(
        AUTH,
        params={"responseFields": "accessToken,customerAccount(id,userName),userId"},
        json={"username": "alice@example.com", "password": PASSWORD},
    )
    assert set(response.json()) == {"accessToken", "customerAccount", "userId"}


# -- refresh ---------------------------------------------------------------------------------


def test_refresh_issues_a_new_ticket_and_rotates_the_refresh_token(
    kibo_server: KiboServer, client: httpx.Client
) -> None:
    user = kibo_server.add_user("alice@example.com", PASSWORD, account_id=77)
    first = login(client)
    params = {"refreshToken": first["refreshToken"], "accountId": 77}
    second = client.put(REFRESH, params=params)
    assert second.status_code == 200
    ticket = second.json()
    assert ticket["userId"] == user.user_id
    assert ticket["accessToken"] != first["accessToken"]
    assert ticket["refreshToken"] != first["refreshToken"]
    assert kibo_server.last("PUT", REFRESH).query == {
        "refreshToken": first["refreshToken"],
        "accountId": "77",
    }
    again = client.put(REFRESH, params=params)
    assert_kibo_error(again, 401)
    assert str(first["refreshToken"]) not in again.text
    kibo_server.rotate_refresh_tokens = False
    third = client.put(REFRESH, params={"refreshToken": ticket["refreshToken"]}).json()
    assert client.put(REFRESH, params={"refreshToken": third["refreshToken"]}).status_code == 200
    assert client.put(REFRESH, params={"refreshToken": third["refreshToken"]}).status_code == 200


def test_refresh_with_an_unknown_token_is_401(client: httpx.Client) -> None:
    response = client.put(REFRESH, params={"refreshToken": "made-up-refresh-token"})
    assert_kibo_error(response, 401)
    assert "made-up-refresh-token" not in response.text


def test_refresh_token_expires_with_the_clock(
    kibo_server: KiboServer, client: httpx.Client
) -> None:
    kibo_server.add_user("alice@example.com", PASSWORD)
    kibo_server.refresh_ttl = 100
    ticket = login(client)
    kibo_server.advance(101)
    assert_kibo_error(client.put(REFRESH, params={"refreshToken": ticket["refreshToken"]}), 401)


def test_revoked_refresh_token_is_rejected(kibo_server: KiboServer, client: httpx.Client) -> None:
    kibo_server.add_user("alice@example.com", PASSWORD)
    ticket = login(client)
    kibo_server.revoke(str(ticket["refreshToken"]))
    assert client.put(REFRESH, params={"refreshToken": ticket["refreshToken"]}).status_code == 401


def test_refresh_with_a_non_integer_account_id_is_a_contract_violation(
    kibo_server: KiboServer, client: httpx.Client
) -> None:
    kibo_server.expect_contract_violations = True
    kibo_server.add_user("alice@example.com", PASSWORD)
    ticket = login(client)
    client.put(REFRESH, params={"refreshToken": ticket["refreshToken"], "accountId": "abc"})
    assert kibo_server.contract_violations == [
        (
            "request PUT /commerce/customer/authtickets/refresh: "
            "query parameter 'accountId' is not a integer"
        )
    ]


# -- anonymous shopper and cart impersonation ------------------------------------------------


def test_anonymous_shopper_ticket(kibo_server: KiboServer, client: httpx.Client) -> None:
    response = client.get(ANON)
    assert response.status_code == 200
    ticket = response.json()
    assert "customerAccount" not in ticket
    assert ticket["requires2FA"] is False
    refreshed = client.put(REFRESH, params={"refreshToken": ticket["refreshToken"]}).json()
    assert refreshed["userId"] == ticket["userId"]
    current = client.get(CURRENT, headers={"x-vol-user-claims": refreshed["accessToken"]})
    assert current.json() == {"id": None, "userId": ticket["userId"], "isAnonymous": True}


def test_impersonate_cart(kibo_server: KiboServer, client: httpx.Client) -> None:
    user = kibo_server.add_user("alice@example.com", PASSWORD, account_id=501)
    response = client.post(IMPERSONATE, json={"cartId": "cart-1", "accountId": 501})
    assert response.status_code == 200
    assert response.json()["customerAccount"]["id"] == 501
    by_user = client.post(
        IMPERSONATE, json={"cartId": "cart-1", "accountId": 0, "userId": user.user_id}
    )
    assert by_user.json()["userId"] == user.user_id
    assert_kibo_error(client.post(IMPERSONATE, json={"cartId": "cart-1", "accountId": 999}), 404)
    assert_kibo_error(client.post(IMPERSONATE, json={"accountId": 501}), 400)


# -- the protected endpoint and access-token expiry ------------------------------------------


def test_current_account_needs_a_live_shopper_token() -> None:
    clock = FakeClock()
    with KiboServer(clock=clock, access_ttl=300) as server:
        server.add_user("alice@example.com", PASSWORD, account_id=9)
        headers = {"Authorization": f"Bearer {server.issue_app_token()}"}
        with httpx.Client(base_url=server.url, headers=headers) as c:
            ticket = login(c)
            claims = {"x-vol-user-claims": str(ticket["accessToken"])}
            ok = c.get(CURRENT, headers=claims)
            assert ok.status_code == 200
            assert ok.json()["id"] == 9
            assert ok.json()["userId"] == ticket["userId"]
            assert_kibo_error(c.get(CURRENT), 401)
            assert_kibo_error(c.get(CURRENT, headers={"x-vol-user-claims": "bogus"}), 401)
            clock.advance(299)
            assert c.get(CURRENT, headers=claims).status_code == 200
            assert server.is_valid_access_token(claims["x-vol-user-claims"])
            clock.advance(2)
            expired = c.get(CURRENT, headers=claims)
            assert_kibo_error(expired, 401)
            assert claims["x-vol-user-claims"] not in expired.text
            assert not server.is_valid_access_token(claims["x-vol-user-claims"])
        assert not server.contract_violations


# -- two-factor authentication and one-time passwords ----------------------------------------


def test_two_factor_login(kibo_server: KiboServer, client: httpx.Client) -> None:
    user = kibo_server.add_user("carol@example.com", PASSWORD, requires_2fa=True)
    pending = login(client, "carol@example.com")
    assert pending["requires2FA"] is True
    assert "refreshToken" not in pending
    claims = {"x-vol-user-claims": str(pending["accessToken"])}
    assert client.get(CURRENT, headers=claims).status_code == 401  # not a full login yet
    assert_kibo_error(client.post(TWO_FA_REQUEST), 401)  # no user claims
    sent = client.post(TWO_FA_REQUEST, headers=claims)
    assert sent.status_code == 200
    assert sent.content == b""
    assert "content-type" not in sent.headers
    code = kibo_server.sent_codes[user.user_id]
    assert len(code) == 6 and code.isdigit()
    wrong = "000000" if code != "000000" else "111111"
    assert_kibo_error(
        client.post(TWO_FA_AUTH, json={"userId": user.user_id, "otpCode": wrong}), 401
    )
    full = client.post(TWO_FA_AUTH, json={"userId": user.user_id, "otpCode": code})
    assert full.status_code == 200
    ticket = full.json()
    assert ticket["requires2FA"] is False
    assert ticket["refreshToken"]
    assert ticket["customerAccount"]["last2FaDate"] is not None
    assert (
        client.get(CURRENT, headers={"x-vol-user-claims": ticket["accessToken"]}).status_code == 200
    )
    reused = client.post(TWO_FA_AUTH, json={"userId": user.user_id, "otpCode": code})
    assert_kibo_error(reused, 401)


def test_two_factor_code_dies_after_three_wrong_attempts_or_three_minutes(
    kibo_server: KiboServer, client: httpx.Client
) -> None:
    user = kibo_server.add_user("carol@example.com", PASSWORD, requires_2fa=True)
    claims = {"x-vol-user-claims": str(login(client, "carol@example.com")["accessToken"])}
    client.post(TWO_FA_REQUEST, headers=claims)
    code = kibo_server.sent_codes[user.user_id]
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(3):
        client.post(TWO_FA_AUTH, json={"userId": user.user_id, "otpCode": wrong})
    assert (
        client.post(TWO_FA_AUTH, json={"userId": user.user_id, "otpCode": code}).status_code == 401
    )
    client.post(TWO_FA_REQUEST, headers=claims)
    kibo_server.advance(181)
    code = kibo_server.sent_codes[user.user_id]
    assert (
        client.post(TWO_FA_AUTH, json={"userId": user.user_id, "otpCode": code}).status_code == 401
    )


def test_two_factor_auth_without_otp_code_is_a_contract_violation(
    kibo_server: KiboServer, client: httpx.Client
) -> None:
    kibo_server.expect_contract_violations = True
    assert client.post(TWO_FA_AUTH, json={"userId": "u1"}).status_code == 401
    assert kibo_server.contract_violations == [
        (
            "request POST /commerce/customer/authtickets/2fa/auth: "
            "body $: 'otpCode' is a required property"
        )
    ]


def test_one_time_password_login(kibo_server: KiboServer, client: httpx.Client) -> None:
    user = kibo_server.add_user("dave", PASSWORD, email="dave@example.com")
    sent = client.post(OTP_REQUEST, json={"email": "dave@example.com"})
    assert (sent.status_code, sent.content) == (200, b"")
    code = kibo_server.sent_codes["dave@example.com"]
    body = {"email": "dave@example.com", "otpCode": code, "region": "us", "fingerprint": "fp-1"}
    wrong = {**body, "otpCode": "000000" if code != "000000" else "111111"}
    assert_kibo_error(client.post(OTP_AUTH, json=wrong), 401)
    response = client.post(OTP_AUTH, json=body)
    assert response.status_code == 200
    assert response.json()["userId"] == user.user_id
    assert_kibo_error(client.post(OTP_AUTH, json=body), 401)  # single use


def test_one_time_password_for_an_unknown_email_sends_nothing(
    kibo_server: KiboServer, client: httpx.Client
) -> None:
    sent = client.post(OTP_REQUEST, json={"email": "ghost@example.com"})
    assert sent.status_code == 200
    assert kibo_server.sent_codes == {}
    body = {"email": "ghost@example.com", "otpCode": "123456"}
    assert_kibo_error(client.post(OTP_AUTH, json=body), 401)


# -- recording -------------------------------------------------------------------------------


def test_requests_are_recorded(kibo_server: KiboServer, client: httpx.Client) -> None:
    kibo_server.add_user("alice@example.com", PASSWORD)
    login(client)
    client.get(ANON, params={"responseFields": "accessToken"}, headers={"X-Custom": "yes"})
    assert kibo_server.count("POST", AUTH) == 1
    assert kibo_server.count("POST", "/api" + AUTH) == 1
    assert kibo_server.count("GET", ANON) == 1
    assert kibo_server.count() == 2
    first, second = kibo_server.requests
    assert (first.method, first.path, first.full_path) == ("POST", AUTH, "/api" + AUTH)
    assert first.json == {"username": "alice@example.com", "password": PASSWORD}
    assert first.body.startswith(b"{")
    assert first.status == 200
    assert second.query == {"responseFields": "accessToken"}
    assert second.json is None and second.body == b""
    assert second.headers["x-custom"] == "yes"
    assert second.headers["X-CUSTOM"] == "yes"
    assert "X-Custom" in second.headers
    assert second.headers.get("Authorization", "").startswith("Bearer ")
    with pytest.raises(LookupError):
        kibo_server.last("DELETE")


def test_reset_forgets_everything(kibo_server: KiboServer, client: httpx.Client) -> None:
    kibo_server.add_user("alice@example.com", PASSWORD)
    kibo_server.fail_next(5)
    kibo_server.require_app_token = False
    kibo_server.response_content_type = "text/plain"
    kibo_server.advance(1000)
    client.get(ANON)
    kibo_server.reset()
    assert kibo_server.requests == [] and kibo_server.users == {}
    assert kibo_server.require_app_token is True
    assert kibo_server.response_content_type == "application/json"
    assert kibo_server.app_tokens == set()
    assert abs(kibo_server.now() - datetime.now(UTC)) < timedelta(seconds=5)
    token = kibo_server.issue_app_token()
    response = httpx.get(kibo_server.url + ANON, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200  # the queued faults are gone


# -- faults ----------------------------------------------------------------------------------


def test_fail_next_with_retry_after(kibo_server: KiboServer, client: httpx.Client) -> None:
    kibo_server.fail_next(2, status=503, headers={"Retry-After": "3"})
    for _ in range(2):
        response = client.get(ANON)
        assert response.headers["retry-after"] == "3"
        body = assert_kibo_error(response, 503)
        assert body["errorCode"] == "SERVICE_UNAVAILABLE"
    assert client.get(ANON).status_code == 200
    assert [r.status for r in kibo_server.requests] == [503, 503, 200]


def test_fail_next_only_hits_its_path(kibo_server: KiboServer, client: httpx.Client) -> None:
    kibo_server.add_user("alice@example.com", PASSWORD)
    kibo_server.fail_next(1, status=429, body={"message": "slow down"}, path=AUTH)
    assert client.get(ANON).status_code == 200
    limited = client.post(AUTH, json={"username": "alice@example.com", "password": PASSWORD})
    assert (limited.status_code, limited.json()) == (429, {"message": "slow down"})
    assert client.post(
        AUTH, json={"username": "alice@example.com", "password": PASSWORD}
    ).is_success


def test_fail_next_applies_before_auth_checks(kibo_server: KiboServer) -> None:
    kibo_server.fail_next(
        1, status=500, body=b"<html>oops</html>", headers={"Content-Type": "text/html"}
    )
    response = httpx.get(kibo_server.url + ANON)
    assert response.status_code == 500
    assert response.headers["content-type"] == "text/html"
    assert response.text == "<html>oops</html>"


def test_respond_next_sends_raw_bytes(kibo_server: KiboServer, client: httpx.Client) -> None:
    kibo_server.respond_next(200, b"not json at all", "application/json")
    kibo_server.respond_next(200, b'{"accessToken": 1}', None, path=ANON)
    odd = client.get(ANON)
    assert (odd.status_code, odd.content) == (200, b"not json at all")
    bare = client.get(ANON)
    assert bare.content == b'{"accessToken": 1}'
    assert "content-type" not in bare.headers
    assert client.get(ANON).json()["accessToken"]
    assert kibo_server.contract_violations == []  # the server's own faults are not checked


def test_delay_next_triggers_client_timeouts(kibo_server: KiboServer, client: httpx.Client) -> None:
    kibo_server.delay_next(1, 1.0, path=ANON)
    with pytest.raises(httpx.ReadTimeout):
        client.get(ANON, timeout=0.1)
    assert client.get(ANON, timeout=2).status_code == 200


def test_delay_does_not_block_stopping() -> None:
    server = KiboServer().start()
    server.delay_next(1, 30)
    token = server.issue_app_token()
    done = threading.Event()

    def call() -> None:
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(server.url + ANON, headers={"Authorization": f"Bearer {token}"}, timeout=10)
        done.set()

    threading.Thread(target=call, daemon=True).start()
    while server.count() == 0:
        threading.Event().wait(0.01)
    server.stop()
    assert done.wait(5)


@pytest.mark.parametrize("content_type", ["text/plain", "text/json", None])
def test_response_content_type_modes(
    kibo_server: KiboServer, client: httpx.Client, content_type: str | None
) -> None:
    kibo_server.response_content_type = content_type
    response = client.get(ANON)
    assert response.status_code == 200
    assert response.headers.get("content-type") == content_type
    assert response.json()["accessToken"]
    error = client.get(ANON, headers={"Authorization": "Bearer nope"})
    assert error.headers.get("content-type") == content_type
    assert error.json()["errorCode"] == "UNAUTHORIZED"


# -- contract checking -----------------------------------------------------------------------


def test_wrong_type_in_request_body_is_recorded_without_the_value(
    kibo_server: KiboServer, client: httpx.Client
) -> None:
    kibo_server.expect_contract_violations = True
    response = client.post(AUTH, json={"username": "alice@example.com", "password": 123456789})
    assert response.status_code == 400
    assert kibo_server.contract_violations == [
        "request POST /commerce/customer/authtickets: body $.password: fails type='string'"
    ]
    assert "123456789" not in kibo_server.contract_violations[0]


def test_wrong_content_type_and_bad_json_are_recorded(
    kibo_server: KiboServer, client: httpx.Client
) -> None:
    kibo_server.expect_contract_violations = True
    client.post(AUTH, content=b"username=a&password=b", headers={"Content-Type": "text/plain"})
    client.post(AUTH, content=b"{not json", headers={"Content-Type": "application/json"})
    client.post(AUTH)
    client.post(TWO_FA_REQUEST, json={"unexpected": True})
    client.delete(AUTH)
    assert kibo_server.contract_violations == [
        (
            "request POST /commerce/customer/authtickets: content-type 'text/plain' not in "
            "['application/json']"
        ),
        "request POST /commerce/customer/authtickets: body is not valid JSON",
        "request POST /commerce/customer/authtickets: missing required request body",
        (
            "request POST /commerce/customer/authtickets/2fa/request: has a body but the operation "
            "takes none"
        ),
        "request DELETE /commerce/customer/authtickets: method not allowed by the spec",
    ]


def test_the_protected_endpoint_is_not_contract_checked(
    kibo_server: KiboServer, client: httpx.Client
) -> None:
    client.get(CURRENT)
    assert kibo_server.contract_violations == []


def test_response_checks_catch_bad_payloads() -> None:
    contract = load_contract()
    ok = contract.check_response("GET", ANON, 200, "application/json", {"accessToken": "x"})
    assert ok == []
    assert contract.check_response(
        "GET", ANON, 200, "application/json", {"accessToken": 5, "accessTokenExpiration": "soon"}
    ) == [
        (
            "response 200 to GET /commerce/customer/authtickets/anonymousshopper: body "
            "$.accessToken: fails type='string'"
        ),
        (
            "response 200 to GET /commerce/customer/authtickets/anonymousshopper: body "
            "$.accessTokenExpiration: fails format='date-time'"
        ),
    ]
    assert contract.check_response("GET", ANON, 200, "text/html", {}) == [
        (
            "response 200 to GET /commerce/customer/authtickets/anonymousshopper: content-type "
            "'text/html' not in ['application/json', 'text/json', 'text/plain']"
        )
    ]
    assert contract.check_response("GET", ANON, 418, "application/json", {}) == [
        "response 418 to GET /commerce/customer/authtickets/anonymousshopper: status not documented"
    ]
    assert contract.check_response("POST", OTP_REQUEST, 200, "application/json", {"a": 1}) == [
        (
            "response 200 to POST /commerce/customer/authtickets/otp/request: has a body but the "
            "spec documents none"
        )
    ]


def test_contract_is_built_once_per_process(kibo_server: KiboServer) -> None:
    assert load_contract() is load_contract()
    assert KiboServer().contract is kibo_server.contract


def test_fixture_check_fails_on_unexpected_violations(kibo_server: KiboServer) -> None:
    kibo_server.contract_violations.append("request X: something")
    with pytest.raises(pytest.fail.Exception, match="something"):
        server_fixtures._check(kibo_server)
    kibo_server.expect_contract_violations = True
    server_fixtures._check(kibo_server)


def test_server_without_contract_checks() -> None:
    with KiboServer(spec=None) as server:
        server.require_app_token = False
        assert httpx.post(server.url + AUTH, json={"password": 1}).status_code == 400
        assert server.contract_violations == []


# -- the shared server -----------------------------------------------------------------------


def test_session_server_first_use(kibo_server_session: KiboServer) -> None:
    kibo_server_session.add_user("alice@example.com", PASSWORD)
    kibo_server_session.fail_next(3)
    assert kibo_server_session.users


def test_session_server_is_reset_between_uses(kibo_server_session: KiboServer) -> None:
    assert kibo_server_session.users == {}
    assert kibo_server_session.requests == []
    token = kibo_server_session.issue_app_token()
    response = httpx.get(
        kibo_server_session.url + ANON, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200


# -- load ------------------------------------------------------------------------------------


def test_concurrent_clients(kibo_server: KiboServer, app_token: str) -> None:
    kibo_server.add_user("alice@example.com", PASSWORD)

    def worker(_: int) -> int:
        headers = {"Authorization": f"Bearer {app_token}"}
        with httpx.Client(base_url=kibo_server.url, headers=headers, timeout=10) as c:
            return sum(1 for _ in range(20) if login(c)["accessToken"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert sum(pool.map(worker, range(8))) == 160
    assert kibo_server.count("POST", AUTH) == 160


def test_raw_http11_keep_alive(kibo_server: KiboServer, app_token: str) -> None:
    request = (
        f"GET /api{ANON} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {app_token}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", kibo_server.port), timeout=5) as sock:
        stream = sock.makefile("rb")
        for _ in range(2):
            sock.sendall(request)
            status = stream.readline()
            assert status.startswith(b"HTTP/1.1 200")
            length = 0
            while (line := stream.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            assert length > 0
            assert stream.read(length).startswith(b"{")
