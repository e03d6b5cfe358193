"""One line per pipeline stage with its time, on stderr (`--quiet` silences it).

On a terminal each line appears as its stage ends, after a progress bar naming the stage being
worked on. Elsewhere (CI logs, pipes) the lines are printed together once the run succeeded, so
that a failing run prints only its `error:` lines (one per problem, API.md §1).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

STAGES = ("cache", "load", "validate", "build", "models", "render", "format", "write")


class Progress:
    def __init__(self, *, enabled: bool = True, stream: TextIO | None = None) -> None:
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        try:
            self.tty = enabled and self.stream.isatty()
        except (AttributeError, ValueError):
            self.tty = False
        self._held: list[str] = []

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        if self.tty:
            position = STAGES.index(name) + 1 if name in STAGES else len(STAGES)
            bar = "#" * position + "-" * (len(STAGES) - position)
            self._write(f"\r[{bar}] {name}...")
        yield
        self.done(name, time.perf_counter() - started)

    def done(self, name: str, seconds: float) -> None:
        line = f"  {name:<9}{seconds:7.2f} s\n"
        if self.tty:
            self._write("\r\x1b[K" + line)
        else:
            self._held.append(line)

    def finish(self) -> None:
        """The run succeeded: print what was held back."""
        self._write("".join(self._held))
        self._held.clear()

    def abandon(self) -> None:
        """The run failed: clear the progress bar, drop the held lines."""
        if self.tty:
            self._write("\r\x1b[K")
        self._held.clear()

    def _write(self, text: str) -> None:
        if not self.enabled:
            return
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            self.enabled = False


QUIET = Progress(enabled=False)
