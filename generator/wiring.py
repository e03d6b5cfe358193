"""Auth and context wiring of the generated client, derived from the IR (no Jinja here).

What it finds decides which optional runtime modules a package gets (`oauth.py`, `kibo/`) and the
settings `_config.py` hands them; the package's `auth.py` and client constructor offer only what
the spec has:

- `bearer`: the first `http`/`bearer` security scheme → `Client(access_token=...)`;
- `claims_header`: the first `apiKey` scheme sent in a header (Kibo: `x-vol-user-claims`);
- `token`: an operation whose body takes `client_id` + `client_secret` (+ `grant_type`) and whose
  answer has `access_token` + `expires_in` (OAuth client credentials);
- `refresh`: an operation taking a refresh token as a parameter and answering a ticket with an
  access token, a refresh token and both expirations;
- `login`: a password login answering that ticket model, plus the two-factor request and auth
  operations (a body with a user id and an OTP code);
- `kibo`: the servers are Kibo's hosts or the claims header is an `x-vol-*` header → context
  headers and `KIBO_*` environment variables.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .safe import Code, Identifier
from .spec import ApiSpec, Operation, ParameterLocation, Resource, SchemeType, Server

KIBO_HOSTS = ("mozu.com", "kibocommerce.com")

@dataclass(frozen=True)
class ErrorFields:
    """Where error responses name their correlation id and code (`_config.py`, read by `errors.py`)."""

    correlation_headers: tuple[str, ...]
    correlation_id_field: str | None
    code_field: str | None


GENERIC_ERRORS = ErrorFields(("x-correlation-id", "x-request-id"), None, None)
KIBO_ERRORS = ErrorFields(("x-vol-correlation", "x-correlation-id", "x-request-id"), "correlationId", "errorCode")

# Environment variables Kibo's SDKs read for missing client arguments (`_settings.EnvironmentNames`).
KIBO_ENVIRONMENT = {
    "api_host": "KIBO_API_HOST",
    "auth_host": "KIBO_AUTH_HOST",
    "client_id": "KIBO_CLIENT_ID",
    "client_secret": "KIBO_SHARED_SECRET",
}

# Kibo's SDKs read these; keys are the Client keyword arguments they stand in for.
KIBO_VARIABLE_ENV = {"tenant_id": "KIBO_TENANT", "site_id": "KIBO_SITE", "env": "KIBO_API_ENV"}
# Server variables whose spec default is a placeholder ("0"): a real tenant/site must be given.
KIBO_REQUIRED_VARIABLES = ("tenant_id", "site_id")
# (keyword argument, header, environment variable) of Kibo's context headers.
KIBO_CONTEXT = tuple(
    (Identifier(argument), header, env)
    for argument, header, env in (
        ("tenant_id", "x-vol-tenant", "KIBO_TENANT"),
        ("site_id", "x-vol-site", "KIBO_SITE"),
        ("catalog", "x-vol-catalog", "KIBO_CATALOG"),
        ("master_catalog", "x-vol-master-catalog", "KIBO_MASTER_CATALOG"),
        ("locale", "x-vol-locale", "KIBO_LOCALE"),
        ("currency", "x-vol-currency", "KIBO_CURRENCY"),
        ("dataview_mode", "x-vol-dataview-mode", "KIBO_DATAVIEW_MODE"),
    )
)


@dataclass(frozen=True)
class TokenOperation:
    http_method: str
    path: str
    servers: tuple[Server, ...]
    client_id: str  # wire names
    client_secret: str
    grant_type: str | None
    access_token: str
    expires_in: str

    @property
    def settings(self) -> dict[Identifier, str | None]:
        """`_settings.AppTokenSettings` fields but `servers`, as `_config.py` renders them."""
        return _fields({
            "path": self.path,
            "http_method": self.http_method,
            "client_id_field": self.client_id,
            "client_secret_field": self.client_secret,
            "grant_type_field": self.grant_type,
            "access_token_field": self.access_token,
            "expires_in_field": self.expires_in,
        })


@dataclass(frozen=True)
class RefreshOperation:
    resource: str
    method: str
    parameter: str  # keyword argument taking the refresh token
    ticket_model: str
    access_token: str  # wire names of the ticket's fields
    access_token_expiration: str
    refresh_token: str
    refresh_token_expiration: str

    def settings(self, claims_header: str) -> dict[Identifier, str | None]:
        """`_settings.TicketSettings`, as `_config.py` renders them."""
        return _fields({
            "claims_header": claims_header,
            "access_token_field": self.access_token,
            "access_token_expiration_field": self.access_token_expiration,
            "refresh_token_field": self.refresh_token,
            "refresh_token_expiration_field": self.refresh_token_expiration,
        })


@dataclass(frozen=True)
class LoginOperations:
    resource: str
    create: str  # password login
    username: str  # wire names of its body
    password: str
    request_code: str  # emails a two-factor code (authenticated with the pending ticket's claims)
    complete: str  # submits the code
    user_id: str  # wire names of the complete body / ticket
    otp_code: str
    requires_2fa: str
    ticket_user_id: str  # wire name of the user id in the ticket

    @property
    def settings(self) -> dict[Identifier, str | None]:
        """`_settings.LoginSettings`, as `_config.py` renders them."""
        return _fields({
            "username_field": self.username,
            "password_field": self.password,
            "user_id_field": self.user_id,
            "otp_code_field": self.otp_code,
            "requires_2fa_field": self.requires_2fa,
            "ticket_user_id_field": self.ticket_user_id,
        })


@dataclass(frozen=True)
class Wiring:
    bearer: str | None
    claims_header: str | None
    token: TokenOperation | None
    refresh: RefreshOperation | None
    login: LoginOperations | None
    kibo: bool
    variable_env: Mapping[str, str]
    required_variables: tuple[str, ...]
    # (argument, header, env); tenant_id/site_id are server variables too
    context: tuple[tuple[Identifier, str, str], ...]

    @property
    def has_auth_module(self) -> bool:
        return self.token is not None or self.ticket_auth

    @property
    def ticket_auth(self) -> bool:
        return self.refresh is not None and self.claims_header is not None

    @property
    def environment(self) -> dict[Identifier, str | None] | None:
        """`_settings.EnvironmentNames` (Kibo's), or None: no environment variable stands in."""
        return _fields(KIBO_ENVIRONMENT) if self.kibo else None

    @property
    def errors(self) -> ErrorFields:
        return KIBO_ERRORS if self.kibo else GENERIC_ERRORS

    @property
    def ticket_settings(self) -> dict[Identifier, str | None] | None:
        if self.refresh is None or self.claims_header is None:
            return None
        return self.refresh.settings(self.claims_header)

    @property
    def settings_imports(self) -> Code:
        """What `_config.py` imports from `_settings` (APP_TOKEN and ENVIRONMENT are always typed)."""
        types = ["AppTokenSettings", "EnvironmentNames"]
        if self.login is not None:
            types.append("LoginSettings")
        if self.ticket_auth:
            types.append("TicketSettings")
        return Code(", ".join(types))

    @property
    def runtime_modules(self) -> tuple[str, ...]:
        """The optional runtime modules this package needs (`render.runtime_files`)."""
        modules: list[str] = []
        if self.token is not None:
            modules.append("oauth.py")
        if self.ticket_auth:
            modules += ["kibo/__init__.py", "kibo/tickets.py"]
            if self.login is not None:
                modules.append("kibo/login.py")
        return tuple(modules)


def _fields(values: Mapping[str, str | None]) -> dict[Identifier, str | None]:
    """A settings dataclass's keyword arguments (our names, checked) → values (spec text)."""
    return {Identifier(name): value for name, value in values.items()}


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _properties(api: ApiSpec, model: str | None) -> dict[str, str]:
    """Normalised name → wire name of a model's properties."""
    if model is None:
        return {}
    schemas = api.models_document.get("components", {}).get("schemas", {})
    schema: Any = schemas.get(model)
    props = schema.get("properties") if isinstance(schema, dict) else None
    return {_key(str(k)): str(k) for k in props} if isinstance(props, dict) else {}


def _find(props: Mapping[str, str], *names: str) -> tuple[str, ...] | None:
    found = tuple(props.get(_key(n)) for n in names)
    return None if any(f is None for f in found) else tuple(f for f in found if f is not None)


def _ops(api: ApiSpec) -> list[tuple[Resource, Operation]]:
    return [(r, op) for r in api.resources for op in r.operations]


def _token(api: ApiSpec) -> TokenOperation | None:
    for _, op in _ops(api):
        body = _properties(api, op.body.model if op.body else None)
        answer = _properties(api, op.return_annotation)
        sent = _find(body, "client_id", "client_secret")
        got = _find(answer, "access_token", "expires_in")
        if sent and got:
            return TokenOperation(
                http_method=op.method,
                path=op.path,
                servers=op.servers,
                client_id=sent[0],
                client_secret=sent[1],
                grant_type=body.get("granttype"),
                access_token=got[0],
                expires_in=got[1],
            )
    return None


def _ticket_fields(api: ApiSpec, model: str) -> tuple[str, ...] | None:
    return _find(
        _properties(api, model),
        "accessToken",
        "accessTokenExpiration",
        "refreshToken",
        "refreshTokenExpiration",
    )


def _refresh(api: ApiSpec) -> RefreshOperation | None:
    for resource, op in _ops(api):
        parameter = next((p for p in op.parameters if _key(p.wire_name) == "refreshtoken"), None)
        fields = _ticket_fields(api, op.return_annotation)
        if parameter is not None and fields:
            return RefreshOperation(
                resource=resource.py_name,
                method=op.py_name,
                parameter=parameter.py_name,
                ticket_model=op.return_annotation,
                access_token=fields[0],
                access_token_expiration=fields[1],
                refresh_token=fields[2],
                refresh_token_expiration=fields[3],
            )
    return None


def _login(api: ApiSpec, refresh: RefreshOperation | None) -> LoginOperations | None:
    if refresh is None:
        return None
    ticket = _properties(api, refresh.ticket_model)
    flags = _find(ticket, "requires2FA", "userId")
    if flags is None:
        return None
    create = request_code = complete = None
    for resource, op in _ops(api):
        if resource.py_name != refresh.resource:
            continue
        body = _properties(api, op.body.model if op.body else None)
        if op.return_annotation == refresh.ticket_model and _find(body, "username", "password"):
            create = create or (op, _find(body, "username", "password"))
        elif op.return_annotation == refresh.ticket_model and _find(body, "userId", "otpCode"):
            complete = complete or (op, _find(body, "userId", "otpCode"))
        elif (
            op.body is None
            and op.return_annotation == "None"
            and re.search(r"2fa|two.?factor", op.path, re.I)
        ):
            request_code = request_code or op
    if create is None or complete is None or request_code is None:
        return None
    (create_op, create_fields), (complete_op, complete_fields) = create, complete
    assert create_fields is not None and complete_fields is not None
    return LoginOperations(
        resource=refresh.resource,
        create=create_op.py_name,
        username=create_fields[0],
        password=create_fields[1],
        request_code=request_code.py_name,
        complete=complete_op.py_name,
        user_id=complete_fields[0],
        otp_code=complete_fields[1],
        requires_2fa=flags[0],
        ticket_user_id=flags[1],
    )


def _is_kibo(api: ApiSpec, claims_header: str | None) -> bool:
    if claims_header and claims_header.lower().startswith("x-vol-"):
        return True
    for server in api.servers:
        host = (urlsplit(server.url).hostname or "").lower()
        if any(host == h or host.endswith("." + h) for h in KIBO_HOSTS):
            return True
    return False


def wiring(api: ApiSpec) -> Wiring:
    bearer = next(
        (s.name for s in api.security_schemes if s.type is SchemeType.HTTP and s.scheme == "bearer"), None
    )
    claims = next(
        (
            s.parameter_name
            for s in api.security_schemes
            if s.type is SchemeType.API_KEY and s.location is ParameterLocation.HEADER and s.parameter_name
        ),
        None,
    )
    refresh = _refresh(api)
    kibo = _is_kibo(api, claims)
    variables = {v.py_name for v in api.server_variables}
    return Wiring(
        bearer=bearer,
        claims_header=claims,
        token=_token(api),
        refresh=refresh,
        login=_login(api, refresh) if claims else None,
        kibo=kibo,
        variable_env={k: v for k, v in KIBO_VARIABLE_ENV.items() if k in variables} if kibo else {},
        required_variables=(
            tuple(v for v in KIBO_REQUIRED_VARIABLES if v in variables) if kibo else ()
        ),
        context=KIBO_CONTEXT if kibo else (),
    )
