"""What the stages of build.py share: the loaded spec, the pins, the problems and warnings found so
far, and how a stage names a place in the spec (`file:line:col`) or follows a `$ref`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import Problem
from .load import LoadedSpec, resolve_pointer, where
from .pins import Pins
from .safe import Identifier


@dataclass
class BuildContext:
    loaded: LoadedSpec
    pins: Pins
    problems: list[Problem] = field(default_factory=list)  # raised together at the end of the build
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, loaded: LoadedSpec, pins: Pins) -> BuildContext:
        return cls(loaded, pins, warnings=list(loaded.warnings))

    @property
    def document(self) -> dict[str, Any]:
        return self.loaded.document

    def where(self, parts: list[str | int]) -> str:
        return where(str(self.loaded.path), self.loaded.text, parts)

    def deref(self, node: Any) -> Any:
        """Follow non-schema `$ref`s (parameters, responses, request bodies)."""
        seen = 0
        while isinstance(node, dict) and isinstance(node.get("$ref"), str) and seen < 20:
            node = resolve_pointer(self.document, node["$ref"])
            seen += 1
        return node

    def pinned(
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
            here = self.pins.where(kind, key)
            if key not in derived:
                self.warnings.append(f"warning: {here}: the spec has no such name; pin unused")
            elif name in others:
                self.problems.append(Problem(here, f"{name!r} is the name of {others[name]!r} already"))
            elif name in reserved:
                self.problems.append(Problem(here, f"{name!r} is a name the package uses itself"))
            elif name in owners:
                self.problems.append(Problem(here, f"{name!r} collides with the pin for {owners[name]!r}"))
            else:
                owners[name] = key
                chosen[key] = Identifier(name)
        return chosen
