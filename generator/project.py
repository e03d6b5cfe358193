"""Where the bare command and `check` find their inputs: a project's `[tool.kibo-codegen]`
table in `pyproject.toml` (searched from the working directory up), else this source checkout's
own `spec/` and `generated/`, else a `spec/` folder in the working directory.

```toml
[tool.kibo-codegen]
spec = "openapi/kibo_authtickets.yaml"   # relative to pyproject.toml
output = "src"                           # the package is written to src/<package-name>/
package-name = "kibo_authtickets"        # default: from the spec
http-library = "httpx"                   # or "httpx2"

[tool.kibo-codegen.pins.methods]         # and .models, .resources: see pins.py
"GET /commerce/customer/authtickets/refresh" = "refresh_user_auth_ticket"
```
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import SpecError
from .pins import NO_PINS, Pins, pins_from_table

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

TABLE = "kibo-codegen"
SOURCE_ROOT = Path(__file__).resolve().parent.parent
_KEYS = {"spec", "output", "package-name", "http-library"}
SPEC_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class Project:
    spec: Path
    output: Path
    package_name: str | None
    http_library: str | None
    origin: str  # where the settings came from, for messages
    pins: Pins = NO_PINS


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml with a [tool.kibo-codegen] table, from `start` upwards."""
    for directory in (start, *start.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file() and _table(candidate) is not None:
            return candidate
    return None


def _table(pyproject: Path) -> dict[str, Any] | None:
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    table = data.get("tool", {}).get(TABLE)
    return table if isinstance(table, dict) else None


def from_pyproject(pyproject: Path) -> Project:
    table = _table(pyproject) or {}
    where = f"{pyproject}: [tool.{TABLE}]"
    unknown = sorted(set(table) - _KEYS - {"pins"})
    if unknown:
        raise SpecError.single(where, f"unknown key {unknown[0]!r} (known: {', '.join(sorted(_KEYS | {'pins'}))})")
    for key in _KEYS:
        if key in table and not isinstance(table[key], str):
            raise SpecError.single(where, f"{key!r} must be a string")
    if "spec" not in table:
        raise SpecError.single(where, "'spec' is required (the OpenAPI file, relative to pyproject.toml)")
    base = pyproject.parent
    return Project(
        spec=base / table["spec"],
        output=base / table.get("output", "generated"),
        package_name=table.get("package-name"),
        http_library=table.get("http-library"),
        origin=where,
        pins=pins_from_table(table.get("pins"), f"{pyproject}: [tool.{TABLE}.pins]"),
    )


def pins_for(spec: Path, cwd: Path) -> Pins:
    """The pins of the project whose `spec` is this file (`generate SPEC`, `check SPEC` in a project)."""
    pyproject = find_pyproject(cwd)
    if pyproject is None:
        return NO_PINS
    project = from_pyproject(pyproject)
    try:
        same = project.spec.resolve() == Path(spec).resolve()
    except OSError:
        same = False
    return project.pins if same else NO_PINS


def is_source_checkout() -> bool:
    """Running from this repository (or an editable install of it), not from site-packages."""
    return (SOURCE_ROOT / "generator" / "__main__.py").is_file() and (SOURCE_ROOT / "spec").is_dir() and (
        SOURCE_ROOT / "pyproject.toml"
    ).is_file()


def find_project(cwd: Path) -> Project:
    """The project the bare command works on (see the module docstring); SpecError saying what
    to pass when there is none."""
    pyproject = find_pyproject(cwd)
    if pyproject is not None:
        return from_pyproject(pyproject)
    if is_source_checkout():
        return Project(
            spec=SOURCE_ROOT / "spec" / "kibo_authtickets.yaml",
            output=SOURCE_ROOT / "generated",
            package_name=None,
            http_library=None,
            origin="this checkout's spec/",
        )
    spec_dir = cwd / "spec"
    specs = sorted(p for p in spec_dir.glob("*") if p.suffix.lower() in SPEC_SUFFIXES) if spec_dir.is_dir() else []
    if len(specs) == 1:
        return Project(spec=specs[0], output=cwd / "generated", package_name=None, http_library=None, origin="spec/")
    reason = f"{len(specs)} spec files in spec/" if specs else "no [tool.kibo-codegen] in pyproject.toml and no spec/"
    raise SpecError.single(
        str(cwd),
        f"no project here ({reason}): pass `generate SPEC -o OUT_DIR`, or add [tool.{TABLE}] spec = ... "
        "to pyproject.toml",
    )
