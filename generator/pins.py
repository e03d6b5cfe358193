"""Name pins: names a project fixes in `[tool.kibo-codegen.pins]`, which win over derived names.

```toml
[tool.kibo-codegen.pins.methods]      # route (METHOD + path) -> method name
"GET /commerce/shipping/admin/carriers/definitions/{carrierId}" = "get_carrier_definition"
[tool.kibo-codegen.pins.models]       # schema name in the spec -> class name
ShippingRuntimeShipmentResponse = "ShipmentResponse"
[tool.kibo-codegen.pins.resources]    # tag -> client attribute
"Storefront Auth Ticket" = "auth"
```

A pin that is not a safe identifier, or that collides with another name, is an error with its
location; a pin for a route, schema or tag the spec no longer has is a warning.
"""

from __future__ import annotations

import keyword
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import Problem, SpecError

KINDS = ("methods", "models", "resources")


@dataclass(frozen=True)
class Pins:
    methods: Mapping[str, str] = field(default_factory=dict)  # "GET /path" (normalised) -> name
    models: Mapping[str, str] = field(default_factory=dict)
    resources: Mapping[str, str] = field(default_factory=dict)
    origin: str = "[tool.kibo-codegen.pins]"

    def where(self, kind: str, key: str) -> str:
        return f"{self.origin}.{kind} {key!r}"

    def fingerprint(self) -> str:
        return repr(sorted((kind, sorted(getattr(self, kind).items())) for kind in KINDS))


NO_PINS = Pins()


def route_key(method: str, path: str) -> str:
    """`GET /a/{id}`: the HTTP method upper case, one space, the path as normalised by build."""
    return f"{method.upper()} {path}"


def pins_from_table(table: Any, origin: str) -> Pins:
    """Pins from the `pins` table of `[tool.kibo-codegen]`; SpecError with a location if malformed."""
    if table is None:
        return Pins(origin=origin)
    if not isinstance(table, dict):
        raise SpecError.single(origin, "'pins' must be a table")
    problems: list[Problem] = []
    unknown = sorted(set(table) - set(KINDS))
    for key in unknown:
        problems.append(Problem(f"{origin}.{key}", f"unknown pin table (known: {', '.join(KINDS)})"))
    found: dict[str, dict[str, str]] = {}
    for kind in KINDS:
        entries = table.get(kind, {})
        if not isinstance(entries, dict):
            problems.append(Problem(f"{origin}.{kind}", "must be a table of name = \"new name\""))
            continue
        found[kind] = {}
        for key, value in entries.items():
            if not (isinstance(value, str) and value.isascii() and value.isidentifier()) or keyword.iskeyword(value):
                problems.append(Problem(f"{origin}.{kind} {key!r}", f"{value!r} is not a Python identifier"))
                continue
            if kind == "methods":
                method, _, path = str(key).strip().partition(" ")
                if not path.startswith("/"):
                    message = 'a route is METHOD and path, e.g. "GET /a/{id}"'
                    problems.append(Problem(f"{origin}.{kind} {key!r}", message))
                    continue
                key = route_key(method, path.strip())
            found[kind][str(key)] = value
    if problems:
        raise SpecError(problems)
    return Pins(methods=found["methods"], models=found["models"], resources=found["resources"], origin=origin)
