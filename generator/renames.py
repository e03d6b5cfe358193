"""Renames between two surfaces, and the deprecated aliases that keep the old names working.

Kibo's specs have no operationIds: a method's name comes from its summary, and Kibo edits summaries;
schemas get renamed with the same properties. A regeneration over an existing package reads the
surface it recorded (`_surface.py`) and pairs what was renamed:

- a method keeps its identity through its route (HTTP method + path, placeholder names ignored);
- a resource (tag) is renamed when every route it had that still exists now lives in one new one;
- a model is renamed when an old name is gone and a new model has the same shape (fields, enum
  values, root type), names of other renamed models mapped through.

Each rename becomes a deprecated alias of the new name, recorded in the new surface's `deprecated`
section, so it survives later regenerations until `--drop-deprecated`.
"""

from __future__ import annotations

import ast
import difflib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .safe import Identifier
from .spec import ApiSpec, MethodAlias, ModelAlias, Resource, ResourceAlias
from .surface import ModelSurface, ResourceSurface, Surface

Route = str  # "GET /carriers/{}": the identity of an operation


def route_of(op: Mapping[str, Any]) -> Route:
    """The identity of a surface's operation: its HTTP method and route shape (build.py's)."""
    from .build_operations import route_shape

    return f"{str(op.get('method', '')).upper()} {route_shape(str(op.get('path', '')))}"


def name_replacer(renames: Mapping[str, str]) -> Callable[[str], str]:
    """Replaces each whole name `renames` has by its new one (`list[Old] | None` → `list[New] | None`)."""
    if not renames:
        return lambda text: text
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, sorted(renames, key=len, reverse=True))) + r")\b")
    return lambda text: pattern.sub(lambda match: renames[match.group(1)], text)


def routes(surface: Surface) -> dict[Route, tuple[str, str]]:
    """route → (resource attribute, method name)."""
    found: dict[Route, tuple[str, str]] = {}
    for resource, entry in sorted((surface.get("resources") or {}).items()):
        for name, op in sorted((entry.get("operations") or {}).items()):
            found.setdefault(route_of(op), (resource, name))
    return found


@dataclass(frozen=True)
class Renames:
    """What was renamed from one surface to the next (old name → new name)."""

    methods: Mapping[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    resources: Mapping[str, str] = field(default_factory=dict)
    models: Mapping[str, str] = field(default_factory=dict)
    enum_members: Mapping[tuple[str, str], str] = field(default_factory=dict)  # (enum now, old member) → member


def find_renames(old: Surface, new: Surface) -> Renames:
    old_routes, new_routes = routes(old), routes(new)
    methods = {
        old_key: new_routes[route]
        for route, old_key in old_routes.items()
        if route in new_routes and new_routes[route] != old_key
    }
    resources: dict[str, str] = {}
    new_resources = set(new.get("resources") or {})
    for resource in sorted(set(old.get("resources") or {}) - new_resources):
        homes = {new_routes[r][0] for r, key in old_routes.items() if key[0] == resource and r in new_routes}
        if len(homes) == 1:
            resources[resource] = homes.pop()
    models = _model_renames(old.get("models") or {}, new.get("models") or {})
    members = _member_renames(old.get("models") or {}, new.get("models") or {}, models)
    return Renames(methods=methods, resources=resources, models=models, enum_members=members)


def members_of(model: ModelSurface | None) -> dict[str, Any]:
    """An enum's member name → value in a surface (empty for anything else)."""
    members = model.get("members") if model is not None and model.get("kind") == "enum" else None
    return dict(members) if isinstance(members, dict) else {}


def _member_renames(
    old: Mapping[str, ModelSurface], new: Mapping[str, ModelSurface], models: Mapping[str, str]
) -> dict[tuple[str, str], str]:
    """Members whose value stayed while their name changed (an `x-enum-varnames` edit)."""
    found: dict[tuple[str, str], str] = {}
    for name, before in old.items():
        enum = models.get(name, name)
        after = members_of(new.get(enum))
        by_value = {json.dumps(value): member for member, value in after.items()}
        for member, value in members_of(before).items():
            current = by_value.get(json.dumps(value))
            if member not in after and current is not None:
                found[(enum, member)] = current
    return found


def _model_renames(old: Mapping[str, ModelSurface], new: Mapping[str, ModelSurface]) -> dict[str, str]:
    """Gone names paired with new names of the same shape; rounds until nothing new pairs, since a
    model's shape names other models (`items: list[ShipmentResponse]`) that may be renamed too."""
    renames: dict[str, str] = {}
    while True:
        gone = sorted(set(old) - set(new) - set(renames))
        fresh = sorted(set(new) - set(old) - set(renames.values()))
        by_shape: dict[str, list[str]] = {}
        for name in fresh:
            by_shape.setdefault(_shape(new[name], name_replacer({})), []).append(name)
        found = False
        rename = name_replacer(renames)
        for name in gone:
            candidates = by_shape.get(_shape(old[name], rename), [])
            if not candidates:
                continue
            # Several of the same shape: the most similar name, deterministically.
            best = max(candidates, key=lambda c: (difflib.SequenceMatcher(None, name, c).ratio(), c))
            renames[name] = best
            candidates.remove(best)
            found = True
        if not found:
            return renames


def _shape(model: ModelSurface, rename: Callable[[str], str]) -> str:
    """A model as its calling code sees it, with renamed model names replaced by their new ones."""
    data = {key: model.get(key) for key in ("kind", "fields", "values", "type")}
    return rename(json.dumps(data, sort_keys=True))


# ---- the aliases a package keeps --------------------------------------------------------------
@dataclass(frozen=True)
class RecordedMethodAlias:
    host: str  # the resource attribute whose class gets the alias
    name: str  # the old method name
    route: Route  # what it calls: the route's current method

    def as_json(self) -> dict[str, str]:
        return {"route": self.route}


@dataclass(frozen=True)
class Aliases:
    """Every deprecated alias a package keeps: old name → what it stands for now."""

    methods: tuple[RecordedMethodAlias, ...] = ()
    resources: Mapping[str, str] = field(default_factory=dict)  # old attribute → resource attribute
    models: Mapping[str, str] = field(default_factory=dict)  # old class → class
    enum_members: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # enum → {old: member}

    def __bool__(self) -> bool:
        return bool(self.methods or self.resources or self.models or self.enum_members)

    def as_json(self) -> dict[str, Any]:
        """The surface's `deprecated` section (what the next regeneration carries on)."""
        methods: dict[str, dict[str, Any]] = {}
        for alias in self.methods:
            methods.setdefault(alias.host, {})[alias.name] = alias.as_json()
        return {
            "enum_members": {enum: dict(names) for enum, names in self.enum_members.items()},
            "methods": methods,
            "models": dict(self.models),
            "resources": dict(self.resources),
        }


NO_ALIASES = Aliases()


def recorded_aliases(surface: Surface | None) -> Aliases:
    """The aliases a surface's `deprecated` section records (malformed parts are ignored)."""
    section = surface.get("deprecated") if surface is not None else None
    if not isinstance(section, dict):
        return NO_ALIASES

    def table(key: str) -> dict[str, Any]:
        value = section.get(key)
        return value if isinstance(value, dict) else {}

    methods = tuple(
        RecordedMethodAlias(str(host), str(name), str(entry["route"]))
        for host, names in table("methods").items()
        if isinstance(names, dict)
        for name, entry in names.items()
        if isinstance(entry, dict) and isinstance(entry.get("route"), str)
    )
    return Aliases(
        methods=methods,
        resources={str(k): str(v) for k, v in table("resources").items()},
        models={str(k): str(v) for k, v in table("models").items()},
        enum_members={
            str(enum): {str(k): str(v) for k, v in names.items()}
            for enum, names in table("enum_members").items()
            if isinstance(names, dict)
        },
    )


def plan_aliases(previous: Surface | None, new: Surface) -> Aliases:
    """The aliases the new package keeps: the renames since `previous`, and the aliases `previous`
    recorded, pointed at today's names. An alias whose target is gone, or whose name is a real
    name again, is dropped (`diff` reports what that breaks)."""
    if previous is None:
        return NO_ALIASES
    renames = find_renames(previous, new)
    carried = recorded_aliases(previous)
    new_routes = routes(new)
    resources_now: dict[str, ResourceSurface] = new.get("resources") or {}
    models_now: dict[str, ModelSurface] = new.get("models") or {}

    # Resources: renamed ones, and recorded ones whose target is renamed (a → b → c: a and b → c).
    resource_aliases: dict[str, str] = {}
    for old, target in [*carried.resources.items(), *renames.resources.items()]:
        target = renames.resources.get(target, target)
        if target in resources_now and old not in resources_now:
            resource_aliases[old] = target

    def method_names(resource: str) -> set[str]:
        found = resources_now.get(resource)
        return set(found.get("operations") or {}) if found is not None else set()

    methods: dict[tuple[str, str], RecordedMethodAlias] = {}
    candidates = [(a.host, a.name, a.route) for a in carried.methods]
    old_routes = routes(previous)
    candidates += [
        (old_resource, old_name, route)
        for route, (old_resource, old_name) in old_routes.items()
        if (old_resource, old_name) in renames.methods
    ]
    for host, name, route in candidates:
        if route not in new_routes:
            continue
        target_resource, target_name = new_routes[route]
        # The alias lives where the old code reaches it: the old resource while it exists (it then
        # calls the new resource's method), else the resource its attribute now stands for.
        if host not in resources_now:
            host = resource_aliases.get(host, target_resource)
        if (host, name) == (target_resource, target_name) or name in method_names(host):
            continue
        methods[(host, name)] = RecordedMethodAlias(host, name, route)

    model_aliases: dict[str, str] = {}
    for old, target in [*carried.models.items(), *renames.models.items()]:
        target = renames.models.get(target, target)
        if target in models_now and old not in models_now:
            model_aliases[old] = target

    members: dict[str, dict[str, str]] = {}
    for enum, names in carried.enum_members.items():
        for old, member in names.items():
            now = renames.models.get(enum, enum)
            members.setdefault(now, {})[old] = renames.enum_members.get((now, member), member)
    for (enum, old), member in renames.enum_members.items():
        members.setdefault(enum, {})[old] = member
    member_aliases = {
        enum: kept
        for enum, names in sorted(members.items())
        if (kept := {
            old: member
            for old, member in sorted(names.items())
            if member in members_of(models_now.get(enum)) and old not in members_of(models_now.get(enum))
        })
    }  # fmt: skip
    return Aliases(
        methods=tuple(sorted(methods.values(), key=lambda a: (a.host, a.name))),
        resources=dict(sorted(resource_aliases.items())),
        models=dict(sorted(model_aliases.items())),
        enum_members=member_aliases,
    )



# ---- the aliases in the IR ---------------------------------------------------------------------
def _safe(name: str, taken: set[str]) -> Identifier | None:
    """`name` as an alias name: an identifier that is not private and not taken (None otherwise).

    Names come from the previous package's `_surface.py`, a file anyone could have edited."""
    try:
        identifier = Identifier(name)
    except ValueError:
        return None
    return None if name.startswith("_") or name in taken else identifier


def _stable_class_names(api: ApiSpec, previous: Surface | None, module_names: set[str]) -> ApiSpec:
    """A resource keeps the class name it had (a model renamed away from `CarrierConfiguration`
    must not rename `CarrierConfigurationResource`), when that name is still free."""
    before = (previous.get("resources") or {}) if previous is not None else {}
    taken = set(api.model_names) | module_names
    taken |= {name for resource in api.resources for name in resource.class_names}
    resources = []
    for resource in api.resources:
        recorded = before.get(resource.py_name)
        old = recorded.get("class") if recorded is not None else None
        name = _safe(old, taken) if isinstance(old, str) and old != resource.class_name else None
        if name is not None and f"Async{name}" not in taken:
            taken |= {name, f"Async{name}"}
            resource = replace(resource, class_name=name)
        resources.append(resource)
    return replace(api, resources=tuple(resources))


def apply_aliases(api: ApiSpec, aliases: Aliases, models_source: str, previous: Surface | None = None) -> ApiSpec:
    """`api` with the aliases placed: on resource classes, on the clients, in models.py."""
    from .build import RESERVED_CLIENT_ATTRIBUTES
    from .signature_types import RESERVED_CLASS_NAMES

    module_names = _top_level_names(models_source)
    api = _stable_class_names(api, previous, module_names)

    by_route = {
        route_of({"method": op.method.value, "path": op.path}): (resource, op)
        for resource in api.resources
        for op in resource.operations
    }
    by_attribute: dict[str, Resource] = {resource.py_name: resource for resource in api.resources}
    placed: dict[str, list[MethodAlias]] = {}
    kept_methods: list[RecordedMethodAlias] = []
    for alias in aliases.methods:
        host = by_attribute.get(alias.host)
        if host is None or alias.route not in by_route:
            continue
        home, target = by_route[alias.route]
        taken = {op.py_name for op in host.operations} | {a.py_name for a in placed.get(host.py_name, [])}
        name = _safe(alias.name, taken | {"with_raw_response"})
        if name is None:
            continue
        elsewhere = home.py_name != host.py_name
        placed.setdefault(host.py_name, []).append(
            MethodAlias(
                py_name=name,
                target=target,
                target_module=home.module if elsewhere else None,
                target_class=home.class_name if elsewhere else None,
            )
        )
        kept_methods.append(alias)
    resources = tuple(
        replace(resource, aliases=tuple(placed.get(resource.py_name, ()))) for resource in api.resources
    )
    taken_attributes = set(by_attribute) | set(RESERVED_CLIENT_ATTRIBUTES)
    resource_aliases: list[ResourceAlias] = []
    for old, target_attribute in aliases.resources.items():
        name = _safe(old, taken_attributes)
        if name is not None and target_attribute in by_attribute:
            resource_aliases.append(ResourceAlias(name, by_attribute[target_attribute].py_name))
            taken_attributes.add(name)
    model_names = set(api.model_names) | module_names | set(RESERVED_CLASS_NAMES)
    request_only = set(api.request_only_models)
    model_aliases: list[ModelAlias] = []
    for old, target_model in aliases.models.items():
        name = _safe(old, model_names)
        if name is not None and target_model in api.model_names:
            model_aliases.append(ModelAlias(name, Identifier(target_model), target_model in request_only))
            model_names.add(name)
    document, member_aliases = _with_member_aliases(api.models_document, aliases.enum_members, models_source)
    kept = Aliases(
        methods=tuple(kept_methods),
        resources={a.py_name: a.target for a in resource_aliases},
        models={a.py_name: a.target for a in model_aliases},
        enum_members=member_aliases,
    )
    return replace(
        api,
        resources=resources,
        resource_aliases=tuple(resource_aliases),
        model_aliases=tuple(model_aliases),
        aliases_record=kept.as_json() if kept else {},
        models_document=document,
    )


def _with_member_aliases(
    document: dict[str, Any], wanted: Mapping[str, Mapping[str, str]], models_source: str
) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
    """The models document with each old enum member name kept: the member's value once more in
    the enum, named by `x-enum-varnames` (Python makes a repeated value an alias of the member).
    Returns the document (unchanged without aliases) and the aliases it holds."""
    from .surface import _models

    if not wanted:
        return document, {}
    schemas = dict(document.get("components", {}).get("schemas") or {})
    models = _models(models_source)
    placed: dict[str, dict[str, str]] = {}
    for enum, names in wanted.items():
        schema = schemas.get(enum)
        if not isinstance(schema, dict):
            continue
        members = members_of(models.get(enum))
        values = schema.get("enum")
        name_of = {json.dumps(value): member for member, value in reversed(list(members.items()))}
        if not isinstance(values, list) or any(json.dumps(v) not in name_of for v in values):
            continue
        kept = {
            old: member
            for old, member in names.items()
            if member in members and _safe(old, set(members) | {"mro"}) is not None
        }
        if kept:
            varnames = [name_of[json.dumps(v)] for v in values] + list(kept)
            schemas[enum] = {**schema, "enum": [*values, *(members[m] for m in kept.values())],
                             "x-enum-varnames": varnames}  # fmt: skip
            placed[enum] = kept
    if not placed:
        return document, {}
    return {**document, "components": {**document.get("components", {}), "schemas": schemas}}, placed


def _top_level_names(source: str) -> set[str]:
    """Every name models.py binds at its top level (imports included)."""
    names: set[str] = set()
    for node in ast.parse(source).body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names
