"""Identifiers for generated code: snake_case / PascalCase, keywords, collisions.

Every name here is ASCII and a valid identifier whatever the spec says; the wire name is kept
beside it by the caller.
"""

from __future__ import annotations

import keyword
import re
import sys
from collections.abc import Iterable

from .safe import Identifier

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


def snake_case(text: str, *, fallback: str = "value") -> Identifier:
    name = "_".join(words(text))[:MAX_IDENTIFIER_LENGTH].rstrip("_") or fallback
    return safe_identifier(name)


# `requires2FA`, `last2FaDate`: a digit run that starts a short capitalised token belongs to it
# (`requires_2fa`, `last_2fa_date`), not to the word before (`requires2_fa`). Longer words keep
# their digits in front (`base64Encoded` stays `base64_encoded`).
_DIGIT_TOKEN = re.compile(r"(?<=[a-z])\d+[A-Z][A-Za-z]?(?=[A-Z]|$|\d|_)")


def field_name(wire: str) -> Identifier:
    """The attribute name of a model field: snake_case, digits kept with their word."""
    return snake_case(_DIGIT_TOKEN.sub(lambda m: f" {m.group().lower()} ", wire), fallback="field")


def pascal_case(text: str, *, fallback: str = "Model") -> Identifier:
    name = "".join(w[:1].upper() + w[1:] for w in words(text))[:MAX_IDENTIFIER_LENGTH] or fallback
    if keyword.iskeyword(name):  # a class `None`/`True`/`False`: `NoneModel` (datamodel-code-generator renames `None_`)
        name = f"{name}Model"
    return safe_identifier(name)


def safe_identifier(name: str) -> Identifier:
    """Make `name` a valid, non-keyword Python identifier (a leading digit gets a `v`/`V` prefix)."""
    name = _REPEATED_UNDERSCORE.sub("_", name)
    if name[:1].isdigit():
        name = ("V" if any(c.isupper() for c in name) else "v") + name
    if keyword.iskeyword(name):
        name = f"{name}_"
    return Identifier(name)


def package_name_for(info: object) -> str:
    """The package a spec asks for: `info.x-package-name`, else derived from `info.title`.

    Not yet checked: `package_name_problem` says whether it may be used.
    """
    fields = info if isinstance(info, dict) else {}
    wanted = fields.get("x-package-name") or fields.get("title") or ""
    return snake_case(str(wanted), fallback="api_client")


# What the generated package imports: a package of that name would shadow it.
_RUNTIME_MODULES = frozenset(
    {"httpx", "httpx2", "httpcore", "h11", "anyio", "sniffio", "certifi", "idna"}
    | {"pydantic", "pydantic_core", "typing_extensions", "annotated_types", "typing_inspection"}
)


def package_name_problem(name: str) -> str | None:
    """Why `name` cannot be the generated package's name (it is a directory and an import name), or None."""
    if not name:
        return "package name is empty"
    if not (name.isascii() and name.isidentifier()):
        return f"package name {name!r} is not a Python identifier (letters, digits and '_', not starting with a digit)"
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        return f"package name {name!r} is a Python keyword"
    if name in sys.stdlib_module_names or name in _RUNTIME_MODULES or name == "__main__":
        return f"package name {name!r} would shadow the module of that name that Python or the client imports"
    if len(name) > MAX_IDENTIFIER_LENGTH:
        return f"package name is longer than {MAX_IDENTIFIER_LENGTH} characters"
    return None


def method_name(summary: str | None, method: str, path: str) -> Identifier:
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


def import_sort_key(name: str) -> tuple[int, list[tuple[int, str]]]:
    """The order isort and ruff give imported names: CONSTANTS, Classes, others; each case-insensitive
    and natural (`Model2` before `Model10`)."""
    kind = 0 if name.isupper() and len(name) > 1 else 1 if name[:1].isupper() else 2
    parts = [(int(p), "") if p.isdigit() else (-1, p) for p in re.split(r"(\d+)", name.lower()) if p]
    return kind, parts


class NameAllocator:
    """Hands out distinct names in a fixed order: the first asker keeps the name, the next gets `_2`."""

    def __init__(self, reserved: Iterable[str] = ()) -> None:
        self._taken: set[str] = set(reserved)

    def reserve(self, name: str) -> None:
        """Keep `name` for its owner (a pinned name): later askers get `_2`."""
        self._taken.add(name)

    def allocate(self, wanted: str) -> Identifier:
        return self._allocate(wanted, "_")

    def allocate_pascal(self, wanted: str) -> Identifier:
        return self._allocate(wanted, "")

    def _allocate(self, wanted: str, separator: str) -> Identifier:
        name = wanted
        counter = 2
        while name in self._taken:
            name = f"{wanted}{separator}{counter}"
            counter += 1
        self._taken.add(name)
        return Identifier(name)
