"""Issue 13: the development corpus (`../shared/corpus/`, documents other projects wrote) through
`bench/corpus.py`: a quick subset in the normal tier, every document in the slow tier."""

from __future__ import annotations

import importlib.util
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from .conftest import CORPUS, ROOT, needs_shared

pytestmark = needs_shared(CORPUS / "MANIFEST.tsv", "the development corpus")

# The quick subset: openapi-python-client's own documents and a spread of datamodel-code-generator's.
QUICK = (
    "opc/baseline_openapi_3.0.json", "opc/baseline_openapi_3.1.yaml", "opc/3.1_specific.openapi.yaml",
    "opc/openapi_3.1_enums.yaml", "opc/docstrings_on_attributes.yml", "dmcg/special_yaml_keywords.yaml",
    "dmcg/strip_default_none_pydantic_v2.yaml", "dmcg/unsorted_optional_fields.yaml",
    "dmcg/dataclass_optional_metadata_defaults.yaml", "dmcg/api_constrained.yaml",
    # issue 13's model defects: allOf overrides, enum defaults, const, x-propertyNames
    "dmcg/allof_required_inherited_options.yaml", "dmcg/const_optional_values_31.yaml",
    "dmcg/x_property_names.yaml", "dmcg/allof.yaml",
    "opc/documents_with_errors/bad-status-code.yaml",  # a response key that is not a status code
)  # fmt: skip


def corpus_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_corpus", ROOT / "bench" / "corpus.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_corpus"] = module
    spec.loader.exec_module(module)
    return module


def run(rows: list[Any]) -> list[Any]:
    """Generate and import every document; `mypy --strict` and `black --check` on every package that
    generated (black runs only on models.py: the rendered modules must already be what it writes)."""
    corpus = corpus_module()
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(max_workers=2) as pool:
        done = list(pool.map(lambda row: corpus.run_ours(row, Path(tmp)), rows))
        list(pool.map(lambda row: corpus.run_mypy(row, Path(tmp)), [r for r in done if r.exit == 0 and r.imports]))
        return done


def check(rows: list[Any]) -> None:
    """What holds for every document (the README's corpus table has the counts)."""
    problems = []
    for row in rows:
        if row.traceback or row.exit not in (0, 2):
            problems.append(f"{row.file}: exit {row.exit}, traceback {row.traceback}")
        elif row.exit == 0 and not row.imports:
            problems.append(f"{row.file}: a module does not import: {row.import_error}")
        elif row.exit == 0 and row.operations != row.ops:
            problems.append(f"{row.file}: {row.operations} operations generated of {row.ops}")
        elif row.exit == 0 and row.mypy is False:
            problems.append(f"{row.file}: the package fails mypy --strict")
        elif row.exit == 0 and row.black is False:
            problems.append(f"{row.file}: the package is not black-clean")
        elif row.exit == 2 and (row.errors == 0 or row.unlocated_errors):
            problems.append(f"{row.file}: {row.errors} error lines, {row.unlocated_errors} without LINE:COL")
        elif row.exit == 2 and row.valid == "yes" and row.ops and not row.messages[0].count("does not resolve"):
            problems.append(f"{row.file}: a valid document with operations is refused: {row.messages[:1]}")
    assert not problems, "\n".join(problems)


def test_quick_subset() -> None:
    corpus = corpus_module()
    rows = [row for row in corpus.manifest(None) if row.file in QUICK]
    assert len(rows) == len(QUICK)
    rows = run(rows)
    check(rows)
    assert all(row.exit == 0 for row in rows), [(r.file, r.messages) for r in rows if r.exit]


@pytest.mark.slow
def test_every_document() -> None:
    rows = run(corpus_module().manifest(None))
    check(rows)
    with_ops = [r for r in rows if r.ops]
    assert sum(r.exit == 0 for r in with_ops if r.valid == "yes") >= 49
