"""Static quality gates: mypy --strict on the generated package and the generator, ruff on the generator."""

from __future__ import annotations

import subprocess
import sys

from .conftest import GENERATED, ROOT


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_generated_package_passes_mypy_strict() -> None:
    result = _run("mypy", "--strict", "--no-incremental", str(GENERATED / "kibo_authtickets"))
    assert result.returncode == 0, result.stdout


def test_generator_passes_mypy_strict() -> None:
    result = _run("mypy", "--strict", "generator")
    assert result.returncode == 0, result.stdout


def test_generator_passes_ruff() -> None:
    result = _run("ruff", "check", "generator", "tests")
    assert result.returncode == 0, result.stdout


def test_generated_packages_pass_ruff() -> None:
    """Issue 11.3: what a reviewer's linter says about the generated code (pyflakes, import order,
    bugbear, pyupgrade), with no configuration of ours: the committed package and the golden one."""
    result = _run(
        "ruff", "check", "--isolated", "--select", "F,I,B,UP,E9", "--target-version", "py310",
        str(GENERATED / "kibo_authtickets"), str(ROOT / "tests" / "golden" / "mini_shop"),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout
