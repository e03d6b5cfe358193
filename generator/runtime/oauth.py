"""`AppTokenAuth`: the application token of the spec's OAuth client-credentials operation, fetched,
cached and renewed before it expires. `Client(client_id=..., client_secret=...)` uses it.

No token or secret is ever logged or put in an exception message.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncGenerator, Generator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from . import _config
from . import errors as _errors
from ._base_client import redact_json, redact_text
from ._config import httpx
from ._servers import ServerTemplate, host_url
from ._settings import Clock, aware, utcnow
from ._setup import environment_value

if TYPE_CHECKING:
    import asyncio

__all__ = ["TOKEN_PATH", "TOKEN_SERVERS", "AppTokenAuth"]

log = logging.getLogger(_config.PACKAGE_NAME)

if _config.APP_TOKEN is None:  # the generator copies this module only where the spec has one
    raise ImportError("this API has no application-token operation")
TOKEN = _config.APP_TOKEN
TOKEN_PATH: str = TOKEN.path
TOKEN_SERVERS: tuple[ServerTemplate, ...] = TOKEN.servers


def async_lock(holder: dict[int, asyncio.Lock]) -> asyncio.Lock:
    """One asyncio.Lock per event loop (a lock is bound to the loop it is first used in)."""
    import asyncio  # here, not at module level: importing the package stays cheap

    loop_id = id(asyncio.get_running_loop())
    lock = holder.get(loop_id)
    if lock is None:
        holder.clear()
        lock = holder[loop_id] = asyncio.Lock()
    return lock


class AppTokenAuth(httpx.Auth):
    """`Authorization: Bearer <application token>`, fetched with the OAuth client-credentials grant.

    The token is cached and fetched again `skew` seconds before `expires_in` runs out (at most
    half its lifetime early); concurrent requests (threads, or tasks of one event loop) share one
    fetch. The fetch goes through the same httpx client (proxies, transports) as the request.

        auth = AppTokenAuth(client_id, client_secret, auth_host="home.mozu.com")
        client = Client(..., auth=auth)      # or simply Client(..., client_id=..., client_secret=...)
    """

    def __init__(
        self,
        client_id: str | None = None,
        client_secret: str | None = None,
        *,
        auth_host: str | None = None,
        token_url: str | None = None,
        skew: float = 60.0,
        clock: Clock | None = None,
    ) -> None:
        """client_id, client_secret: the application's key and shared secret (else the environment
            variables of `_config.ENVIRONMENT`, where the spec has them: Kibo's $KIBO_CLIENT_ID and
            $KIBO_SHARED_SECRET).
        auth_host: host or base URL of the token operation (else $KIBO_AUTH_HOST for Kibo), default
            the spec's first server of that operation.
        token_url: the full token URL instead (wins over auth_host).
        skew: seconds before expiry at which the token is renewed.
        clock: the current time, for tests.
        """
        environment = _config.ENVIRONMENT
        if environment is not None:
            client_id = client_id or environment_value(environment.client_id)
            client_secret = client_secret or environment_value(environment.client_secret)
            auth_host = auth_host or environment_value(environment.auth_host)
        if not client_id or not client_secret:
            raise _errors.ConfigurationError(
                "AppTokenAuth needs client_id=... and client_secret=..."
            )
        if token_url is None:
            if auth_host is not None:
                first = TOKEN_SERVERS[0].url if TOKEN_SERVERS else ""
                token_url = host_url(auth_host, first) + TOKEN_PATH
            elif TOKEN_SERVERS:
                token_url = TOKEN_SERVERS[0].resolve({}).rstrip("/") + TOKEN_PATH
            else:
                raise _errors.ConfigurationError(
                    "AppTokenAuth needs auth_host=... (the base URL of the token operation)"
                )
        if skew < 0:
            raise _errors.ConfigurationError("skew must be >= 0")
        self.client_id = client_id
        self.__secret = client_secret
        self.token_url = token_url
        self.skew = skew
        self._clock: Clock = clock or utcnow
        self._token: str | None = None
        self._renew_at: datetime | None = None
        self._lock = threading.Lock()
        self._async_locks: dict[int, asyncio.Lock] = {}
        self.fetch_count = 0
        """How many tokens were fetched (for monitoring and tests)."""

    def __repr__(self) -> str:
        return f"AppTokenAuth(client_id={self.client_id!r}, token_url={self.token_url!r})"

    def invalidate(self) -> None:
        """Forget the cached token (e.g. after it was revoked): the next request fetches a new one."""
        self._token = None
        self._renew_at = None

    def _cached(self) -> str | None:
        token, renew_at = self._token, self._renew_at
        if token is None or (renew_at is not None and aware(self._clock()) >= renew_at):
            return None
        return token

    def _token_request(self) -> httpx.Request:
        body: dict[str, str] = {
            TOKEN.client_id_field: self.client_id,
            TOKEN.client_secret_field: self.__secret,
        }
        if TOKEN.grant_type_field is not None:
            body[TOKEN.grant_type_field] = "client_credentials"
        return httpx.Request(
            TOKEN.http_method, self.token_url, json=body, headers={"Accept": "application/json"}
        )

    def _is_token_request(self, request: httpx.Request) -> bool:
        return str(request.url).split("?", 1)[0].rstrip("/") == self.token_url.rstrip("/")

    def _accept(self, response: httpx.Response) -> str:
        """Store the token from the token operation's response, or raise a redacted error."""
        try:
            data: Any = response.json()
        except ValueError:
            data = None
        where = f"{TOKEN.http_method} {self.token_url}"
        if not response.is_success:
            detail = data.get("message") if isinstance(data, dict) else None
            message = (
                f"application token request failed: {response.status_code} "
                f"{response.reason_phrase} from {where}"
            )
            if isinstance(detail, str) and detail:
                message += f": {detail}"
            cls = _errors.status_error_class(response.status_code)
            message = redact_text(message, frozenset({self.__secret}))
            raise cls(message, response=response, body=redact_json(data))
        token = data.get(TOKEN.access_token_field) if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise _errors.APIResponseValidationError(
                f"{response.status_code} response from {where} has no {TOKEN.access_token_field}",
                response=response,
                body=redact_json(data),
            )
        expires_in = data.get(TOKEN.expires_in_field)
        self._token = token
        self._renew_at = None
        if isinstance(expires_in, (int, float)) and not isinstance(expires_in, bool):
            early = min(self.skew, max(float(expires_in), 0.0) / 2)
            self._renew_at = aware(self._clock()) + timedelta(seconds=float(expires_in) - early)
        self.fetch_count += 1
        log.debug(
            "fetched an application token for client_id %s (expires_in %s)",
            self.client_id,
            expires_in,
        )
        return token

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        if self._is_token_request(request):
            yield request
            return
        token = self._cached()
        if token is None:
            with self._lock:
                token = self._cached()
                if token is None:
                    response = yield self._token_request()
                    response.read()
                    token = self._accept(response)
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code != 401:
            return
        # The application token was rejected (revoked, or the server's clock runs ahead): fetch a
        # new one once and send the request again; a second 401 is the caller's to handle.
        with self._lock:
            if self._token == token:
                self.invalidate()
                fetched = yield self._token_request()
                fetched.read()
                self._accept(fetched)
            token = self._token or token
        request.headers["Authorization"] = f"Bearer {token}"
        yield request

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if self._is_token_request(request):
            yield request
            return
        token = self._cached()
        if token is None:
            async with async_lock(self._async_locks):
                token = self._cached()
                if token is None:
                    response = yield self._token_request()
                    await response.aread()
                    token = self._accept(response)
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code != 401:
            return
        async with async_lock(self._async_locks):  # as in sync_auth_flow: one new token, one retry
            if self._token == token:
                self.invalidate()
                fetched = yield self._token_request()
                await fetched.aread()
                self._accept(fetched)
            token = self._token or token
        request.headers["Authorization"] = f"Bearer {token}"
        yield request
