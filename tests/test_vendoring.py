"""The generated package works when copied alone into another project."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .conftest import GENERATED

# httpx and pydantic with their own dependencies: nothing else may be needed at run time.
RUNTIME_MODULES = (
    "httpx", "httpcore", "h11", "anyio", "sniffio", "idna", "certifi",
    "pydantic", "pydantic_core", "annotated_types", "typing_extensions", "typing_inspection",
)  # fmt: skip


def _link_runtime(into: Path) -> None:
    into.mkdir()
    for name in RUNTIME_MODULES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            continue  # an optional dependency of this httpx/pydantic release
        origin = Path(spec.origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        (into / source.name).symlink_to(source)


def test_vendored_copy_imports_with_only_httpx_and_pydantic(tmp_path: Path) -> None:
    vendor = tmp_path / "vendor"
    shutil.copytree(GENERATED / "kibo_authtickets", vendor / "kibo_authtickets")
    runtime = tmp_path / "runtime"
    _link_runtime(runtime)
    script = (
        "import sys\n"
        f"sys.path[:] = [{str(vendor)!r}, {str(runtime)!r}] + [p for p in sys.path if 'site-packages' not in p]\n"
        "import kibo_authtickets\n"
        "from kibo_authtickets import Client, AsyncClient, SERVERS\n"
        "from kibo_authtickets.models import CustomerAuthTicket, CustomerUserAuthInfo, CartAuthTicketRequest\n"
        "c = Client(base_url='http://127.0.0.1:9/api', access_token='t')\n"
        "assert callable(c.storefront_auth_ticket.refresh_user_auth_ticket)\n"
        "import kibo_authtickets.errors\n"
        "import kibo_authtickets.auth\n"
        "from kibo_authtickets.auth import AppTokenAuth, CustomerTicketAuth, login\n"
        "try:\n"
        "    import jinja2\n"
        "except ImportError:\n"
        "    pass\n"
        "else:\n"
        "    raise SystemExit('the isolated path still sees jinja2')\n"
        "print('ok', kibo_authtickets.__version__)\n"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", script],
        cwd=tmp_path,
        env={"PATH": os.environ.get("PATH", "")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok")
