"""Issue 12.10: the generated package works with the oldest httpx and pydantic its README names
(slow tier: it makes a virtual environment and installs them from the package index)."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.conftest import GENERATED
from tests.kibo_server import KiboServer

OLDEST = ("pydantic==2.7.0", "httpx==0.27.0")  # 2.7: Field(deprecated=) for `deprecated: true` properties
SCRIPT = """
import sys
import kibo_authtickets as k
from kibo_authtickets.models import CartAuthTicketRequest, CustomerUserAuthInfo
url, token = sys.argv[1], sys.argv[2]
with k.Client(base_url=url, access_token=token, max_retries=0) as client:
    ticket = client.storefront_auth_ticket.create_user_auth_ticket(
        body=CustomerUserAuthInfo(username="old@example.com", password="pw-123456"))
    assert ticket.access_token and ticket.requires_2fa is not True
    assert "pw-123456" not in repr(ticket) and ticket.refresh_token
    renewed = client.storefront_auth_ticket.refresh_user_auth_ticket(refresh_token=ticket.refresh_token)
    assert renewed.access_token != ticket.access_token
    try:
        client.storefront_auth_ticket.impersonate_cart(body=CartAuthTicketRequest(cart_id="nope", account_id=1))
    except k.APIStatusError as exc:
        print("status", exc.status_code)
    import pydantic, httpx
    print("ok", pydantic.VERSION, httpx.__version__)
"""


@pytest.mark.slow
def test_the_oldest_supported_dependencies(tmp_path: Path, kibo_server: KiboServer) -> None:
    env_dir = tmp_path / "oldest"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", *OLDEST], capture_output=True, text=True, timeout=600
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    kibo_server.add_user("old@example.com", "pw-123456")
    result = subprocess.run(
        [str(python), "-c", SCRIPT, kibo_server.url, kibo_server.issue_app_token()],
        env={"PYTHONPATH": str(GENERATED), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok 2.7.0 0.27.0" in result.stdout
    assert sys.version_info >= (3, 10)
