"""The intermediate representation: plain frozen data the templates render. No Jinja, no black here."""

from __future__ import annotations

import functools
import io
import re
import tokenize
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from .naming import import_sort_key
from .safe import Code, Identifier, TypeExpr


class _TextEnum(str, Enum):
    """An enum whose members print and format as their value (`f"{HttpMethod.GET}"` is `GET`)."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, format_spec: str) -> str:
        return format(str(self.value), format_spec)


class ParameterLocation(_TextEnum):
    PATH = "path"
    QUERY = "query"
    HEADER = "header"
    COOKIE = "cookie"


class QueryStyle(_TextEnum):
    """How a query value other than OpenAPI's default (`form`, exploded) is serialised."""

    FORM = "form"  # not exploded: comma-joined
    SPACE_DELIMITED = "spaceDelimited"
    PIPE_DELIMITED = "pipeDelimited"
    DEEP_OBJECT = "deepObject"


class HttpMethod(_TextEnum):
    GET = "GET"
    PUT = "PUT"
    POST = "POST"
    DELETE = "DELETE"
    OPTIONS = "OPTIONS"
    HEAD = "HEAD"
    PATCH = "PATCH"
    TRACE = "TRACE"


class HttpLibrary(_TextEnum):
    """What the generated package imports for HTTP (`generate --http-library`)."""

    HTTPX = "httpx"
    HTTPX2 = "httpx2"  # the maintained fork; same API, module `httpx2`, Python >= 3.11

    @property
    def import_line(self) -> Code:
        """The runtime modules import it under the name `httpx`, so their code is the same for both."""
        return Code("import httpx") if self is HttpLibrary.HTTPX else Code(f"import {self.value} as httpx")

    @property
    def config_import_line(self) -> Code:
        """`_config.py`'s import, which the runtime modules take the module from (`__all__` exports it)."""
        return Code("import httpx") if self is HttpLibrary.HTTPX else Code(f"import {self.value} as httpx")

    @property
    def requirement(self) -> Code:
        """What the generated package needs, as tested (tests/test_oldest_dependencies.py)."""
        return Code("httpx>=0.27" if self is HttpLibrary.HTTPX else "httpx2>=2.16")


# The oldest pydantic the generated packages are tested with (2.0-2.5 fail at import).
# Secret whatever the spec says: credentials and tokens the runtime itself sends or receives.
ALWAYS_SECRET_WIRE_NAMES = frozenset(
    {"password", "accessToken", "refreshToken", "jwtAccessToken", "client_secret", "otpCode"}
    | {"x-vol-user-claims", "authorization"}
)
PYDANTIC_REQUIREMENT = Code("pydantic>=2.7")  # Field(deprecated=) for `deprecated: true` properties


class SchemeType(_TextEnum):
    HTTP = "http"
    API_KEY = "apiKey"
    OAUTH2 = "oauth2"
    OPEN_ID_CONNECT = "openIdConnect"
    MUTUAL_TLS = "mutualTLS"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ServerVariable:
    name: str  # as in the spec, e.g. tenantId
    py_name: Identifier  # keyword argument, e.g. tenant_id
    default: str | None
    enum: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class Server:
    url: str
    description: str
    variables: tuple[ServerVariable, ...]


@dataclass(frozen=True)
class Parameter:
    wire_name: str
    py_name: Identifier
    location: ParameterLocation
    required: bool
    annotation: TypeExpr  # without `| None`
    description: str
    query_style: QueryStyle | None = None  # None: OpenAPI's default (`form`, exploded)
    deprecated: bool = False  # `deprecated: true`: passing it warns


class BodyEncoding(_TextEnum):
    """How a request body goes on the wire, decided once per media type in build."""

    JSON = "json"  # the model (or mapping) as JSON
    FORM = "form"  # application/x-www-form-urlencoded fields
    MULTIPART = "multipart"  # multipart/form-data: fields, and files (bytes, file objects, tuples)
    BINARY = "binary"  # bytes or a binary file object, sent as they are
    TEXT = "text"  # a str, sent as UTF-8


@dataclass(frozen=True)
class RequestBody:
    annotation: TypeExpr  # what `body=` accepts
    model: Identifier | None  # class validating a mapping body, when the schema is a model
    content_type: str  # the default media type: JSON where the operation offers it
    required: bool
    description: str
    encoding: BodyEncoding = BodyEncoding.JSON
    # Every media type the operation offers, the default first: `content_type=` picks another.
    media: tuple[tuple[str, BodyEncoding], ...] = ()

    @property
    def model_expression(self) -> TypeExpr | None:
        """`model` as the method reads it when it runs (`_models.Cart`)."""
        return through_models_module(TypeExpr(self.model)) if self.model else None


@dataclass(frozen=True)
class Response:
    status: str  # "200", "4XX", "default"
    description: str
    annotation: TypeExpr  # "None" when there is no body


@dataclass(frozen=True)
class Operation:
    method: HttpMethod
    path: str
    py_name: Identifier
    summary: str
    description: str
    tag: str
    parameters: tuple[Parameter, ...]
    body: RequestBody | None
    responses: tuple[Response, ...]
    return_annotation: TypeExpr  # success type, "None" when there is no body
    servers: tuple[Server, ...]  # operation/path-level servers; empty → the client's base URL
    security: tuple[tuple[str, ...], ...] | None  # None → the document default
    deprecated: bool = False
    # Safe to send twice (retried after a timeout or a 5xx): GET, HEAD, OPTIONS, PUT, DELETE,
    # TRACE, or `x-idempotent: true` in the spec.
    idempotent: bool = True

    @property
    def route_text(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def return_expression(self) -> TypeExpr:
        """`return_annotation` as the method evaluates it when it runs (`cast_to=`)."""
        return through_models_module(self.return_annotation)

    @property
    def deprecation_message(self) -> str:
        return f"`{self.py_name}` ({self.route_text}) is deprecated in the API spec"

    def parameter_deprecation(self, parameter: Parameter) -> str:
        return f"parameter `{parameter.py_name}` of `{self.py_name}` is deprecated in the API spec"

    @property
    def servers_constant(self) -> Identifier:
        """Module constant holding this operation's own servers."""
        return Identifier(f"_{self.py_name.upper()}_SERVERS")

    @property
    def required_parameters(self) -> tuple[Parameter, ...]:
        return tuple(p for p in self.parameters if p.required)


@dataclass(frozen=True)
class MethodAlias:
    """A method's old name, kept as a deprecated alias after the spec renamed it (renames.py)."""

    py_name: Identifier  # the old name
    target: Operation
    # The target's resource when it lives on another resource class (the alias calls it there).
    target_module: Identifier | None = None
    target_class: Identifier | None = None

    @property
    def message(self) -> str:
        return f"`{self.py_name}` was renamed `{self.target.py_name}`; this name will be removed"


@dataclass(frozen=True)
class ResourceAlias:
    py_name: Identifier  # the client attribute the resource had
    target: Identifier  # the attribute it has now

    @property
    def message(self) -> str:
        return f"`client.{self.py_name}` was renamed `client.{self.target}`; this name will be removed"


@dataclass(frozen=True)
class ModelAlias:
    py_name: Identifier  # the class name the model had
    target: Identifier
    # A request-only model is a subclass for type checkers (marked deprecated), where a response
    # model is a plain alias: a returned value must match code annotated with the old name.
    request_only: bool

    @property
    def message(self) -> str:
        return f"`{self.py_name}` was renamed `{self.target}`; this name will be removed"


@dataclass(frozen=True)
class Resource:
    tag: str
    py_name: Identifier  # client attribute, e.g. storefront_auth_ticket
    class_name: Identifier  # e.g. StorefrontAuthTicket
    module: Identifier  # module under resources/
    description: str
    operations: tuple[Operation, ...]
    aliases: tuple[MethodAlias, ...] = ()

    @property
    def signatures(self) -> tuple[Operation, ...]:
        """Every operation whose signature the module spells: its own, and its aliases' targets."""
        return self.operations + tuple(alias.target for alias in self.aliases)

    @property
    def class_names(self) -> tuple[Identifier, Identifier]:
        """The sync and async classes, in the order an import sorter keeps them."""
        first, second = sorted((self.class_name, Identifier(f"Async{self.class_name}")), key=import_sort_key)
        return first, second

    @property
    def typing_imports(self) -> Code:
        """`from typing import ...` of a resource module: what its signatures use (may be empty)."""
        names = sorted({"IO", "Any", "Literal", "TYPE_CHECKING"} & self.uses, key=import_sort_key)
        return Code(", ".join(names))

    @property
    def uses(self) -> frozenset[str]:
        """Which of the names a resource module may import its code really uses (no unused imports)."""
        annotations = " ".join(
            [op.return_annotation for op in self.signatures]
            + [op.body.annotation for op in self.signatures if op.body is not None]
            + [p.annotation for op in self.signatures for p in op.parameters]
        )
        used = {
            n for n in ("Any", "Mapping", "IO", "Literal", "date", "datetime") if re.search(rf"\b{n}\b", annotations)
        }
        if any(p.location is ParameterLocation.PATH for op in self.operations for p in op.parameters):
            used.add("build_path")
        if self.aliases or any(op.deprecated for op in self.operations):
            used.add("deprecated")
        if any(p.deprecated for op in self.operations for p in op.parameters):
            used.add("warnings")
        if any(op.servers for op in self.operations):
            used.add("ServerTemplate")
        if any(server.variables for op in self.operations for server in op.servers):
            used.add("ServerVariable")
        if self.model_imports:
            used.add("TYPE_CHECKING")
        return frozenset(used)

    @property
    def models_alias(self) -> Identifier | None:
        """The name the module imports the models module as, if its methods use a model when they run."""
        if any(_names_in(op.return_annotation) or (op.body is not None and op.body.model) for op in self.operations):
            return Identifier(MODELS_MODULE)
        return None

    @property
    def model_imports(self) -> tuple[Identifier, ...]:
        """Model class names used in this resource's signatures, sorted (imported for type checkers;
        the methods read the classes from the models module when they run)."""
        names: set[str] = set()
        for operation in self.signatures:
            names.update(_names_in(operation.return_annotation))
            if operation.body is not None:
                names.update(_names_in(operation.body.annotation))
            for parameter in operation.parameters:
                names.update(_names_in(parameter.annotation))
        return tuple(Identifier(name) for name in sorted(names, key=import_sort_key))


# How a resource module names the package's models module, in the expressions its methods
# evaluate (`cast_to=_models.Cart`): a class's module is then imported on the first call that uses
# it, not with the resource. No parameter can take the name (parameter names never start with `_`).
MODELS_MODULE = "_models"


@functools.cache
def through_models_module(annotation: TypeExpr) -> TypeExpr:
    """`annotation` with each model class read from the models module (`list[_models.Cart] | None`)."""
    names = _names_in(annotation)
    if not names:
        return annotation
    pieces: list[str] = []
    text = str(annotation)
    written = 0  # a TypeExpr is one line: a token's column is its offset in the text
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.NAME and token.string in names:
            start = token.start[1]
            pieces += [text[written:start], f"{MODELS_MODULE}."]
            written = start
    return TypeExpr("".join([*pieces, text[written:]]))


def _names_in(annotation: str) -> set[str]:
    annotation = re.sub(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"", "", annotation)  # Literal values
    builtin = {"None", "Any", "str", "int", "float", "bool", "bytes", "list", "dict", "datetime", "date"}
    builtin |= {"Mapping", "IO", "Literal"}
    return {n for n in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", annotation) if n not in builtin}


@dataclass(frozen=True)
class SecurityScheme:
    name: str
    type: SchemeType
    scheme: str  # bearer / basic for http
    location: ParameterLocation | None  # header / query / cookie for apiKey
    parameter_name: str  # header name for apiKey
    description: str


@dataclass(frozen=True)
class ApiSpec:
    title: str
    version: str
    description: str
    package_name: Identifier
    spec_filename: str
    spec_sha256: str
    servers: tuple[Server, ...]
    resources: tuple[Resource, ...]
    security_schemes: tuple[SecurityScheme, ...]
    default_security: tuple[tuple[str, ...], ...]
    error_model: Identifier | None
    model_names: tuple[Identifier, ...]
    secret_wire_names: tuple[str, ...]
    # The schema document handed to datamodel-code-generator (names made safe, inline schemas hoisted).
    models_document: dict[str, Any] = field(compare=False, repr=False)
    # Models only requests use: their base rejects unknown fields.
    request_only_models: tuple[Identifier, ...] = ()
    warnings: tuple[str, ...] = ()
    # The generated package's own version: info.x-package-version, else the spec's info.version.
    package_version: str = ""
    http_library: HttpLibrary = HttpLibrary.HTTPX
    # Deprecated aliases of renamed names (renames.py), and their record for the next regeneration.
    resource_aliases: tuple[ResourceAlias, ...] = ()
    model_aliases: tuple[ModelAlias, ...] = ()
    aliases_record: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def runtime_secret_names(self) -> tuple[str, ...]:
        """`_config.SECRET_WIRE_NAMES`: the spec's secret wire names and those every client sends."""
        return tuple(sorted(set(self.secret_wire_names) | ALWAYS_SECRET_WIRE_NAMES))

    @property
    def user_agent_product(self) -> str:
        """The product token of the User-Agent header (`kibo-authtickets-python`)."""
        return f"{self.package_name.replace('_', '-')}-python"

    @property
    def operations(self) -> tuple[Operation, ...]:
        return tuple(op for resource in self.resources for op in resource.operations)

    def resource(self, py_name: str) -> Resource:
        """The resource the client exposes as `py_name`."""
        return next(resource for resource in self.resources if resource.py_name == py_name)

    @property
    def server_variables(self) -> tuple[ServerVariable, ...]:
        """Every server variable across all servers, first occurrence wins, in spec order."""
        seen: dict[str, ServerVariable] = {}
        for server in self.servers:
            for variable in server.variables:
                seen.setdefault(variable.py_name, variable)
        return tuple(seen.values())
