"""Pytest fixtures for `tests.kibo_server.KiboServer` (listed in `pytest_plugins`).

- `kibo_server`: a fresh server per test (starting one costs about a millisecond).
- `kibo_server_session`: one server shared by the whole session, `reset()` before each test.
- `kibo_server_shared`: that same shared server without the per-test reset and checks, for
  fixtures of a wider scope.

Both per-test fixtures fail the test at teardown when the server recorded contract violations
(unless the test set `server.expect_contract_violations = True`) or crashed internally.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.kibo_server import KiboServer


def _check(server: KiboServer) -> None:
    problems: list[str] = []
    if server.errors:
        problems.append("KiboServer crashed while handling a request:")
        problems += server.errors
    if server.contract_violations and not server.expect_contract_violations:
        source = server.contract.source if server.contract else "the spec"
        problems.append(f"contract violations against {source}:")
        problems += [f"  - {v}" for v in server.contract_violations]
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture()
def kibo_server() -> Iterator[KiboServer]:
    """A running `KiboServer` for this test only."""
    server = KiboServer().start()
    try:
        yield server
    finally:
        server.stop()
    _check(server)


@pytest.fixture(scope="session")
def kibo_server_shared() -> Iterator[KiboServer]:
    """One `KiboServer` for the whole session; nothing is reset or checked per test."""
    with KiboServer() as server:
        yield server


@pytest.fixture()
def kibo_server_session(kibo_server_shared: KiboServer) -> Iterator[KiboServer]:
    """The session's shared `KiboServer`, reset for this test and checked after it."""
    server = kibo_server_shared
    server.reset()
    try:
        yield server
        _check(server)
    finally:
        server.reset()
