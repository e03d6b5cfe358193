"""The escaping filters: any spec text becomes inert literal text in Python source."""

from __future__ import annotations

import ast

import pytest

from generator.render import comment, docstring, markdown, pyrepr

from .conftest import ROOT

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


def test_pyrepr_writes_numbers_and_quotes_as_black_does() -> None:
    """A YAML `.inf` would otherwise be the name `inf`; exponents and quotes are black's."""
    import math

    import black

    assert eval(pyrepr(float("inf"))) == math.inf and math.isnan(eval(pyrepr(float("nan"))))
    for value in (1e20, 2.5e-7, 'say "hi"', "it's", "both ' and \"", *HOSTILE):
        literal = str(pyrepr(value))
        assert ast.literal_eval(literal) == value
        assert black.format_str(f"x = {literal}\n", mode=black.Mode()) == f"x = {literal}\n"


def test_rendered_modules_skip_black_only_when_they_already_are_black_output() -> None:
    """Issue 11.4: black runs on the model modules; a rendered module is written in black's style and goes
    through black only when a line would make black change it (a long code line, a tab)."""
    from generator.emit import needs_black, top_level_chunks

    assert not needs_black('def f(\n    x: int,\n) -> None:\n    """' + "long " * 40 + '"""\n')
    assert not needs_black('    call(\n        operation="' + "x" * 120 + '",\n    )\n')
    assert needs_black("    x: Literal[" + ", ".join(f"'v{i}'" for i in range(30)) + "],\n")
    assert needs_black("x = 1 \n") and needs_black("\tx = 1\n")
    assert needs_black('x = """a"""  """b"""\n')  # triple quotes where a docstring cannot be tracked
    assert not needs_black('SURFACE_JSON = r"""\n{\n "a": "' + "x" * 200 + '"\n}"""\n')
    assert needs_black('SURFACE_JSON = r"""\n{\n}"""\ny = ' + "[1, 2]" * 30 + "\n")
    # A big model module is cut between top-level classes for the two black processes; the pieces joined
    # are what black writes for the whole
    import black

    source = "".join(f"class M{i}(Base):\n  a: int=1\n\n\n" for i in range(6)) + "M0.model_rebuild()\n"
    pieces = top_level_chunks(source, 2)
    assert pieces is not None and len(pieces) == 2
    mode = black.Mode(line_length=100)
    assert "\n\n".join(black.format_str(piece, mode=mode) for piece in pieces) == black.format_str(source, mode=mode)
    assert top_level_chunks("x = (\n", 2) is None and top_level_chunks("class A:\n    pass\n", 2) is None


def test_black_runs_on_no_rendered_module_of_the_kibo_package(monkeypatch: pytest.MonkeyPatch) -> None:
    import generator.emit as emit
    from generator.pipeline import build_package

    monkeypatch.setenv("KIBO_CODEGEN_JOBS", "1")  # every black call in this process, to be seen here
    formatted: list[str] = []
    real = emit.format_python
    monkeypatch.setattr(emit, "format_python", lambda text, name: formatted.append(name) or real(text, name))
    built = build_package(ROOT / "spec" / "kibo_authtickets.yaml")
    models = sorted(name for name in built.files if name.startswith("models/") and name != "models/__init__.py")
    assert len(models) == 24 and sorted(formatted) == models  # what datamodel-code-generator wrote, only
