"""The public API surface of a generated package: what the user's code touches, as JSON-able data.

It is computed from the IR (resources, operations, parameters, bodies, servers, security) and from
the models source datamodel-code-generator produced (class names, field names, aliases, annotations,
enum values exactly as the user sees them). `diff.py` compares two surfaces; the package records its
own surface in `_surface.py` so the next regeneration can say what changed.

Everything here is deterministic: dict keys are sorted, lists keep spec order where order matters
(servers) and are sorted otherwise.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, cast

if TYPE_CHECKING:
    from .spec import ApiSpec, Operation, Server

SURFACE_FORMAT = 1
SURFACE_FILE = "_surface.py"
SURFACE_VARIABLE = "SURFACE_JSON"

# The shape `extract` writes, `_surface.py` records and `diff.py` / `renames.py` read. A surface
# read back from a package is JSON anyone may have edited: `read_recorded` checks it before it is
# trusted to have this shape. Keys that are Python keywords ("in", "class") need the call form.
ParameterSurface = TypedDict(
    "ParameterSurface",
    {"name": str, "in": str, "required": bool, "type": str},  # wire name, location, annotation
)


class BodySurface(TypedDict):
    type: str
    required: bool
    content_type: str


class OperationSurface(TypedDict):
    method: str
    path: str
    parameters: dict[str, ParameterSurface]  # by Python name
    body: BodySurface | None
    returns: str
    errors: dict[str, str]  # status → annotation
    security: list[list[str]]  # alternatives, each the scheme names it needs
    servers: list[str]
    deprecated: bool


ResourceSurface = TypedDict("ResourceSurface", {"class": str, "operations": dict[str, OperationSurface]})


class FieldSurface(TypedDict):
    alias: str  # the wire name
    type: str
    required: bool


class _ModelKind(TypedDict):
    kind: str  # "model", "enum", "root" or "alias"
    used_in: list[str]  # "request", "response" (filled in by _mark_usage)


class ModelSurface(_ModelKind, total=False):
    fields: dict[str, FieldSurface]  # kind "model"
    values: list[Any]  # kind "enum": the distinct values, sorted
    members: dict[str, Any]  # kind "enum": member name → value
    type: str  # kinds "root" and "alias"


class ServerVariableSurface(TypedDict):
    name: str
    default: str | None
    enum: list[str]


class ServerSurface(TypedDict):
    url: str
    description: str
    variables: dict[str, ServerVariableSurface]  # by Python name


SecuritySchemeSurface = TypedDict("SecuritySchemeSurface", {"type": str, "scheme": str, "in": str, "name": str})


class ClientSurface(TypedDict):
    error_model: str | None


class _SurfaceKeys(TypedDict):
    format: int
    package: str
    package_version: str
    spec_version: str
    client: ClientSurface
    servers: list[ServerSurface]
    security_schemes: dict[str, SecuritySchemeSurface]
    default_security: list[list[str]]
    resources: dict[str, ResourceSurface]  # by client attribute
    models: dict[str, ModelSurface]  # by class name


class Surface(_SurfaceKeys, total=False):
    deprecated: dict[str, Any]  # renames.py's record of the aliases kept, until --drop-deprecated

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def extract(api: ApiSpec, models_source: str) -> Surface:
    """The surface of `api` + `models_source` give (JSON-able, sorted, deterministic)."""
    models = _models(models_source)
    surface: Surface = {
        "format": SURFACE_FORMAT,
        "package": api.package_name,
        "package_version": api.package_version or api.version,
        "spec_version": api.version,
        "client": {"error_model": api.error_model},
        "servers": [_server(server) for server in api.servers],
        "security_schemes": {
            scheme.name: {
                "type": scheme.type,
                "scheme": scheme.scheme,
                "in": scheme.location.value if scheme.location is not None else "",
                "name": scheme.parameter_name,
            }
            for scheme in api.security_schemes
        },
        "default_security": _security(api.default_security),
        "resources": {
            resource.py_name: {
                "class": resource.class_name,
                "operations": {op.py_name: _operation(op, api) for op in resource.operations},
            }
            for resource in api.resources
        },
        "models": models,
    }
    if api.aliases_record:
        surface["deprecated"] = api.aliases_record  # renames.py: kept until --drop-deprecated
    _mark_usage(surface)
    result: Surface = _sorted(surface)
    return result


def to_json(surface: Surface) -> str:
    """The JSON `_surface.py` holds in a raw triple-quoted string (one item a line, keys sorted).

    JSON escapes every `"` inside its strings and ensure_ascii escapes the rest, so the text can
    neither hold three double quotes in a row nor end in a backslash: the literal is well formed.
    """
    text = json.dumps(surface, indent=1, sort_keys=True, ensure_ascii=True)
    assert '"""' not in text and not text.endswith("\\")
    return text


def _server(server: Server) -> ServerSurface:
    return {
        "url": server.url,
        "description": server.description,
        "variables": {
            variable.py_name: {
                "name": variable.name,
                "default": variable.default,
                "enum": list(variable.enum),
            }
            for variable in server.variables
        },
    }


def _security(requirements: Iterable[Iterable[str]]) -> list[list[str]]:
    """Security alternatives, each a sorted list of scheme names; `[]` among them: none needed."""
    return [list(alternative) for alternative in sorted({tuple(sorted(a)) for a in requirements})]


def _operation(op: Operation, api: ApiSpec) -> OperationSurface:
    security = op.security if op.security is not None else api.default_security
    return {
        "method": op.method,
        "path": op.path,
        "parameters": {
            p.py_name: {
                "name": p.wire_name,
                "in": p.location,
                "required": p.required,
                "type": p.annotation,
            }
            for p in op.parameters
        },
        "body": None
        if op.body is None
        else {
            "type": op.body.annotation,
            "required": op.body.required,
            "content_type": op.body.content_type,
        },
        "returns": op.return_annotation,
        "errors": {
            r.status: r.annotation for r in op.responses if not r.status.startswith(("1", "2", "3"))
        },
        "security": _security(security),
        "servers": [server.url for server in op.servers],
        "deprecated": op.deprecated,
    }


# ---- models, read from the source datamodel-code-generator produced ---------------------------
def _models(source: str) -> dict[str, ModelSurface]:
    tree = ast.parse(source)
    models: dict[str, ModelSurface] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            bases = {ast.unparse(base) for base in node.bases}
            if any(base.endswith("Enum") for base in bases):
                members = _enum_members(node)
                models[node.name] = {
                    "kind": "enum", "used_in": [], "values": _enum_values(members), "members": members,
                }  # fmt: skip
            elif any(base.startswith("RootModel") for base in bases):
                root = next(
                    (
                        ast.unparse(stmt.annotation)
                        for stmt in node.body
                        if isinstance(stmt, ast.AnnAssign)
                        and isinstance(stmt.target, ast.Name)
                        and stmt.target.id == "root"
                    ),
                    "Any",
                )
                models[node.name] = {"kind": "root", "used_in": [], "type": root}
            else:
                # Fields inherited from another model of the module (allOf) are this class's too.
                inherited: dict[str, FieldSurface] = {}
                for base in node.bases:
                    parent = models.get(ast.unparse(base))
                    if parent is not None and parent["kind"] == "model":
                        inherited.update(parent["fields"])
                models[node.name] = {
                    "kind": "model", "used_in": [], "fields": {**inherited, **_fields(node)},
                }  # fmt: skip
        elif (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            models[node.targets[0].id] = {"kind": "alias", "used_in": [], "type": ast.unparse(node.value)}
        elif (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.value is not None
        ):
            models[node.target.id] = {"kind": "alias", "used_in": [], "type": ast.unparse(node.value)}
    return models


def _enum_members(node: ast.ClassDef) -> dict[str, Any]:
    """Member name → value (an old name kept as an alias of a renamed member included)."""
    return {
        stmt.targets[0].id: stmt.value.value
        for stmt in node.body
        if isinstance(stmt, ast.Assign)
        and isinstance(stmt.value, ast.Constant)
        and len(stmt.targets) == 1
        and isinstance(stmt.targets[0], ast.Name)
    }


def _enum_values(members: Mapping[str, Any]) -> list[Any]:
    distinct = {(type(v).__name__, str(v)): v for v in members.values()}
    return [distinct[key] for key in sorted(distinct)]


def _fields(node: ast.ClassDef) -> dict[str, FieldSurface]:
    fields: dict[str, FieldSurface] = {}
    for stmt in node.body:
        if not isinstance(stmt, ast.AnnAssign) or not isinstance(stmt.target, ast.Name):
            continue
        name = stmt.target.id
        if name == "model_config" or name.startswith("_"):
            continue
        annotation = ast.unparse(stmt.annotation)
        if annotation.startswith("ClassVar"):
            continue
        alias = name
        required = stmt.value is None
        value = stmt.value
        if isinstance(value, ast.Call) and ast.unparse(value.func) == "Field":
            default = value.args[0] if value.args else None
            keywords = {kw.arg: kw.value for kw in value.keywords if kw.arg}
            if default is None:
                default = keywords.get("default")
            required = (default is None and "default_factory" not in keywords) or (
                isinstance(default, ast.Constant) and default.value is Ellipsis
            )
            alias_node = keywords.get("serialization_alias") or keywords.get("alias")
            if isinstance(alias_node, ast.Constant) and isinstance(alias_node.value, str):
                alias = alias_node.value
        fields[name] = {"alias": alias, "type": annotation, "required": required}
    return fields


def names_in(annotation: str) -> set[str]:
    return set(_IDENTIFIER.findall(annotation))


def _mark_usage(surface: Surface) -> None:
    """Record, for every model, whether callers send it ("request"), receive it ("response"), both.

    Reached through fields too: a model nested in a response model is a response model.
    """
    models = surface["models"]
    seeds: dict[str, set[str]] = {"request": set(), "response": set()}
    for resource in surface["resources"].values():
        for op in resource["operations"].values():
            for parameter in op["parameters"].values():
                seeds["request"] |= names_in(parameter["type"])
            if op["body"] is not None:
                seeds["request"] |= names_in(op["body"]["type"])
            seeds["response"] |= names_in(op["returns"])
            for annotation in op["errors"].values():
                seeds["response"] |= names_in(annotation)
    for usage, seed in seeds.items():
        pending = [name for name in seed if name in models]
        reached: set[str] = set()
        while pending:
            name = pending.pop()
            if name in reached:
                continue
            reached.add(name)
            model = models[name]
            for annotation in _model_annotations(model):
                pending.extend(n for n in names_in(annotation) if n in models and n not in reached)
        for name in reached:
            models[name]["used_in"].append(usage)
    for model in models.values():
        model["used_in"] = sorted(model["used_in"])


def _model_annotations(model: ModelSurface) -> list[str]:
    if model["kind"] == "model":
        return [field["type"] for field in model["fields"].values()]
    if model["kind"] in ("root", "alias"):
        return [model["type"]]
    return []


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _sorted(value[key]) for key in sorted(value)}
    if isinstance(value, (list, tuple)):
        return [_sorted(v) for v in value]
    return value


# ---- the surface recorded in a generated package ---------------------------------------------
def parse_surface_module(source: str) -> Surface | None:
    """The surface a `_surface.py` text records (parsed, never executed); None when unreadable."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id == SURFACE_VARIABLE
        ):
            try:
                value = json.loads(ast.literal_eval(node.value))
            except (ValueError, SyntaxError, TypeError):
                return None
            if isinstance(value, dict) and value.get("format") == SURFACE_FORMAT and _well_formed(value):
                return cast("Surface", value)
            return None
    return None


def _well_formed(surface: dict[str, Any]) -> bool:
    """The shape `diff.py` and `renames.py` read: a `_surface.py` anyone may have edited is
    ignored, not a crash, when it is anything else."""

    def table(value: Any, of: type = dict) -> bool:
        return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, of) for k, v in value.items())

    resources = surface.get("resources", {})
    if not table(resources) or not table(surface.get("models", {})):
        return False
    for resource in resources.values():
        operations = resource.get("operations", {})
        if not isinstance(resource.get("class", ""), str) or not table(operations):
            return False
        for op in operations.values():
            if not all(isinstance(op.get(key, ""), str) for key in ("method", "path", "returns")):
                return False
            if not table(op.get("parameters", {})) or not isinstance(op.get("errors", {}), dict):
                return False
    for model in surface["models"].values() if "models" in surface else ():
        if not table(model.get("fields", {})) or not isinstance(model.get("kind", ""), str):
            return False
    deprecated = surface.get("deprecated", {})
    return isinstance(deprecated, dict) and all(isinstance(v, dict) for v in deprecated.values())


def read_recorded(package_dir: Path) -> Surface | None:
    """The surface a previously generated package recorded, None when it has none (or when
    `_surface.py` is not a regular file: never a FIFO that would block, never a device)."""
    from .errors import SpecError
    from .load import _read_text

    path = package_dir / SURFACE_FILE
    if path.is_symlink():
        return None  # never read through a link out of the package
    try:
        source = _read_text(path)
    except SpecError:
        return None
    surface = parse_surface_module(source)
    if surface is None:
        return None
    from .diff import compare
    from .renames import plan_aliases

    try:  # every key the change report and the alias planner read, read once on both sides
        compare(surface, surface)
        plan_aliases(surface, surface)
    except (KeyError, TypeError, AttributeError, ValueError, IndexError):
        return None
    return surface


def render_json(api: ApiSpec, models_source: str) -> str:
    """The `_surface.py` payload for render.py: `to_json(extract(api, models_source))`."""
    return to_json(extract(api, models_source))
