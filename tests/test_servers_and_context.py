"""Server templates, KIBO_* environment variables and the x-vol-* context headers."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from tests.kibo_server import KiboServer

from .conftest import ROOT

ANONYMOUS = "/commerce/customer/authtickets/anonymousshopper"


# Kibo's environment variables of the machine running the tests must not leak in.
pytestmark = pytest.mark.usefixtures("no_kibo_env")


def test_servers_list_every_template(kibo: ModuleType) -> None:
    assert len(kibo.SERVERS) == 8
    first = kibo.SERVERS[0]
    assert first.url == "https://t{tenantId}-s{siteId}.{env}.usc1.kibocommerce.com/api"
    env = next(v for v in first.variables if v.argument == "env")
    assert env.default == "sb" and "tp1" in env.enum
    tenant = next(v for v in first.variables if v.argument == "tenant_id")
    assert tenant.required and tenant.env == "KIBO_TENANT"


def test_missing_tenant_names_what_to_pass(kibo: ModuleType) -> None:
    with pytest.raises(ValueError, match=r"tenant_id=.*KIBO_TENANT"):
        kibo.Client(access_token="t")
    with pytest.raises(ValueError, match=r"site_id=.*KIBO_SITE"):
        kibo.Client(tenant_id="1", access_token="t")
    # A tenant-level server needs no site.
    client = kibo.Client(server="Tenant Level Api", tenant_id="7", access_token="t")
    assert client.base_url == "https://t7.sandbox.mozu.com/api"


def test_variables_are_validated(kibo: ModuleType) -> None:
    with pytest.raises(ValueError, match=r"env='prod' is not allowed; choose one of 'sb', 'tp1'"):
        kibo.Client(tenant_id="1", site_id="2", env="prod", access_token="t")
    with pytest.raises(ValueError, match="not a valid URL part"):
        kibo.Client(tenant_id="1@evil.example/", site_id="2", access_token="t")
    with pytest.raises(ValueError, match="unknown server"):
        kibo.Client(server="nowhere", tenant_id="1", site_id="2")


def test_environment_fills_absent_arguments_and_arguments_win(
    kibo: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIBO_TENANT", "100")
    monkeypatch.setenv("KIBO_SITE", "200")
    monkeypatch.setenv("KIBO_API_ENV", "tp1")
    assert (
        kibo.Client(access_token="t").base_url == "https://t100-s200.tp1.usc1.kibocommerce.com/api"
    )
    assert (
        kibo.Client(site_id="9", access_token="t").base_url
        == "https://t100-s9.tp1.usc1.kibocommerce.com/api"
    )
    assert (
        kibo.Client(server=2, env="sandbox", access_token="t").base_url
        == "https://t100-s200.sandbox.mozu.com/api"
    )
    monkeypatch.setenv("KIBO_API_HOST", "t5-s6.sandbox.mozu.com")
    client = kibo.Client(access_token="t")
    assert client.base_url == "https://t5-s6.sandbox.mozu.com/api"
    # Read back from the host: the context headers follow the URL actually used.
    assert (
        client._default_headers["x-vol-tenant"] == "5"
        and client._default_headers["x-vol-site"] == "6"
    )
    # Any server argument means "build from the template", not KIBO_API_HOST.
    assert (
        kibo.Client(tenant_id="1", access_token="t").base_url
        == "https://t1-s200.tp1.usc1.kibocommerce.com/api"
    )
    assert (
        kibo.Client(api_host="t8.sandbox.mozu.com", access_token="t").base_url
        == "https://t8.sandbox.mozu.com/api"
    )
    assert (
        kibo.Client("http://127.0.0.1:9/api", access_token="t").base_url == "http://127.0.0.1:9/api"
    )


def test_context_headers_on_every_call(kibo: ModuleType, kibo_server: KiboServer) -> None:
    token = kibo_server.issue_app_token()
    with kibo.Client(
        base_url=kibo_server.url,
        access_token=token,
        tenant_id="12345",
        site_id="67890",
        catalog="1",
        master_catalog="2",
        locale="fr-FR",
        currency="EUR",
        dataview_mode="Pending",
    ) as client:
        client.storefront_auth_ticket.create_anonymous_shopper_auth_ticket()
        client.storefront_auth_ticket.create_anonymous_shopper_auth_ticket(
            extra_headers={"x-vol-locale": "de-DE"}
        )
    first, second = [r.headers for r in kibo_server.requests if r.path == ANONYMOUS]
    assert {k: v for k, v in first.items() if k.startswith("x-vol-")} == {
        "x-vol-tenant": "12345",
        "x-vol-site": "67890",
        "x-vol-catalog": "1",
        "x-vol-master-catalog": "2",
        "x-vol-locale": "fr-FR",
        "x-vol-currency": "EUR",
        "x-vol-dataview-mode": "Pending",
    }
    assert second["x-vol-locale"] == "de-DE"


def test_context_headers_from_environment(
    kibo: ModuleType, kibo_server: KiboServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIBO_CATALOG", "3")
    monkeypatch.setenv("KIBO_MASTER_CATALOG", "4")
    monkeypatch.setenv("KIBO_LOCALE", "en-GB")
    monkeypatch.setenv("KIBO_CURRENCY", "GBP")
    monkeypatch.setenv("KIBO_TENANT", "55")

    async def main() -> None:
        async with kibo.AsyncClient(
            base_url=kibo_server.url, access_token=kibo_server.issue_app_token(), currency="USD"
        ) as client:
            await client.storefront_auth_ticket.create_anonymous_shopper_auth_ticket()

    import asyncio

    asyncio.run(main())
    sent = kibo_server.last("GET", ANONYMOUS).headers
    assert sent["x-vol-catalog"] == "3" and sent["x-vol-master-catalog"] == "4"
    assert sent["x-vol-locale"] == "en-GB" and sent["x-vol-currency"] == "USD"
    assert sent["x-vol-tenant"] == "55" and "x-vol-site" not in sent


def test_match_server_reads_variables_back(kibo: ModuleType) -> None:
    from kibo_authtickets._config import SERVERS
    from kibo_authtickets._servers import match_server

    server, values = match_server("https://t1234-s5678.sandbox.mozu.com/api/", SERVERS)  # type: ignore[misc]
    assert server.description == "Site Level Api"
    assert values == {"tenant_id": "1234", "site_id": "5678", "env": "sandbox"}
    assert match_server("https://example.com/api", SERVERS) is None


def test_a_spec_without_kibo_features_gets_a_generic_client(tmp_path: Path) -> None:
    from generator.pipeline import build_package

    built = build_package(ROOT / "tests" / "fixtures" / "mini.yaml")
    assert "auth.py" not in built.files
    # Issue 11.1: Kibo's runtime parts (and the OAuth one) only where the spec calls for them.
    assert not any(name.startswith("kibo/") or name == "oauth.py" for name in built.files)
    assert all(b"TicketExpired" not in text and b"KIBO_" not in text for text in built.files.values())
    config = built.files["_config.py"].decode()
    assert "x-vol-correlation" not in config and "errorCode" not in config
    client_source = built.files["_client.py"].decode()
    assert "x-vol" not in client_source and "KIBO_" not in client_source
    assert "client_secret: str | None = None" not in client_source
    assert "auth_host: str | None = None" not in client_source


def test_spec_strings_in_auth_wiring_never_become_code(tmp_path: Path) -> None:
    """Hostile names in the security schemes and the OAuth schema end up as string literals only."""
    import ast

    import yaml

    from generator.pipeline import build_package

    spec = yaml.safe_load((ROOT / "spec" / "kibo_authtickets.yaml").read_text())
    token_props = spec["components"]["schemas"]["OAuthAccessTokenResponse"]["properties"]
    evil_field = 'access"\n)#_token'  # still "accesstoken" once normalised: it is wired in
    token_props[evil_field] = token_props.pop("access_token")
    evil_header = 'x-vol-user-claims"\nimport os #'
    spec["components"]["securitySchemes"]["userClaims"]["name"] = evil_header
    path = tmp_path / "evil.yaml"
    path.write_text(yaml.safe_dump(spec))

    files = build_package(path, "evil_kibo").files
    config = ast.parse(files["_config.py"].decode())  # the runtime reads the wiring from here
    keywords = {
        keyword.arg: keyword.value.value
        for node in ast.walk(config)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "TicketSettings"
        for keyword in node.keywords
        if isinstance(keyword.value, ast.Constant)
    }
    assert keywords["claims_header"] == evil_header
    for name in ("_config.py", "auth.py"):
        tree = ast.parse(files[name].decode())
        assert not any(isinstance(n, ast.Import) and n.names[0].name == "os" for n in ast.walk(tree)), name
    literals = {n.value for n in ast.walk(config) if isinstance(n, ast.Constant)}
    assert evil_field in literals
