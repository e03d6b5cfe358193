"""Stage 4: the one place that knows Jinja2. Templates lay out; every spec string goes through a filter."""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import jinja2

from .cache import jinja_bytecode_cache, template_dir
from .model_modules import MODELS_PACKAGE
from .models import GeneratedModels
from .safe import Code, Identifier, black_quotes, finalize
from .spec import PYDANTIC_REQUIREMENT, ApiSpec, HttpMethod, Operation, Resource
from .surface import render_json as surface_json
from .wiring import Wiring, wiring


def pyrepr(value: Any) -> Code:
    """A Python literal for any spec value (str, number, bool, None, lists, dicts): never code."""
    return Code(_literal(value))


def _literal(value: Any) -> str:
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, str):
        return _str_literal(value)
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int):
        return repr(value)
    if isinstance(value, float):
        if not math.isfinite(value):  # YAML's .inf / .nan: `inf` would be a name, not a number
            return f"float({_str_literal(repr(value))})"
        text = repr(value)
        return _black_float(text) if "e" in text else text
    if isinstance(value, (list, tuple)):
        inner = ", ".join(_literal(v) for v in value)
        return f"({inner},)" if isinstance(value, tuple) and len(value) == 1 else (
            f"({inner})" if isinstance(value, tuple) else f"[{inner}]"
        )
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal(str(k))}: {_literal(v)}" for k, v in value.items()) + "}"
    return _str_literal(json.dumps(value, default=str))


def _str_literal(text: str) -> str:
    # repr() escapes quotes, backslashes, newlines, NULs and every non-printable (U+2028 included);
    # black's own quote rule then picks the quotes black would write.
    return black_quotes(repr(str(text)))


def _black_float(text: str) -> str:
    """`1e+20` as black writes it (`1e20`)."""
    mantissa, exponent = text.split("e")
    return f"{mantissa}e{exponent.removeprefix('+')}"


def docstring(text: Any, indent: int = 4) -> Code:
    """Body text safe inside a triple-double-quoted docstring; newlines kept, everything else escaped."""
    out = []
    for char in str(text or "").strip():
        if char == "\n":
            out.append("\n")
        elif char == "\\":
            out.append("\\\\")
        elif char == '"':
            out.append('\\"')
        elif not char.isprintable():
            out.append(char.encode("unicode_escape").decode("ascii"))
        else:
            out.append(char)
    pad = " " * indent
    lines = "".join(out).split("\n")
    return Code(
        "\n".join(
            line.rstrip() if i == 0 else (pad + line.rstrip() if line.strip() else "")
            for i, line in enumerate(lines)
        )
    )


def comment(text: Any) -> Code:
    """One line of text safe after `#`."""
    return Code(" ".join(str(docstring(text, 0)).split()))


def markdown(text: Any) -> Code:
    """Spec text in the generated README: plain text, no HTML, no code fences that could break out."""
    cleaned = str(text or "").replace("\r", "").replace("`", "'").replace("<", "&lt;").replace(">", "&gt;")
    return Code("".join(c for c in cleaned if c.isprintable() or c == "\n").strip())


def _raw_string_body(json_text: str) -> Code:
    """JSON text for the body of an r\"\"\"...\"\"\" literal. json.dumps escapes every quote and control
    character inside strings, so three quotes in a row or a newline can never come from spec text."""
    if '"""' in json_text or json_text.endswith("\\") or not json_text.isascii():
        raise ValueError("surface JSON cannot be written as a raw string literal")
    return Code(json_text)


@functools.lru_cache(maxsize=4)
def environment(directory: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory),
        undefined=jinja2.StrictUndefined,
        # With autoescape on, macro and `{% set %}` block results are Markup (safe), and
        # `finalize` refuses any plain str: spec text cannot be written without a filter.
        autoescape=True,
        finalize=finalize,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        bytecode_cache=jinja_bytecode_cache(),  # compiled templates, like .pyc (issue 6)
    )
    env.filters.update(pyrepr=pyrepr, docstring=docstring, comment=comment, markdown=markdown)
    return env


@dataclass(frozen=True)
class ReadmeExample:
    """The call the generated README's examples make: the first GET without required arguments,
    else the first call without any, else the first operation (with `...` for what it needs)."""

    resource: Resource | None
    op: Operation | None
    call: Code  # resource.method
    args: Code  # the required arguments, `name=...`


def quick_start_arguments(api: ApiSpec, required: tuple[str, ...]) -> tuple[tuple[Identifier, Code], ...]:
    """`Client(...)` keyword arguments of the README's quick start: each server variable with its
    default, or a placeholder naming what to fill in when it is required (a tenant, a site: the
    spec's default is no real value); a base URL when the spec lists no server variables."""
    if not (api.servers and api.server_variables):
        return ((Identifier("base_url"), pyrepr("https://example.com/api")),)
    return tuple(
        (
            variable.py_name,
            pyrepr(f"YOUR_{variable.py_name.upper()}" if variable.py_name in required or not variable.default
                   else variable.default),
        )
        for variable in api.server_variables
    )  # fmt: skip


def readme_example(api: ApiSpec) -> ReadmeExample:
    def simple(op: Operation) -> bool:
        return not op.body and not op.required_parameters

    candidates = [(r, op) for r in api.resources for op in r.operations]
    picked = next((c for c in candidates if c[1].method is HttpMethod.GET and simple(c[1])), None)
    picked = picked or next((c for c in candidates if simple(c[1])), None)
    picked = picked or (candidates[0] if candidates else None)
    if picked is None:
        return ReadmeExample(None, None, Code(""), Code(""))
    resource, op = picked
    args = [f"{p.py_name}=..." for p in op.required_parameters]
    if op.body and op.body.required:
        args.append("body={...}")
    return ReadmeExample(resource, op, Code(f"{resource.py_name}.{op.py_name}"), Code(", ".join(args)))


# The runtime modules every package gets as they are (`generator/runtime/`, plain Python).
# Copied into every package; `Wiring.runtime_modules` adds the optional ones (`oauth.py`, `kibo/`).
RUNTIME_MODULES = (
    "_base_client.py",
    "_model_base.py",
    "_servers.py",
    "_settings.py",
    "_setup.py",
    "errors.py",
)


def runtime_files(wired: Wiring) -> dict[str, str]:
    """Relative path → text of the runtime modules this package needs, copied byte for byte (never
    formatted)."""
    return {name: _runtime_text(name) for name in (*RUNTIME_MODULES, *wired.runtime_modules)}


@functools.cache
def _runtime_text(name: str) -> str:
    return (Path(__file__).resolve().parent / "runtime" / name).read_text(encoding="utf-8")


def render_package(
    api: ApiSpec, models: GeneratedModels, generator_version: str, templates_sha256: str
) -> dict[str, str]:
    """Relative path → text for every spec-dependent file of the package (before formatting and
    headers); the runtime modules are `runtime_files(...)`."""
    return PackageRenderer(api, generator_version, templates_sha256).files(models)


class PackageRenderer:
    """The package's rendered files in two parts: those the IR alone decides (`spec_files`, which
    can be rendered while datamodel-code-generator writes the models) and those that need the
    models source (`model_files`: models.py and the recorded surface)."""

    def __init__(self, api: ApiSpec, generator_version: str, templates_sha256: str) -> None:
        self.api = api
        self.env = environment(str(template_dir()))
        wired = wiring(api)
        self.wiring = wired
        self.context: dict[str, Any] = {
            "api": api,
            "generator_version": generator_version,
            "templates_sha256": templates_sha256,
            "wiring": wired,
            "example": readme_example(api),
            "quick_start": quick_start_arguments(api, wired.required_variables),
            "pydantic_requirement": PYDANTIC_REQUIREMENT,
        }

    def _render(self, template: str, **extra: Any) -> str:
        return self.env.get_template(template).render(**self.context, **extra)

    def files(self, models: GeneratedModels) -> dict[str, str]:
        return {**self.spec_files(), **self.model_files(models)}

    def spec_files(self) -> dict[str, str]:
        api = self.api
        files = {
            "__init__.py": self._render("__init__.py.jinja"),
            "_version.py": self._render("_version.py.jinja"),
            "_config.py": self._render("_config.py.jinja"),
            "_client.py": self._render("_client.py.jinja"),
        }
        if self.wiring.has_auth_module:
            files["auth.py"] = self._render("auth.py.jinja")
        files["resources/__init__.py"] = self._render("resources/__init__.py.jinja")
        for resource in api.resources:
            files[f"resources/{resource.module}.py"] = self._render("resources/resource.py.jinja", resource=resource)
        files["README.md"] = self._render("README.md.jinja")
        files["py.typed"] = ""
        return files

    def model_files(self, models: GeneratedModels) -> dict[str, str]:
        """The recorded surface and the package's `models/`: the rendered `__init__.py` and the
        model modules as datamodel-code-generator wrote them (black formats them)."""
        surface = _raw_string_body(surface_json(self.api, models.source))
        files = {
            "_surface.py": self._render("_surface.py.jinja", surface_json=surface),
            "models/__init__.py": self._render("models/__init__.py.jinja", modules=models.modules),
        }
        for module, source in models.modules.sources.items():
            files[f"{MODELS_PACKAGE}{module}.py"] = source
        return files
