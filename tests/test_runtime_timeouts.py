"""Generated client runtime: timeouts on the client and per call; APITimeoutError after retries.

The server really holds the response (`delay_next`); the client's timeouts are a few tens of
milliseconds, and the retry sleeps are injected, so nothing here waits long.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest

from tests.conftest import httpx  # httpx or httpx2 (KIBO_HTTP_LIBRARY)
from tests.kibo_server import KiboServer

ANONYMOUS = "/commerce/customer/authtickets/anonymousshopper"


@pytest.fixture()
def server(kibo_server: KiboServer) -> KiboServer:
    # A server of its own: `stop()` releases the responses still being held back.
    return kibo_server


@pytest.fixture()
def sleeps() -> list[float]:
    return []


class RecordingTransport(httpx.BaseTransport):
    """Sends for real and keeps the timeout each request carried."""

    def __init__(self, fail_first: int = 0) -> None:
        self.timeouts: list[dict[str, float | None]] = []
        self.fail_first = fail_first
        self.real = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.timeouts.append(dict(request.extensions["timeout"]))
        if self.fail_first:
            self.fail_first -= 1
            raise httpx.ReadTimeout("injected", request=request)
        return self.real.handle_request(request)

    def close(self) -> None:
        self.real.close()


def make_client(kibo: ModuleType, server: KiboServer, sleeps: list[float], **kwargs: Any) -> Any:
    c = kibo.Client(base_url=server.url, access_token=server.issue_app_token(), **kwargs)
    c._sleep = sleeps.append
    c._retry.jitter = lambda: 0.0
    return c


def anonymous(client: Any, **kwargs: Any) -> Any:
    return client.storefront_auth_ticket.create_anonymous_shopper_auth_ticket(**kwargs)


def test_client_timeout_raises_api_timeout_error_after_retries(
    kibo: ModuleType, server: KiboServer, sleeps: list[float]
) -> None:
    server.delay_next(3, 2.0, path=ANONYMOUS)
    with (
        make_client(kibo, server, sleeps, timeout=0.05) as c,
        pytest.raises(kibo.APITimeoutError) as info,
    ):
        anonymous(c)
    assert isinstance(info.value, kibo.APIConnectionError)
    assert server.count("GET", ANONYMOUS) == 3
    assert sleeps == [0.5, 1.0]
    assert str(info.value).startswith("Request timed out after 3 attempts: GET ")
    assert isinstance(info.value.__cause__, httpx.TimeoutException)


def test_a_timeout_then_success(kibo: ModuleType, server: KiboServer, sleeps: list[float]) -> None:
    server.delay_next(1, 2.0, path=ANONYMOUS)
    with make_client(kibo, server, sleeps, timeout=0.2) as c:
        assert anonymous(c).access_token
    assert server.count() == 2
    assert sleeps == [0.5]


def test_per_call_timeout_overrides_the_client_default(
    kibo: ModuleType, server: KiboServer, sleeps: list[float]
) -> None:
    server.delay_next(1, 2.0, path=ANONYMOUS)
    with make_client(kibo, server, sleeps, timeout=60.0, max_retries=0) as c:
        with pytest.raises(kibo.APITimeoutError) as info:
            anonymous(c, timeout=0.05)
        assert str(info.value).startswith("Request timed out: GET ")
        assert server.count() == 1
        # The next call is back to the client's default (and the server answers at once now).
        assert anonymous(c).access_token


@pytest.mark.parametrize(
    ("client_timeout", "call_timeout", "expected"),
    [
        (60.0, "not given", {"connect": 60.0, "read": 60.0, "write": 60.0, "pool": 60.0}),
        # timeout=None on a call means no timeout for it (the default is the NOT_GIVEN sentinel).
        (60.0, None, {"connect": None, "read": None, "write": None, "pool": None}),
        (5.0, 1.5, {"connect": 1.5, "read": 1.5, "write": 1.5, "pool": 1.5}),
        (
            httpx.Timeout(10.0, connect=2.0),
            "not given",
            {"connect": 2.0, "read": 10.0, "write": 10.0, "pool": 10.0},
        ),
        (
            30.0,
            httpx.Timeout(None, read=3.0),
            {"connect": None, "read": 3.0, "write": None, "pool": None},
        ),
        (None, None, {"connect": None, "read": None, "write": None, "pool": None}),
    ],
)
def test_timeout_reaches_the_transport(
    kibo: ModuleType,
    server: KiboServer,
    sleeps: list[float],
    client_timeout: Any,
    call_timeout: Any,
    expected: dict[str, float | None],
) -> None:
    transport = RecordingTransport()
    http = httpx.Client(transport=transport, timeout=1.0)
    with http, make_client(kibo, server, sleeps, timeout=client_timeout, http_client=http) as c:
        given = {} if call_timeout == "not given" else {"timeout": call_timeout}
        assert anonymous(c, **given).access_token
        assert anonymous(c, timeout=kibo.NOT_GIVEN).access_token  # the sentinel itself: the client's
        assert c.with_options(timeout=None).timeout is None and c.with_options().timeout == c.timeout
    default = httpx.Timeout(client_timeout).as_dict()  # what the client's own timeout gives
    assert transport.timeouts == [expected, default]
    assert repr(kibo.NOT_GIVEN) == "NOT_GIVEN" and not kibo.NOT_GIVEN and kibo.NotGiven() is kibo.NOT_GIVEN


def test_default_timeout_is_60_seconds(
    kibo: ModuleType, server: KiboServer, sleeps: list[float]
) -> None:
    transport = RecordingTransport()
    with (
        httpx.Client(transport=transport) as http,
        kibo.Client(
            base_url=server.url, access_token=server.issue_app_token(), http_client=http
        ) as c,
    ):
        assert c.timeout == 60.0
        anonymous(c)
    assert transport.timeouts[0]["read"] == 60.0


def test_injected_timeouts_exhaust_the_retries(
    kibo: ModuleType, server: KiboServer, sleeps: list[float]
) -> None:
    transport = RecordingTransport(fail_first=5)
    with (
        httpx.Client(transport=transport) as http,
        make_client(kibo, server, sleeps, http_client=http, max_retries=4) as c,
        pytest.raises(kibo.APITimeoutError, match="after 5 attempts"),
    ):
        anonymous(c, timeout=0.5)
    assert len(transport.timeouts) == 5
    assert all(t["read"] == 0.5 for t in transport.timeouts), "each retry keeps the call's timeout"
    assert sleeps == [0.5, 1.0, 2.0, 4.0]
    assert server.count() == 0
