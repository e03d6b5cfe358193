"""A small Kibo-like HTTP server for tests: auth tickets, app tokens, faults, contract checks.

`KiboServer` serves, under `<url>` = ``http://127.0.0.1:PORT/api``, the operations of
`spec/kibo_authtickets.yaml` plus one protected endpoint that stands in for "another Kibo API
called on behalf of a shopper" (``GET /commerce/customer/accounts/current``, not in the spec).

Every request it receives and every response it sends (its own fault-injection responses
excepted) is checked against the spec; problems land in `KiboServer.contract_violations`.
The spec is parsed once per process (`load_contract` is cached), so a request costs a dict
lookup plus a JSON-schema validation of its body.

Stdlib only, apart from PyYAML and openapi-schema-validator (both dependencies of the project).
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import hmac
import json
import logging
import secrets
import socket
import threading
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Protocol, final
from urllib.parse import parse_qs, quote, urlsplit

import yaml
from openapi_schema_validator import (
    OAS30Validator,
    OAS31Validator,
    oas30_format_checker,
    oas31_format_checker,
)
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4, DRAFT202012

__all__ = [
    "DEFAULT_SPEC",
    "Contract",
    "FakeClock",
    "Headers",
    "KiboServer",
    "RecordedRequest",
    "User",
    "load_contract",
]

DEFAULT_SPEC: Final = Path(__file__).resolve().parent.parent / "spec" / "kibo_authtickets.yaml"
API_PREFIX: Final = "/api"
JSON: Final = "application/json"

CUSTOMER_AUTH = "/commerce/customer/authtickets"
REFRESH = CUSTOMER_AUTH + "/refresh"
ANONYMOUS = CUSTOMER_AUTH + "/anonymousshopper"
IMPERSONATE = CUSTOMER_AUTH + "/impersonatecart"
TWO_FA_REQUEST = CUSTOMER_AUTH + "/2fa/request"
TWO_FA_AUTH = CUSTOMER_AUTH + "/2fa/auth"
OTP_REQUEST = CUSTOMER_AUTH + "/otp/request"
OTP_AUTH = CUSTOMER_AUTH + "/otp/auth"
APP_OAUTH = "/platform/applications/authtickets/oauth"
CURRENT_ACCOUNT = "/commerce/customer/accounts/current"

# Operations served here that the spec does not describe: no contract checks for them.
NOT_IN_SPEC: Final = frozenset({("GET", CURRENT_ACCOUNT)})

UTC: Final = timezone(timedelta(0))
_NO_BODY: Final = object()
logger = logging.getLogger(__name__)  # "the message has no body", distinct from a JSON `null`


# --------------------------------------------------------------------------------------
# Small value types
# --------------------------------------------------------------------------------------


class Headers(dict[str, str]):
    """Request headers: a dict with lower-cased keys and case-insensitive lookups."""

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__()
        for key, value in items:
            key = key.lower()
            self[key] = f"{self[key]}, {value}" if key in self else value

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __setitem__(self, key: str, value: str) -> None:
        super().__setitem__(key.lower(), value)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)


@dataclass
class RecordedRequest:
    """One request as the server received it."""

    method: str
    path: str  # relative to the API base (`/api` stripped), no query string
    full_path: str  # the path as sent, no query string
    query: dict[str, str]  # first value of each query parameter
    headers: Headers
    body: bytes
    json: Any | None  # the parsed body, None when empty or not JSON
    time: datetime  # the server clock when it arrived
    status: int | None = None  # the status answered (None while in flight or when the client left)
    client_port: int = 0  # the client's TCP port: equal ports mean one kept-alive connection


@dataclass
class User:
    """A shopper registered with `KiboServer.add_user` (or an anonymous shopper)."""

    username: str
    password: str = field(repr=False)
    user_id: str
    account_id: int | None
    email: str | None
    requires_2fa: bool = False
    first_name: str = "Test"
    last_name: str = "Shopper"
    created: datetime = field(default_factory=lambda: datetime(2020, 1, 1, tzinfo=UTC))
    anonymous: bool = False
    last_2fa: datetime | None = None


class FakeClock:
    """A settable clock for `KiboServer(clock=...)`: `clock.advance(seconds)` moves time."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2024, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class _AccessGrant:
    user: User
    expires: datetime
    two_factor_pending: bool  # a token from a `requires2FA` login: only 2fa/request and 2fa/auth


@dataclass
class _RefreshGrant:
    user: User
    expires: datetime


@dataclass
class _Code:
    code: str
    expires: datetime
    attempts_left: int


@dataclass
class _Fault:
    remaining: int
    path: str | None
    status: int = 0
    body: bytes | None = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class _Reply:
    status: int
    payload: Any = _NO_BODY  # a JSON-able value, or _NO_BODY for an empty body
    headers: dict[str, str] = field(default_factory=dict)


class _KiboError(Exception):
    """Raised by an endpoint to answer with a Kibo error body."""

    def __init__(self, status: int, code: str, message: str, reason: str, exc_type: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.reason = reason
        self.exc_type = exc_type


def _unauthorized(message: str, reason: str = "unauthorized") -> _KiboError:
    return _KiboError(
        401, "UNAUTHORIZED", message, reason, "Mozu.Core.Exceptions.VaeUnAuthorizedException"
    )


def _bad_request(message: str, reason: str = "validation") -> _KiboError:
    return _KiboError(
        400, "VALIDATION_ERROR", message, reason, "Mozu.Core.Exceptions.VaeValidationException"
    )


def _not_found(message: str) -> _KiboError:
    return _KiboError(
        404, "ITEM_NOT_FOUND", message, "not_found", "Mozu.Core.Exceptions.VaeNotFoundException"
    )


def _iso(moment: datetime) -> str:
    """ISO-8601 in UTC with milliseconds and a `Z`, as Kibo writes timestamps."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _normalize_path(path: str) -> str:
    """The path relative to the API base: `/api/x/` -> `/x`."""
    if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
        path = path[len(API_PREFIX) :]
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/")
    return path or "/"


def _media_type(content_type: str | None) -> str | None:
    if content_type is None:
        return None
    return content_type.split(";", 1)[0].strip().lower()


# --------------------------------------------------------------------------------------
# Contract checking against the OpenAPI document
# --------------------------------------------------------------------------------------

_SPEC_URI: Final = "urn:kibo-test-server:spec"
_HTTP_METHODS: Final = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_NAMES_ONLY_VALIDATORS: Final = frozenset(
    {"required", "additionalProperties", "dependencies", "dependentRequired"}
)


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _unescape(part: str) -> str:
    return part.replace("~1", "/").replace("~0", "~")


class Validator(Protocol):
    """What the server needs of a jsonschema validator."""

    def iter_errors(self, instance: Any) -> Iterable[Any]: ...


def _describe(error: Any) -> str:
    """An error without the offending value (it may be a password or a token)."""
    where = error.json_path
    if error.validator in _NAMES_ONLY_VALIDATORS:
        return f"{where}: {error.message}"
    return f"{where}: fails {error.validator}={error.validator_value!r}"


@dataclass(frozen=True)
class _Param:
    name: str
    location: str
    required: bool
    schema_type: str | None
    validator: Validator | None


@dataclass(frozen=True)
class _Operation:
    method: str
    path: str
    params: tuple[_Param, ...]
    body_required: bool
    body_content: Mapping[str, Validator | None] | None  # None: no requestBody
    responses: Mapping[str, Mapping[str, Validator | None] | None]  # status -> media -> schema


class Contract:
    """The operations of one OpenAPI document with prebuilt schema validators."""

    def __init__(self, document: Mapping[str, Any], source: str = "<spec>") -> None:
        self.source = source
        self._document = document
        version = str(document.get("openapi", ""))
        if version.startswith("3.0"):
            self._cls: type[Any] = OAS30Validator
            self._formats = oas30_format_checker
            specification = DRAFT4
        elif version.startswith("3.1"):
            self._cls = OAS31Validator
            self._formats = oas31_format_checker
            specification = DRAFT202012
        else:
            raise ValueError(f"{source}: not an OpenAPI 3.0/3.1 document")
        resource: Resource[Any] = specification.create_resource(document)
        self._registry: Registry[Any] = Registry().with_resource(_SPEC_URI, resource)
        self._validators: dict[tuple[str, ...], Validator] = {}
        self.operations: dict[tuple[str, str], _Operation] = {}
        self.paths: set[str] = set()
        for path, raw_item in (document.get("paths") or {}).items():
            item, item_at = self._deref(raw_item, ("paths", path))
            self.paths.add(path)
            for method in _HTTP_METHODS:
                if method in item:
                    op = self._operation(method.upper(), path, item, item_at)
                    self.operations[(op.method, path)] = op

    # -- building -----------------------------------------------------------------------

    def _walk(self, parts: tuple[str, ...]) -> Any:
        node: Any = self._document
        for part in parts:
            node = node[int(part)] if isinstance(node, list) else node[part]
        return node

    def _deref(self, node: Any, at: tuple[str, ...]) -> tuple[Any, tuple[str, ...]]:
        seen = 0
        while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
            ref: str = node["$ref"]
            if not ref.startswith("#/") or seen > 32:
                raise ValueError(f"{self.source}: unsupported $ref {ref!r}")
            at = tuple(_unescape(p) for p in ref[2:].split("/"))
            node = self._walk(at)
            seen += 1
        return node, at

    def _validator(self, at: tuple[str, ...]) -> Validator:
        validator = self._validators.get(at)
        if validator is None:
            pointer = quote("/" + "/".join(_escape(p) for p in at), safe="/~")
            validator = self._cls(
                {"$ref": f"{_SPEC_URI}#{pointer}"},
                registry=self._registry,
                format_checker=self._formats,
            )
            self._validators[at] = validator
        return validator

    def _content(
        self, content: Mapping[str, Any] | None, at: tuple[str, ...]
    ) -> dict[str, Validator | None]:
        result: dict[str, Validator | None] = {}
        for media, media_obj in (content or {}).items():
            has_schema = isinstance(media_obj, Mapping) and "schema" in media_obj
            key = media.lower()
            result[key] = self._validator((*at, media, "schema")) if has_schema else None
        return result

    def _operation(
        self, method: str, path: str, item: Mapping[str, Any], item_at: tuple[str, ...]
    ) -> _Operation:
        op_at = (*item_at, method.lower())
        op = item[method.lower()]
        params: dict[tuple[str, str], _Param] = {}
        sources = [
            (p, (*at, "parameters", str(i)))
            for node, at in ((item, item_at), (op, op_at))
            for i, p in enumerate(node.get("parameters", []))
        ]
        for raw, raw_at in sources:  # operation-level parameters override path-level ones
            param, param_at = self._deref(raw, raw_at)
            schema = param.get("schema")
            schema_type = None
            validator = None
            if isinstance(schema, Mapping):
                resolved, _ = self._deref(schema, (*param_at, "schema"))
                schema_type = resolved.get("type") if isinstance(resolved, Mapping) else None
                validator = self._validator((*param_at, "schema"))
            key = (param["in"], param["name"].lower() if param["in"] == "header" else param["name"])
            params[key] = _Param(
                name=param["name"],
                location=param["in"],
                required=bool(param.get("required", param["in"] == "path")),
                schema_type=schema_type if isinstance(schema_type, str) else None,
                validator=validator,
            )
        body_content = None
        body_required = False
        if "requestBody" in op:
            body, body_at = self._deref(op["requestBody"], (*op_at, "requestBody"))
            body_required = bool(body.get("required", False))
            body_content = self._content(body.get("content"), (*body_at, "content"))
        responses: dict[str, Mapping[str, Validator | None] | None] = {}
        for status, raw in (op.get("responses") or {}).items():
            response, response_at = self._deref(raw, (*op_at, "responses", str(status)))
            content = response.get("content")
            responses[str(status).upper()] = (
                self._content(content, (*response_at, "content")) if content else None
            )
        return _Operation(
            method, path, tuple(params.values()), body_required, body_content, responses
        )

    # -- checking -----------------------------------------------------------------------

    def find(self, method: str, path: str) -> _Operation | None:
        return self.operations.get((method, path))

    @staticmethod
    def _schema_errors(validator: Validator, instance: Any, where: str) -> list[str]:
        return [f"{where} {_describe(e)}" for e in validator.iter_errors(instance)]

    @staticmethod
    def _pick(
        content: Mapping[str, Validator | None], media: str | None
    ) -> tuple[bool, Validator | None]:
        if media is None:
            return False, None
        for candidate in (media, media.split("/", 1)[0] + "/*", "*/*"):
            if candidate in content:
                return True, content[candidate]
        return False, None

    def check_request(
        self,
        method: str,
        path: str,
        query: Mapping[str, list[str]],
        headers: Headers,
        body: bytes,
        parsed: Any,
    ) -> list[str]:
        """Problems with a request (an empty list when it fits the spec)."""
        label = f"request {method} {path}:"
        op = self.find(method, path)
        if op is None:
            if path in self.paths:
                return [f"{label} method not allowed by the spec"]
            return [f"{label} no such operation in the spec"]
        problems: list[str] = []
        for param in op.params:
            if param.location == "query":
                values = query.get(param.name)
            elif param.location == "header":
                value = headers.get(param.name)
                values = None if value is None else [value]
            else:
                continue  # the server's own paths have no path/cookie parameters
            if not values:
                if param.required:
                    problems.append(
                        f"{label} missing required {param.location} parameter {param.name!r}"
                    )
                continue
            if param.validator is None:
                continue
            coerced, ok = _coerce(values, param.schema_type)
            if not ok:
                where = f"{label} {param.location} parameter {param.name!r}"
                problems.append(f"{where} is not a {param.schema_type}")
                continue
            problems += self._schema_errors(
                param.validator, coerced, f"{label} {param.location} parameter {param.name!r}"
            )
        if op.body_content is None:
            if body:
                problems.append(f"{label} has a body but the operation takes none")
            return problems
        if not body:
            if op.body_required:
                problems.append(f"{label} missing required request body")
            return problems
        media = _media_type(headers.get("content-type"))
        found, validator = self._pick(op.body_content, media)
        if not found:
            problems.append(f"{label} content-type {media!r} not in {sorted(op.body_content)}")
            return problems
        if media is not None and "json" in media:
            if parsed is _NO_BODY:
                problems.append(f"{label} body is not valid JSON")
            elif validator is not None:
                problems += self._schema_errors(validator, parsed, f"{label} body")
        return problems

    def check_response(
        self,
        method: str,
        path: str,
        status: int,
        content_type: str | None,
        payload: Any,
        *,
        check_content_type: bool = True,
    ) -> list[str]:
        """Problems with a response the server is about to send to a spec'd request."""
        op = self.find(method, path)
        if op is None:
            return []  # already reported on the request side
        label = f"response {status} to {method} {path}:"
        responses = op.responses
        key = str(status)
        if key not in responses:
            key = f"{status // 100}XX"
        if key not in responses:
            key = "DEFAULT"
        if key not in responses:
            return [f"{label} status not documented"]
        content = responses[key]
        if content is None:
            if payload is _NO_BODY:
                return []
            return [f"{label} has a body but the spec documents none"]
        if payload is _NO_BODY:
            return [f"{label} empty body but the spec documents {sorted(content)}"]
        media = _media_type(content_type)
        found, validator = self._pick(content, media)
        if not found:
            if check_content_type:
                return [f"{label} content-type {media!r} not in {sorted(content)}"]
            validator = next(iter(content.values()), None)
        if validator is None:
            return []
        return self._schema_errors(validator, payload, f"{label} body")


def _coerce(values: list[str], schema_type: str | None) -> tuple[Any, bool]:
    """Turn query/header strings into the schema's type (form style, explode)."""
    if schema_type == "array":
        return values, True
    raw = values[0]
    try:
        if schema_type == "integer":
            return int(raw), True
        if schema_type == "number":
            return float(raw), True
    except ValueError:
        return None, False
    if schema_type == "boolean":
        if raw in ("true", "false"):
            return raw == "true", True
        return None, False
    return raw, True


@functools.lru_cache(maxsize=8)
def _load_contract_cached(path: str, mtime_ns: int) -> Contract:
    with open(path, encoding="utf-8") as handle:
        document = yaml.safe_load(handle)
    return Contract(document, source=path)


def load_contract(path: str | Path = DEFAULT_SPEC) -> Contract:
    """The spec's `Contract`, parsed once per process (and again only if the file changes)."""
    resolved = Path(path).resolve()
    return _load_contract_cached(str(resolved), resolved.stat().st_mtime_ns)


# --------------------------------------------------------------------------------------
# HTTP plumbing
# --------------------------------------------------------------------------------------


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, kibo: KiboServer) -> None:
        self.kibo = kibo
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that went away mid-response is not an error here


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "KiboTestServer/1.0"
    sys_version = ""
    timeout = 120  # idle keep-alive connections are dropped after this
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.connections_lock:
            self.server.connections.add(self.request)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.request)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self) -> None:
        try:
            body = self._read_body()
        except (OSError, ValueError):
            self.close_connection = True
            return
        split = urlsplit(self.path)
        result = self.server.kibo._handle(
            self.command,
            split.path,
            split.query,
            Headers(self.headers.items()),
            body,
            int(self.client_address[1]),
        )
        if result is None:  # the server is stopping
            self.close_connection = True
            return
        status, headers, payload = result
        try:
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if payload and self.command != "HEAD":
                self.wfile.write(payload)
        except OSError:
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _serve


# --------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------

Route = Callable[["KiboServer", "RecordedRequest", datetime], _Reply]


@final
class KiboServer:
    """A Kibo-like server on 127.0.0.1 for tests (see the module docstring).

    Use as a context manager (or `start()`/`stop()`); `url` is the base URL a client uses.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], datetime] | None = None,
        access_ttl: float = 1800,
        refresh_ttl: float = 7 * 24 * 3600,
        code_ttl: float = 180,
        spec: str | Path | None = DEFAULT_SPEC,
    ) -> None:
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self._defaults = (access_ttl, refresh_ttl, code_ttl)
        self.contract: Contract | None = load_contract(spec) if spec is not None else None
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._jwt_key = secrets.token_bytes(32)
        self._init_state()

    def _init_state(self) -> None:
        self.access_ttl, self.refresh_ttl, self.code_ttl = self._defaults
        self.require_app_token = True
        self.rotate_refresh_tokens = True
        self.validate_contract = self.contract is not None
        self.response_content_type: str | None = JSON
        self.expect_contract_violations = False
        self.contract_violations: list[str] = []
        self.errors: list[str] = []  # unexpected exceptions inside the server (bugs)
        self.requests: list[RecordedRequest] = []
        self.users: dict[str, User] = {}  # by username
        self.apps: dict[str, tuple[str, int]] = {}  # client_id -> (secret, expires_in)
        self.app_tokens: set[str] = set()
        self._app_token_expiry: dict[str, datetime] = {}
        self.sent_codes: dict[str, str] = {}
        self._codes: dict[str, _Code] = {}
        self._access: dict[str, _AccessGrant] = {}
        self._refresh: dict[str, _RefreshGrant] = {}
        self._faults: list[_Fault] = []
        self._delays: list[_Fault] = []
        self._offset = timedelta()
        self._next_account_id = 1001

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> KiboServer:
        if self._httpd is not None:
            return self
        self._stopping.clear()
        self._httpd = _HTTPServer(self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.01},
            name=f"kibo-server-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        with httpd.connections_lock:
            connections = list(httpd.connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> KiboServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("KiboServer is not running")
        return int(self._httpd.server_address[1])

    @property
    def origin(self) -> str:
        """`http://127.0.0.1:PORT` (no `/api`)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The API base URL a client uses: `http://127.0.0.1:PORT/api`."""
        return self.origin + API_PREFIX

    def reset(self) -> None:
        """Forget users, apps, tokens, codes, records, faults and violations; restore defaults."""
        with self._lock:
            self._init_state()

    # -- time ---------------------------------------------------------------------------

    def now(self) -> datetime:
        """The server's time: `clock()` plus whatever `advance()` added."""
        return self.clock() + self._offset

    def advance(self, seconds: float) -> None:
        """Move the server's time forward (tokens and codes expire) without sleeping."""
        with self._lock:
            self._offset += timedelta(seconds=seconds)

    # -- setup by tests -----------------------------------------------------------------

    def add_user(
        self,
        username: str,
        password: str,
        *,
        account_id: int | None = None,
        requires_2fa: bool = False,
        email: str | None = None,
        user_id: str | None = None,
        first_name: str = "Test",
        last_name: str = "Shopper",
    ) -> User:
        """Register a shopper who can log in with `username` (or `email`) and `password`."""
        with self._lock:
            if account_id is None:
                account_id = self._next_account_id
            self._next_account_id = max(self._next_account_id, account_id) + 1
            if email is None:
                email = username if "@" in username else f"{username}@example.com"
            user = User(
                username=username,
                password=password,
                user_id=user_id or uuid.uuid4().hex,
                account_id=account_id,
                email=email,
                requires_2fa=requires_2fa,
                first_name=first_name,
                last_name=last_name,
            )
            self.users[username] = user
            return user

    def add_app(self, client_id: str, secret: str, expires_in: int = 3600) -> None:
        """Register an application for `POST /platform/applications/authtickets/oauth`."""
        with self._lock:
            self.apps[client_id] = (secret, expires_in)

    def issue_app_token(self, expires_in: int | None = None) -> str:
        """A valid app token without the OAuth round trip (never expires unless `expires_in`)."""
        token = secrets.token_urlsafe(24)
        with self._lock:
            self.app_tokens.add(token)
            if expires_in is not None:
                self._app_token_expiry[token] = self.now() + timedelta(seconds=expires_in)
        return token

    def revoke(self, token: str) -> None:
        """Invalidate an app, access or refresh token."""
        with self._lock:
            self.app_tokens.discard(token)
            self._app_token_expiry.pop(token, None)
            self._access.pop(token, None)
            self._refresh.pop(token, None)

    def is_valid_access_token(self, token: str) -> bool:
        with self._lock:
            grant = self._access.get(token)
            return grant is not None and grant.expires > self.now()

    # -- fault injection ----------------------------------------------------------------

    def fail_next(
        self,
        n: int = 1,
        status: int = 503,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        path: str | None = None,
    ) -> None:
        """Answer the next `n` requests (to `path`, if given) with `status`.

        `body`: None for a Kibo error body, bytes/str as is, anything else as JSON.
        `headers` are added (e.g. `{"Retry-After": "1"}`) and may override Content-Type.
        """
        raw: bytes | None  # None: a Kibo error body, made when the fault fires
        if body is None:
            raw = None
        elif isinstance(body, bytes):
            raw = body
        elif isinstance(body, str):
            raw = body.encode()
        else:
            raw = json.dumps(body).encode()
        all_headers = {"Content-Type": JSON}
        for name, value in (headers or {}).items():
            all_headers = {k: v for k, v in all_headers.items() if k.lower() != name.lower()}
            all_headers[name] = value
        self._add_fault(_Fault(n, self._fault_path(path), status, raw, all_headers))

    def respond_next(
        self,
        status: int,
        body: bytes | str,
        content_type: str | None = JSON,
        path: str | None = None,
        *,
        n: int = 1,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answer the next request (to `path`, if given) with exactly these bytes.

        `content_type=None` sends no Content-Type header.
        """
        raw = body.encode() if isinstance(body, str) else body
        all_headers = {} if content_type is None else {"Content-Type": content_type}
        all_headers.update(headers or {})
        self._add_fault(_Fault(n, self._fault_path(path), status, raw, all_headers))

    def delay_next(self, n: int, seconds: float, path: str | None = None) -> None:
        """Hold the next `n` requests (to `path`, if given) for `seconds` before answering."""
        with self._lock:
            self._delays.append(_Fault(n, self._fault_path(path), delay=seconds))

    def _add_fault(self, fault: _Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    @staticmethod
    def _fault_path(path: str | None) -> str | None:
        return None if path is None else _normalize_path(urlsplit(path).path)

    @staticmethod
    def _take(queue: list[_Fault], path: str) -> _Fault | None:
        for fault in queue:
            if fault.path is None or fault.path == path:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    queue.remove(fault)
                return fault
        return None

    # -- inspection ---------------------------------------------------------------------

    def count(self, method: str | None = None, path: str | None = None) -> int:
        """How many requests matched `method` and `path` (either may be None for any)."""
        wanted = None if path is None else _normalize_path(urlsplit(path).path)
        method = method.upper() if method else None
        with self._lock:
            return sum(
                1
                for r in self.requests
                if (method is None or r.method == method) and (wanted is None or r.path == wanted)
            )

    def last(self, method: str | None = None, path: str | None = None) -> RecordedRequest:
        """The most recent request matching `method` and `path`."""
        wanted = None if path is None else _normalize_path(urlsplit(path).path)
        with self._lock:
            for r in reversed(self.requests):
                if (method is None or r.method == method.upper()) and (
                    wanted is None or r.path == wanted
                ):
                    return r
        raise LookupError(f"no request {method or '*'} {path or '*'}")

    # -- request handling ---------------------------------------------------------------

    def _handle(
        self,
        method: str,
        full_path: str,
        raw_query: str,
        headers: Headers,
        body: bytes,
        client_port: int = 0,
    ) -> tuple[int, list[tuple[str, str]], bytes] | None:
        path = _normalize_path(full_path)
        query_lists = parse_qs(raw_query, keep_blank_values=True)
        parsed: Any = _NO_BODY
        if body:
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = _NO_BODY
        record = RecordedRequest(
            method=method,
            path=path,
            full_path=full_path,
            query={k: v[0] for k, v in query_lists.items()},
            headers=headers,
            body=body,
            json=None if parsed is _NO_BODY else parsed,
            time=self.now(),
            client_port=client_port,
        )
        correlation = str(uuid.uuid4())
        with self._lock:
            self.requests.append(record)
            delay = self._take(self._delays, path)
            fault = self._take(self._faults, path)
            content_type_mode = self.response_content_type
            check = self.validate_contract and self.contract is not None
        spec_op = check and (method, path) not in NOT_IN_SPEC
        if spec_op and self.contract is not None:
            problems = self.contract.check_request(method, path, query_lists, headers, body, parsed)
            if problems:
                self._violations(problems)
        if delay is not None and self._stopping.wait(delay.delay):
            return None
        if fault is not None:
            record.status = fault.status
            fault_headers = [("x-vol-correlation", correlation), *fault.headers.items()]
            fault_body = fault.body
            if fault_body is None:
                error = self._error_body(
                    fault.status,
                    "SERVICE_UNAVAILABLE" if fault.status == 503 else "SERVER_ERROR",
                    f"Injected failure (HTTP {fault.status})",
                    "injected",
                    correlation,
                    "Mozu.Core.Exceptions.VaeException",
                )
                fault_body = json.dumps(error, separators=(",", ":")).encode()
            return fault.status, fault_headers, fault_body
        try:
            reply = self._route(method, path, record)
        except _KiboError as err:
            error = self._error_body(
                err.status, err.code, err.message, err.reason, correlation, err.exc_type
            )
            reply = _Reply(err.status, error)
        except Exception:
            logger.exception("KiboServer crashed handling %s %s", method, path)
            with self._lock:
                self.errors.append(traceback.format_exc())
            reply = _Reply(
                500,
                self._error_body(
                    500,
                    "SERVER_ERROR",
                    "Internal server error",
                    "bug",
                    correlation,
                    "System.Exception",
                ),
            )
        out_headers = [("x-vol-correlation", correlation), *reply.headers.items()]
        payload = b""
        if reply.payload is not _NO_BODY:
            payload = json.dumps(reply.payload, separators=(",", ":")).encode()
            if content_type_mode is not None:
                out_headers.append(("Content-Type", content_type_mode))
        if spec_op and self.contract is not None:
            problems = self.contract.check_response(
                method,
                path,
                reply.status,
                content_type_mode if reply.payload is not _NO_BODY else None,
                reply.payload,
                check_content_type=content_type_mode == JSON,
            )
            if problems:
                self._violations(problems)
        record.status = reply.status
        return reply.status, out_headers, payload

    def _violations(self, problems: list[str]) -> None:
        with self._lock:
            self.contract_violations.extend(problems)

    @staticmethod
    def _error_body(
        status: int, code: str, message: str, reason: str, correlation: str, exc_type: str
    ) -> dict[str, Any]:
        return {
            "message": message,
            "errorCode": code,
            "applicationName": "Customer",
            "correlationId": correlation,
            "items": [],
            "additionalErrorData": [
                {"name": "reason", "value": reason},
                {"name": "statusCode", "value": str(status)},
            ],
            "exceptionDetail": {"type": exc_type, "message": message},
        }

    def _route(self, method: str, path: str, record: RecordedRequest) -> _Reply:
        route = _ROUTES.get((method, path))
        if route is None:
            known = any(p == path for _, p in _ROUTES)
            if known:
                raise _KiboError(
                    405,
                    "METHOD_NOT_ALLOWED",
                    "Method not allowed",
                    "method",
                    "Mozu.Core.Exceptions.VaeException",
                )
            raise _not_found("Resource not found")
        now = self.now()
        if path != APP_OAUTH and path != CURRENT_ACCOUNT:
            self._check_app_token(record.headers, now)
        reply = route(self, record, now)
        fields = record.query.get("responseFields")
        if fields and reply.status == 200 and isinstance(reply.payload, dict):
            reply.payload = _select_fields(reply.payload, fields)
        return reply

    # -- auth helpers -------------------------------------------------------------------

    def _check_app_token(self, headers: Headers, now: datetime) -> None:
        if not self.require_app_token:
            return
        auth = headers.get("authorization") or ""
        scheme, _, token = auth.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise _unauthorized("Missing application authorization", "missing_app_token")
        with self._lock:
            known = token in self.app_tokens
            expires = self._app_token_expiry.get(token)
        if not known:
            raise _unauthorized("Invalid application authorization", "invalid_app_token")
        if expires is not None and expires <= now:
            raise _unauthorized("Expired application authorization", "expired_app_token")

    def _shopper(self, headers: Headers, now: datetime, *, allow_pending: bool) -> User:
        token = (headers.get("x-vol-user-claims") or "").strip()
        if not token:
            raise _unauthorized("Missing user claims", "missing_user_claims")
        with self._lock:
            grant = self._access.get(token)
        if grant is None:
            raise _unauthorized("Invalid user claims", "invalid_user_claims")
        if grant.expires <= now:
            raise _unauthorized("Expired user claims", "expired_user_claims")
        if grant.two_factor_pending and not allow_pending:
            raise _unauthorized("Two-factor authentication required", "two_factor_required")
        return grant.user

    @staticmethod
    def _body(record: RecordedRequest) -> dict[str, Any]:
        if not record.body:
            raise _bad_request("A request body is required", "missing_body")
        if not isinstance(record.json, dict):
            raise _bad_request("The request body must be a JSON object", "invalid_body")
        return record.json

    def _find_user(self, login: str) -> User | None:
        with self._lock:
            user = self.users.get(login)
            if user is None:
                lowered = login.lower()
                user = next(
                    (u for u in self.users.values() if (u.email or "").lower() == lowered), None
                )
            return user

    def _jwt(self, user: User, expires: datetime, now: datetime) -> str:
        header = _b64url(b'{"alg":"HS256","typ":"JWT"}')
        claims = {
            "sub": user.user_id,
            "accountId": user.account_id,
            "anonymous": user.anonymous,
            "iat": int(now.timestamp()),
            "exp": int(expires.timestamp()),
        }
        payload = _b64url(json.dumps(claims, separators=(",", ":")).encode())
        signature = hmac.new(self._jwt_key, f"{header}.{payload}".encode(), hashlib.sha256)
        return f"{header}.{payload}.{_b64url(signature.digest())}"

    def _ticket(self, user: User, now: datetime, *, pending_2fa: bool = False) -> dict[str, Any]:
        access = secrets.token_urlsafe(32)
        access_expires = now + timedelta(seconds=self.access_ttl)
        ticket: dict[str, Any] = {
            "accessToken": access,
            "accessTokenExpiration": _iso(access_expires),
        }
        with self._lock:
            self._access[access] = _AccessGrant(user, access_expires, pending_2fa)
            if not pending_2fa:
                refresh = secrets.token_urlsafe(32)
                refresh_expires = now + timedelta(seconds=self.refresh_ttl)
                self._refresh[refresh] = _RefreshGrant(user, refresh_expires)
                ticket["refreshToken"] = refresh
                ticket["refreshTokenExpiration"] = _iso(refresh_expires)
        ticket["userId"] = user.user_id
        if not pending_2fa:
            ticket["jwtAccessToken"] = self._jwt(user, access_expires, now)
            if not user.anonymous:
                ticket["customerAccount"] = _account(user)
        ticket["requires2FA"] = pending_2fa
        return ticket

    def _new_code(self, key: str, now: datetime) -> None:
        code = f"{secrets.randbelow(10**6):06d}"
        with self._lock:
            self._codes[key] = _Code(code, now + timedelta(seconds=self.code_ttl), 3)
            self.sent_codes[key] = code

    def _use_code(self, key: str, code: Any, now: datetime) -> bool:
        with self._lock:
            pending = self._codes.get(key)
            if pending is None or pending.expires <= now:
                self._codes.pop(key, None)
                return False
            if isinstance(code, str) and hmac.compare_digest(pending.code, code):
                del self._codes[key]
                return True
            pending.attempts_left -= 1
            if pending.attempts_left <= 0:
                del self._codes[key]
            return False

    # -- endpoints ----------------------------------------------------------------------

    def _create_user_ticket(self, record: RecordedRequest, now: datetime) -> _Reply:
        body = self._body(record)
        username, password = body.get("username"), body.get("password")
        if not isinstance(username, str) or not isinstance(password, str) or not username:
            raise _bad_request("username and password are required", "missing_credentials")
        user = self._find_user(username)
        if user is None or not hmac.compare_digest(user.password.encode(), password.encode()):
            raise _KiboError(
                401,
                "INVALID_CREDENTIALS",
                "Invalid username or password",
                "invalid_credentials",
                "Mozu.Core.Exceptions.VaeUnAuthorizedException",
            )
        return _Reply(200, self._ticket(user, now, pending_2fa=user.requires_2fa))

    def _refresh_ticket(self, record: RecordedRequest, now: datetime) -> _Reply:
        token = record.query.get("refreshToken") or ""
        if not token:
            raise _bad_request("refreshToken is required", "missing_refresh_token")
        with self._lock:
            grant = self._refresh.get(token)
            if grant is None:
                raise _unauthorized("Invalid refresh token", "invalid_refresh_token")
            if grant.expires <= now:
                del self._refresh[token]
                raise _unauthorized("Expired refresh token", "expired_refresh_token")
            if self.rotate_refresh_tokens:
                del self._refresh[token]
        return _Reply(200, self._ticket(grant.user, now))

    def _anonymous_ticket(self, record: RecordedRequest, now: datetime) -> _Reply:
        user = User(
            username="",
            password="",
            user_id=uuid.uuid4().hex,
            account_id=None,
            email=None,
            anonymous=True,
            first_name="",
            last_name="",
        )
        return _Reply(200, self._ticket(user, now))

    def _impersonate_cart(self, record: RecordedRequest, now: datetime) -> _Reply:
        body = self._body(record)
        if not isinstance(body.get("cartId"), str) or not body["cartId"]:
            raise _bad_request("cartId is required", "missing_cart_id")
        account_id, user_id = body.get("accountId"), body.get("userId")
        with self._lock:
            user = next(
                (
                    u
                    for u in self.users.values()
                    if (account_id is not None and u.account_id == account_id)
                    or (user_id is not None and u.user_id == user_id)
                ),
                None,
            )
        if user is None:
            raise _not_found("Customer account not found")
        return _Reply(200, self._ticket(user, now))

    def _request_2fa(self, record: RecordedRequest, now: datetime) -> _Reply:
        user = self._shopper(record.headers, now, allow_pending=True)
        self._new_code(user.user_id, now)
        return _Reply(200)

    def _auth_2fa(self, record: RecordedRequest, now: datetime) -> _Reply:
        body = self._body(record)
        user_id = body.get("userId")
        if not isinstance(user_id, str) or not self._use_code(user_id, body.get("otpCode"), now):
            raise _unauthorized("Invalid or expired two-factor code", "invalid_code")
        with self._lock:
            user = next((u for u in self.users.values() if u.user_id == user_id), None)
            if user is None:
                raise _unauthorized("Invalid or expired two-factor code", "invalid_code")
            user.last_2fa = now
        return _Reply(200, self._ticket(user, now))

    def _request_otp(self, record: RecordedRequest, now: datetime) -> _Reply:
        body = self._body(record)
        email = body.get("email")
        if not isinstance(email, str) or not email:
            raise _bad_request("email is required", "missing_email")
        if self._find_user(email) is not None:  # unknown addresses get the same answer
            self._new_code(email, now)
        return _Reply(200)

    def _auth_otp(self, record: RecordedRequest, now: datetime) -> _Reply:
        body = self._body(record)
        email = body.get("email")
        user = self._find_user(email) if isinstance(email, str) else None
        if user is None or not self._use_code(str(email), body.get("otpCode"), now):
            raise _unauthorized("Invalid or expired one-time password", "invalid_code")
        return _Reply(200, self._ticket(user, now))

    def _app_oauth(self, record: RecordedRequest, now: datetime) -> _Reply:
        body = self._body(record)
        if body.get("grant_type") != "client_credentials":
            raise _bad_request("grant_type must be client_credentials", "unsupported_grant_type")
        client_id, secret = body.get("client_id"), body.get("client_secret")
        with self._lock:
            app = self.apps.get(client_id) if isinstance(client_id, str) else None
        if (
            app is None
            or not isinstance(secret, str)
            or not hmac.compare_digest(app[0].encode(), secret.encode())
        ):
            raise _KiboError(
                401,
                "INVALID_CREDENTIALS",
                "Invalid application credentials",
                "invalid_client",
                "Mozu.Core.Exceptions.VaeUnAuthorizedException",
            )
        expires_in = app[1]
        token = secrets.token_urlsafe(32)
        with self._lock:
            self.app_tokens.add(token)
            self._app_token_expiry[token] = now + timedelta(seconds=expires_in)
        return _Reply(
            200,
            {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": expires_in,
                "refresh_token": secrets.token_urlsafe(32),
            },
        )

    def _current_account(self, record: RecordedRequest, now: datetime) -> _Reply:
        user = self._shopper(record.headers, now, allow_pending=False)
        return _Reply(
            200, {"id": user.account_id, "userId": user.user_id, "isAnonymous": user.anonymous}
        )


_ROUTES: dict[tuple[str, str], Route] = {
    ("POST", CUSTOMER_AUTH): KiboServer._create_user_ticket,
    ("PUT", REFRESH): KiboServer._refresh_ticket,
    ("GET", ANONYMOUS): KiboServer._anonymous_ticket,
    ("POST", IMPERSONATE): KiboServer._impersonate_cart,
    ("POST", TWO_FA_REQUEST): KiboServer._request_2fa,
    ("POST", TWO_FA_AUTH): KiboServer._auth_2fa,
    ("POST", OTP_REQUEST): KiboServer._request_otp,
    ("POST", OTP_AUTH): KiboServer._auth_otp,
    ("POST", APP_OAUTH): KiboServer._app_oauth,
    ("GET", CURRENT_ACCOUNT): KiboServer._current_account,
}


def _select_fields(payload: dict[str, Any], fields: str) -> dict[str, Any]:
    """Honour `responseFields` for top-level names (`a,b(c,d)` keeps `a` and `b` whole)."""
    names: set[str] = set()
    depth = 0
    current = ""
    for char in fields + ",":
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(depth - 1, 0)
        elif char == "," and depth == 0:
            names.add(current.strip())
            current = ""
        elif depth == 0:
            current += char
    names.discard("")
    return {k: v for k, v in payload.items() if k in names} if names else payload


def _audit(user: User) -> dict[str, Any]:
    return {
        "createBy": "kibo-test-server",
        "createDate": _iso(user.created),
        "updateBy": None,
        "updateDate": _iso(user.created + timedelta(days=30)),
    }


def _account(user: User) -> dict[str, Any]:
    """A realistic CustomerAccount for a registered shopper."""
    audit = _audit(user)
    contacts = [
        {
            "id": 1,
            "accountId": user.account_id,
            "email": user.email,
            "firstName": user.first_name,
            "middleNameOrInitial": None,
            "lastNameOrSurname": user.last_name,
            "companyOrOrganization": None,
            "faxNumber": None,
            "label": "Home",
            "phoneNumbers": {"home": "512-555-0100", "mobile": "512-555-0101", "work": None},
            "address": {
                "address1": "100 Congress Ave",
                "address2": "Suite 200",
                "address3": None,
                "address4": None,
                "cityOrTown": "Austin",
                "stateOrProvince": "TX",
                "postalOrZipCode": "78701",
                "countryCode": "US",
                "addressType": "Residential",
                "isValidated": True,
            },
            "types": [{"name": "Billing", "isPrimary": True}],
            "auditInfo": audit,
        },
        {
            "id": 2,
            "accountId": user.account_id,
            "email": user.email,
            "firstName": user.first_name,
            "middleNameOrInitial": "Q",
            "lastNameOrSurname": user.last_name,
            "companyOrOrganization": "Example Corp",
            "faxNumber": None,
            "label": "Work",
            "phoneNumbers": {"home": None, "mobile": None, "work": "512-555-0199"},
            "address": {
                "address1": "1 Market St",
                "address2": None,
                "address3": None,
                "address4": None,
                "cityOrTown": "San Francisco",
                "stateOrProvince": "CA",
                "postalOrZipCode": "94105",
                "countryCode": "US",
                "addressType": "Commercial",
                "isValidated": False,
            },
            "types": [
                {"name": "Shipping", "isPrimary": True},
                {"name": "Billing", "isPrimary": False},
            ],
            "auditInfo": audit,
        },
    ]
    return {
        "id": user.account_id,
        "customerSet": "default",
        "commerceSummary": {
            "totalOrderAmount": {"amount": 1234.5, "currencyCode": "USD"},
            "orderCount": 7,
            "lastOrderDate": _iso(user.created + timedelta(days=200)),
            "wishlistCount": 2,
            "visitsCount": 42,
        },
        "contacts": contacts,
        "companyOrOrganization": None,
        "notes": [{"id": 1, "content": "Prefers email contact.", "auditInfo": audit}],
        "attributes": [
            {
                "auditInfo": audit,
                "fullyQualifiedName": "tenant~loyalty-tier",
                "attributeDefinitionId": 11,
                "values": ["gold"],
            },
            {
                "auditInfo": audit,
                "fullyQualifiedName": "tenant~newsletter",
                "attributeDefinitionId": 12,
                "values": [True],
            },
            {
                "auditInfo": audit,
                "fullyQualifiedName": "tenant~shoe-size",
                "attributeDefinitionId": 13,
                "values": [42, 42.5],
            },
        ],
        "segments": [
            {
                "id": 3,
                "code": "VIP",
                "name": "Very important",
                "description": None,
                "auditInfo": audit,
            }
        ],
        "taxExempt": False,
        "taxId": None,
        "externalId": None,
        "auditInfo": audit,
        "customerSinceDate": _iso(user.created),
        "accountType": "B2C",
        "migrationRequired": False,
        "emailAddress": user.email,
        "userName": user.username,
        "firstName": user.first_name,
        "lastName": user.last_name,
        "localeCode": "en-US",
        "userId": user.user_id,
        "isAnonymous": False,
        "isLocked": False,
        "isActive": True,
        "acceptsMarketing": True,
        "hasExternalPassword": False,
        "last2FaDate": _iso(user.last_2fa) if user.last_2fa else None,
    }
