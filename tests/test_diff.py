"""The API change report (`python -m generator diff`, and the summary of a regeneration).

Every change class is a pair of specs built here: a small base spec and one edit of it.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from generator.diff import Change, Report, bump_version, compare, diff_specs, union_members
from generator.pipeline import generate
from generator.surface import SURFACE_FILE, parse_surface_module, read_recorded

from .conftest import KIBO_SPECS, SPEC, requires_kibo_specs, run_cli

Spec = dict[str, Any]

CART_RESPONSE = {
    "200": {
        "description": "ok",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Cart"}}},
    }
}


def base_spec() -> Spec:
    return {
        "openapi": "3.0.3",
        "info": {"title": "Shop", "version": "1.0.0"},
        "servers": [
            {
                "url": "https://{env}.shop.example/api",
                "description": "Main",
                "variables": {"env": {"default": "sb", "enum": ["sb", "prod"]}},
            }
        ],
        "security": [{"bearerAuth": []}],
        "paths": {
            "/carts/{cartId}": {
                "get": {
                    "tags": ["Carts"],
                    "summary": "Get Cart",
                    "parameters": [
                        {
                            "name": "cartId",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        },
                        {"name": "responseFields", "in": "query", "schema": {"type": "string"}},
                        {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                    ],
                    "responses": copy.deepcopy(CART_RESPONSE),
                }
            },
            "/carts": {
                "post": {
                    "tags": ["Carts"],
                    "summary": "Create Cart",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/CartInput"}
                            }
                        },
                    },
                    "responses": copy.deepcopy(CART_RESPONSE),
                }
            },
        },
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Cart": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "itemCount": {"type": "integer"},
                        "status": {"$ref": "#/components/schemas/CartStatus"},
                    },
                },
                "CartStatus": {"type": "string", "enum": ["open", "closed"]},
                "CartInput": {
                    "type": "object",
                    "required": ["customerId"],
                    "properties": {
                        "customerId": {"type": "integer"},
                        "note": {"type": "string"},
                    },
                },
            },
        },
    }


def _get(spec: Spec) -> Spec:
    return spec["paths"]["/carts/{cartId}"]["get"]  # type: ignore[no-any-return]


def _post(spec: Spec) -> Spec:
    return spec["paths"]["/carts"]["post"]  # type: ignore[no-any-return]


def _add_operation(spec: Spec) -> None:
    spec["paths"]["/carts/{cartId}/items"] = {
        "post": {
            "tags": ["Carts"],
            "summary": "Add Item",
            "parameters": [
                {"name": "cartId", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            "responses": copy.deepcopy(CART_RESPONSE),
        }
    }


def _add_resource(spec: Spec) -> None:
    spec["paths"]["/orders"] = {
        "get": {
            "tags": ["Orders"],
            "summary": "List Orders",
            "responses": {"204": {"description": "none"}},
        }
    }


def _set(path: list[Any], value: Any) -> Callable[[Spec], None]:
    def edit(spec: Spec) -> None:
        node = spec
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value

    return edit


def _delete(path: list[Any]) -> Callable[[Spec], None]:
    def edit(spec: Spec) -> None:
        node = spec
        for part in path[:-1]:
            node = node[part]
        del node[path[-1]]

    return edit


def _param(wire: str, /, **changes: Any) -> Callable[[Spec], None]:
    def edit(spec: Spec) -> None:
        for parameter in _get(spec)["parameters"]:
            if parameter["name"] == wire:
                parameter.update(changes)

    return edit


def _append_param(parameter: Spec) -> Callable[[Spec], None]:
    return lambda spec: _get(spec)["parameters"].append(parameter)


def _drop_param(name: str) -> Callable[[Spec], None]:
    def edit(spec: Spec) -> None:
        _get(spec)["parameters"] = [p for p in _get(spec)["parameters"] if p["name"] != name]

    return edit


def _both(*edits: Callable[[Spec], None]) -> Callable[[Spec], None]:
    def edit(spec: Spec) -> None:
        for one in edits:
            one(spec)

    return edit


CART = ["components", "schemas", "Cart", "properties"]
INPUT = ["components", "schemas", "CartInput"]

# (id, edit of the base spec, group, subject, kind, breaking)
CASES: list[tuple[str, Callable[[Spec], None], str, str, str, bool]] = [
    ("operation added", _add_operation, "client.carts", "add_item()", "added", False),
    ("resource added", _add_resource, "client.orders", "client.orders", "added", False),
    (
        "operation removed",
        _delete(["paths", "/carts"]),
        "client.carts",
        "create_cart()",
        "removed",
        True,
    ),
    (
        "operation renamed by a new summary (old name kept as a deprecated alias)",
        lambda s: _get(s).update(summary="Fetch Cart"),
        "client.carts",
        "fetch_cart()",
        "renamed",
        False,
    ),
    (
        "optional parameter added",
        _append_param({"name": "currency", "in": "query", "schema": {"type": "string"}}),
        "client.carts",
        "get_cart(currency=)",
        "added",
        False,
    ),
    (
        "required parameter added",
        _append_param(
            {"name": "siteId", "in": "header", "required": True, "schema": {"type": "integer"}}
        ),
        "client.carts",
        "get_cart(site_id=)",
        "added",
        True,
    ),
    (
        "parameter removed",
        _drop_param("limit"),
        "client.carts",
        "get_cart(limit=)",
        "removed",
        True,
    ),
    (
        "parameter renamed",
        _param("limit", name="pageSize"),
        "client.carts",
        "get_cart(page_size=)",
        "renamed",
        True,
    ),
    (
        "parameter narrowed",
        _param("responseFields", schema={"type": "integer"}),
        "client.carts",
        "get_cart(response_fields=)",
        "changed",
        True,
    ),
    (
        "parameter widened",
        _param("limit", schema={"type": "number"}),
        "client.carts",
        "get_cart(limit=)",
        "changed",
        False,
    ),
    (
        "parameter now required",
        _param("limit", required=True),
        "client.carts",
        "get_cart(limit=)",
        "changed",
        True,
    ),
    (
        "request body now optional",
        lambda s: _post(s)["requestBody"].update(required=False),
        "client.carts",
        "create_cart(body=)",
        "changed",
        False,
    ),
    (
        "request field now required",
        _set([*INPUT, "required"], ["customerId", "note"]),
        "model CartInput",
        "note",
        "changed",
        True,
    ),
    (
        "optional request field added",
        _set([*INPUT, "properties", "coupon"], {"type": "string"}),
        "model CartInput",
        "coupon",
        "added",
        False,
    ),
    (
        "required request field added",
        _both(
            _set([*INPUT, "properties", "siteId"], {"type": "integer"}),
            _set([*INPUT, "required"], ["customerId", "siteId"]),
        ),
        "model CartInput",
        "site_id",
        "added",
        True,
    ),
    (
        "response field added",
        _set([*CART, "total"], {"type": "number"}),
        "model Cart",
        "total",
        "added",
        False,
    ),
    ("response field removed", _delete([*CART, "id"]), "model Cart", "id", "removed", True),
    (
        "response field retyped",
        _set([*CART, "itemCount"], {"type": "string"}),
        "model Cart",
        "item_count",
        "changed",
        True,
    ),
    (
        "response field renamed",
        _both(_delete([*CART, "itemCount"]), _set([*CART, "itemsCount"], {"type": "integer"})),
        "model Cart",
        "items_count",
        "renamed",
        True,
    ),
    (
        "enum value added",
        _set(["components", "schemas", "CartStatus", "enum"], ["open", "closed", "abandoned"]),
        "model CartStatus",
        "'abandoned'",
        "added",
        False,
    ),
    (
        "enum value removed",
        _set(["components", "schemas", "CartStatus", "enum"], ["open"]),
        "model CartStatus",
        "'closed'",
        "removed",
        True,
    ),
    (
        "model added",
        _set(
            ["components", "schemas", "Coupon"],
            {"type": "object", "properties": {"code": {"type": "string"}}},
        ),
        "model Coupon",
        "Coupon",
        "added",
        False,
    ),
    (
        "return type changed",
        lambda s: _get(s)["responses"]["200"]["content"]["application/json"].update(
            schema={"$ref": "#/components/schemas/CartInput"}
        ),
        "client.carts",
        "get_cart()",
        "changed",
        True,
    ),
    (
        "server added",
        lambda s: s["servers"].append({"url": "https://eu.shop.example/api", "description": "EU"}),
        "servers",
        "https://eu.shop.example/api",
        "added",
        False,
    ),
    (
        "default server changed",
        lambda s: s["servers"].insert(
            0, {"url": "https://eu.shop.example/api", "description": "EU"}
        ),
        "servers",
        "Client() default base URL",
        "changed",
        True,
    ),
    (
        "server variable value removed",
        _set(["servers", 0, "variables", "env", "enum"], ["prod"]),
        "servers",
        "https://{env}.shop.example/api env=",
        "removed",
        True,
    ),
    (
        "server variable value added",
        _set(["servers", 0, "variables", "env", "enum"], ["sb", "prod", "stg"]),
        "servers",
        "https://{env}.shop.example/api env=",
        "added",
        False,
    ),
    (
        "security scheme added",
        _set(
            ["components", "securitySchemes", "apiKey"],
            {"type": "apiKey", "in": "header", "name": "x-key"},
        ),
        "security",
        "apiKey",
        "added",
        False,
    ),
    (
        "stricter security",
        _both(
            _set(
                ["components", "securitySchemes", "apiKey"],
                {"type": "apiKey", "in": "header", "name": "x-key"},
            ),
            lambda s: _get(s).update(security=[{"bearerAuth": [], "apiKey": []}]),
        ),
        "client.carts",
        "get_cart()",
        "changed",
        True,
    ),
    (
        "no auth needed any more",
        lambda s: _get(s).update(security=[]),
        "client.carts",
        "get_cart()",
        "changed",
        False,
    ),
    (
        "security scheme removed",
        _delete(["components", "securitySchemes", "bearerAuth"]),
        "security",
        "bearerAuth",
        "removed",
        True,
    ),
]


def write(path: Path, spec: Spec) -> Path:
    path.write_text(json.dumps(spec, indent=1), encoding="utf-8")
    return path


def _pair(tmp_path: Path, edit: Callable[[Spec], None]) -> tuple[Path, Path]:
    new = base_spec()
    edit(new)
    return write(tmp_path / "old.json", base_spec()), write(tmp_path / "new.json", new)


@pytest.mark.parametrize(
    ("edit", "group", "subject", "kind", "breaking"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_each_change_class_is_reported_and_judged(
    tmp_path: Path,
    edit: Callable[[Spec], None],
    group: str,
    subject: str,
    kind: str,
    breaking: bool,
) -> None:
    old, new = _pair(tmp_path, edit)
    report = diff_specs(old, new)
    found = [c for c in report.changes if (c.group, c.subject, c.kind) == (group, subject, kind)]
    assert found, "\n".join(report.lines())
    assert [c.breaking for c in found] == [breaking] * len(found), "\n".join(report.lines())
    if breaking:
        assert report.bump == "major"


def test_same_spec_reports_nothing(tmp_path: Path) -> None:
    path = write(tmp_path / "spec.json", base_spec())
    report = diff_specs(path, path)
    assert report.changes == ()
    assert report.bump == "none" and report.suggested_version == "1.0.0"  # nothing to release
    assert "no changes" in report.text()


def test_two_routes_of_one_shape_are_not_crossed_over(tmp_path: Path) -> None:
    """Kibo's commerce spec has `GET /orders/{orderId}/items/{lineId}` beside `.../{orderItemId}`:
    one route shape, two methods. An unchanged spec must report nothing, not a swap of the two."""
    spec = base_spec()
    for wire in ("lineId", "itemId"):
        spec["paths"][f"/carts/{{cartId}}/items/{{{wire}}}"] = {
            "get": {
                "tags": ["Carts"],
                "summary": "Get Cart Item",
                "parameters": [
                    {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                    for name in ("cartId", wire)
                ],
                "responses": copy.deepcopy(CART_RESPONSE),
            }
        }
    path = write(tmp_path / "spec.json", spec)
    report = diff_specs(path, path)
    assert report.changes == (), "\n".join(report.lines())


def test_report_groups_by_resource_and_model(tmp_path: Path) -> None:
    old, new = _pair(
        tmp_path,
        _both(_add_operation, _delete([*CART, "id"]), _set([*CART, "total"], {"type": "number"})),
    )
    text = diff_specs(old, new).text()
    lines = text.splitlines()
    assert lines[0].startswith("API changes: shop 1.0.0 (spec 1.0.0) → shop 1.0.0")
    assert "client.carts" in lines and "model Cart" in lines
    assert lines.index("client.carts") < lines.index("model Cart")
    assert "  compatible  add_item(): new method (POST /carts/{cartId}/items)" in lines
    assert "  BREAKING    id: field removed (wire `id`)" in lines
    assert lines[-1] == "1 breaking, 2 compatible → suggested version bump: major (1.0.0 → 2.0.0)"


def test_cli_text_json_and_exit_codes(tmp_path: Path) -> None:
    old, new = _pair(tmp_path, _both(_add_operation, _drop_param("limit")))
    text = run_cli("diff", str(old), str(new))
    assert text.returncode == 0, text.stderr
    assert "BREAKING    get_cart(limit=): parameter removed (query `limit`)" in text.stdout

    as_json = run_cli("diff", str(old), str(new), "--format", "json", "--fail-on-breaking")
    assert as_json.returncode == 1, as_json.stderr
    data = json.loads(as_json.stdout)
    assert as_json.stdout == json.dumps(data, indent=2, sort_keys=True) + "\n"
    assert (data["breaking"], data["compatible"], data["bump"], data["suggested_version"]) == (
        1,
        1,
        "major",
        "2.0.0",
    )
    fingerprint = data["changes"][0].pop("fingerprint")
    assert len(fingerprint) == 16 and int(fingerprint, 16) >= 0  # the same change keeps it (below)
    assert data["changes"][0] == {
        "breaking": False,
        "group": "client.carts",
        "kind": "added",
        "message": "new method (POST /carts/{cartId}/items)",
        "subject": "add_item()",
    }
    assert data["old"] == {"package": "shop", "package_version": "1.0.0", "spec_version": "1.0.0"}

    compatible_only = run_cli("diff", str(old), str(old), "--fail-on-breaking")
    assert compatible_only.returncode == 0


def test_cli_bad_input_exits_2_with_every_problem(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("openapi: 3.0.3\ninfo: [unclosed\n")
    result = run_cli("diff", str(broken), str(tmp_path / "missing.yaml"))
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert any(line.startswith(f"error: {broken}:") and "invalid YAML" in line for line in lines), (
        lines
    )
    assert f"error: {tmp_path / 'missing.yaml'}: file not found" in lines
    assert "Traceback" not in result.stderr


def test_output_is_deterministic(tmp_path: Path) -> None:
    old, new = _pair(tmp_path, _both(_add_operation, _add_resource, _delete([*CART, "id"])))
    first, second = diff_specs(old, new), diff_specs(old, new)
    assert first.to_json() == second.to_json() and first.text() == second.text()


def test_version_bumps() -> None:
    assert bump_version("1.4.2", "major") == "2.0.0"
    assert bump_version("1.4.2", "minor") == "1.5.0"
    assert bump_version("1.4.2", "patch") == "1.4.3"
    assert bump_version("v2", "minor") == "2.1.0"
    assert union_members("list[A | B] | None") == {"list[A | B]", "None"}
    added = Change("model X", "x", "added", False, "")
    changed = Change("model X", "y", "changed", False, "")
    meta = {"package": "p", "package_version": "1.0.0", "spec_version": "1"}
    assert Report(meta, meta, (added,)).bump == "minor"
    assert Report(meta, meta, (changed,)).bump == "patch"


# ---- the real pair: Kibo's published auth-ticket operations vs our spec ----------------------
def published_auth_tickets() -> Spec:
    """The /commerce/customer/authtickets* operations of Kibo's published customer spec and
    every schema they reach."""
    document = json.loads((KIBO_SPECS / "openapi_customer.json").read_text(encoding="utf-8"))
    paths = {
        p: item
        for p, item in document["paths"].items()
        if p.startswith("/commerce/customer/authtickets")
    }
    schemas = document["components"]["schemas"]
    reached: set[str] = set()
    pending: list[str] = []

    def refs(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                pending.append(ref.rsplit("/", 1)[1])
            for value in node.values():
                refs(value)
        elif isinstance(node, list):
            for value in node:
                refs(value)

    refs(paths)
    while pending:
        name = pending.pop()
        if name not in reached:
            reached.add(name)
            refs(schemas[name])
    subset = {
        key: document[key] for key in ("openapi", "info", "servers", "security") if key in document
    }
    subset["paths"] = paths
    subset["components"] = {
        "schemas": {name: schemas[name] for name in sorted(reached)},
        "securitySchemes": document["components"]["securitySchemes"],
    }
    return subset


@requires_kibo_specs
def test_published_spec_to_ours_reports_2fa_additions_as_compatible(tmp_path: Path) -> None:
    published = published_auth_tickets()
    assert len(published["paths"]) == 4
    old = write(tmp_path / "published.json", published)
    report = diff_specs(old, SPEC, "kibo_authtickets")
    by_subject = {(c.group, c.subject): c for c in report.changes}
    expected_compatible = {
        ("model CustomerAuthTicket", "requires_2fa"),
        ("model CustomerAccount", "last_2fa_date"),
        ("client.storefront_auth_ticket", "request_two_factor_code()"),
        ("client.storefront_auth_ticket", "two_factor_auth()"),
        ("client.storefront_auth_ticket", "request_otp()"),
        ("client.storefront_auth_ticket", "otp_auth()"),
        ("model TwoFactorAuthRequest", "TwoFactorAuthRequest"),
        ("model OtpRequest", "OtpRequest"),
        ("model OtpAuthRequest", "OtpAuthRequest"),
    }
    for key in expected_compatible:
        assert key in by_subject, "\n".join(report.lines())
        assert by_subject[key].kind == "added" and not by_subject[key].breaking
    # The four published operations keep their names; nothing 2FA/OTP-related is breaking.
    for name in (
        "create_user_auth_ticket",
        "refresh_user_auth_ticket",
        "create_anonymous_shopper_auth_ticket",
        "impersonate_cart",
    ):
        assert not [
            c
            for c in report.changes
            if c.subject == f"{name}()" and c.kind in ("removed", "renamed")
        ]
    for change in report.breaking:
        assert not any(
            word in change.subject.lower() for word in ("2fa", "2_fa", "otp", "two_factor")
        )
    assert report.bump == ("major" if report.breaking else "minor")


# ---- the regeneration summary and the surface recorded in the package ------------------------
def test_regeneration_reports_changes_against_the_previous_package(tmp_path: Path) -> None:
    out = tmp_path / "out"
    old_spec = base_spec()
    first = generate(write(tmp_path / "v1.json", old_spec), out, "shop")
    assert not [line for line in first.lines() if "API changes" in line]  # nothing to compare with
    package = out / "shop"
    recorded = read_recorded(package)
    assert recorded is not None and recorded["package_version"] == "1.0.0"
    text = (package / SURFACE_FILE).read_text()
    assert text.startswith("# Generated by kibo-codegen") and "_version.py" in text.splitlines()[1]

    new_spec = base_spec()
    _add_operation(new_spec)
    new_spec["info"]["x-package-version"] = "1.1.0"
    new_spec["info"]["version"] = "1.0.7"
    second = generate(write(tmp_path / "v2.json", new_spec), out, "shop")
    lines = second.lines()
    assert "API changes: shop 1.0.0 (spec 1.0.0) → shop 1.1.0 (spec 1.0.7)" in lines
    assert "  compatible  add_item(): new method (POST /carts/{cartId}/items)" in lines
    assert "0 breaking, 1 compatible → suggested version bump: minor (1.0.0 → 1.1.0)" in lines
    assert "  package version 1.0.0 → 1.1.0" in lines
    version = (package / "_version.py").read_text()
    assert '__version__ = "1.1.0"' in version and '__spec_version__ = "1.0.7"' in version

    del new_spec["info"]["x-package-version"]
    _delete([*CART, "id"])(new_spec)
    third = generate(write(tmp_path / "v3.json", new_spec), out, "shop")
    assert any(
        line.startswith("  warning: package version 1.1.0 → 1.0.7") for line in third.lines()
    )

    again = generate(tmp_path / "v3.json", out, "shop")
    assert again.lines()[-1] == "api changes: none"


def test_surface_module_round_trips_and_is_deterministic(tmp_path: Path) -> None:
    spec = write(tmp_path / "spec.json", base_spec())
    generate(spec, tmp_path / "a", "shop")
    generate(spec, tmp_path / "b", "shop")
    first = (tmp_path / "a" / "shop" / SURFACE_FILE).read_bytes()
    assert first == (tmp_path / "b" / "shop" / SURFACE_FILE).read_bytes()
    surface = parse_surface_module(first.decode())
    assert surface is not None
    assert compare(surface, surface).changes == ()
    fields = surface["models"]["Cart"]["fields"]
    assert fields["item_count"] == {"alias": "itemCount", "required": False, "type": "int | None"}
    assert surface["models"]["Cart"]["used_in"] == ["response"]
    assert surface["models"]["CartInput"]["used_in"] == ["request"]
    assert surface["models"]["CartStatus"]["values"] == ["closed", "open"]
    get_cart = surface["resources"]["carts"]["operations"]["get_cart"]
    assert get_cart["parameters"]["cart_id"] == {
        "in": "path",
        "name": "cartId",
        "required": True,
        "type": "str",
    }
    assert parse_surface_module("SURFACE_JSON = r'''not json'''") is None
    assert parse_surface_module("x = 1") is None
