"""The shapes of what `_config.py` tells the runtime about the spec's authentication: plain data,
decided by the generator (`generator/wiring.py`) and rendered into `_config.py`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from ._servers import ServerTemplate

__all__ = [
    "AppTokenSettings",
    "Clock",
    "EnvironmentNames",
    "LoginSettings",
    "TicketSettings",
    "aware",
    "utcnow",
]

Clock = Callable[[], datetime]
"""Returns the current time (timezone-aware); inject one in tests instead of sleeping."""


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def aware(moment: datetime) -> datetime:
    """A naive datetime taken as UTC (servers send both)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class EnvironmentNames:
    """Environment variables that stand in for missing client arguments (Kibo's SDKs read these)."""

    api_host: str
    auth_host: str
    client_id: str
    client_secret: str


@dataclass(frozen=True)
class AppTokenSettings:
    """The spec's OAuth client-credentials operation (`oauth.AppTokenAuth`); fields are wire names."""

    path: str
    servers: tuple[ServerTemplate, ...]
    http_method: str
    client_id_field: str
    client_secret_field: str
    grant_type_field: str | None
    access_token_field: str
    expires_in_field: str


@dataclass(frozen=True)
class TicketSettings:
    """The shopper's ticket (`kibo.tickets`): the header its access token goes in, and the wire
    names of its fields."""

    claims_header: str
    access_token_field: str
    access_token_expiration_field: str
    refresh_token_field: str
    refresh_token_expiration_field: str


@dataclass(frozen=True)
class LoginSettings:
    """Wire names of the password login (`kibo.login`): its body, the two-factor body and the
    ticket's two-factor fields."""

    username_field: str
    password_field: str
    user_id_field: str
    otp_code_field: str
    requires_2fa_field: str
    ticket_user_id_field: str
