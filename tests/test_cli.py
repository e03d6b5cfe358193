"""The CLI as users run it (fresh processes): regenerate, generate, check."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from generator.emit import read_tree

from .conftest import GENERATED, ROOT, SPEC, run_cli


@pytest.fixture()
def repo_copy(tmp_path: Path) -> Path:
    """A copy of the project's generator, templates, spec and generated output."""
    for name in ("generator", "templates", "spec", "generated"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", ".*_cache"))
    return tmp_path


def test_bare_command_regenerates_the_committed_package(repo_copy: Path) -> None:
    shutil.rmtree(repo_copy / "generated")
    result = run_cli(cwd=repo_copy)
    assert result.returncode == 0, result.stderr
    assert "operations" in result.stdout and "files" in result.stdout
    package = "kibo_authtickets"
    assert read_tree(repo_copy / "generated" / package) == read_tree(GENERATED / package)


def test_check_is_clean_on_the_committed_tree() -> None:
    result = run_cli("check")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "edit",
    ["spec", "template", "runtime", "generated-file", "generated-extra-file", "generated-missing-file"],
)
def test_check_fails_after_any_edit(repo_copy: Path, edit: str) -> None:
    package = repo_copy / "generated" / "kibo_authtickets"
    if edit == "spec":
        spec = repo_copy / "spec" / SPEC.name
        spec.write_text(spec.read_text() + "\n# a comment changes the hash\n")
    elif edit == "template":
        template = repo_copy / "templates" / "_client.py.jinja"
        template.write_text(template.read_text() + "\n{# even a Jinja comment #}\n")
    elif edit == "runtime":
        runtime = repo_copy / "generator" / "runtime" / "errors.py"
        runtime.write_text(runtime.read_text() + "\n# a comment in the runtime\n")
    elif edit == "generated-file":
        target = package / "errors.py"
        target.write_text(target.read_text() + "\n# hand edit\n")
    elif edit == "generated-extra-file":
        (package / "extra.py").write_text("x = 1\n")
    else:
        (package / "py.typed").unlink()
    before = read_tree(repo_copy / "generated")
    result = run_cli("check", cwd=repo_copy)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "differ" in result.stdout
    assert read_tree(repo_copy / "generated") == before, "check must write nothing"


def test_generate_any_spec_into_a_directory(tmp_path: Path) -> None:
    result = run_cli("generate", str(SPEC), "-o", str(tmp_path), "--package-name", "my_kibo")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "my_kibo" / "__init__.py").is_file()
    default_name = run_cli("generate", str(ROOT / "tests" / "fixtures" / "mini.yaml"), "-o", str(tmp_path))
    assert default_name.returncode == 0, default_name.stderr
    assert (tmp_path / "mini_shop" / "_client.py").is_file()  # derived from info.title


def test_package_name_from_the_spec(tmp_path: Path) -> None:
    # Our spec names its package (info.x-package-name), so every command agrees on it.
    assert run_cli("generate", str(SPEC), "-o", str(tmp_path)).returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kibo_authtickets"]
    result = run_cli("check", str(SPEC))
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_of_another_spec_and_output(tmp_path: Path) -> None:
    mini = ROOT / "tests" / "fixtures" / "mini.yaml"
    assert run_cli("generate", str(mini), "-o", str(tmp_path)).returncode == 0
    assert run_cli("check", str(mini), "-o", str(tmp_path)).returncode == 0
    (tmp_path / "mini_shop" / "models.py").write_text("# edited\n")
    assert run_cli("check", str(mini), "-o", str(tmp_path)).returncode == 1


def test_bad_input_exits_2_with_one_line_and_leaves_output_alone(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run_cli("generate", str(ROOT / "tests" / "fixtures" / "mini.yaml"), "-o", str(out)).returncode == 0
    before = read_tree(out)
    bad = tmp_path / "bad.yaml"
    bad.write_text("openapi: 3.0.3\ninfo: {title: x, version: '1'\npaths: {}\n")
    result = run_cli("generate", str(bad), "-o", str(out), "--package-name", "mini_shop")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {bad}:") and "Traceback" not in result.stderr
    assert read_tree(out) == before
