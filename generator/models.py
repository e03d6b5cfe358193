"""Stage 3: the one place that calls datamodel-code-generator (components/schemas → pydantic v2)."""

from __future__ import annotations

import ast
import warnings as warnings_module
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import SpecError
from .imports import sorted_imports
from .model_modules import ModelModules, split_models
from .naming import NameAllocator, field_name
from .spec import ApiSpec

_EMPTY_MODELS = "from __future__ import annotations\n"


# The package's own base classes (`_model_base.py`): datamodel-code-generator imports a base class by
# an absolute path; the package imports it relatively, so that it works vendored under any name.
_BASE_MODULE = "package_base_models._model_base"


def _options(api: ApiSpec | None = None) -> dict[str, Any]:
    # Imported lazily: datamodel-code-generator is the slowest import of the pipeline.
    from datamodel_code_generator.enums import DataModelType, InputFileType
    from datamodel_code_generator.format import DatetimeClassType, PythonVersion

    request_only = api.request_only_models if api is not None else ()
    return {
        "input_file_type": InputFileType.OpenAPI,
        "output_model_type": DataModelType.PydanticV2BaseModel,
        "target_python_version": PythonVersion.PY_310,
        "snake_case_field": True,
        # One base for every model (config, secret-free repr): `Model` keeps unknown fields (a
        # newer server's data survives), `RequestModel` (models only requests use) rejects them.
        "base_class": f"{_BASE_MODULE}.Model",
        "base_class_map": {name: f"{_BASE_MODULE}.RequestModel" for name in request_only},
        # Attribute names type checkers see: validation_alias + serialization_alias, not alias.
        "aliases": field_aliases(api.models_document) if api is not None else {},
        "use_serialization_alias": True,
        "use_default_kwarg": True,  # Field(default=None): checkers see the field as optional
        "use_subclass_enum": True,  # `class Status(str, Enum)`: members equal their values
        "set_default_enum_member": True,  # `= Latest.INTEGER_0`, not `= 0`: mypy checks the default
        "use_standard_collections": True,
        "use_union_operator": True,
        "use_schema_description": True,
        "use_field_description": True,
        "use_double_quotes": True,
        "disable_timestamp": True,
        "output_datetime_class": DatetimeClassType.Datetime,
        # Field(repr=False) for secrets, Field(union_mode="left_to_right") for opened enums: set by build.py.
        "field_extra_keys": {"repr", "union_mode"},
        "formatters": [],  # black runs once, in emit.py
        "keep_model_order": False,  # dependencies first: a default `= Latest.X` needs Latest defined
        "field_constraints": True,  # constraints in Field(...), not constr(): mypy --strict accepts it
        "capitalise_enum_members": True,
    }


@dataclass(frozen=True)
class GeneratedModels:
    source: str  # the one module datamodel-code-generator wrote: what the surface is read from
    warnings: tuple[str, ...]
    modules: ModelModules  # `source` cut into the package's `models/`


def generate_model_modules(api: ApiSpec) -> GeneratedModels:
    """`generate_models`, and its source cut into the package's model modules (one parse for both)."""
    source, warnings, tree = _generate(api)
    return GeneratedModels(source, warnings, split_models(source, tree))


# What `generate()` imports on its first call (most of its cost on a small spec): imported ahead,
# in the models process, while the parent still loads and builds (pipeline.py). A name a later
# release drops only makes the warm-up shorter.
_IMPORTED_BY_GENERATE = (
    "datamodel_code_generator.config",
    "datamodel_code_generator.parser.openapi",
    "datamodel_code_generator.parser.generation",
    "datamodel_code_generator.model.pydantic_v2.base_model",
    "datamodel_code_generator.model.pydantic_v2.root_model",
    "datamodel_code_generator.model.enum",
    "datamodel_code_generator.model._compiled_templates.registry",
)


def import_ahead() -> None:
    """Import what datamodel-code-generator's first run would (only imports: no run, no state)."""
    import importlib

    for name in _IMPORTED_BY_GENERATE:
        try:
            importlib.import_module(name)
        except ImportError:
            continue


def generate_models(api: ApiSpec) -> tuple[str, tuple[str, ...]]:
    """Source of the models module, and warnings; every class name build.py promised exists in it.

    build.py already removed what the models cannot express. Should datamodel-code-generator still
    fail, the schemas it fails on are found by bisection and degrade to `Any` (their class stays,
    as `RootModel[Any]`), each with a warning naming its JSON pointer: no operation or response
    is ever lost to a schema.
    """
    source, warnings, _ = _generate(api)
    return source, warnings


def _generate(api: ApiSpec) -> tuple[str, tuple[str, ...], ast.Module]:
    schemas = api.models_document.get("components", {}).get("schemas") or {}
    if not schemas:
        return _EMPTY_MODELS, (), ast.parse(_EMPTY_MODELS)
    warnings: list[str] = []
    options = _options(api)  # once: the bisection of _degrade runs datamodel-code-generator many times
    try:
        source = _run(api.models_document, options)
    except Exception as exc:
        source, warnings = _degrade(api, dict(schemas), exc, options)
    source = _strip_tool_header(source)
    tree = ast.parse(source)
    missing = set(api.model_names) - _class_names(tree)
    if missing:
        raise SpecError.single(
            f"{api.spec_filename}#/components/schemas",
            f"internal: models missing after generation: {', '.join(sorted(missing))}",
        )
    return source, tuple(warnings), tree


def _with_union_modes(node: Any, mode: Any) -> Any:
    """build.py marks opened enums with `union_mode: "left_to_right"`; datamodel-code-generator takes
    that field argument as its own enum, so the marker becomes it (on those fields only: a global
    union_mode would also land on `X | None` fields, where pydantic refuses it)."""
    if isinstance(node, list):
        return [_with_union_modes(item, mode) for item in node]
    if not isinstance(node, dict):
        return node
    return {
        key: mode if key == "union_mode" and value == "left_to_right" else _with_union_modes(value, mode)
        for key, value in node.items()
    }


def _run(document: dict[str, Any], options: dict[str, Any]) -> str:
    from datamodel_code_generator import generate
    from datamodel_code_generator.enums import UnionMode

    document = _with_union_modes(document, UnionMode.left_to_right)

    with warnings_module.catch_warnings():
        # Its UserWarnings (e.g. an unknown `format`: the plain type is used) are not errors.
        warnings_module.simplefilter("ignore")
        source = generate(document, **options)
    if not isinstance(source, str):
        raise TypeError("datamodel-code-generator returned no text")
    # The one line written differently: the base classes' import, made relative (see _BASE_MODULE).
    source = source.replace(f"from {_BASE_MODULE} import ", "from ._model_base import ")
    return sorted_imports(source)


def _degrade(
    api: ApiSpec, schemas: dict[str, Any], first: Exception, options: dict[str, Any]
) -> tuple[str, list[str]]:
    def attempt(stubbed: set[str]) -> str | None:
        document = {
            **api.models_document,
            "components": {
                "schemas": {name: ({} if name in stubbed else s) for name, s in schemas.items()}
            },
        }
        try:
            return _run(document, options)
        except Exception:
            return None

    names = list(schemas)

    def culprits(group: list[str]) -> list[str]:
        """Schemas in `group` that fail with every schema outside `group` stubbed out."""
        others = set(names) - set(group)
        if attempt(others) is not None:
            return []
        if len(group) == 1:
            return group
        half = len(group) // 2
        found = culprits(group[:half]) + culprits(group[half:])
        return found or group  # failing only together: all of them

    bad = set(culprits(names))
    source = attempt(bad)
    if source is None:  # interactions bisection cannot isolate: every schema degrades
        bad = set(names)
        source = attempt(bad)
    if source is None:
        raise SpecError.single(
            f"{api.spec_filename}#/components/schemas", f"cannot build models: {first}"
        ) from None
    message = str(first).splitlines()[0][:200] if str(first) else type(first).__name__
    return source, [
        f"warning: {api.spec_filename}#/components/schemas/{name}: cannot be expressed as a model "
        f"({message}); typed as Any (raw JSON)"
        for name in sorted(bad)
    ]


def _class_names(tree: ast.Module) -> set[str]:
    names = {node.name for node in tree.body if isinstance(node, ast.ClassDef)}
    names.update(
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    )
    names.update(
        node.target.id
        for node in tree.body
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
    )
    return names


def _strip_tool_header(source: str) -> str:
    """Drop datamodel-code-generator's own `# generated by` lines: our header names the spec and its hash."""
    lines = source.splitlines(keepends=True)
    while lines and lines[0].startswith("#"):
        lines.pop(0)
    return "".join(lines).lstrip("\n")


def field_aliases(models_document: Mapping[str, Any]) -> dict[str, list[str]]:
    """datamodel-code-generator's `aliases`: wire name → [attribute name], which it writes as
    `validation_alias=AliasChoices(wire, attribute)` (model_modules.py shortens it to `wire`) +
    `serialization_alias=wire`, so that type checkers see the attribute name in the constructor
    (`CartAuthTicketRequest(cart_id=...)`) and the wire name still validates and serialises. A
    `Class.wire` key where two properties of one class would get the same attribute."""
    aliases: dict[str, list[str]] = {}
    stack: list[Any] = list(models_document.get("components", {}).get("schemas", {}).items())
    while stack:
        owner, schema = stack.pop()
        if isinstance(schema, list):
            stack.extend((owner, item) for item in schema)
            continue
        if not isinstance(schema, dict):
            continue
        properties = schema.get("properties")
        if isinstance(properties, dict):
            allocator = NameAllocator()
            for wire in properties:
                name = allocator.allocate(field_name(str(wire)))
                # The name is the wire name: nothing to alias, unless datamodel-code-generator
                # renames it (`model_config` → `model_config_`): then the wire name must validate.
                if name == wire and not _taken_by_pydantic(name):
                    continue
                if name == field_name(str(wire)):
                    aliases.setdefault(str(wire), [name])
                else:
                    aliases[f"{owner}.{wire}"] = [name]
        for key, value in schema.items():
            if isinstance(value, (dict, list)) and key != "properties":
                stack.append((owner, value))
        if isinstance(properties, dict):
            stack.extend((owner, value) for value in properties.values())
    return aliases


def _taken_by_pydantic(name: str) -> bool:
    """A name a field cannot have on a pydantic model (an attribute of BaseModel, `model_*`)."""
    import pydantic

    return name.startswith("model_") or hasattr(pydantic.BaseModel, name)
