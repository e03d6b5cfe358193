"""Hostile spec text never becomes code.

A property-based test builds random specs whose names, descriptions, summaries, enum values,
defaults, examples, server URLs and tag names are made of quotes, triple quotes, backslashes,
newlines, Jinja delimiters, `\"\"\"; import os; os.system(...)` payloads, Unicode line separators
and NULs, generates each in-process (`build_package`) and asserts:

- generation succeeds, or fails with `SpecError` (exit 2) — never anything else;
- every generated `.py` compiles;
- every description survives as text (in a docstring or string literal, escaped, not dropped);
- importing the package (a sample of them) runs no injected code: a canary file never appears.

A fixed worst-case spec is also generated through the real CLI, imported in a fresh process,
checked with `black --check` and `mypy --strict`.
"""

from __future__ import annotations

import ast
import functools
import importlib
import itertools
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import generator.emit
import generator.forks
from generator.emit import write_atomically
from generator.errors import SpecError
from generator.pipeline import build_package

from .conftest import import_fresh, run_cli

CANARY = Path(tempfile.gettempdir()) / f"kibo-codegen-canary-{os.getpid()}"
TOUCH = f"__import__('pathlib').Path({str(CANARY)!r}).touch()"
PAYLOADS = [
    f'"""; {TOUCH}; """',
    f"'''; {TOUCH}; '''",
    f'"); {TOUCH}  #',
    f"'); {TOUCH}  #",
    f"\n{TOUCH}\n",
    f"\\\n{TOUCH}",
    f'\\"""; {TOUCH} #',
    f'""" + {TOUCH} + """',
    f"{{{{ {TOUCH} }}}}",
    f"{{% if True %}}{TOUCH}{{% endif %}}",
    f'"""; import os; os.system("touch {CANARY}")',
    f"\u2028{TOUCH}\u2029",
    f"\r{TOUCH}\r",
    f"\x00{TOUCH}",
]
FRAGMENTS = [
    '"', "'", '"""', "'''", "\\", "\\n", "\n", "\r\n", "\r", "\t", "\x0b", "\x0c", "\x1c", "\x85",
    "\u2028", "\u2029", "\x00", "\ufeff", "\u202e", "{{", "}}", "{%", "%}", "{#", "#}", "{x}", "}", "{",
    "${x}", "%s", "`", "```", "<!--", "-->", "<script>", "#", "# type: ignore", "*/", "\\N{BULLET}",
    "\\u0041", "\\x00", "é", "日本", "😀", "ﬁ", " ", "  ", "r'", 'b"', 'f"{x}"', "\\'", '\\"',
]  # fmt: skip

text_piece = st.one_of(
    st.sampled_from(FRAGMENTS),
    st.sampled_from(PAYLOADS),
    st.text(min_size=1, max_size=4),
)
hostile = st.lists(text_piece, min_size=1, max_size=5).map("".join)
name_text = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(min_size=1, max_size=3)), min_size=1, max_size=3
).map("".join)
scalar = st.one_of(hostile, st.integers(-(2**40), 2**40), st.booleans(), st.none(), st.floats(allow_nan=False))


def _path_segment(text: str) -> str:
    return "".join(c for c in text if c not in "{}/?#") or "x"


@st.composite
def hostile_specs(draw: st.DrawFn) -> dict[str, Any]:
    """A spec that is valid OpenAPI but has hostile text in every place text can be."""
    descriptions: list[tuple[str, str]] = []

    def desc(place: str) -> str:
        value = draw(hostile)
        descriptions.append((place, value))
        return value

    enum_values = draw(st.lists(hostile, min_size=1, max_size=4, unique=True))
    prop_names = draw(st.lists(name_text, min_size=1, max_size=4, unique=True))
    schema_name = draw(name_text)
    tag = draw(hostile)
    properties: dict[str, Any] = {}
    for index, name in enumerate(prop_names):
        kind = index % 3
        if kind == 0:
            properties[name] = {
                "type": "string",
                "description": desc("prop-string"),
                "default": draw(hostile),
                "example": draw(hostile),
            }
        elif kind == 1:
            properties[name] = {"type": "string", "enum": enum_values, "description": desc("prop-enum")}
        else:
            properties[name] = {"description": desc("prop-any"), "example": draw(scalar)}
    enum_default = draw(st.sampled_from(enum_values))
    parameter_name = draw(name_text)
    segment = _path_segment(draw(hostile))
    spec: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {"title": draw(hostile), "version": draw(hostile), "description": draw(hostile)},  # README only
        "servers": [
            {
                "url": "https://{host}.example/" + draw(hostile),
                "description": draw(hostile),
                "variables": {
                    "host": {"default": enum_values[0], "enum": enum_values, "description": desc("server-var")}
                },
            }
        ],
        "tags": [{"name": tag, "description": desc("tag")}],
        "paths": {
            f"/things/{segment}/{{id}}": {
                "parameters": [
                    {
                        "name": "id",
                        "in": "path",
                        "required": True,
                        "description": desc("path-param"),
                        "schema": {"type": "string"},
                    }
                ],
                "get": {
                    "tags": [tag],
                    "summary": desc("get-summary"),
                    "description": desc("get-description"),
                    "parameters": [
                        {
                            "name": parameter_name,
                            "in": "query",
                            "description": desc("query-param"),
                            "schema": {"type": "string", "enum": enum_values, "default": enum_default},
                            "example": draw(hostile),
                        },
                        {
                            "name": draw(name_text),
                            "in": "header",
                            "description": desc("header-param"),
                            "schema": {"type": "string"},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": draw(hostile),
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/" + _ref(schema_name)}}
                            },
                        },
                        "default": {
                            "description": draw(hostile),
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "description": desc("default-response-schema"),
                                        "properties": {
                                            draw(name_text): {
                                                "type": "integer",
                                                "description": desc("default-response-prop"),
                                            }
                                        },
                                    }
                                }
                            },
                        },
                    },
                },
                "post": {
                    "tags": [draw(hostile)],
                    "summary": desc("post-summary"),
                    "operationId": draw(st.one_of(st.none(), name_text)),
                    "requestBody": {
                        "description": draw(hostile),
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/" + _ref(schema_name)}}
                        },
                    },
                    "responses": {"204": {"description": draw(hostile)}},
                },
            }
        },
        "components": {
            "schemas": {
                schema_name: {
                    "type": "object",
                    "title": draw(hostile),
                    "description": desc("schema"),
                    "properties": properties,
                    "example": {prop_names[0]: draw(scalar)},
                },
                draw(name_text) + "Kind": {"type": "string", "enum": enum_values, "description": desc("enum-schema")},
            },
            "securitySchemes": {draw(name_text): {"type": "http", "scheme": "bearer", "description": draw(hostile)}},
        },
    }
    if spec["paths"][f"/things/{segment}/{{id}}"]["post"]["operationId"] is None:
        del spec["paths"][f"/things/{segment}/{{id}}"]["post"]["operationId"]
    spec["x-descriptions"] = [list(d) for d in descriptions]  # read back by the test, ignored by the generator
    return spec


def _ref(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


# ---- the harness -------------------------------------------------------------------------------

_counter = itertools.count()


@pytest.fixture(scope="module")
def fast_black(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """black's output for a given input never changes: format each distinct file once.

    The runtime files (_base_client.py, errors.py, ...) are the same in every example; this keeps
    hundreds of examples fast without skipping black for any text that differs."""
    patch = pytest.MonkeyPatch()
    real = generator.emit.format_python
    patch.setattr(generator.emit, "format_python", functools.lru_cache(maxsize=256)(real))
    for module in (generator.emit, generator.forks):  # one process: the cache is shared
        patch.setattr(module, "can_fork", lambda: False)
    patch.setenv("KIBO_CODEGEN_CACHE", "0")
    yield tmp_path_factory.mktemp("hostile")
    patch.undo()


def _strings_in(source: bytes, filename: str) -> str:
    """Every string constant (docstrings included) of a module, whitespace collapsed."""
    tree = ast.parse(source, filename)
    texts = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    return _squash("\u0000".join(texts))


def _squash(text: str) -> str:
    return " ".join(text.split())


def _check_package(spec: dict[str, Any], root: Path, *, import_it: bool, file_format: str) -> None:
    descriptions: list[tuple[str, str]] = spec.pop("x-descriptions")
    directory = root / f"example_{next(_counter)}"
    directory.mkdir()
    spec_file = directory / f"spec.{file_format}"
    if file_format == "yaml":
        text = yaml.safe_dump(spec, allow_unicode=False)
        assert yaml.safe_load(text) == spec  # the harness writes what it means
    else:
        text = json.dumps(spec)
    spec_file.write_text(text, encoding="utf-8")
    name = "hostile_pkg"  # one name: the runtime files are the same text, formatted once
    try:
        built = build_package(spec_file, name)
    except SpecError as exc:
        assert all(str(p).startswith("error: ") and "\n" not in str(p) for p in exc.problems)
        return
    strings = []
    for relative, data in built.files.items():
        if relative.endswith(".py"):
            compile(data, relative, "exec")  # every file is valid Python
            strings.append(_strings_in(data, relative))
    all_strings = "\u0000".join(strings)
    for place, text in descriptions:
        assert _squash(text) in all_strings, f"{place} description lost or mangled: {text!r}"
    if import_it:
        write_atomically(built.files, directory / name)
        _import_everything(directory, name)
    assert not CANARY.exists(), "spec text ran as code"


def _import_everything(root: Path, name: str) -> None:
    sys.path.insert(0, str(root))
    try:
        package = importlib.import_module(name)
        for module in sorted((root / name).rglob("*.py")):
            dotted = ".".join(module.relative_to(root).with_suffix("").parts)
            importlib.import_module(dotted.removesuffix(".__init__"))
        package.Client(base_url="https://h.test")  # the constructor runs with the spec's servers
    finally:
        sys.path.remove(str(root))
        for module_name in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            del sys.modules[module_name]


def _hostile_settings(examples: int) -> Any:
    return settings(
        max_examples=int(os.environ.get("HOSTILE_EXAMPLES", examples)),  # per file format
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
        database=None,
    )


@_hostile_settings(60)
@given(spec=hostile_specs(), import_it=st.integers(0, 9).map(lambda n: n == 0))
@pytest.mark.parametrize("file_format", ["json", "yaml"])
def test_hostile_text_never_becomes_code(
    fast_black: Path, file_format: str, spec: dict[str, Any], import_it: bool
) -> None:
    """2 x 60 random hostile specs in the normal tier (as JSON and as YAML, so both readers are
    attacked, and the two halves run on both xdist workers); about one in ten is also imported."""
    _check_package(spec, fast_black, import_it=import_it, file_format=file_format)


@pytest.mark.slow
@_hostile_settings(250)
@given(spec=hostile_specs(), import_it=st.integers(0, 9).map(lambda n: n == 0))
@pytest.mark.parametrize("file_format", ["json", "yaml"])
def test_hostile_text_never_becomes_code_at_length(
    fast_black: Path, file_format: str, spec: dict[str, Any], import_it: bool
) -> None:
    """The same property, 2 x 250 examples (the slow tier, which .ci/run also runs)."""
    _check_package(spec, fast_black, import_it=import_it, file_format=file_format)


# ---- one fixed worst case, through the real CLI --------------------------------------------------


def _worst_case() -> dict[str, Any]:
    nasty = "".join(PAYLOADS) + "".join(FRAGMENTS)
    spec: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {"title": "Worst " + nasty, "version": nasty, "description": nasty},
        "servers": [{"url": "https://{v}.example/" + nasty, "description": nasty, "variables": {
            "v": {"default": nasty, "enum": [nasty, "b"], "description": nasty}}}],
        "tags": [{"name": nasty, "description": nasty}],
        "paths": {"/a/" + _path_segment(nasty): {"get": {
            "tags": [nasty], "summary": nasty, "description": nasty,
            "parameters": [{"name": nasty, "in": "query", "description": nasty,
                            "schema": {"type": "string", "enum": [nasty, "x"], "default": nasty}, "example": nasty}],
            "responses": {"200": {"description": nasty, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/" + _ref(nasty)}}}}}}}},
        "components": {"schemas": {nasty: {"type": "object", "description": nasty, "title": nasty, "properties": {
            nasty: {"type": "string", "description": nasty, "default": nasty, "example": nasty,
                    "enum": [nasty, "x", ""]},
            nasty + "2": {"type": "string", "description": nasty, "default": nasty}}}}},
    }  # fmt: skip
    return spec


def test_worst_case_spec_through_the_cli(tmp_path: Path) -> None:
    spec = tmp_path / "worst.json"
    spec.write_text(json.dumps(_worst_case()), encoding="utf-8")
    result = run_cli("generate", str(spec), "-o", str(tmp_path / "out"), "--package-name", "worst")
    assert result.returncode == 0, result.stderr
    package = tmp_path / "out" / "worst"
    for path in package.rglob("*.py"):
        compile(path.read_bytes(), str(path), "exec")
    code = (
        "import importlib, pathlib, sys; sys.path.insert(0, sys.argv[1]);"
        "[importlib.import_module('.'.join(p.relative_to(sys.argv[1]).with_suffix('').parts).removesuffix('.__init__'))"
        " for p in sorted(pathlib.Path(sys.argv[1], 'worst').rglob('*.py'))];"
        "import worst; worst.Client(base_url='https://h.test'); print('ok')"
    )
    imported = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "out")], capture_output=True, text=True, timeout=120
    )
    assert imported.returncode == 0 and imported.stdout.strip() == "ok", imported.stderr
    assert not CANARY.exists()
    black = subprocess.run(
        [sys.executable, "-m", "black", "--check", "--quiet", "-l", "100", "-t", "py310", str(package)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert black.returncode == 0, black.stderr
    mypy = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir", str(tmp_path / ".mypy"), "worst"],
        cwd=tmp_path / "out",
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert mypy.returncode == 0, mypy.stdout[-3000:]
    # The wire values are kept exactly: server URL and variable, enum values, defaults.
    nasty = "".join(PAYLOADS) + "".join(FRAGMENTS)
    worst = import_fresh(tmp_path / "out", "worst")
    assert worst.SERVERS[0].url == "https://{v}.example/" + nasty
    assert worst.SERVERS[0].variables[0].default == nasty
    models = importlib.import_module("worst.models")
    base = importlib.import_module("worst._model_base")
    (model,) = [m for m in map(models.__getattr__, models.__all__) if isinstance(m, type) and issubclass(m, base.Model)]
    instance = model()
    dumped = instance.model_dump(mode="json", by_alias=True)
    assert dumped == {nasty: nasty, nasty + "2": nasty}
    assert model.model_validate({nasty: "x"}).model_dump(mode="json", by_alias=True, exclude_unset=True) == {nasty: "x"}
