"""Import blocks in the order isort and ruff keep, for the Python datamodel-code-generator writes
(its own formatting is off, and black, which formats the models, does not sort imports)."""

from __future__ import annotations

import ast
import sys

from .naming import import_sort_key


def sorted_imports(source: str, extra: list[ast.stmt] | None = None) -> str:
    """`source` with its leading import block in the order isort/ruff keep (`__future__`, standard
    library, third party, the package itself; `import x` before `from x import y`; one `from` line a
    module), the imports of `extra` merged in."""
    tree = ast.parse(_leading_imports(source))  # not the whole module: thousands of lines
    imports: list[ast.Import | ast.ImportFrom] = []
    for node in tree.body:
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            break
        imports.append(node)
    if not imports:
        return source
    lines = source.splitlines(keepends=True)
    first, last = imports[0].lineno - 1, imports[-1].end_lineno or imports[-1].lineno
    merged: dict[tuple[int, str], ast.Import | ast.ImportFrom] = {}
    for node in [*imports, *(n for n in extra or () if isinstance(n, (ast.Import, ast.ImportFrom)))]:
        key = (node.level, node.module or "") if isinstance(node, ast.ImportFrom) else (-1, ast.dump(node))
        known = merged.setdefault(key, node)
        if known is not node and isinstance(known, ast.ImportFrom):
            names = {(a.name, a.asname) for a in known.names}
            known.names.extend(a for a in node.names if (a.name, a.asname) not in names)
    imports = list(merged.values())

    def section(node: ast.Import | ast.ImportFrom) -> int:
        if isinstance(node, ast.ImportFrom) and node.level:
            return 3
        module = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
        top = (module or "").split(".", 1)[0]
        return 0 if top == "__future__" else 1 if top in sys.stdlib_module_names else 2

    def text(node: ast.Import | ast.ImportFrom) -> str:
        names = ", ".join(
            alias.name + (f" as {alias.asname}" if alias.asname else "")
            for alias in sorted(node.names, key=lambda a: import_sort_key(a.name))
        )
        if isinstance(node, ast.Import):
            return f"import {names}\n"
        return f"from {'.' * node.level}{node.module or ''} import {names}\n"

    blocks: dict[int, list[tuple[int, str, str]]] = {}
    for node in imports:
        module = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
        blocks.setdefault(section(node), []).append((isinstance(node, ast.ImportFrom), module or "", text(node)))
    ordered = "\n".join("".join(t for *_, t in sorted(blocks[key])) for key in sorted(blocks))
    return "".join(lines[:first]) + ordered + "".join(lines[last:])


def _leading_imports(source: str) -> str:
    """The lines of `source` up to its first top-level statement that is not an import (comments,
    blank lines and the indented names of a parenthesised import included)."""
    end = 0
    for line in source.splitlines(keepends=True):
        if line[:1] not in ("", "\n", " ", "\t", "#", ")") and not line.startswith(("from ", "import ")):
            break
        end += len(line)
    return source[:end]
