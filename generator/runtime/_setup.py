"""What a client's constructor arguments (and, where they are absent, the environment) resolve
to: the base URL and server variables, the routing of operations with their own servers, the
default headers (context headers, a bearer token) and the auth. `_client.py` passes its arguments
here; what the spec decides (servers, context headers, environment names, the token operation)
comes from `_config.py`."""

from __future__ import annotations

import os
from collections.abc import Callable
from urllib.parse import urlsplit

from ._base_client import Headers
from ._config import APP_TOKEN, CONTEXT_HEADERS, ENVIRONMENT, SERVERS, httpx
from ._servers import ServerRouting, ServerTemplate, host_url, match_server, pick_server
from .errors import ConfigurationError

__all__ = ["ClientSetup", "clean_secret", "environment_value"]

AppTokenAuthFactory = Callable[..., httpx.Auth]
"""`oauth.AppTokenAuth`, where the spec has a token operation: (client_id, client_secret, token_url=)."""


def clean_secret(argument: str, value: str) -> str:
    """A token read from a file or the environment often ends in a newline: stripped. Any other
    control character would only be refused on the wire (by then in a log line): refused here,
    without the value."""
    if not isinstance(value, str):
        raise ConfigurationError(f"{argument} must be a str, not {type(value).__name__}")
    value = value.strip()
    if not value or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ConfigurationError(f"{argument} is empty or contains control characters")
    return value


def environment_value(name: str | None) -> str | None:
    value = os.environ.get(name, "").strip() if name else ""
    return value or None


class ClientSetup:
    """What a client's arguments (and, where they are absent, the environment) resolve to."""

    def __init__(
        self,
        *,
        base_url: str | None,
        server: int | str | None,
        variables: dict[str, str | None],
        api_host: str | None,
        auth_host: str | None,
        context: dict[str, str | None],
        access_token: str | None,
        auth: httpx.Auth | None,
        client_id: str | None,
        client_secret: str | None,
        default_headers: Headers | None,
        app_token_auth: AppTokenAuthFactory | None,
    ) -> None:
        if base_url is not None and not (
            isinstance(base_url, str) and base_url.startswith(("http://", "https://"))
        ):
            raise ConfigurationError(f"base_url must start with http:// or https://: {base_url!r}")
        explicit = {k: v for k, v in variables.items() if v is not None}
        if (
            ENVIRONMENT is not None
            and base_url is None
            and api_host is None
            and server is None
            and not explicit
        ):
            api_host = environment_value(ENVIRONMENT.api_host)
        main: ServerTemplate | None
        if base_url is None and api_host is None:
            main = pick_server(server, SERVERS)
            values: dict[str, str | None] = {
                v.argument: variables.get(v.argument) or environment_value(v.env)
                for v in main.variables
            }
            self.base_url = main.resolve(values)
        else:
            if base_url is None:
                assert api_host is not None
                base_url = host_url(api_host, pick_server(server, SERVERS).url if SERVERS else "")
            self.base_url = base_url.rstrip("/")
            matched = match_server(self.base_url, SERVERS)
            main, read_back = matched if matched is not None else (None, {})
            values = {**read_back, **explicit}
        self.variables = values
        overrides: dict[str, str] = {}
        token_servers = APP_TOKEN.servers if APP_TOKEN is not None else ()
        if token_servers:
            if ENVIRONMENT is not None:
                auth_host = auth_host or environment_value(ENVIRONMENT.auth_host)
            if auth_host is None and main is None:
                # A base_url that is none of the spec's servers (a mock, a proxy): the application
                # token is fetched from that same origin, never from a host the caller did not name.
                parts = urlsplit(self.base_url)
                auth_host = f"{parts.scheme}://{parts.netloc}"
            if auth_host is not None:
                overrides = {s.url: host_url(auth_host, s.url) for s in token_servers}
        self.routing = ServerRouting(main, values, overrides)

        headers: dict[str, str] = {}
        for argument, header, env in CONTEXT_HEADERS:
            value = context.get(argument) or values.get(argument) or environment_value(env)
            if value is not None:
                headers[header] = str(value)
        if access_token is not None:
            access_token = clean_secret("access_token", access_token)
            headers["Authorization"] = f"Bearer {access_token}"
        headers.update(default_headers or {})
        self.headers = headers
        self.auth = auth
        if APP_TOKEN is None or app_token_auth is None:
            return
        if client_id is not None or client_secret is not None:
            if access_token is not None or auth is not None:
                raise ConfigurationError(
                    "pass either access_token=/auth= or client_id= and client_secret=, not both"
                )
        elif access_token is None and auth is None and ENVIRONMENT is not None:
            client_id = environment_value(ENVIRONMENT.client_id)
            client_secret = environment_value(ENVIRONMENT.client_secret)
        if client_id is not None or client_secret is not None:
            if not client_id or not client_secret:
                hint = (
                    f" (or set {ENVIRONMENT.client_id} and {ENVIRONMENT.client_secret})"
                    if ENVIRONMENT is not None
                    else ""
                )
                raise ConfigurationError(
                    "the application token needs both client_id=... and client_secret=..." + hint
                )
            token_base = self.routing.base_url(token_servers) if token_servers else self.base_url
            self.auth = app_token_auth(
                client_id, client_secret, token_url=token_base + APP_TOKEN.path
            )
