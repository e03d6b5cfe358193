"""Stage 2: OpenAPI document → ApiSpec (the intermediate representation).

All naming and typing decisions are made here, so templates only lay them out.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from .errors import Problem, SpecError
from .load import HTTP_METHODS, STATUS_KEY, LoadedSpec, escape_pointer_part, pointer, resolve_pointer, where
from .naming import (
    NameAllocator,
    field_name,
    method_name,
    package_name_for,
    package_name_problem,
    pascal_case,
    snake_case,
)
from .pins import NO_PINS, Pins, route_key
from .safe import Identifier, TypeExpr
from .schemas import SCHEMA_PREFIX, ModelsDocument
from .spec import (
    ApiSpec,
    BodyEncoding,
    HttpLibrary,
    HttpMethod,
    Operation,
    Parameter,
    ParameterLocation,
    QueryStyle,
    RequestBody,
    Resource,
    Response,
    SchemeType,
    SecurityScheme,
    Server,
    ServerVariable,
)

# Wire names (lowercased, separators removed) whose values are secrets: hidden from repr, logs, errors.
SECRET_KEYS = frozenset(
    {"password", "accesstoken", "refreshtoken", "jwtaccesstoken", "clientsecret", "sharedsecret", "otpcode"}
)

# Names the generated methods use themselves, or read inside their bodies (the `cast(...)` call,
# request helpers, the builtins and date types of `cast_to=`): a spec parameter with one of
# these names would shadow them, so it is renamed (`list` → `list_2`).
RESERVED_ARGUMENTS = frozenset(
    {
        *("self", "body", "extra_headers", "extra_query", "timeout", "cast_to", "cast"),
        *("build_path", "to_jsonable", "functools", "_models"),
        *("list", "dict", "str", "int", "float", "bool", "bytes", "object", "date", "datetime"),
    }
)
# Keyword arguments and locals of `Client.__init__`: a server variable with one of these names is renamed.
RESERVED_CLIENT_ARGUMENTS = frozenset(
    {
        *("self", "base_url", "access_token", "auth", "timeout", "max_retries", "default_headers"),
        *("server", "http_client", "api_host", "auth_host", "client_id", "client_secret"),
        *("setup", "super", "httpx", "pydantic", "functools"),
    }
)
# Attributes of the generated clients; a resource with one of these names is renamed.
RESERVED_CLIENT_ATTRIBUTES = frozenset(
    {"close", "base_url", "with_raw_response", "timeout", "max_retries", "http_client", "copy", "request"}
    | {"with_options", "default_headers", "is_closed"}
)

# Names a model class must not take: what datamodel-code-generator imports into models.py and
# what the templates import next to the models (resources, client, auth).
RESERVED_CLASS_NAMES = frozenset(
    {
        *("BaseModel", "Field", "ConfigDict", "RootModel", "Enum", "IntEnum", "StrEnum", "AliasChoices"),
        *("Model", "RequestModel"),  # the package's base classes (`_model_base.py`)
        *("Any", "Annotated", "Literal", "Optional", "Union", "ClassVar", "List", "Dict", "Set"),
        *("AnyUrl", "AnyHttpUrl", "HttpUrl", "AwareDatetime", "NaiveDatetime", "EmailStr"),
        *("NameEmail", "SecretStr", "SecretBytes", "Json", "Base64Str", "Base64Bytes", "UUID"),
        *("UUID1", "UUID3", "UUID4", "UUID5", "Decimal", "Path", "Pattern"),
        *("IPvAnyAddress", "IPv4Address", "IPv6Address", "IPv4Network", "IPv6Network"),
        *("StrictStr", "StrictInt", "StrictFloat", "StrictBool", "StrictBytes"),
        *("PositiveInt", "NegativeInt", "PositiveFloat", "NegativeFloat", "Mapping", "TYPE_CHECKING"),
        *("AsyncAPIResource", "SyncAPIResource", "FinalRequestOptions", "Headers", "Query"),
        *("TimeoutTypes", "ServerTemplate", "ServerVariable", "Client", "AsyncClient", "ErrorModel"),
        *("TypeAlias",),  # the deprecated-names section of models.py
    }
)

_JSON_CONTENT = re.compile(r"^(application|text)/([\w.+-]*\+)?json\b|^\*/\*$|^text/plain\b", re.IGNORECASE)
_PATH_PARAMETER = re.compile(r"\{([^{}]+)\}")
_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})


def is_secret(wire_name: str) -> bool:
    return re.sub(r"[^a-z0-9]", "", wire_name.lower()) in SECRET_KEYS


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


class _Builder:
    def __init__(self, loaded: LoadedSpec, package_name: Identifier, pins: Pins = NO_PINS) -> None:
        self.loaded = loaded
        self.document = loaded.document
        self.package_name = package_name
        self.pins = pins
        self.problems: list[Problem] = []
        self.warnings: list[str] = list(loaded.warnings)
        schemas = self.document.get("components", {}).get("schemas", {}) or {}
        self.source_schemas: dict[str, Any] = schemas if isinstance(schemas, dict) else {}
        # Spec schema key → generated class name; pinned names first, so they always win.
        derived = {key: pascal_case(key) for key in self.source_schemas}
        pinned = self._pinned("models", pins.models, derived, RESERVED_CLASS_NAMES)
        self.class_names = NameAllocator(reserved={*RESERVED_CLASS_NAMES, *pinned.values()})
        self.schema_classes: dict[str, str] = {
            key: pinned.get(key) or self.class_names.allocate_pascal(pascal_case(key)) for key in self.source_schemas
        }
        self.models: dict[str, Any] = {}  # class name → schema, for datamodel-code-generator
        self.model_pointers: dict[str, str] = {}  # hoisted class name → where its schema is
        self.current_pointer = "#"  # the operation being built (for warnings about inline schemas)

    def _pinned(
        self, kind: str, wanted: Mapping[str, str], derived: Mapping[str, str], reserved: Iterable[str]
    ) -> dict[str, Identifier]:
        """The pins of one kind that apply. `derived`: every present key's derived name. A pin for
        an absent key warns; one that takes a reserved name, another pin's or another key's
        derived name (which would silently move that one) is a problem."""
        reserved = set(reserved)
        others = {name: key for key, name in derived.items() if key not in wanted}
        chosen: dict[str, Identifier] = {}
        owners: dict[str, str] = {}
        for key, name in wanted.items():
            if key not in derived:
                self.warnings.append(f"warning: {self.pins.where(kind, key)}: the spec has no such name; pin unused")
            elif name in others:
                self.problems.append(
                    Problem(self.pins.where(kind, key), f"{name!r} is the name of {others[name]!r} already")
                )
            elif name in reserved:
                self.problems.append(Problem(self.pins.where(kind, key), f"{name!r} is a name the package uses itself"))
            elif name in owners:
                self.problems.append(
                    Problem(self.pins.where(kind, key), f"{name!r} collides with the pin for {owners[name]!r}")
                )
            else:
                owners[name] = key
                chosen[key] = Identifier(name)
        return chosen

    # ---- helpers -------------------------------------------------------------------------
    def where(self, parts: list[str | int]) -> str:
        return where(str(self.loaded.path), self.loaded.text, parts)

    def deref(self, node: Any) -> Any:
        """Follow non-schema `$ref`s (parameters, responses, request bodies)."""
        seen = 0
        while isinstance(node, dict) and isinstance(node.get("$ref"), str) and seen < 20:
            node = resolve_pointer(self.document, node["$ref"])
            seen += 1
        return node

    def rewrite_refs(self, node: Any) -> Any:
        """Copy a schema, pointing `$ref`s at the safe class names."""
        if isinstance(node, list):
            return [self.rewrite_refs(v) for v in node]
        if not isinstance(node, dict):
            return node
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(SCHEMA_PREFIX):
                schema_key = value[len(SCHEMA_PREFIX) :].replace("~1", "/").replace("~0", "~")
                top, _, rest = schema_key.partition("/")
                cls = self.schema_classes.get(top, top)
                out[key] = SCHEMA_PREFIX + escape_pointer_part(cls) + (f"/{rest}" if rest else "")
            elif key == "properties" and isinstance(value, dict):
                out[key] = {name: self._property(name, prop) for name, prop in value.items()}
            else:
                out[key] = self.rewrite_refs(value)
        return out

    def _property(self, name: str, schema: Any) -> Any:
        rewritten = self.rewrite_refs(schema)
        if isinstance(rewritten, dict) and is_secret(name):
            # datamodel-code-generator passes this through to Field(repr=False).
            rewritten = {**rewritten, "repr": False}
        return rewritten

    def schema_target(self, schema: Any) -> tuple[str | None, Any]:
        """(class name, resolved schema) for a component `$ref`, else (None, schema)."""
        if isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
            ref = schema["$ref"]
            if ref.startswith(SCHEMA_PREFIX) and "/" not in ref[len(SCHEMA_PREFIX) :]:
                key = ref[len(SCHEMA_PREFIX) :].replace("~1", "/").replace("~0", "~")
                return self.schema_classes.get(key), self.source_schemas.get(key)
            return None, resolve_pointer(self.document, ref)
        return None, schema

    # ---- types ---------------------------------------------------------------------------
    def annotation(self, schema: Any, *, hoist_as: str | None = None, depth: int = 0) -> str:
        """Python type expression for a schema used in a signature (no `| None` added here)."""
        if depth > 20 or not isinstance(schema, dict) or not schema:
            return "Any"
        class_name, target = self.schema_target(schema)
        if class_name is not None:
            if isinstance(target, dict) and self._is_model_like(target):
                return class_name
            return self.annotation(target, depth=depth + 1) if target is not None else "Any"
        if "$ref" in schema:
            return self.annotation(target, hoist_as=hoist_as, depth=depth + 1)
        for combinator in ("allOf", "oneOf", "anyOf"):
            members = schema.get(combinator)
            if isinstance(members, list) and members and not schema.get("properties"):
                if combinator == "allOf" and len(members) == 1:
                    return self.annotation(members[0], hoist_as=hoist_as, depth=depth + 1)
                if combinator != "allOf":
                    parts = [self.annotation(m, depth=depth + 1) for m in members]
                    unique = list(dict.fromkeys(p for p in parts if p != "None"))
                    return "Any" if "Any" in unique else " | ".join(unique) or "Any"
        type_ = schema.get("type")
        if isinstance(type_, list):  # OpenAPI 3.1 type lists
            non_null = [t for t in type_ if t != "null"]
            type_ = non_null[0] if len(non_null) == 1 else None
        fmt = schema.get("format")
        if type_ == "string":
            if fmt == "date-time":
                return "datetime"
            if fmt == "date":
                return "date"
            if fmt == "binary":
                return "bytes"
            return "str"
        if type_ == "integer":
            return "int"
        if type_ == "number":
            return "float"
        if type_ == "boolean":
            return "bool"
        if type_ == "array":
            item_name = f"{hoist_as}Item" if hoist_as else None
            return f"list[{self.annotation(schema.get('items', {}), hoist_as=item_name, depth=depth + 1)}]"
        if self._is_model_like(schema) and hoist_as:
            return self.hoist(schema, hoist_as)
        if type_ == "object" or "properties" in schema or "additionalProperties" in schema:
            return "dict[str, Any]"
        return "Any"

    @staticmethod
    def _is_model_like(schema: Mapping[str, Any]) -> bool:
        """Schemas datamodel-code-generator turns into a class worth naming in a signature."""
        if "enum" in schema:
            return True
        if schema.get("properties") or any(k in schema for k in ("allOf", "oneOf", "anyOf")):
            return True
        return schema.get("type") == "object" and "additionalProperties" not in schema

    def hoist(self, schema: dict[str, Any], wanted: str) -> str:
        """Give an inline request/response schema a class of its own."""
        name = self.class_names.allocate_pascal(pascal_case(wanted))
        self.models[name] = schema
        self.model_pointers[name] = self.current_pointer
        return name

    # ---- servers and security ------------------------------------------------------------
    def servers(self, raw: Any, parts: list[str | int]) -> tuple[Server, ...]:
        if not isinstance(raw, list):
            return ()
        result = []
        for index, entry in enumerate(raw):
            if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
                self.problems.append(Problem(self.where([*parts, index]), "server entry without a 'url'"))
                continue
            variables = []
            allocator = NameAllocator(reserved=RESERVED_CLIENT_ARGUMENTS)
            for name, spec in (entry.get("variables") or {}).items():
                spec = spec if isinstance(spec, dict) else {}
                enum = tuple(str(v) for v in spec.get("enum") or ())
                default = spec.get("default")
                variables.append(
                    ServerVariable(
                        name=str(name),
                        py_name=allocator.allocate(snake_case(str(name))),
                        default=None if default is None else str(default),
                        enum=enum,
                        description=_text(spec.get("description")),
                    )
                )
            result.append(
                Server(url=entry["url"], description=_text(entry.get("description")), variables=tuple(variables))
            )
        return tuple(result)

    def security_schemes(self) -> tuple[SecurityScheme, ...]:
        raw = self.document.get("components", {}).get("securitySchemes") or {}
        schemes = []
        for name, spec in raw.items():
            spec = self.deref(spec)
            if not isinstance(spec, dict):
                continue
            try:
                scheme_type = SchemeType(spec.get("type"))
            except ValueError:
                scheme_type = SchemeType.UNKNOWN  # never written as code; the scheme is just not wired
            schemes.append(
                SecurityScheme(
                    name=str(name),
                    type=scheme_type,
                    scheme=_text(spec.get("scheme")).lower(),
                    location=_scheme_location(spec.get("in")),
                    parameter_name=_text(spec.get("name")),
                    description=_text(spec.get("description")),
                )
            )
        return tuple(schemes)

    @staticmethod
    def security(raw: Any) -> tuple[tuple[str, ...], ...] | None:
        if not isinstance(raw, list):
            return None
        return tuple(tuple(sorted(req)) for req in raw if isinstance(req, dict))

    # ---- operations ----------------------------------------------------------------------
    def parameters(self, raw: list[Any], parts: list[str | int], op_name: str) -> tuple[Parameter, ...]:
        allocator = NameAllocator(reserved=RESERVED_ARGUMENTS)
        result = []
        for index, entry in enumerate(raw):
            spec = self.deref(entry)
            if not isinstance(spec, dict) or "name" not in spec or "in" not in spec:
                self.problems.append(Problem(self.where([*parts, index]), "parameter without 'name' and 'in'"))
                continue
            wire = str(spec["name"])
            try:
                location = ParameterLocation(spec["in"])
            except ValueError:
                self.problems.append(
                    Problem(
                        self.where([*parts, index, "in"]),
                        f"parameter 'in' must be one of {', '.join(m.value for m in ParameterLocation)}",
                    )
                )
                continue
            schema = spec.get("schema")
            content = spec.get("content")
            if schema is None and isinstance(content, dict) and content:
                media = next(iter(content.values()))
                schema = media.get("schema") if isinstance(media, dict) else None
            annotation = _literal_enum(schema) or self.annotation(schema or {"type": "string"})
            if annotation == "bytes":
                annotation = "str"
            result.append(
                Parameter(
                    wire_name=wire,
                    py_name=allocator.allocate(snake_case(wire, fallback="param")),
                    location=location,
                    required=bool(spec.get("required")) or location is ParameterLocation.PATH,
                    annotation=TypeExpr(annotation),
                    description=_text(spec.get("description")),
                    query_style=_query_style(location, spec, self.warnings, self.where([*parts, index])),
                    deprecated=spec.get("deprecated") is True,
                )
            )
        return tuple(result)

    @staticmethod
    def _pick_content(content: Mapping[str, Any]) -> tuple[str, Any] | None:
        if not content:
            return None
        for media_type, media in content.items():
            if "json" in media_type.lower():
                return media_type, media
        for media_type, media in content.items():
            if _JSON_CONTENT.match(media_type) or media_type.startswith(("application/x-www-form", "multipart/")):
                return media_type, media
        first = next(iter(content.items()))
        return first

    def request_body(self, raw: Any, op_pascal: str) -> RequestBody | None:
        spec = self.deref(raw)
        if not isinstance(spec, dict):
            return None
        content = spec.get("content") or {}
        picked = self._pick_content(content) if isinstance(content, dict) else None
        if picked is None:
            return None
        default_type, media = picked
        offered = [default_type, *(t for t in content if t != default_type)]
        encodings = tuple((str(t), _body_encoding(str(t))) for t in offered)
        schema = (media or {}).get("schema") or {}
        encoding = encodings[0][1]
        structured = {BodyEncoding.JSON, BodyEncoding.FORM, BodyEncoding.MULTIPART}
        kinds = list(dict.fromkeys(each for _, each in encodings))
        # Built once: an inline schema becomes one model class whatever encodings carry it.
        annotation = self.annotation(schema, hoist_as=f"{op_pascal}Body") if structured & set(kinds) else "Any"
        model = Identifier(annotation) if annotation in self.model_class_names() else None
        accepted = [t for each in kinds for t in _body_types(each, annotation, model is not None)]
        return RequestBody(
            annotation=TypeExpr(" | ".join(dict.fromkeys(accepted))),
            model=model,
            content_type=default_type,
            required=bool(spec.get("required")),
            description=_text(spec.get("description")),
            encoding=encoding,
            media=encodings,
        )

    def model_class_names(self) -> set[str]:
        return set(self.schema_classes.values()) | set(self.models)

    def responses(self, raw: Any, op_pascal: str) -> tuple[tuple[Response, ...], str]:
        responses: list[Response] = []
        success: str | None = None
        if not isinstance(raw, dict):
            return (), "None"
        for status in sorted(raw, key=lambda s: (str(s) == "default", str(s))):
            spec = self.deref(raw[status])
            spec = spec if isinstance(spec, dict) else {}
            content = spec.get("content") or {}
            picked = self._pick_content(content)
            status_text = str(status)
            if not STATUS_KEY.match(status_text):
                continue  # not a status code: ignored, with the validator's warning (load.py)
            is_success = status_text.startswith("2")
            if picked is None:
                annotation = "None"
            else:
                media_type, media = picked
                schema = (media or {}).get("schema")
                if "json" in media_type.lower() or _JSON_CONTENT.match(media_type):
                    hoist = f"{op_pascal}Response" if is_success else f"{op_pascal}Error{status_text}"
                    annotation = self.annotation(schema, hoist_as=hoist) if schema is not None else "Any"
                else:
                    annotation = "bytes"
            responses.append(
                Response(
                    status=status_text,
                    description=_text(spec.get("description")),
                    annotation=TypeExpr(annotation),
                )
            )
            if is_success and success is None:
                success = annotation
        return tuple(responses), success or "None"

    def operations(self) -> list[Operation]:
        paths = self.document.get("paths") or {}
        operations: list[Operation] = []
        seen_routes: dict[tuple[str, str], str] = {}
        seen_shapes: dict[tuple[str, str], str] = {}
        seen_ids: dict[Any, str] = {}
        top_servers = self.document.get("servers")
        # Pinned method names per tag: reserved before any name is derived, so pins always win.
        tag_of_route: dict[str, str] = {}
        derived_of_route: dict[str, str] = {}
        for path, item in paths.items():
            for method in HTTP_METHODS if isinstance(item, dict) else ():
                op = item.get(method)
                if isinstance(op, dict):
                    key = route_key(method, _normalise_path(str(path)))
                    tag_of_route[key] = str((op.get("tags") or ["default"])[0])
                    derived_of_route[key] = _derived_method_name(op, method, str(path))
        pinned_methods: dict[str, Identifier] = {}
        for tag in dict.fromkeys(tag_of_route.values()):
            derived = {r: derived_of_route[r] for r, t in tag_of_route.items() if t == tag}
            wanted = {r: n for r, n in self.pins.methods.items() if r in derived}
            pinned_methods.update(self._pinned("methods", wanted, derived, {"with_raw_response"}))
        for stale in sorted(set(self.pins.methods) - set(tag_of_route)):
            where_ = self.pins.where("methods", stale)
            self.warnings.append(f"warning: {where_}: the spec has no such route; pin unused")
        names_per_tag = {tag: NameAllocator(reserved={"with_raw_response"}) for tag in tag_of_route.values()}
        for pinned_route, reserved_name in pinned_methods.items():
            names_per_tag[tag_of_route[pinned_route]].reserve(reserved_name)
        for path, item in paths.items():
            if not isinstance(item, dict):
                continue
            item = self.deref(item)
            path_parameters = item.get("parameters") or []
            path_servers = self.servers(item.get("servers"), ["paths", path, "servers"])
            for method in HTTP_METHODS:
                op = item.get(method)
                if not isinstance(op, dict):
                    continue
                parts: list[str | int] = ["paths", path, method]
                route = (method, _normalise_path(path))
                if route in seen_routes:
                    self.problems.append(
                        Problem(
                            self.where(parts),
                            f"duplicate operation {method.upper()} {path}: same route as {seen_routes[route]}",
                        )
                    )
                    continue
                seen_routes[route] = f"{method.upper()} {path}"
                shape = (method, route_shape(path))
                if shape in seen_shapes:
                    # Legal to generate (both methods exist) but the server cannot tell them apart.
                    self.warnings.append(
                        f"warning: {self.loaded.path}{pointer(parts)}: {method.upper()} {path} "
                        f"matches the same URLs as {seen_shapes[shape]} (only the parameter names differ)"
                    )
                else:
                    seen_shapes[shape] = f"{method.upper()} {path}"
                tags = op.get("tags") or ["default"]
                tag = str(tags[0])
                allocator = names_per_tag[tag]
                base_name = derived_of_route[route_key(method, route[1])]
                operation_id = op.get("operationId")
                if operation_id:
                    if operation_id in seen_ids:
                        self.warnings.append(
                            f"warning: {self.where([*parts, 'operationId'])}: operationId {str(operation_id)!r} is "
                            f"also {seen_ids[operation_id]}'s; the method gets a distinct name"
                        )
                    seen_ids.setdefault(operation_id, f"{method.upper()} {path}")
                pinned_method = pinned_methods.get(route_key(method, route[1]))
                py_name = pinned_method if pinned_method is not None else allocator.allocate(base_name)
                op_pascal = pascal_case(py_name)
                merged: dict[tuple[str, str], Any] = {}
                for entry in [*path_parameters, *(op.get("parameters") or [])]:
                    spec = self.deref(entry)
                    if isinstance(spec, dict):
                        merged[(str(spec.get("name")), str(spec.get("in")))] = spec
                parameters = self.parameters(list(merged.values()), [*parts, "parameters"], py_name)
                declared = {p.wire_name for p in parameters if p.location is ParameterLocation.PATH}
                for name in _PATH_PARAMETER.findall(path):
                    if name not in declared:
                        self.warnings.append(
                            f"warning: {self.loaded.path}{pointer(parts)}: path parameter "
                            f"{{{name}}} is not declared; it is sent as written"
                        )
                self.current_pointer = pointer(parts)
                body = self.request_body(op.get("requestBody"), op_pascal)
                responses, success = self.responses(op.get("responses"), op_pascal)
                servers = self.servers(op.get("servers"), [*parts, "servers"]) or path_servers
                operations.append(
                    Operation(
                        method=HttpMethod(method.upper()),
                        path=str(path),
                        py_name=py_name,
                        summary=_text(op.get("summary")),
                        description=_text(op.get("description")),
                        tag=tag,
                        parameters=parameters,
                        body=body,
                        responses=responses,
                        return_annotation=TypeExpr(success),
                        servers=servers if servers != self.servers(top_servers, ["servers"]) else (),
                        security=self.security(op.get("security")),
                        deprecated=bool(op.get("deprecated")),
                        idempotent=_idempotent(method, op, parameters),
                    )
                )
        return operations

    def error_model(self, operations: list[Operation]) -> Identifier | None:
        """The schema most 4xx/5xx/default responses use: parsed into APIStatusError.error."""
        counts: Counter[str] = Counter()
        models = self.model_class_names()
        for operation in operations:
            for response in operation.responses:
                is_error = response.status[:1] in ("4", "5") or response.status == "default"
                if is_error and response.annotation in models:
                    counts[response.annotation] += 1
        if not counts:
            return None
        return Identifier(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0][0])

    def webhook_payloads(self) -> None:
        """OpenAPI 3.1 `webhooks`: the payloads a server sends; their inline schemas become models
        (`OrderCreatedPayload`), components they refer to are models already."""
        webhooks = self.document.get("webhooks")
        for name, item in (webhooks.items() if isinstance(webhooks, dict) else ()):
            item = self.deref(item)
            methods = [m for m in HTTP_METHODS if isinstance(item, dict) and isinstance(item.get(m), dict)]
            for method in methods:
                body = self.deref(item[method].get("requestBody"))
                content = body.get("content") if isinstance(body, dict) else None
                picked = self._pick_content(content) if isinstance(content, dict) else None
                schema = (picked[1] or {}).get("schema") if picked and isinstance(picked[1], dict) else None
                if isinstance(schema, dict) and "$ref" not in schema:
                    self.current_pointer = pointer(["webhooks", str(name), method])
                    suffix = "Payload" if len(methods) == 1 else f"{method.capitalize()}Payload"
                    self.annotation(schema, hoist_as=f"{pascal_case(str(name))}{suffix}")

    def build(self) -> ApiSpec:
        info = self.document.get("info") or {}
        operations = self.operations()
        self.webhook_payloads()
        resources = self.resources(operations)
        servers = self.servers(self.document.get("servers"), ["servers"])
        schemes = self.security_schemes()
        if self.problems:
            raise SpecError(self.problems)
        models_document = ModelsDocument(
            loaded=self.loaded,
            class_names=self.class_names,
            schema_classes=self.schema_classes,
            hoisted=self.models,
            hoisted_pointers=self.model_pointers,
            rewrite_refs=self.rewrite_refs,
            warnings=self.warnings,
        ).build()
        request_only = _request_only_models(operations, models_document)
        return ApiSpec(
            title=_text(info.get("title")) or self.package_name,
            version=str(info.get("version", "0.0.0")),
            package_version=_package_version(info.get("x-package-version") or info.get("version", "0.0.0")),
            description=_text(info.get("description")),
            package_name=self.package_name,
            spec_filename=self.loaded.display_name,
            spec_sha256=self.loaded.sha256,
            servers=servers,
            resources=resources,
            security_schemes=schemes,
            default_security=self.security(self.document.get("security")) or (),
            error_model=self.error_model(operations),
            model_names=tuple(Identifier(name) for name in sorted(self.model_class_names())),
            secret_wire_names=tuple(sorted(_secret_names(self.document))),
            models_document=models_document,
            field_aliases=_field_aliases(models_document),
            request_only_models=request_only,
            warnings=tuple(self.warnings),
        )

    def resources(self, operations: list[Operation]) -> tuple[Resource, ...]:
        by_tag: dict[str, list[Operation]] = {}
        for operation in operations:
            by_tag.setdefault(operation.tag, []).append(operation)
        tag_descriptions = {
            str(t.get("name")): _text(t.get("description"))
            for t in self.document.get("tags") or []
            if isinstance(t, dict)
        }
        derived = {tag: snake_case(tag, fallback="default") for tag in by_tag}
        pinned = self._pinned("resources", self.pins.resources, derived, RESERVED_CLIENT_ATTRIBUTES)
        attributes = NameAllocator(reserved={*RESERVED_CLIENT_ATTRIBUTES, *pinned.values()})
        # Resource classes share modules with model imports: never reuse a model's name.
        classes = NameAllocator(reserved={"Client", "AsyncClient", *self.model_class_names()})
        modules = NameAllocator()
        resources = []
        for tag, ops in by_tag.items():
            py_name = pinned.get(tag) or attributes.allocate(snake_case(tag, fallback="default"))
            resources.append(
                Resource(
                    tag=tag,
                    py_name=py_name,
                    class_name=classes.allocate_pascal(_resource_class_name(tag, self.model_class_names())),
                    module=modules.allocate(py_name),
                    description=tag_descriptions.get(tag, ""),
                    operations=tuple(ops),
                )
            )
        return tuple(resources)


def _package_version(raw: Any) -> str:
    """The generated package's `__version__`: it is sent in the User-Agent header, so only the
    characters a version needs (spec text like `1.0 "beta"\n` keeps its letters, digits, `.+-_`)."""
    cleaned = re.sub(r"[^0-9A-Za-z.+_-]", "", str(raw))
    return cleaned or "0.0.0"


def _secret_names(document: Any) -> set[str]:
    """Every property/parameter wire name in the document that holds a secret."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key in ("properties",):
                props = node.get(key)
                if isinstance(props, dict):
                    found.update(name for name in props if is_secret(str(name)))
            name = node.get("name")
            if isinstance(name, str) and "in" in node and is_secret(name):
                found.add(name)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    return found


def _literal_enum(schema: Any) -> str | None:
    """`Literal['asc', 'desc']` for an inline enum of strings or ints (a parameter's schema)."""
    if not isinstance(schema, dict) or "$ref" in schema:
        return None
    values = schema.get("enum")
    if not isinstance(values, list) or not values or len(values) > 100:
        return None
    if not all(isinstance(v, str) or (isinstance(v, int) and not isinstance(v, bool)) for v in values):
        return None
    return f"Literal[{', '.join(repr(v) for v in dict.fromkeys(values))}]"


def _scheme_location(value: object) -> ParameterLocation | None:
    """Where an apiKey scheme sends its key; None for other schemes (or a location we do not know)."""
    try:
        return ParameterLocation(value)
    except ValueError:
        return None


def _query_style(
    location: ParameterLocation, spec: Mapping[str, Any], warnings: list[str], here: str
) -> QueryStyle | None:
    """The serialisation a query parameter asks for beyond the default (`form`, exploded)."""
    if location is not ParameterLocation.QUERY:
        return None
    raw = spec.get("style", "form")
    explode = spec.get("explode", raw == "form")
    try:
        style = QueryStyle(raw)
    except ValueError:
        warnings.append(f"warning: {here}: query style {str(raw)!r} is not supported; sent as form")
        return None
    if style is QueryStyle.FORM and explode is not False:
        return None
    return style


def _body_types(encoding: BodyEncoding, annotation: str, is_model: bool) -> list[str]:
    """What `body=` accepts for one encoding (the argument's type is the union over those offered)."""
    if encoding is BodyEncoding.BINARY:
        return ["bytes", "IO[bytes]"]
    if encoding is BodyEncoding.TEXT:
        return ["str"]
    if encoding is BodyEncoding.MULTIPART:
        return [annotation, "Mapping[str, Any]"] if is_model else ["Mapping[str, Any]"]
    return [annotation, "Mapping[str, Any]"] if is_model else [annotation]


def _body_encoding(media_type: str) -> BodyEncoding:
    lowered = media_type.lower().split(";", 1)[0].strip()
    if "json" in lowered or lowered == "*/*":
        return BodyEncoding.JSON
    if lowered == "application/x-www-form-urlencoded":
        return BodyEncoding.FORM
    if lowered.startswith("multipart/"):
        return BodyEncoding.MULTIPART
    if lowered.startswith("text/"):
        return BodyEncoding.TEXT
    return BodyEncoding.BINARY


def _idempotent(method: str, op: Mapping[str, Any], parameters: tuple[Parameter, ...]) -> bool:
    """Safe to send twice: by method, or `x-idempotent: true`; never a call that spends a refresh
    token (a PUT by method, but its first attempt may have used the token up)."""
    if any(re.sub(r"[^a-z0-9]", "", p.wire_name.lower()) == "refreshtoken" for p in parameters):
        return False
    return method.upper() in _IDEMPOTENT_METHODS or op.get("x-idempotent") is True


def _refs_of(node: Any) -> set[str]:
    """Class names a schema refers to (`#/components/schemas/NAME`), at any depth."""
    found: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str) and ref.startswith(SCHEMA_PREFIX):
                found.add(ref[len(SCHEMA_PREFIX) :].split("/", 1)[0].replace("~1", "/").replace("~0", "~"))
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _closure(names: set[str], schemas: Mapping[str, Any]) -> set[str]:
    seen: set[str] = set()
    pending = list(names)
    while pending:
        name = pending.pop()
        if name in seen or name not in schemas:
            continue
        seen.add(name)
        pending.extend(_refs_of(schemas[name]))
    return seen


def _request_only_models(operations: list[Operation], models_document: Mapping[str, Any]) -> tuple[Identifier, ...]:
    """Models that only requests use: they reject unknown fields (a typo is caught before sending).
    A model any response reaches keeps unknown fields (a newer server's data survives)."""
    schemas = models_document.get("components", {}).get("schemas", {})
    annotation_names = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
    requests: set[str] = set()
    responses: set[str] = set()
    for op in operations:
        if op.body is not None:
            requests.update(annotation_names.findall(op.body.annotation))
        for response in op.responses:
            responses.update(annotation_names.findall(response.annotation))
    only = _closure(requests, schemas) - _closure(responses, schemas)
    return tuple(Identifier(name) for name in sorted(only) if _is_object_model(schemas[name]))


def _is_object_model(schema: Any) -> bool:
    return isinstance(schema, dict) and "enum" not in schema and (
        bool(schema.get("properties")) or "allOf" in schema or schema.get("type") == "object"
    )


def _field_aliases(models_document: Mapping[str, Any]) -> dict[str, list[str]]:
    """datamodel-code-generator's `aliases`: wire name → [attribute name], which it writes as
    `validation_alias=AliasChoices(wire, attribute)` + `serialization_alias=wire`, so that type
    checkers see the attribute name in the constructor (`CartAuthTicketRequest(cart_id=...)`) and
    the wire name still validates and serialises. A `Class.wire` key where two properties of one
    class would get the same attribute."""
    aliases: dict[str, list[str]] = {}
    stack: list[Any] = list(models_document.get("components", {}).get("schemas", {}).items())
    while stack:
        owner, schema = stack.pop()
        if isinstance(schema, list):
            stack.extend((owner, item) for item in schema)
            continue
        if not isinstance(schema, dict):
            continue
        properties = schema.get("properties")
        if isinstance(properties, dict):
            allocator = NameAllocator()
            for wire in properties:
                name = allocator.allocate(field_name(str(wire)))
                # The name is the wire name: nothing to alias, unless datamodel-code-generator
                # renames it (`model_config` → `model_config_`): then the wire name must validate.
                if name == wire and not _taken_by_pydantic(name):
                    continue
                if name == field_name(str(wire)):
                    aliases.setdefault(str(wire), [name])
                else:
                    aliases[f"{owner}.{wire}"] = [name]
        for key, value in schema.items():
            if isinstance(value, (dict, list)) and key != "properties":
                stack.append((owner, value))
        if isinstance(properties, dict):
            stack.extend((owner, value) for value in properties.values())
    return aliases


def _taken_by_pydantic(name: str) -> bool:
    """A name a field cannot have on a pydantic model (an attribute of BaseModel, `model_*`)."""
    import pydantic

    return name.startswith("model_") or hasattr(pydantic.BaseModel, name)


def _derived_method_name(op: Mapping[str, Any], method: str, path: str) -> Identifier:
    """The method name before collisions: `operationId`, else the summary, else METHOD + path."""
    operation_id = op.get("operationId")
    if operation_id:
        return snake_case(str(operation_id))
    return method_name(_text(op.get("summary")), method, path)


def _resource_class_name(tag: str, model_names: set[str]) -> str:
    name = pascal_case(tag, fallback="Default")
    return f"{name}Resource" if name in model_names else name


def _normalise_path(path: str) -> str:
    """The route a path denotes: `//` collapsed, no trailing `/`, no spaces inside `{ name }`."""
    path = _PATH_PARAMETER.sub(lambda m: "{" + m.group(1).strip() + "}", str(path))
    return re.sub(r"/{2,}", "/", path).rstrip("/") or "/"


def route_shape(path: str) -> str:
    """The URLs a path matches, whatever its parameters are called."""
    return _PATH_PARAMETER.sub("{}", _normalise_path(path))


def resolve_package_name(loaded: LoadedSpec, asked: str | None) -> Identifier:
    """The package name: `--package-name` if given, else the spec's (`info.x-package-name`, else
    derived from `info.title`); SpecError unless it is a safe, non-shadowing identifier."""
    info = loaded.document.get("info")
    name = asked if asked is not None else package_name_for(info)
    problem = package_name_problem(name)
    if problem is None:
        return Identifier(name)
    if asked is not None:
        location = "--package-name"
    else:
        key = "x-package-name" if isinstance(info, dict) and info.get("x-package-name") else "title"
        location = where(str(loaded.path), loaded.text, ["info", key])
    raise SpecError.single(location, f"{problem}; pass another with --package-name")


def build_api(
    loaded: LoadedSpec,
    package_name: str | None,
    http_library: HttpLibrary = HttpLibrary.HTTPX,
    pins: Pins = NO_PINS,
) -> ApiSpec:
    api = _Builder(loaded, resolve_package_name(loaded, package_name), pins).build()
    return dataclasses.replace(api, http_library=http_library)
