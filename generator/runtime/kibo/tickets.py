"""Calling APIs on behalf of a shopper with their auth ticket.

The ticket's access token goes in the claims header (Kibo: `x-vol-user-claims`), the application
token stays in `Authorization`; the ticket is refreshed `refresh_margin` seconds before it expires
and once on a 401, with exactly one refresh call however many threads or tasks race;
`TicketExpiredError` when the refresh token itself has expired or is rejected.

The package's `auth.py` subclasses `CustomerTicketAuth`/`AsyncCustomerTicketAuth` with its ticket
model and its refresh operation. No token is ever logged or put in an exception message.
"""

from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .. import _config
from .. import errors as _errors
from .._base_client import AsyncAPIClient, SyncAPIClient
from .._config import TICKET, httpx
from .._settings import Clock, aware, utcnow

if TYPE_CHECKING:
    import concurrent.futures

    from pydantic import BaseModel

__all__ = [
    "CLAIMS_HEADER",
    "AsyncCustomerTicketAuth",
    "CustomerTicketAuth",
    "TicketExpiredError",
    "find_header",
    "wire_field",
]

log = logging.getLogger(_config.PACKAGE_NAME)

CLAIMS_HEADER = TICKET.claims_header
"""The header carrying the shopper's access token."""

# A string bound: touching pydantic.BaseModel here would build pydantic's model machinery at import.
TicketT = TypeVar("TicketT", bound="BaseModel")
SyncClientT = TypeVar("SyncClientT", bound=SyncAPIClient)
AsyncClientT = TypeVar("AsyncClientT", bound=AsyncAPIClient)


class TicketExpiredError(_errors.APIError):
    """A shopper's refresh token has expired or was rejected: the shopper must log in again."""


def wire_field(model: Any, name: str) -> Any:
    """A field of a model by its wire name (attribute names are generated; wire names are the spec's)."""
    if isinstance(model, Mapping):
        return model.get(name)
    for attribute, info in type(model).model_fields.items():
        if (info.serialization_alias or info.alias or attribute) == name:
            return getattr(model, attribute)
    return (getattr(model, "model_extra", None) or {}).get(name)


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return aware(value)
    if isinstance(value, str) and value:
        try:
            return aware(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return None
    return None


def find_header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None


def claims_headers(ticket: Any) -> dict[str, str]:
    """The claims header of a ticket's access token (none when it has no token)."""
    token = wire_field(ticket, TICKET.access_token_field)
    return {CLAIMS_HEADER: token} if isinstance(token, str) and token else {}


def _app_authorization(request: httpx.Request, default_headers: Mapping[str, str]) -> None:
    """The client's own `Authorization` header (a bearer token), unless the request has one."""
    if "Authorization" not in request.headers:
        header = find_header(default_headers, "Authorization")
        if header is not None:
            request.headers["Authorization"] = header


class _TicketPolicy(Generic[TicketT]):
    """When a ticket needs refreshing, and whether it still can be (no I/O)."""

    def __init__(
        self,
        ticket: TicketT | Mapping[str, Any],
        refresh_margin: float,
        on_refresh: Callable[[TicketT], object] | None,
        clock: Clock | None,
    ) -> None:
        if refresh_margin < 0:
            raise _errors.ConfigurationError("refresh_margin must be >= 0")
        self._ticket = self._as_ticket(ticket)
        self.refresh_margin = refresh_margin
        # The margin for the current ticket: `refresh_margin` for one handed in, at most half its
        # lifetime for one this auth obtained (a 60 s ticket is refreshed after 30 s, not at once
        # and again at every call), None for one that arrived already expired (clock skew): used
        # as it is until the server rejects it.
        self._margin: float | None = refresh_margin
        self.on_refresh = on_refresh
        self._clock: Clock = clock or utcnow
        self.refresh_count = 0
        """How many times the ticket was refreshed (for monitoring and tests)."""

    @classmethod
    def ticket_type(cls) -> type[TicketT]:
        """The package's ticket model (the subclass in `auth.py` says which)."""
        raise NotImplementedError

    def _as_ticket(self, ticket: object) -> TicketT:
        model = self.ticket_type()
        if isinstance(ticket, model):
            return ticket
        if isinstance(ticket, Mapping):
            return model.model_validate(ticket)
        raise TypeError(f"expected a {model.__name__} or a mapping, got {type(ticket).__name__}")

    @property
    def ticket(self) -> TicketT:
        """The current ticket (the latest refreshed one)."""
        return self._ticket

    def _due(self, ticket: TicketT) -> bool:
        if not wire_field(ticket, TICKET.access_token_field):
            return True
        margin = self._margin if ticket is self._ticket else self.refresh_margin
        expires = _moment(wire_field(ticket, TICKET.access_token_expiration_field))
        if expires is None or margin is None:
            return (
                False  # unknown expiry, or arrived expired: refresh only when the server says 401
            )
        return (expires - aware(self._clock())).total_seconds() <= margin

    def _adopt(self, new: TicketT) -> None:
        """Make a freshly obtained ticket the current one, with a margin its lifetime allows."""
        expires = _moment(wire_field(new, TICKET.access_token_expiration_field))
        margin: float | None = self.refresh_margin
        if expires is not None:
            lifetime = (expires - aware(self._clock())).total_seconds()
            margin = min(self.refresh_margin, lifetime / 2) if lifetime > 0 else None
        self._ticket, self._margin = new, margin
        self.refresh_count += 1
        log.info("refreshed the shopper's ticket (refresh %d)", self.refresh_count)

    def _refresh_token(self, ticket: TicketT) -> str:
        """The refresh token, or TicketExpiredError when it is missing or expired (checked locally)."""
        token = wire_field(ticket, TICKET.refresh_token_field)
        if not isinstance(token, str) or not token:
            raise TicketExpiredError(
                "the shopper's ticket has no refresh token: log the shopper in again"
            )
        expires = _moment(wire_field(ticket, TICKET.refresh_token_expiration_field))
        if expires is not None and expires <= aware(self._clock()):
            raise TicketExpiredError(
                f"the shopper's refresh token expired at {expires.isoformat()}: log the shopper in again"
            )
        return token

    @staticmethod
    def _rejected(exc: _errors.APIStatusError) -> TicketExpiredError | None:
        if exc.status_code in (400, 401, 403, 404):
            return TicketExpiredError(
                f"the shopper's refresh token was rejected ({exc.status_code}): log the shopper in again"
            )
        return None

    def _claims(self, request: httpx.Request, ticket: TicketT) -> None:
        request.headers.update(claims_headers(ticket))


class CustomerTicketAuth(_TicketPolicy[TicketT], httpx.Auth, Generic[SyncClientT, TicketT]):
    """`httpx.Auth` acting on behalf of a shopper, for `Client` (see `AsyncCustomerTicketAuth`).

    Each request gets the ticket's access token as the claims header and the client's application
    token as `Authorization` (unless the request has one). The ticket is refreshed through the
    spec's refresh operation when its access token expires within `refresh_margin` seconds, and
    once after a 401 (then the request is sent once more). Threads share one refresh;
    `on_refresh(new_ticket)` runs after each. `TicketExpiredError` when the refresh token has
    expired (checked before any call) or is rejected.
    """

    def __init__(
        self,
        client: SyncClientT,
        ticket: TicketT | Mapping[str, Any],
        *,
        refresh_margin: float = 180.0,
        on_refresh: Callable[[TicketT], object] | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(ticket, refresh_margin, on_refresh, clock)
        self._client = client
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(refresh_margin={self.refresh_margin!r}, "
            f"refresh_count={self.refresh_count})"
        )

    def call_refresh(self, client: SyncClientT, refresh_token: str) -> TicketT:
        """The spec's refresh operation (the subclass in `auth.py` says which)."""
        raise NotImplementedError

    def _refresh_locked(self, ticket: TicketT) -> TicketT:
        refresh_token = self._refresh_token(ticket)
        try:
            # A timeout or a broken connection raises APITimeoutError/APIConnectionError as it is
            # (the operation is not retried once sent: the token may be spent); the ticket is kept.
            new = self.call_refresh(self._client, refresh_token)
        except _errors.APIStatusError as exc:
            rejected = self._rejected(exc)
            if rejected is None:
                raise
            raise rejected from exc
        self._adopt(new)
        if self.on_refresh is not None:
            self.on_refresh(new)
        return new

    def current_ticket(self) -> TicketT:
        """The ticket, refreshed first when it is due (one refresh however many threads ask)."""
        ticket = self._ticket
        if not self._due(ticket):
            return ticket
        with self._lock:
            ticket = self._ticket
            if self._due(ticket):
                ticket = self._refresh_locked(ticket)
        return ticket

    def _after_401(self, failed: TicketT) -> TicketT:
        with self._lock:
            if self._ticket is failed:
                return self._refresh_locked(failed)
            return self._ticket

    def _send(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, httpx.Response]:
        """Send with the application's auth: the client's own `httpx.Auth` flow, or its bearer header."""
        app_auth = self._client._auth
        if app_auth is None or app_auth is self:
            _app_authorization(request, self._client._default_headers)
            response = yield request
            return response
        flow = app_auth.sync_auth_flow(request)
        try:
            outgoing = next(flow)
            while True:
                response = yield outgoing
                try:
                    outgoing = flow.send(response)
                except StopIteration:
                    return response
        finally:
            flow.close()

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        ticket = self.current_ticket()
        for attempt in (1, 2):
            self._claims(request, ticket)
            response = yield from self._send(request)
            if response.status_code != 401 or attempt == 2:
                return
            ticket = self._after_401(ticket)

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        raise RuntimeError(
            f"{type(self).__name__} serves Client; use AsyncCustomerTicketAuth with AsyncClient"
        )
        yield request  # pragma: no cover - makes this an async generator


class AsyncCustomerTicketAuth(_TicketPolicy[TicketT], httpx.Auth, Generic[AsyncClientT, TicketT]):
    """`CustomerTicketAuth` for `AsyncClient`: the same behaviour; tasks share one refresh.

    `on_refresh` may be a plain function or a coroutine function.
    """

    def __init__(
        self,
        client: AsyncClientT,
        ticket: TicketT | Mapping[str, Any],
        *,
        refresh_margin: float = 180.0,
        on_refresh: Callable[[TicketT], object] | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(ticket, refresh_margin, on_refresh, clock)
        self._client = client
        # One refresh for every caller, whatever event loop (thread) it runs in: the first caller
        # refreshes, the others await its future.
        self._state = threading.Lock()
        self._inflight: concurrent.futures.Future[Any] | None = None

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(refresh_margin={self.refresh_margin!r}, "
            f"refresh_count={self.refresh_count})"
        )

    def call_refresh(self, client: AsyncClientT, refresh_token: str) -> Awaitable[TicketT]:
        """The spec's refresh operation (the subclass in `auth.py` says which)."""
        raise NotImplementedError

    async def _refresh_call(self, ticket: TicketT) -> TicketT:
        refresh_token = self._refresh_token(ticket)
        try:
            new = await self.call_refresh(self._client, refresh_token)
        except _errors.APIStatusError as exc:
            rejected = self._rejected(exc)
            if rejected is None:
                raise
            raise rejected from exc
        self._adopt(new)
        if self.on_refresh is not None:
            result = self.on_refresh(new)
            if inspect.isawaitable(result):
                await result
        return new

    async def _refresh_once(self, ticket: TicketT, *, when: Callable[[TicketT], bool]) -> TicketT:
        """Refresh `ticket` if `when(current ticket)` still holds; callers that arrive while a refresh
        runs (in any task or event loop) wait for it instead of starting another."""
        import asyncio  # here, not at module level: importing the package stays cheap

        with self._state:
            current = self._ticket
            if current is not ticket or not when(current):
                return current
            future = self._inflight
            owner = future is None
            if future is None:
                import concurrent.futures

                future = self._inflight = concurrent.futures.Future()
        if not owner:
            result: TicketT = await asyncio.wrap_future(future)
            return result
        try:
            new = await self._refresh_call(ticket)
        except BaseException as exc:
            future.set_exception(exc)
            raise
        else:
            future.set_result(new)
            return new
        finally:
            with self._state:
                self._inflight = None

    async def current_ticket(self) -> TicketT:
        """The ticket, refreshed first when it is due (one refresh however many tasks ask)."""
        ticket = self._ticket
        if not self._due(ticket):
            return ticket
        return await self._refresh_once(ticket, when=self._due)

    async def _after_401(self, failed: TicketT) -> TicketT:
        return await self._refresh_once(failed, when=lambda current: True)

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        raise RuntimeError(
            f"{type(self).__name__} serves AsyncClient; use CustomerTicketAuth with Client"
        )
        yield request  # pragma: no cover - makes this a generator

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        ticket = await self.current_ticket()
        app_auth = self._client._auth
        for attempt in (1, 2):
            self._claims(request, ticket)
            if app_auth is None or app_auth is self:
                _app_authorization(request, self._client._default_headers)
                response = yield request
            else:
                flow = app_auth.async_auth_flow(request)
                try:
                    outgoing = await flow.__anext__()
                    while True:
                        response = yield outgoing
                        try:
                            outgoing = await flow.asend(response)
                        except StopAsyncIteration:
                            break
                finally:
                    await flow.aclose()
            if response.status_code != 401 or attempt == 2:
                return
            ticket = await self._after_401(ticket)
