"""Golden test: the whole package generated from tests/fixtures/mini.yaml, file by file.

Regenerate the goldens after an intended change with:
    python -m generator generate tests/fixtures/mini.yaml -o tests/golden
"""

from __future__ import annotations

import difflib
from pathlib import Path

from generator.emit import read_tree
from generator.pipeline import build_package

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden" / "mini_shop"


def test_mini_spec_matches_golden_files() -> None:
    built = build_package(HERE / "fixtures" / "mini.yaml")
    expected = read_tree(GOLDEN)
    assert sorted(built.files) == sorted(expected), "file list differs from tests/golden/mini_shop"
    problems = []
    for name, data in built.files.items():
        if data != expected[name]:
            diff = difflib.unified_diff(
                expected[name].decode().splitlines(),
                data.decode().splitlines(),
                f"golden/{name}",
                f"generated/{name}",
                lineterm="",
            )
            problems.append("\n".join(diff))
    assert not problems, "\n\n".join(problems) + "\n\nregenerate: see this module's docstring"


def test_generation_is_deterministic() -> None:
    first = build_package(HERE / "fixtures" / "mini.yaml").files
    second = build_package(HERE / "fixtures" / "mini.yaml").files
    assert first == second


def test_every_file_has_the_header_naming_the_spec_and_where_its_hash_is() -> None:
    built = build_package(HERE / "fixtures" / "mini.yaml")
    assert built.api is not None
    for name, data in built.files.items():
        first_line, second_line = data.decode().splitlines()[:2]
        assert "mini.yaml" in first_line and "Do not edit" in first_line, name
        assert "_version.py" in second_line, name
        assert len(first_line) <= 100 and len(second_line) <= 100, name
    # Headers are constant (issue 14): the spec's hash lives in one module only.
    version_module = built.files["_version.py"].decode()
    assert f"SPEC_SHA256 = {built.api.spec_sha256!r}".replace("'", '"') in version_module
    assert sum(built.api.spec_sha256 in data.decode() for data in built.files.values()) == 1
