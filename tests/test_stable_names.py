"""Issue 14: a regeneration keeps callers working. Renamed summaries, schemas and tags stay usable
as deprecated aliases (runtime warning, `deprecated` for type checkers), persist until
`--drop-deprecated`, and `diff` reports them as compatible renames; `deprecated: true` in the spec
and `Deprecation`/`Sunset` response headers warn; per-file headers are constant."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from generator.__main__ import main
from generator.diff import diff_specs

from .conftest import KIBO_SPECS, models_source, requires_kibo_specs

SHIPPING = KIBO_SPECS / "openapi_shipping_admin.json"
ROUTE = "/commerce/shipping/admin/carriers/{carrierId}"


class _Answer(http.server.BaseHTTPRequestHandler):
    """Answers every request with one JSON object (and the headers in `extra`), recording paths."""

    body: ClassVar[dict[str, Any]] = {}  # or, by a path fragment, {fragment: body}
    extra: ClassVar[dict[str, str]] = {}
    seen: ClassVar[list[str]] = []

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).seen.append(f"{self.command} {self.path}")
        body = type(self).body
        by_path = [value for key, value in body.items() if key.startswith("/") and key in self.path]
        data = json.dumps(by_path[0] if by_path else body.get("/", body)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in type(self).extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve(body: dict[str, Any], extra: dict[str, str] | None = None) -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []
    handler = type("Answer", (_Answer,), {"body": body, "extra": extra or {}, "seen": seen})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/api", seen
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture()
def carrier_server() -> Iterator[tuple[str, list[str]]]:
    yield from serve({"/credential-sets/": {"carrierId": "ups"}, "/": {"id": "ups", "enabled": True}})


# Written against the package from the old spec; it must keep working after the renames.
OLD_SCRIPT = '''
from __future__ import annotations

import asyncio
import os

from ship import AsyncClient, Client
from ship.models import CarrierConfiguration

URL = os.environ["BASE_URL"]


def show(config: CarrierConfiguration) -> str:
    return f"{config.id} {config.enabled}"


def main() -> None:
    with Client(base_url=URL, access_token="t", tenant_id="1", site_id="1") as client:
        print(show(client.carrier_configuration.get_carrier_configuration_information(carrier_id="ups")))
        raw = client.carrier_configuration.with_raw_response.get_carrier_configuration_information(carrier_id="ups")
        print(raw.status_code)
        body = CarrierConfiguration(id="ups", enabled=True)
        print(show(client.carrier_configuration.create_carrier_configuration(carrier_id="ups", body=body)))
        client.carrier_credential_set.get_carrier_credential_set(carrier_id="ups", code="c")

    async def run() -> None:
        async with AsyncClient(base_url=URL, access_token="t", tenant_id="1", site_id="1") as client:
            config = await client.carrier_configuration.get_carrier_configuration_information(carrier_id="ups")
            print(show(config))

    asyncio.run(run())


main()
'''

# The same calls with the new names: no warning at all.
NEW_SCRIPT = (
    OLD_SCRIPT.replace("CarrierConfiguration", "ShippingCarrierConfiguration")
    .replace("get_carrier_configuration_information", "get_carrier_configuration")
    .replace("client.carrier_credential_set.", "client.carrier_credential_sets.")
)


def renamed_like_kibo(document: dict[str, Any]) -> dict[str, Any]:
    """What Kibo's spec history does: a summary edited, a schema renamed with the same
    properties (every $ref to it too), a tag renamed."""
    document["paths"][ROUTE]["get"]["summary"] = "Get Carrier Configuration"
    text = json.dumps(document).replace(
        '"#/components/schemas/CarrierConfiguration"', '"#/components/schemas/ShippingCarrierConfiguration"'
    )
    document = json.loads(text)
    schemas = document["components"]["schemas"]
    schemas["ShippingCarrierConfiguration"] = schemas.pop("CarrierConfiguration")
    for item in document["paths"].values():
        for op in item.values():
            if isinstance(op, dict) and op.get("tags") == ["CarrierCredentialSet"]:
                op["tags"] = ["Carrier Credential Sets"]
    return document


def run_script(script: Path, out: Path, url: str, *warning_flags: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(out), "BASE_URL": url}
    return subprocess.run(
        [sys.executable, *warning_flags, str(script)], capture_output=True, text=True, timeout=120, env=env
    )


def mypy(script: Path, out: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir", str(out / ".mypy"), *flags,
         str(script)],
        capture_output=True, text=True, timeout=300, env={**os.environ, "MYPYPATH": str(out)},
    )  # fmt: skip


def generate(spec: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "generator", "generate", str(spec), "-o", str(out), "--package-name", "ship", *extra],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip


@requires_kibo_specs
def test_a_kibo_rename_survives_regeneration(tmp_path: Path, carrier_server: tuple[str, list[str]]) -> None:
    url, seen = carrier_server
    # The spec file keeps its name across an update (it is named in every header).
    old_spec, new_spec = tmp_path / "v1" / "shipping.json", tmp_path / "v2" / "shipping.json"
    old_spec.parent.mkdir()
    new_spec.parent.mkdir()
    document = json.loads(SHIPPING.read_text(encoding="utf-8"))
    old_spec.write_text(json.dumps(document), encoding="utf-8")
    new_spec.write_text(json.dumps(renamed_like_kibo(document)), encoding="utf-8")
    out = tmp_path / "out"
    old_script, new_script = tmp_path / "old_user.py", tmp_path / "new_user.py"
    old_script.write_text(OLD_SCRIPT, encoding="utf-8")
    new_script.write_text(NEW_SCRIPT, encoding="utf-8")

    assert generate(old_spec, out).returncode == 0
    before = run_script(old_script, out, url)
    assert before.returncode == 0, before.stderr
    untouched = (out / "ship" / "resources" / "shipping_profile.py").read_bytes()

    regenerated = generate(new_spec, out)
    assert regenerated.returncode == 0, regenerated.stderr
    report = regenerated.stdout
    assert "0 breaking, 4 compatible" in report, report
    assert (
        "renamed `client.carrier_configuration.get_carrier_configuration_information()` → "
        "`get_carrier_configuration()`" in report
    )
    assert "renamed `CarrierConfiguration` → `ShippingCarrierConfiguration`; old name kept" in report
    assert "renamed `client.carrier_credential_set` → `client.carrier_credential_sets`; old name kept" in report
    # Constant headers: a file the change did not touch is byte-identical (quiet vendored diffs).
    assert (out / "ship" / "resources" / "shipping_profile.py").read_bytes() == untouched

    # The old script runs unchanged (warnings allowed) and type-checks; the same calls reach the server.
    seen.clear()
    after = run_script(old_script, out, url, "-W", "always::DeprecationWarning")
    assert after.returncode == 0, after.stderr
    assert after.stdout == before.stdout
    assert f"GET /api{ROUTE.replace('{carrierId}', 'ups')}" in seen
    for name in ("CarrierConfiguration", "get_carrier_configuration_information", "client.carrier_credential_set"):
        assert f"`{name}` was renamed" in after.stderr, after.stderr
    checked = mypy(old_script, out)
    assert checked.returncode == 0, checked.stdout
    # Type checkers see the deprecation (mypy reports it when asked to).
    flagged = mypy(old_script, out, "--enable-error-code", "deprecated")
    assert "get_carrier_configuration_information" in flagged.stdout and "deprecated" in flagged.stdout

    # With warnings as errors the old names fail, the new ones pass.
    strict_old = run_script(old_script, out, url, "-W", "error::DeprecationWarning")
    assert strict_old.returncode != 0 and "DeprecationWarning" in strict_old.stderr
    strict_new = run_script(new_script, out, url, "-W", "error::DeprecationWarning")
    assert strict_new.returncode == 0, strict_new.stderr
    assert mypy(new_script, out, "--enable-error-code", "deprecated").returncode == 0

    # `diff` between the two specs says the same.
    diffed = diff_specs(old_spec, new_spec, "ship")
    assert not diffed.breaking and {c.kind for c in diffed.changes} == {"renamed", "added"}

    # The aliases persist: regenerating again changes nothing, and `check` is clean.
    again = generate(new_spec, out)
    assert "api changes: none" in again.stdout, again.stdout
    check = subprocess.run(
        [sys.executable, "-m", "generator", "check", str(new_spec), "-o", str(out), "--package-name", "ship"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert check.returncode == 0, check.stdout
    assert run_script(old_script, out, url).returncode == 0

    # --drop-deprecated removes them: reported as breaking, and the old script fails.
    dropped = generate(new_spec, out, "--drop-deprecated")
    assert dropped.returncode == 0, dropped.stderr
    assert "3 breaking" in dropped.stdout and "deprecated alias removed" in dropped.stdout
    assert "bump: major" in dropped.stdout
    assert run_script(old_script, out, url).returncode != 0
    assert run_script(new_script, out, url).returncode == 0
    assert diff_specs(old_spec, new_spec, "ship", drop_deprecated=True).bump == "major"


def test_a_tampered_surface_cannot_name_code(tmp_path: Path) -> None:
    """The previous `_surface.py` is a file anyone may have edited: its names become aliases only
    when they are safe, unused identifiers."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(DEPRECATIONS, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["generate", str(spec), "-o", str(out), "-q"]) == 0
    surface_file = out / "dep" / "_surface.py"
    text = surface_file.read_text(encoding="utf-8")
    start = text.index('r"""') + 4
    surface = json.loads(text[start : text.index('"""', start)])
    surface["deprecated"] = {
        "methods": {"default": {"__init__": {"route": "GET /old"}, "os.system('x')": {"route": "GET /old"}}},
        "models": {"__getattr__": "Thing", "import os": "Thing", "Field": "Thing", "Old": "Thing"},
        "resources": {"close": "default", "_client": "default"},
    }
    surface_file.write_text(text[:start] + json.dumps(surface) + text[text.index('"""', start) :], encoding="utf-8")
    assert main(["generate", str(spec), "-o", str(out), "-q"]) == 0
    models = (out / "dep" / "models" / "__init__.py").read_text(encoding="utf-8") + models_source(out / "dep")
    assert "Old: TypeAlias = Thing" in models or "class Old(Thing)" in models  # the one safe name
    assert '"__getattr__": ' not in models and "import os" not in models and '"Field": ' not in models
    client = (out / "dep" / "_client.py").read_text(encoding="utf-8")
    resource = (out / "dep" / "resources" / "default.py").read_text(encoding="utf-8")
    assert "os.system" not in resource and resource.count("def __init__") == 2  # the raw-response classes'
    assert "deprecated" not in client  # `close` and `_client` are the clients' own: no alias
    assert json.loads(text[start : text.index('"""', start)]).get("deprecated") is None  # the first run's


# ---- deprecated: true in the spec, and the server's Deprecation/Sunset headers -------------------

DEPRECATIONS = """
openapi: 3.0.3
info: {title: dep, version: "1"}
paths:
  /old:
    get:
      operationId: getOld
      deprecated: true
      responses: {"200": {description: ok, content: {application/json: {schema: {$ref: "#/components/schemas/Thing"}}}}}
  /things:
    get:
      operationId: listThings
      parameters:
        - {name: legacyFilter, in: query, deprecated: true, schema: {type: string}}
        - {name: q, in: query, schema: {type: string}}
      responses: {"200": {description: ok, content: {application/json: {schema: {$ref: "#/components/schemas/Thing"}}}}}
components:
  schemas:
    Thing:
      type: object
      properties:
        legacyName: {type: string, deprecated: true}
        name: {type: string}
"""


def test_spec_deprecations_warn_and_are_documented(tmp_path: Path) -> None:
    spec = tmp_path / "dep.yaml"
    spec.write_text(DEPRECATIONS, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["generate", str(spec), "-o", str(out), "-q"]) == 0
    readme = (out / "dep" / "README.md").read_text(encoding="utf-8")
    assert "`get_old` — `GET /old` (Deprecated)" in readme
    script = tmp_path / "use.py"
    script.write_text(
        "import asyncio, inspect, os, warnings\n"
        "from dep import AsyncClient, Client\n"
        "URL = os.environ['BASE_URL']\n"
        "with Client(base_url=URL) as client:\n"
        "    assert 'Deprecated' in (client.default.get_old.__doc__ or '')\n"
        "    with warnings.catch_warnings(record=True) as caught:\n"
        "        warnings.simplefilter('always')\n"
        "        thing = client.default.get_old()\n"
        "        client.default.list_things(q='x')\n"
        "        n_quiet = len(caught)\n"
        "        client.default.list_things(legacy_filter='x')\n"
        "        thing.legacy_name\n"
        "    print(n_quiet, [str(w.message) for w in caught if w.category is DeprecationWarning])\n"
        "async def run() -> None:\n"
        "    async with AsyncClient(base_url=URL) as client:\n"
        "        assert inspect.iscoroutinefunction(client.default.get_old)\n"
        "        with warnings.catch_warnings(record=True) as caught:\n"
        "            warnings.simplefilter('always')\n"
        "            await client.default.get_old()\n"
        "        print(len(caught))\n"
        "asyncio.run(run())\n",
        encoding="utf-8",
    )
    for url, _ in serve({"name": "n", "legacyName": "l"}):
        result = run_script(script, out, url.removesuffix("/api"))
        assert result.returncode == 0, result.stderr
        messages, async_count = result.stdout.splitlines()
        assert messages.split(" ", 1)[0] == "1", result.stdout  # only the deprecated operation warned
        assert "`get_old` (GET /old) is deprecated in the API spec" in messages
        assert "parameter `legacy_filter` of `list_things` is deprecated in the API spec" in messages
        assert messages.endswith("'deprecated']")  # the deprecated property, when read (pydantic says so)
        assert async_count == "1"
    # Type checkers see the deprecated operation.
    user = tmp_path / "typed.py"
    user.write_text("from dep import Client\nClient(base_url='http://x').default.get_old()\n", encoding="utf-8")
    flagged = mypy(user, out, "--enable-error-code", "deprecated")
    assert "get_old" in flagged.stdout and "deprecated" in flagged.stdout, flagged.stdout


def test_deprecation_and_sunset_headers_log_once_per_operation(tmp_path: Path) -> None:
    spec = tmp_path / "dep.yaml"
    spec.write_text(DEPRECATIONS, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["generate", str(spec), "-o", str(out), "-q"]) == 0
    script = tmp_path / "calls.py"
    script.write_text(
        "import logging, os\n"
        "from dep import Client\n"
        "logging.basicConfig(level=logging.WARNING, format='%(name)s %(levelname)s %(message)s')\n"
        "with Client(base_url=os.environ['BASE_URL']) as client:\n"
        "    for _ in range(3):\n"
        "        client.default.list_things(q='a')\n"
        "    client.default.list_things(q='b')\n",
        encoding="utf-8",
    )
    headers = {"Deprecation": "@1735689600", "Sunset": "Wed, 31 Dec 2025 23:59:59 GMT"}
    for url, seen in serve({"name": "n"}, headers):
        result = run_script(script, out, url.removesuffix("/api"))
        assert result.returncode == 0, result.stderr
        assert len(seen) == 4
    lines = [line for line in result.stderr.splitlines() if "deprecated" in line]
    assert len(lines) == 1, result.stderr
    assert "GET /things" in lines[0] and "@1735689600" in lines[0] and "2025" in lines[0]
    assert lines[0].startswith("dep WARNING")


@pytest.mark.parametrize(
    "broken",
    [
        {"resources": []},
        {"resources": {"default": {"class": "Default", "operations": {"get_old": {"method": 1}}}}},
        {"resources": {"default": {"operations": {"get_old": {}}}}},
        {"models": {"Thing": {"kind": "model", "fields": {"name": {"type": "str"}}}}},
        {"deprecated": {"methods": ["x"]}},
    ],
)
def test_a_malformed_surface_is_ignored_not_a_crash(tmp_path: Path, broken: dict[str, Any]) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(DEPRECATIONS, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["generate", str(spec), "-o", str(out), "-q"]) == 0
    surface_file = out / "dep" / "_surface.py"
    text = surface_file.read_text(encoding="utf-8")
    start = text.index('r"""') + 4
    surface = {**json.loads(text[start : text.index('"""', start)]), **broken}
    surface_file.write_text(text[:start] + json.dumps(surface) + text[text.index('"""', start) :], encoding="utf-8")
    assert main(["generate", str(spec), "-o", str(out), "-q"]) == 0  # as if there were no previous surface
    assert main(["check", str(spec), "-o", str(out)]) == 0


ENUMS = """
openapi: 3.0.3
info: {title: enums, version: "1"}
paths:
  /orders:
    get:
      operationId: listOrders
      parameters:
        - {name: status, in: query, schema: {$ref: "#/components/schemas/Status"}}
      responses:
        "200": {description: ok, content: {application/json: {schema: {$ref: "#/components/schemas/Status"}}}}
components:
  schemas:
    Status:
      type: integer
      enum: [1, 2]
      x-enum-varnames: [%s, CLOSED]
"""


def test_a_renamed_enum_member_keeps_its_old_name(tmp_path: Path) -> None:
    """`x-enum-varnames` renamed a member, its value unchanged: the old name stays an alias."""
    out = tmp_path / "out"
    (tmp_path / "v1").mkdir()
    (tmp_path / "v2").mkdir()
    old_spec, new_spec = tmp_path / "v1" / "enums.yaml", tmp_path / "v2" / "enums.yaml"
    old_spec.write_text(ENUMS % "OPEN", encoding="utf-8")
    new_spec.write_text(ENUMS % "IN_PROGRESS", encoding="utf-8")
    assert main(["generate", str(old_spec), "-o", str(out), "-q"]) == 0
    script = tmp_path / "uses_enum.py"
    script.write_text(
        "from enums.models import Status\n\nassert Status.OPEN.value == 1\nprint(Status(1).name)\n", encoding="utf-8"
    )
    regenerated = generate(new_spec, out, "--package-name", "enums")
    assert regenerated.returncode == 0, regenerated.stderr
    assert "renamed member `OPEN` → `IN_PROGRESS`; old name kept as a deprecated alias" in regenerated.stdout
    assert "0 breaking" in regenerated.stdout
    ran = run_script(script, out, "http://unused")
    assert ran.returncode == 0 and ran.stdout.strip() == "IN_PROGRESS", ran.stderr  # one member, two names
    assert mypy(script, out).returncode == 0
    again = generate(new_spec, out, "--package-name", "enums")
    assert "api changes: none" in again.stdout, again.stdout  # persisted
    dropped = generate(new_spec, out, "--package-name", "enums", "--drop-deprecated")
    assert "BREAKING" in dropped.stdout and run_script(script, out, "http://unused").returncode != 0


def test_tampered_enum_member_aliases_take_only_safe_names(tmp_path: Path) -> None:
    spec = tmp_path / "enums.yaml"
    spec.write_text(ENUMS % "OPEN", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["generate", str(spec), "-o", str(out), "-q"]) == 0
    surface_file = out / "enums" / "_surface.py"
    text = surface_file.read_text(encoding="utf-8")
    start = text.index('r"""') + 4
    surface = json.loads(text[start : text.index('"""', start)])
    hostile = {"os.system('x')": "CLOSED", "__init__": "CLOSED", "_value_": "OPEN", "OPEN": "CLOSED", "LEGACY": "OPEN"}
    surface["deprecated"] = {"enum_members": {"Status": hostile}}
    surface_file.write_text(text[:start] + json.dumps(surface) + text[text.index('"""', start) :], encoding="utf-8")
    assert main(["generate", str(spec), "-o", str(out), "-q"]) == 0
    models = models_source(out / "enums")
    assert "LEGACY = 1" in models  # the one safe, unused name
    assert "os.system" not in models and "__init__" not in models and "_value_" not in models
    assert models.count("OPEN = 1") == 1  # a real member is never re-bound
