"""Awkward spec names become valid, distinct Python identifiers that still send the wire name.

`tests/fixtures/identifiers.yaml` is purpose-built: keywords, leading digits, `-`, `.`, `$`,
spaces, non-ASCII, empty names, names of the generated code's own helpers (`cast`, `list`,
`timeout`, ...), class names datamodel-code-generator imports (`AnyUrl`, `Field`), and property and
parameter names that collide after snake_casing (`fooBar` / `foo_bar` / `foo-bar` / `FooBar`).
"""

from __future__ import annotations

import importlib
import inspect
import keyword
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from generator.emit import write_atomically
from generator.pipeline import build_package

from .conftest import ROOT, import_fresh, models_source

FIXTURE = ROOT / "tests" / "fixtures" / "identifiers.yaml"
PACKAGE = "awkward_names"
PROPERTY_WIRE_NAMES = [
    "fooBar", "foo_bar", "FooBar", "class", "1st", "foo-bar", "a.b", "$value", "with space",
    "model_config", "model_dump", "schema", "json", "copy", "_private", "__dunder__", "日本", "",
    "None",
]  # fmt: skip


@pytest.fixture(scope="module")
def pkg(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    root = tmp_path_factory.mktemp("identifiers")
    built = build_package(FIXTURE, PACKAGE)
    write_atomically(built.files, root / PACKAGE)
    for path in sorted((root / PACKAGE).rglob("*.py")):
        compile(path.read_bytes(), str(path), "exec")
    package = import_fresh(root, PACKAGE)
    for module in ("models", "resources.import_", "resources.class_"):
        importlib.import_module(f"{PACKAGE}.{module}")
    return package


def _wire_name(name: str, info: Any) -> str:
    for alias in (info.serialization_alias, info.alias):
        if alias is not None:
            return str(alias)
    return name


def _is_python_name(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name)


def test_property_names_are_distinct_identifiers_with_wire_aliases(pkg: ModuleType) -> None:
    model = pkg.models.Awkward
    by_alias = {
        _wire_name(name, f): name for name, f in model.model_fields.items()
    }
    for wire in PROPERTY_WIRE_NAMES:
        assert wire in by_alias, wire
    names = [by_alias[w] for w in PROPERTY_WIRE_NAMES]
    assert all(_is_python_name(n) for n in names)
    assert len(set(names)) == len(names), "colliding properties got distinct attributes"
    # The four spellings of foo-bar stay four fields of four types.
    assert len({by_alias[w] for w in ("fooBar", "foo_bar", "FooBar", "foo-bar")}) == 4


def test_every_property_round_trips_under_its_wire_name(pkg: ModuleType) -> None:
    model = pkg.models.Awkward
    wire = {name: f"value of {name!r}" for name in PROPERTY_WIRE_NAMES}
    wire["foo_bar"] = 7  # an integer property: the collision must not swap types
    wire["FooBar"] = True
    wire["kind"] = "a-b"
    parsed = model.model_validate(wire)
    assert parsed.model_dump(mode="json", by_alias=True, exclude_unset=True) == wire
    fields = {
        _wire_name(name, f): name for name, f in model.model_fields.items()
    }
    assert getattr(parsed, fields["fooBar"]) == "value of 'fooBar'"
    assert getattr(parsed, fields["foo_bar"]) == 7
    assert getattr(parsed, fields["class"]) == "value of 'class'"


def test_enum_values_that_collide_as_names_stay_distinct(pkg: ModuleType) -> None:
    kind = pkg.models.Kind
    assert sorted(m.value for m in kind) == sorted(["a-b", "A_B", "1", "class", "", "x y", "None"])
    assert all(_is_python_name(m.name) for m in kind)


def test_class_names_never_shadow_what_models_import(pkg: ModuleType) -> None:
    source = models_source(Path(pkg.__file__).parent)
    assert "class AnyUrl(" not in source and "class Field(" not in source
    assert "class Headers(" not in source  # would shadow the resources' `Headers` type
    assert {"AnyUrl2", "Field2", "Headers2", "FooBar", "FooBar2"} <= set(pkg.models.__all__)


def test_parameter_names_are_distinct_identifiers(pkg: ModuleType) -> None:
    resource = pkg.resources.import_.Import
    signature = inspect.signature(resource.get_thing)
    names = [n for n in signature.parameters if n != "self"]
    assert all(_is_python_name(n) for n in names)
    assert len(set(names)) == len(names)
    # Parameters never shadow the names the method body itself uses.
    body_names = {"cast", "list", "str", "body", "timeout", "self"}
    spec_names = names[: names.index("extra_headers")]
    assert not body_names & set(spec_names)
    for wanted in ("thing_id", "class_", "v1st", "foo_bar", "foo_bar_2", "foo_bar_3", "a_b", "filter",
                   "with_space", "from_", "self_2", "body_2", "timeout_2", "cast_2", "list_2", "str_2",
                   "x_request_id"):  # fmt: skip
        assert wanted in spec_names, wanted


def test_each_parameter_is_sent_under_its_wire_name(pkg: ModuleType) -> None:
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, json=[{"fooBar": "x", "foo_bar": 1, "class": "c"}])

    transport = httpx.Client(transport=httpx.MockTransport(handler))
    client = pkg.Client(base_url="https://h.test/api", http_client=transport, max_retries=0)
    params = inspect.signature(pkg.resources.import_.Import.get_thing).parameters
    values: dict[str, Any] = {"thing_id": "t/1", "class_": "k", "v1st": 3}
    for name in params:
        if name in ("self", "extra_headers", "extra_query", "timeout") or name in values:
            continue
        values[name] = f"<{name}>"
    result = client.import_.get_thing(**values)
    sent = requests[0]
    assert sent.url.raw_path.split(b"?")[0] == b"/api/things/t%2F1/k/3"
    wire_of = {
        "foo_bar": "fooBar", "foo_bar_2": "foo_bar", "foo_bar_3": "foo-bar", "a_b": "a.b",
        "filter": "$filter", "with_space": "with space", "from_": "from", "self_2": "self",
        "body_2": "body", "timeout_2": "timeout", "cast_2": "cast", "list_2": "list", "str_2": "str",
        "final_request_options": "FinalRequestOptions",
    }  # fmt: skip
    expected_query = {wire: f"<{name}>" for name, wire in wire_of.items()}
    query = dict(sent.url.params)
    for wire, value in expected_query.items():
        assert query.get(wire) == value, wire
    assert sent.headers["X-Request-ID"] == "<x_request_id>"
    assert "日本" in query and "" in query  # non-ASCII and empty wire names are sent as written
    assert result[0].class_ == "c"


def test_method_names_from_summaries_with_deterministic_collisions(pkg: ModuleType) -> None:
    import_ops = [n for n in vars(pkg.resources.import_.Import) if not n.startswith("_")]
    assert import_ops == [
        "with_raw_response",
        "get_thing",
        "get_thing_2",
        "delete_things_thing_id_class_1st",
    ]
    class_ops = [n for n in vars(pkg.resources.class_.Class) if not n.startswith("_")]
    # Per-resource namespaces: `get_thing` again; a summary naming a client attribute is renamed.
    assert class_ops == ["with_raw_response", "get_thing", "with_raw_response_2"]
    client = pkg.Client(base_url="https://h.test")
    assert client.import_.get_thing_2 and client.class_.with_raw_response_2
    assert client.class_.with_raw_response.with_raw_response_2


def test_server_variables_become_keyword_arguments(pkg: ModuleType) -> None:
    client = pkg.Client(tenant_id="acme", api_version="v2")
    assert str(client.base_url).rstrip("/") == "https://acme.example.test/v2"


def test_generation_is_deterministic() -> None:
    assert build_package(FIXTURE, PACKAGE).files == build_package(FIXTURE, PACKAGE).files
