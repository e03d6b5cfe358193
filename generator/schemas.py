"""Stage 2b: the schema document handed to datamodel-code-generator (models.py's only input).

From the spec's `components/schemas` and the inline schemas build.py hoisted into classes: each
schema is sanitised (a whitelist of keywords; what pydantic cannot express degrades with a located
warning), its `$ref`s point at class names, shapes datamodel-code-generator or mypy would get wrong
are rewritten (an `allOf` override of another type, a self-referencing array item, inline enums
several models share), and string enums also accept unknown values.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from .load import LoadedSpec, escape_pointer_part, pointer
from .naming import NameAllocator, field_name, pascal_case

SCHEMA_PREFIX = "#/components/schemas/"


class ModelsDocument:
    """One build of the models document, from what build.py has decided (class names, hoisted
    inline schemas); its warnings go to build.py's list."""

    def __init__(
        self,
        *,
        loaded: LoadedSpec,
        class_names: NameAllocator,
        schema_classes: Mapping[str, str],
        hoisted: Mapping[str, Any],
        hoisted_pointers: Mapping[str, str],
        rewrite_refs: Callable[[Any], Any],
        warnings: list[str],
    ) -> None:
        self.loaded = loaded
        self.document = loaded.document
        self.class_names = class_names  # shared with build.py: new classes get names nobody has
        self.schema_classes = schema_classes  # spec schema key → class name
        schemas = self.document.get("components", {}).get("schemas", {}) or {}
        self.source_schemas: dict[str, Any] = schemas if isinstance(schemas, dict) else {}
        self.models = hoisted  # class name → inline schema build.py hoisted
        self.model_pointers = hoisted_pointers  # ... and where it is in the spec
        self.rewrite_refs = rewrite_refs
        self.warnings = warnings  # build.py's list: these warnings are part of building the IR

    def sanitise(self, schema: Any, where_: str) -> Any:
        """A copy of `schema` without what datamodel-code-generator or pydantic cannot express.

        Each construct degrades to something looser but valid (`Any`, a plain dict, no default),
        with a warning naming its JSON pointer: never a model that fails to import or validate.
        """

        def warn(trail: tuple[str | int, ...], message: str) -> None:
            suffix = "" if not trail else "/" + "/".join(escape_pointer_part(p) for p in trail)
            base, _, note = where_.partition(" ")
            self.warnings.append(
                f"warning: {self.loaded.path}{base}{suffix}: {message}" + (f" {note}" if note else "")
            )

        def walk(node: Any, trail: tuple[str | int, ...], is_schema: bool) -> Any:
            if isinstance(node, list):
                return [walk(v, (*trail, i), is_schema) for i, v in enumerate(node)]
            if not isinstance(node, dict):
                return node
            if not is_schema:  # a map of name → schema
                return {k: walk(v, (*trail, k), True) for k, v in node.items()}
            out: dict[str, Any] = {}
            for key, value in node.items():
                here = (*trail, key)
                if key not in _SCHEMA_KEYWORDS:
                    if _names_python_code(key):
                        warn(here, f"'{key}' would let the spec choose Python code (an import, a base class); removed")
                    elif key == "x-propertyNames":
                        warn(here, "'x-propertyNames' is not checked by the generated models (keys are accepted)")
                    continue  # anything else datamodel-code-generator might read is dropped too
                if key == "type" and _lists_integer_and_number(value):
                    # Every integer is a number: `int | float` would also refuse `minimum` and co.
                    kept = [t for t in value if t != "integer"]
                    out[key] = kept[0] if len(kept) == 1 else kept
                    continue
                if key == "const" and (value is None or not isinstance(value, (str, int))):
                    # Only str/int/bool make a `Literal`; other values degrade to their plain type.
                    warn(here, "a non-string, non-integer 'const' is not checked (any value of its type is accepted)")
                    if "type" not in node:
                        out["type"] = _json_type_of(value)
                    continue
                if key == "format" and value in _FORMATS_NEEDING_EXTRAS:
                    continue  # `EmailStr` needs email-validator: the package depends on httpx + pydantic only
                if key in _UNCHECKED_KEYWORDS:
                    warn(here, f"'{key}' is not checked by the generated models (values are accepted)")
                    continue
                if key == "discriminator":
                    warn(here, "discriminator ignored: the union's members are tried in order")
                    continue
                if key == "enum" and (not isinstance(value, list) or not value):
                    warn(here, "empty enum ignored")
                    continue
                if key == "default" and not _default_fits(node, value):
                    warn(here, f"default {value!r} does not fit the schema's type; left out")
                    continue
                if key == "patternProperties":
                    if isinstance(value, dict) and "additionalProperties" not in node:
                        members = list(value.values())
                        out["additionalProperties"] = walk(
                            members[0] if len(members) == 1 else {}, here, True
                        )
                    warn(here, "patternProperties: key patterns are not checked (a plain mapping)")
                    continue
                if key in _SUBSCHEMA_KEYS:
                    out[key] = walk(value, here, True)
                elif key in _SUBSCHEMA_MAPS:
                    out[key] = walk(value, here, False)
                else:
                    out[key] = value
            return out

        return walk(schema, (), True)

    def _name_shared_inline_enums(self, schemas: dict[str, Any]) -> set[str]:
        """Inline enums of a property name that several models use (`type`, `kind`) become classes
        named after their model and property (`CatType`, `DogType`), not `Type`, `Type1` in whatever
        order datamodel-code-generator meets them. An enum only one model has keeps its plain name.
        Returns the new class names (added to `schemas`, the properties pointing at them)."""
        owners: dict[str, list[str]] = {}
        for model, schema in schemas.items():
            properties = schema.get("properties") if isinstance(schema, dict) else None
            for prop, value in (properties or {}).items():
                if is_string_enum(value):
                    owners.setdefault(str(prop), []).append(model)
        hoisted: set[str] = set()
        for prop, models in owners.items():
            if len(models) < 2:
                continue
            for model in models:
                name = self.class_names.allocate_pascal(f"{model}{pascal_case(prop)}")
                inline = schemas[model]["properties"][prop]
                siblings = {k: inline[k] for k in ("description", "repr", "default") if k in inline}
                schemas[name] = {k: v for k, v in inline.items() if k not in ("repr", "default")}
                schemas[model]["properties"][prop] = {"$ref": SCHEMA_PREFIX + escape_pointer_part(name), **siblings}
                hoisted.add(name)
        return hoisted

    def _name_self_referencing_items(self, schemas: dict[str, Any]) -> None:
        """`Tree: {type: array, items: {type: object, additionalProperties: {$ref: Tree}}}` comes out
        of datamodel-code-generator as a bare `RootModel[list]` (mypy --strict refuses it); with the
        item a schema of its own (`TreeItem`) both are typed."""
        for name, schema in list(schemas.items()):
            items = schema.get("items") if isinstance(schema, dict) and schema.get("type") == "array" else None
            extra = items.get("additionalProperties") if isinstance(items, dict) else None
            own_ref = SCHEMA_PREFIX + escape_pointer_part(name)
            if isinstance(items, dict) and isinstance(extra, dict) and extra.get("$ref") == own_ref:
                if items.get("properties"):
                    continue
                item_name = self.class_names.allocate_pascal(f"{name}Item")
                schemas[item_name] = items
                schema["items"] = {"$ref": SCHEMA_PREFIX + escape_pointer_part(item_name)}

    def build(self) -> dict[str, Any]:
        """The document: components/schemas only, each schema sanitised, its `$ref`s rewritten to class
        names, awkward shapes made expressible, string enums opened."""
        schemas: dict[str, Any] = {}
        # `$ref`s to string-enum schemas: properties using them are opened like inline enums.
        enum_refs = frozenset(
            SCHEMA_PREFIX + escape_pointer_part(self.schema_classes[key])
            for key, schema in self.source_schemas.items()
            if is_string_enum(schema)
        )
        plain: dict[str, Any] = {}
        for key, schema in self.source_schemas.items():
            schema = self.sanitise(schema, pointer(["components", "schemas", key]))
            plain[self.schema_classes[key]] = self.rewrite_refs(schema)
        for name, schema in self.models.items():
            schema = self.sanitise(schema, f"{self.model_pointers.get(name, '#')} (inline schema {name})")
            plain[name] = self.rewrite_refs(schema)
        _inline_conflicting_bases(plain)
        self._name_self_referencing_items(plain)
        hoisted = self._name_shared_inline_enums(plain)
        enum_refs = enum_refs | {SCHEMA_PREFIX + escape_pointer_part(name) for name in hoisted}
        for name, schema in plain.items():
            schemas[name] = _open_enums(schema, enum_refs)
        info = self.document.get("info") or {}
        title = info.get("title") if isinstance(info.get("title"), str) else None
        return {
            "openapi": self.document.get("openapi", "3.0.3"),
            "info": {"title": title or "api", "version": str(info.get("version", "0"))},
            "paths": {},
            "components": {"schemas": copy.deepcopy(schemas)},
        }


# The schema keywords handed to datamodel-code-generator; every other key is dropped. Some of its
# extensions name Python code that models.py would import (`x-python-type`, `x-python-import`,
# `customBasePath`, `customTypePath`, `x-is-base-class`): a whitelist keeps new ones out too.
_SCHEMA_KEYWORDS = frozenset(
    {
        *("type", "format", "title", "description", "default", "enum", "const", "nullable"),
        *("readOnly", "writeOnly", "deprecated", "example", "examples", "$ref", "$comment"),
        *("items", "prefixItems", "additionalItems", "additionalProperties", "properties"),
        *("required", "allOf", "anyOf", "oneOf", "not", "if", "then", "else", "$defs"),
        *("definitions", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"),
        *("multipleOf", "minLength", "maxLength", "pattern", "minItems", "maxItems"),
        *("uniqueItems", "minProperties", "maxProperties", "patternProperties"),
        *("propertyNames", "dependentSchemas", "dependentRequired", "unevaluatedProperties"),
        *("unevaluatedItems", "contains", "minContains", "maxContains", "discriminator"),
        *("contentMediaType", "contentEncoding", "externalDocs", "xml"),
        *("x-enum-varnames", "x-enumNames", "x-enum-descriptions"),
    }
)


# Formats pydantic can only check with a package the generated client does not depend on: a plain str.
_FORMATS_NEEDING_EXTRAS = frozenset({"email", "idn-email"})


def _names_python_code(key: str) -> bool:
    lowered = key.lower()
    return (
        lowered.startswith(("x-python", "x-datamodel-code-generator", "x-is-"))
        or lowered in {"custombasepath", "customtypepath", "repr"}
    )


# JSON Schema keywords the models do not check: dropped (the value is then less constrained).
_UNCHECKED_KEYWORDS = (
    "not", "if", "then", "else", "dependentSchemas", "dependentRequired", "unevaluatedProperties",
    "unevaluatedItems", "propertyNames", "contains", "minContains", "maxContains",
)  # fmt: skip
# Keywords whose value is a schema (or a list of schemas), and maps of name → schema.
_SUBSCHEMA_KEYS = frozenset(
    {"items", "additionalProperties", "allOf", "anyOf", "oneOf", "prefixItems", "additionalItems"}
)
_SUBSCHEMA_MAPS = frozenset({"properties", "$defs", "definitions"})
_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


def _lists_integer_and_number(value: Any) -> bool:
    return isinstance(value, list) and "integer" in value and "number" in value


# Keys that change a property's documentation, not its Python type.
_ANNOTATION_KEYS = frozenset({"description", "title", "default", "example", "examples", "deprecated", "$comment"})


def _inline_conflicting_bases(schemas: dict[str, Any]) -> None:
    """An `allOf` that redefines a property of a `$ref`'d part with another type cannot inherit
    from it (`class Child(Base)` with `kind: int` over `kind: str` fails `mypy --strict`). Such a
    part is replaced by a copy of its schema, so datamodel-code-generator merges the properties
    into one class; parts without a conflict stay base classes."""

    def target(ref: Any) -> Any:
        if isinstance(ref, str) and ref.startswith(SCHEMA_PREFIX):
            return schemas.get(ref[len(SCHEMA_PREFIX) :].replace("~1", "/").replace("~0", "~"))
        return None

    def collected(schema: Any, key: str, seen: frozenset[int] = frozenset()) -> dict[str, Any]:
        """`properties` (or `required`, as a dict) of `schema` with those of its `$ref` and `allOf`."""
        if not isinstance(schema, dict) or id(schema) in seen:
            return {}
        seen = seen | {id(schema)}
        found: dict[str, Any] = {}
        if "$ref" in schema:
            found.update(collected(target(schema["$ref"]), key, seen))
        for part in schema.get("allOf") or ():
            found.update(collected(part, key, seen))
        own = schema.get(key)
        if isinstance(own, dict):
            found.update(own)
        elif isinstance(own, list):
            found.update(dict.fromkeys(str(name) for name in own))
        return found

    def properties_of(schema: Any) -> dict[str, Any]:
        return collected(schema, "properties")

    def shape(prop: Any) -> Any:
        return {k: v for k, v in prop.items() if k not in _ANNOTATION_KEYS} if isinstance(prop, dict) else prop

    for schema in schemas.values():
        parts = schema.get("allOf") if isinstance(schema, dict) else None
        if not isinstance(parts, list):
            continue
        for index, part in enumerate(parts):
            if not (isinstance(part, dict) and "$ref" in part and isinstance(target(part["$ref"]), dict)):
                continue
            inherited = properties_of(part)
            redefined = {}
            for other in parts[:index] + parts[index + 1 :]:
                redefined.update(properties_of(other))
            if isinstance(schema.get("properties"), dict):
                redefined.update(schema["properties"])
            # By attribute name: wire names `x-y` and `x_y` are one attribute `x_y`.
            by_attribute = {field_name(str(name)): prop for name, prop in redefined.items()}
            overridden = {
                name
                for name, prop in inherited.items()
                if field_name(str(name)) in by_attribute and shape(by_attribute[field_name(str(name))]) != shape(prop)
            }
            if overridden:  # the later definition wins, as in a subclass
                kept = {name: prop for name, prop in inherited.items() if name not in overridden}
                flat: dict[str, Any] = {"type": "object", "properties": copy.deepcopy(kept)}
                required = list(collected(part, "required"))
                if required:
                    flat["required"] = required
                parts[index] = flat


def _json_type_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, float):
        return "number"
    return "object" if isinstance(value, dict) else "array"


def _default_fits(schema: Mapping[str, Any], default: Any) -> bool:
    type_ = schema.get("type")
    types = type_ if isinstance(type_, list) else [type_]
    if default is None:
        return bool(schema.get("nullable")) or "null" in types or None in types
    allowed = [_JSON_TYPES[t] for t in types if isinstance(t, str) and t in _JSON_TYPES]
    if not allowed or (type_ is None):
        return True
    if isinstance(default, bool) and "boolean" not in types:
        return False
    return any(isinstance(default, kinds) for kinds in allowed)


def is_string_enum(schema: Any) -> bool:
    return (
        isinstance(schema, dict)
        and isinstance(schema.get("enum"), list)
        and schema.get("type", "string") == "string"
    )


def _open_enums(schema: Any, enum_refs: frozenset[str] = frozenset()) -> Any:
    """Let string-enum properties also accept values the spec does not know (forward compatibility)."""
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    properties = out.get("properties")
    if isinstance(properties, dict):
        out["properties"] = {
            name: _open_property(prop, enum_refs) for name, prop in properties.items()
        }
    if isinstance(out.get("allOf"), list):
        out["allOf"] = [_open_enums(part, enum_refs) for part in out["allOf"]]
    return out


def _open_property(prop: Any, enum_refs: frozenset[str] = frozenset()) -> Any:
    if not isinstance(prop, dict):
        return prop
    # `Kind | str`: pydantic tries the enum first (left to right), an unknown value stays text.
    if prop.get("$ref") in enum_refs:
        siblings = {k: prop[k] for k in ("description", "repr", "default") if k in prop}
        return {"anyOf": [{"$ref": prop["$ref"]}, {"type": "string"}], **siblings, "union_mode": "left_to_right"}
    if is_string_enum(prop):
        extra = {k: prop[k] for k in ("description", "repr") if k in prop}
        inner = {k: v for k, v in prop.items() if k not in ("description", "repr", "default")}
        opened: dict[str, Any] = {"anyOf": [inner, {"type": "string"}], **extra, "union_mode": "left_to_right"}
        if "default" in prop:
            opened["default"] = prop["default"]
        return opened
    if prop.get("type") == "array" and isinstance(prop.get("items"), dict):
        return {**prop, "items": _open_property(prop["items"], enum_refs)}
    return _open_enums(prop, enum_refs)
