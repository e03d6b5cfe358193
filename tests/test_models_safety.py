"""Issue 12.4-12.6 and API.md §3 "Models": secret-free reprs and errors, names type checkers and
users expect, request models that catch typos, over the committed package (and one built here)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import ModuleType
from typing import Any

import pydantic
import pytest

from generator.__main__ import main
from tests.conftest import import_fresh, models
from tests.kibo_server import KiboServer

SECRET = "s3cr3t-VALUE-42"


def test_repr_hides_secret_strings_declared_unknown_and_nested(kibo: ModuleType) -> None:
    ticket = models(kibo).CustomerAuthTicket.model_validate(
        {
            "accessToken": SECRET + "a",
            "accessTokenExpiration": "2030-01-01T00:00:00Z",
            "idToken": SECRET + "b",  # unknown to the spec
            "profile": {"password": SECRET + "c", "nickname": "visible", "items": [{"newPassword": SECRET + "d"}]},
            "customerAccount": {"id": 7, "hasExternalPassword": True},
        }
    )
    text = repr(ticket) + str(ticket)
    assert SECRET not in text
    assert "visible" in text and "2030" in text and "has_external_password=True" in text


@pytest.mark.parametrize("bad", [12345678, ["pw"], {"x": SECRET}])
def test_a_wrongly_typed_secret_is_not_in_the_error(kibo: ModuleType, bad: Any) -> None:
    with pytest.raises(pydantic.ValidationError) as info:
        models(kibo).CustomerUserAuthInfo(username="a@b.c", password=bad)
    assert str(bad) not in str(info.value) and SECRET not in str(info.value)
    assert "password" in str(info.value)


def test_login_and_alogin_refuse_the_same_credentials(kibo: ModuleType, kibo_server: KiboServer) -> None:
    """Sync and async agree: a str code works, an int (which would lose leading zeros) or any other
    type is refused by both, without its value in the message."""
    from kibo_authtickets.auth import TwoFactorRequired, acomplete_two_factor_login, alogin, login

    user = kibo_server.add_user("codes@example.com", "pw-123456", requires_2fa=True)
    with kibo.Client(base_url=kibo_server.url, access_token=kibo_server.issue_app_token()) as client:
        with pytest.raises(kibo.InvalidRequestError, match="password must be a str, not int") as info:
            login(client, user.username, 987654321)  # type: ignore[arg-type]
        assert "987654321" not in str(info.value)
        with pytest.raises(kibo.InvalidRequestError, match="code must be a str, not int"):
            login(client, user.username, "pw-123456", two_factor_code=lambda t: 123456)  # type: ignore[arg-type,return-value]
        ticket = login(client, user.username, "pw-123456", two_factor_code=lambda t: kibo_server.sent_codes[t.user_id])
        assert ticket.access_token

    async def run() -> None:
        async with kibo.AsyncClient(base_url=kibo_server.url, access_token=kibo_server.issue_app_token()) as aclient:
            with pytest.raises(kibo.InvalidRequestError, match="password must be a str, not int"):
                await alogin(aclient, user.username, 987654321)  # type: ignore[arg-type]
            with pytest.raises(kibo.InvalidRequestError, match="code must be a str, not int"):
                await alogin(aclient, user.username, "pw-123456", two_factor_code=lambda t: 123456)
            with pytest.raises(TwoFactorRequired) as pending:
                await alogin(aclient, user.username, "pw-123456")
            code = kibo_server.sent_codes[user.user_id]
            assert (await acomplete_two_factor_login(aclient, pending.value.ticket, code)).access_token

    asyncio.run(run())


def test_string_enums_equal_their_values(kibo: ModuleType) -> None:
    grant = models(kibo).GrantType
    assert grant.CLIENT_CREDENTIALS == "client_credentials"
    assert isinstance(grant.CLIENT_CREDENTIALS, str)


def test_digits_stay_with_their_word(kibo: ModuleType) -> None:
    m = models(kibo)
    assert "requires_2fa" in m.CustomerAuthTicket.model_fields
    assert "last_2fa_date" in m.CustomerAccount.model_fields
    ticket = m.CustomerAuthTicket.model_validate({"requires2FA": True})
    assert ticket.requires_2fa is True
    assert ticket.model_dump(by_alias=True, exclude_unset=True) == {"requires2FA": True}


PETS = """
openapi: 3.0.3
info: {title: pets, version: "1"}
paths:
  /pets:
    post:
      requestBody:
        content:
          application/json:
            schema: {$ref: "#/components/schemas/NewPet"}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Pet"}
components:
  schemas:
    NewPet:
      type: object
      properties:
        type: {type: string, enum: [cat, dog]}
        name: {type: string}
    Pet:
      type: object
      properties:
        type: {type: string, enum: [cat, dog, bird]}
        name: {type: string}
"""


def test_shared_inline_enums_are_named_after_their_model(tmp_path: Path) -> None:
    spec = tmp_path / "pets.yaml"
    spec.write_text(PETS, encoding="utf-8")
    assert main(["generate", str(spec), "-o", str(tmp_path / "out"), "--quiet"]) == 0
    package = import_fresh(tmp_path / "out", "pets")
    pets = models(package)
    assert {"NewPetType", "PetType"} <= set(pets.__all__) and "Type1" not in pets.__all__
    # NewPet is only in a request: it refuses unknown fields; Pet (a response) keeps them.
    with pytest.raises(pydantic.ValidationError, match="colour"):
        pets.NewPet(name="Rex", colour="brown")
    assert pets.Pet.model_validate({"name": "Rex", "colour": "brown"}).model_extra == {"colour": "brown"}
