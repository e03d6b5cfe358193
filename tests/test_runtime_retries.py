"""Generated client runtime: retries with exponential backoff, jitter and Retry-After.

Nothing sleeps for real: the client's sleep (`client._sleep`), jitter (`client._retry.jitter`)
and clock (`client._retry.clock`) are its documented test hooks.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from email.utils import formatdate
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import (
    httpx,  # httpx or httpx2 (KIBO_HTTP_LIBRARY)
    models,
)
from tests.kibo_server import KiboServer

ANONYMOUS = "/commerce/customer/authtickets/anonymousshopper"
NOW = 1_700_000_000.0


@pytest.fixture()
def sleeps() -> list[float]:
    return []


def make_client(kibo: ModuleType, server: KiboServer, sleeps: list[float], **kwargs: Any) -> Any:
    kwargs.setdefault("base_url", server.url)
    c = kibo.Client(access_token=server.issue_app_token(), **kwargs)
    c._sleep = sleeps.append
    c._retry.jitter = lambda: 0.0
    c._retry.clock = lambda: NOW
    return c


@pytest.fixture()
def client(kibo: ModuleType, server: KiboServer, sleeps: list[float]) -> Iterator[Any]:
    with make_client(kibo, server, sleeps) as c:
        yield c


def anonymous(client: Any) -> Any:
    return client.storefront_auth_ticket.create_anonymous_shopper_auth_ticket()


def test_server_errors_are_retried_with_doubling_backoff(
    kibo: ModuleType, server: KiboServer, client: Any, sleeps: list[float]
) -> None:
    server.fail_next(2, status=503)
    ticket = anonymous(client)
    assert isinstance(ticket, models(kibo).CustomerAuthTicket) and ticket.access_token
    assert server.count("GET", ANONYMOUS) == 3
    assert sleeps == [0.5, 1.0]


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_retryable_statuses(
    server: KiboServer, client: Any, sleeps: list[float], status: int
) -> None:
    server.fail_next(1, status=status)
    assert anonymous(client).access_token
    assert server.count() == 2
    assert sleeps == [0.5]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
def test_client_errors_are_not_retried(
    kibo: ModuleType, server: KiboServer, client: Any, sleeps: list[float], status: int
) -> None:
    server.fail_next(1, status=status)
    with pytest.raises(kibo.APIStatusError) as info:
        anonymous(client)
    assert info.value.status_code == status
    assert server.count() == 1
    assert sleeps == []


def test_gives_up_after_max_retries(
    kibo: ModuleType, server: KiboServer, client: Any, sleeps: list[float]
) -> None:
    server.fail_next(10, status=500)
    with pytest.raises(kibo.InternalServerError):
        anonymous(client)
    assert client.max_retries == 2
    assert server.count() == 3
    assert sleeps == [0.5, 1.0]


def test_max_retries_zero_turns_retries_off(
    kibo: ModuleType, server: KiboServer, sleeps: list[float]
) -> None:
    server.fail_next(1, status=503)
    with (
        make_client(kibo, server, sleeps, max_retries=0) as c,
        pytest.raises(kibo.InternalServerError),
    ):
        anonymous(c)
    assert server.count() == 1
    assert sleeps == []


def test_backoff_is_capped_at_8_seconds(
    kibo: ModuleType, server: KiboServer, sleeps: list[float]
) -> None:
    server.fail_next(7, status=502)
    with make_client(kibo, server, sleeps, max_retries=7) as c:
        assert anonymous(c).access_token
    assert server.count() == 8
    assert sleeps == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_jitter_shortens_each_delay_by_at_most_a_quarter(
    kibo: ModuleType, server: KiboServer, sleeps: list[float]
) -> None:
    server.fail_next(5, status=503)
    with make_client(kibo, server, sleeps, max_retries=5) as c:
        c._retry.jitter = lambda: 1.0  # the largest jitter random.random() can approach
        assert anonymous(c).access_token
    assert sleeps == [0.375, 0.75, 1.5, 3.0, 6.0]


def test_default_jitter_is_random_within_bounds(
    kibo: ModuleType, server: KiboServer, sleeps: list[float]
) -> None:
    server.fail_next(4, status=503)
    with kibo.Client(
        base_url=server.url, access_token=server.issue_app_token(), max_retries=4
    ) as c:
        c._sleep = sleeps.append  # the real jitter this time
        assert anonymous(c).access_token
    for delay, base in zip(sleeps, [0.5, 1.0, 2.0, 4.0], strict=True):
        assert 0.75 * base <= delay <= base


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "3"}, 3.0),
        ({"Retry-After": "2.5"}, 2.5),
        ({"Retry-After": "0"}, 0.0),
        ({"Retry-After": "120"}, 60.0),  # capped
        ({"Retry-After": "-5"}, 0.0),
        ({"Retry-After": formatdate(NOW + 30, usegmt=True)}, 30.0),
        ({"Retry-After": formatdate(NOW - 30, usegmt=True)}, 0.0),  # already passed
        ({"Retry-After": formatdate(NOW + 3600, usegmt=True)}, 60.0),  # capped
        ({"Retry-After": "soon"}, 0.5),  # unreadable: normal backoff
        ({"Retry-After-Ms": "250"}, 0.25),
        ({"Retry-After-Ms": "250", "Retry-After": "9"}, 0.25),
    ],
)
def test_retry_after_is_honoured(
    server: KiboServer, client: Any, sleeps: list[float], headers: dict[str, str], expected: float
) -> None:
    server.fail_next(1, status=429, headers=headers)
    assert anonymous(client).access_token
    assert sleeps == [pytest.approx(expected)]


def test_retry_after_also_applies_to_5xx(
    server: KiboServer, client: Any, sleeps: list[float]
) -> None:
    server.fail_next(2, status=503, headers={"Retry-After": "7"})
    assert anonymous(client).access_token
    assert sleeps == [7.0, 7.0]


def test_x_should_retry_header_overrides_the_status(
    kibo: ModuleType, server: KiboServer, client: Any, sleeps: list[float]
) -> None:
    server.fail_next(1, status=503, headers={"x-should-retry": "false"})
    with pytest.raises(kibo.InternalServerError):
        anonymous(client)
    assert server.count() == 1
    server.fail_next(1, status=409, headers={"x-should-retry": "true"})
    assert anonymous(client).access_token
    assert server.count() == 3


def test_request_is_rebuilt_identically_on_each_attempt(server: KiboServer, client: Any) -> None:
    server.add_user("retry@example.com", "pw-123456")
    server.fail_next(1, status=503)  # POST: retried on 503 (not on 500)
    ticket = client.storefront_auth_ticket.create_user_auth_ticket(
        body={"username": "retry@example.com", "password": "pw-123456"},
        extra_headers={"X-Trace": "t1"},
    )
    assert ticket.access_token
    first, second = server.requests
    assert first.body == second.body and first.json == {
        "username": "retry@example.com",
        "password": "pw-123456",
    }
    assert first.headers["x-trace"] == second.headers["x-trace"] == "t1"
    assert first.headers["authorization"] == second.headers["authorization"]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_connection_errors_are_retried_then_raised(
    kibo: ModuleType, server: KiboServer, sleeps: list[float]
) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/api"
    with (
        make_client(kibo, server, sleeps, base_url=url) as c,
        pytest.raises(kibo.APIConnectionError) as info,
    ):
        anonymous(c)
    assert type(info.value) is kibo.APIConnectionError
    assert sleeps == [0.5, 1.0]
    assert "after 3 attempts" in str(info.value) and "ConnectError" in str(info.value)
    assert isinstance(info.value.__cause__, httpx.ConnectError)
    assert info.value.request is not None


class FlakyTransport(httpx.BaseTransport):
    """Raises the given httpx errors on the first requests, then sends for real."""

    def __init__(self, *errors: type[httpx.TransportError]) -> None:
        self.errors = list(errors)
        self.attempts = 0
        self.real = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.attempts += 1
        if self.errors:
            raise self.errors.pop(0)("injected", request=request)
        return self.real.handle_request(request)

    def close(self) -> None:
        self.real.close()


def test_transport_errors_then_success(
    kibo: ModuleType, server: KiboServer, sleeps: list[float]
) -> None:
    transport = FlakyTransport(httpx.ReadError, httpx.RemoteProtocolError)
    with (
        httpx.Client(transport=transport) as http,
        make_client(kibo, server, sleeps, http_client=http) as c,
    ):
        assert anonymous(c).access_token
    assert transport.attempts == 3
    assert server.count() == 1
    assert sleeps == [0.5, 1.0]


def test_unsupported_protocol_is_refused_at_construction(
    kibo: ModuleType, server: KiboServer, sleeps: list[float]
) -> None:
    with pytest.raises(kibo.ConfigurationError, match="http:// or https://"):
        make_client(kibo, server, sleeps, base_url="ftp://127.0.0.1/api")


def test_unsupported_protocol_in_a_redirect_is_not_retried(
    kibo: ModuleType, server: KiboServer, client: Any, sleeps: list[float]
) -> None:
    server.respond_next(302, b"", path=ANONYMOUS, headers={"Location": "ftp://127.0.0.1/x"})
    with pytest.raises(kibo.APIConnectionError, match="UnsupportedProtocol"):
        anonymous(client)
    assert sleeps == []


def test_attempts_are_logged(
    kibo: ModuleType, server: KiboServer, client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="kibo_authtickets")
    server.fail_next(2, status=503)
    anonymous(client)
    ours = [r for r in caplog.records if r.name == "kibo_authtickets"]
    requests = [r.getMessage() for r in ours if r.getMessage().startswith("HTTP request")]
    assert [m.rsplit("(", 1)[1] for m in requests] == [
        "attempt 1 of 3)",
        "attempt 2 of 3)",
        "attempt 3 of 3)",
    ]
    assert all(f"GET {server.url}{ANONYMOUS}" in m for m in requests)
    responses = [r.getMessage() for r in ours if r.getMessage().startswith("HTTP response")]
    assert [" -> 503" in m for m in responses] == [True, True, False]
    assert " -> 200 OK (attempt 3 of 3)" in responses[-1]
    retries = [r for r in ours if r.getMessage().startswith("retrying")]
    assert len(retries) == 2 and all(r.levelno == logging.INFO for r in retries)
    assert "in 0.50 s after status 503 (attempt 2 of 3)" in retries[0].getMessage()


def test_retry_policy_rejects_negative_retries(kibo: ModuleType, server: KiboServer) -> None:
    with pytest.raises(ValueError, match="max_retries"):
        kibo.Client(base_url=server.url, max_retries=-1)
