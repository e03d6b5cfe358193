"""The generated README's runtime examples (errors, retries, timeouts, options, raw, async, own
httpx client, logging) run as written against the loopback server; every Python block compiles."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import GENERATED, ROOT
from tests.kibo_server import KiboServer

README = GENERATED / "kibo_authtickets" / "README.md"
RUNNABLE = (  # run in this order: logging first, so the calls after it log
    "Logging",
    "Errors",
    "Retries",
    "Timeouts",
    "Per-call options",
    "Raw responses",
    "Async",
    "Your own httpx client",
)
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.M | re.S)


def sections(text: str) -> dict[str, str]:
    parts = re.split(r"^## (.+)$", text, flags=re.M)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}


@pytest.mark.parametrize(
    "readme",
    [README, ROOT / "tests" / "golden" / "mini_shop" / "README.md"],
    ids=["kibo", "mini"],
)
def test_every_python_block_compiles(readme: Path) -> None:
    text = readme.read_text(encoding="utf-8")
    blocks = _BLOCK.findall(text)
    assert len(blocks) >= 5
    for index, block in enumerate(blocks):
        compile(block, f"{readme}#block{index}", "exec")


def test_runtime_sections_are_documented() -> None:
    found = sections(README.read_text(encoding="utf-8"))
    for title in RUNNABLE:
        assert title in found, title
        assert _BLOCK.search(found[title]), f"no example in {title}"
    errors = found["Errors"]
    for name in ("APIConnectionError", "APITimeoutError", "APIResponseValidationError", "RateLimitError"):
        assert name in errors
    assert "Retry-After" in found["Retries"] and "8 s" in found["Retries"]


def test_runtime_examples_run(kibo_server: KiboServer) -> None:
    found = sections(README.read_text(encoding="utf-8"))
    script = "\n\n".join("# --- " + title + "\n" + "\n".join(_BLOCK.findall(found[title])) for title in RUNNABLE)
    prelude = "import os\nBASE_URL = os.environ['BASE_URL']\nAPP_TOKEN = os.environ['APP_TOKEN']\n"
    env = {
        **os.environ,
        "PYTHONPATH": str(GENERATED),
        "BASE_URL": kibo_server.url,
        "APP_TOKEN": kibo_server.issue_app_token(),
    }
    done = subprocess.run(
        [sys.executable, "-c", prelude + script],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "3 200" in done.stdout  # the async example
    assert "HTTP request: GET" in done.stderr  # the logging example
    assert kibo_server.count() >= 12
    assert all(r.status == 200 for r in kibo_server.requests)
