"""Shared machinery of the sync and async clients: request building, retries, errors, parsing.

Everything that decides something lives here once, in `BaseClient`: how a request is built, when
a failure is retried and for how long to wait (`RetryPolicy`), how a response becomes a model or
an error, and what is logged. The retry loop itself is a generator (`BaseClient._request_flow`)
that yields "send this request" or "sleep this long" and is told what happened; `SyncAPIClient`
and `AsyncAPIClient` are two thin drivers of that one flow that differ only in how they send and
sleep (the same idea as httpx's `Auth.auth_flow`).

Test hooks (private, stable): `client._sleep` (the sleep function, `time.sleep` / `asyncio.sleep`),
`client._retry.jitter` (a `random.random`-like function) and `client._retry.clock` (seconds since
the epoch, for `Retry-After` dates).
"""

from __future__ import annotations

import codecs
import contextlib
import copy
import email.utils
import functools
import inspect
import json
import logging
import random
import re
import threading
import time
import warnings
from collections.abc import Awaitable, Callable, Generator, Mapping
from datetime import date, datetime, timezone
from enum import Enum
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar, cast
from urllib.parse import quote, unquote_plus

import pydantic

from . import _config
from . import errors as _errors
from ._config import httpx
from ._servers import ServerTemplate, pick_server
from ._version import __version__

log = logging.getLogger(_config.PACKAGE_NAME)

T = TypeVar("T")
P = ParamSpec("P")
ClientT = TypeVar("ClientT", bound="BaseClient")
SyncClientT = TypeVar("SyncClientT", bound="SyncAPIClient")
AsyncClientT = TypeVar("AsyncClientT", bound="AsyncAPIClient")


class NotGiven:
    """The default of `timeout=` and other options whose `None` means something (no timeout):
    "not given" is this sentinel, so `timeout=None` can switch the timeout off."""

    _instance: NotGiven | None = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN = NotGiven()

Headers = Mapping[str, str]
Query = Mapping[str, object]
TimeoutTypes = float | httpx.Timeout | None

DEFAULT_TIMEOUT = 60.0
DEFAULT_MAX_RETRIES = 2
INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
MAX_RETRY_AFTER = 60.0
USER_AGENT = _config.USER_AGENT_PRODUCT + "/" + __version__
RAW_RESPONSE_HEADER = "X-Codegen-Raw-Response"
RETRYABLE_STATUS = frozenset({408, 429})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
# What a request that may have reached the server is still retried on when it is not idempotent:
# the server said it did not act on it.
NON_IDEMPOTENT_RETRYABLE_STATUS = frozenset({429, 503})
REDIRECT_STATUS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 20

# ---------------------------------------------------------------------------------------------
# Secrets: never in a log line or an error message.
# ---------------------------------------------------------------------------------------------

# Wire names whose values are secrets (from the spec), compared case- and separator-insensitively.
SECRET_NAMES = frozenset(
    re.sub(r"[^a-z0-9]", "", name.lower()) for name in _config.SECRET_WIRE_NAMES
)
# Always secret, whatever the spec says (the spec's own secret headers are in SECRET_NAMES).
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
REDACTED = "***"

# `name: value`, `"name": "value"`, `name=value`: a value after a secret name in free text.
_KEY_VALUE = re.compile(
    r"""(?P<key>["']?(?P<name>[A-Za-z_][A-Za-z0-9_.-]*)["']?\s*[:=]\s*)"""
    r"""(?P<value>"(?:[^"\\]|\\.)*"|'[^']*'|[^\s&,;"'}\]]+)"""
)
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9\-._~+/]+=*")


# Names that end like these are treated as secrets too (a newer server's `idToken`, `newPassword`).
SECRET_SUFFIXES = ("token", "secret", "password", "apikey")


def is_secret_name(name: str) -> bool:
    normalized = re.sub(r"[^a-z0-9]", "", name.lower())
    return normalized in SECRET_NAMES or normalized.endswith(SECRET_SUFFIXES)


def redact_json(value: Any) -> Any:
    """A copy of a JSON value with every secret field's value replaced."""
    if isinstance(value, dict):
        return {
            k: (REDACTED if is_secret_name(str(k)) and v else redact_json(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact_json(v) for v in value]
    return value


def redact_text(text: str, secrets: frozenset[str] = frozenset()) -> str:
    """`text` without the given secret values, secret `name=value` pairs or bearer credentials."""
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 4:
            text = text.replace(secret, REDACTED)

    def pair(match: re.Match[str]) -> str:
        if not is_secret_name(match.group("name")):
            return match.group(0)
        value = match.group("value")
        quote_char = value[0] if value[:1] in ("'", '"') else ""
        return f"{match.group('key')}{quote_char}{REDACTED}{quote_char}"

    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    return _KEY_VALUE.sub(pair, text)


def redact_url(url: httpx.URL | str) -> str:
    """The URL as text with secret query values (e.g. `refreshToken`) and any password masked."""
    url = httpx.URL(url)
    if url.password:
        url = url.copy_with(userinfo=f"{quote(url.username)}:{REDACTED}".encode())
    if not url.query:
        return str(url)
    parts = []
    for part in url.query.decode("ascii", "replace").split("&"):
        name, sep, _ = part.partition("=")
        parts.append(f"{name}={REDACTED}" if sep and is_secret_name(unquote_plus(name)) else part)
    return str(url.copy_with(query="&".join(parts).encode()))


def secrets_of(request: httpx.Request) -> frozenset[str]:
    """The secret values a request carries, so that no message built from its response repeats them."""
    found: set[str] = set()
    for name, value in request.headers.items():
        if name.lower() in SECRET_HEADERS or is_secret_name(name):
            found.add(value)
            found.add(value.split(" ", 1)[-1])
    for name, value in request.url.params.multi_items():
        if is_secret_name(name):
            found.add(value)
    if request.url.password:
        found.add(request.url.password)
    try:
        body = json.loads(request.content) if request.content else None
    except (ValueError, httpx.RequestNotRead):
        body = None

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if is_secret_name(str(key)) and isinstance(value, str):
                    found.add(value)
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(body)
    return frozenset(s for s in found if s)


class _RedactHttpxUrls(logging.Filter):
    """httpx logs every request's full URL at INFO; mask secret query values (`refreshToken=`) in it."""

    redacts_secret_query = True

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(a, httpx.URL) for a in record.args):
            record.args = tuple(
                redact_url(a) if isinstance(a, httpx.URL) else a for a in record.args
            )
        return True


def _install_httpx_log_filter() -> None:
    httpx_log = logging.getLogger(_config.HTTP_LIBRARY)
    if not any(getattr(f, "redacts_secret_query", False) for f in httpx_log.filters):
        httpx_log.addFilter(_RedactHttpxUrls())


_install_httpx_log_filter()

# ---------------------------------------------------------------------------------------------
# Request building
# ---------------------------------------------------------------------------------------------


def encode_param(value: Any) -> Any:
    """A query/path/header value as the wire wants it (lists stay lists: repeated keys)."""
    if (
        type(value) is str or type(value) is int
    ):  # the common case, first (bool and enums are subclasses)
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return encode_param(value.value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [encode_param(v) for v in value]
    return value if isinstance(value, (str, int, float)) else str(value)


_PATH_PARAMETER = re.compile(r"\{([^{}]+)\}")


def build_path(template: str, values: Mapping[str, Any]) -> str:
    """Fill `{name}` placeholders with URL-quoted values; placeholders without a value stay as written."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            return match.group(0)
        return quote(str(encode_param(values[name])), safe="")

    return _PATH_PARAMETER.sub(fill, template)


def to_jsonable(body: Any, model: type[pydantic.BaseModel] | None) -> Any:
    """Request body as JSON-ready data: models by alias with only the fields that were set."""
    if model is not None and not isinstance(body, pydantic.BaseModel) and isinstance(body, Mapping):
        problems: str | None = None
        try:
            body = model.model_validate(body)
        except pydantic.ValidationError as exc:
            # What is wrong, never the value (it may be a password): one error family, APIError.
            problems = "; ".join(
                f"{'.'.join(str(p) for p in error['loc']) or '(body)'}: {error['msg']}"
                for error in exc.errors(
                    include_url=False, include_input=False, include_context=False
                )
            )
        if (
            problems is not None
        ):  # raised here, outside `except`: pydantic's error is not kept as context
            raise _errors.InvalidRequestError(f"body does not fit {model.__name__}: {problems}")
    if isinstance(body, pydantic.BaseModel):
        return body.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return pydantic.TypeAdapter(Any).dump_python(body, mode="json")


@functools.lru_cache(maxsize=256)
def _adapter(cast_to: Any) -> pydantic.TypeAdapter[Any]:
    return pydantic.TypeAdapter(cast_to)


@functools.lru_cache(maxsize=64, typed=True)
def _cached_timeout(timeout: Any) -> httpx.Timeout:
    return httpx.Timeout(timeout)


def _timeout_extension(timeout: Any) -> dict[str, float | None]:
    """The request's `timeout` extension (what `build_request(timeout=...)` would set), a fresh
    dict per request; the conversion of a plain number is done once, not per call."""
    if isinstance(timeout, httpx.Timeout):
        return timeout.as_dict()
    try:
        converted = _cached_timeout(timeout)
    except TypeError:  # unhashable: convert each time
        converted = httpx.Timeout(timeout)
    return converted.as_dict()


class _Where:
    """`METHOD url` of a request for log lines, the URL redacted; built only if a line is emitted."""

    __slots__ = ("request",)

    def __init__(self, request: httpx.Request) -> None:
        self.request = request

    def __str__(self) -> str:
        return f"{self.request.method} {redact_url(self.request.url)}"


# Query serialisation other than OpenAPI's default (`form`, `explode: true`: `?id=1&id=2`), per
# parameter, as the spec says: delimited arrays, and deepObject maps.
_DELIMITERS = {"form": ",", "spaceDelimited": " ", "pipeDelimited": "|"}


def _apply_query_styles(
    query: dict[str, Any], raw: Mapping[str, Any], styles: Mapping[str, str]
) -> None:
    for name, style in styles.items():
        value = query.get(name)
        if value is None:
            continue
        if style == "deepObject" and isinstance(raw.get(name), Mapping):
            del query[name]
            for key, item in raw[name].items():
                if item is not None:
                    query[f"{name}[{key}]"] = encode_param(item)
        elif style in _DELIMITERS and isinstance(value, list):
            query[name] = _DELIMITERS[style].join(str(item) for item in value)


_COOKIE_SAFE = "!#$&'()*+-./:<=>?@[]^_`{|}~"


class FinalRequestOptions(Generic[T]):
    """Everything one call needs; built by a resource method, consumed by the client. `T` is what
    the call returns: `request(FinalRequestOptions[Cart](...))` is typed `Cart`, no cast needed."""

    __slots__ = (
        *(
            "base_url",
            "cast_to",
            "content",
            "files",
            "form",
            "headers",
            "idempotent",
            "json_body",
            "method",
        ),
        *("operation", "path", "query", "raw", "timeout"),
    )

    def __init__(
        self,
        method: str,
        path: str,
        *,
        cast_to: Any,
        query: Mapping[str, Any] | None = None,
        headers: Mapping[str, Any] | None = None,
        query_styles: Mapping[str, str] | None = None,
        cookies: Mapping[str, Any] | None = None,
        json_body: Any = None,
        content: bytes | None = None,
        body: Any = None,
        body_model: type[pydantic.BaseModel] | None = None,
        media: tuple[tuple[str, str], ...] = (),
        content_type: str | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        base_url: str | None = None,
        idempotent: bool | None = None,
        operation: str | None = None,
    ) -> None:
        # Called once per request: the empty cases (most calls) build nothing.
        merged_headers = (
            {k: str(encode_param(v)) for k, v in headers.items() if v is not None}
            if headers
            else {}
        )
        if cookies:
            # `in: cookie` parameters: one Cookie header, values percent-encoded (RFC 6265 octets).
            pairs = "; ".join(
                f"{name}={quote(str(encode_param(value)), safe=_COOKIE_SAFE)}"
                for name, value in cookies.items()
                if value is not None
            )
            if pairs:
                merged_headers["Cookie"] = pairs
        self.raw = False
        if extra_headers:
            extra = dict(extra_headers)
            self.raw = extra.pop(RAW_RESPONSE_HEADER, None) is not None
            merged_headers.update(extra)
        merged_query = (
            {k: encode_param(v) for k, v in query.items() if v is not None} if query else {}
        )
        if query and query_styles:
            _apply_query_styles(merged_query, query, query_styles)
        if extra_query:
            for key, value in extra_query.items():
                if value is None:
                    merged_query.pop(key, None)  # `extra_query={"name": None}` removes a parameter
                else:
                    merged_query[key] = encode_param(value)
        self.method = method
        self.path = path
        self.query = merged_query
        self.headers = merged_headers
        self.json_body = json_body
        self.content = content
        self.form: dict[str, list[str]] | None = None
        self.files: list[tuple[str, Any]] | None = None
        if media and body is not None:
            self._encode(body, body_model, media, content_type)
        self.cast_to = cast_to
        self.timeout = timeout
        self.base_url = base_url
        # Safe to send twice? Default by method; an operation's `x-idempotent: true` says yes.
        self.idempotent = method.upper() in IDEMPOTENT_METHODS if idempotent is None else idempotent
        self.operation = operation  # "GET /carts/{cartId}": what a server-side deprecation is about

    def _encode(
        self,
        body: Any,
        model: type[pydantic.BaseModel] | None,
        media: tuple[tuple[str, str], ...],
        chosen: str | None,
    ) -> None:
        """The body as its media type asks (decided per media type when the package was built)."""
        encodings = dict(media)
        content_type = chosen or media[0][0]
        encoding = encodings.get(content_type)
        if encoding is None:
            offered = ", ".join(encodings)
            raise _errors.InvalidRequestError(
                f"content_type={content_type!r} is not offered here; choose one of {offered}"
            )
        if encoding == "json":
            self.json_body = to_jsonable(body, model)
            if content_type.split(";", 1)[0].strip().lower() != "application/json":
                self.headers.setdefault("Content-Type", content_type)
        elif encoding == "form":
            self.form = _fields(to_jsonable(body, model))
        elif encoding == "multipart":
            self.form, self.files = _multipart(body)
        elif encoding == "text":
            if not isinstance(body, str):
                raise _errors.InvalidRequestError(
                    f"a {content_type} body must be a str, not {type(body).__name__}"
                )
            self.content = body.encode("utf-8")
            self.headers.setdefault(
                "Content-Type",
                content_type if "charset" in content_type else f"{content_type}; charset=utf-8",
            )
        else:  # binary: bytes or a binary file object, with the spec's media type
            self.content = _binary(body, content_type)
            self.headers.setdefault("Content-Type", content_type)


def _field_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def _fields(data: Any) -> dict[str, list[str]]:
    """Form fields from JSON-ready data: a list repeats its key, None is left out."""
    if not isinstance(data, Mapping):
        raise _errors.InvalidRequestError(
            f"a form body must be a mapping or a model, not {type(data).__name__}"
        )
    fields: dict[str, list[str]] = {}
    for key, value in data.items():
        for item in value if isinstance(value, list) else [value]:
            if item is not None:
                fields.setdefault(str(key), []).append(_field_text(item))
    return fields


def _is_file(value: Any) -> bool:
    return isinstance(value, (bytes, bytearray, memoryview, tuple)) or callable(
        getattr(value, "read", None)
    )


def _multipart(body: Any) -> tuple[dict[str, list[str]], list[tuple[str, Any]]]:
    """multipart/form-data parts: `bytes`, binary file objects and `(filename, content[, type])` tuples
    are files, everything else a field (a list repeats its name)."""
    if isinstance(body, pydantic.BaseModel):
        body = body.model_dump(by_alias=True, exclude_unset=True)
    if not isinstance(body, Mapping):
        raise _errors.InvalidRequestError(
            f"a multipart body must be a mapping or a model, not {type(body).__name__}"
        )
    fields: dict[str, list[str]] = {}
    files: list[tuple[str, Any]] = []
    for key, value in body.items():
        for item in value if isinstance(value, list) else [value]:
            if item is None:
                continue
            if _is_file(item):
                files.append(
                    (str(key), bytes(item) if isinstance(item, (bytearray, memoryview)) else item)
                )
            else:
                text = _field_text(pydantic.TypeAdapter(Any).dump_python(item, mode="json"))
                fields.setdefault(str(key), []).append(text)
    return fields, files


def _binary(body: Any, content_type: str) -> bytes:
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    read = getattr(body, "read", None)
    if callable(read):
        data = read()  # read once: a retry sends the same bytes
        if isinstance(data, bytes):
            return data
    raise _errors.InvalidRequestError(
        f"a {content_type} body must be bytes or a binary file, not {type(body).__name__}"
    )


# ---------------------------------------------------------------------------------------------
# Raw responses
# ---------------------------------------------------------------------------------------------


class RawResponse(Generic[T]):
    """The HTTP response of a successful call, with the parsed body on demand (`.parse()`)."""

    def __init__(
        self, http_response: httpx.Response, parser: Callable[[], T], *, retries_taken: int = 0
    ) -> None:
        self.http_response = http_response
        self.retries_taken = retries_taken
        """How many times the request was retried before this response."""
        self._parser = parser
        self._parsed: list[T] = []

    @property
    def status_code(self) -> int:
        return self.http_response.status_code

    @property
    def headers(self) -> httpx.Headers:
        return self.http_response.headers

    @property
    def content(self) -> bytes:
        return self.http_response.content

    @property
    def text(self) -> str:
        return self.http_response.text

    @property
    def elapsed(self) -> float:
        """Seconds between sending the request and reading the whole response."""
        return self.http_response.elapsed.total_seconds()

    def json(self) -> Any:
        return self.http_response.json()

    def parse(self) -> T:
        """The body as the method would have returned it (parsed once, then cached)."""
        if not self._parsed:
            self._parsed.append(self._parser())
        return self._parsed[0]

    def __repr__(self) -> str:
        return f"<RawResponse [{self.status_code}]>"


def _with_raw_header(kwargs: dict[str, Any]) -> None:
    extra = dict(cast("Mapping[str, str] | None", kwargs.get("extra_headers")) or {})
    extra[RAW_RESPONSE_HEADER] = "true"
    kwargs["extra_headers"] = extra


def to_raw_response_wrapper(func: Callable[P, T]) -> Callable[P, RawResponse[T]]:
    """Turn a resource method into one that returns the RawResponse instead of the model."""

    @functools.wraps(func)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> RawResponse[T]:
        _with_raw_header(kwargs)
        return cast("RawResponse[T]", func(*args, **kwargs))

    return wrapped


if TYPE_CHECKING:
    # Re-exported for the resources and the clients.
    from typing_extensions import deprecated as deprecated

else:

    def deprecated(message: str) -> Callable[[Callable[P, T]], Callable[P, T]]:
        """`typing_extensions.deprecated` for type checkers; at run time a method that warns
        (DeprecationWarning) and stays a coroutine function when it is one (`async def`)."""

        def decorate(func: Callable[P, T]) -> Callable[P, T]:
            if inspect.iscoroutinefunction(func):

                @functools.wraps(func)
                async def warn_async(*args: P.args, **kwargs: P.kwargs) -> Any:
                    warnings.warn(message, DeprecationWarning, stacklevel=2)
                    return await func(*args, **kwargs)

                wrapped: Any = warn_async
            else:

                @functools.wraps(func)
                def warn(*args: P.args, **kwargs: P.kwargs) -> T:
                    warnings.warn(message, DeprecationWarning, stacklevel=2)
                    return func(*args, **kwargs)

                wrapped = warn
            wrapped.__deprecated__ = message
            return cast("Callable[P, T]", wrapped)

        return decorate


def async_to_raw_response_wrapper(
    func: Callable[P, Awaitable[T]],
) -> Callable[P, Awaitable[RawResponse[T]]]:
    """`to_raw_response_wrapper` for coroutine methods."""

    @functools.wraps(func)
    async def wrapped(*args: P.args, **kwargs: P.kwargs) -> RawResponse[T]:
        _with_raw_header(kwargs)
        return cast("RawResponse[T]", await func(*args, **kwargs))

    return wrapped


# ---------------------------------------------------------------------------------------------
# Retry policy
# ---------------------------------------------------------------------------------------------


class RetryPolicy:
    """When to retry and how long to wait: one policy for the sync and the async client.

    Only failures are retried, at most `max_retries` times. Idempotent requests (GET, HEAD,
    OPTIONS, PUT, DELETE, or an operation marked `x-idempotent: true`): connection errors,
    timeouts, 408, 429 and 5xx. Other requests (POST, PATCH) only when they cannot have reached
    the server (connection refused, connect or pool timeout) or the server answered 429 or 503,
    unless the client was made with `retry_non_idempotent=True`. A server's `x-should-retry:
    false` always wins; its `x-should-retry: true` retries an error response of an idempotent
    request. The wait is `Retry-After`/`Retry-After-Ms` when the server sends one (capped at
    60 s), otherwise 0.5 s doubling per retry, capped at 8 s, minus up to 25 % jitter.
    """

    def __init__(
        self,
        max_retries: int,
        *,
        jitter: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.time,
        retry_non_idempotent: bool = False,
    ) -> None:
        if not isinstance(max_retries, int) or isinstance(max_retries, bool) or max_retries < 0:
            raise _errors.ConfigurationError("max_retries must be an int >= 0")
        self.max_retries = max_retries
        self.jitter = jitter
        self.clock = clock
        self.retry_non_idempotent = retry_non_idempotent

    def should_retry_response(
        self, response: httpx.Response, retries_taken: int, idempotent: bool = True
    ) -> bool:
        if retries_taken >= self.max_retries or response.status_code < 400:
            return False
        should: str | None = response.headers.get("x-should-retry")
        if should == "false":
            return False
        if not (idempotent or self.retry_non_idempotent):
            return response.status_code in NON_IDEMPOTENT_RETRYABLE_STATUS
        if should == "true":
            return True
        return response.status_code in RETRYABLE_STATUS or response.status_code >= 500

    def should_retry_error(
        self, error: Exception, retries_taken: int, idempotent: bool = True
    ) -> bool:
        if retries_taken >= self.max_retries:
            return False
        if not isinstance(error, httpx.TransportError) or isinstance(
            error, httpx.UnsupportedProtocol
        ):
            return False
        if idempotent or self.retry_non_idempotent:
            return True
        # Only what cannot have reached the server: the request was never written.
        return isinstance(error, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))

    def delay(self, retries_taken: int, response: httpx.Response | None = None) -> float:
        """Seconds to wait before retry number `retries_taken + 1`."""
        retry_after = self.retry_after(response) if response is not None else None
        if retry_after is not None:
            return retry_after
        base = min(INITIAL_RETRY_DELAY * 2.0**retries_taken, MAX_RETRY_DELAY)
        # Jitter downwards by up to 25% so a crowd of clients does not retry in step.
        return base * (1 - 0.25 * self.jitter())

    def retry_after(self, response: httpx.Response) -> float | None:
        """The server's `Retry-After-Ms` / `Retry-After` (seconds or HTTP date) in seconds, capped."""
        header = response.headers.get("retry-after-ms")
        if header:
            try:
                return _cap(float(header) / 1000)
            except ValueError:
                pass
        header = response.headers.get("retry-after")
        if not header:
            return None
        try:
            return _cap(float(header))
        except ValueError:
            pass
        try:
            when = email.utils.parsedate_to_datetime(header)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return _cap(when.timestamp() - self.clock())


def _cap(seconds: float) -> float | None:
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


# ---------------------------------------------------------------------------------------------
# The client core
# ---------------------------------------------------------------------------------------------


def _refuse_broken_headers(request: httpx.Request) -> None:
    """A header value with a line break or NUL is refused before it is sent: h11 would refuse it
    too, but only after httpcore logged it (a token read with its trailing newline)."""
    for name, value in request.headers.raw:
        if b"\n" in value or b"\r" in value or b"\0" in value:
            raise _errors.InvalidRequestError(
                f"header {name.decode('latin-1')!r} has a line break or NUL in its value",
                request=request,
            )


def _redacted(error: httpx.HTTPError, request: httpx.Request) -> BaseException | None:
    """`error` again, its message redacted and nothing chained to it (None if it cannot be rebuilt)."""
    message = redact_text(str(error), secrets_of(request))
    try:
        copy_ = type(error)(message, request=request)  # type: ignore[call-arg]
    except TypeError:
        return None
    return copy_


class _Send:
    """A request for the driver to send, with the `auth` flow to apply (None: none at all)."""

    __slots__ = ("auth", "request")

    def __init__(self, request: httpx.Request, auth: httpx.Auth | None) -> None:
        self.request = request
        self.auth = auth

    def auth_argument(self) -> Any:
        """For `http.send(auth=...)`: the client's own auth, ours, or none (`None` is no auth)."""
        return httpx.USE_CLIENT_DEFAULT if self.auth is _CLIENT_AUTH else self.auth


# `_Send.auth` for "whatever the http client has" (a user's own client may carry an auth).
_CLIENT_AUTH: Any = object()


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    default = {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host, url.port or default


def _redirect(previous: _Send, response: httpx.Response) -> _Send:
    """The request a redirect response asks for, as browsers and httpx build it, minus every secret
    when it leaves the origin."""
    request = previous.request
    url = request.url.join(response.headers["location"])
    method = request.method
    if response.status_code == 303 and method != "HEAD":
        method = "GET"
    if response.status_code in (301, 302) and method == "POST":
        method = "GET"
    headers = httpx.Headers(request.headers)
    headers.pop("host", None)
    content: bytes | None = None
    if method == request.method and response.status_code in (307, 308):
        content = request.content  # same method: the same body
    else:
        for name in ("content-length", "content-type", "transfer-encoding"):
            headers.pop(name, None)
    auth = previous.auth
    if _origin(url) != _origin(request.url):
        for name in list(headers.keys()):
            if name.lower() in SECRET_HEADERS or is_secret_name(name):
                del headers[name]
        auth = None
    redirected = httpx.Request(
        method, url, headers=headers, content=content, extensions=request.extensions
    )
    return _Send(redirected, auth)


# What the request flow asks its driver to do: send a request, or sleep for some seconds.
Step = _Send | float
# What the driver reports back: the response or the error of a send, None after a sleep.
Outcome = httpx.Response | Exception | None


_DEPRECATIONS_SEEN: set[str] = set()
_DEPRECATIONS_LOCK = threading.Lock()


def _warn_server_deprecation(response: httpx.Response, options: FinalRequestOptions[Any]) -> None:
    """A `Deprecation` or `Sunset` response header (RFC 9745, RFC 8594): one warning per
    operation and process, not one per call."""
    operation = options.operation or f"{options.method} {options.path}"
    with _DEPRECATIONS_LOCK:
        if operation in _DEPRECATIONS_SEEN:
            return
        _DEPRECATIONS_SEEN.add(operation)
    said = [
        f"{name}: {response.headers[name][:100]!r}"
        for name in ("Deprecation", "Sunset")
        if name in response.headers
    ]
    log.warning("the server marks %s as deprecated (%s)", operation, ", ".join(said))


class BaseClient:
    """State and logic shared by the sync and async clients (no I/O here)."""

    def __init__(
        self,
        *,
        base_url: str,
        auth: httpx.Auth | None,
        timeout: TimeoutTypes,
        max_retries: int,
        default_headers: Headers | None,
        retry_non_idempotent: bool = False,
        validate_responses: bool = True,
    ) -> None:
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise _errors.ConfigurationError(
                f"base_url must start with http:// or https://: {base_url!r}"
            )
        self.base_url = base_url.rstrip("/")
        # False: responses become models by `model_construct`, unvalidated (see `_construct`).
        self.validate_responses = validate_responses
        self.timeout = timeout
        self._retry = RetryPolicy(max_retries, retry_non_idempotent=retry_non_idempotent)
        self._auth = auth
        self._server_variables: dict[str, str | None] = {}
        # (the default headers it was made from, as httpx.Headers): see `_headers`.
        self._headers_cache: tuple[dict[str, str], httpx.Headers] | None = None
        # (our own http client, the default headers it was made with): see `_build_request`.
        self._carried_headers: tuple[httpx.Client | httpx.AsyncClient, dict[str, str]] | None = None
        self._default_headers: dict[str, str] = {
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            **(default_headers or {}),
        }

    @property
    def max_retries(self) -> int:
        return self._retry.max_retries

    @property
    def default_headers(self) -> dict[str, str]:
        """The headers sent with every request (a copy; secrets included, so do not log it)."""
        return dict(self._default_headers)

    def with_options(
        self: ClientT,
        *,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
        default_headers: Headers | None = None,
        retry_non_idempotent: bool | None = None,
        validate_responses: bool | None = None,
    ) -> ClientT:
        """A copy of this client with other defaults, sharing its connection pool.

        `client.with_options(max_retries=5).storefront_auth_ticket...`; closing the copy does not
        close the pool.
        """
        clone = copy.copy(self)
        # Drop cached resources (bound to the original client) and the pool ownership.
        for key, value in list(vars(clone).items()):
            if isinstance(value, (SyncAPIResource, AsyncAPIResource)):
                del vars(clone)[key]
        vars(clone)["_owns_http_client"] = False
        if not isinstance(timeout, NotGiven):
            clone.timeout = timeout  # None: no timeout
        if max_retries is not None or retry_non_idempotent is not None:
            clone._retry = RetryPolicy(
                self._retry.max_retries if max_retries is None else max_retries,
                jitter=self._retry.jitter,
                clock=self._retry.clock,
                retry_non_idempotent=(
                    self._retry.retry_non_idempotent
                    if retry_non_idempotent is None
                    else retry_non_idempotent
                ),
            )
        if default_headers is not None:
            clone._default_headers = {**self._default_headers, **default_headers}
        if validate_responses is not None:
            clone.validate_responses = validate_responses
        return clone

    def operation_base_url(self, servers: tuple[ServerTemplate, ...]) -> str:
        """Base URL of an operation that declares its own servers (e.g. an auth host)."""
        return pick_server(None, servers).resolve(self._server_variables).rstrip("/")

    def _error_model(self) -> type[pydantic.BaseModel] | None:
        """The spec's error schema, parsed into APIStatusError.error (imported only when needed)."""
        return None

    def _headers(self) -> httpx.Headers:
        """`_default_headers` as httpx.Headers, converted once while the dict stays the same.

        Never mutated: httpx copies it when it merges it into a request, and a call with headers
        of its own copies it first. (A caller's http client is never changed: the headers go with
        each request.)"""
        cached = self._headers_cache
        if cached is None or cached[0] != self._default_headers:
            cached = self._headers_cache = (
                dict(self._default_headers),
                httpx.Headers(self._default_headers),
            )
        return cached[1]

    def _build_request(
        self, http: httpx.Client | httpx.AsyncClient, options: FinalRequestOptions[Any]
    ) -> httpx.Request:
        base = (options.base_url or self.base_url).rstrip("/")
        defaults = self._headers()
        carried = self._carried_headers
        # The default headers go with the request unless our own http client already carries these
        # very headers (a `with_options(default_headers=...)` copy shares the pool but not them; its
        # headers only add to or replace the pool's, so they go with each request, over the pool's).
        headers: httpx.Headers | None = (
            None
            if carried is not None and carried[0] is http and carried[1] == self._default_headers
            else defaults
        )
        if options.headers or options.json_body is not None:
            # httpx.Headers merges case-insensitively: `extra_headers={"authorization": ...}` replaces.
            merged = httpx.Headers(headers)
            merged.update(options.headers)
            if (
                options.json_body is not None
                and "content-type" not in merged
                and "content-type" not in defaults
            ):
                merged["Content-Type"] = "application/json"
            headers = merged
        content = options.content
        if options.json_body is not None:
            # Compact JSON, encoded once: the body is what is on the wire.
            content = json.dumps(
                options.json_body, separators=(",", ":"), ensure_ascii=False
            ).encode()
        target = base + options.path
        url: httpx.URL | str = target
        params = options.query or None
        if params is not None and not http.params and "?" not in target and "#" not in target:
            # The query encoded as httpx encodes `params=` and the URL parsed once: httpx would parse
            # it again to replace the query (only when the http client has no `params` of its own to
            # merge, and the path has no query or fragment of its own, which `params=` replaces).
            url = httpx.URL(f"{target}?{httpx.QueryParams(params)}")
            params = None
        timeout = self.timeout if isinstance(options.timeout, NotGiven) else options.timeout
        if options.form is not None or options.files is not None:
            # httpx encodes forms and multipart bodies (and sets their Content-Type, with the boundary).
            return http.build_request(
                options.method,
                url,
                params=params,
                headers=headers,
                data=options.form or None,
                files=options.files or None,
                extensions={"timeout": _timeout_extension(timeout)},
            )
        return http.build_request(
            options.method,
            url,
            params=params,
            headers=headers,
            content=content,
            extensions={"timeout": _timeout_extension(timeout)},
        )

    def _request_flow(
        self, http: httpx.Client | httpx.AsyncClient, options: FinalRequestOptions[Any]
    ) -> Generator[Step, Outcome, Any]:
        """The whole life of one call, I/O left to the driver: yields requests to send and delays
        to sleep, receives responses or errors, returns the parsed result or raises an APIError.

        Redirects are followed here, not by httpx, so that a redirect to another origin carries no
        secret: no `Authorization`, no header the spec calls secret (Kibo: `x-vol-user-claims`), no
        cookie, no header whose name says token/secret/password, and no `auth` flow (which would add
        them again)."""
        retries_taken = 0
        attempts = self.max_retries + 1
        follow = bool(getattr(http, "follow_redirects", True))
        while True:
            request = self._build_request(http, options)
            _refuse_broken_headers(request)
            send = _Send(request, self._auth if self._auth is not None else _CLIENT_AUTH)
            redirects = 0
            where = _Where(request)  # formatted only when a log line is emitted
            log.debug("HTTP request: %s (attempt %d of %d)", where, retries_taken + 1, attempts)
            outcome = yield send
            while (
                follow
                and isinstance(outcome, httpx.Response)
                and outcome.status_code in REDIRECT_STATUS
                and "location" in outcome.headers
            ):
                if redirects >= MAX_REDIRECTS:
                    raise _errors.APIConnectionError(
                        f"Too many redirects ({MAX_REDIRECTS}): {where}", request=send.request
                    )
                redirects += 1
                send = _redirect(send, outcome)
                log.debug("HTTP redirect: %s -> %s", where, _Where(send.request))
                outcome = yield send
            request = send.request
            if isinstance(outcome, httpx.Response):
                response = outcome
                log.debug(
                    "HTTP response: %s -> %d %s (attempt %d of %d)",
                    where,
                    response.status_code,
                    response.reason_phrase,
                    retries_taken + 1,
                    attempts,
                )
                if not self._retry.should_retry_response(
                    response, retries_taken, options.idempotent
                ):
                    return self._process_response(response, options, retries_taken)
                delay = self._retry.delay(retries_taken, response)
                reason = f"status {response.status_code}"
            elif isinstance(outcome, httpx.HTTPError):
                if not self._retry.should_retry_error(outcome, retries_taken, options.idempotent):
                    # Chained to a redacted copy: httpx's own message (and what it chains) may quote
                    # a header or URL with a secret in it.
                    raise self._connection_error(request, outcome, retries_taken) from _redacted(
                        outcome, request
                    )
                delay = self._retry.delay(retries_taken)
                reason = type(outcome).__name__
            else:  # pragma: no cover - drivers only send back responses and httpx errors
                raise TypeError(f"unexpected outcome {outcome!r}")
            log.info(
                "retrying %s in %.2f s after %s (attempt %d of %d)",
                where,
                delay,
                reason,
                retries_taken + 2,
                attempts,
            )
            yield delay
            retries_taken += 1

    def _connection_error(
        self, request: httpx.Request, error: httpx.HTTPError, retries_taken: int
    ) -> _errors.APIConnectionError:
        tries = f" after {retries_taken + 1} attempts" if retries_taken else ""
        where = f"{request.method} {redact_url(request.url)}"
        if isinstance(error, httpx.TimeoutException):
            return _errors.APITimeoutError(f"Request timed out{tries}: {where}", request=request)
        detail = redact_text(str(error), secrets_of(request))
        detail = f" ({detail})" if detail and len(detail) < 300 else ""
        return _errors.APIConnectionError(
            f"Connection error{tries}: {where}: {type(error).__name__}{detail}", request=request
        )

    def _process_response(
        self, response: httpx.Response, options: FinalRequestOptions[Any], retries_taken: int
    ) -> Any:
        if "deprecation" in response.headers or "sunset" in response.headers:
            _warn_server_deprecation(response, options)
        if not response.is_success:
            raise self._make_status_error(response)
        if options.raw:
            return RawResponse(
                response,
                lambda: self._parse(response, options.cast_to),
                retries_taken=retries_taken,
            )
        return self._parse(response, options.cast_to)

    def _parse(self, response: httpx.Response, cast_to: Any) -> Any:
        """The body as `cast_to`. The Content-Type header is not trusted: Kibo answers JSON as
        application/json, text/json or text/plain, and sometimes with none."""
        if cast_to is None or cast_to is type(None):
            return None
        content = _utf8(response)
        if cast_to is bytes:
            return response.content
        if cast_to is str:
            try:
                value = json.loads(content)
            except ValueError:
                return response.text
            return value if isinstance(value, str) else response.text
        if cast_to is Any:
            try:
                return json.loads(content) if content.strip() else None
            except ValueError:
                return response.text
        if not self.validate_responses:
            try:
                data = json.loads(content)
            except ValueError:
                pass  # not JSON: the strict path below reports it
            else:
                return _construct(cast_to, data)
        adapter = _adapter(cast_to)
        try:
            # validate_json parses and validates in one pass (the validator's own, with the same
            # defaults as TypeAdapter.validate_json, without its per-call argument handling).
            return adapter.validator.validate_json(content)
        except pydantic.ValidationError as exc:
            # Some endpoints double-encode: a JSON string whose text is the JSON document.
            inner = _json_string(content)
            if inner is not None:
                try:
                    return adapter.validate_json(inner)
                except pydantic.ValidationError:
                    pass
            raise self._validation_error(response, exc, cast_to) from None

    def _validation_error(
        self, response: httpx.Response, exc: pydantic.ValidationError, cast_to: Any
    ) -> _errors.APIResponseValidationError:
        secrets = secrets_of(response.request)
        errors = exc.errors(include_url=False, include_input=False)
        if not response.content.strip():
            problem = "body is empty"
            body: object = None
        elif errors and errors[0]["type"] == "json_invalid":
            problem = "body is not valid JSON"
            body = response.text
        else:
            places = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}" for e in errors[:3]
            )
            problem = f"body does not match {getattr(cast_to, '__name__', str(cast_to))} ({places})"
            body = _json_or_text(response)
        content_type = response.headers.get("content-type", "no Content-Type")
        message = (
            f"{response.status_code} response ({content_type}) from {response.request.method} "
            f"{redact_url(response.request.url)}: {problem}"
        )
        if body is not None:
            message += f"; body starts {_excerpt(body, secrets)!r}"
        return _errors.APIResponseValidationError(
            redact_text(message, secrets), response=response, body=body
        )

    def _make_status_error(self, response: httpx.Response) -> _errors.APIStatusError:
        secrets = secrets_of(response.request)
        body = _json_or_text(response)
        error = None
        error_model = self._error_model()
        if error_model is not None and isinstance(body, dict):
            try:
                error = error_model.model_validate(body)
            except pydantic.ValidationError:
                error = None
        detail = ""
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            detail = body["message"][:500]
            code = body.get(_config.ERROR_CODE_FIELD) if _config.ERROR_CODE_FIELD else None
            if isinstance(code, str) and code:
                detail += f" [{code}]"
        elif body:
            detail = _excerpt(body, secrets)
        reason = response.reason_phrase or ""
        message = f"{response.status_code} {reason} from {response.request.method} {redact_url(response.request.url)}"
        if detail:
            message += f": {detail}"
        cls = _errors.status_error_class(response.status_code)
        return cls(
            redact_text(message, secrets), response=response, body=body, error=cast(Any, error)
        )


def _construct(cast_to: Any, data: Any) -> Any:
    """`data` as `cast_to` without validation (`validate_responses=False`): a model is built with
    `model_construct` from its wire names, nested values stay the JSON they are, lists of models
    are built item by item, anything else is the JSON itself."""
    if (
        isinstance(cast_to, type)
        and issubclass(cast_to, pydantic.BaseModel)
        and isinstance(data, dict)
    ):
        names: dict[str, str] = {}
        for name, info in cast_to.model_fields.items():
            choices = getattr(info.validation_alias, "choices", None) or [info.validation_alias]
            for wire in (info.serialization_alias, info.alias, *choices, name):
                if isinstance(wire, str):
                    names.setdefault(wire, name)
        return cast_to.model_construct(
            **{str(names.get(key, key)): value for key, value in data.items()}
        )
    origin = getattr(cast_to, "__origin__", None)
    if origin is list and isinstance(data, list):
        (item,) = getattr(cast_to, "__args__", (Any,))
        return [_construct(item, value) for value in data]
    return data


@functools.lru_cache(maxsize=64)
def _declares_utf8(content_type: str | None) -> bool:
    """Whether a Content-Type (as `response.charset_encoding` reads it) means UTF-8 bytes: no
    charset, or utf-8 / ascii. Parsed once per distinct header value, not per response."""
    headers = {} if content_type is None else {"content-type": content_type}
    charset = httpx.Response(200, headers=headers).charset_encoding or "utf-8"
    return charset.lower().replace("-", "").replace("_", "") in ("utf8", "ascii", "usascii")


def _utf8(response: httpx.Response) -> bytes:
    """The body as UTF-8 bytes without a byte-order mark, whatever charset the server declared."""
    content = response.content
    if not _declares_utf8(response.headers.get("content-type")):
        with contextlib.suppress(LookupError, UnicodeError):  # httpx falls back itself
            content = response.text.encode("utf-8")
    if content.startswith(codecs.BOM_UTF8):
        content = content[len(codecs.BOM_UTF8) :]
    return content


def _json_string(content: bytes) -> bytes | None:
    try:
        value = json.loads(content)
    except ValueError:
        return None
    return (
        value.encode("utf-8")
        if isinstance(value, str) and value.strip()[:1] in ("{", "[")
        else None
    )


def _json_or_text(response: httpx.Response) -> object:
    content = _utf8(response)
    try:
        return json.loads(content) if content.strip() else None
    except ValueError:
        return response.text


def _excerpt(body: object, secrets: frozenset[str], limit: int = 200) -> str:
    text = body if isinstance(body, str) else json.dumps(redact_json(body), ensure_ascii=False)
    text = redact_text(text, secrets)
    return text if len(text) <= limit else text[:limit] + "…"


class SyncAPIClient(BaseClient):
    """Drives `BaseClient._request_flow` with a blocking `httpx.Client` and `time.sleep`."""

    def __init__(
        self,
        *,
        base_url: str,
        auth: httpx.Auth | None,
        timeout: TimeoutTypes,
        max_retries: int,
        default_headers: Headers | None,
        http_client: httpx.Client | None,
        sleep: Callable[[float], None] = time.sleep,
        retry_non_idempotent: bool = False,
        validate_responses: bool = True,
    ) -> None:
        super().__init__(
            base_url=base_url,
            auth=auth,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
            retry_non_idempotent=retry_non_idempotent,
            validate_responses=validate_responses,
        )
        self._owns_http_client = http_client is None
        if http_client is None:
            # Our own pool carries the default headers, so httpx merges them in once per request.
            http_client = httpx.Client(follow_redirects=True, headers=self._default_headers)
            self._carried_headers = (http_client, dict(self._default_headers))
        self._http = http_client
        self._sleep = sleep

    def request(self, options: FinalRequestOptions[T]) -> T:
        if self._http.is_closed:
            raise _errors.InvalidRequestError(
                "the client is closed: make a new one (or use it inside `with`)"
            )
        flow = self._request_flow(self._http, options)
        step = next(flow)
        while True:
            outcome: Outcome = None
            if isinstance(step, _Send):
                try:
                    outcome = self._http.send(
                        step.request, auth=step.auth_argument(), follow_redirects=False
                    )
                except httpx.HTTPError as exc:
                    outcome = exc
            else:
                self._sleep(step)
            try:
                step = flow.send(outcome)
            except StopIteration as done:
                return cast("T", done.value)  # what `cast_to` (the T of the options) parses to

    @property
    def is_closed(self) -> bool:
        return self._http.is_closed

    def close(self) -> None:
        """Close the HTTP connection pool, unless it was passed in by the caller."""
        if self._owns_http_client:
            self._http.close()

    def __enter__(self: SyncClientT) -> SyncClientT:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


async def _asyncio_sleep(seconds: float) -> None:
    import asyncio  # here, not at module level: importing the package stays cheap

    await asyncio.sleep(seconds)


class AsyncAPIClient(BaseClient):
    """Drives `BaseClient._request_flow` with an `httpx.AsyncClient` and `asyncio.sleep`."""

    def __init__(
        self,
        *,
        base_url: str,
        auth: httpx.Auth | None,
        timeout: TimeoutTypes,
        max_retries: int,
        default_headers: Headers | None,
        http_client: httpx.AsyncClient | None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        retry_non_idempotent: bool = False,
        validate_responses: bool = True,
    ) -> None:
        super().__init__(
            base_url=base_url,
            auth=auth,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
            retry_non_idempotent=retry_non_idempotent,
            validate_responses=validate_responses,
        )
        self._owns_http_client = http_client is None
        if http_client is None:
            # Our own pool carries the default headers, so httpx merges them in once per request.
            http_client = httpx.AsyncClient(follow_redirects=True, headers=self._default_headers)
            self._carried_headers = (http_client, dict(self._default_headers))
        self._http = http_client
        self._sleep = sleep if sleep is not None else _asyncio_sleep

    async def request(self, options: FinalRequestOptions[T]) -> T:
        if self._http.is_closed:
            raise _errors.InvalidRequestError(
                "the client is closed: make a new one (or use it inside `async with`)"
            )
        flow = self._request_flow(self._http, options)
        step = next(flow)
        while True:
            outcome: Outcome = None
            if isinstance(step, _Send):
                try:
                    outcome = await self._http.send(
                        step.request, auth=step.auth_argument(), follow_redirects=False
                    )
                except httpx.HTTPError as exc:
                    outcome = exc
            else:
                await self._sleep(step)
            try:
                step = flow.send(outcome)
            except StopIteration as done:
                return cast("T", done.value)  # what `cast_to` (the T of the options) parses to

    @property
    def is_closed(self) -> bool:
        return self._http.is_closed

    async def close(self) -> None:
        """Close the HTTP connection pool, unless it was passed in by the caller."""
        if self._owns_http_client:
            await self._http.aclose()

    async def __aenter__(self: AsyncClientT) -> AsyncClientT:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


class SyncAPIResource:
    def __init__(self, client: SyncAPIClient) -> None:
        self._client = client


class AsyncAPIResource:
    def __init__(self, client: AsyncAPIClient) -> None:
        self._client = client
