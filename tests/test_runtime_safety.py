"""Issue 12: no duplicated side effects, no token leaks on redirects, the app secret only where the
user said; over real HTTP against the loopback server (and a second server on another origin)."""

from __future__ import annotations

import asyncio
from types import ModuleType
from typing import Any

import pytest

from generator.build import build_api
from generator.load import load_spec
from tests.conftest import SPEC, httpx  # httpx or httpx2 (KIBO_HTTP_LIBRARY)
from tests.kibo_server import KiboServer

ANONYMOUS = "/commerce/customer/authtickets/anonymousshopper"
TWO_FA_REQUEST = "/commerce/customer/authtickets/2fa/request"
OTP_REQUEST = "/commerce/customer/authtickets/otp/request"
OAUTH = "/platform/applications/authtickets/oauth"

pytestmark = pytest.mark.usefixtures("no_kibo_env")


def make_client(kibo: ModuleType, server: KiboServer, **kwargs: Any) -> Any:
    client = kibo.Client(base_url=server.url, access_token=server.issue_app_token(), **kwargs)
    client._sleep = lambda seconds: None
    return client


# ---- 1. writes are not retried where a retry could repeat them ------------------------------------


def test_a_post_that_timed_out_is_sent_once(kibo: ModuleType, server: KiboServer) -> None:
    """The server got the request (and mailed a code) but answered late: a retry would mail a second
    code and void the first."""
    server.delay_next(1, 0.6, path=TWO_FA_REQUEST)
    with make_client(kibo, server, timeout=0.2) as client, pytest.raises(kibo.APITimeoutError):
        client.storefront_auth_ticket.request_two_factor_code(extra_headers={"x-vol-user-claims": "pending"})
    assert server.count("POST", TWO_FA_REQUEST) == 1


def test_a_get_that_timed_out_is_retried(kibo: ModuleType, server: KiboServer) -> None:
    server.delay_next(1, 0.6, path=ANONYMOUS)
    with make_client(kibo, server, timeout=0.2) as client:
        assert client.storefront_auth_ticket.create_anonymous_shopper_auth_ticket().access_token
    assert server.count("GET", ANONYMOUS) == 2


@pytest.mark.parametrize(("status", "attempts"), [(500, 1), (502, 1), (408, 1), (503, 3), (429, 3)])
def test_a_post_is_retried_only_on_429_and_503(
    kibo: ModuleType, server: KiboServer, status: int, attempts: int
) -> None:
    server.fail_next(5, status=status, path=OTP_REQUEST)
    with make_client(kibo, server) as client, pytest.raises(kibo.APIStatusError):
        client.storefront_auth_ticket.request_otp(body={"email": "a@b.c"})
    assert server.count("POST", OTP_REQUEST) == attempts


def test_retry_non_idempotent_opts_in(kibo: ModuleType, server: KiboServer) -> None:
    server.fail_next(1, status=500, path=OTP_REQUEST)
    with make_client(kibo, server, retry_non_idempotent=True) as client:
        client.storefront_auth_ticket.request_otp(body={"email": "a@b.c"})
    assert server.count("POST", OTP_REQUEST) == 2
    server.reset()
    server.fail_next(1, status=500, path=OTP_REQUEST)
    with make_client(kibo, server) as client:
        client.with_options(retry_non_idempotent=True).storefront_auth_ticket.request_otp(body={"email": "a@b.c"})
    assert server.count("POST", OTP_REQUEST) == 2


def test_a_post_that_never_reached_the_server_is_retried(kibo: ModuleType, server: KiboServer) -> None:
    """Connection refused: nothing was sent, so a retry repeats nothing."""
    attempts: list[str] = []

    def refuse_once(request: Any) -> Any:
        attempts.append(request.method)
        if len(attempts) == 1:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(200, json={}, request=request)

    with kibo.Client(
        base_url=server.url, access_token="t", http_client=httpx.Client(transport=httpx.MockTransport(refuse_once))
    ) as client:
        client._sleep = lambda seconds: None
        client.storefront_auth_ticket.request_otp(body={"email": "a@b.c"})
    assert attempts == ["POST", "POST"]


def test_a_success_is_never_sent_again(kibo: ModuleType, server: KiboServer) -> None:
    server.respond_next(200, b"{}", path=ANONYMOUS, headers={"x-should-retry": "true"})
    with make_client(kibo, server) as client:
        client.storefront_auth_ticket.create_anonymous_shopper_auth_ticket()
    assert server.count("GET", ANONYMOUS) == 1


def test_x_idempotent_marks_a_post_as_safe_to_retry(tmp_path: Any) -> None:
    text = SPEC.read_text(encoding="utf-8").replace(
        "      summary: Request Otp\n", "      summary: Request Otp\n      x-idempotent: true\n", 1
    )
    spec = tmp_path / "spec.yaml"
    spec.write_text(text, encoding="utf-8")
    api = build_api(load_spec(spec, validate=False), None)
    flags = {op.py_name: op.idempotent for op in api.operations}
    assert flags["request_otp"] is True and flags["otp_auth"] is False
    assert flags["create_anonymous_shopper_auth_ticket"] is True
    assert flags["refresh_user_auth_ticket"] is False  # a PUT, but it spends the refresh token


def test_the_flag_reaches_the_wire_policy(kibo: ModuleType, server: KiboServer) -> None:
    base = __import__(kibo.__name__ + "._base_client", fromlist=["FinalRequestOptions"])
    server.fail_next(1, status=500, path=OTP_REQUEST)
    with make_client(kibo, server) as client:
        client.request(base.FinalRequestOptions("POST", OTP_REQUEST, cast_to=None, json_body={"email": "x@y.z"},
                                                idempotent=True))  # fmt: skip
    assert server.count("POST", OTP_REQUEST) == 2


# ---- 2. a redirect to another origin carries no secret ---------------------------------------------


SECRET_HEADERS = ("authorization", "x-vol-user-claims", "cookie", "x-api-token", "proxy-authorization")


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_cross_origin_redirect_drops_every_secret(
    kibo: ModuleType, server: KiboServer, recorder: tuple[str, list[dict[str, Any]]], status: int
) -> None:
    target, seen = recorder
    server.respond_next(status, b"", path=ANONYMOUS, headers={"Location": target + "/elsewhere"})
    with make_client(kibo, server, default_headers={"Cookie": "session=s3cr3t", "X-Api-Token": "tok"}) as client:
        client.storefront_auth_ticket.create_anonymous_shopper_auth_ticket(
            extra_headers={"x-vol-user-claims": "shopper-claims-123", "X-Trace": "keep-me"}
        )
    (received,) = [request["headers"] for request in seen]
    assert not set(SECRET_HEADERS) & set(received), received
    assert received["x-trace"] == "keep-me"


def test_same_origin_redirect_keeps_the_app_token(kibo: ModuleType, server: KiboServer) -> None:
    server.respond_next(307, b"", path=ANONYMOUS, headers={"Location": server.url + ANONYMOUS + "?again=1"})
    with make_client(kibo, server) as client:
        client.storefront_auth_ticket.create_anonymous_shopper_auth_ticket()
    assert server.count("GET", ANONYMOUS) == 2
    assert server.last("GET", ANONYMOUS).headers["authorization"].startswith("Bearer ")


def test_cross_origin_redirect_with_ticket_auth(
    kibo: ModuleType, server: KiboServer, recorder: tuple[str, list[dict[str, Any]]]
) -> None:
    """With `CustomerTicketAuth` as the client's auth, its claims header is not added to the
    redirected request either (the auth flow does not run for another origin)."""
    from kibo_authtickets.auth import CustomerTicketAuth

    target, seen = recorder
    with make_client(kibo, server) as app:
        server.add_user("r@example.com", "pw-123456")
        ticket = app.storefront_auth_ticket.create_user_auth_ticket(
            body={"username": "r@example.com", "password": "pw-123456"}
        )
        auth = CustomerTicketAuth(app, ticket, clock=server.now)
        with kibo.Client(base_url=server.url, auth=auth) as shopper:
            server.respond_next(302, b"", path=ANONYMOUS, headers={"Location": target + "/x"})
            shopper.storefront_auth_ticket.create_anonymous_shopper_auth_ticket()
    (received,) = [request["headers"] for request in seen]
    assert not set(SECRET_HEADERS) & set(received), received


def test_async_cross_origin_redirect_drops_every_secret(
    kibo: ModuleType, server: KiboServer, recorder: tuple[str, list[dict[str, Any]]]
) -> None:
    target, seen = recorder
    server.respond_next(308, b"", path=ANONYMOUS, headers={"Location": target + "/elsewhere"})

    async def main() -> None:
        async with kibo.AsyncClient(base_url=server.url, access_token=server.issue_app_token()) as client:
            await client.storefront_auth_ticket.create_anonymous_shopper_auth_ticket(
                extra_headers={"x-vol-user-claims": "shopper-claims-123"}
            )

    asyncio.run(main())
    (received,) = [request["headers"] for request in seen]
    assert not set(SECRET_HEADERS) & set(received), received


def test_too_many_redirects_is_an_api_error(kibo: ModuleType, server: KiboServer) -> None:
    server.respond_next(302, b"", path=ANONYMOUS, headers={"Location": server.url + ANONYMOUS}, n=25)
    with make_client(kibo, server) as client, pytest.raises(kibo.APIConnectionError, match="Too many redirects"):
        client.storefront_auth_ticket.create_anonymous_shopper_auth_ticket()


# ---- 8. the app secret goes only where the user said -----------------------------------------------


def test_app_token_comes_from_the_base_url_origin_of_a_mock(kibo: ModuleType, server: KiboServer) -> None:
    server.add_app("my-app", "app-secret-123456")
    with kibo.Client(base_url=server.url, client_id="my-app", client_secret="app-secret-123456") as client:
        client.storefront_auth_ticket.create_anonymous_shopper_auth_ticket()
    assert server.count("POST", OAUTH) == 1  # not Kibo's production auth host


def test_kibo_hosts_keep_the_spec_auth_host(kibo: ModuleType) -> None:
    client = kibo.Client(base_url="https://t1-s2.sandbox.mozu.com/api", client_id="a", client_secret="b")
    assert client._auth.token_url.startswith("https://home.mozu.com/")


# ---- 4/7. tokens with stray whitespace, configuration errors ----------------------------------------


def test_a_token_with_a_trailing_newline_is_cleaned(kibo: ModuleType, server: KiboServer) -> None:
    token = server.issue_app_token()
    with kibo.Client(base_url=server.url, access_token=token + "\n") as client:
        client.storefront_auth_ticket.create_anonymous_shopper_auth_ticket()
    assert server.last("GET", ANONYMOUS).headers["authorization"] == f"Bearer {token}"


def test_a_header_with_a_line_break_is_refused_before_sending(
    kibo: ModuleType, server: KiboServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    with make_client(kibo, server) as client, pytest.raises(kibo.InvalidRequestError) as info:
        client.storefront_auth_ticket.create_anonymous_shopper_auth_ticket(
            extra_headers={"x-vol-user-claims": "claims-SECRET-42\n"}
        )
    assert isinstance(info.value, kibo.APIError)
    assert "claims-SECRET-42" not in str(info.value) and "claims-SECRET-42" not in caplog.text
    assert server.count("GET", ANONYMOUS) == 0


@pytest.mark.parametrize("bad", [{"access_token": "a\x00b"}, {"max_retries": -1}, {"env": "nope"}])
def test_configuration_errors_are_api_errors_at_construction(kibo: ModuleType, bad: dict[str, Any]) -> None:
    with pytest.raises(kibo.ConfigurationError) as info:
        kibo.Client(tenant_id="1", site_id="2", **bad)
    assert isinstance(info.value, kibo.APIError) and isinstance(info.value, ValueError)
    assert "a\x00b" not in str(info.value)


def test_a_bad_dict_body_is_an_api_error_without_its_values(kibo: ModuleType, server: KiboServer) -> None:
    with make_client(kibo, server) as client, pytest.raises(kibo.InvalidRequestError) as info:
        client.storefront_auth_ticket.create_user_auth_ticket(body={"username": 12, "password": ["pw-SECRET-1"]})
    assert isinstance(info.value, kibo.APIError)
    assert "pw-SECRET-1" not in str(info.value) and "password" in str(info.value)
    assert info.value.__cause__ is None and info.value.__context__ is None
    assert server.count() == 0


# ---- 7. one error family, raised where the mistake is --------------------------------------------


def test_a_base_url_without_a_scheme_fails_at_construction(kibo: ModuleType) -> None:
    with pytest.raises(kibo.ConfigurationError, match="http:// or https://"):
        kibo.Client(base_url="localhost:8080/api", access_token="t")


def test_a_closed_client_raises_an_api_error(kibo: ModuleType, server: KiboServer) -> None:
    client = make_client(kibo, server)
    client.close()
    with pytest.raises(kibo.InvalidRequestError, match="closed"):
        client.storefront_auth_ticket.create_anonymous_shopper_auth_ticket()


def test_two_factor_required_is_an_api_error(kibo: ModuleType) -> None:
    from kibo_authtickets.auth import TwoFactorRequired

    assert issubclass(TwoFactorRequired, kibo.APIError)


# ---- 9. all-or-nothing validation has an opt-out --------------------------------------------------

ODD_TICKET = b'{"accessToken": "a-1", "customerAccount": {"id": "A-1001", "firstName": "Ann"}}'


def test_one_odd_value_fails_strictly_with_the_data_in_body(kibo: ModuleType, server: KiboServer) -> None:
    server.respond_next(200, ODD_TICKET, path=ANONYMOUS)
    with make_client(kibo, server) as client, pytest.raises(kibo.APIResponseValidationError) as info:
        client.storefront_auth_ticket.create_anonymous_shopper_auth_ticket()
    assert info.value.body["customerAccount"]["id"] == "A-1001"


def test_validate_responses_false_gives_the_unvalidated_model(kibo: ModuleType, server: KiboServer) -> None:
    server.respond_next(200, ODD_TICKET, path=ANONYMOUS)
    with make_client(kibo, server) as client:
        lenient = client.with_options(validate_responses=False)
        ticket = lenient.storefront_auth_ticket.create_anonymous_shopper_auth_ticket()
    assert type(ticket).__name__ == "CustomerAuthTicket"
    assert ticket.access_token == "a-1"
    assert ticket.customer_account == {"id": "A-1001", "firstName": "Ann"}  # nested values stay JSON
    server.respond_next(200, ODD_TICKET, path=ANONYMOUS)
    with make_client(kibo, server, validate_responses=False) as client:
        assert client.storefront_auth_ticket.create_anonymous_shopper_auth_ticket().access_token == "a-1"


def test_the_chained_cause_of_a_connection_error_is_redacted(kibo: ModuleType) -> None:
    """httpx's own exception (chained as `__cause__`) is a redacted copy: the refresh token in the
    URL appears in neither message, and nothing else is chained behind it."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = "refresh-SECRET-0123456789"
    with (
        kibo.Client(base_url=f"http://127.0.0.1:{port}/api", access_token="app-SECRET-token", max_retries=0) as c,
        pytest.raises(kibo.APIConnectionError) as info,
    ):
        c.storefront_auth_ticket.refresh_user_auth_ticket(refresh_token=token)
    cause = info.value.__cause__
    assert cause is not None and cause.__cause__ is None and cause.__context__ is None
    for text in (str(info.value), str(cause), repr(cause)):
        assert token not in text and "app-SECRET-token" not in text
