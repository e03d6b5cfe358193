"""Helper processes: a function computed in a forked child, its result or error read back.

Cheap to import on purpose (nothing of the generator's own, no dataclasses): the CLI forks the
models process before the rest of the generator is imported (prestart.py).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import threading
from collections.abc import Callable
from typing import Any

# The parent's ends of the live helpers' pipes. A child closes its copies as it starts: a helper
# sees the end of its arguments (`ForkedAhead.send`) when the parent closes its end, not when every
# helper forked after it has exited too.
_PARENT_ENDS: set[int] = set()


def can_fork() -> bool:
    """True where a forked helper process is safe and useful: POSIX, 2+ cores, no other threads."""
    if os.environ.get("KIBO_CODEGEN_JOBS", "").strip() == "1":
        return False
    return hasattr(os, "fork") and (os.cpu_count() or 1) >= 2 and threading.active_count() == 1


class Forked:
    """`fn(*args)` computed in a forked child; `result()` returns it or raises what it raised.

    A SpecError keeps its problems; any other exception comes back as a RuntimeError with its
    text (the child's traceback is not kept). The child never runs the parent's exit handlers.
    """

    def __init__(self, fn: Callable[..., Any], *args: Any) -> None:
        self._start(lambda: fn(*args))

    def _start(self, compute: Callable[[], Any]) -> None:
        read_end, write_end = os.pipe()
        self._pid = os.fork()
        if self._pid == 0:  # the child
            os.close(read_end)
            for descriptor in _PARENT_ENDS:
                with contextlib.suppress(OSError):
                    os.close(descriptor)
            _PARENT_ENDS.clear()
            status = 0
            try:
                try:
                    payload = pickle.dumps(("ok", compute()))
                except BaseException as exc:
                    payload = pickle.dumps(_failure(exc))
                with os.fdopen(write_end, "wb") as out:
                    out.write(payload)
            except BaseException:
                status = 1
            finally:
                os._exit(status)
        os.close(write_end)
        _PARENT_ENDS.add(read_end)
        self._read_end = read_end
        self._done = False
        self._value: Any = None

    def wait(self) -> None:
        """Reap the child, ignoring what it computed or raised."""
        with contextlib.suppress(Exception):
            self.result()

    def cancel(self) -> None:
        """Stop the child (its work is not wanted) and reap it."""
        if not self._done:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGKILL)
        Forked.wait(self)

    def result(self) -> Any:
        if not self._done:
            _PARENT_ENDS.discard(self._read_end)
            with os.fdopen(self._read_end, "rb") as source:
                data = source.read()
            os.waitpid(self._pid, 0)
            self._done = True
            self._value = pickle.loads(data) if data else ("error", "helper process died")
        kind, value = self._value
        if kind == "ok":
            return value
        if kind == "spec":
            from .errors import SpecError

            raise SpecError(list(value))
        raise RuntimeError(f"helper process failed: {value}")


class ForkedAhead(Forked):
    """`fn(*args)` in a child forked before `args` exist: the child runs `prepare()` (imports,
    say) while the parent computes them, then `fn` once `send(*args)` has passed them (pickled)."""

    def __init__(self, fn: Callable[..., Any], prepare: Callable[[], object]) -> None:
        args_read, args_write = os.pipe()

        def compute() -> Any:
            os.close(args_write)
            received: list[bytes] = []
            # Read while preparing, so that the parent's send never waits for the preparation.
            reader = threading.Thread(target=lambda: received.append(_read_all(args_read)), daemon=True)
            reader.start()
            with contextlib.suppress(Exception):
                prepare()
            reader.join()
            if not received[0]:
                raise RuntimeError("no arguments: the build stopped before this stage")
            return fn(*pickle.loads(received[0]))

        self._start(compute)
        os.close(args_read)
        _PARENT_ENDS.add(args_write)
        self._args_write: int | None = args_write

    def send(self, *args: Any) -> None:
        """Start `fn(*args)` in the child (once)."""
        assert self._args_write is not None, "sent twice"
        _PARENT_ENDS.discard(self._args_write)
        with contextlib.suppress(BrokenPipeError), os.fdopen(self._args_write, "wb") as out:
            self._args_write = None
            out.write(pickle.dumps(args))  # a child that died is reported by result()

    def wait(self) -> None:
        """Reap the child; one never sent its arguments is stopped (it has nothing left to do
        but its preparation, which an error line must not wait for)."""
        if self._args_write is not None:
            self.cancel()
        else:
            super().wait()

    def result(self) -> Any:
        if self._args_write is not None:  # never sent: the child ends at the closed pipe
            _PARENT_ENDS.discard(self._args_write)
            os.close(self._args_write)
            self._args_write = None
        return super().result()


def _read_all(descriptor: int) -> bytes:
    with os.fdopen(descriptor, "rb") as source:
        return source.read()


def _failure(exc: BaseException) -> tuple[str, Any]:
    """What a child reports for `exc`: a SpecError's problems, or any other error's text."""
    from .errors import SpecError

    if isinstance(exc, SpecError):
        return "spec", exc.problems
    return "error", f"{type(exc).__name__}: {exc}"
