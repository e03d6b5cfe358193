"""Smoke run of the benchmarks (`python bench/run.py --quick`): they still run end to end.

Our spec only, one run, a few client calls. Anchors that are not installed (the `bench` extra)
are reported as missing by the bench itself. Nothing here asserts on time: benchmarks are not
timed tests.
"""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT, requires_kibo_specs


def test_bench_quick_mode_prints_the_table() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--specs", "ours"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "| benchmark | ours | anchor (same run) | ratio | target | met |" in out
    for label in (
        "1. cold generate, ours",
        "2. regenerate, unchanged, ours",
        "2. check, ours",
        "4. refresh_user_auth_ticket, sync",
        "4. refresh_user_auth_ticket, async",
        "5. parse a full CustomerAuthTicket from bytes",
        "6. import kibo_authtickets",
    ):
        assert label in out, out
    assert "failed:" not in out.split("1. cold generate, ours", 1)[1].split("|")[2], out


@requires_kibo_specs
def test_first_call_floor_prints_its_table() -> None:
    """`bench/first_call_floor.py` (issue 11.5's floor) runs end to end on commerce."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "first_call_floor.py"), "--runs", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for label in ("| pydantic.main |", "the same classes in one module, no aliases", "**pydantic's floor"):
        assert label in result.stdout, result.stdout
