"""Shared fixtures: paths, generating a package into a temp dir, importing the committed package."""

from __future__ import annotations

import http.server
import importlib
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import pytest

from tests.kibo_server import KiboServer

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "spec" / "kibo_authtickets.yaml"
GENERATED = ROOT / "generated"
SHARED = ROOT.parent / "shared"  # beside the checkout, not in it (DEVELOPERS.md); CI has it
KIBO_SPECS = SHARED / "specs" / "kibo"
CORPUS = SHARED / "corpus"


def needs_shared(path: Path, what: str) -> pytest.MarkDecorator:
    """Skip (with a reason that says what is missing) when `path` is absent, as on a fresh clone
    with nothing beside it. With KIBO_REQUIRE_SHARED=1 (CI's main run) a missing folder fails."""
    missing = not path.exists()
    if missing and os.environ.get("KIBO_REQUIRE_SHARED") == "1":
        raise RuntimeError(f"KIBO_REQUIRE_SHARED=1 but {path} ({what}) is missing")
    return pytest.mark.skipif(
        missing, reason=f"needs {what} in {path} (../shared beside the checkout; CI provides it)"
    )


requires_kibo_specs = needs_shared(KIBO_SPECS, "Kibo's 26 published specs")

pytest_plugins = ["tests.server_fixtures"]


def run_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run `python -m generator ARGS` in a fresh process, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "generator", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def import_fresh(package_dir: Path, name: str) -> ModuleType:
    """Import a generated package from `package_dir`, dropping any earlier import of that name."""
    for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[module]
    sys.path.insert(0, str(package_dir))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(package_dir))


# What a reviewer's linter says about a generated package (pyflakes, import order, bugbear,
# pyupgrade), with no configuration but the package's line length (black's, 100).
RUFF_ON_PACKAGES = (
    *("check", "--isolated", "--select", "F,I,B,UP,E9"),
    *("--target-version", "py310", "--line-length", "100"),
)


def models_source(package: Path) -> str:
    """The model classes of a generated package (`package/models/*.py` but `__init__.py`), one text."""
    modules = sorted(p for p in (package / "models").glob("*.py") if p.name != "__init__.py")
    return "\n\n".join(p.read_text(encoding="utf-8") for p in modules)


# The runtime tests run against the committed package (httpx), and with KIBO_HTTP_LIBRARY=httpx2
# (the slow tier in .ci/run) against the same spec generated with `--http-library httpx2`.
HTTP_LIBRARY = os.environ.get("KIBO_HTTP_LIBRARY", "httpx")
httpx: Any = importlib.import_module(HTTP_LIBRARY)


@pytest.fixture(scope="session")
def kibo(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    """The generated package `kibo_authtickets`: the committed one, or its httpx2 variant."""
    if HTTP_LIBRARY == "httpx":
        return import_fresh(GENERATED, "kibo_authtickets")
    from generator.pipeline import generate

    out = tmp_path_factory.mktemp(HTTP_LIBRARY)
    generate(SPEC, out, "kibo_authtickets", http_library=HTTP_LIBRARY)
    return import_fresh(out, "kibo_authtickets")


@pytest.fixture()
def tree_hash() -> Iterator[object]:
    from generator.emit import read_tree

    yield read_tree


def models(kibo: ModuleType) -> ModuleType:
    """The `models` module of a generated package."""
    return importlib.import_module(kibo.__name__ + ".models")


@pytest.fixture()
def server(kibo_server_session: KiboServer) -> KiboServer:
    """The shared loopback server, reset for this test."""
    return kibo_server_session


@pytest.fixture()
def client(kibo: ModuleType, server: KiboServer) -> Iterator[Any]:
    """A sync client of the committed package on `server`; retries do not really sleep."""
    with kibo.Client(base_url=server.url, access_token=server.issue_app_token()) as c:
        c._sleep = lambda seconds: None
        yield c


@pytest.fixture()
def no_kibo_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove KIBO_* variables for one test (the client falls back to them)."""
    for name in [n for n in os.environ if n.startswith("KIBO_")]:
        monkeypatch.delenv(name)


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Records each request (method, path, headers, body) and answers `{"ok": true}`."""

    seen: ClassVar[list[dict[str, Any]]] = []

    def _record(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        type(self).seen.append(
            {
                "method": self.command,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": self.rfile.read(length),
            }
        )
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = _record

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture()
def recorder() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A second HTTP server on 127.0.0.1 (another origin than the Kibo server): its URL, and what it
    received."""
    seen: list[dict[str, Any]] = []
    handler = type("Recorder", (_Recorder,), {"seen": seen})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", seen
    finally:
        httpd.shutdown()
        httpd.server_close()
