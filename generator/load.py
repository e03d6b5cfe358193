"""Stage 1: read a spec file (YAML or JSON), check it is OpenAPI 3, resolve and bundle `$ref`s.

Every problem becomes a `Problem` with FILE:LINE:COL where the text tells us, else FILE#/pointer.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml

from .errors import Problem, SpecError

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True)
class LoadedSpec:
    path: Path
    text: str
    sha256: str
    document: dict[str, Any]
    warnings: tuple[str, ...] = ()

    @property
    def display_name(self) -> str:
        return self.path.name


def escape_pointer_part(part: str | int) -> str:
    return str(part).replace("~", "~0").replace("/", "~1")


def pointer(parts: tuple[str | int, ...] | list[str | int]) -> str:
    return "#/" + "/".join(escape_pointer_part(p) for p in parts)


def _unescape_pointer_part(part: str) -> str:
    return unquote(part).replace("~1", "/").replace("~0", "~")


def locate(text: str, parts: tuple[str | int, ...] | list[str | int]) -> tuple[int, int] | None:
    """1-based line/column of the node at `parts`, found by composing the text as YAML.

    Only called on error paths, so the cost of a second parse does not matter. JSON is YAML.
    """
    try:
        node: yaml.Node | None = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    best = node
    for part in parts:
        if isinstance(node, yaml.MappingNode):
            nxt = None
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                    nxt = value
                    best = key
                    break
            node = nxt
        elif (isinstance(node, yaml.SequenceNode) and isinstance(part, int)) or (
            isinstance(node, yaml.SequenceNode) and str(part).isdigit()
        ):
            index = int(part)
            node = node.value[index] if index < len(node.value) else None
            best = node
        else:
            node = None
        if node is None:
            break
    if best is None:
        return None
    return best.start_mark.line + 1, best.start_mark.column + 1


def where(spec_name: str, text: str, parts: tuple[str | int, ...] | list[str | int]) -> str:
    position = locate(text, parts)
    if position is None:
        return f"{spec_name}{pointer(parts)}"
    return f"{spec_name}:{position[0]}:{position[1]}"


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SpecError.single(str(path), "file not found") from None
    except IsADirectoryError:
        raise SpecError.single(str(path), "is a directory, not a spec file") from None
    except OSError as exc:
        raise SpecError.single(str(path), f"cannot read file: {exc.strerror}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecError.single(str(path), f"not UTF-8 text (byte {exc.start})") from None


def _parse(path: Path, text: str) -> Any:
    name = str(path)
    if path.suffix.lower() == ".json" or text.lstrip().startswith(("{", "[")):
        try:
            return json.loads(text, object_pairs_hook=_unique_pairs)
        except json.JSONDecodeError as exc:
            raise SpecError.single(f"{name}:{exc.lineno}:{exc.colno}", f"invalid JSON: {exc.msg}") from None
        except _DuplicateKey as exc:
            position = _duplicate_key_position(text, exc.key)
            location = f"{name}:{position[0]}:{position[1]}" if position else name
            raise SpecError.single(location, f"invalid JSON: {exc}") from None
    if _FastStrictSafeLoader is not None:
        try:  # libyaml: ~20x faster; on any error the pure-Python parser below gives the detailed message
            return yaml.load(text, Loader=_FastStrictSafeLoader)
        except yaml.YAMLError:
            pass
    try:
        return yaml.load(text, Loader=_StrictSafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        location = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
        message = " ".join(str(m) for m in (exc.context, exc.problem) if m)
        raise SpecError.single(location, f"invalid YAML: {message}") from None
    except yaml.YAMLError as exc:
        raise SpecError.single(name, f"invalid YAML: {exc}") from None


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(
            f"duplicate key {key!r} (keys must be unique; a parser would silently keep only the last)"
        )
        self.key = key


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return result


def _duplicate_key_position(text: str, key: str) -> tuple[int, int] | None:
    """Line and column of the second occurrence of `key` in one mapping (JSON read as YAML)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key_node, value in node.value:
                if isinstance(key_node, yaml.ScalarNode):
                    if key_node.value == key and key in seen:
                        return key_node.start_mark.line + 1, key_node.start_mark.column + 1
                    seen.add(key_node.value)
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return None


class _UniqueKeysMixin:
    """A YAML mapping with the same key twice is an error, not a silent overwrite."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            seen: set[tuple[str, str]] = set()
            for key_node, _ in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                    marker = (key_node.tag, key_node.value)
                    if marker in seen:
                        raise yaml.constructor.ConstructorError(
                            "while constructing a mapping",
                            node.start_mark,
                            f"found duplicate key {key_node.value!r}",
                            key_node.start_mark,
                        )
                    seen.add(marker)
        return super().construct_mapping(node, deep)  # type: ignore[misc, no-any-return]


class _StrictSafeLoader(_UniqueKeysMixin, yaml.SafeLoader):
    """SafeLoader that keeps timestamps and dates as the strings they are in an OpenAPI document,
    and rejects duplicate keys."""


for _first, _resolvers in list(_StrictSafeLoader.yaml_implicit_resolvers.items()):
    _StrictSafeLoader.yaml_implicit_resolvers[_first] = [
        (tag, regexp) for tag, regexp in _resolvers if tag != "tag:yaml.org,2002:timestamp"
    ]

_FastStrictSafeLoader: Any = None
if getattr(yaml, "__with_libyaml__", False):

    class _FastStrict(_UniqueKeysMixin, yaml.CSafeLoader):
        """The same loader on libyaml's parser (speed only: same documents, same resolvers)."""

    _FastStrict.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in _FastStrict.yaml_implicit_resolvers.items()
    }
    _FastStrictSafeLoader = _FastStrict


def read_document(path: Path) -> tuple[str, Any]:
    text = _read_text(path)
    return text, _parse(path, text)


def load_spec(path: Path, *, validate: bool = True) -> LoadedSpec:
    """Read, check and bundle one spec file; raises SpecError with every problem found."""
    path = Path(path)
    text, document = read_document(path)
    name = str(path)
    if not isinstance(document, dict):
        kind = type(document).__name__ if document is not None else "empty document"
        raise SpecError.single(name, f"not an OpenAPI document: top level is {kind}, not a mapping")
    if "swagger" in document and "openapi" not in document:
        raise SpecError.single(
            where(name, text, ["swagger"]),
            f"Swagger {document.get('swagger')} is not supported; convert it to OpenAPI 3 first "
            "(e.g. `npx swagger2openapi spec.json -o spec3.yaml`)",
        )
    version = document.get("openapi")
    if version is None:
        raise SpecError.single(name, "not an OpenAPI document: no 'openapi' key")
    if not isinstance(version, str) or not version.startswith(("3.0", "3.1")):
        raise SpecError.single(
            where(name, text, ["openapi"]),
            f"unsupported OpenAPI version {version!r}: expected 3.0.x or 3.1.x",
        )
    document = _bundle_external_refs(path, text, document)
    problems = list(_dangling_refs(name, text, document))
    if problems:
        raise SpecError(problems)
    warnings: list[str] = []
    if validate:
        warnings.extend(_validate(name, text, document))
    paths = document.get("paths")
    if not isinstance(paths, dict) or not any(
        isinstance(item, dict) and any(m in item for m in HTTP_METHODS) for item in paths.values()
    ):
        raise SpecError.single(where(name, text, ["paths"]), "no operations: 'paths' is empty")
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return LoadedSpec(path=path, text=text, sha256=sha, document=document, warnings=tuple(warnings))


def iter_refs(node: Any, parts: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every `$ref` string in the document with the path of the object holding it."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield parts, ref
        for key, value in node.items():
            if isinstance(value, (dict, list)):
                yield from iter_refs(value, (*parts, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            if isinstance(value, (dict, list)):
                yield from iter_refs(value, (*parts, index))


def resolve_pointer(document: Any, ref: str) -> Any:
    """The node a local `#/...` reference points at; KeyError when it does not resolve."""
    if not ref.startswith("#"):
        raise KeyError(ref)
    node = document
    fragment = ref[1:]
    if fragment in ("", "/"):
        return node
    for raw in fragment.lstrip("/").split("/"):
        part = _unescape_pointer_part(raw)
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise KeyError(ref)
    return node


def _dangling_refs(name: str, text: str, document: dict[str, Any]) -> Iterator[Problem]:
    for parts, ref in iter_refs(document):
        try:
            resolve_pointer(document, ref)
        except KeyError:
            yield Problem(where(name, text, [*parts, "$ref"]), f"$ref {ref!r} does not resolve")


# Keys whose values are schemas (or maps of schemas): an external $ref below them is a schema.
_SCHEMA_KEYS = frozenset({"schema", "schemas", "definitions", "$defs"})


def _bundle_external_refs(path: Path, text: str, document: dict[str, Any]) -> dict[str, Any]:
    """Inline references to other files, so later stages see one self-contained document.

    External schemas are hoisted into components/schemas (their names kept where free),
    everything else is inlined in place.
    """
    if not any(not ref.startswith("#") for _, ref in iter_refs(document)):
        return document
    document = copy.deepcopy(document)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    cache: dict[Path, tuple[str, Any]] = {}
    hoisted: dict[tuple[Path, str], str] = {}

    def load_external(file: Path, where_from: str) -> tuple[str, Any]:
        if file not in cache:
            try:
                cache[file] = read_document(file)
            except SpecError as exc:
                problem = exc.problems[0]
                raise SpecError.single(where_from, f"external $ref: {problem.location}: {problem.message}") from None
        return cache[file]

    def rewrite(
        node: Any,
        base: Path,
        base_doc: Any,
        base_text: str,
        trail: tuple[str | int, ...],
        depth: int,
        in_schema: bool = False,
    ) -> Any:
        if depth > 50:
            raise SpecError.single(str(base), "external $ref chain is too deep (cycle between files?)")
        if isinstance(node, list):
            return [
                rewrite(v, base, base_doc, base_text, (*trail, i), depth, in_schema)
                for i, v in enumerate(node)
            ]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str):
            file_part, _, fragment = ref.partition("#")
            here = where(str(base), base_text, [*trail, "$ref"])
            if file_part:
                if "://" in file_part:
                    raise SpecError.single(
                        here, f"remote $ref {ref!r} is not supported; download it and refer to the file"
                    )
                target_file = (base.parent / unquote(file_part)).resolve()
                ext_text, ext_doc = load_external(target_file, here)
            else:
                target_file, ext_text, ext_doc = base, base_text, base_doc
            if target_file == path.resolve():
                return {"$ref": "#" + fragment}
            try:
                target = resolve_pointer(ext_doc, "#" + fragment)
            except KeyError:
                raise SpecError.single(here, f"$ref {ref!r} does not resolve in {target_file.name}") from None
            key = (target_file, fragment)
            # A schema keeps its name (and a cycle of schemas ends): hoisted, not inlined.
            is_schema = in_schema or "/schemas/" in fragment or "/definitions/" in fragment
            if is_schema:
                if key not in hoisted:
                    base_name = fragment.rstrip("/").rsplit("/", 1)[-1] or target_file.stem
                    name_ = base_name
                    counter = 2
                    while name_ in schemas:
                        name_ = f"{base_name}{counter}"
                        counter += 1
                    hoisted[key] = name_
                    schemas[name_] = {}
                    schemas[name_] = rewrite(target, target_file, ext_doc, ext_text, (), depth + 1, True)
                return {"$ref": "#/components/schemas/" + escape_pointer_part(hoisted[key])}
            return rewrite(target, target_file, ext_doc, ext_text, (), depth + 1)
        return {
            k: rewrite(
                v, base, base_doc, base_text, (*trail, k), depth, in_schema or k in _SCHEMA_KEYS
            )
            for k, v in node.items()
        }

    bundled = rewrite(document, path.resolve(), document, text, (), 0)
    assert isinstance(bundled, dict)
    bundled.setdefault("components", {}).setdefault("schemas", {}).update(schemas)
    return bundled


# Validator findings inside example/default/enum values do not stop generation: real specs
# (Kibo's orderrouting) carry such slips and still describe a usable API.
_VALUE_KEYWORDS = {"default", "example", "examples", "enum", "x-example"}


def _document_path(document: Any, parts: list[str | int], instance: Any) -> list[str | int]:
    """The validator's path made absolute: it validates schemas (and defaults) one by one, and
    reports paths relative to that schema. Found by looking for the node that holds `instance`
    (the very object) at `parts`; `parts` unchanged when that is already the document path."""

    def at(node: Any, rest: list[str | int]) -> Any:
        for part in rest:
            found = (isinstance(node, dict) and part in node) or (
                isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
            )
            if not found:
                return _MISSING
            node = node[part]
        return node

    if instance is None or at(document, parts) is instance:
        return parts
    stack: list[tuple[Any, list[str | int]]] = [(document, [])]
    while stack:
        node, trail = stack.pop()
        if at(node, parts) is instance:
            return [*trail, *parts]
        children = node.items() if isinstance(node, dict) else enumerate(node)
        for key, child in children:
            if isinstance(child, (dict, list)) or (not parts and child is instance):
                if not parts and child is instance:
                    return [*trail, key]
                stack.append((child, [*trail, key]))
    return parts


_MISSING = object()


def _validate(name: str, text: str, document: dict[str, Any]) -> list[str]:
    from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator

    version = str(document.get("openapi", ""))
    validator_cls = OpenAPIV31SpecValidator if version.startswith("3.1") else OpenAPIV30SpecValidator
    problems: list[Problem] = []
    warnings: list[str] = []
    try:
        for error in validator_cls(document).iter_errors():
            relative = [p for p in getattr(error, "absolute_path", ()) if isinstance(p, (str, int))]
            parts = _document_path(document, relative, getattr(error, "instance", None))
            message = str(getattr(error, "message", error)).splitlines()[0]
            if len(message) > 200:
                message = message[:200] + "…"
            if _VALUE_KEYWORDS.intersection(str(p) for p in parts):
                warnings.append(f"warning: {name}{pointer(parts)}: {message} (ignored: only a value example)")
                continue
            problems.append(Problem(where(name, text, parts) if parts else name, f"invalid OpenAPI: {message}"))
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        # The validator itself chokes on some real-world constructs (e.g. a stray '}' in a path);
        # our own stages still check what they rely on.
        warnings.append(f"warning: {name}: the OpenAPI validator stopped early ({type(exc).__name__}: {exc})")
    if problems:
        raise SpecError(problems)
    return warnings
