"""Issue 13: documents other people wrote. Each defect has a test here; the request-side ones go
over real HTTP to a recording server on 127.0.0.1."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from generator.__main__ import main

from .conftest import RUFF_ON_PACKAGES, import_fresh, models_source


def generate(tmp_path: Path, text: str, name: str) -> ModuleType:
    spec = tmp_path / f"{name}.yaml"
    spec.write_text(text, encoding="utf-8")
    assert main(["generate", str(spec), "-o", str(tmp_path / "out"), "--package-name", name, "--quiet"]) == 0
    return import_fresh(tmp_path / "out", name)


# ---- 1. documents without operations -------------------------------------------------------------

WEBHOOKS = """
openapi: 3.1.0
info: {title: hooks, version: "1"}
webhooks:
  orderCreated:
    post:
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties:
                orderId: {type: string}
      responses:
        "200": {description: ok}
  petAdopted:
    post:
      requestBody:
        content:
          application/json:
            schema: {$ref: "#/components/schemas/Pet"}
      responses:
        "200": {description: ok}
components:
  schemas:
    Pet:
      type: object
      properties:
        name: {type: string}
"""


def test_webhooks_only_document_gives_payload_models(tmp_path: Path) -> None:
    generate(tmp_path, WEBHOOKS, "hooks")
    models = importlib.import_module("hooks.models")
    assert models.OrderCreatedPayload.model_validate({"orderId": "o1"}).order_id == "o1"
    assert models.Pet(name="Rex").name == "Rex"


PATH_ITEM_REFS = """
openapi: 3.1.0
info: {title: items, version: "1"}
paths:
  /pets:
    $ref: "#/components/pathItems/Pets"
  /pets/{petId}:
    get:
      operationId: showPet
      tags: [pets]
      parameters:
        - {name: petId, in: path, required: true, schema: {type: string}}
      responses:
        "200": {description: ok}
components:
  pathItems:
    Pets:
      get:
        operationId: listPets
        tags: [pets]
        responses:
          "200":
            description: ok
            content:
              application/json:
                schema: {type: array, items: {type: string}}
"""


def test_a_path_item_may_be_a_reference(tmp_path: Path) -> None:
    """3.1's `components/pathItems`: the referenced operations are generated like inline ones."""
    generated = generate(tmp_path, PATH_ITEM_REFS, "items")
    pets: Any = generated.Client(base_url="http://127.0.0.1:9").pets
    assert callable(pets.list_pets) and callable(pets.show_pet)


# ---- 5. cookie parameters --------------------------------------------------------------------------

COOKIES = """
openapi: 3.0.3
info: {title: cookies, version: "1"}
paths:
  /items:
    get:
      operationId: listItems
      parameters:
        - {name: session, in: cookie, required: true, schema: {type: string}}
        - {name: theme, in: cookie, schema: {type: string}}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {type: object}
"""


def test_cookie_parameters_are_sent_as_cookies(tmp_path: Path, recorder: tuple[str, list[dict[str, Any]]]) -> None:
    url, seen = recorder
    package = generate(tmp_path, COOKIES, "cookies")
    with package.Client(base_url=url) as client:
        client.default.list_items(session="abc 1;2")
        client.default.list_items(session="s2", theme="dark")
    assert seen[0]["headers"]["cookie"] == "session=abc%201%3B2"
    assert seen[1]["headers"]["cookie"] == "session=s2; theme=dark"


# ---- 6. formats that would need another package ----------------------------------------------------

EMAIL = """
openapi: 3.0.3
info: {title: mail, version: "1"}
paths:
  /users:
    post:
      operationId: createUser
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties:
                email: {type: string, format: email}
      responses:
        "204": {description: done}
"""


def test_email_format_needs_no_email_validator(tmp_path: Path) -> None:
    generate(tmp_path, EMAIL, "mail")
    source = models_source(tmp_path / "out" / "mail")
    assert "EmailStr" not in source
    # Every module imports with only httpx and pydantic (email-validator blocked).
    code = (
        "import sys; sys.modules['email_validator'] = None; sys.path.insert(0, sys.argv[1]);"
        "import importlib; [importlib.import_module(m) for m in ('mail', 'mail.models', 'mail.resources.default')];"
        "print('ok')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "out")], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr



# ---- 6. models that import and type-check --------------------------------------------------------

MODELS = """
openapi: 3.1.0
info: {title: shapes, version: "1"}
paths: {}
components:
  schemas:
    Base:
      type: object
      properties:
        kind: {type: string}
        size: {type: integer}
    Sized:
      type: object
      properties:
        size: {type: integer, description: same shape, other words}
    Child:
      allOf:
        - $ref: "#/components/schemas/Base"
        - $ref: "#/components/schemas/Sized"
        - type: object
          properties:
            kind: {type: integer}
            latest: {$ref: "#/components/schemas/Latest"}
            amount: {type: [integer, number], minimum: 0}
            ratio: {const: 1.5}
            settings: {const: {enabled: true}}
            one: {const: 1}
            labels:
              type: object
              x-propertyNames: {pattern: "^[a-z]+$"}
              additionalProperties: {type: string}
    Latest:
      type: integer
      enum: [0, 1]
      default: 0
"""


def test_models_of_awkward_schemas_load_validate_and_type_check(tmp_path: Path) -> None:
    spec = tmp_path / "shapes.yaml"
    spec.write_text(MODELS, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "generator", "generate", str(spec), "-o", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    warnings = result.stderr
    assert "Child/allOf/2/properties/ratio/const: a non-string, non-integer 'const' is not checked" in warnings
    assert "properties/labels/x-propertyNames: 'x-propertyNames' is not checked" in warnings
    import_fresh(tmp_path / "out", "shapes")
    models = importlib.import_module("shapes.models")
    # allOf redefining `kind` with another type: the conflicting part is merged, not inherited
    # (mypy refuses an override of another type); the part without a conflict stays a base.
    assert not issubclass(models.Child, models.Base) and issubclass(models.Child, models.Sized)
    child = models.Child.model_validate({"kind": 3, "size": 2, "amount": 2.5, "ratio": 7.0, "one": 1})
    assert (child.kind, child.size, child.amount, child.ratio) == (3, 2, 2.5, 7.0)
    assert child.latest is models.Latest.INTEGER_0  # the enum's default is a member, not a raw 0
    with pytest.raises(ValueError, match="greater than or equal to 0"):
        models.Child.model_validate({"amount": -1})
    with pytest.raises(ValueError, match="one"):
        models.Child.model_validate({"one": 2})
    assert models.Child.model_validate({"labels": {"Upper": "x"}}).labels == {"Upper": "x"}
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir", str(tmp_path / ".mypy"),
         "shapes"],
        cwd=tmp_path / "out", capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout[-3000:]


# ---- 4. request bodies, each kind as its media type asks ------------------------------------------

BODIES = """
openapi: 3.0.3
info: {title: bodies, version: "1"}
paths:
  /form:
    post:
      operationId: sendForm
      requestBody:
        required: true
        content:
          application/x-www-form-urlencoded:
            schema:
              type: object
              properties:
                grantType: {type: string}
                scope: {type: array, items: {type: string}}
      responses: {"200": {description: ok, content: {application/json: {schema: {type: object}}}}}
  /upload:
    post:
      operationId: upload
      requestBody:
        required: true
        content:
          multipart/form-data:
            schema:
              type: object
              properties:
                title: {type: string}
                file: {type: string, format: binary}
      responses: {"200": {description: ok, content: {application/json: {schema: {type: object}}}}}
  /raw:
    put:
      operationId: putImage
      requestBody:
        required: true
        content:
          image/png:
            schema: {type: string, format: binary}
      responses: {"200": {description: ok, content: {application/json: {schema: {type: object}}}}}
  /note:
    post:
      operationId: postNote
      requestBody:
        required: true
        content:
          text/plain:
            schema: {type: string}
      responses: {"200": {description: ok, content: {application/json: {schema: {type: object}}}}}
  /either:
    post:
      operationId: sendEither
      requestBody:
        required: true
        content:
          application/x-www-form-urlencoded:
            schema: {$ref: "#/components/schemas/Pair"}
          application/json:
            schema: {$ref: "#/components/schemas/Pair"}
      responses: {"200": {description: ok, content: {application/json: {schema: {type: object}}}}}
components:
  schemas:
    Pair:
      type: object
      properties:
        left: {type: string}
        right: {type: integer}
"""


def test_every_body_kind_goes_out_as_its_media_type(
    tmp_path: Path, recorder: tuple[str, list[dict[str, Any]]]
) -> None:
    url, seen = recorder
    package = generate(tmp_path, BODIES, "bodies")
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))  # not UTF-8: must go out untouched
    with package.Client(base_url=url) as client:
        api = client.default
        api.send_form(body={"grantType": "client_credentials", "scope": ["a", "b"]})
        api.upload(body={"title": "cat", "file": ("cat.png", png, "image/png")})
        api.upload(body={"title": "raw", "file": png})
        api.put_image(body=png)
        (tmp_path / "cat.png").write_bytes(png)
        with (tmp_path / "cat.png").open("rb") as handle:
            api.put_image(body=handle)
        api.post_note(body="héllo")
        api.send_either(body={"left": "l", "right": 2})  # JSON by default
        api.send_either(body={"left": "l", "right": 2}, content_type="application/x-www-form-urlencoded")
        with pytest.raises(package.InvalidRequestError, match="not offered"):
            api.send_either(body={"left": "l"}, content_type="text/csv")
    form, upload, upload_bytes, raw, raw_file, note, either_json, either_form = seen
    assert form["headers"]["content-type"] == "application/x-www-form-urlencoded"
    assert form["body"] == b"grantType=client_credentials&scope=a&scope=b"
    assert upload["headers"]["content-type"].startswith("multipart/form-data; boundary=")
    assert b'name="title"\r\n\r\ncat' in upload["body"] and b'filename="cat.png"' in upload["body"]
    assert png in upload["body"] and png in upload_bytes["body"]
    assert raw["headers"]["content-type"] == "image/png" and raw["body"] == png
    assert raw_file["body"] == png
    assert note["headers"]["content-type"] == "text/plain; charset=utf-8" and note["body"] == "héllo".encode()
    assert either_json["headers"]["content-type"] == "application/json"
    assert either_json["body"] == b'{"left":"l","right":2}'
    assert either_form["headers"]["content-type"] == "application/x-www-form-urlencoded"
    assert either_form["body"] == b"left=l&right=2"


def test_these_packages_pass_mypy_strict_and_ruff(tmp_path: Path) -> None:
    for text, name in ((BODIES, "bodies"), (WEBHOOKS, "hooks"), (COOKIES, "cookies"), (EMAIL, "mail")):
        spec = tmp_path / f"{name}.yaml"
        spec.write_text(text, encoding="utf-8")
        assert main(["generate", str(spec), "-o", str(tmp_path / "out"), "--package-name", name, "--quiet"]) == 0
    checks = (
        ["mypy", "--strict", "--no-incremental", "--cache-dir", str(tmp_path / ".mypy"), "bodies", "hooks", "cookies",
         "mail"],
        ["ruff", *RUFF_ON_PACKAGES, "."],
    )  # fmt: skip
    for command in checks:
        result = subprocess.run(
            [sys.executable, "-m", *command], cwd=tmp_path / "out", capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stdout[-3000:]


# ---- 5. query styles and enum parameters ------------------------------------------------------------

QUERY = """
openapi: 3.0.3
info: {title: query, version: "1"}
paths:
  /search:
    get:
      operationId: search
      parameters:
        - {name: tags, in: query, schema: {type: array, items: {type: string}}}
        - {name: ids, in: query, explode: false, schema: {type: array, items: {type: integer}}}
        - {name: words, in: query, style: pipeDelimited, explode: false, schema: {type: array, items: {type: string}}}
        - {name: filter, in: query, style: deepObject, explode: true, schema: {type: object}}
        - {name: order, in: query, schema: {type: string, enum: [asc, desc]}}
      responses: {"200": {description: ok, content: {application/json: {schema: {type: object}}}}}
"""


def test_query_styles_and_enum_parameters(tmp_path: Path, recorder: tuple[str, list[dict[str, Any]]]) -> None:
    url, seen = recorder
    package = generate(tmp_path, QUERY, "query")
    with package.Client(base_url=url) as client:
        client.default.search(
            tags=["a", "b"], ids=[1, 2, 3], words=["x", "y"], filter={"color": "red", "size": 2}, order="desc"
        )
    from urllib.parse import parse_qsl, urlsplit

    sent = parse_qsl(urlsplit(seen[0]["path"]).query)
    assert sent == [
        ("tags", "a"), ("tags", "b"), ("ids", "1,2,3"), ("words", "x|y"), ("order", "desc"),
        ("filter[color]", "red"), ("filter[size]", "2"),
    ]  # fmt: skip
    source = (tmp_path / "out" / "query" / "resources" / "default.py").read_text(encoding="utf-8")
    assert "order: Literal['asc', 'desc'] | None = None" in source.replace('"', "'")
