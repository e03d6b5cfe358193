"""Stand-in for the package's rendered `_config.py` (not copied; see `__init__.py`).

The rendered one (`templates/_config.py.jinja`) has the same names, with the spec's values.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import httpx

from ._servers import ServerTemplate
from ._settings import (
    AppTokenSettings,
    EnvironmentNames,
    LoginSettings,
    TicketSettings,
)

__all__ = [
    "APP_TOKEN",
    "CONTEXT_HEADERS",
    "CORRELATION_HEADERS",
    "CORRELATION_ID_FIELD",
    "ENVIRONMENT",
    "ERROR_CODE_FIELD",
    "HTTP_LIBRARY",
    "LOGIN",
    "PACKAGE_NAME",
    "SECRET_WIRE_NAMES",
    "SERVERS",
    "TICKET",
    "USER_AGENT_PRODUCT",
    "ErrorModel",
    "httpx",
]

PACKAGE_NAME = "runtime"
HTTP_LIBRARY = "httpx"
USER_AGENT_PRODUCT = "runtime-python"
SECRET_WIRE_NAMES: tuple[str, ...] = ("authorization", "password")
SERVERS: tuple[ServerTemplate, ...] = ()
ErrorModel: TypeAlias = Any
# Where an error response names its correlation id and its code (`errors.APIStatusError`).
CORRELATION_HEADERS: tuple[str, ...] = ("x-correlation-id", "x-request-id")
CORRELATION_ID_FIELD: str | None = "correlationId"
ERROR_CODE_FIELD: str | None = "errorCode"
# (keyword argument, header, environment variable) of the context headers sent on every call.
CONTEXT_HEADERS: tuple[tuple[str, str, str], ...] = (("tenant_id", "x-tenant", "RUNTIME_TENANT"),)
ENVIRONMENT: EnvironmentNames | None = EnvironmentNames(
    api_host="RUNTIME_API_HOST",
    auth_host="RUNTIME_AUTH_HOST",
    client_id="RUNTIME_CLIENT_ID",
    client_secret="RUNTIME_CLIENT_SECRET",
)
# Only where the spec has them (the modules that read them are copied only then).
APP_TOKEN: AppTokenSettings | None = AppTokenSettings(
    path="/oauth/token",
    servers=(ServerTemplate(url="https://auth.example.test/api", description="Auth"),),
    http_method="POST",
    client_id_field="client_id",
    client_secret_field="client_secret",
    grant_type_field="grant_type",
    access_token_field="access_token",
    expires_in_field="expires_in",
)
TICKET = TicketSettings(
    claims_header="x-user-claims",
    access_token_field="accessToken",
    access_token_expiration_field="accessTokenExpiration",
    refresh_token_field="refreshToken",
    refresh_token_expiration_field="refreshTokenExpiration",
)
LOGIN = LoginSettings(
    username_field="username",
    password_field="password",
    user_id_field="userId",
    otp_code_field="otpCode",
    requires_2fa_field="requires2FA",
    ticket_user_id_field="userId",
)
