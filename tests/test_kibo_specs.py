"""All 26 of Kibo's published OpenAPI specs generate, import, and keep every operation.

The specs live outside the repository (`../shared/specs/kibo/`, `conftest.KIBO_SPECS`). Every
spec is generated in-process (no subprocess start-up), written to a temp dir, every `.py`
compiled, the package imported under its own name, and the operation methods counted by
introspecting the generated resource classes, compared with the operations in the raw JSON.

CI runs all 26 on every run (about 80 s of CPU, most of it black). `black --check` is re-run on a
documented subset in CI (`BLACK_CI_SUBSET`) and on all 26 under `pytest -m slow`;
`mypy --strict` runs on the customer and commerce packages in CI and on all 26 under `-m slow`.
"""

from __future__ import annotations

import ast
import functools
import inspect
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from generator.emit import write_atomically
from generator.pipeline import Built, build_package

from .conftest import KIBO_SPECS, RUFF_ON_PACKAGES, import_fresh, requires_kibo_specs

pytestmark = requires_kibo_specs

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
SPEC_FILES = sorted(KIBO_SPECS.glob("openapi_*.json"))
SPEC_IDS = [path.stem.removeprefix("openapi_") for path in SPEC_FILES]
BLACK_CI_SUBSET = ("audit_logs", "tenant", "inventory", "importexport", "orderrouting", "event")
MYPY_CI_SUBSET = ("customer", "commerce")


def _package_name(spec: Path) -> str:
    return "kibo_" + spec.stem.removeprefix("openapi_")


def spec_operations(spec: Path) -> set[tuple[str, str]]:
    """(METHOD, path) of every operation in the raw spec: counted without the generator."""
    document = json.loads(spec.read_text(encoding="utf-8"))
    return {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in HTTP_METHODS
        if isinstance(item, dict) and isinstance(item.get(method), dict)
    }


@functools.cache
def _generated(spec: Path, root: Path) -> tuple[Path, Built]:
    built = build_package(spec, _package_name(spec))
    package_dir = root / built.package_name
    write_atomically(built.files, package_dir)
    return package_dir, built


@pytest.fixture(scope="session")
def kibo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("kibo_specs")


def generated(spec: Path, root: Path) -> tuple[Path, Built]:
    """Each spec is generated once per worker process and shared by the tests that need it."""
    return _generated(spec, root)


def _resource_classes(package_dir: Path) -> dict[str, tuple[type, type]]:
    """Sync and async resource classes of every module under resources/, by module name."""
    package = import_fresh(package_dir.parent, package_dir.name)
    base = sys.modules[f"{package.__name__}._base_client"]
    found: dict[str, tuple[type, type]] = {}
    for module_file in sorted((package_dir / "resources").glob("*.py")):
        if module_file.stem == "__init__":
            continue
        module = __import__(f"{package.__name__}.resources.{module_file.stem}", fromlist=["*"])
        classes = [cls for cls in vars(module).values() if inspect.isclass(cls) and cls.__module__ == module.__name__]
        sync = [c for c in classes if issubclass(c, base.SyncAPIResource)]
        async_ = [c for c in classes if issubclass(c, base.AsyncAPIResource)]
        assert len(sync) == 1 and len(async_) == 1, module_file
        found[module_file.stem] = (sync[0], async_[0])
    return found


def _operation_methods(cls: type) -> dict[str, object]:
    return {
        name: member
        for name, member in vars(cls).items()
        if not name.startswith("_") and name != "with_raw_response" and inspect.isfunction(member)
    }


def _routes_in_source(method: object) -> tuple[str, str]:
    """(METHOD, path template) the generated method sends, read from its source."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(method)))  # type: ignore[arg-type]
    for node in ast.walk(tree):
        called = node.func.value if isinstance(node, ast.Call) and isinstance(node.func, ast.Subscript) else None
        if isinstance(called, ast.Name) and called.id == "FinalRequestOptions":  # FinalRequestOptions[T](...)
            assert isinstance(node, ast.Call)
            verb, target = node.args[0], node.args[1]
            if isinstance(target, ast.Call):  # build_path("...", {...})
                target = target.args[0]
            assert isinstance(verb, ast.Constant) and isinstance(target, ast.Constant)
            return str(verb.value), str(target.value)
    raise AssertionError(f"no request in {method}")


def test_all_26_specs_are_there() -> None:
    assert len(SPEC_FILES) == 26, f"expected Kibo's 26 specs in {KIBO_SPECS}"


@pytest.mark.parametrize("spec", SPEC_FILES, ids=SPEC_IDS)
def test_spec_generates_every_operation(spec: Path, kibo_root: Path) -> None:
    package_dir, built = generated(spec, kibo_root)
    for path in sorted(package_dir.rglob("*.py")):
        compile(path.read_bytes(), str(path), "exec")

    expected = spec_operations(spec)
    resources = _resource_classes(package_dir)
    sent: list[tuple[str, str]] = []
    count = 0
    for sync_cls, async_cls in resources.values():
        methods = _operation_methods(sync_cls)
        async_methods = _operation_methods(async_cls)
        assert methods.keys() == async_methods.keys()
        assert all(inspect.iscoroutinefunction(m) for m in async_methods.values())
        count += len(methods)
        sent.extend(_routes_in_source(m) for m in methods.values())
    assert count == len(expected), f"{count} methods generated for {len(expected)} operations"
    assert sorted(sent) == sorted(expected), "every (method, path) of the spec is sent by one method"
    assert built.operations == len(expected)
    # No Kibo schema needs the last-resort escape hatch (a whole schema typed as Any).
    assert not [w for w in built.warnings if "cannot be expressed" in w]


def _black_check(package_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "black",
            "--check",
            "--quiet",
            "--line-length",
            "100",
            "--target-version",
            "py310",
            str(package_dir),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.parametrize(
    "spec",
    [s for s in SPEC_FILES if s.stem.removeprefix("openapi_") in BLACK_CI_SUBSET],
    ids=lambda s: s.stem.removeprefix("openapi_"),
)
def test_output_is_black_clean(spec: Path, kibo_root: Path) -> None:
    package_dir, _ = generated(spec, kibo_root)
    result = _black_check(package_dir)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("spec", SPEC_FILES, ids=SPEC_IDS)
def test_output_is_black_clean_all(spec: Path, kibo_root: Path) -> None:
    package_dir, _ = generated(spec, kibo_root)
    result = _black_check(package_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    linted = subprocess.run(
        [sys.executable, "-m", "ruff", *RUFF_ON_PACKAGES, str(package_dir)],
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert linted.returncode == 0, linted.stdout[-3000:]


def _mypy(root: Path, packages: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "--cache-dir",
            str(root / ".mypy"),
            *packages,
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_customer_and_commerce_pass_mypy_strict(kibo_root: Path) -> None:
    names = []
    for spec in SPEC_FILES:
        if spec.stem.removeprefix("openapi_") in MYPY_CI_SUBSET:
            names.append(generated(spec, kibo_root)[0].name)
    assert len(names) == len(MYPY_CI_SUBSET)
    result = _mypy(kibo_root, names)
    assert result.returncode == 0, result.stdout[-5000:]


@pytest.mark.slow
def test_all_packages_pass_mypy_strict(kibo_root: Path) -> None:
    names = [generated(spec, kibo_root)[0].name for spec in SPEC_FILES]
    result = _mypy(kibo_root, names)
    assert result.returncode == 0, result.stdout[-5000:]
