"""Bad input: exit 2, one `error:` line per problem with a location, no traceback, output untouched.

Most cases call the CLI's `main()` in-process (the same code path as `python -m generator`, minus
the interpreter start-up); a few run it as a real process to prove there is no traceback. Before
each run the `-o` directory holds an earlier package; its bytes are compared after the run.
"""

from __future__ import annotations

import importlib
import json
import os
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from generator.__main__ import main
from generator.emit import read_tree, write_atomically

from .conftest import ROOT, import_fresh, run_cli

MINI = ROOT / "tests" / "fixtures" / "mini.yaml"
GOOD_OPERATION = {"get": {"responses": {"200": {"description": "ok"}}}}


@pytest.fixture(autouse=True)
def _no_build_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every run builds for real (a cache hit would skip the stage a test breaks on purpose).
    monkeypatch.setenv("KIBO_CODEGEN_CACHE", "0")


@pytest.fixture()
def out(tmp_path: Path) -> Path:
    """An output directory that already holds a package (a previous, good generation)."""
    directory = tmp_path / "out"
    for name in ("x", "mini_shop", "api_client"):
        write_atomically(
            {"__init__.py": b"# old\n", "models.py": b"OLD = 1\n", "sub/data.txt": b"old"},
            directory / name,
        )
    (directory / "unrelated.txt").write_text("keep me")
    return directory


def write(tmp_path: Path, name: str, content: str | bytes | dict[str, object]) -> Path:
    path = tmp_path / name
    if isinstance(content, dict):
        path.write_text(json.dumps(content, indent=2), encoding="utf-8")
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(textwrap.dedent(content).lstrip(), encoding="utf-8")
    return path


def with_path_parameter(name: str) -> dict[str, object]:
    parameter = {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
    return {"parameters": [parameter], **GOOD_OPERATION}


def openapi(paths: object = None, **extra: object) -> dict[str, object]:
    document: dict[str, object] = {
        "openapi": "3.0.3",
        "info": {"title": "x", "version": "1"},
        "paths": {"/a": GOOD_OPERATION} if paths is None else paths,
    }
    document.update(extra)
    return document


def fails(capsys: pytest.CaptureFixture[str], spec: Path, out: Path, *, problems: int = 1) -> list[str]:
    """Run `generate`; assert exit 2, only `error:` lines, the output unchanged. The lines."""
    before = read_tree(out)
    code = main(["generate", str(spec), "-o", str(out)])
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if not line.startswith("warning:")]
    assert code == 2, captured.out + captured.err
    assert len(lines) == problems, captured.err
    assert all(line.startswith("error: ") for line in lines), captured.err
    assert "Traceback" not in captured.err + captured.out
    assert read_tree(out) == before, "the output directory must be left exactly as it was"
    assert sorted(p.name for p in out.iterdir()) == [
        "api_client",
        "mini_shop",
        "unrelated.txt",
        "x",
    ]
    return lines


def test_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path, out: Path) -> None:
    spec = tmp_path / "nope.yaml"
    assert fails(capsys, spec, out) == [f"error: {spec}: file not found"]


def test_unreadable_directory_and_binary(capsys: pytest.CaptureFixture[str], tmp_path: Path, out: Path) -> None:
    folder = tmp_path / "spec.yaml"
    folder.mkdir()
    assert "is a directory" in fails(capsys, folder, out)[0]
    binary = write(tmp_path, "bin.yaml", b"openapi: 3.0.3\n\xff\xfe\x00junk")
    assert "not UTF-8" in fails(capsys, binary, out)[0]


def test_unreadable_permissions(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = write(tmp_path, "locked.json", openapi())
    spec.chmod(0)  # enough for a normal user; root reads anything, so refuse the read as well
    real_open = os.open

    def refuse(path: str | os.PathLike[str], flags: int, *args: int) -> int:
        if Path(path) == spec:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", refuse)
    assert fails(capsys, spec, out) == [f"error: {spec}: cannot read file: Permission denied"]


def test_invalid_yaml_has_line_and_column(capsys: pytest.CaptureFixture[str], tmp_path: Path, out: Path) -> None:
    spec = write(tmp_path, "bad.yaml", "openapi: 3.0.3\ninfo:\n  title: [x\n  version: '1'\npaths: {}\n")
    (line,) = fails(capsys, spec, out)
    assert line.startswith(f"error: {spec}:") and "invalid YAML" in line
    line_no, column = line.removeprefix(f"error: {spec}:").split(":")[:2]
    assert line_no.isdigit() and column.isdigit() and int(line_no) >= 3


def test_invalid_json_has_line_and_column(capsys: pytest.CaptureFixture[str], tmp_path: Path, out: Path) -> None:
    spec = write(tmp_path, "bad.json", '{\n  "openapi": "3.0.3",\n  "info": {"title": "x",}\n}\n')
    assert fails(capsys, spec, out) == [
        f"error: {spec}:3:25: invalid JSON: Expecting property name enclosed in double quotes"
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("- a\n- b\n", "top level is list, not a mapping"),
        ("just text\n", "top level is str, not a mapping"),
        ("", "empty document"),
    ],
)
def test_not_a_mapping(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, out: Path, content: str, message: str
) -> None:
    spec = write(tmp_path, "list.yaml", content)
    (line,) = fails(capsys, spec, out)
    assert message in line and "not an OpenAPI document" in line


def test_not_openapi(capsys: pytest.CaptureFixture[str], tmp_path: Path, out: Path) -> None:
    spec = write(tmp_path, "compose.yaml", "services:\n  web: {image: nginx}\n")
    assert fails(capsys, spec, out) == [f"error: {spec}:1:1: not an OpenAPI document: no 'openapi' key"]


def test_swagger_2_says_how_to_convert(capsys: pytest.CaptureFixture[str], tmp_path: Path, out: Path) -> None:
    spec = write(
        tmp_path,
        "old.json",
        {"swagger": "2.0", "info": {"title": "x", "version": "1"}, "paths": {}},
    )
    (line,) = fails(capsys, spec, out)
    assert line.startswith(f"error: {spec}:2:3: Swagger 2.0 is not supported")
    assert "convert it to OpenAPI 3" in line and "swagger2openapi" in line


def test_unsupported_openapi_version(capsys: pytest.CaptureFixture[str], tmp_path: Path, out: Path) -> None:
    spec = write(tmp_path, "v4.yaml", "openapi: 4.0.0\ninfo: {title: x, version: '1'}\npaths: {}\n")
    assert fails(capsys, spec, out) == [
        f"error: {spec}:1:1: unsupported OpenAPI version '4.0.0': expected 3.0.x or 3.1.x"
    ]


def test_structural_errors_are_located(capsys: pytest.CaptureFixture[str], tmp_path: Path, out: Path) -> None:
    spec = write(
        tmp_path,
        "broken.yaml",
        """
        openapi: 3.0.3
        info: {title: x, version: '1'}
        paths:
          /a:
            get:
              parameters:
                - name: q
                  schema: {type: string}
              responses: {'200': {description: ok}}
          /b:
            post:
              summary: no responses at all
        """,
    )
    lines = fails(capsys, spec, out, problems=2)
    assert all("invalid OpenAPI" in line for line in lines)
    # Each problem points at the node that is wrong, by line and column.
    assert any(line.startswith(f"error: {spec}:7:") for line in lines), lines  # the parameter
    assert any(line.startswith(f"error: {spec}:11:") for line in lines), lines  # /b post


def test_dangling_refs_one_line_each(capsys: pytest.CaptureFixture[str], tmp_path: Path, out: Path) -> None:
    body = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Nope"}}}}
    spec = write(
        tmp_path,
        "dangling.json",
        openapi(
            {
                "/a": {
                    "post": {"requestBody": body, "responses": {"200": {"description": "ok"}}},
                    "get": {"responses": {"200": {"$ref": "#/components/responses/Gone"}}},
                }
            },
            components={"schemas": {}},
        ),
    )
    lines = fails(capsys, spec, out, problems=2)
    assert any("'#/components/schemas/Nope' does not resolve" in line for line in lines)
    assert any("'#/components/responses/Gone' does not resolve" in line for line in lines)
    assert all(line.startswith(f"error: {spec}:") for line in lines)


def test_external_ref_to_a_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path, out: Path) -> None:
    schema = {"$ref": "schemas/missing.yaml#/Thing"}
    spec = write(
        tmp_path,
        "ext.json",
        openapi({"/a": {"get": {"responses": {"200": {"description": "ok", "content": {
            "application/json": {"schema": schema}}}}}}}),
    )  # fmt: skip
    (line,) = fails(capsys, spec, out)
    assert line.startswith(f"error: {spec}:") and "external $ref" in line
    assert "missing.yaml" in line and "file not found" in line


def test_external_ref_to_an_existing_file_works(tmp_path: Path) -> None:
    (tmp_path / "schemas").mkdir()
    write(
        tmp_path,
        "schemas/common.yaml",
        """
        Thing:
          type: object
          properties:
            name: {type: string}
            parts: {type: array, items: {$ref: '#/Part'}}
        Part:
          type: object
          properties:
            size: {type: integer}
        """,
    )
    schema = {"$ref": "schemas/common.yaml#/Thing"}
    spec = write(
        tmp_path,
        "ext.json",
        openapi({"/a": {"get": {"responses": {"200": {"description": "ok", "content": {
            "application/json": {"schema": schema}}}}}}}),
    )  # fmt: skip
    out = tmp_path / "out"
    assert main(["generate", str(spec), "-o", str(out), "--package-name", "ext_ok"]) == 0
    package = import_fresh(out, "ext_ok")
    models = __import__("ext_ok.models", fromlist=["Thing"])
    thing = models.Thing.model_validate({"name": "n", "parts": [{"size": 3}]})
    assert thing.parts[0].size == 3
    assert package.Client


def test_duplicate_route_after_normalisation(capsys: pytest.CaptureFixture[str], tmp_path: Path, out: Path) -> None:
    spec = write(
        tmp_path,
        "dup.json",
        openapi({"/items/{id}": with_path_parameter("id"), "/items/{id}/": with_path_parameter("id"),
                 "/b//c": GOOD_OPERATION, "/b/c": GOOD_OPERATION}),
    )  # fmt: skip
    lines = fails(capsys, spec, out, problems=2)
    assert "duplicate operation GET /items/{id}/: same route as GET /items/{id}" in lines[0]
    assert "duplicate operation GET /b/c: same route as GET /b//c" in lines[1]
    assert all(line.startswith(f"error: {spec}:") for line in lines)


def test_same_route_with_other_parameter_names_is_generated_with_a_warning(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Kibo's commerce and inventory specs do this; both operations are kept.
    paths = {"/i/{a}": with_path_parameter("a"), "/i/{b}": with_path_parameter("b")}
    spec = write(tmp_path, "shape.json", openapi(paths))
    assert main(["generate", str(spec), "-o", str(tmp_path / "out")]) == 0
    captured = capsys.readouterr()
    assert "warning:" in captured.err and "only the parameter names differ" in captured.err
    assert "2 operations" in captured.out


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        ("dupkey.yaml", "openapi: 3.0.3\ninfo: {title: x, version: '1'}\npaths:\n  /a: {}\n  /a: {}\n", ":5:3:"),
        ("dupkey.json", '{"openapi": "3.0.3", "info": {"title": "x", "version": "1"},\n'
                        ' "paths": {"/a": {}, "/a": {}}}', ":2:22:"),
    ],
)  # fmt: skip
def test_duplicate_keys_are_not_silently_dropped(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, out: Path, name: str, text: str, where: str
) -> None:
    spec = write(tmp_path, name, text)
    (line,) = fails(capsys, spec, out)
    assert line.startswith(f"error: {spec}{where}") and "duplicate key '/a'" in line


@pytest.mark.parametrize("paths", [{}, {"/a": {"parameters": []}}, None, "absent-3.0"])
def test_no_operations_gives_a_models_package(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, out: Path, paths: object
) -> None:
    """API.md §3: a document without operations is a package of models, with a warning."""
    document = openapi(paths if isinstance(paths, dict) else {})
    document["components"] = {"schemas": {"A": {"type": "object", "properties": {"id": {"type": "string"}}}}}
    if paths is None or paths == "absent-3.0":
        del document["paths"]
        document["openapi"] = "3.1.0" if paths is None else "3.0.3"
    spec = write(tmp_path, "empty.json", document)
    assert main(["generate", str(spec), "-o", str(tmp_path / "models_only"), "--package-name", "only_models"]) == 0
    err = capsys.readouterr().err
    assert "warning: " in err and "no operations: generating a package of models" in err
    package = import_fresh(tmp_path / "models_only", "only_models")
    models = importlib.import_module("only_models.models")
    assert models.A(id="x").id == "x"
    assert sorted(p.name for p in (tmp_path / "models_only" / "only_models" / "resources").glob("*.py")) == [
        "__init__.py"
    ]
    with package.Client(base_url="https://api.example") as client:
        assert client.base_url == "https://api.example"


def test_circular_schemas_generate_working_recursive_models(tmp_path: Path) -> None:
    spec = write(
        tmp_path,
        "tree.yaml",
        """
        openapi: 3.0.3
        info: {title: Trees, version: '1'}
        paths:
          /tree:
            get:
              responses:
                '200':
                  description: ok
                  content:
                    application/json:
                      schema: {$ref: '#/components/schemas/Node'}
        components:
          schemas:
            Node:
              type: object
              properties:
                name: {type: string}
                children: {type: array, items: {$ref: '#/components/schemas/Node'}}
                owner: {$ref: '#/components/schemas/Person'}
            Person:
              type: object
              properties:
                name: {type: string}
                manager: {$ref: '#/components/schemas/Person'}
                favourite: {$ref: '#/components/schemas/Node'}
            Chain:
              allOf:
                - $ref: '#/components/schemas/Node'
                - type: object
                  properties:
                    next: {$ref: '#/components/schemas/Chain'}
        """,
    )
    out = tmp_path / "out"
    assert main(["generate", str(spec), "-o", str(out)]) == 0
    import_fresh(out, "trees")
    models = __import__("trees.models", fromlist=["Node"])
    data = {
        "name": "root",
        "children": [{"name": "a", "children": [{"name": "a1", "children": []}]}, {"name": "b"}],
        "owner": {"name": "p", "manager": {"name": "m", "favourite": {"name": "f"}}},
    }
    node = models.Node.model_validate(data)
    assert node.children[0].children[0].name == "a1"
    assert node.owner.manager.favourite.name == "f"
    assert node.model_dump(by_alias=True, exclude_unset=True) == data
    chain = models.Chain.model_validate({"name": "c1", "next": {"name": "c2", "next": {"name": "c3"}}})
    assert chain.next.next.name == "c3"
    with pytest.raises(Exception, match="validation error"):
        models.Node.model_validate({"children": [{"children": "not a list"}]})


def _crash(*args: object, **kwargs: object) -> object:
    raise RuntimeError("simulated crash mid-generation")


@pytest.mark.parametrize(
    "stage",
    ["generator.build.build_api", "generator.models.generate_model_modules",
     "generator.render.PackageRenderer.spec_files", "generator.emit.finish_files"],
)  # fmt: skip
def test_a_crash_mid_generation_leaves_the_old_output(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, stage: str
) -> None:
    out = tmp_path / "out"
    assert main(["generate", str(MINI), "-o", str(out)]) == 0
    before = read_tree(out)
    edited = write(tmp_path, "mini.yaml", MINI.read_text(encoding="utf-8").replace("2.1.0", "2.2.0"))
    module, _, function = stage.rpartition(".")
    monkeypatch.setattr(f"{module}.{function}", _crash)
    with pytest.raises(RuntimeError, match="simulated crash"):
        main(["generate", str(edited), "-o", str(out)])
    assert read_tree(out) == before
    assert [p.name for p in out.iterdir()] == ["mini_shop"], "no staging directory left behind"


@pytest.mark.parametrize("jobs", ["1", None])  # sequential, and the validator in its own process
def test_an_invalid_document_is_reported_even_where_the_build_would_crash(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path, out: Path, jobs: str | None
) -> None:
    """In parallel the build runs beside the validator: a bug of ours an invalid document trips
    must not turn its error line into a traceback (sequentially the build never sees it)."""
    if jobs is None:
        monkeypatch.delenv("KIBO_CODEGEN_JOBS", raising=False)
    else:
        monkeypatch.setenv("KIBO_CODEGEN_JOBS", jobs)
    spec = write(tmp_path, "bad.yaml", {"openapi": "3.0.3", "info": {"title": "x", "version": "1"},
                                        "paths": {"/a": {"get": {}}}})  # fmt: skip
    before = read_tree(out)
    monkeypatch.setattr("generator.build.build_api", _crash)
    assert main(["generate", str(spec), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err and all(line.startswith(f"error: {spec}:") for line in err), err
    assert "'responses' is a required property" in err[0]
    assert read_tree(out) == before


def test_a_full_disk_while_writing_leaves_the_old_output(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["generate", str(MINI), "-o", str(out)]) == 0
    before = read_tree(out)
    edited = write(tmp_path, "mini.yaml", MINI.read_text(encoding="utf-8").replace("2.1.0", "2.2.0"))
    real_write_bytes: Callable[[Path, bytes], int] = Path.write_bytes
    written: list[Path] = []

    def flaky_write_bytes(self: Path, data: bytes) -> int:
        written.append(self)
        if len(written) == 3:
            raise OSError(28, "No space left on device")
        return real_write_bytes(self, data)

    monkeypatch.setattr(Path, "write_bytes", flaky_write_bytes)
    assert main(["generate", str(edited), "-o", str(out)]) == 2  # an error line, no traceback
    monkeypatch.undo()
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: ") and err[-1].endswith("cannot write the output: No space left on device")
    assert len(written) == 3
    assert read_tree(out) == before
    assert [p.name for p in out.iterdir()] == ["mini_shop"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("swagger.yaml", "swagger: '2.0'\ninfo: {title: x, version: '1'}\npaths: {}\n", "Swagger 2.0"),
        ("dangling.yaml", "openapi: 3.0.3\ninfo: {title: x, version: '1'}\npaths:\n  /a:\n    get:\n"
         "      responses:\n        '200': {$ref: '#/nope'}\n", "does not resolve"),
    ],
)  # fmt: skip
def test_real_process_prints_one_line_and_no_traceback(
    tmp_path: Path, out: Path, name: str, content: str, message: str
) -> None:
    spec = write(tmp_path, name, content)
    before = read_tree(out)
    result = run_cli("generate", str(spec), "-o", str(out))
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {spec}:") and message in lines[0]
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert read_tree(out) == before


# ---- constructs the models cannot express degrade, with a warning naming the JSON pointer ----

EXOTIC = ROOT / "tests" / "fixtures" / "exotic.yaml"


def test_exotic_schemas_degrade_to_any_with_pointed_warnings(tmp_path: Path) -> None:
    from generator.pipeline import build_package

    built = build_package(EXOTIC, "exotic_schemas")
    base = f"warning: {EXOTIC}#/components/schemas/Everything/properties"
    expected = {
        f"{base}/neg/not: 'not' is not checked",
        f"{base}/cond/if: 'if' is not checked",
        f"{base}/cond/then: 'then' is not checked",
        f"{base}/pat/patternProperties: patternProperties: key patterns are not checked",
        f"{base}/emptyenum/enum: empty enum ignored",
        f"{base}/baddefault/default: default 'abc' does not fit",
        f"{base}/disc/discriminator: discriminator ignored",
        f"warning: {EXOTIC}#/components/schemas/Empty/enum: empty enum ignored",
    }
    for prefix in expected:
        assert any(w.startswith(prefix) for w in built.warnings), (prefix, built.warnings)
    assert built.operations == 1
    write_atomically(built.files, tmp_path / "exotic_schemas")
    import_fresh(tmp_path, "exotic_schemas")
    models = __import__("exotic_schemas.models", fromlist=["Everything"])
    base = __import__("exotic_schemas._model_base", fromlist=["Model"])
    for name in models.__all__:  # every model builds (pydantic builds lazily otherwise)
        value = getattr(models, name)
        if isinstance(value, type) and issubclass(value, base.Model):
            value.model_rebuild(force=True)
    data = {
        "neg": 1, "cond": "x", "konst": 42, "pat": {"x-a": "b"}, "multi": 3, "tuple": ["a", 1],
        "anything": {"a": [1]}, "lookahead": "aB", "mixedenum": 2.5, "emptyenum": "q",
        "weirdformat": "w", "baddefault": 5, "disc": {"kind": "k", "inner": "ab"},
    }  # fmt: skip
    parsed = models.Everything.model_validate(data)
    assert parsed.model_dump(mode="json", by_alias=True, exclude_unset=True) == data
    assert models.Everything().baddefault is None


def test_a_schema_the_model_tool_cannot_build_degrades_to_any(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import generator.models as models_stage
    from generator.pipeline import build_package

    real_run = models_stage._run

    def fussy(document: dict[str, object], options: object) -> str:
        schemas = document["components"]["schemas"]  # type: ignore[index]
        if schemas.get("Other"):  # the tool "crashes" on this one schema unless it is stubbed
            raise ValueError("unsupported construct in Other")
        return real_run(document, options)

    monkeypatch.setattr(models_stage, "_run", fussy)
    built = build_package(EXOTIC, "exotic_degraded")
    (warning,) = [w for w in built.warnings if "cannot be expressed" in w]
    assert warning == (
        "warning: exotic.yaml#/components/schemas/Other: cannot be expressed as a model "
        "(unsupported construct in Other); typed as Any (raw JSON)"
    )
    write_atomically(built.files, tmp_path / "exotic_degraded")
    import_fresh(tmp_path, "exotic_degraded")
    models = __import__("exotic_degraded.models", fromlist=["Other"])
    assert models.Other.model_validate({"anything": ["goes"]}).root == {"anything": ["goes"]}
    assert models.Everything.model_validate({"neg": 1}).neg == 1  # the rest is still typed
