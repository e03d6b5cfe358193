"""Errors raised by the client.

APIError
├── APIConnectionError
│   └── APITimeoutError
├── APIResponseValidationError      (2xx body that is not JSON or does not fit the schema)
└── APIStatusError                  (.status_code, .response, .body, .error)
    ├── BadRequestError 400, AuthenticationError 401, PermissionDeniedError 403,
    ├── NotFoundError 404, ConflictError 409, UnprocessableEntityError 422,
    └── RateLimitError 429, InternalServerError >= 500

Messages never contain tokens or passwords: they are built from redacted text only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import _config
from ._config import httpx

if TYPE_CHECKING:
    from ._config import ErrorModel

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "ConflictError",
    "InternalServerError",
    "InvalidRequestError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "UnprocessableEntityError",
]


class APIError(Exception):
    """Base class of every error this client raises."""

    message: str
    """What went wrong, for people: never contains a token or a password."""
    request: httpx.Request | None
    """The request that failed, when there was one."""

    def __init__(self, message: str, *, request: httpx.Request | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.request = request


class ConfigurationError(APIError, ValueError):
    """A client argument (or the environment variable it falls back to) is wrong or missing; raised
    when the client is made, before any request."""


class InvalidRequestError(APIError, ValueError):
    """A call's arguments cannot be sent: a body that does not fit its model, or a closed client."""


class APIConnectionError(APIError):
    """The server could not be reached (DNS, refused connection, TLS, broken pipe...)."""

    def __init__(
        self, message: str = "Connection error.", *, request: httpx.Request | None = None
    ) -> None:
        super().__init__(message, request=request)


class APITimeoutError(APIConnectionError):
    """The request timed out (after all retries)."""

    def __init__(
        self, message: str = "Request timed out.", *, request: httpx.Request | None = None
    ) -> None:
        super().__init__(message, request=request)


class APIResponseValidationError(APIError):
    """A 2xx response whose body is not JSON or does not fit the spec's schema."""

    def __init__(self, message: str, *, response: httpx.Response, body: object = None) -> None:
        super().__init__(message, request=response.request)
        self.response = response
        self.status_code = response.status_code
        self.body = body


class APIStatusError(APIError):
    """A non-2xx response (after retries).

    status_code: the HTTP status; response: the `httpx.Response`; body: the decoded JSON body (or
    its text when it is not JSON, None when empty); error: the body parsed into the spec's error
    model when it fits, else None.
    """

    def __init__(
        self,
        message: str,
        *,
        response: httpx.Response,
        body: object = None,
        error: ErrorModel | None = None,
    ) -> None:
        super().__init__(message, request=response.request)
        self.response = response
        self.status_code = response.status_code
        self.body = body
        self.error = error

    @property
    def correlation_id(self) -> str | None:
        """The server's correlation id for this failure (quote it to support)."""
        for header in _config.CORRELATION_HEADERS:  # read here: _config imports this module
            value: str | None = self.response.headers.get(header)
            if value:
                return value
        field = _config.CORRELATION_ID_FIELD
        from_body = self.body.get(field) if field and isinstance(self.body, dict) else None
        return from_body if isinstance(from_body, str) and from_body else None


class BadRequestError(APIStatusError):
    """400 Bad Request."""


class AuthenticationError(APIStatusError):
    """401 Unauthorized: the app token or the shopper's ticket is missing, invalid or expired."""


class PermissionDeniedError(APIStatusError):
    """403 Forbidden."""


class NotFoundError(APIStatusError):
    """404 Not Found."""


class ConflictError(APIStatusError):
    """409 Conflict."""


class UnprocessableEntityError(APIStatusError):
    """422 Unprocessable Entity."""


class RateLimitError(APIStatusError):
    """429 Too Many Requests."""


class InternalServerError(APIStatusError):
    """Any 5xx status."""


STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error_class(status_code: int) -> type[APIStatusError]:
    if status_code >= 500:
        return InternalServerError
    return STATUS_ERRORS.get(status_code, APIStatusError)
