"""Identifiers for generated code: snake_case / PascalCase, keywords, collisions.

Every name here is ASCII and a valid identifier whatever the spec says; the wire name is kept
beside it by the caller.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterable

_NON_ALNUM = re.compile(r"[^0-9A-Za-z]+")
_ACRONYM_BOUNDARY = re.compile(r"([A-Z0-9]+)([A-Z][a-z])")
_LOWER_UPPER_BOUNDARY = re.compile(r"([a-z])([A-Z])")
_REPEATED_UNDERSCORE = re.compile(r"_+")

MAX_METHOD_NAME_LENGTH = 60
# Names also become file names (resources/<name>.py): long enough to read, short enough for any
# file system. Collisions after cutting are resolved like any other (NameAllocator).
MAX_IDENTIFIER_LENGTH = 80


def words(text: str) -> list[str]:
    """Split any text (camelCase, PascalCase, kebab, spaces, dots, $) into lowercase words."""
    text = _NON_ALNUM.sub(" ", text)
    text = _ACRONYM_BOUNDARY.sub(r"\1 \2", text)
    text = _LOWER_UPPER_BOUNDARY.sub(r"\1 \2", text)
    return [w.lower() for w in text.split()]


def snake_case(text: str, *, fallback: str = "value") -> str:
    name = "_".join(words(text))[:MAX_IDENTIFIER_LENGTH].rstrip("_") or fallback
    return safe_identifier(name)


def pascal_case(text: str, *, fallback: str = "Model") -> str:
    name = "".join(w[:1].upper() + w[1:] for w in words(text))[:MAX_IDENTIFIER_LENGTH] or fallback
    return safe_identifier(name)


def safe_identifier(name: str) -> str:
    """Make `name` a valid, non-keyword Python identifier (a leading digit gets a `v`/`V` prefix)."""
    name = _REPEATED_UNDERSCORE.sub("_", name)
    if name[:1].isdigit():
        name = ("V" if any(c.isupper() for c in name) else "v") + name
    if keyword.iskeyword(name):
        name = f"{name}_"
    return name


def package_name_for(info: object) -> str:
    """The package a spec asks for: `info.x-package-name`, else derived from `info.title`."""
    fields = info if isinstance(info, dict) else {}
    wanted = fields.get("x-package-name") or fields.get("title") or ""
    return snake_case(str(wanted), fallback="api_client")


def method_name(summary: str | None, method: str, path: str) -> str:
    """Method name from the summary (Kibo has no operationId), else from METHOD + path."""
    if summary and words(summary):
        parts = words(summary)
        name = ""
        for word in parts:
            candidate = f"{name}_{word}" if name else word
            if len(candidate) > MAX_METHOD_NAME_LENGTH and name:
                break
            name = candidate
        return safe_identifier(name)
    return snake_case(f"{method} {path}", fallback=method.lower())


class NameAllocator:
    """Hands out distinct names in a fixed order: the first asker keeps the name, the next gets `_2`."""

    def __init__(self, reserved: Iterable[str] = ()) -> None:
        self._taken: set[str] = set(reserved)

    def allocate(self, wanted: str) -> str:
        name = wanted
        counter = 2
        while name in self._taken:
            name = f"{wanted}_{counter}"
            counter += 1
        self._taken.add(name)
        return name

    def allocate_pascal(self, wanted: str) -> str:
        name = wanted
        counter = 2
        while name in self._taken:
            name = f"{wanted}{counter}"
            counter += 1
        self._taken.add(name)
        return name
