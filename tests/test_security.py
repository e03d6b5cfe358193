"""Issue 10: spec text, file names and CLI arguments never run code, never reach outside the
output, never hang the generator. One section per class of attack (README "Security")."""

from __future__ import annotations

import ast
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import jinja2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.__main__ import main
from generator.build import build_api
from generator.emit import read_tree
from generator.errors import SpecError
from generator.load import load_spec
from generator.models import generate_model_modules
from generator.render import environment, pyrepr, render_package
from generator.safe import Identifier, TypeExpr, UnsafeTemplateValue, escape_controls

from .conftest import ROOT, models_source, run_cli
from .test_hostile_specs import CANARY, PAYLOADS, TOUCH


def minimal(**extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {"title": "demo", "version": "1"},
        "paths": {"/a": {"get": {"responses": {"200": {"description": "ok"}}}}},
    }
    spec.update(extra)
    return spec


def write_json(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def generate(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Exit code and stderr without the per-stage timing lines."""
    code = main(["generate", *args])
    err = capsys.readouterr().err
    return code, "".join(line for line in err.splitlines(keepends=True) if not line.startswith("  "))


def import_all_in_subprocess(out: Path, package: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Import every module of `package` from `out` in a fresh process whose working directory is
    `cwd` (where a hostile `x-python-type: unittest.__main__.main` would find test files to run)."""
    code = (
        "import importlib, pathlib, sys; sys.path.insert(0, sys.argv[1]);"
        "[importlib.import_module('.'.join(p.relative_to(sys.argv[1]).with_suffix('').parts).removesuffix('.__init__'))"
        " for p in sorted(pathlib.Path(sys.argv[1], sys.argv[2]).rglob('*.py'))]; print('imported')"
    )
    return subprocess.run(
        [sys.executable, "-c", code, str(out), package], cwd=cwd, capture_output=True, text=True, timeout=120
    )


# ---- 1. spec-chosen imports ----------------------------------------------------------------------

CODE_NAMING_KEYS = ["x-python-type", "x-python-import", "customBasePath", "customTypePath", "x-is-base-class"]


@pytest.mark.parametrize("key", CODE_NAMING_KEYS)
def test_no_extension_chooses_an_import(capsys: pytest.CaptureFixture[str], tmp_path: Path, key: str) -> None:
    value: Any = "unittest.__main__.main"
    if key == "x-python-import":
        value = {"module": "unittest.__main__", "name": "main"}
    if key == "x-is-base-class":
        value = True
    schema = {"type": "object", key: value, "properties": {"p": {"type": "string", key: value}}}
    spec = write_json(
        tmp_path / "s.json",
        minimal(
            openapi="3.1.0",  # customBasePath/customTypePath are 3.1 keys (3.0 refuses unknown keywords)
            components={"schemas": {"Thing": schema}},
            paths={"/a": {"get": {"responses": {"200": {"description": "ok", "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}}}}}},
        ),
    )  # fmt: skip
    code, err = generate(capsys, str(spec), "-o", str(tmp_path / "out"))
    assert code == 0, err
    assert f"#/components/schemas/Thing/{key}: '{key}' would let the spec choose Python code" in err
    assert f"#/components/schemas/Thing/properties/p/{key}:" in err
    package = tmp_path / "out" / "demo"
    siblings = {f".{p.stem}" for p in (package / "models").glob("*.py")}
    for module in (package / "models").glob("*.py"):
        imported = {
            ("." * node.level + (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name)
            for node in ast.walk(ast.parse(module.read_text(encoding="utf-8")))
            if isinstance(node, (ast.Import, ast.ImportFrom))
            for alias in node.names
        }
        allowed = {"__future__", "enum", "typing", "pydantic", "datetime", ".._model_base", *siblings}
        if module.name == "__init__.py":  # the lazy index: imports its siblings by their names
            allowed = {"__future__", "importlib", "warnings", "typing", "typing_extensions", *siblings}
        assert imported <= allowed, (module.name, imported)
    # A test file in the working directory would run (and exit the process) if unittest were imported.
    (tmp_path / "test_trap.py").write_text(f"{TOUCH}\n", encoding="utf-8")
    result = import_all_in_subprocess(tmp_path / "out", "demo", cwd=tmp_path)
    assert result.returncode == 0 and "imported" in result.stdout, result.stderr
    assert not CANARY.exists()


# ---- 2. nothing reaches a template unchecked -----------------------------------------------------


def test_templates_refuse_plain_strings() -> None:
    env = environment(str(ROOT / "templates"))
    with pytest.raises(UnsafeTemplateValue):
        env.from_string("x = {{ value }}").render(value="os.system('x')")
    assert env.from_string("x = {{ value|pyrepr }}").render(value='"""') == "x = '\"\"\"'"
    assert env.from_string("def {{ name }}(): ...").render(name=Identifier("ok_name")) == "def ok_name(): ..."
    with pytest.raises(ValueError):
        Identifier("a; import os")
    with pytest.raises(ValueError):
        TypeExpr("list[int]); __import__('os')")
    assert TypeExpr("dict[str, Cart] | None") == "dict[str, Cart] | None"
    assert isinstance(pyrepr("x"), jinja2.runtime.Markup)


@pytest.mark.parametrize("field", ["in", "style"])
def test_validator_constrained_values_are_checked_again(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, field: str
) -> None:
    """A value the validator should refuse, in a document the validator cannot check (150 levels
    of nesting): the generator refuses it itself, and writes nothing."""
    nested: dict[str, Any] = {"type": "string"}
    for _ in range(150):
        nested = {"type": "array", "items": nested}
    parameter = {"name": "q", "in": "query", "schema": {"type": "string"}}
    parameter[field] = f'query\n"""\n{TOUCH}\n"""'
    spec = write_json(
        tmp_path / "s.json",
        minimal(
            paths={"/a": {"get": {"parameters": [parameter], "responses": {"200": {"description": "ok"}}}}},
            components={"schemas": {"Deep": nested}},
        ),
    )
    code, err = generate(capsys, str(spec), "-o", str(tmp_path / "out"))
    assert code == 2
    assert err.startswith("error: ") and "Traceback" not in err
    assert not (tmp_path / "out" / "demo").exists()
    assert not CANARY.exists()
    # Without the validator at all, the IR refuses the value itself (a location, not text in code).
    shallow = write_json(tmp_path / "shallow.json", {**json.loads(spec.read_text()), "components": {}})
    loaded = load_spec(shallow, validate=False)
    if field == "in":
        with pytest.raises(SpecError, match="parameter 'in' must be one of path, query, header, cookie"):
            build_api(loaded, None)
    else:  # `style` is never written into code: what would be rendered compiles and calls nothing
        api = build_api(loaded, None)
        rendered = render_package(api, generate_model_modules(api), "0", "0")
        for name, source in rendered.items():
            if name.endswith(".py"):
                tree = ast.parse(source)
                assert not any(isinstance(n, ast.Call) and "touch" in ast.dump(n) for n in ast.walk(tree)), name


def test_a_validator_crash_checks_the_rest(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The validator crashes on a stray '}' in a path (as on Kibo's inventory spec): that path item
    is reported, and every other finding is still an error."""
    spec = write_json(
        tmp_path / "s.json",
        minimal(
            paths={
                "/a/{id}}": {"get": {"parameters": [{"name": "id", "in": "path", "required": True,
                                                      "schema": {"type": "string"}}],
                                     "responses": {"200": {"description": "ok"}}}},
                "/b": {"get": {"summary": "no responses"}},
            }
        ),
    )  # fmt: skip
    code, err = generate(capsys, str(spec), "-o", str(tmp_path / "out"))
    assert code == 2
    assert "'responses' is a required property" in err, err


# ---- 3. the spec's file name is spec text -------------------------------------------------------

# A file name cannot hold '/': this payload aborts the process if it ever runs.
NO_SLASH_PAYLOAD = "__import__('os').abort() #"

control_text = st.text(
    alphabet=st.sampled_from(["\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029", "\x1b", "a"]),
    min_size=1,
    max_size=4,
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture], database=None)
@given(separator=control_text)
def test_file_name_cannot_end_the_header_comment(tmp_path_factory: pytest.TempPathFactory, separator: str) -> None:
    work = tmp_path_factory.mktemp("name")
    spec = write_json(work / f"x{separator}{NO_SLASH_PAYLOAD}.json", minimal())
    assert main(["generate", str(spec), "-o", str(work / "out"), "--quiet"]) == 0
    for path in (work / "out" / "demo").rglob("*.py"):
        source = path.read_bytes().decode("utf-8")
        first_line = source.splitlines()[0]
        assert first_line.startswith("# Generated by kibo-codegen") and NO_SLASH_PAYLOAD in first_line
        assert not any(c in first_line for c in "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029\x1b")
        tree = ast.parse(source)
        assert not any(isinstance(node, ast.Call) and "abort" in ast.dump(node) for node in ast.walk(tree))


def test_escape_controls() -> None:
    assert escape_controls("a\rb\x1b[31mc\u2028d\x85") == "a\\rb\\x1b[31mc\\u2028d\\x85"


# ---- 4. package names ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["..", ".", "", "../x", "/tmp/abs", "a/b", "{x}", "json", "numbers", "os", "class", "a-b", "httpx", "1a"]
)
def test_bad_package_names_are_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str) -> None:
    spec = write_json(tmp_path / "s.json", minimal())
    out = tmp_path / "work" / "out"
    out.mkdir(parents=True)
    (out / "keep.txt").write_text("mine", encoding="utf-8")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    code, err = generate(capsys, str(spec), "-o", str(out), "--package-name", name)
    assert code == 2
    assert err.startswith("error: --package-name: ") and len(err.strip().splitlines()) == 1, err
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize("title", ["JSON", "Numbers", "typing", "OS"])
def test_titles_that_would_shadow_are_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path, title: str) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text(f"openapi: 3.0.3\ninfo:\n  title: {title}\n  version: '1'\npaths:\n  /a:\n    get:\n"
                    "      responses: {'200': {description: ok}}\n", encoding="utf-8")  # fmt: skip
    code, err = generate(capsys, str(spec), "-o", str(tmp_path / "out"))
    assert code == 2
    assert err.startswith(f"error: {spec}:3:") and "--package-name" in err, err


# ---- 5. output confinement ----------------------------------------------------------------------


def test_foreign_files_are_not_replaced_without_force(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    spec = write_json(tmp_path / "s.json", minimal())
    target = tmp_path / "out" / "demo"
    target.mkdir(parents=True)
    (target / "NOTES.md").write_text("my notes", encoding="utf-8")
    code, err = generate(capsys, str(spec), "-o", str(tmp_path / "out"))
    assert code == 2 and "holds files the generator did not write (NOTES.md)" in err and "--force" in err
    assert (target / "NOTES.md").read_text(encoding="utf-8") == "my notes"
    code, err = generate(capsys, str(spec), "-o", str(tmp_path / "out"), "--force")
    assert code == 0 and not (target / "NOTES.md").exists() and (target / "__init__.py").is_file()


def test_a_regular_file_at_the_target_is_not_replaced(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    spec = write_json(tmp_path / "s.json", minimal())
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "demo").write_text("a file", encoding="utf-8")
    code, err = generate(capsys, str(spec), "-o", str(tmp_path / "out"))
    assert code == 2 and "is a file" in err
    assert (tmp_path / "out" / "demo").read_text(encoding="utf-8") == "a file"


def test_new_directories_follow_the_umask(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    spec = write_json(tmp_path / "s.json", minimal())
    old = os.umask(0o022)
    try:
        code, _ = generate(capsys, str(spec), "-o", str(tmp_path / "out"))
    finally:
        os.umask(old)
    assert code == 0
    assert stat.S_IMODE((tmp_path / "out" / "demo").stat().st_mode) == 0o755


def test_an_interrupted_swap_is_repaired_on_the_next_run(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A kill between the two renames leaves the old package as `.NAME.old-*` and no NAME; the
    next run restores it first, then cleans up what the killed run left."""
    spec = write_json(tmp_path / "s.json", minimal())
    out = tmp_path / "out"
    assert generate(capsys, str(spec), "-o", str(out))[0] == 0
    before = read_tree(out / "demo")
    os.replace(out / "demo", out / ".demo.old-killed")
    (out / ".demo.new-killed").mkdir()
    (out / ".demo.new-killed" / "__init__.py").write_bytes(before["__init__.py"])
    assert generate(capsys, str(spec), "-o", str(out))[0] == 0
    assert sorted(p.name for p in out.iterdir()) == ["demo"]
    assert read_tree(out / "demo") == before


def test_write_errors_are_error_lines(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read-only output (root ignores permission bits, so the refusal is injected)."""
    spec = write_json(tmp_path / "s.json", minimal())

    def read_only(*args: Any, **kwargs: Any) -> str:
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr("tempfile.mkdtemp", read_only)
    code, err = generate(capsys, str(spec), "-o", str(tmp_path / "out"))
    assert code == 2 and err.startswith("error: ") and "Read-only file system" in err and "Traceback" not in err


# ---- 6. $ref confinement ------------------------------------------------------------------------


def ref_spec(tmp_path: Path, ref: str) -> Path:
    return write_json(
        tmp_path / "spec" / "s.json",
        minimal(paths={"/a": {"get": {"responses": {"200": {"description": "ok", "content": {
            "application/json": {"schema": {"$ref": ref}}}}}}}}),
    )  # fmt: skip


SECRET = "TOP-SECRET-CONTENT-1234"


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("/etc/passwd", "absolute paths are not followed"),
        ("../outside.json", "points outside the spec's directory"),
        ("/dev/zero", "absolute paths are not followed"),
        ("link.json", "points outside the spec's directory"),
        (".env", "only .json, .yaml, .yml files are followed"),
        ("fifo.json", "not a regular file"),
        ("broken.yaml", "is not a valid JSON/YAML document"),
    ],
)
def test_external_refs_stay_under_the_spec_directory(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, target: str, message: str
) -> None:
    (tmp_path / "spec").mkdir()
    (tmp_path / "outside.json").write_text(json.dumps({"type": "string", "description": SECRET}), encoding="utf-8")
    (tmp_path / "spec" / "link.json").symlink_to(tmp_path / "outside.json")
    (tmp_path / "spec" / ".env").write_text(f"TOKEN={SECRET}\n", encoding="utf-8")
    (tmp_path / "spec" / "broken.yaml").write_text(f"{SECRET}: [\n", encoding="utf-8")
    os.mkfifo(tmp_path / "spec" / "fifo.json")  # opening it for reading would block forever
    spec = ref_spec(tmp_path, target + "#/")
    started = time.monotonic()
    code, err = generate(capsys, str(spec), "-o", str(tmp_path / "out"))
    assert time.monotonic() - started < 60  # a FIFO or /dev/zero never blocks or fills memory
    assert code == 2 and message in err, err
    assert SECRET not in err
    assert not (tmp_path / "out").exists()


def test_ref_root_widens_what_may_be_read(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "spec").mkdir()
    (tmp_path / "shared.json").write_text(json.dumps({"Thing": {"type": "object", "properties": {
        "id": {"type": "string"}}}}), encoding="utf-8")  # fmt: skip
    spec = ref_spec(tmp_path, "../shared.json#/Thing")
    assert generate(capsys, str(spec), "-o", str(tmp_path / "out"))[0] == 2
    code, err = generate(capsys, str(spec), "-o", str(tmp_path / "out"), "--ref-root", str(tmp_path))
    assert code == 0, err
    assert "class Thing" in models_source(tmp_path / "out" / "demo")


# ---- 7. bounded work ----------------------------------------------------------------------------

BILLION_LAUGHS = "\n".join(
    ["openapi: 3.0.3", "info: {title: lol, version: '1'}", "x-a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    + [f"x-{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
       f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]" for i in range(9)]
    + ["paths:", "  /a: {get: {responses: {'200': {description: ok}}}}", ""]
)  # fmt: skip


def timed_cli(*args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    result = run_cli(*args)
    return result, time.monotonic() - started


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("laughs.yaml", BILLION_LAUGHS, "YAML aliases expand to more than"),
        ("cycle.yaml", "openapi: 3.0.3\ninfo: {title: c, version: '1'}\nx-a: &a [*a]\npaths: {}\n", "refers to itself"),
        ("deep.json", json.dumps(minimal(**{"x-deep": json.loads("[" * 500 + "]" * 500)})), "nested more than"),
        ("deeper.json", json.dumps(minimal()).replace("{", "[" * 5000 + "{", 1).replace("}", "}" + "]" * 5000)[:-1]
         + "}", "nested more than"),
    ],
)  # fmt: skip
def test_bombs_end_quickly_with_exit_2(tmp_path: Path, name: str, text: str, message: str) -> None:
    spec = tmp_path / name
    spec.write_text(text, encoding="utf-8")
    result, seconds = timed_cli("generate", str(spec), "-o", str(tmp_path / "out"))
    assert result.returncode == 2 and message in result.stderr, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert seconds < 30, seconds  # generous for a loaded CI machine; the bug took minutes


def test_ref_fan_out_and_many_errors_stay_fast(tmp_path: Path) -> None:
    schemas: dict[str, Any] = {"S9": {"type": "object", "properties": {"v": {"type": "string"}}}}
    for level in range(9):
        schemas[f"S{level}"] = {"allOf": [{"$ref": f"#/components/schemas/S{level + 1}"}] * 4}
    fan = write_json(
        tmp_path / "fan.json",
        minimal(components={"schemas": schemas}, paths={"/a": {"get": {"responses": {"200": {
            "description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/S0"}}}}}}}}),
    )  # fmt: skip
    result, seconds = timed_cli("generate", str(fan), "-o", str(tmp_path / "out"), "--quiet")
    assert result.returncode == 0, result.stderr[-2000:]
    assert seconds < 60, seconds  # 31 s before the validator was memoised; ~1 s now
    broken = {f"/p{i}": {"get": {"summary": "no responses"}} for i in range(200)}
    many = write_json(tmp_path / "many.json", minimal(paths=broken))
    result, seconds = timed_cli("generate", str(many), "-o", str(tmp_path / "out"))
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 200
    assert all(line.startswith(f"error: {many}:") for line in result.stderr.splitlines())
    assert seconds < 60, seconds


def test_size_limit(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    spec = write_json(tmp_path / "s.json", minimal(**{"x-pad": "x" * 5000}))
    code, err = generate(capsys, str(spec), "-o", str(tmp_path / "out"), "--max-spec-bytes", "1000")
    assert code == 2 and "larger than the limit of 1000" in err and "--max-spec-bytes" in err
    assert generate(capsys, str(spec), "-o", str(tmp_path / "out"), "--max-spec-bytes", "100000")[0] == 0


# ---- 8. cache integrity -------------------------------------------------------------------------


def test_an_escaped_ref_key_is_not_cached(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIBO_CODEGEN_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "ext.json").write_text(json.dumps({"T": {"type": "object", "properties": {"a": {"type": "string"}}}}))
    spec = tmp_path / "s.json"
    text = json.dumps(minimal(paths={"/a": {"get": {"responses": {"200": {"description": "ok", "content": {
        "application/json": {"schema": {"REF": "ext.json#/T"}}}}}}}}))  # fmt: skip
    spec.write_text(text.replace('"REF"', '"\\u0024ref"'), encoding="utf-8")
    assert generate(capsys, str(spec), "-o", str(tmp_path / "out"))[0] == 0
    (tmp_path / "ext.json").write_text(json.dumps({"T": {"type": "object", "properties": {"b": {"type": "string"}}}}))
    assert main(["check", str(spec), "-o", str(tmp_path / "out")]) == 1  # the external change is seen
    assert generate(capsys, str(spec), "-o", str(tmp_path / "out"))[0] == 0
    assert " b: str | None" in models_source(tmp_path / "out" / "demo")


def test_a_cache_others_can_write_is_not_used(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    cache.chmod(0o777)
    monkeypatch.setenv("KIBO_CODEGEN_CACHE_DIR", str(cache))
    spec = write_json(tmp_path / "s.json", minimal())
    assert generate(capsys, str(spec), "-o", str(tmp_path / "out"))[0] == 0
    assert list(cache.iterdir()) == []  # nothing stored, so nothing can be served from it


def test_an_edited_cache_entry_is_a_miss(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIBO_CODEGEN_CACHE_DIR", str(tmp_path / "cache"))
    spec = write_json(tmp_path / "s.json", minimal())
    assert generate(capsys, str(spec), "-o", str(tmp_path / "a"))[0] == 0
    entries = list((tmp_path / "cache").glob("*.json"))
    assert entries  # one under "replaced nothing", one under the surface it wrote (pipeline.build_cached)
    for entry in entries:
        data = json.loads(entry.read_text(encoding="utf-8"))
        data["files"]["__init__.py"] += f"\n{TOUCH}\n"
        entry.write_text(json.dumps(data), encoding="utf-8")
    assert generate(capsys, str(spec), "-o", str(tmp_path / "b"))[0] == 0
    assert TOUCH not in (tmp_path / "b" / "demo" / "__init__.py").read_text(encoding="utf-8")


# ---- 9. terminal output -------------------------------------------------------------------------


def test_error_and_warning_lines_escape_terminal_controls(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    spec = write_json(
        tmp_path / "s.json",
        minimal(paths={"/a": {"get": {"responses": {"200": {"description": "ok", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/\x1b[2J\x1b[31mEVIL\r"}}}}}}}}),
    )  # fmt: skip
    code, err = generate(capsys, str(spec), "-o", str(tmp_path / "out"))
    assert code == 2 and "\\x1b[2J" in err
    assert "\x1b" not in err and "\r" not in err


# ---- 10. operational failures -------------------------------------------------------------------


def test_a_closed_pipe_is_no_traceback(tmp_path: Path) -> None:
    spec = write_json(tmp_path / "s.json", minimal())
    reader = subprocess.Popen(
        [sys.executable, "-m", "generator", "diff", str(spec), str(spec)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert reader.stdout is not None
    reader.stdout.close()  # nobody reads what it prints
    _, err = reader.communicate(timeout=120)
    assert b"Traceback" not in err
    assert reader.returncode in (0, 2)


def test_a_malformed_surface_is_a_warning(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    spec = write_json(tmp_path / "s.json", minimal())
    assert generate(capsys, str(spec), "-o", str(tmp_path / "out"))[0] == 0
    surface = tmp_path / "out" / "demo" / "_surface.py"
    header = surface.read_text(encoding="utf-8").splitlines()[0]
    surface.write_text(f'{header}\nSURFACE_JSON = r"""{{ not json\n"""\n', encoding="utf-8")
    code = main(["generate", str(spec), "-o", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Traceback" not in captured.err


# ---- the worst case: payloads everywhere, in the file name, with the validator crashing -------------


def test_worst_case_with_a_crashing_validator(tmp_path: Path) -> None:
    nasty = "".join(PAYLOADS)
    spec: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {"title": "worst", "version": nasty, "description": nasty},
        "servers": [{"url": "https://h.example/" + nasty, "description": nasty}],
        "components": {
            "securitySchemes": {nasty: {"type": "http", "scheme": nasty, "description": nasty}},
            "schemas": {"T": {"type": "object", "description": nasty, "x-python-type": "os.system",
                              "properties": {"p": {"type": "string", "description": nasty, "default": nasty,
                                                   "format": nasty}}}},
        },
        "paths": {
            "/a/{id}}": {"get": {  # the stray '}' makes the validator crash on this path item
                "summary": nasty, "description": nasty, "tags": [nasty], "operationId": nasty,
                "parameters": [{"name": "id", "in": "path", "required": True, "style": "simple",
                                "description": nasty, "schema": {"type": "string"}},
                               {"name": nasty, "in": "query", "description": nasty, "schema": {"type": "string"}}],
                "responses": {"200": {"description": nasty, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/T"}}}}}}},
        },
    }  # fmt: skip
    path = tmp_path / f"worst\r{NO_SLASH_PAYLOAD}\u2028#.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    result = run_cli("generate", str(path), "-o", str(tmp_path / "out"), "--package-name", "worst")
    assert result.returncode == 0, result.stderr
    assert "the OpenAPI validator cannot check this path item" in result.stderr
    assert "'x-python-type' would let the spec choose Python code" in result.stderr
    for module in (tmp_path / "out" / "worst").rglob("*.py"):
        compile(module.read_bytes(), str(module), "exec")
    imported = import_all_in_subprocess(tmp_path / "out", "worst", cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert not CANARY.exists()
    # And the same payload in `in` (which the validator would have refused) is refused by us.
    spec["paths"]["/a/{id}}"]["get"]["parameters"][1]["in"] = nasty
    path.write_text(json.dumps(spec), encoding="utf-8")
    result = run_cli("generate", str(path), "-o", str(tmp_path / "out2"), "--package-name", "worst")
    assert result.returncode == 2 and result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    assert not (tmp_path / "out2").exists()


def test_force_replaces_a_symlink_never_what_it_points_at(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    spec = write_json(tmp_path / "s.json", minimal())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "mine.txt").write_text("keep", encoding="utf-8")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "demo").symlink_to(elsewhere, target_is_directory=True)
    code, err = generate(capsys, str(spec), "-o", str(tmp_path / "out"))
    assert code == 2 and "is a symlink" in err
    code, err = generate(capsys, str(spec), "-o", str(tmp_path / "out"), "--force")
    assert code == 0, err
    target = tmp_path / "out" / "demo"
    assert not target.is_symlink() and (target / "__init__.py").is_file()
    assert sorted(p.name for p in elsewhere.iterdir()) == ["mine.txt"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["demo"]
