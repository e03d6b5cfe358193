"""Generated client runtime: a newer server's data survives (unknown fields and enum values)."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import import_fresh, models
from tests.kibo_server import KiboServer

FUTURE_TICKET = {
    "accessToken": "tok-1",
    "userId": "u1",
    "requires2FA": False,
    "sessionFingerprint": {"algorithm": "v9", "parts": [1, 2, 3]},  # unknown to the spec
    "customerAccount": {
        "id": 7,
        "emailAddress": "f@example.com",
        "loyaltyTier": "platinum",  # unknown, nested
        "contacts": [{"id": 1, "firstName": "F", "pronouns": "they/them"}],  # unknown, in a list
    },
}


def test_unknown_fields_survive_a_round_trip(kibo: ModuleType) -> None:
    ticket = models(kibo).CustomerAuthTicket.model_validate(FUTURE_TICKET)
    assert ticket.customer_account.email_address == "f@example.com"
    dumped = ticket.model_dump(by_alias=True, exclude_unset=True, mode="json")
    assert dumped == FUTURE_TICKET
    assert ticket.model_extra == {"sessionFingerprint": {"algorithm": "v9", "parts": [1, 2, 3]}}


def test_unknown_fields_survive_from_the_wire(kibo: ModuleType, kibo_server: KiboServer) -> None:
    kibo_server.respond_next(200, json.dumps(FUTURE_TICKET))
    with kibo.Client(base_url=kibo_server.url, access_token=kibo_server.issue_app_token()) as c:
        ticket = c.storefront_auth_ticket.create_anonymous_shopper_auth_ticket()
    assert ticket.model_dump(by_alias=True, exclude_unset=True, mode="json") == FUTURE_TICKET


def test_request_only_models_reject_unknown_fields(kibo: ModuleType, kibo_server: KiboServer) -> None:
    """A model only requests use refuses a field it does not know (a typo, caught before sending);
    the error names the field and never shows a value."""
    import pydantic

    with pytest.raises(pydantic.ValidationError, match="captchaToken") as info:
        models(kibo).CustomerUserAuthInfo.model_validate(
            {"username": "fc@example.com", "password": "pw-123456", "captchaToken": "c-SECRET-1"}
        )
    assert "c-SECRET-1" not in str(info.value) and "pw-123456" not in str(info.value)
    with pytest.raises(pydantic.ValidationError, match="cart_idd"):
        models(kibo).CartAuthTicketRequest(cart_idd="c1")
    with (
        kibo.Client(base_url=kibo_server.url, access_token=kibo_server.issue_app_token()) as c,
        pytest.raises(kibo.InvalidRequestError, match="cartID"),
    ):
        c.storefront_auth_ticket.impersonate_cart(body={"cartID": "c1", "accountId": 7})
    assert kibo_server.count() == 0


def test_unknown_fields_of_response_models_are_sent_back(kibo: ModuleType, kibo_server: KiboServer) -> None:
    """A model that responses use keeps what a newer server sent, also when it is sent back."""
    ticket = models(kibo).CustomerAuthTicket.model_validate({"accessToken": "a", "newField": {"x": 1}})
    dumped = ticket.model_dump(by_alias=True, exclude_unset=True, mode="json")
    assert dumped == {"accessToken": "a", "newField": {"x": 1}}


def test_unknown_inline_enum_value_parses(kibo: ModuleType) -> None:
    m = models(kibo)
    known = m.OAuthAuthenticationRequest.model_validate(
        {"client_id": "a", "client_secret": "s", "grant_type": "client_credentials"}
    )
    assert known.grant_type is m.GrantType.CLIENT_CREDENTIALS
    future = m.OAuthAuthenticationRequest.model_validate(
        {"client_id": "a", "client_secret": "s", "grant_type": "device_code"}
    )
    assert future.grant_type == "device_code"
    assert future.model_dump(by_alias=True, mode="json")["grant_type"] == "device_code"


ENUM_SPEC = """
openapi: 3.0.3
info: {title: Forward Compat Shop, version: "1"}
paths:
  /orders/{id}:
    get:
      operationId: getOrder
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Order"}
components:
  schemas:
    Status:
      type: string
      enum: [open, closed]
    Order:
      type: object
      required: [status]
      properties:
        status: {$ref: "#/components/schemas/Status"}
        previous:
          $ref: "#/components/schemas/Status"
        history:
          type: array
          items: {$ref: "#/components/schemas/Status"}
        line:
          type: object
          properties:
            state: {$ref: "#/components/schemas/Status"}
"""


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    from generator.pipeline import generate

    root = tmp_path_factory.mktemp("fwd")
    spec = root / "shop.yaml"
    spec.write_text(ENUM_SPEC)
    generate(spec, root / "out", "fwd_compat_shop")
    return import_fresh(Path(root / "out"), "fwd_compat_shop")


def test_unknown_value_of_a_referenced_enum_parses(shop: ModuleType) -> None:
    m = importlib.import_module("fwd_compat_shop.models")
    order = m.Order.model_validate(
        {
            "status": "refunded",
            "previous": "open",
            "history": ["open", "archived"],
            "line": {"state": "lost"},
        }
    )
    assert order.status == "refunded"
    assert order.previous is m.Status.OPEN
    assert order.history[1] == "archived"
    assert order.line.state == "lost"
    wire = order.model_dump(by_alias=True, mode="json", exclude_unset=True)
    assert wire == {
        "status": "refunded",
        "previous": "open",
        "history": ["open", "archived"],
        "line": {"state": "lost"},
    }
    assert m.Order.model_validate_json('{"status": "closed"}').status is m.Status.CLOSED


def test_unknown_enum_value_through_the_client(shop: ModuleType) -> None:
    import httpx

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"status": "on-hold", "history": ["open", "x"]})

    http = httpx.Client(transport=httpx.MockTransport(handler))
    with http, shop.Client(base_url="http://shop.test", http_client=http) as c:
        order = c.default.get_order(id="o1")
    assert order.status == "on-hold"
    assert order.history[1] == "x"
