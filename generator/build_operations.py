"""Stage 2b: the spec's paths → `Operation`s (method names, parameters, bodies, responses), and the
payload models of 3.1 `webhooks`. The types come from `SignatureTypes`, which hoists the inline
schemas met on the way."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .build_context import BuildContext
from .errors import Problem
from .load import HTTP_METHODS, STATUS_KEY, pointer
from .naming import NameAllocator, method_name, pascal_case, snake_case
from .pins import route_key
from .safe import Identifier, TypeExpr
from .signature_types import SignatureTypes
from .spec import (
    BodyEncoding,
    HttpMethod,
    Operation,
    Parameter,
    ParameterLocation,
    QueryStyle,
    RequestBody,
    Response,
    Server,
    ServerVariable,
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

_JSON_CONTENT = re.compile(r"^(application|text)/([\w.+-]*\+)?json\b|^\*/\*$|^text/plain\b", re.IGNORECASE)
_PATH_PARAMETER = re.compile(r"\{([^{}]+)\}")
_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})


def text(value: Any) -> str:
    """A spec string (a description, a summary), or "" for anything else."""
    return value if isinstance(value, str) else ""


def servers(context: BuildContext, raw: Any, parts: list[str | int]) -> tuple[Server, ...]:
    """A `servers` list (top level, path item or operation) at `parts`."""
    if not isinstance(raw, list):
        return ()
    result = []
    for index, entry in enumerate(raw):
        if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
            context.problems.append(Problem(context.where([*parts, index]), "server entry without a 'url'"))
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
                    description=text(spec.get("description")),
                )
            )
        result.append(Server(url=entry["url"], description=text(entry.get("description")), variables=tuple(variables)))
    return tuple(result)


def security(raw: Any) -> tuple[tuple[str, ...], ...] | None:
    """A `security` list: alternatives, each the sorted scheme names it needs; None when absent."""
    if not isinstance(raw, list):
        return None
    return tuple(tuple(sorted(req)) for req in raw if isinstance(req, dict))


def build_operations(
    context: BuildContext, types: SignatureTypes, top_servers: tuple[Server, ...]
) -> list[Operation]:
    """Every operation of the spec's paths, in spec order; `top_servers`, the spec's own (an
    operation with just those has no override)."""
    return _Operations(context, types, top_servers).build()


def hoist_webhook_payloads(context: BuildContext, types: SignatureTypes) -> None:
    """OpenAPI 3.1 `webhooks`: the payloads a server sends; their inline schemas become models
    (`OrderCreatedPayload`), components they refer to are models already."""
    webhooks = context.document.get("webhooks")
    for name, item in (webhooks.items() if isinstance(webhooks, dict) else ()):
        item = context.deref(item)
        methods = [m for m in HTTP_METHODS if isinstance(item, dict) and isinstance(item.get(m), dict)]
        for method in methods:
            body = context.deref(item[method].get("requestBody"))
            content = body.get("content") if isinstance(body, dict) else None
            picked = _pick_content(content) if isinstance(content, dict) else None
            schema = (picked[1] or {}).get("schema") if picked and isinstance(picked[1], dict) else None
            if isinstance(schema, dict) and "$ref" not in schema:
                suffix = "Payload" if len(methods) == 1 else f"{method.capitalize()}Payload"
                at = pointer(["webhooks", str(name), method])
                types.annotation(schema, hoist_as=f"{pascal_case(str(name))}{suffix}", at=at)


class _Operations:
    def __init__(self, context: BuildContext, types: SignatureTypes, top_servers: tuple[Server, ...]) -> None:
        self.context = context
        self.types = types
        self.top_servers = top_servers
        self.seen_routes: dict[tuple[str, str], str] = {}
        self.seen_shapes: dict[tuple[str, str], str] = {}
        self.seen_ids: dict[Any, str] = {}

    def build(self) -> list[Operation]:
        context = self.context
        paths = context.document.get("paths") or {}
        tag_of_route, derived_of_route = self._routes(paths)
        pinned_methods = self._pinned_methods(tag_of_route, derived_of_route)
        names_per_tag = {tag: NameAllocator(reserved={"with_raw_response"}) for tag in tag_of_route.values()}
        for pinned_route, reserved_name in pinned_methods.items():
            names_per_tag[tag_of_route[pinned_route]].reserve(reserved_name)
        operations: list[Operation] = []
        for path, item in paths.items():
            if not isinstance(item, dict):
                continue
            item = context.deref(item)
            path_parameters = item.get("parameters") or []
            path_servers = servers(context, item.get("servers"), ["paths", path, "servers"])
            for method in HTTP_METHODS:
                op = item.get(method)
                if not isinstance(op, dict) or not self._first_of_route(method, path):
                    continue
                key = route_key(method, _normalise_path(path))
                pinned_method = pinned_methods.get(key)
                tag = str((op.get("tags") or ["default"])[0])
                if pinned_method is not None:
                    py_name = pinned_method
                else:
                    py_name = names_per_tag[tag].allocate(derived_of_route[key])
                operations.append(self._operation(method, path, op, tag, py_name, path_parameters, path_servers))
        return operations

    def _routes(self, paths: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
        """Every route's tag and derived method name (route key → each); a path item may be a
        `$ref` (3.1's `components/pathItems`)."""
        tag_of_route: dict[str, str] = {}
        derived_of_route: dict[str, str] = {}
        for path, item in paths.items():
            item = self.context.deref(item)
            for method in HTTP_METHODS if isinstance(item, dict) else ():
                op = item.get(method)
                if isinstance(op, dict):
                    key = route_key(method, _normalise_path(str(path)))
                    tag_of_route[key] = str((op.get("tags") or ["default"])[0])
                    derived_of_route[key] = _derived_method_name(op, method, str(path))
        return tag_of_route, derived_of_route

    def _pinned_methods(self, tag_of_route: dict[str, str], derived_of_route: dict[str, str]) -> dict[str, Identifier]:
        """Pinned method names per tag: reserved before any name is derived, so pins always win."""
        pins = self.context.pins
        pinned: dict[str, Identifier] = {}
        for tag in dict.fromkeys(tag_of_route.values()):
            derived = {r: derived_of_route[r] for r, t in tag_of_route.items() if t == tag}
            wanted = {r: n for r, n in pins.methods.items() if r in derived}
            pinned.update(self.context.pinned("methods", wanted, derived, {"with_raw_response"}))
        for stale in sorted(set(pins.methods) - set(tag_of_route)):
            here = pins.where("methods", stale)
            self.context.warnings.append(f"warning: {here}: the spec has no such route; pin unused")
        return pinned

    def _first_of_route(self, method: str, path: Any) -> bool:
        """False (a problem) for a second operation on one route; warns when two routes match the
        same URLs, which is legal to generate but a server cannot tell apart."""
        parts: list[str | int] = ["paths", path, method]
        route = (method, _normalise_path(path))
        if route in self.seen_routes:
            message = f"duplicate operation {method.upper()} {path}: same route as {self.seen_routes[route]}"
            self.context.problems.append(Problem(self.context.where(parts), message))
            return False
        self.seen_routes[route] = f"{method.upper()} {path}"
        shape = (method, route_shape(path))
        if shape in self.seen_shapes:
            self.context.warnings.append(
                f"warning: {self.context.loaded.path}{pointer(parts)}: {method.upper()} {path} "
                f"matches the same URLs as {self.seen_shapes[shape]} (only the parameter names differ)"
            )
        else:
            self.seen_shapes[shape] = f"{method.upper()} {path}"
        return True

    def _operation(
        self,
        method: str,
        path: Any,  # the key of `paths`, located as it is written
        op: Mapping[str, Any],
        tag: str,
        py_name: Identifier,
        path_parameters: list[Any],
        path_servers: tuple[Server, ...],
    ) -> Operation:
        context = self.context
        parts: list[str | int] = ["paths", path, method]
        operation_id = op.get("operationId")
        if operation_id:
            if operation_id in self.seen_ids:
                context.warnings.append(
                    f"warning: {context.where([*parts, 'operationId'])}: operationId {str(operation_id)!r} is "
                    f"also {self.seen_ids[operation_id]}'s; the method gets a distinct name"
                )
            self.seen_ids.setdefault(operation_id, f"{method.upper()} {path}")
        merged: dict[tuple[str, str], Any] = {}
        for entry in [*path_parameters, *(op.get("parameters") or [])]:
            spec = context.deref(entry)
            if isinstance(spec, dict):
                merged[(str(spec.get("name")), str(spec.get("in")))] = spec
        parameters = self._parameters(list(merged.values()), [*parts, "parameters"])
        declared = {p.wire_name for p in parameters if p.location is ParameterLocation.PATH}
        for name in _PATH_PARAMETER.findall(str(path)):
            if name not in declared:
                context.warnings.append(
                    f"warning: {context.loaded.path}{pointer(parts)}: path parameter "
                    f"{{{name}}} is not declared; it is sent as written"
                )
        op_pascal = pascal_case(py_name)
        at = pointer(parts)
        body = self._request_body(op.get("requestBody"), op_pascal, at)  # hoisted first: names in spec order
        responses, success = self._responses(op.get("responses"), op_pascal, at)
        own_servers = servers(context, op.get("servers"), [*parts, "servers"]) or path_servers
        return Operation(
            method=HttpMethod(method.upper()),
            path=str(path),
            py_name=py_name,
            summary=text(op.get("summary")),
            description=text(op.get("description")),
            tag=tag,
            parameters=parameters,
            body=body,
            responses=responses,
            return_annotation=TypeExpr(success),
            servers=own_servers if own_servers != self.top_servers else (),
            security=security(op.get("security")),
            deprecated=bool(op.get("deprecated")),
            idempotent=_idempotent(method, op, parameters),
        )

    def _parameters(self, raw: list[Any], parts: list[str | int]) -> tuple[Parameter, ...]:
        context = self.context
        allocator = NameAllocator(reserved=RESERVED_ARGUMENTS)
        result = []
        for index, entry in enumerate(raw):
            spec = context.deref(entry)
            if not isinstance(spec, dict) or "name" not in spec or "in" not in spec:
                context.problems.append(Problem(context.where([*parts, index]), "parameter without 'name' and 'in'"))
                continue
            wire = str(spec["name"])
            try:
                location = ParameterLocation(spec["in"])
            except ValueError:
                choices = ", ".join(m.value for m in ParameterLocation)
                context.problems.append(
                    Problem(context.where([*parts, index, "in"]), f"parameter 'in' must be one of {choices}")
                )
                continue
            schema = spec.get("schema")
            content = spec.get("content")
            if schema is None and isinstance(content, dict) and content:
                media = next(iter(content.values()))
                schema = media.get("schema") if isinstance(media, dict) else None
            annotation = _literal_enum(schema) or self.types.annotation(schema or {"type": "string"})
            if annotation == "bytes":
                annotation = "str"
            result.append(
                Parameter(
                    wire_name=wire,
                    py_name=allocator.allocate(snake_case(wire, fallback="param")),
                    location=location,
                    required=bool(spec.get("required")) or location is ParameterLocation.PATH,
                    annotation=TypeExpr(annotation),
                    description=text(spec.get("description")),
                    query_style=_query_style(location, spec, context.warnings, context.where([*parts, index])),
                    deprecated=spec.get("deprecated") is True,
                )
            )
        return tuple(result)

    def _request_body(self, raw: Any, op_pascal: str, at: str) -> RequestBody | None:
        spec = self.context.deref(raw)
        if not isinstance(spec, dict):
            return None
        content = spec.get("content") or {}
        picked = _pick_content(content) if isinstance(content, dict) else None
        if picked is None:
            return None
        default_type, media = picked
        offered = [default_type, *(t for t in content if t != default_type)]
        encodings = tuple((str(t), _body_encoding(str(t))) for t in offered)
        schema = (media or {}).get("schema") or {}
        structured = {BodyEncoding.JSON, BodyEncoding.FORM, BodyEncoding.MULTIPART}
        kinds = list(dict.fromkeys(each for _, each in encodings))
        # Built once: an inline schema becomes one model class whatever encodings carry it.
        if structured & set(kinds):
            annotation = self.types.annotation(schema, hoist_as=f"{op_pascal}Body", at=at)
        else:
            annotation = "Any"
        model = self.types.model_name(annotation)
        accepted = [t for each in kinds for t in _body_types(each, annotation, model is not None)]
        return RequestBody(
            annotation=TypeExpr(" | ".join(dict.fromkeys(accepted))),
            model=model,
            content_type=default_type,
            required=bool(spec.get("required")),
            description=text(spec.get("description")),
            encoding=encodings[0][1],
            media=encodings,
        )

    def _responses(self, raw: Any, op_pascal: str, at: str) -> tuple[tuple[Response, ...], str]:
        """The responses by status, and the annotation of the first success (the return type)."""
        responses: list[Response] = []
        success: str | None = None
        if not isinstance(raw, dict):
            return (), "None"
        for status in sorted(raw, key=lambda s: (str(s) == "default", str(s))):
            spec = self.context.deref(raw[status])
            spec = spec if isinstance(spec, dict) else {}
            picked = _pick_content(spec.get("content") or {})
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
                    annotation = self.types.annotation(schema, hoist_as=hoist, at=at) if schema is not None else "Any"
                else:
                    annotation = "bytes"
            responses.append(
                Response(status=status_text, description=text(spec.get("description")), annotation=TypeExpr(annotation))
            )
            if is_success and success is None:
                success = annotation
        return tuple(responses), success or "None"


def _pick_content(content: Mapping[str, Any]) -> tuple[str, Any] | None:
    """The media type a body or response is read as: JSON first, then form or multipart."""
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


def _derived_method_name(op: Mapping[str, Any], method: str, path: str) -> Identifier:
    """The method name before collisions: `operationId`, else the summary, else METHOD + path."""
    operation_id = op.get("operationId")
    if operation_id:
        return snake_case(str(operation_id))
    return method_name(text(op.get("summary")), method, path)


def _normalise_path(path: str) -> str:
    """The route a path denotes: `//` collapsed, no trailing `/`, no spaces inside `{ name }`."""
    path = _PATH_PARAMETER.sub(lambda m: "{" + m.group(1).strip() + "}", str(path))
    return re.sub(r"/{2,}", "/", path).rstrip("/") or "/"


def route_shape(path: str) -> str:
    """The URLs a path matches, whatever its parameters are called."""
    return _PATH_PARAMETER.sub("{}", _normalise_path(path))
