"""Issue 15: the generator as a tool in someone else's project.

- the vendoring workflow end to end: `[tool.kibo-codegen]` in the application's pyproject.toml,
  the bare command writes the package into the application's source tree, `check` passes in the
  application's CI and fails after an edit;
- the bare command with no project exits 2 saying what to pass;
- after a normal (non-editable) install, nothing is ever written into site-packages (slow tier:
  it builds the wheel).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from generator import __version__

from .conftest import ROOT, SPEC, models_source, run_cli

PYPROJECT = """\
[project]
name = "storefront-backend"
version = "1.0.0"

[tool.kibo-codegen]
spec = "openapi/kibo_authtickets.yaml"
output = "src"
package-name = "kibo_client"
"""


def make_application(tmp_path: Path) -> Path:
    app = tmp_path / "storefront-backend"
    (app / "openapi").mkdir(parents=True)
    (app / "src").mkdir()
    shutil.copy(SPEC, app / "openapi" / "kibo_authtickets.yaml")
    (app / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (app / "src" / "shop.py").write_text(
        "from kibo_client import Client\n\n"
        "def make_client() -> Client:\n"
        "    return Client(tenant_id='1', site_id='2', access_token='t')\n",
        encoding="utf-8",
    )
    return app


def test_vendoring_workflow(tmp_path: Path) -> None:
    app = make_application(tmp_path)
    # generate: run from anywhere inside the application; the settings are read once, from pyproject.toml
    generated = run_cli("--quiet", cwd=app / "src")
    assert generated.returncode == 0, generated.stderr
    package = app / "src" / "kibo_client"
    assert (package / "__init__.py").is_file() and (package / "py.typed").is_file()
    assert sorted(p.name for p in (app / "src").iterdir()) == ["kibo_client", "shop.py"]
    # the application's own code uses it
    used = subprocess.run(
        [sys.executable, "-c", "import shop; print(shop.make_client().base_url)"],
        cwd=app / "src",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert used.returncode == 0 and "t1-s2" in used.stdout, used.stderr
    # check, as the application's CI would run it
    assert run_cli("check", cwd=app).returncode == 0
    init = package / "__init__.py"
    init.write_text(init.read_text(encoding="utf-8") + "# local edit\n", encoding="utf-8")
    drift = run_cli("check", cwd=app)
    assert drift.returncode == 1 and "__init__.py" in drift.stdout
    # a spec change is picked up by the bare command
    spec = app / "openapi" / "kibo_authtickets.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace("Refresh", "Renew", 1), encoding="utf-8")
    assert run_cli("--quiet", cwd=app).returncode == 0
    assert run_cli("check", cwd=app).returncode == 0


def test_configuration_errors_are_located(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.kibo-codegen]\nspec = "s.yaml"\nouptut = "x"\n', encoding="utf-8")
    result = run_cli(cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {tmp_path / 'pyproject.toml'}: [tool.kibo-codegen]: unknown key 'ouptut'")


def test_version_and_help_name_the_real_defaults() -> None:
    version = run_cli("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"kibo-codegen {__version__}"
    help_text = " ".join(run_cli("generate", "--help").stdout.split())
    assert "info.x-package-name, else derived from info.title" in help_text


def _run_installed(target: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(target), "KIBO_CODEGEN_CACHE": "0"}
    return subprocess.run(
        [sys.executable, "-m", "generator", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.mark.slow
def test_an_installed_generator_works_on_the_current_project(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(wheels), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr
    target = tmp_path / "site-packages"
    (wheel,) = wheels.glob("kibo_codegen-*.whl")
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(wheel)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert installed.returncode == 0, installed.stderr
    before = sorted(p.relative_to(target) for p in target.rglob("*") if "__pycache__" not in p.parts)
    nowhere = tmp_path / "empty"
    nowhere.mkdir()
    bare = _run_installed(target, nowhere)
    assert bare.returncode == 2
    assert "no project here" in bare.stderr and "generate SPEC -o OUT_DIR" in bare.stderr
    app = make_application(tmp_path)
    assert _run_installed(target, app, "--quiet").returncode == 0
    assert _run_installed(target, app, "check").returncode == 0
    assert (app / "src" / "kibo_client" / "__init__.py").is_file()
    after = sorted(p.relative_to(target) for p in target.rglob("*") if "__pycache__" not in p.parts)
    assert after == before, "nothing may be written into site-packages"
    assert _run_installed(target, nowhere, "--version").stdout.strip() == f"kibo-codegen {__version__}"


def test_httpx2_package_never_imports_httpx(tmp_path: Path) -> None:
    pytest.importorskip("httpx2", reason="httpx2 is not installed (the test extra installs it on Python >= 3.11)")
    app = make_application(tmp_path)
    pyproject = app / "pyproject.toml"
    pyproject.write_text(pyproject.read_text(encoding="utf-8") + 'http-library = "httpx2"\n', encoding="utf-8")
    assert run_cli("--quiet", cwd=app).returncode == 0
    package = app / "src" / "kibo_client"
    sources = "".join(p.read_text(encoding="utf-8") for p in package.rglob("*.py"))
    assert "import httpx2 as httpx" in sources and "\nimport httpx\n" not in sources
    assert "`httpx2>=2.16`" in (package / "README.md").read_text(encoding="utf-8")
    blocked = subprocess.run(
        [sys.executable, "-c", "import sys; sys.modules['httpx'] = None; import shop; shop.make_client(); print('ok')"],
        cwd=app / "src",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert blocked.returncode == 0 and blocked.stdout.strip() == "ok", blocked.stderr
    assert run_cli("check", cwd=app).returncode == 0  # check reads the same setting
    bad = run_cli("generate", str(SPEC), "-o", str(tmp_path / "x"), "--http-library", "requests")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr


PINS = """
[tool.kibo-codegen.pins.methods]
"POST /commerce/customer/authtickets/refresh" = "renew"
"PUT /commerce/customer/authtickets/refresh" = "renew_ticket"
[tool.kibo-codegen.pins.models]
CustomerAuthTicket = "ShopperTicket"
[tool.kibo-codegen.pins.resources]
StorefrontAuthTicket = "auth"
"""


def test_name_pins_win_over_derived_names(tmp_path: Path) -> None:
    app = make_application(tmp_path)
    pyproject = app / "pyproject.toml"
    pyproject.write_text(pyproject.read_text(encoding="utf-8") + PINS, encoding="utf-8")
    result = run_cli(cwd=app)
    assert result.returncode == 0, result.stderr
    # A pin for a route the spec does not have is a warning, not an error.
    assert "pins].methods 'POST /commerce/customer/authtickets/refresh': the spec has no such route" in result.stderr
    package = app / "src" / "kibo_client"
    resource = (package / "resources" / "auth.py").read_text(encoding="utf-8")
    assert "def renew_ticket(" in resource and "def refresh_user_auth_ticket(" not in resource
    assert "-> ShopperTicket:" in resource
    assert "class ShopperTicket(" in models_source(package)
    assert "def auth(self)" in (package / "_client.py").read_text(encoding="utf-8")
    assert run_cli("check", cwd=app).returncode == 0  # check applies the same pins
    # `generate SPEC` inside the project applies them too (the spec is the project's).
    again = run_cli("generate", "openapi/kibo_authtickets.yaml", "-o", "src", "--quiet", cwd=app)
    assert again.returncode == 0 and run_cli("check", cwd=app).returncode == 0


@pytest.mark.parametrize(
    ("pins", "message"),
    [
        ('[tool.kibo-codegen.pins.models]\nCustomerAuthTicket = "CustomerAccount"\n', "'CustomerAccount' is"),
        ('[tool.kibo-codegen.pins.methods]\n"PUT /commerce/customer/authtickets/refresh" = "impersonate_cart"\n',
         "is"),
        ('[tool.kibo-codegen.pins.models]\nCustomerAuthTicket = "not valid"\n', "is not a Python identifier"),
        ('[tool.kibo-codegen.pins.resources]\nStorefrontAuthTicket = "close"\n', "a name the package uses itself"),
        ('[tool.kibo-codegen.pins.colours]\nx = "y"\n', "unknown pin table"),
    ],
)  # fmt: skip
def test_a_colliding_or_bad_pin_is_a_located_error(tmp_path: Path, pins: str, message: str) -> None:
    app = make_application(tmp_path)
    pyproject = app / "pyproject.toml"
    pyproject.write_text(pyproject.read_text(encoding="utf-8") + pins, encoding="utf-8")
    result = run_cli(cwd=app)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"error: {pyproject}: [tool.kibo-codegen.pins]."), result.stderr
    assert message in result.stderr
    assert not (app / "src" / "kibo_client").exists()


def test_stage_timings_and_quiet(tmp_path: Path) -> None:
    """Issue 15.5: one line per stage with its time on stderr after a run; --quiet prints nothing."""
    out = tmp_path / "out"
    spec = tmp_path / "spec.yaml"  # bytes of its own: a build-cache miss, so every stage runs
    spec.write_text(SPEC.read_text(encoding="utf-8") + f"# {uuid.uuid4()}\n", encoding="utf-8")
    loud = run_cli("generate", str(spec), "-o", str(out))
    assert loud.returncode == 0
    stages = [line.split()[0] for line in loud.stderr.splitlines() if line.startswith("  ")]
    assert {"load", "validate", "build", "models", "render", "format", "write"} <= set(stages), loud.stderr
    assert all(line.rstrip().endswith(" s") for line in loud.stderr.splitlines() if line.startswith("  "))
    quiet = run_cli("generate", str(spec), "-o", str(tmp_path / "quiet"), "--quiet")
    assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == ""


def test_progress_bar_on_a_terminal() -> None:
    import io

    from generator.progress import Progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    progress = Progress(stream=screen)
    with progress.stage("models"):
        assert screen.getvalue() == "\r[#####---] models..."
    assert screen.getvalue().endswith("\r\x1b[K  models      0.00 s\n")
