"""The API change report: what changed between two surfaces, judged from the calling code's side.

`python -m generator diff OLD NEW` compares two specs; `python -m generator` compares the package
it is about to write with the surface the previous package recorded (`_surface.py`). Every change is
breaking (code that used the old package may fail: a removed method, a new required parameter, a
narrowed input type, a removed response field, ...) or compatible (a new method, a new optional
parameter, a new response field — models keep unknown fields anyway — a new enum value, ...).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import Problem, SpecError
from .limits import DEFAULT_LIMITS, Limits
from .renames import find_renames, members_of, name_replacer, recorded_aliases, route_of
from .surface import (
    SURFACE_FILE,
    BodySurface,
    FieldSurface,
    ModelSurface,
    OperationSurface,
    ParameterSurface,
    ResourceSurface,
    SecuritySchemeSurface,
    Surface,
    parse_surface_module,
)

K = TypeVar("K", str, tuple[str, str])

if TYPE_CHECKING:
    from .load import LoadedSpec

FORMAT_VERSION = 1
_GROUP_RANK = {"package": 0, "client": 1, "model": 2, "servers": 3, "security": 4, "deprecated": 5}


@dataclass(frozen=True, order=True)
class Change:
    group: str  # "package", "client.<resource>", "model <Name>", "servers", "security"
    subject: str  # what the user's code names: a method, `method(param=)`, a field, a server ...
    kind: str  # added | removed | renamed | changed
    breaking: bool
    message: str

    @property
    def fingerprint(self) -> str:
        """Stable id of this change (the same change in another run, or another report, has it)."""
        text = "\0".join((self.group, self.subject, self.kind, self.message))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    def as_json(self) -> dict[str, Any]:
        return {
            "breaking": self.breaking,
            "fingerprint": self.fingerprint,
            "group": self.group,
            "kind": self.kind,
            "message": self.message,
            "subject": self.subject,
        }


@dataclass(frozen=True)
class Report:
    old: Mapping[str, Any]  # package, package_version, spec_version of each side
    new: Mapping[str, Any]
    changes: tuple[Change, ...]

    @property
    def breaking(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.breaking)

    @property
    def compatible(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if not c.breaking)

    @property
    def bump(self) -> str:
        """Semantic-version bump for the vendored package: major / minor / patch, or none."""
        if self.breaking:
            return "major"
        if any(c.kind in ("added", "renamed") for c in self.changes):
            return "minor"  # a rename adds a name (the old one stays, deprecated)
        return "patch" if self.changes else "none"

    @property
    def suggested_version(self) -> str:
        version = str(self.old.get("package_version") or "0.0.0")
        return version if self.bump == "none" else bump_version(version, self.bump)

    def as_json(self) -> dict[str, Any]:
        return {
            "breaking": len(self.breaking),
            "bump": self.bump,
            "changes": [c.as_json() for c in self.changes],
            "compatible": len(self.compatible),
            "format": FORMAT_VERSION,
            "new": dict(self.new),
            "old": dict(self.old),
            "suggested_version": self.suggested_version,
        }

    def to_json(self) -> str:
        return json.dumps(self.as_json(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    def lines(self) -> list[str]:
        out = [
            f"API changes: {_side(self.old)} → {_side(self.new)}",
        ]
        if not self.changes:
            out.append("  no changes to the generated client's public API")
        group = None
        for change in self.changes:
            if change.group != group:
                group = change.group
                out.append(group)
            mark = "BREAKING  " if change.breaking else "compatible"
            out.append(f"  {mark}  {change.subject}: {change.message}")
        out.append(
            f"{len(self.breaking)} breaking, {len(self.compatible)} compatible → suggested version "
            f"bump: {self.bump} ({self.old.get('package_version')} → {self.suggested_version})"
        )
        return out

    def text(self) -> str:
        return "\n".join(self.lines()) + "\n"


def _side(meta: Mapping[str, Any]) -> str:
    return f"{meta.get('package')} {meta.get('package_version')} (spec {meta.get('spec_version')})"


def bump_version(version: str, level: str) -> str:
    """`1.4.2` + major → `2.0.0`; a version that is not X[.Y[.Z]] gets the level appended."""
    match = re.match(r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?", version.strip())
    if not match:
        return f"{version}+{level}"
    major, minor, patch = (int(part or 0) for part in match.groups())
    if level == "major":
        return f"{major + 1}.0.0"
    if level == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


def version_tuple(version: str) -> tuple[int, int, int] | None:
    match = re.match(r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?", version.strip())
    if not match:
        return None
    major, minor, patch = (int(part or 0) for part in match.groups())
    return major, minor, patch


# ---- types -------------------------------------------------------------------------------------
def union_members(annotation: str) -> frozenset[str]:
    """Top-level members of a `A | B[C | D] | None` annotation."""
    members: list[str] = []
    depth = 0
    current = ""
    for char in annotation:
        if char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
        if char == "|" and depth == 0:
            members.append(current.strip())
            current = ""
        else:
            current += char
    members.append(current.strip())
    return frozenset(m for m in members if m)


def _covers(wide: str, narrow: str) -> bool:
    """Every value of type `narrow` is a value of type `wide` (as far as the annotations tell)."""
    wide_members = union_members(wide)
    if "Any" in wide_members:
        return True
    for member in union_members(narrow):
        if member in wide_members:
            continue
        if member == "int" and "float" in wide_members:
            continue
        return False
    return True


def _judge_type(old: str, new: str, usage: Iterable[str]) -> tuple[bool, str]:
    """(breaking, word) for a type change of something the caller sends and/or receives."""
    widened, narrowed = _covers(new, old), _covers(old, new)
    word = "widened" if widened else "narrowed" if narrowed else "changed"
    breaking = False
    for direction in set(usage) or {"request", "response"}:
        if direction == "request" and not widened:
            breaking = True  # a value the caller used to pass may be refused now
        if direction == "response" and not narrowed:
            breaking = True  # the caller may receive values its code does not expect
    return breaking, word


# ---- comparison --------------------------------------------------------------------------------
class _Changes:
    """Collects the changes of one group (a resource, a model, servers, security)."""

    def __init__(self, group: str) -> None:
        self.group = group
        self.items: list[Change] = []

    def breaking(self, subject: str, kind: str, message: str) -> None:
        self.items.append(Change(self.group, subject, kind, True, message))

    def compatible(self, subject: str, kind: str, message: str) -> None:
        self.items.append(Change(self.group, subject, kind, False, message))

    def add(self, subject: str, kind: str, breaking: bool, message: str) -> None:
        self.items.append(Change(self.group, subject, kind, breaking, message))


def _order(change: Change) -> tuple[int, str, str, str, str]:
    rank = _GROUP_RANK.get(change.group.split(" ")[0].split(".")[0], 9)
    return rank, change.group, change.subject, change.kind, change.message


def compare(old: Surface, new: Surface) -> Report:
    """Every change from `old` to `new`, ordered: client, resources, models, servers, security."""
    changes: list[Change] = []
    # A model renamed without a change of shape is one change (reported under its old name);
    # the annotations naming it are not changed types.
    old = _with_renamed_types(old, find_renames(old, new).models)
    changes += _client(old, new)
    changes += _operations(old, new)
    changes += _models(old, new)
    changes += _servers(old.get("servers") or [], new.get("servers") or [])
    changes += _security(old, new)
    changes += _dropped_aliases(old, new)
    ordered = sorted(set(changes), key=_order)
    return Report(old=_meta(old), new=_meta(new), changes=tuple(ordered))


def _with_renamed_types(surface: Surface, renames: Mapping[str, str]) -> Surface:
    """`surface` with every annotation (`type`, `returns`, `errors`) naming models by `renames`."""
    if not renames:
        return surface
    replace_names = name_replacer(renames)

    def rename(text: Any) -> Any:
        return replace_names(text) if isinstance(text, str) else text

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(item) for item in node]
        if not isinstance(node, dict):
            return node
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in ("type", "returns"):
                out[key] = rename(value)
            elif key == "errors" and isinstance(value, dict):
                out[key] = {status: rename(annotation) for status, annotation in value.items()}
            else:
                out[key] = walk(value)
        return out

    result: Surface = walk(surface)
    return result


def _meta(surface: Surface) -> dict[str, Any]:
    return {key: surface.get(key) for key in ("package", "package_version", "spec_version")}


def _client(old: Surface, new: Surface) -> list[Change]:
    out = _Changes("client")
    before = (old.get("client") or {}).get("error_model")
    after = (new.get("client") or {}).get("error_model")
    subject = "APIStatusError.error"
    if before is None and after is not None:
        out.compatible(subject, "changed", f"error bodies are now parsed as {after}")
    elif before is not None and after is None:
        out.breaking(
            subject, "changed", f"error bodies are no longer parsed as {before} (now None)"
        )
    elif before != after:
        out.breaking(subject, "changed", f"error bodies are now parsed as {after}, not {before}")
    return out.items




def _all_operations(surface: Surface) -> dict[tuple[str, str], OperationSurface]:
    """(resource attribute, method name) → operation."""
    found: dict[tuple[str, str], OperationSurface] = {}
    for resource_name, resource in (surface.get("resources") or {}).items():
        for op_name, op in (resource.get("operations") or {}).items():
            found[(resource_name, op_name)] = op
    return found


_KEPT = "old name kept as a deprecated alias"


def _operations(old: Surface, new: Surface) -> list[Change]:
    changes: list[Change] = []
    kept = recorded_aliases(new)
    kept_methods = {(alias.host, alias.name) for alias in kept.methods}
    old_resources: dict[str, ResourceSurface] = old.get("resources") or {}
    new_resources: dict[str, ResourceSurface] = new.get("resources") or {}
    for name in sorted(set(old_resources) | set(new_resources)):
        out = _Changes(f"client.{name}")
        if name not in old_resources:
            out.compatible(
                f"client.{name}", "added", f"new resource ({new_resources[name]['class']})"
            )
        elif name in kept.resources:
            text = f"renamed `client.{name}` → `client.{kept.resources[name]}`; {_KEPT}"
            out.compatible(f"client.{name}", "renamed", text)
        elif name not in new_resources:
            out.breaking(f"client.{name}", "removed", "resource removed")
        elif old_resources[name]["class"] != new_resources[name]["class"]:
            before, after = old_resources[name]["class"], new_resources[name]["class"]
            out.breaking(f"client.{name}", "renamed", f"resource class {before} is now {after}")
        changes += out.items

    # Operations are the same operation when their route is (a new summary renames the method),
    # else when their method name is (the route moved).
    old_ops, new_ops = _all_operations(old), _all_operations(new)
    pairs, removed, added = _match(old_ops, new_ops, route_of)
    for resource, name in added:
        op = new_ops[(resource, name)]
        out = _Changes(f"client.{resource}")
        out.compatible(f"{name}()", "added", f"new method ({op['method']} {op['path']})")
        changes += out.items
    for resource, name in removed:
        op = old_ops[(resource, name)]
        out = _Changes(f"client.{resource}")
        out.breaking(f"{name}()", "removed", f"method removed ({op['method']} {op['path']})")
        changes += out.items
    for old_key, new_key in pairs:
        resource, name = old_key
        alias_kept = old_key in kept_methods or (kept.resources.get(resource, resource), name) in kept_methods
        resource_renamed = kept.resources.get(resource) == new_key[0]
        changes += _operation(old_key, old_ops[old_key], new_key, new_ops[new_key], alias_kept, resource_renamed)
    return changes


def _operation(
    old_key: tuple[str, str],
    old: OperationSurface,
    new_key: tuple[str, str],
    new: OperationSurface,
    alias_kept: bool = False,
    resource_renamed: bool = False,  # kept as an alias: its methods need no line of their own
) -> list[Change]:
    out = _Changes(f"client.{new_key[0]}")
    name = new_key[1]
    subject = f"{name}()"
    if old_key != new_key and not (old_key[1] == new_key[1] and resource_renamed):
        was = f"client.{old_key[0]}.{old_key[1]}()"
        route = f"{new['method']} {new['path']}"
        if alias_kept:
            out.compatible(subject, "renamed", f"renamed `{was}` → `{name}()` ({route}); {_KEPT}")
        else:
            out.breaking(subject, "renamed", f"renamed `{was}` → `{name}()` ({route}); the old name is gone")
    if route_of(old) != route_of(new):
        was = f"{old['method']} {old['path']}"
        out.compatible(subject, "changed", f"now calls {new['method']} {new['path']} (was {was})")
    _parameters(out, name, old.get("parameters") or {}, new.get("parameters") or {})
    _body(out, name, old.get("body"), new.get("body"))
    before, after = str(old.get("returns")), str(new.get("returns"))
    if before != after:
        breaking, word = _judge_type(before, after, ["response"])
        out.add(subject, "changed", breaking, f"return type {word}: {before} → {after}")
    _security_requirements(out, subject, old.get("security") or [], new.get("security") or [])
    if old.get("servers") != new.get("servers"):
        listed = ", ".join(new.get("servers") or []) or "the client's base URL"
        out.compatible(subject, "changed", f"now sent to {listed}")
    if old.get("deprecated") != new.get("deprecated"):
        out.compatible(
            subject, "changed", "deprecated" if new.get("deprecated") else "no longer deprecated"
        )
    return out.items


def _identity_of(*names: str) -> Callable[[Mapping[str, Any]], Hashable]:
    """An identity made of some of an entry's fields."""
    return lambda entry: tuple(entry.get(name) for name in names)


def _match(
    old: Mapping[K, Mapping[str, Any]],
    new: Mapping[K, Mapping[str, Any]],
    identity: Callable[[Mapping[str, Any]], Hashable],
    shape: tuple[str, ...] = (),
) -> tuple[list[tuple[K, K]], list[K], list[K]]:
    """Pair entries keyed by Python name: by their wire identity first, then by Python name, then
    (a rename) one removed and one added entry of the same `shape` when neither has a rival.

    Returns (pairs, removed, added), each sorted.
    """

    pairs: list[tuple[K, K]] = []
    old_left, new_left = dict(old), dict(new)
    # Same name and identity first: two routes of one shape (`/items/{lineId}`, `/items/{itemId}`)
    # are both kept by name, not crossed over.
    for key, entry in old.items():
        if key in new_left and identity(new_left[key]) == identity(entry):
            pairs.append((key, key))
            del old_left[key], new_left[key]
    by_identity: dict[Hashable, list[K]] = {}
    for key, entry in sorted(new_left.items()):
        by_identity.setdefault(identity(entry), []).append(key)
    for key, entry in sorted(old_left.items()):
        candidates = by_identity.get(identity(entry))
        if candidates:
            target = candidates.pop(0)
            pairs.append((key, target))
            del old_left[key], new_left[target]
    for key in list(old_left):
        if key in new_left:
            pairs.append((key, key))
            del old_left[key], new_left[key]
    if shape:

        def shape_of(entry: Mapping[str, Any]) -> tuple[Any, ...]:
            return tuple(entry.get(k) for k in shape)

        for key in sorted(old_left):
            wanted = shape_of(old_left[key])
            rivals = [k for k, entry in old_left.items() if shape_of(entry) == wanted]
            candidates = [k for k, entry in new_left.items() if shape_of(entry) == wanted]
            if len(rivals) == 1 and len(candidates) == 1:
                pairs.append((key, candidates[0]))
                del old_left[key], new_left[candidates[0]]
    return sorted(pairs), sorted(old_left), sorted(new_left)


def _parameters(
    out: _Changes, op: str, old: Mapping[str, ParameterSurface], new: Mapping[str, ParameterSurface]
) -> None:
    pairs, removed, added = _match(old, new, _identity_of("name", "in"), shape=("in", "required", "type"))
    for key in added:
        p = new[key]
        what = f"({p['in']} `{p['name']}`: {p['type']})"
        if p["required"]:
            out.breaking(f"{op}({key}=)", "added", f"new required parameter {what}")
        else:
            out.compatible(f"{op}({key}=)", "added", f"new optional parameter {what}")
    for key in removed:
        p = old[key]
        out.breaking(f"{op}({key}=)", "removed", f"parameter removed ({p['in']} `{p['name']}`)")
    for before_key, after_key in pairs:
        before, after = old[before_key], new[after_key]
        subject = f"{op}({after_key}=)"
        if before_key != after_key:
            out.breaking(subject, "renamed", f"parameter renamed: was {before_key}=")
        if (before["name"], before["in"]) != (after["name"], after["in"]):
            was = f"{before['in']} `{before['name']}`"
            out.compatible(
                subject, "changed", f"now sent as {after['in']} `{after['name']}` (was {was})"
            )
        if before["required"] != after["required"]:
            if after["required"]:
                out.breaking(subject, "changed", "parameter is now required")
            else:
                out.compatible(subject, "changed", "parameter is now optional")
        if before["type"] != after["type"]:
            breaking, word = _judge_type(before["type"], after["type"], ["request"])
            out.add(
                subject, "changed", breaking, f"type {word}: {before['type']} → {after['type']}"
            )


def _body(
    out: _Changes, op: str, old: BodySurface | None, new: BodySurface | None
) -> None:
    subject = f"{op}(body=)"
    if old is None and new is not None:
        required = bool(new["required"])
        text = f"new {'required' if required else 'optional'} request body ({new['type']})"
        out.add(subject, "added", required, text)
    elif old is not None and new is None:
        out.breaking(subject, "removed", "request body removed")
    elif old is not None and new is not None:
        if old["required"] != new["required"]:
            if new["required"]:
                out.breaking(subject, "changed", "request body is now required")
            else:
                out.compatible(subject, "changed", "request body is now optional")
        if old["type"] != new["type"]:
            breaking, word = _judge_type(old["type"], new["type"], ["request"])
            out.add(subject, "changed", breaking, f"type {word}: {old['type']} → {new['type']}")
        if old.get("content_type") != new.get("content_type"):
            was = old.get("content_type")
            out.compatible(subject, "changed", f"now sent as {new.get('content_type')} (was {was})")


def _usage_words(usage: Iterable[str]) -> str:
    found = sorted(set(usage))
    return " and ".join(found) if found else "not used by any operation"


def _models(old: Surface, new: Surface) -> list[Change]:
    changes: list[_Changes] = []
    old_models: dict[str, ModelSurface] = old.get("models") or {}
    new_models: dict[str, ModelSurface] = new.get("models") or {}
    kept = recorded_aliases(new).models
    renamed = find_renames(old, new).models  # same shape, new name: one change, not removed + added
    for name in sorted(set(old_models) | set(new_models)):
        out = _Changes(f"model {name}")
        changes.append(out)
        if name in renamed.values():
            continue  # reported under its old name
        if name in renamed:
            target = renamed[name]
            if kept.get(name) == target:
                out.compatible(name, "renamed", f"renamed `{name}` → `{target}`; {_KEPT}")
            else:
                out.breaking(name, "renamed", f"renamed `{name}` → `{target}`; the old name is gone")
            continue
        if name not in old_models:
            model = new_models[name]
            usage = _usage_words(model.get("used_in") or [])
            out.compatible(name, "added", f"new {model['kind']} ({usage})")
            continue
        if name not in new_models:
            kind = old_models[name]["kind"]
            out.breaking(name, "removed", f"{kind} removed (imports of {name} fail)")
            continue
        before, after = old_models[name], new_models[name]
        used_in = set(before.get("used_in") or []) | set(after.get("used_in") or [])
        if before["kind"] != after["kind"]:
            out.breaking(name, "changed", f"was a {before['kind']}, now a {after['kind']}")
        elif after["kind"] == "model":
            _fields(out, before.get("fields") or {}, after.get("fields") or {}, used_in)
        elif after["kind"] == "enum":
            old_values, new_values = before.get("values") or [], after.get("values") or []
            for value in new_values:
                if value not in old_values:
                    out.compatible(repr(value), "added", "new enum value")
            for value in old_values:
                if value not in new_values:
                    out.breaking(repr(value), "removed", "enum value removed")
            _members(out, members_of(before), members_of(after))
        elif before.get("type") != after.get("type"):
            old_type, new_type = str(before.get("type")), str(after.get("type"))
            breaking, word = _judge_type(old_type, new_type, used_in)
            out.add(name, "changed", breaking, f"type {word}: {old_type} → {new_type}")
    return [change for out in changes for change in out.items]


def _members(out: _Changes, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    """Enum members renamed with their value kept (`Status.OLD` → `Status.NEW`)."""
    old_by_value = {json.dumps(value): member for member, value in old.items()}
    for member, value in new.items():
        was = old_by_value.get(json.dumps(value))
        if member in old or was is None or was == member:
            continue
        if was in new:
            out.compatible(member, "renamed", f"renamed member `{was}` → `{member}`; {_KEPT}")
        else:
            out.breaking(member, "renamed", f"renamed member `{was}` → `{member}`; the old name is gone")


def _fields(
    out: _Changes, old: Mapping[str, FieldSurface], new: Mapping[str, FieldSurface], usage: set[str]
) -> None:
    # A model no operation uses may be built or read by the user's code: judge it both ways.
    sent = "request" in usage or not usage
    received = "response" in usage or not usage
    pairs, removed, added = _match(old, new, _identity_of("alias"), shape=("required", "type"))
    for key in added:
        field = new[key]
        required = bool(field["required"])
        what = "required" if required else "optional"
        text = f"new {what} field `{key}: {field['type']}` (wire `{field['alias']}`)"
        if required and sent:
            out.breaking(key, "added", text + "; building the model without it fails")
        else:
            out.compatible(key, "added", text)
    for key in removed:
        out.breaking(key, "removed", f"field removed (wire `{old[key]['alias']}`)")
    for before_key, after_key in pairs:
        before, after = old[before_key], new[after_key]
        if before_key != after_key:
            out.breaking(after_key, "renamed", f"field renamed: was `{before_key}`")
        if before["alias"] != after["alias"]:
            text = f"wire name now `{after['alias']}` (was `{before['alias']}`)"
            out.compatible(after_key, "changed", text)
        if before["required"] != after["required"]:
            if after["required"]:
                hint = " (building the model without it fails)" if sent else ""
                out.add(after_key, "changed", sent, "field is now required" + hint)
            else:
                hint = " (responses may leave it out)" if received else ""
                out.add(after_key, "changed", received, "field is now optional" + hint)
        if before["type"] != after["type"]:
            breaking, word = _judge_type(before["type"], after["type"], usage)
            out.add(
                after_key, "changed", breaking, f"type {word}: {before['type']} → {after['type']}"
            )


def _dropped_aliases(old: Surface, new: Surface) -> list[Change]:
    """Deprecated aliases the old package had that the new one does not (`--drop-deprecated`)."""
    before, after = recorded_aliases(old), recorded_aliases(new)
    out = _Changes("deprecated aliases")
    kept = {(a.host, a.name) for a in after.methods}
    for alias in before.methods:
        if (alias.host, alias.name) not in kept and alias.name not in _method_names(new, alias.host):
            out.breaking(f"client.{alias.host}.{alias.name}()", "removed", "deprecated alias removed")
    for name in sorted(set(before.resources) - set(after.resources) - set(new.get("resources") or {})):
        out.breaking(f"client.{name}", "removed", "deprecated alias removed")
    for name in sorted(set(before.models) - set(after.models) - set(new.get("models") or {})):
        out.breaking(name, "removed", "deprecated alias removed (imports of it fail)")
    for enum, names in sorted(before.enum_members.items()):
        now = members_of((new.get("models") or {}).get(enum))
        for old_name in sorted(set(names) - set(now)):
            out.breaking(f"{enum}.{old_name}", "removed", "deprecated alias of an enum member removed")
    return out.items


def _method_names(surface: Surface, resource: str) -> set[str]:
    found = (surface.get("resources") or {}).get(resource)
    return set(found.get("operations") or {}) if found is not None else set()


def _servers(old: list[Any], new: list[Any]) -> list[Change]:
    out = _Changes("servers")
    old_by_url = {server["url"]: (index, server) for index, server in enumerate(old)}
    new_by_url = {server["url"]: (index, server) for index, server in enumerate(new)}
    if old and new and old[0]["url"] != new[0]["url"]:
        text = f"now {new[0]['url']} (was {old[0]['url']})"
        out.breaking("Client() default base URL", "changed", text)
    for url, (index, server) in new_by_url.items():
        if url not in old_by_url:
            # Inserted before existing servers: Client(server=INDEX) picks another one now.
            shifts = index < len(old)
            text = f"new server #{index} ({server['description'] or 'no description'})"
            out.add(url, "added", shifts, text + ("; later server indexes shift" if shifts else ""))
    for url, (index, server) in old_by_url.items():
        if url not in new_by_url:
            out.breaking(url, "removed", f"server #{index} removed ({server['description']})")
            continue
        after = new_by_url[url][1]
        if server["description"] != after["description"]:
            text = f"description now {after['description']!r} (Client(server=...) picks by it)"
            out.breaking(url, "changed", text)
        _server_variables(out, url, server.get("variables") or {}, after.get("variables") or {})
    return out.items


def _server_variables(
    out: _Changes, url: str, old: Mapping[str, Any], new: Mapping[str, Any]
) -> None:
    for key in sorted(set(old) | set(new)):
        subject = f"{url} {key}="
        if key not in old:
            default = new[key].get("default")
            if default is None:
                out.breaking(subject, "added", "new server variable without a default")
            else:
                out.compatible(subject, "added", f"new server variable (default {default!r})")
            continue
        if key not in new:
            out.breaking(subject, "removed", "server variable removed")
            continue
        before, after = old[key], new[key]
        if before.get("default") != after.get("default"):
            text = f"default now {after.get('default')!r} (was {before.get('default')!r})"
            out.breaking(subject, "changed", text)
        old_enum, new_enum = before.get("enum") or [], after.get("enum") or []
        if old_enum and not new_enum:
            out.compatible(subject, "changed", "any value is accepted now")
        elif new_enum and not old_enum:
            out.breaking(subject, "changed", f"only {', '.join(map(repr, new_enum))} allowed now")
        else:
            for value in new_enum:
                if value not in old_enum:
                    out.compatible(subject, "added", f"new allowed value {value!r}")
            for value in old_enum:
                if value not in new_enum:
                    out.breaking(subject, "removed", f"value {value!r} no longer allowed")


def _security(old: Surface, new: Surface) -> list[Change]:
    out = _Changes("security")
    old_schemes: dict[str, SecuritySchemeSurface] = old.get("security_schemes") or {}
    new_schemes: dict[str, SecuritySchemeSurface] = new.get("security_schemes") or {}
    for name in sorted(set(old_schemes) | set(new_schemes)):
        if name not in old_schemes:
            out.compatible(name, "added", f"new security scheme ({_scheme(new_schemes[name])})")
        elif name not in new_schemes:
            out.breaking(name, "removed", "security scheme removed")
        elif old_schemes[name] != new_schemes[name]:
            was = _scheme(old_schemes[name])
            out.breaking(name, "changed", f"now {_scheme(new_schemes[name])} (was {was})")
    before, after = old.get("default_security") or [], new.get("default_security") or []
    _security_requirements(out, "default security", before, after)
    return out.items


def _scheme(scheme: Mapping[str, Any]) -> str:
    if scheme.get("type") == "http":
        return f"http {scheme.get('scheme')}"
    if scheme.get("type") == "apiKey":
        return f"apiKey in {scheme.get('in')} `{scheme.get('name')}`"
    return str(scheme.get("type"))


def _requirements_text(requirements: list[list[str]]) -> str:
    if not requirements:
        return "none"
    return " or ".join(" + ".join(alternative) or "no auth" for alternative in requirements)


def _security_requirements(
    out: _Changes, subject: str, old: list[list[str]], new: list[list[str]]
) -> None:
    old_set = {tuple(a) for a in old}
    new_set = {tuple(a) for a in new}
    if old_set == new_set:
        return
    # Callers keep working when every way they authenticated before still works, or none is needed.
    relaxed = not new_set or () in new_set or old_set <= new_set
    text = f"security now {_requirements_text(new)} (was {_requirements_text(old)})"
    out.add(subject, "changed", not relaxed, text)


# ---- entry points ------------------------------------------------------------------------------
def surface_of(
    loaded: LoadedSpec, package_name: str, previous: Surface | None = None, drop_deprecated: bool = False
) -> Surface:
    """Build and model one loaded spec and return its surface (SpecError on bad input); with
    `previous`, the surface a regeneration over that package gives (its deprecated aliases)."""
    from .build import build_api
    from .models import generate_models
    from .pipeline import BuildOptions, _with_aliases
    from .surface import extract

    api = build_api(loaded, package_name)
    models_source, _ = generate_models(api)  # the report is about the API, not the warnings
    if previous is not None:
        api = _with_aliases(api, models_source, BuildOptions(previous=previous, drop_deprecated=drop_deprecated))
    return extract(api, models_source)


def diff_specs(
    old_spec: Path,
    new_spec: Path,
    package_name: str | None = None,
    *,
    limits: Limits = DEFAULT_LIMITS,
    drop_deprecated: bool = False,
) -> Report:
    """Compare two spec files as a regeneration would: the package from NEW_SPEC replacing the one
    from OLD_SPEC, renamed names kept as deprecated aliases (unless `drop_deprecated`). Every
    problem of both files is reported at once.

    Both sides get one package name (default: from NEW_SPEC's title): the report is about the API
    inside the package, which the user vendors under a name of their choosing.
    """
    from .load import load_spec

    problems: list[Problem] = []
    loaded: list[LoadedSpec] = []
    for path in (old_spec, new_spec):
        try:
            loaded.append(load_spec(path, limits=limits))
        except SpecError as exc:
            problems.extend(exc.problems)
    if problems:
        raise SpecError(problems)
    from .build import resolve_package_name

    package_name = resolve_package_name(loaded[1], package_name)
    try:
        old_surface = surface_of(loaded[0], package_name)
    except SpecError as exc:
        problems.extend(exc.problems)
        old_surface = None
    try:
        new_surface = surface_of(loaded[1], package_name, old_surface, drop_deprecated)
    except SpecError as exc:
        problems.extend(exc.problems)
    if problems or old_surface is None:
        raise SpecError(problems)
    return compare(old_surface, new_surface)


def regeneration_lines(package_dir: Path, files: Mapping[str, bytes], previous: Surface | None) -> list[str]:
    """What `python -m generator` says about the package it replaces (call before the swap);
    `previous` is the surface that package recorded (`surface.read_recorded`), None without one."""
    if not package_dir.is_dir() or SURFACE_FILE not in files:
        return []
    if previous is None:
        return [
            f"api changes: {package_dir.name} recorded no API surface before; "
            "the next regeneration will compare"
        ]
    current = parse_surface_module(files[SURFACE_FILE].decode("utf-8"))
    if current is None:  # pragma: no cover - we just rendered it
        return []
    report = compare(previous, current)
    lines = report.lines() if report.changes or previous != current else []
    old_version = str(previous.get("package_version") or "")
    new_version = str(current.get("package_version") or "")
    if not report.changes:
        if old_version != new_version:
            return [f"api changes: none; package version {old_version} → {new_version}"]
        return ["api changes: none"]
    suggested = version_tuple(report.suggested_version)
    written = version_tuple(new_version)
    if new_version == old_version:
        lines.append(
            f"  the package still says {new_version}: set "
            f"`info.x-package-version: {report.suggested_version}` in the spec and regenerate"
        )
    elif suggested is not None and written is not None and written < suggested:
        lines.append(
            f"  warning: package version {old_version} → {new_version} is less than the suggested "
            f"{report.suggested_version}"
        )
    else:
        lines.append(f"  package version {old_version} → {new_version}")
    return lines
