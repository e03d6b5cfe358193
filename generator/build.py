"""Stage 2: OpenAPI document → ApiSpec (the intermediate representation).

All naming and typing decisions are made here, so templates only lay them out. The stages:
signature_types.py (schema → annotation, the class names), build_operations.py (paths →
operations), schemas.py (the document datamodel-code-generator reads); this module puts them
together with resources, security and the package's own names.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from typing import Any

from .build_context import BuildContext
from .build_operations import build_operations, hoist_webhook_payloads, security, servers, text
from .errors import SpecError
from .load import LoadedSpec, where
from .naming import NameAllocator, package_name_for, package_name_problem, pascal_case, snake_case
from .pins import NO_PINS, Pins
from .safe import Identifier
from .schemas import SCHEMA_PREFIX, ModelsDocument
from .signature_types import SignatureTypes, is_secret
from .spec import (
    ApiSpec,
    HttpLibrary,
    Operation,
    ParameterLocation,
    Resource,
    SchemeType,
    SecurityScheme,
)

# Attributes of the generated clients; a resource with one of these names is renamed.
RESERVED_CLIENT_ATTRIBUTES = frozenset(
    {"close", "base_url", "with_raw_response", "timeout", "max_retries", "http_client", "copy", "request"}
    | {"with_options", "default_headers", "is_closed"}
)


def build_api(
    loaded: LoadedSpec,
    package_name: str | None,
    http_library: HttpLibrary = HttpLibrary.HTTPX,
    pins: Pins = NO_PINS,
) -> ApiSpec:
    package = resolve_package_name(loaded, package_name)
    context = BuildContext.of(loaded, pins)
    types = SignatureTypes(context)
    document = context.document
    top_servers = servers(context, document.get("servers"), ["servers"])
    operations = build_operations(context, types, top_servers)
    hoist_webhook_payloads(context, types)
    resources = _resources(context, operations, types.model_class_names())
    schemes = _security_schemes(context)
    if context.problems:
        raise SpecError(context.problems)
    models_document = ModelsDocument(
        loaded=loaded,
        class_names=types.class_names,
        schema_classes=types.schema_classes,
        hoisted=types.hoisted,
        hoisted_pointers=types.hoisted_pointers,
        rewrite_refs=types.rewrite_refs,
        warnings=context.warnings,
    ).build()
    info = document.get("info") or {}
    return ApiSpec(
        title=text(info.get("title")) or package,
        version=str(info.get("version", "0.0.0")),
        package_version=_package_version(info.get("x-package-version") or info.get("version", "0.0.0")),
        description=text(info.get("description")),
        package_name=package,
        spec_filename=loaded.display_name,
        spec_sha256=loaded.sha256,
        servers=top_servers,
        resources=resources,
        security_schemes=schemes,
        default_security=security(document.get("security")) or (),
        error_model=_error_model(operations, types.model_class_names()),
        model_names=tuple(Identifier(name) for name in sorted(types.model_class_names())),
        secret_wire_names=tuple(sorted(_secret_names(document))),
        models_document=models_document,
        request_only_models=_request_only_models(operations, models_document),
        warnings=tuple(context.warnings),
        http_library=http_library,
    )


def _resources(context: BuildContext, operations: list[Operation], model_names: set[str]) -> tuple[Resource, ...]:
    """The operations grouped by their first tag: one resource (`client.carts`) per tag."""
    by_tag: dict[str, list[Operation]] = {}
    for operation in operations:
        by_tag.setdefault(operation.tag, []).append(operation)
    tag_descriptions = {
        str(t.get("name")): text(t.get("description"))
        for t in context.document.get("tags") or []
        if isinstance(t, dict)
    }
    derived = {tag: snake_case(tag, fallback="default") for tag in by_tag}
    pinned = context.pinned("resources", context.pins.resources, derived, RESERVED_CLIENT_ATTRIBUTES)
    attributes = NameAllocator(reserved={*RESERVED_CLIENT_ATTRIBUTES, *pinned.values()})
    # Resource classes share modules with model imports: never reuse a model's name.
    classes = NameAllocator(reserved={"Client", "AsyncClient", *model_names})
    modules = NameAllocator()
    resources = []
    for tag, ops in by_tag.items():
        py_name = pinned.get(tag) or attributes.allocate(snake_case(tag, fallback="default"))
        resources.append(
            Resource(
                tag=tag,
                py_name=py_name,
                class_name=classes.allocate_pascal(_resource_class_name(tag, model_names)),
                module=modules.allocate(py_name),
                description=tag_descriptions.get(tag, ""),
                operations=tuple(ops),
            )
        )
    return tuple(resources)


def _security_schemes(context: BuildContext) -> tuple[SecurityScheme, ...]:
    raw = context.document.get("components", {}).get("securitySchemes") or {}
    schemes = []
    for name, spec in raw.items():
        spec = context.deref(spec)
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
                scheme=text(spec.get("scheme")).lower(),
                location=_scheme_location(spec.get("in")),
                parameter_name=text(spec.get("name")),
                description=text(spec.get("description")),
            )
        )
    return tuple(schemes)


def _error_model(operations: list[Operation], models: set[str]) -> Identifier | None:
    """The schema most 4xx/5xx/default responses use: parsed into APIStatusError.error."""
    counts: Counter[str] = Counter()
    for operation in operations:
        for response in operation.responses:
            is_error = response.status[:1] in ("4", "5") or response.status == "default"
            if is_error and response.annotation in models:
                counts[response.annotation] += 1
    if not counts:
        return None
    return Identifier(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0][0])


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


def _scheme_location(value: object) -> ParameterLocation | None:
    """Where an apiKey scheme sends its key; None for other schemes (or a location we do not know)."""
    try:
        return ParameterLocation(value)
    except ValueError:
        return None


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


def _resource_class_name(tag: str, model_names: set[str]) -> str:
    name = pascal_case(tag, fallback="Default")
    return f"{name}Resource" if name in model_names else name


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
