"""datamodel-code-generator's one models module, cut into the package's `models/`: a module per class.

Imported as one module, the models of a big spec are built all at once on the first call
(commerce: 223 classes, +300 ms). Here each class gets a module of its own, which imports exactly the
classes it refers to; classes that refer to each other in a cycle share one. `models/__init__.py`
(rendered by render.py from `ModelModules.module_of`) imports a class's module the first time the
class is used, so a call builds only the models it needs.

Every statement is moved whole; one argument is simplified (`_plain_validation_aliases`), and
black formats the modules afterwards.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import cast

from .imports import sorted_imports
from .naming import NameAllocator, snake_case
from .safe import Identifier

# The package's models, relative to the package: `__init__.py` (rendered) and the model modules.
MODELS_PACKAGE = "models/"

# Names no module file may take: Windows refuses these file names whatever the extension, and
# `annotations` is bound in `models/__init__.py` (a submodule import would rebind it).
_RESERVED_MODULE_NAMES = frozenset(
    {"con", "prn", "aux", "nul", *(f"com{n}" for n in range(10)), *(f"lpt{n}" for n in range(10))}
    | {"annotations"}
)


@dataclass(frozen=True)
class ModelModules:
    sources: dict[Identifier, str]  # module name (the file without `.py`) → its source, before black
    module_of: dict[Identifier, Identifier]  # every name the models define → the module defining it

    @property
    def exports_by_module(self) -> list[tuple[Identifier, list[Identifier]]]:
        """(module, the names it defines), sorted by module name."""
        grouped: dict[Identifier, list[Identifier]] = {}
        for name, module in self.module_of.items():
            grouped.setdefault(module, []).append(name)
        return sorted(grouped.items())


# A line as Python's parser counts them: ended by \n, \r\n or \r only. str.splitlines also
# splits at \x0b, \x0c, \x1c-\x1e, \x85, U+2028 and U+2029, which a string literal may hold.
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def source_lines(source: str) -> list[str]:
    """`source` cut into lines (ends kept) numbered as `ast` numbers them."""
    return _LINE.findall(source)


def is_model_module(relative: str) -> bool:
    """Whether the package file `relative` is one of the model modules (datamodel-code-generator's
    text, which black formats)."""
    return relative.startswith(MODELS_PACKAGE) and relative != f"{MODELS_PACKAGE}__init__.py"


def split_models(source: str, tree: ast.Module | None = None) -> ModelModules:
    """`source` (the models module as models.py has it from datamodel-code-generator; `tree`, its
    parse, if at hand) as one module per class, or per group of classes that refer to each other."""
    tree = tree if tree is not None else ast.parse(source)
    lines = source_lines(source)
    imports = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    statements = [node for node in tree.body if not isinstance(node, (ast.Import, ast.ImportFrom))]

    defined = [_defined_names(node) for node in statements]
    defined_by = {name: index for index, names in enumerate(defined) for name in names}
    loaded = [_loaded_names(node) for node in statements]
    texts = [_plain_validation_aliases(node, lines, loaded[index]) for index, node in enumerate(statements)]
    uses: list[set[int]] = []
    for index, node in enumerate(statements):
        used = {defined_by[name] for name in loaded[index] if name in defined_by}
        used.discard(index)
        if not defined[index] and not used:
            if index and _is_docstring(node):
                used = {index - 1}  # the docstring of the statement above it
            else:
                raise RuntimeError(f"models.py line {node.lineno}: a statement that neither defines nor uses a model")
        uses.append(used)
    for index in range(len(statements)):
        if not defined[index]:
            # `Cart.model_rebuild()` runs after every class it names, so in their module: an edge
            # back from each of them puts the call in their strongly connected group.
            for other in uses[index]:
                uses[other].add(index)

    groups = _strongly_connected(uses)
    group_of = {member: number for number, group in enumerate(groups) for member in group}
    names = NameAllocator(reserved=_RESERVED_MODULE_NAMES)
    module_names: list[Identifier] = []
    for group in groups:
        first = min(group)
        wanted = next(iter(defined[first]), None) or "rebuild"
        module_names.append(names.allocate(snake_case(wanted, fallback="model")))

    sources: dict[Identifier, str] = {}
    module_of: dict[Identifier, Identifier] = {}
    for number, group in enumerate(groups):
        members = sorted(group)  # datamodel-code-generator's order: what a class uses comes first
        body: list[str] = []
        for index in members:
            if _is_docstring(statements[index]) and index - 1 in group and body:
                body[-1] += "\n" + texts[index]  # right under its statement
            else:
                body.append(texts[index])
        used_names: set[str] = set().union(*(loaded[index] for index in members))
        siblings: dict[str, list[str]] = {}
        for index in members:
            for other in uses[index]:
                if group_of[other] != number:
                    for name in defined[other]:
                        if name in used_names:
                            siblings.setdefault(module_names[group_of[other]], []).append(name)
        deferred = _needs_deferred_annotations([statements[index] for index in members])
        header = [_import_text(node, used_names, deferred) for node in imports]
        for module, found in sorted(siblings.items()):
            header.append(f"from .{module} import {', '.join(sorted(set(found)))}\n")
        text = sorted_imports("".join(line for line in header if line)) + "\n\n" + "\n\n\n".join(body) + "\n"
        sources[module_names[number]] = text
        for index in members:
            for name in defined[index]:
                module_of[Identifier(name)] = module_names[number]
    return ModelModules(sources, dict(sorted(module_of.items())))


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _defined_names(node: ast.stmt) -> list[str]:
    if isinstance(node, ast.ClassDef):
        return [node.name]
    if isinstance(node, ast.Assign):
        return [target.id for target in node.targets if isinstance(target, ast.Name)]
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return [node.target.id]
    return []


def _loaded_names(node: ast.stmt) -> set[str]:
    """The names `node` reads, those of forward references (`list["Cart"]`) included."""
    names: set[str] = set()
    pending: list[ast.AST] = []  # where a string is a forward reference: annotations and bases
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load):
            names.add(sub.id)
        elif isinstance(sub, ast.AnnAssign):
            pending.append(sub.annotation)
        elif isinstance(sub, ast.ClassDef):
            pending += sub.bases
    for part in _outside_literals(pending):
        if isinstance(part, ast.Constant) and isinstance(part.value, str):
            try:
                reference = ast.parse(part.value, mode="eval")
            except SyntaxError:
                continue
            names.update(n.id for n in ast.walk(reference) if isinstance(n, ast.Name))
    return names


def _outside_literals(roots: list[ast.AST]) -> Iterator[ast.AST]:
    """Every node below `roots` but those inside `Literal[...]`, whose strings are values, never
    references."""
    pending = list(roots)
    while pending:
        part = pending.pop()
        if isinstance(part, ast.Subscript) and isinstance(part.value, ast.Name) and part.value.id == "Literal":
            continue
        yield part
        pending.extend(ast.iter_child_nodes(part))


def _plain_validation_aliases(node: ast.stmt, lines: list[str], loaded: set[str]) -> str:
    """The text of `node`, each `validation_alias=AliasChoices("wireName", "attribute")` of its
    fields written `validation_alias="wireName"` (and `AliasChoices` dropped from `loaded` when no
    other use is left).

    datamodel-code-generator writes the choices for `aliases` (models.py's `field_aliases`); the
    second is the attribute's own name, which the models' `populate_by_name` (`_model_base.Model`,
    the base of every class it writes) already accepts. The same validation, and the class builds
    about a quarter faster (bench row 7); it has no option to write the one alias instead."""
    text = _text(node, lines)
    if not isinstance(node, ast.ClassDef):
        return text
    choices = [
        cast(ast.Call, keyword.value)
        for item in node.body
        if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name) and isinstance(item.value, ast.Call)
        for keyword in item.value.keywords
        if keyword.arg == "validation_alias" and _is_wire_and_attribute(keyword.value, item.target.id)
    ]
    if not choices:
        return text
    start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    text_lines = [line.encode("utf-8") for line in source_lines(text)]
    for call in reversed(choices):  # bottom up: an edit never moves the positions of one above
        wire = call.args[0]
        assert call.end_lineno is not None and call.end_col_offset is not None  # parsed source
        first, last = call.lineno - start, call.end_lineno - start
        replaced = text_lines[first][: call.col_offset] + repr(_string(wire)).encode("utf-8")
        text_lines[first : last + 1] = [replaced + text_lines[last][call.end_col_offset :]]
    if sum(isinstance(n, ast.Name) and n.id == "AliasChoices" for n in ast.walk(node)) == len(choices):
        loaded.discard("AliasChoices")
    return b"".join(text_lines).decode("utf-8")


def _is_wire_and_attribute(value: ast.expr, attribute: str) -> bool:
    """Whether `value` is `AliasChoices("<wire name>", "<attribute>")`."""
    return (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Name)
        and value.func.id == "AliasChoices"
        and not value.keywords
        and len(value.args) == 2
        and all(isinstance(argument, ast.Constant) and isinstance(argument.value, str) for argument in value.args)
        and _string(value.args[1]) == attribute
    )


def _string(node: ast.expr) -> str:
    assert isinstance(node, ast.Constant) and isinstance(node.value, str)
    return node.value


def _text(node: ast.stmt, lines: list[str]) -> str:
    decorators = getattr(node, "decorator_list", [])
    start = min([node.lineno, *(d.lineno for d in decorators)]) - 1
    return "".join(lines[start : node.end_lineno or node.lineno]).rstrip("\n")


def _needs_deferred_annotations(members: list[ast.stmt]) -> bool:
    """Whether the module of `members` needs `from __future__ import annotations`.

    Without it annotations are evaluated as each class is defined, which spares pydantic from
    evaluating every annotation string: about a fifth of building a model (bench row 7). That
    is safe unless an annotation names a class defined at or after it in the module (a cycle, a
    class that contains itself), names something its class body has bound by then (a field
    `date: date | None`), or is a string datamodel-code-generator wrote (a forward reference)."""
    not_yet_defined = {name for statement in members for name in _defined_names(statement)}
    for statement in members:
        if isinstance(statement, ast.ClassDef):
            bound_in_body: set[str] = set()
            for node in statement.body:
                bound_in_body.update(_bound_names(node))  # `x: T = v` binds x before it evaluates T
                for annotation in _annotations(node):
                    named = {n.id for n in ast.walk(annotation) if isinstance(n, ast.Name)}
                    if named & bound_in_body or named & not_yet_defined or _holds_reference_string(annotation):
                        return True
        not_yet_defined.difference_update(_defined_names(statement))
    return False


def _annotations(node: ast.stmt) -> list[ast.expr]:
    return [node.annotation] if isinstance(node, ast.AnnAssign) else []


def _bound_names(node: ast.stmt) -> set[str]:
    """The names a class-body statement binds."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
    return {n.id for target in targets for n in ast.walk(target) if isinstance(n, ast.Name)}


def _holds_reference_string(annotation: ast.expr) -> bool:
    """Whether `annotation` holds a string outside `Literal[...]`."""
    return any(isinstance(p, ast.Constant) and isinstance(p.value, str) for p in _outside_literals([annotation]))


def _import_text(node: ast.Import | ast.ImportFrom, used: set[str], deferred: bool) -> str:
    """The import `node` reduced to the names in `used` ("" when none is); one level deeper for a
    relative one, since the module moves into `models/`. `from __future__ import annotations`
    stays where `deferred` says the module needs it."""
    if isinstance(node, ast.ImportFrom) and node.module == "__future__":
        kept_features = [alias for alias in node.names if deferred or alias.name != "annotations"]
        return f"from __future__ import {', '.join(a.name for a in kept_features)}\n" if kept_features else ""
    kept = [alias for alias in node.names if (alias.asname or alias.name.split(".")[0]) in used]
    if not kept:
        return ""
    names = ", ".join(alias.name + (f" as {alias.asname}" if alias.asname else "") for alias in kept)
    if isinstance(node, ast.Import):
        return f"import {names}\n"
    level = "." * (node.level + 1) if node.level else ""
    return f"from {level}{node.module or ''} import {names}\n"


def _strongly_connected(edges: list[set[int]]) -> list[list[int]]:
    """Tarjan's strongly connected components of the graph `edges` (node → nodes it uses),
    iteratively (a chain of thousands of classes must not hit the recursion limit); each component
    sorted, the components in the order of their first node."""
    index_of: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    components: list[list[int]] = []
    counter = 0
    for root in range(len(edges)):
        if root in index_of:
            continue
        work: list[tuple[int, list[int]]] = [(root, sorted(edges[root]))]
        index_of[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, pending = work[-1]
            if pending:
                nxt = pending.pop()
                if nxt not in index_of:
                    index_of[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, sorted(edges[nxt])))
                elif nxt in on_stack:
                    low[node] = min(low[node], index_of[nxt])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index_of[node]:
                component: list[int] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return sorted(components, key=lambda component: component[0])
