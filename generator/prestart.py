"""The models process of a cold build, forked as the CLI starts.

On a small spec a cold build waits for that process: datamodel-code-generator's imports (about
0.25 s) are most of its time. Forked as soon as the command line is parsed, before the rest of the
generator is imported, it starts about 60 ms sooner, while this process has only its own imports
to do (two processes on two cores: neither waits). It receives the IR once the build has it
(`ForkedAhead.send`).

Only a `generate` into an absent or empty directory forks it here: such a build replaces no
package, so it models in that process (a replaced package's renames make the build model in its
own process, renames.py). A build-cache hit stops it, as it stops a process forked by the build.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from . import forks

if TYPE_CHECKING:
    from .models import GeneratedModels
    from .spec import ApiSpec


def prepare_models() -> None:
    from .models import import_ahead

    import_ahead()


def build_models(api: ApiSpec) -> GeneratedModels:
    from .models import generate_model_modules

    return generate_model_modules(api)


def fork_models() -> forks.ForkedAhead:
    return forks.ForkedAhead(build_models, prepare_models)


_started: forks.ForkedAhead | None = None


def start(command: str | None, output: object) -> None:
    """Fork the models process now if `command` is a `generate` into `output`, an absent or empty
    directory, on a machine where `forks.can_fork()`; `take()` hands it to the build, and
    `stop_untaken()` (the CLI's last step) stops it if no build did."""
    global _started
    if command != "generate" or _started is not None or not isinstance(output, Path):
        return
    try:
        if output.exists() and (not output.is_dir() or any(output.iterdir())):
            return
    except OSError:
        return  # the build reports an unusable output
    if forks.can_fork():
        _started = fork_models()


def take() -> forks.ForkedAhead | None:
    """The models process `start` forked, once; None if it forked none."""
    global _started
    started, _started = _started, None
    return started


def stop_untaken() -> None:
    """Stop the process `start` forked if no build took it."""
    started = take()
    if started is not None:
        started.cancel()
