"""Logging a shopper in with their password, including the two-factor step.

The package's `auth.py` binds these flows to its operations (`login()`, `alogin()`,
`complete_two_factor_login()`); here they take the three calls they need as `LoginCalls`.
No password or code is ever logged or put in an exception message.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .. import errors as _errors
from .._config import LOGIN
from .tickets import claims_headers, wire_field

if TYPE_CHECKING:
    from pydantic import BaseModel

__all__ = [
    "AsyncLoginCalls",
    "LoginCalls",
    "TwoFactorRequired",
    "acomplete_two_factor_login",
    "alogin",
    "complete_two_factor_login",
    "login",
]

# A string bound: touching pydantic.BaseModel here would build pydantic's model machinery at import.
TicketT = TypeVar("TicketT", bound="BaseModel")


class TwoFactorRequired(_errors.APIError, Generic[TicketT]):
    """The login needs the emailed two-factor code; it has been requested.

    `ticket` is the pending ticket: keep it (server side) and pass it with the code the shopper
    types to `complete_two_factor_login(client, ticket, code)`.
    """

    def __init__(self, ticket: TicketT) -> None:
        super().__init__(
            "two-factor authentication required: a code was emailed to the shopper; "
            "finish with complete_two_factor_login(client, exc.ticket, code)"
        )
        self.ticket = ticket

    def __repr__(self) -> str:
        return f"{type(self).__name__}(ticket=...)"  # the pending ticket's token stays out of logs


@dataclass(frozen=True)
class LoginCalls(Generic[TicketT]):
    """The spec's operations a login needs, bound to one client."""

    create: Callable[[dict[str, Any]], TicketT]  # the password login (body)
    request_code: Callable[[dict[str, str]], object]  # emails the code (claims headers)
    complete: Callable[[dict[str, Any]], TicketT]  # submits the code (body)
    two_factor_required: type[TwoFactorRequired[TicketT]]


@dataclass(frozen=True)
class AsyncLoginCalls(Generic[TicketT]):
    """`LoginCalls` of an `AsyncClient`."""

    create: Callable[[dict[str, Any]], Awaitable[TicketT]]
    request_code: Callable[[dict[str, str]], Awaitable[object]]
    complete: Callable[[dict[str, Any]], Awaitable[TicketT]]
    two_factor_required: type[TwoFactorRequired[TicketT]]


def _secret_text(name: str, value: object) -> str:
    """A credential as the text the server takes. Sync and async agree: anything but a str is
    refused, without showing the value (an int code would also lose its leading zeros)."""
    if isinstance(value, str):
        return value
    raise _errors.InvalidRequestError(f"{name} must be a str, not {type(value).__name__}")


def _credentials(username: str, password: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    return {
        LOGIN.username_field: _secret_text("username", username),
        LOGIN.password_field: _secret_text("password", password),
        **fields,
    }


def _code_body(ticket: Any, code: object) -> dict[str, Any]:
    return {
        LOGIN.user_id_field: wire_field(ticket, LOGIN.ticket_user_id_field),
        LOGIN.otp_code_field: _secret_text("code", code),
    }


def login(
    calls: LoginCalls[TicketT],
    username: str,
    password: str,
    two_factor_code: Callable[[TicketT], str] | None,
    fields: Mapping[str, Any],
) -> TicketT:
    """The password login; with two-factor authentication, the code is requested, then asked of
    `two_factor_code(pending_ticket)`, or `TwoFactorRequired` is raised without that callback."""
    ticket = calls.create(_credentials(username, password, fields))
    if not wire_field(ticket, LOGIN.requires_2fa_field):
        return ticket
    calls.request_code(claims_headers(ticket))
    if two_factor_code is None:
        raise calls.two_factor_required(ticket)
    return complete_two_factor_login(calls, ticket, two_factor_code(ticket))


def complete_two_factor_login(calls: LoginCalls[TicketT], ticket: TicketT, code: str) -> TicketT:
    return calls.complete(_code_body(ticket, code))


async def alogin(
    calls: AsyncLoginCalls[TicketT],
    username: str,
    password: str,
    two_factor_code: Callable[[TicketT], object] | None,
    fields: Mapping[str, Any],
) -> TicketT:
    """`login` for an `AsyncClient`; `two_factor_code` may be a coroutine function."""
    ticket = await calls.create(_credentials(username, password, fields))
    if not wire_field(ticket, LOGIN.requires_2fa_field):
        return ticket
    await calls.request_code(claims_headers(ticket))
    if two_factor_code is None:
        raise calls.two_factor_required(ticket)
    code = two_factor_code(ticket)
    if inspect.isawaitable(code):
        code = await code
    return await acomplete_two_factor_login(calls, ticket, _secret_text("code", code))


async def acomplete_two_factor_login(
    calls: AsyncLoginCalls[TicketT], ticket: TicketT, code: str
) -> TicketT:
    return await calls.complete(_code_body(ticket, code))
