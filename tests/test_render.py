"""The escaping filters: any spec text becomes inert literal text in Python source."""

from __future__ import annotations

import ast

import pytest

from generator.render import comment, docstring, markdown, pyrepr

HOSTILE = [
    'plain',
    'quote " and \' both',
    '"""; import os; os.system("touch /tmp/pwned"); """',
    "'''",
    "back\\slash at end\\",
    "new\nline\r\n and \t tab",
    "{{ 7*7 }} {% raw %} {# c #}",
    "nul\x00byte",
    "line\u2028separator\u2029para",
    "\\N{DIGIT ONE}\\x41\\u0041",
    '"',
    "",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_pyrepr_round_trips(text: str) -> None:
    assert ast.literal_eval(pyrepr(text)) == text


@pytest.mark.parametrize("text", HOSTILE)
def test_docstring_is_inert_and_keeps_the_text(text: str) -> None:
    source = f'def f():\n    """{docstring(text)}"""\n'
    tree = ast.parse(source)
    function = tree.body[0]
    assert isinstance(function, ast.FunctionDef)
    assert len(function.body) == 1  # nothing but the docstring
    value = ast.get_docstring(function, clean=False) or ""
    for word in text.split():
        if word.isprintable() and "\\" not in word:
            assert word in value


@pytest.mark.parametrize("text", HOSTILE)
def test_comment_is_one_line(text: str) -> None:
    line = comment(text)
    assert "\n" not in line and "\r" not in line
    ast.parse(f"x = 1  # {line}\n")


def test_markdown_cannot_open_code_or_html() -> None:
    assert "`" not in markdown("```python\nimport os\n```")
    assert "<" not in markdown("<script>alert(1)</script>")


def test_pyrepr_of_containers() -> None:
    value = {"a": [1, 2.5, True, None, "x\n"], "b": ("t",)}
    assert ast.literal_eval(pyrepr(value)) == {"a": [1, 2.5, True, None, "x\n"], "b": ("t",)}
