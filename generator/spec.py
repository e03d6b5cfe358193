"""The intermediate representation: plain frozen data the templates render. No Jinja, no black here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ServerVariable:
    name: str  # as in the spec, e.g. tenantId
    py_name: str  # keyword argument, e.g. tenant_id
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
    py_name: str
    location: str  # path | query | header | cookie
    required: bool
    annotation: str  # Python type expression, without `| None`
    description: str
    secret: bool = False


@dataclass(frozen=True)
class RequestBody:
    annotation: str  # what `body=` accepts
    model: str | None  # class validating a mapping body, when the schema is a model
    content_type: str
    required: bool
    description: str


@dataclass(frozen=True)
class Response:
    status: str  # "200", "4XX", "default"
    description: str
    content_types: tuple[str, ...]
    annotation: str  # "None" when there is no body


@dataclass(frozen=True)
class Operation:
    method: str  # upper case
    path: str
    py_name: str
    summary: str
    description: str
    tag: str
    pointer: str  # JSON pointer of the operation in the spec
    parameters: tuple[Parameter, ...]
    body: RequestBody | None
    responses: tuple[Response, ...]
    return_annotation: str  # success type, "None" when there is no body
    servers: tuple[Server, ...]  # operation/path-level servers; empty → the client's base URL
    security: tuple[tuple[str, ...], ...] | None  # None → the document default
    deprecated: bool = False

    @property
    def required_parameters(self) -> tuple[Parameter, ...]:
        return tuple(p for p in self.parameters if p.required)


@dataclass(frozen=True)
class Resource:
    tag: str
    py_name: str  # client attribute, e.g. storefront_auth_ticket
    class_name: str  # e.g. StorefrontAuthTicket
    module: str  # module under resources/
    description: str
    operations: tuple[Operation, ...]

    @property
    def model_imports(self) -> tuple[str, ...]:
        """Model class names used in this resource's signatures, sorted."""
        names: set[str] = set()
        for operation in self.operations:
            names.update(_names_in(operation.return_annotation))
            if operation.body is not None:
                names.update(_names_in(operation.body.annotation))
            for parameter in operation.parameters:
                names.update(_names_in(parameter.annotation))
        return tuple(sorted(names))


def _names_in(annotation: str) -> set[str]:
    import re

    builtin = {"None", "Any", "str", "int", "float", "bool", "bytes", "list", "dict", "datetime", "date", "Mapping"}
    return {n for n in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", annotation) if n not in builtin}


@dataclass(frozen=True)
class SecurityScheme:
    name: str
    type: str  # http | apiKey | oauth2 | openIdConnect
    scheme: str  # bearer / basic for http
    location: str  # header / query / cookie for apiKey
    parameter_name: str  # header name for apiKey
    description: str


@dataclass(frozen=True)
class ApiSpec:
    title: str
    version: str
    description: str
    package_name: str
    spec_filename: str
    spec_sha256: str
    servers: tuple[Server, ...]
    resources: tuple[Resource, ...]
    security_schemes: tuple[SecurityScheme, ...]
    default_security: tuple[tuple[str, ...], ...]
    error_model: str | None
    model_names: tuple[str, ...]
    secret_wire_names: tuple[str, ...]
    # The schema document handed to datamodel-code-generator (names made safe, inline schemas hoisted).
    models_document: dict[str, Any] = field(compare=False, repr=False)
    warnings: tuple[str, ...] = ()
    # The generated package's own version: info.x-package-version, else the spec's info.version.
    package_version: str = ""

    @property
    def operations(self) -> tuple[Operation, ...]:
        return tuple(op for resource in self.resources for op in resource.operations)

    @property
    def server_variables(self) -> tuple[ServerVariable, ...]:
        """Every server variable across all servers, first occurrence wins, in spec order."""
        seen: dict[str, ServerVariable] = {}
        for server in self.servers:
            for variable in server.variables:
                seen.setdefault(variable.py_name, variable)
        return tuple(seen.values())
