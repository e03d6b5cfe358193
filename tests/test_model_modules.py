"""Issue 11.5: the models are one module per class (a cycle shares one), imported on first use."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from generator.__main__ import main
from generator.model_modules import is_model_module, source_lines, split_models

from .conftest import ROOT

HEADER = """\
from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field, RootModel

from ._model_base import Model, RequestModel
"""


def _split(body: str) -> dict[str, str]:
    return dict(split_models(HEADER + "\n\n" + textwrap.dedent(body)).sources)


def _imports(source: str) -> set[str]:
    tree = ast.parse(source)
    return {
        f"{'.' * node.level}{node.module or ''}:{alias.name}"
        for node in tree.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }


def test_each_class_imports_exactly_what_it_uses() -> None:
    modules = _split(
        """
        class Address(Model):
            city: str | None = None


        class Customer(Model):
            address: Address | None = None
            seen: datetime | None = Field(default=None)


        class Order(RequestModel):
            kind: Literal["Address", "Customer"] | None = None
        """
    )
    assert set(modules) == {"address", "customer", "order"}
    assert _imports(modules["address"]) == {".._model_base:Model"}
    assert _imports(modules["customer"]) == {
        "datetime:datetime", "pydantic:Field", ".._model_base:Model", ".address:Address",
    }  # fmt: skip
    # A Literal's strings are values: "Address" there is no reference (an import would be unused).
    assert _imports(modules["order"]) == {"typing:Literal", ".._model_base:RequestModel"}


def test_a_cycle_shares_one_module_with_its_rebuild_calls() -> None:
    modules = _split(
        """
        class Node(Model):
            children: list[Node] | None = None
            owner: Tree | None = None


        class Tree(Model):
            root: Node | None = None


        class Leaf(RootModel[list["Leaf"]]):
            root: list["Leaf"]


        class Holder(Model):
            leaves: Leaf | None = None
            tree: Tree | None = None


        Node.model_rebuild()
        Leaf.model_rebuild()
        """
    )
    assert set(modules) == {"node", "leaf", "holder"}
    assert "class Tree(" in modules["node"] and modules["node"].rstrip().endswith("Node.model_rebuild()")
    assert modules["leaf"].rstrip().endswith("Leaf.model_rebuild()")
    # A forward reference written as a string still makes an import.
    assert {".leaf:Leaf", ".node:Tree"} <= _imports(modules["holder"])


def _load(module: str, prelude: str) -> dict[str, Any]:
    """The names `module`'s classes define, run after `prelude` instead of its imports, with the
    module's own future flags (not this file's)."""
    namespace: dict[str, Any] = {}
    exec(compile(prelude, "prelude", "exec", dont_inherit=True), namespace)
    body = module.split("\n\n\n", 1)[1]
    exec(compile(body, "module", "exec", dont_inherit=True), namespace)
    return namespace


def test_annotations_are_deferred_only_in_modules_that_need_it() -> None:
    """Evaluated as the class is defined, annotations cost pydantic no string evaluation; a module
    keeps `from __future__ import annotations` where that would fail or change a type."""
    modules = _split(
        """
        class Plain(Model):
            when: datetime | None = None
            kind: Literal["Plain"] | None = None


        class Category(Model):
            children: list[Category] | None = None


        class Node(Model):
            owner: Tree | None = None


        class Tree(Model):
            root: Node | None = None


        class Shadowed(Model):
            datetime: datetime | None = None


        class ShadowedLater(Model):
            Any: str | None = None
            extra: Any | None = None


        class Quoted(Model):
            later: list["Plain"] | None = None


        Category.model_rebuild()
        Node.model_rebuild()
        """
    )
    deferred = {name for name, source in modules.items() if "from __future__ import annotations" in source}
    assert deferred == {"category", "node", "shadowed", "shadowed_later", "quoted"}
    # Without deferral each of the others loads as it is, dependencies imported first.
    prelude = "from datetime import datetime\nfrom typing import Literal\nfrom pydantic import BaseModel as Model"
    plain: Any = _load(modules["plain"], prelude)["Plain"]
    assert plain.model_fields["when"].annotation == datetime | None  # a type, not a string


def test_a_field_validates_by_its_wire_name_and_its_attribute_without_alias_choices() -> None:
    """`AliasChoices("wire", "attribute")` becomes `"wire"`: the models' populate_by_name accepts
    the attribute; other choices stay as written, and so does the import they need."""
    modules = split_models(
        HEADER.replace("from pydantic import", "from pydantic import AliasChoices,")
        + textwrap.dedent(
            """
        class Cart(Model):
            cart_id: str | None = Field(
                default=None,
                serialization_alias="cartId",
                validation_alias=AliasChoices("cartId", "cart_id"),
            )
            odd_name: str | None = Field(default=None, validation_alias=AliasChoices('a"\u2028b', "odd_name"))


        class Other(Model):
            code: str | None = Field(default=None, validation_alias=AliasChoices("code", "legacyCode"))
        """
        )
    ).sources
    cart = modules["cart"]
    assert "AliasChoices" not in cart and _imports(cart) == {"pydantic:Field", ".._model_base:Model"}
    aliases = {
        node.arg: ast.literal_eval(node.value) for node in ast.walk(ast.parse(cart))
        if isinstance(node, ast.keyword) and node.arg == "validation_alias"
    }  # fmt: skip
    assert aliases == {"validation_alias": 'a"\u2028b'} and "'cartId'" in cart
    assert "\u2028" not in cart  # written escaped: the line stays one line for every tool
    assert "pydantic:AliasChoices" in _imports(modules["other"])
    assert 'AliasChoices("code", "legacyCode")' in modules["other"]
    model: Any = _load(
        cart,
        "from pydantic import BaseModel, ConfigDict, Field\n"
        "class Model(BaseModel):\n    model_config = ConfigDict(populate_by_name=True)",
    )["Cart"]
    assert model.model_validate({"cartId": "1"}).cart_id == "1" == model(cart_id="1").cart_id
    assert model.model_validate({'a"\u2028b': "x"}).odd_name == "x"
    assert model(cart_id="1").model_dump(by_alias=True, exclude_none=True) == {"cartId": "1"}


def test_a_module_level_docstring_stays_under_its_statement() -> None:
    modules = _split(
        """
        class Code(RootModel[str]):
            root: str


        Alias = Code
        \"\"\"The old name.\"\"\"
        """
    )
    assert modules["alias"].rstrip().endswith('Alias = Code\n"""The old name."""')


def test_module_names_are_distinct_and_legal_everywhere() -> None:
    modules = _split(
        """
        class AbTest(Model):
            a: int | None = None


        class ABTest(Model):
            b: int | None = None


        class Aux(Model):
            c: int | None = None


        class Annotations(Model):
            d: int | None = None
        """
    )
    # `aux` is a device name on Windows; `annotations` is bound in models/__init__.py.
    assert set(modules) == {"ab_test", "ab_test_2", "aux_2", "annotations_2"}


def test_lines_are_cut_where_the_parser_cuts_them() -> None:
    """A string literal may hold characters str.splitlines ends a line at (\\x0b, U+2028)."""
    source = 'X = "a\x0bb\u2028c"\r\nY = 1\n'
    assert source_lines(source) == ['X = "a\x0bb\u2028c"\r\n', "Y = 1\n"]
    modules = _split('class A(Model):\n    """x\x0cy\u2029z"""\n\n\nclass B(Model):\n    a: A | None = None\n')
    assert ".a:A" in _imports(modules["b"]) and "x\x0cy\u2029z" in modules["a"]


def test_a_long_chain_of_classes_needs_no_recursion() -> None:
    count = 3000
    body = "class C0(Model):\n    x: int | None = None\n" + "".join(
        f"\n\nclass C{i}(Model):\n    up: C{i - 1} | None = None\n" for i in range(1, count)
    )
    modules = split_models(HEADER + "\n\n" + body)
    assert len(modules.sources) == count and modules.module_of["C2999"] == "c2999"


def test_only_model_modules_go_through_black() -> None:
    assert is_model_module("models/cart.py") and not is_model_module("models/__init__.py")
    assert not is_model_module("resources/cart.py") and not is_model_module("_model_base.py")


def test_a_call_imports_only_the_models_it_uses(tmp_path: Path) -> None:
    """In a fresh process: importing the package imports no model; using one class imports its
    module and what it refers to, nothing else; every class is still reachable by name."""
    assert main(["generate", str(ROOT / "spec" / "kibo_authtickets.yaml"), "-o", str(tmp_path), "-q"]) == 0
    script = textwrap.dedent(
        """
        import sys
        import kibo_authtickets
        from kibo_authtickets import models

        def loaded():
            return sorted(m.rsplit(".", 1)[1] for m in sys.modules if m.startswith("kibo_authtickets.models."))

        assert loaded() == [], loaded()
        from kibo_authtickets.models import CustomerAuthTicket
        first = loaded()
        assert "customer_auth_ticket" in first and "customer_account" in first, first
        assert "otp_request" not in first and "o_auth_access_token_response" not in first, first
        assert CustomerAuthTicket.__module__ == "kibo_authtickets.models.customer_auth_ticket"
        assert all(getattr(models, name).__name__ == name for name in models.__all__)
        assert set(models.__all__) <= set(dir(models))
        try:
            models.NoSuchModel
        except AttributeError as error:
            assert "NoSuchModel" in str(error)
        else:
            raise AssertionError("a missing name must raise AttributeError")
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


@pytest.mark.parametrize("name", ["Aux", "Annotations"])
def test_a_reserved_module_name_still_imports(tmp_path: Path, name: str) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        textwrap.dedent(
            f"""
            openapi: 3.0.3
            info: {{title: reserved, version: "1"}}
            paths:
              /a:
                get:
                  responses:
                    "200":
                      description: ok
                      content:
                        application/json:
                          schema: {{$ref: "#/components/schemas/{name}"}}
            components:
              schemas:
                {name}:
                  type: object
                  properties:
                    a: {{type: integer}}
            """
        ),
        encoding="utf-8",
    )
    assert main(["generate", str(spec), "-o", str(tmp_path / "out"), "-q"]) == 0
    result = subprocess.run(
        [sys.executable, "-c", f"from reserved.models import {name}; print({name}(a=1).a)"],
        cwd=tmp_path / "out", capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.stdout.strip() == "1", result.stderr
