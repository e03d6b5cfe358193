"""The forked helper processes of a cold build (forks.Forked, forks.ForkedAhead): results and errors
come back as if computed in the parent, and no child is left behind, whatever the parent does."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

import generator.forks
from generator import prestart
from generator.__main__ import main
from generator.errors import Problem, SpecError
from generator.forks import Forked, ForkedAhead, can_fork

MINI_SPEC = Path(__file__).parent / "fixtures" / "mini.yaml"

pytestmark = pytest.mark.skipif(not can_fork(), reason="needs fork and two cores")


def _sum(*numbers: int) -> int:
    return sum(numbers)


def _refuse(_: int) -> None:
    raise SpecError([Problem("spec.yaml:1:1", "bad")])


def _crash(_: int) -> None:
    raise ValueError("a bug")


def _prepare_slowly(marker: Path) -> None:
    time.sleep(0.3)
    marker.write_text(str(os.getpid()))


def _child_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_forked_returns_what_the_child_computed() -> None:
    assert Forked(_sum, 1, 2, 3).result() == 6


def test_forked_ahead_prepares_while_the_parent_works_then_runs_on_what_it_is_sent(tmp_path: Path) -> None:
    marker = tmp_path / "prepared"
    job = ForkedAhead(_sum, lambda: _prepare_slowly(marker))
    started = time.perf_counter()
    job.send(*range(1000))  # a send never waits for the preparation
    assert time.perf_counter() - started < 0.2
    assert job.result() == sum(range(1000))
    assert marker.read_text() != str(os.getpid())  # prepared in the child, not here


def test_a_failing_preparation_only_loses_its_head_start() -> None:
    def fail() -> None:
        raise ImportError("no such module")

    job = ForkedAhead(_sum, fail)
    job.send(2, 3)
    assert job.result() == 5


def test_errors_come_back_as_in_the_parent() -> None:
    refused = ForkedAhead(_refuse, lambda: None)
    refused.send(1)
    with pytest.raises(SpecError) as error:
        refused.result()
    assert [str(p) for p in error.value.problems] == ["error: spec.yaml:1:1: bad"]
    crashed = ForkedAhead(_crash, lambda: None)
    crashed.send(1)
    with pytest.raises(RuntimeError, match="ValueError: a bug"):
        crashed.result()


def test_a_job_never_sent_ends_without_hanging() -> None:
    """The build stopped before the models stage (a bad spec): the child sees the closed pipe."""
    job = ForkedAhead(_sum, lambda: None)
    pid = job._pid
    job.wait()
    assert not _child_alive(pid)
    unsent = ForkedAhead(_sum, lambda: None)
    with pytest.raises(RuntimeError, match="no arguments"):
        unsent.result()


def test_an_error_line_does_not_wait_for_the_preparation() -> None:
    job = ForkedAhead(_sum, lambda: time.sleep(30))
    started = time.perf_counter()
    job.wait()
    assert time.perf_counter() - started < 5
    assert not _child_alive(job._pid)


def test_a_cancelled_helper_is_stopped_and_reaped() -> None:
    """A cache hit or a crash: neither kind of helper keeps running."""
    slow = Forked(time.sleep, 30)
    ahead = ForkedAhead(_sum, lambda: time.sleep(30))
    ahead.send(1, 2)
    started = time.perf_counter()
    slow.cancel()
    ahead.cancel()
    assert time.perf_counter() - started < 5
    assert not _child_alive(slow._pid) and not _child_alive(ahead._pid)


def test_a_helper_forked_first_is_not_held_up_by_one_forked_after_it() -> None:
    """Its arguments end where the parent closes its end of the pipe: a later child (the validator,
    forked after the models process the CLI started) holds no copy that would delay that end."""
    first = ForkedAhead(_sum, lambda: None)
    later = Forked(time.sleep, 30)
    try:
        started = time.perf_counter()
        first.send(4, 5)
        assert first.result() == 9
        assert time.perf_counter() - started < 5
    finally:
        later.cancel()


def _recording_forks(monkeypatch: pytest.MonkeyPatch) -> list[ForkedAhead]:
    forked: list[ForkedAhead] = []
    real = prestart.fork_models

    def fork_models() -> ForkedAhead:
        forked.append(real())
        return forked[-1]

    monkeypatch.setattr(prestart, "fork_models", fork_models)
    # pytest-xdist's worker runs threads, so can_fork() says no there; these tests fork anyway, as
    # the ones above do, to see which process the build uses.
    monkeypatch.setattr(generator.forks, "can_fork", lambda: True)
    monkeypatch.setenv("KIBO_CODEGEN_CACHE", "0")
    return forked


def test_generate_into_a_new_directory_models_in_the_process_forked_at_the_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    forked = _recording_forks(monkeypatch)
    taken: list[ForkedAhead | None] = []
    real_take = prestart.take
    monkeypatch.setattr(prestart, "take", lambda: taken.append(real_take()) or taken[-1])
    assert main(["generate", str(MINI_SPEC), "-o", str(tmp_path / "new"), "-q"]) == 0
    assert len(forked) == 1 and taken[0] is forked[0]  # forked once, by the CLI; taken by the build
    assert not _child_alive(forked[0]._pid)
    assert (tmp_path / "new" / "mini_shop" / "models" / "__init__.py").is_file()


def test_generate_over_a_package_forks_in_the_build_and_an_early_exit_leaves_no_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    forked = _recording_forks(monkeypatch)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("not ours")
    prestart.start("generate", tmp_path / "busy")  # not empty: nothing is forked here
    prestart.start("check", tmp_path / "absent")
    assert forked == [] and prestart.take() is None
    # Forked as the CLI starts, then the spec is missing: the child is stopped, not left behind.
    assert main(["generate", str(tmp_path / "missing.yaml"), "-o", str(tmp_path / "new"), "-q"]) == 2
    assert len(forked) == 1 and prestart.take() is None
    assert not _child_alive(forked[0]._pid)
