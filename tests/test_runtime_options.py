"""Generated client runtime: per-call options (extra_headers, extra_query, timeout), default
headers, User-Agent and `with_options`, over real HTTP."""

from __future__ import annotations

import inspect
from types import ModuleType
from typing import Any

import pytest

from tests.kibo_server import KiboServer

ANONYMOUS = "/commerce/customer/authtickets/anonymousshopper"
REFRESH = "/commerce/customer/authtickets/refresh"
OPTIONS = ("extra_headers", "extra_query", "timeout")


def resource_classes(kibo: ModuleType) -> list[type]:
    import importlib
    import pkgutil

    base = importlib.import_module(kibo.__name__ + "._base_client")
    package = importlib.import_module(kibo.__name__ + ".resources")
    found = []
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{kibo.__name__}.resources.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__ and issubclass(
                cls, (base.SyncAPIResource, base.AsyncAPIResource)
            ):
                found.append(cls)
    return found


def operations(cls: type) -> list[str]:
    return [
        name
        for name, member in vars(cls).items()
        if inspect.isfunction(member) and not name.startswith("_")
    ]


def test_every_method_takes_the_per_call_options(kibo: ModuleType) -> None:
    classes = resource_classes(kibo)
    assert len(classes) >= 4  # sync and async of each resource
    checked = 0
    for cls in classes:
        for name in operations(cls):
            parameters = inspect.signature(getattr(cls, name)).parameters
            for option in OPTIONS:
                assert option in parameters, f"{cls.__name__}.{name} lacks {option}="
                assert parameters[option].kind is inspect.Parameter.KEYWORD_ONLY
                # timeout= defaults to the NOT_GIVEN sentinel: None there means "no timeout".
                expected = kibo.NOT_GIVEN if option == "timeout" else None
                assert parameters[option].default is expected
            checked += 1
    assert checked >= 18


def test_raw_response_methods_keep_the_signature(kibo: ModuleType, client: Any) -> None:
    for name in operations(type(client.storefront_auth_ticket)):
        wrapped = getattr(client.storefront_auth_ticket.with_raw_response, name)
        assert set(OPTIONS) <= set(inspect.signature(wrapped).parameters)


def test_extra_headers_are_sent_and_do_not_stick(server: KiboServer, client: Any) -> None:
    client.storefront_auth_ticket.create_anonymous_shopper_auth_ticket(
        extra_headers={"X-Vol-Site": "5678", "X-Request-Label": "checkout"}
    )
    first = server.last()
    assert first.headers["x-vol-site"] == "5678"
    assert first.headers["x-request-label"] == "checkout"
    client.storefront_auth_ticket.create_anonymous_shopper_auth_ticket()
    assert "x-request-label" not in server.last().headers


def test_extra_headers_replace_defaults_case_insensitively(
    kibo: ModuleType, server: KiboServer
) -> None:
    good = server.issue_app_token()
    with kibo.Client(
        base_url=server.url,
        access_token="stale-token",
        default_headers={"X-Vol-Tenant": "1", "Accept-Language": "en"},
    ) as c:
        with pytest.raises(kibo.AuthenticationError):
            c.storefront_auth_ticket.create_anonymous_shopper_auth_ticket()
        ticket = c.storefront_auth_ticket.create_anonymous_shopper_auth_ticket(
            extra_headers={"authorization": f"Bearer {good}", "x-vol-tenant": "2"}
        )
    assert ticket.access_token
    received = server.last()
    # One value each: the per-call header replaced the default instead of being added to it.
    assert received.headers["authorization"] == f"Bearer {good}"
    assert received.headers["x-vol-tenant"] == "2"
    assert received.headers["accept-language"] == "en"


def test_extra_query_adds_overrides_and_removes(server: KiboServer, client: Any) -> None:
    server.add_user("q@example.com", "pw-123456", account_id=321)
    ticket = client.storefront_auth_ticket.create_user_auth_ticket(
        body={"username": "q@example.com", "password": "pw-123456"}
    )
    refreshed = client.storefront_auth_ticket.refresh_user_auth_ticket(
        refresh_token="not-this-one",
        account_id=321,
        extra_query={"refreshToken": ticket.refresh_token, "accountId": None, "trace": 1},
    )
    assert refreshed.access_token
    received = server.last("PUT", REFRESH)
    assert received.query == {"refreshToken": ticket.refresh_token, "trace": "1"}


def test_extra_query_reaches_the_server_logic(server: KiboServer, client: Any) -> None:
    ticket = client.storefront_auth_ticket.create_anonymous_shopper_auth_ticket(
        extra_query={"responseFields": "accessToken,userId"}
    )
    assert ticket.access_token and ticket.user_id
    assert ticket.refresh_token is None and ticket.jwt_access_token is None


def test_default_headers_and_user_agent(kibo: ModuleType, server: KiboServer) -> None:
    with kibo.Client(
        base_url=server.url,
        access_token=server.issue_app_token(),
        default_headers={"X-Vol-Catalog": "1"},
    ) as c:
        c.storefront_auth_ticket.create_anonymous_shopper_auth_ticket()
        c.storefront_auth_ticket.create_anonymous_shopper_auth_ticket()
        assert c.default_headers["X-Vol-Catalog"] == "1"
    for received in server.requests:
        assert received.headers["x-vol-catalog"] == "1"
        assert received.headers["user-agent"] == f"kibo-authtickets-python/{kibo.__version__}"
        assert received.headers["accept"] == "application/json"


def test_with_options_copies_the_client(kibo: ModuleType, server: KiboServer, client: Any) -> None:
    sleeps: list[float] = []
    client._sleep = sleeps.append
    patient = client.with_options(max_retries=4, timeout=5.0, default_headers={"X-Extra": "y"})
    assert patient.max_retries == 4 and patient.timeout == 5.0
    assert client.max_retries == 2 and client.timeout == 60.0
    assert patient.storefront_auth_ticket is not client.storefront_auth_ticket
    server.fail_next(4, status=503)
    assert patient.storefront_auth_ticket.create_anonymous_shopper_auth_ticket().access_token
    assert server.count() == 5
    assert len(sleeps) == 4
    assert server.last().headers["x-extra"] == "y"
    patient.close()  # shares the pool: closing the copy leaves the original usable
    assert client.storefront_auth_ticket.create_anonymous_shopper_auth_ticket().access_token
    assert "x-extra" not in server.last().headers
