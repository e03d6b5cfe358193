"""Text that may be written into generated code, and text that may be shown on a terminal.

Spec text is hostile until proven otherwise. Only three kinds of value may reach generated code:

- `Code`: text an escaping filter produced (a Python literal, a docstring body, a comment);
- `Identifier`: a name the generator made and checked (a valid, non-keyword Python identifier);
- `TypeExpr`: a type expression the generator built from identifiers (`list[Cart] | None`).

`render.py` refuses every other `str` at render time (Jinja's `finalize`), so a template that
writes spec text without a filter fails loudly instead of emitting it.
"""

from __future__ import annotations

import ast
import functools
import io
import keyword
import re
import tokenize
from enum import Enum

from markupsafe import Markup


class Code(Markup):
    """Text an escaping filter (or a macro made only of such text) produced: safe to write as is."""


class Identifier(str):
    """A Python identifier the generator chose: ASCII, not a keyword, never spec text verbatim."""

    __slots__ = ()

    def __new__(cls, value: str) -> Identifier:
        text = str(value)
        if not (text.isascii() and text.isidentifier()) or keyword.iskeyword(text):
            raise ValueError(f"not a safe identifier: {text!r}")
        return super().__new__(cls, text)


_TYPE_NODES = (ast.Expression, ast.Name, ast.Load, ast.Subscript, ast.BinOp, ast.BitOr, ast.Tuple, ast.Attribute)


class TypeExpr(str):
    """A type annotation made of identifiers, `module.Name`, subscripts, `|`, `None` and the str/int
    constants of a `Literal[...]` (`dict[str, Cart] | None`, `Literal['asc', 'desc']`)."""

    __slots__ = ()

    def __new__(cls, value: str) -> TypeExpr:
        text = str(value)
        try:
            tree = ast.parse(text, mode="eval")
        except SyntaxError:
            raise ValueError(f"not a type expression: {text!r}") from None
        literals = {
            id(element)
            for node in ast.walk(tree)
            if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == "Literal"
            for element in (node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice])
            if isinstance(element, ast.Constant) and type(element.value) in (str, int)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and (node.value is None or id(node) in literals):
                continue  # None, or a str/int inside Literal[...] (written by repr(), never raw)
            if not isinstance(node, _TYPE_NODES):
                raise ValueError(f"not a type expression: {text!r}")
            if isinstance(node, ast.Name) and (not node.id.isascii() or keyword.iskeyword(node.id)):
                raise ValueError(f"not a type expression: {text!r}")
            if isinstance(node, ast.Attribute) and not (
                isinstance(node.value, ast.Name) and node.attr.isascii() and not keyword.iskeyword(node.attr)
            ):
                raise ValueError(f"not a type expression: {text!r}")
        return super().__new__(cls, text)


def black_quotes(literal: str) -> str:
    """A str literal (as repr() writes it) with the quotes black would give it: double unless that
    needs more escapes. Rendered modules are then black-stable without black (see emit.needs_black)."""
    from black.strings import normalize_string_quotes  # black==26.10.1 is pinned

    result: str = normalize_string_quotes(literal)
    return result


@functools.cache
def as_black_writes(annotation: TypeExpr) -> str:
    """A type expression with its `Literal[...]` strings quoted as black quotes them (the IR and the
    recorded surface keep repr()'s quotes, so that a regeneration reports no type change)."""
    if "'" not in annotation and '"' not in annotation:
        return str(annotation)
    text = str(annotation)
    pieces: list[str] = []
    written = 0  # TypeExpr is one line: a token's column is its offset in the text
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.STRING:
            start, end = token.start[1], token.end[1]
            pieces += [text[written:start], black_quotes(token.string)]
            written = end
    return "".join([*pieces, text[written:]])


class UnsafeTemplateValue(TypeError):
    """A template tried to write a plain string (possibly spec text) without an escaping filter."""


def finalize(value: object) -> object:
    """Jinja `finalize`: what `{{ ... }}` may write. Plain strings are refused (see module docstring)."""
    if isinstance(value, Markup):
        return value
    if isinstance(value, TypeExpr):
        return Markup(as_black_writes(value))
    if isinstance(value, Identifier):
        return Markup(value)
    if isinstance(value, Enum) and isinstance(value.value, str):
        return Markup(Identifier(value.value))  # the generator's own enums (ParameterLocation, ...)
    if isinstance(value, bool):
        return Markup(repr(value))
    if isinstance(value, int):
        return Markup(str(value))
    raise UnsafeTemplateValue(
        f"template wrote {type(value).__name__} {str(value)[:60]!r} without an escaping filter "
        "(pyrepr, docstring, comment, markdown) or a checked Identifier/TypeExpr"
    )


# C0 and C1 controls, DEL, and the Unicode line/paragraph separators: each can end a comment or a
# line, move the cursor, or recolour a terminal.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def escape_controls(text: object) -> str:
    """`text` with every control character (and U+2028/U+2029/U+0085) written as a `\\x..` escape."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), str(text))
