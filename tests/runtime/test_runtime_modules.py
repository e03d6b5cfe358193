"""The runtime modules tested where they live (`generator/runtime/`, plain typed Python), with the
stand-in `_config.py`: what every generated package copies byte for byte."""

from __future__ import annotations

import httpx
import pytest

from generator.runtime import _base_client as base
from generator.runtime import _config, errors
from generator.runtime._model_base import Model, RequestModel
from generator.runtime._servers import (
    ServerRouting,
    ServerTemplate,
    ServerVariable,
    host_url,
    match_server,
    pick_server,
)

SITE = ServerTemplate(
    url="https://t{tenantId}-s{siteId}.{env}.mozu.com/api",
    description="Site Level Api",
    variables=(
        ServerVariable(name="tenantId", argument="tenant_id", required=True),
        ServerVariable(name="siteId", argument="site_id", required=True),
        ServerVariable(name="env", argument="env", default="sandbox", enum=("sandbox", "prod")),
    ),
)
HOME = ServerTemplate(url="https://home.mozu.com/api", description="HomePod Api")


def test_server_templates_resolve_match_and_pick() -> None:
    url = SITE.resolve({"tenant_id": "1", "site_id": "2"})
    assert url == "https://t1-s2.sandbox.mozu.com/api"
    assert match_server(url + "/", (HOME, SITE)) == (SITE, {"tenant_id": "1", "site_id": "2", "env": "sandbox"})
    assert match_server("https://example.com/api", (SITE,)) is None
    assert pick_server(None, (SITE, HOME)) is SITE and pick_server("homepod api", (SITE, HOME)) is HOME
    with pytest.raises(errors.ConfigurationError, match="out of range"):
        pick_server(5, (SITE,))
    with pytest.raises(errors.ConfigurationError, match="lists no servers"):
        pick_server(None, ())
    assert host_url("home.euw1.kibocommerce.com", HOME.url) == "https://home.euw1.kibocommerce.com/api"
    routing = ServerRouting(SITE, {"tenant_id": "1", "site_id": "2"}, {HOME.url: "https://auth.test"})
    assert routing.base_url((HOME,)) == "https://auth.test"


def test_retry_policy_waits_and_judges() -> None:
    policy = base.RetryPolicy(3, jitter=lambda: 0.0, clock=lambda: 1000.0)
    assert [policy.delay(n) for n in range(5)] == [0.5, 1.0, 2.0, 4.0, 8.0]
    request = httpx.Request("POST", "https://x.test/")
    assert policy.delay(0, httpx.Response(429, headers={"Retry-After": "3"}, request=request)) == 3.0
    assert policy.delay(0, httpx.Response(429, headers={"Retry-After-Ms": "250"}, request=request)) == 0.25
    assert policy.delay(0, httpx.Response(503, headers={"Retry-After": "9999"}, request=request)) == 60.0
    failed = httpx.Response(500, request=request)
    assert policy.should_retry_response(failed, 0, idempotent=True)
    assert not policy.should_retry_response(failed, 0, idempotent=False)  # a POST may have acted
    assert policy.should_retry_response(httpx.Response(503, request=request), 0, idempotent=False)
    assert not policy.should_retry_response(failed, 3)  # out of retries
    assert policy.should_retry_error(httpx.ConnectError("refused"), 0, idempotent=False)
    assert not policy.should_retry_error(httpx.ReadTimeout("slow"), 0, idempotent=False)
    with pytest.raises(errors.ConfigurationError):
        base.RetryPolicy(-1)


def test_secrets_are_redacted_everywhere() -> None:
    assert base.is_secret_name("Password") and base.is_secret_name("refresh-token")
    assert not base.is_secret_name("username") and not base.is_secret_name("cartId")
    assert base.redact_json({"password": "pw", "name": "n", "nested": [{"accessToken": "t"}]}) == {
        "password": base.REDACTED,
        "name": "n",
        "nested": [{"accessToken": base.REDACTED}],
    }
    assert "hunter2" not in base.redact_text("Authorization: Bearer hunter2 password=hunter2")
    assert "s3cret" not in base.redact_url("https://u:s3cret@x.test/a?refreshToken=s3cret&q=1")
    assert "q=1" in base.redact_url("https://x.test/a?refreshToken=abc&q=1")
    assert all(base.is_secret_name(name) for name in _config.SECRET_WIRE_NAMES)  # what _config.py says


def test_final_request_options_and_the_not_given_sentinel() -> None:
    options = base.FinalRequestOptions[dict[str, int]](
        "POST", "/carts", cast_to=dict, query={"a": 1, "b": None}, body={"x": 1}, media=(("application/json", "json"),)
    )
    assert options.query == {"a": 1} and options.timeout is base.NOT_GIVEN and not options.idempotent
    assert base.NotGiven() is base.NOT_GIVEN and repr(base.NOT_GIVEN) == "NOT_GIVEN"
    assert base.FinalRequestOptions("GET", "/", cast_to=None, timeout=None).timeout is None


def test_models_keep_unknown_fields_and_hide_secrets() -> None:
    class Ticket(Model):
        access_token: str | None = None

    class Login(RequestModel):
        username: str

    ticket = Ticket.model_validate({"accessToken": "abc", "extra": "kept", "password": "pw"})
    assert ticket.model_extra == {"accessToken": "abc", "extra": "kept", "password": "pw"}
    assert "pw" not in repr(ticket) and "abc" not in repr(ticket) and "kept" in repr(ticket)
    with pytest.raises(ValueError, match="usernme"):
        Login.model_validate({"username": "u", "usernme": "typo"})


def test_errors_are_one_family() -> None:
    request = httpx.Request("GET", "https://x.test/")
    for status, cls in ((400, errors.BadRequestError), (401, errors.AuthenticationError), (404, errors.NotFoundError),
                        (429, errors.RateLimitError), (503, errors.InternalServerError)):  # fmt: skip
        assert errors.status_error_class(status) is cls
        assert issubclass(cls, errors.APIStatusError) and issubclass(cls, errors.APIError)
    assert issubclass(errors.APITimeoutError, errors.APIConnectionError)
    assert errors.APIConnectionError("down", request=request).request is request
