"""Stage 3: the one place that calls datamodel-code-generator (components/schemas → pydantic v2)."""

from __future__ import annotations

import ast
import warnings as warnings_module
from typing import Any

from .errors import SpecError
from .spec import ApiSpec

_EMPTY_MODELS = "from __future__ import annotations\n"


def _options() -> dict[str, Any]:
    # Imported lazily: datamodel-code-generator is the slowest import of the pipeline.
    from datamodel_code_generator.enums import DataModelType, InputFileType, UnionMode
    from datamodel_code_generator.format import DatetimeClassType, PythonVersion

    return {
        "input_file_type": InputFileType.OpenAPI,
        "output_model_type": DataModelType.PydanticV2BaseModel,
        "target_python_version": PythonVersion.PY_310,
        "snake_case_field": True,
        "allow_population_by_field_name": True,
        "extra_fields": "allow",  # a newer server's fields survive a round trip
        "use_standard_collections": True,
        "use_union_operator": True,
        "use_schema_description": True,
        "use_field_description": True,
        "use_double_quotes": True,
        "disable_timestamp": True,
        "output_datetime_class": DatetimeClassType.Datetime,
        "field_extra_keys": {"repr"},  # secrets: Field(repr=False), set by build.py
        "formatters": [],  # black runs once, in emit.py
        "keep_model_order": True,
        "field_constraints": True,  # constraints in Field(...), not constr(): mypy --strict accepts it
        "capitalise_enum_members": True,
        # `Kind | str` for open enums: try the enum first, keep unknown values as text.
        "union_mode": UnionMode.left_to_right,
    }


def generate_models(api: ApiSpec) -> str:
    """Source of models.py; every class name build.py promised exists in it.

    build.py already removed what the models cannot express. Should datamodel-code-generator still
    fail, the schemas it fails on are found by bisection and degrade to `Any` (their class stays,
    as `RootModel[Any]`), each with a warning naming its JSON pointer: no operation or response
    is ever lost to a schema. The warnings are added to `api.warnings`.
    """
    schemas = api.models_document.get("components", {}).get("schemas") or {}
    if not schemas:
        return _EMPTY_MODELS
    try:
        source = _run(api.models_document)
    except Exception as exc:
        source, warnings = _degrade(api, dict(schemas), exc)
        # ApiSpec is frozen data; these warnings are part of building it, only discovered here.
        object.__setattr__(api, "warnings", (*api.warnings, *warnings))
    missing = set(api.model_names) - _class_names(source)
    if missing:
        raise SpecError.single(
            f"{api.spec_filename}#/components/schemas",
            f"internal: models missing after generation: {', '.join(sorted(missing))}",
        )
    return _strip_tool_header(source)


def _run(document: dict[str, Any]) -> str:
    from datamodel_code_generator import generate

    with warnings_module.catch_warnings():
        # Its UserWarnings (e.g. an unknown `format`: the plain type is used) are not errors.
        warnings_module.simplefilter("ignore")
        source = generate(document, **_options())
    if not isinstance(source, str):
        raise TypeError("datamodel-code-generator returned no text")
    ast.parse(source)
    return source


def _degrade(api: ApiSpec, schemas: dict[str, Any], first: Exception) -> tuple[str, list[str]]:
    def attempt(stubbed: set[str]) -> str | None:
        document = {
            **api.models_document,
            "components": {
                "schemas": {name: ({} if name in stubbed else s) for name, s in schemas.items()}
            },
        }
        try:
            return _run(document)
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


def _class_names(source: str) -> set[str]:
    tree = ast.parse(source)
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
