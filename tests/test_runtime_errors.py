"""Generated client runtime: the error hierarchy, raised for every non-2xx and for bad 2xx bodies.

Over real HTTP against the loopback Kibo server (`tests/kibo_server.py`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pydantic
import pytest

from tests.conftest import (
    httpx,  # httpx or httpx2 (KIBO_HTTP_LIBRARY)
    models,
)
from tests.kibo_server import KiboServer

ANONYMOUS = "/commerce/customer/authtickets/anonymousshopper"


@pytest.fixture()
def client(kibo: ModuleType, server: KiboServer) -> Iterator[Any]:
    with kibo.Client(base_url=server.url, access_token=server.issue_app_token()) as c:
        c._sleep = lambda seconds: None  # retries must never sleep in tests
        yield c


def test_hierarchy_is_exactly_the_documented_one(kibo: ModuleType) -> None:
    e = kibo.errors
    assert issubclass(e.APIError, Exception)
    assert issubclass(e.APIConnectionError, e.APIError)
    assert issubclass(e.APITimeoutError, e.APIConnectionError)
    assert issubclass(e.APIResponseValidationError, e.APIError)
    assert issubclass(e.APIStatusError, e.APIError)
    assert not issubclass(e.APIResponseValidationError, e.APIStatusError)
    assert not issubclass(e.APIStatusError, e.APIConnectionError)
    for name in (
        "BadRequestError",
        "AuthenticationError",
        "PermissionDeniedError",
        "NotFoundError",
        "ConflictError",
        "UnprocessableEntityError",
        "RateLimitError",
        "InternalServerError",
    ):
        cls = getattr(e, name)
        assert cls.__bases__ == (e.APIStatusError,), name
        assert getattr(kibo, name) is cls, f"{name} is re-exported at top level"
    for name in ("APIError", "APIConnectionError", "APITimeoutError", "APIResponseValidationError"):
        assert getattr(kibo, name) is getattr(e, name)


STATUS_CLASSES = [
    (400, "BadRequestError"),
    (401, "AuthenticationError"),
    (403, "PermissionDeniedError"),
    (404, "NotFoundError"),
    (409, "ConflictError"),
    (422, "UnprocessableEntityError"),
    (429, "RateLimitError"),
    (500, "InternalServerError"),
    (502, "InternalServerError"),
    (503, "InternalServerError"),
    (599, "InternalServerError"),
    (405, "APIStatusError"),
    (418, "APIStatusError"),
]


@pytest.mark.parametrize(("status", "name"), STATUS_CLASSES)
def test_every_non_2xx_raises_its_status_error(
    kibo: ModuleType, server: KiboServer, client: Any, status: int, name: str
) -> None:
    server.fail_next(5, status=status)  # more than the retries, so retried statuses fail too
    with pytest.raises(kibo.APIStatusError) as info:
        client.storefront_auth_ticket.create_anonymous_shopper_auth_ticket()
    exc = info.value
    assert type(exc) is getattr(kibo.errors, name)
    assert exc.status_code == status
    assert isinstance(exc.response, httpx.Response)
    assert exc.response.status_code == status
    assert exc.request is exc.response.request
    # The server's Kibo error body, decoded and parsed into the spec's error model.
    assert isinstance(exc.body, dict)
    assert exc.body["errorCode"] in ("SERVICE_UNAVAILABLE", "SERVER_ERROR")
    assert isinstance(exc.error, models(kibo).KiboError)
    assert exc.error.message == f"Injected failure (HTTP {status})"
    assert exc.error.additional_error_data[1].value == str(status)
    assert exc.correlation_id == exc.response.headers["x-vol-correlation"]
    assert str(status) in str(exc) and "Injected failure" in str(exc)
    assert "GET" in exc.message and ANONYMOUS in exc.message


def test_real_error_from_the_server_is_parsed(
    kibo: ModuleType, server: KiboServer, client: Any
) -> None:
    server.add_user("shopper@example.com", "right-password")
    with pytest.raises(kibo.AuthenticationError) as info:
        client.storefront_auth_ticket.create_user_auth_ticket(
            body={"username": "shopper@example.com", "password": "wrong-password"}
        )
    exc = info.value
    assert exc.status_code == 401
    assert exc.error is not None and exc.error.error_code == "INVALID_CREDENTIALS"
    assert "Invalid username or password" in str(exc)
    assert "[INVALID_CREDENTIALS]" in str(exc)
    assert exc.correlation_id == exc.error.correlation_id
    assert server.count() == 1, "401 is not retried"


def test_not_found_from_the_server(kibo: ModuleType, server: KiboServer, client: Any) -> None:
    with pytest.raises(kibo.NotFoundError) as info:
        client.storefront_auth_ticket.impersonate_cart(body={"cartId": "c1", "accountId": 424242})
    assert info.value.error.message == "Customer account not found"


def test_missing_app_token_is_an_authentication_error(kibo: ModuleType, server: KiboServer) -> None:
    no_token = kibo.Client(base_url=server.url)
    with no_token, pytest.raises(kibo.AuthenticationError, match="Missing application auth"):
        no_token.storefront_auth_ticket.create_anonymous_shopper_auth_ticket()


def test_error_body_that_is_not_json(kibo: ModuleType, server: KiboServer, client: Any) -> None:
    page = "<html><body><h1>502 Bad Gateway</h1></body></html>"
    server.fail_next(3, status=502, body=page, headers={"Content-Type": "text/html"})
    with pytest.raises(kibo.InternalServerError) as info:
        client.storefront_auth_ticket.create_anonymous_shopper_auth_ticket()
    assert info.value.body == page
    assert info.value.error is None
    assert "502 Bad Gateway" in str(info.value)


def test_error_body_that_does_not_fit_the_error_model(
    kibo: ModuleType, server: KiboServer, client: Any
) -> None:
    server.fail_next(status=400, body={"message": ["not", "a", "string"], "items": 7})
    with pytest.raises(kibo.BadRequestError) as info:
        client.storefront_auth_ticket.create_anonymous_shopper_auth_ticket()
    assert info.value.body == {"message": ["not", "a", "string"], "items": 7}
    assert info.value.error is None


def test_empty_error_body(kibo: ModuleType, server: KiboServer, client: Any) -> None:
    server.respond_next(409, b"", content_type=None)
    with pytest.raises(kibo.ConflictError) as info:
        client.storefront_auth_ticket.create_anonymous_shopper_auth_ticket()
    assert info.value.body is None and info.value.error is None
    assert str(info.value).startswith("409 Conflict from GET ")


def test_long_error_bodies_are_cut_short_in_the_message(
    kibo: ModuleType, server: KiboServer, client: Any
) -> None:
    server.fail_next(status=400, body="x" * 10_000, headers={"Content-Type": "text/plain"})
    with pytest.raises(kibo.BadRequestError) as info:
        client.storefront_auth_ticket.create_anonymous_shopper_auth_ticket()
    assert len(str(info.value)) < 500
    assert info.value.body == "x" * 10_000


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"<html>maintenance</html>", "body is not valid JSON"),
        (b'{"accessToken": "abc", ', "body is not valid JSON"),
        (b"", "body is empty"),
        (b'[{"accessToken": 1}]', "body does not match CustomerAuthTicket"),
        (b'{"accessTokenExpiration": "next tuesday"}', "accessTokenExpiration"),
        (b'{"requires2FA": "perhaps"}', "requires2FA"),
    ],
)
def test_bad_2xx_body_raises_response_validation_error(
    kibo: ModuleType, server: KiboServer, client: Any, body: bytes, problem: str
) -> None:
    server.respond_next(200, body)
    with pytest.raises(kibo.APIResponseValidationError) as info:
        client.storefront_auth_ticket.create_anonymous_shopper_auth_ticket()
    exc = info.value
    assert not isinstance(exc, (pydantic.ValidationError, json.JSONDecodeError, ValueError))
    assert exc.status_code == 200
    assert exc.response.content == body
    assert problem in str(exc)
    assert str(exc).startswith("200 response (application/json) from GET ")
    if body:
        assert "body starts" in str(exc)
    assert exc.__cause__ is None and exc.__suppress_context__, "no pydantic traceback attached"
    assert server.count() == 1, "a bad 2xx body is not retried"


def test_response_validation_error_excerpt_is_short(
    kibo: ModuleType, server: KiboServer, client: Any
) -> None:
    server.respond_next(201, "<p>" + "z" * 5000, content_type="text/html")
    with pytest.raises(kibo.APIResponseValidationError) as info:
        client.storefront_auth_ticket.create_anonymous_shopper_auth_ticket()
    assert info.value.status_code == 201
    assert "(text/html)" in str(info.value)
    assert len(str(info.value)) < 400


def test_statuses_without_a_body_parse_as_none(
    kibo: ModuleType, server: KiboServer, client: Any
) -> None:
    server.add_user("otp@example.com", "pw-123456")
    assert client.storefront_auth_ticket.request_otp(body={"email": "otp@example.com"}) is None
    server.respond_next(204, b"", content_type=None)
    assert client.storefront_auth_ticket.request_otp(body={"email": "otp@example.com"}) is None
