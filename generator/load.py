"""Stage 1: read a spec file (YAML or JSON), check it is OpenAPI 3, resolve and bundle `$ref`s.

Every problem becomes a `Problem` with FILE:LINE:COL where the text tells us, else FILE#/pointer.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import os
import re
import stat
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote

import yaml

from .errors import Problem, SpecError
from .limits import DEFAULT_LIMITS, DEFAULT_MAX_SPEC_BYTES, MAX_EXPANDED_NODES, MAX_NESTING, REF_EXTENSIONS, Limits

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

    The text is composed once per spec (however many errors are located). JSON is YAML.
    """
    node = _composed(text)
    if node is None:
        return None
    best: yaml.Node | None = node
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


@functools.lru_cache(maxsize=2)
def _composed(text: str) -> yaml.Node | None:
    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.compose(text, Loader=loader)
    except (yaml.YAMLError, RecursionError):
        return None


def where(spec_name: str, text: str, parts: tuple[str | int, ...] | list[str | int]) -> str:
    position = locate(text, parts)
    if position is None:
        return f"{spec_name}{pointer(parts)}"
    return f"{spec_name}:{position[0]}:{position[1]}"


def _read_text(path: Path, max_bytes: int = DEFAULT_MAX_SPEC_BYTES, shown: str | None = None) -> str:
    """The file's text; only a regular file, at most `max_bytes` (never a device or FIFO that
    would block or never end). `shown` is how the file is named in errors."""
    name = shown or str(path)
    try:
        # O_NONBLOCK: opening a FIFO does not wait for a writer; fstat then refuses it.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise SpecError.single(name, "file not found") from None
    except IsADirectoryError:
        raise SpecError.single(name, "is a directory, not a spec file") from None
    except OSError as exc:
        raise SpecError.single(name, f"cannot read file: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise SpecError.single(name, "is a directory, not a spec file")
        if not stat.S_ISREG(info.st_mode):
            raise SpecError.single(name, "not a regular file (a device, FIFO or socket is never read)")
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as handle:
        if info.st_size > max_bytes:
            raise SpecError.single(
                name, f"{info.st_size} bytes: larger than the limit of {max_bytes} (--max-spec-bytes)"
            )
        try:
            raw = handle.read(max_bytes + 1)
        except OSError as exc:
            raise SpecError.single(name, f"cannot read file: {exc.strerror}") from None
    if len(raw) > max_bytes:
        raise SpecError.single(name, f"larger than the limit of {max_bytes} bytes (--max-spec-bytes)")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecError.single(name, f"not UTF-8 text (byte {exc.start})") from None


def _parse(path: Path, text: str) -> Any:
    try:
        document = _parse_text(path, text)
    except RecursionError:
        raise SpecError.single(str(path), f"nested more than {MAX_NESTING} levels deep") from None
    check_shape(str(path), text, document)
    return document


def check_shape(name: str, text: str, document: Any) -> None:
    """Refuse documents that would make later stages work without end: nesting deeper than
    MAX_NESTING, YAML aliases that refer to themselves, or aliases that expand to more than
    MAX_EXPANDED_NODES nodes. Linear in the document's distinct nodes (each is visited once)."""
    expanded: dict[int, int] = {}  # id → nodes below it, aliases counted each time
    depth_of: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Any, bool, tuple[str | int, ...]]] = [(document, False, ())]
    while stack:
        node, done, trail = stack.pop()
        key = id(node)
        children: list[tuple[str | int, Any]] = []
        if isinstance(node, dict):
            children = list(node.items())
        elif isinstance(node, list):
            children = list(enumerate(node))
        containers = [(k, v) for k, v in children if isinstance(v, (dict, list))]
        if done:
            on_path.discard(key)
            expanded[key] = 1 + len(children) + sum(expanded[id(v)] for _, v in containers)
            depth_of[key] = 1 + max((depth_of[id(v)] for _, v in containers), default=0)
            if expanded[key] > MAX_EXPANDED_NODES:
                raise SpecError.single(
                    where(name, text, list(trail)),
                    f"YAML aliases expand to more than {MAX_EXPANDED_NODES} nodes (an alias bomb?)",
                )
            if len(trail) + depth_of[key] > MAX_NESTING + 1:
                raise SpecError.single(where(name, text, list(trail)), f"nested more than {MAX_NESTING} levels deep")
            continue
        if key in expanded:
            continue
        if len(trail) > MAX_NESTING:
            raise SpecError.single(where(name, text, list(trail)), f"nested more than {MAX_NESTING} levels deep")
        on_path.add(key)
        stack.append((node, True, trail))
        for k, v in containers:
            if id(v) in on_path:
                raise SpecError.single(where(name, text, [*trail, k]), "a YAML alias refers to itself (a cycle)")
            if id(v) not in expanded:
                stack.append((v, False, (*trail, k)))


def _parse_text(path: Path, text: str) -> Any:
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


def read_document(path: Path, limits: Limits = DEFAULT_LIMITS) -> tuple[str, Any]:
    text = _read_text(path, limits.max_spec_bytes)
    return text, _parse(path, text)


def load_spec(path: Path, *, validate: bool = True, limits: Limits = DEFAULT_LIMITS) -> LoadedSpec:
    """Read, check and bundle one spec file; raises SpecError with every problem found."""
    path = Path(path)
    text, document = read_document(path, limits)
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
        raise SpecError.single(where(name, text, []), "not an OpenAPI document: no 'openapi' key")
    if not isinstance(version, str) or not version.startswith(("3.0", "3.1")):
        raise SpecError.single(
            where(name, text, ["openapi"]),
            f"unsupported OpenAPI version {version!r}: expected 3.0.x or 3.1.x",
        )
    document = _bundle_external_refs(path, text, document, limits)
    problems = list(_dangling_refs(name, text, document))
    if problems:
        raise SpecError(problems)
    warnings: list[str] = []
    if validate:
        warnings.extend(_validate(name, text, document, strict=limits.strict))
    paths = document.get("paths")
    if not isinstance(paths, dict) or not any(
        isinstance(item, dict) and any(m in item for m in HTTP_METHODS) for item in paths.values()
    ):
        # A document of schemas (or of 3.1 webhooks) is a fine input: a package of models (API.md §3).
        place = where(name, text, ["paths"] if "paths" in document else [])
        what = "webhooks" if document.get("webhooks") else "components"
        warnings.append(
            f"warning: {place}: no operations: generating a package of models (from its {what}) and a client "
            "without resources"
        )
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return LoadedSpec(path=path, text=text, sha256=sha, document=document, warnings=tuple(warnings))


def validate_loaded(loaded: LoadedSpec, limits: Limits = DEFAULT_LIMITS) -> tuple[str, ...]:
    """The OpenAPI validator over a spec loaded with `validate=False`: its warnings, or SpecError."""
    return tuple(_validate(str(loaded.path), loaded.text, loaded.document, strict=limits.strict))


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


def _bundle_external_refs(path: Path, text: str, document: dict[str, Any], limits: Limits) -> dict[str, Any]:
    """Inline references to other files, so later stages see one self-contained document.

    External schemas are hoisted into components/schemas (their names kept where free),
    everything else is inlined in place. A reference may only name a regular JSON/YAML file
    under `limits.ref_root` (default: the spec's directory); no error shows another file's text.
    """
    if not any(not ref.startswith("#") for _, ref in iter_refs(document)):
        return document
    root = (limits.ref_root or path.parent).resolve()
    spec_file = path.resolve()
    existing = document.get("components", {}).get("schemas") if isinstance(document.get("components"), dict) else None
    taken = set(existing) if isinstance(existing, dict) else set()
    hoisted_schemas: dict[str, Any] = {}  # filled while the document is walked, merged at the end
    cache: dict[Path, tuple[str, Any]] = {}
    hoisted: dict[tuple[Path, str], str] = {}
    inlined: dict[tuple[Path, str], Any] = {}  # each non-schema target rewritten once (fan-out)

    def confined(file_part: str, base: Path, here: str) -> Path:
        raw = unquote(file_part)
        if os.path.isabs(raw) or raw.startswith(("~", "\\")) or (len(raw) > 1 and raw[1] == ":"):
            raise SpecError.single(
                here, "external $ref: absolute paths are not followed (only files under the spec's directory)"
            )
        target = (base.parent / raw).resolve()
        if not target.is_relative_to(root):
            raise SpecError.single(
                here, "external $ref: points outside the spec's directory (--ref-root widens what may be read)"
            )
        if target.suffix.lower() not in REF_EXTENSIONS:
            raise SpecError.single(here, f"external $ref: only {', '.join(REF_EXTENSIONS)} files are followed")
        return target

    def load_external(file: Path, where_from: str) -> tuple[str, Any]:
        if file not in cache:
            shown = file.relative_to(root).as_posix()
            try:
                ext_text = _read_text(file, limits.max_spec_bytes, shown)
            except SpecError as exc:
                raise SpecError.single(where_from, f"external $ref: {shown}: {exc.problems[0].message}") from None
            try:
                ext_doc = _parse(file, ext_text)
            except SpecError:
                # Not the parser's message: it may quote the file's content.
                message = f"external $ref: {shown} is not a valid JSON/YAML document"
                raise SpecError.single(where_from, message) from None
            if not isinstance(ext_doc, dict):
                raise SpecError.single(where_from, f"external $ref: {shown} is not a JSON/YAML mapping")
            cache[file] = ext_text, ext_doc
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
            raise SpecError.single(str(base.name), "external $ref chain is too deep (cycle between files?)")
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
            shown_base = str(path) if base == spec_file else base.relative_to(root).as_posix()
            here = where(shown_base, base_text, [*trail, "$ref"])
            if file_part:
                if "://" in file_part:
                    raise SpecError.single(
                        here, "remote $ref is not supported; download it and refer to the file"
                    )
                target_file = confined(file_part, base, here)
                ext_text, ext_doc = (base_text, base_doc) if target_file == base else load_external(target_file, here)
            else:
                target_file, ext_text, ext_doc = base, base_text, base_doc
            if target_file == spec_file:
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
                    while name_ in taken:
                        name_ = f"{base_name}{counter}"
                        counter += 1
                    taken.add(name_)
                    hoisted[key] = name_
                    hoisted_schemas[name_] = rewrite(target, target_file, ext_doc, ext_text, (), depth + 1, True)
                return {"$ref": "#/components/schemas/" + escape_pointer_part(hoisted[key])}
            if key not in inlined:
                inlined[key] = rewrite(target, target_file, ext_doc, ext_text, (), depth + 1)
            return copy.deepcopy(inlined[key])
        return {
            k: rewrite(
                v, base, base_doc, base_text, (*trail, k), depth, in_schema or k in _SCHEMA_KEYS
            )
            for k, v in node.items()
        }

    bundled = rewrite(document, spec_file, document, text, (), 0)
    assert isinstance(bundled, dict)
    components = bundled.setdefault("components", {})
    if not isinstance(components, dict):
        raise SpecError.single(where(str(path), text, ["components"]), "'components' must be a mapping")
    schemas = components.setdefault("schemas", {})
    if not isinstance(schemas, dict):
        location = where(str(path), text, ["components", "schemas"])
        raise SpecError.single(location, "'components.schemas' must be a mapping")
    schemas.update(hoisted_schemas)
    check_shape(str(path), text, bundled)  # inlined files may nest or fan out further
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


_T = TypeVar("_T")

# The validator recurses per schema level; documents are capped at MAX_NESTING levels, and this
# stack holds that depth with room to spare (a RecursionError is then an error, never a skip).
_VALIDATOR_RECURSION_LIMIT = 20_000
_VALIDATOR_STACK_BYTES = 512 * 1024 * 1024


def _with_deep_stack(fn: Callable[[], _T]) -> _T:
    """`fn()` on a thread with a large stack and recursion limit; returns or raises what it did."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(("ok", fn()))
        except BaseException as exc:
            outcome.append(("error", exc))

    old_limit = sys.getrecursionlimit()
    old_size = threading.stack_size()
    try:
        threading.stack_size(_VALIDATOR_STACK_BYTES)
        sys.setrecursionlimit(max(old_limit, _VALIDATOR_RECURSION_LIMIT))
        worker = threading.Thread(target=run, name="openapi-validator")
        worker.start()
        worker.join()
    finally:
        threading.stack_size(old_size)
        sys.setrecursionlimit(old_limit)
    kind, value = outcome[0]
    if kind == "error":
        raise value
    return value  # type: ignore[no-any-return]


def _memoise_collect_properties() -> None:
    """openapi-spec-validator 0.9.0 (pinned) walks allOf/anyOf/oneOf/items without memory, so a
    1 KB fan-out of `$ref`s costs minutes and a cycle recurses without end; remember each schema."""
    from openapi_spec_validator.validation import keywords

    original = keywords.SchemaValidator._collect_properties
    if getattr(original, "memoised", False):
        return

    def collect(self: Any, schema: Any) -> set[str]:
        memo: dict[int, set[str]] = self.__dict__.setdefault("_collected_properties", {})
        key = id(schema.read_value())
        if key not in memo:
            memo[key] = set()  # a cycle ends here
            memo[key] = original(self, schema)
        return memo[key]

    collect.memoised = True  # type: ignore[attr-defined]
    keywords.SchemaValidator._collect_properties = collect  # type: ignore[method-assign]


_Finding = tuple[tuple[str | int, ...], str]


def _findings(document: dict[str, Any]) -> tuple[list[_Finding], Exception | None]:
    """(path, message) of every validator error, and what the validator raised if it crashed
    (the errors it found before that are kept). RecursionError is raised."""
    from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator

    _memoise_collect_properties()
    version = str(document.get("openapi", ""))
    validator_cls = OpenAPIV31SpecValidator if version.startswith("3.1") else OpenAPIV30SpecValidator
    found: list[_Finding] = []
    try:
        for error in validator_cls(document).iter_errors():
            relative = [p for p in getattr(error, "absolute_path", ()) if isinstance(p, (str, int))]
            parts = _document_path(document, relative, getattr(error, "instance", None))
            message = str(getattr(error, "message", error)).splitlines()[0]
            if len(message) > 200:
                message = message[:200] + "…"
            found.append((tuple(parts), message))
    except RecursionError:
        raise
    except Exception as exc:
        return found, exc
    return found, None


def _checked(name: str, document: dict[str, Any]) -> tuple[list[_Finding], Exception | None]:
    try:
        return _with_deep_stack(lambda: _findings(document))
    except RecursionError:
        raise SpecError.single(name, "the OpenAPI validator cannot check a document nested this deeply") from None


def _validate(name: str, text: str, document: dict[str, Any], *, strict: bool = False) -> list[str]:
    try:
        return _validate_located(name, text, document, strict=strict)
    except SpecError as exc:  # a finding about the whole document: located at its start
        whole = where(name, text, [])
        problems = [Problem(whole if p.location == name else p.location, p.message) for p in exc.problems]
        raise SpecError(problems) from None


def _validate_located(name: str, text: str, document: dict[str, Any], *, strict: bool) -> list[str]:
    warnings: list[str] = []
    found, crash = _checked(name, document)
    if crash is not None:
        # The validator crashes on some real-world constructs (Kibo's inventory spec: a stray '}' in
        # a path; a parameter without 'in'). Never a reason to skip validation: every path item it
        # can check is checked, and only the ones it crashes on are left to our own stages (which
        # check what they rely on), each with a located warning.
        found, crashed = _validate_around_crash(name, document, crash)
        for parts, reason in crashed:
            warnings.append(
                f"warning: {where(name, text, list(parts))}: the OpenAPI validator cannot check this path item "
                f"({reason}); the generator's own checks still apply"
            )
    problems: list[Problem] = []
    for parts, message in dict.fromkeys(found):
        located = where(name, text, list(parts))
        harmless = None if strict else _harmless(parts, message, document)
        if harmless is not None:
            warnings.append(f"warning: {located}: {message} ({harmless}; --strict makes it an error)")
            continue
        problems.append(Problem(located, f"invalid OpenAPI: {message}"))
    if problems:
        raise SpecError(problems)
    return warnings


# Findings whose meaning is clear and that the generator builds as meant (issue 13.3): Kibo's
# inventory spec lists required properties it never declares (they are simply not required);
# openapi-python-client's own specs put `title` on operations; a `content` parameter may list
# several media types (the first is used); operationIds that repeat get distinct names.
_HARMLESS_MESSAGES = (
    "Required list has not defined properties",
    "Unevaluated properties are not allowed",
    "Additional properties are not allowed",
    "Path parameter",
)
_EXTRA_KEY = re.compile(r"^'.*' does not match any of the regexes: '\^x-'")  # an unknown key (3.0)
STATUS_KEY = re.compile(r"^([1-5]([0-9]{2}|[Xx]{2})|default)$")  # a key of `responses`
_HARMLESS_ID = re.compile(r"^Operation ID '.*' for '.*' operation in '.*' is not unique")
# Keys under which a finding concerns a schema: the models degrade what they cannot express (a
# dropped keyword, a looser type, `Any`), each with its own warning, so the schema never blocks.
_SCHEMA_PATH_KEYS = frozenset(
    {"schema", "schemas", "items", "properties", "allOf", "anyOf", "oneOf", "additionalProperties", "not"}
    | {"prefixItems", "$defs", "definitions", "patternProperties"}
)


def _harmless(parts: tuple[str | int, ...], message: str, document: Any) -> str | None:
    """Why a validator finding does not stop generation (the document's meaning is clear), or None."""
    if _VALUE_KEYWORDS.intersection(str(p) for p in parts):
        return "only a value example"
    if (not parts and message == "'paths' is a required property") or (
        parts == ("paths",) and message.startswith("None is not of type")
    ):
        return "a document of components: a package of models"
    if parts == ("info",) and message in ("'version' is a required property", "'title' is a required property"):
        return "the package's name and version come from elsewhere (--package-name, 0.0.0)"
    if message.startswith(_HARMLESS_MESSAGES) or _HARMLESS_ID.match(message) or _EXTRA_KEY.match(message):
        return "harmless: generated as meant"
    if _SCHEMA_PATH_KEYS.intersection(str(p) for p in parts):
        return "the schema is generated as far as it is understood"
    node: Any = document
    for part in parts:
        node = _child(node, part)
    if isinstance(node, dict) and "in" in node and isinstance(node.get("content"), dict):
        return "a parameter with `content`: its first media type is used"
    if "responses" in parts and isinstance(node, dict) and isinstance(node.get("content"), dict):
        return "the response's schema is generated as far as it is understood"
    if parts and parts[-1] == "responses" and isinstance(node, dict) and not all(map(STATUS_KEY.match, map(str, node))):
        return "a response key that is not a status code (`200`, `4XX`, `default`) is ignored"
    if isinstance(node, dict) and "in" in node and isinstance(node.get("schema"), dict) and "name" in node:
        return "the parameter's schema is used as far as it is understood"
    return None


def _child(node: Any, part: str | int) -> Any:
    if isinstance(node, dict):
        return node.get(part)
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return None


def _validate_around_crash(
    name: str, document: dict[str, Any], first: Exception
) -> tuple[list[_Finding], list[tuple[tuple[str | int, ...], str]]]:
    """Validate the document without its paths, then its path items in halves (bisection), so a
    crash is pinned to the path items that cause it (their findings up to the crash are kept).
    SpecError when the validator crashes outside 'paths' too."""
    paths = document.get("paths")
    if not isinstance(paths, dict):
        paths = {}  # a document of components: the validator wants 'paths' to walk
    reason = f"{type(first).__name__}: {first}"[:200]
    rest, crash = _checked(name, {**document, "paths": {}})
    if crash is not None:
        message = f"the OpenAPI validator crashed ({reason}) outside 'paths'; cannot check the document"
        raise SpecError.single(name, message)
    found = list(rest)
    crashed: list[tuple[tuple[str | int, ...], str]] = []
    pending = [list(paths)]
    while pending:
        keys = pending.pop()
        result, crash = _checked(name, {**document, "paths": {k: paths[k] for k in keys}})
        if crash is None:
            found.extend(result)
        elif len(keys) == 1:
            found.extend(result)
            crashed.append((("paths", keys[0]), f"{type(crash).__name__}: {crash}"[:200]))
        else:
            half = len(keys) // 2
            pending.extend([keys[half:], keys[:half]])
    return found, crashed
