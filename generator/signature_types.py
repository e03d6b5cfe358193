"""Stage 2a: the Python types of signatures (parameters, bodies, returns) and the model classes
they name.

Every component schema gets a class name (pins first); an inline request or response schema worth
a class is hoisted under a name of its own (`CreateCartBody`), and remembered with the place it
came from for schemas.py, which hands them all to datamodel-code-generator.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .build_context import BuildContext
from .load import escape_pointer_part, resolve_pointer
from .naming import NameAllocator, pascal_case
from .safe import Identifier
from .schemas import SCHEMA_PREFIX

# Wire names (lowercased, separators removed) whose values are secrets: hidden from repr, logs, errors.
SECRET_KEYS = frozenset(
    {"password", "accesstoken", "refreshtoken", "jwtaccesstoken", "clientsecret", "sharedsecret", "otpcode"}
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


def is_secret(wire_name: str) -> bool:
    return re.sub(r"[^a-z0-9]", "", wire_name.lower()) in SECRET_KEYS


class SignatureTypes:
    """Schema → annotation, and the class names annotations refer to."""

    def __init__(self, context: BuildContext) -> None:
        self.document = context.document
        schemas = self.document.get("components", {}).get("schemas", {}) or {}
        self.source_schemas: dict[str, Any] = schemas if isinstance(schemas, dict) else {}
        # Spec schema key → generated class name; pinned names first, so they always win.
        derived = {key: pascal_case(key) for key in self.source_schemas}
        pinned = context.pinned("models", context.pins.models, derived, RESERVED_CLASS_NAMES)
        self.class_names = NameAllocator(reserved={*RESERVED_CLASS_NAMES, *pinned.values()})
        self.schema_classes: dict[str, str] = {
            key: pinned.get(key) or self.class_names.allocate_pascal(pascal_case(key)) for key in self.source_schemas
        }
        self.hoisted: dict[str, Any] = {}  # class name → inline schema, for datamodel-code-generator
        self.hoisted_pointers: dict[str, str] = {}  # hoisted class name → where its schema is

    def model_class_names(self) -> set[str]:
        return set(self.schema_classes.values()) | set(self.hoisted)

    def annotation(self, schema: Any, *, hoist_as: str | None = None, at: str = "#", depth: int = 0) -> str:
        """Python type expression for a schema used in a signature (no `| None` added here). An
        inline object schema becomes a class named `hoist_as`, its schema found at pointer `at`."""
        if depth > 20 or not isinstance(schema, dict) or not schema:
            return "Any"
        class_name, target = self._schema_target(schema)
        if class_name is not None:
            if isinstance(target, dict) and is_model_like(target):
                return class_name
            return self.annotation(target, depth=depth + 1) if target is not None else "Any"
        if "$ref" in schema:
            return self.annotation(target, hoist_as=hoist_as, at=at, depth=depth + 1)
        for combinator in ("allOf", "oneOf", "anyOf"):
            members = schema.get(combinator)
            if isinstance(members, list) and members and not schema.get("properties"):
                if combinator == "allOf" and len(members) == 1:
                    return self.annotation(members[0], hoist_as=hoist_as, at=at, depth=depth + 1)
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
            return {"date-time": "datetime", "date": "date", "binary": "bytes"}.get(str(fmt), "str")
        if type_ in ("integer", "number", "boolean"):
            return {"integer": "int", "number": "float", "boolean": "bool"}[type_]
        if type_ == "array":
            item_name = f"{hoist_as}Item" if hoist_as else None
            item = self.annotation(schema.get("items", {}), hoist_as=item_name, at=at, depth=depth + 1)
            return f"list[{item}]"
        if is_model_like(schema) and hoist_as:
            return self._hoist(schema, hoist_as, at)
        if type_ == "object" or "properties" in schema or "additionalProperties" in schema:
            return "dict[str, Any]"
        return "Any"

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

    def _schema_target(self, schema: Any) -> tuple[str | None, Any]:
        """(class name, resolved schema) for a component `$ref`, else (None, schema)."""
        if isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
            ref = schema["$ref"]
            if ref.startswith(SCHEMA_PREFIX) and "/" not in ref[len(SCHEMA_PREFIX) :]:
                key = ref[len(SCHEMA_PREFIX) :].replace("~1", "/").replace("~0", "~")
                return self.schema_classes.get(key), self.source_schemas.get(key)
            return None, resolve_pointer(self.document, ref)
        return None, schema

    def _hoist(self, schema: dict[str, Any], wanted: str, at: str) -> str:
        """Give an inline request/response schema a class of its own."""
        name = self.class_names.allocate_pascal(pascal_case(wanted))
        self.hoisted[name] = schema
        self.hoisted_pointers[name] = at
        return name

    def model_name(self, annotation: str) -> Identifier | None:
        """`annotation` when it names one model class, else None."""
        return Identifier(annotation) if annotation in self.model_class_names() else None


def is_model_like(schema: Mapping[str, Any]) -> bool:
    """Schemas datamodel-code-generator turns into a class worth naming in a signature."""
    if "enum" in schema:
        return True
    if schema.get("properties") or any(k in schema for k in ("allOf", "oneOf", "anyOf")):
        return True
    return schema.get("type") == "object" and "additionalProperties" not in schema
