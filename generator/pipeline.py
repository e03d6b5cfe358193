"""The whole pipeline: load → validate → IR → models → render → format → write.

Speed (issue 6, see bench/): heavy modules (yaml, jinja2, black, datamodel-code-generator, the
OpenAPI validator) are imported only when a package is really built. A build is keyed by a
fingerprint of everything that decides its bytes (spec bytes and name, package name, generator
source, templates, versions of the tools that write text); the produced files are kept under that
key in a cache outside the output (see `cache.py`), so regenerating an unchanged spec and `check`
cost a hash and a comparison with the files on disk — `check` still compares every byte, so any
edit of the output, the spec, the templates or the generator is seen.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from . import cache as _cache
from .emit import check_target, read_tree, write_atomically
from .limits import DEFAULT_LIMITS, Limits
from .pins import NO_PINS, Pins
from .progress import QUIET, Progress
from .spec import HttpLibrary

if TYPE_CHECKING:
    from .forks import Forked, ForkedAhead
    from .spec import ApiSpec
    from .surface import Surface

def templates_digest() -> str:
    """Fingerprint of templates/ and the generator version: any template edit changes the output."""
    return _cache.templates_digest(__version__)


@dataclass(frozen=True)
class Built(_cache.Entry):
    """What a build produced: the cached part (files relative to the package dir, counts, warnings)
    and the IR, which is None when the files came from the cache."""

    api: ApiSpec | None = field(default=None, compare=False)


def http_library_of(name: str | None) -> HttpLibrary:
    """`--http-library` / `http-library =` as the enum; SpecError naming the choices."""
    from .errors import SpecError

    try:
        return HttpLibrary(name or HttpLibrary.HTTPX.value)
    except ValueError:
        choices = ", ".join(m.value for m in HttpLibrary)
        raise SpecError.single("--http-library", f"{name!r} is not one of {choices}") from None


def _validator_warnings(spec_path: Path, limits: Limits) -> tuple[str, ...]:
    """In a helper process: the full load, with the OpenAPI validator; its warnings or SpecError.

    Its result is read last (after the models and the formatting), so it runs at the lowest
    priority: on two cores it yields to the parent and the models process, which are on the way
    there, and takes the core the parent leaves idle while it waits for the models."""
    import contextlib
    import os

    from .load import load_spec

    with contextlib.suppress(OSError):
        os.nice(19)

    return load_spec(spec_path, limits=limits).warnings


# The validator (and its 0.3 s import) is the slowest part of loading: it runs in a second
# process while this one builds, models and renders (results and errors are as if sequential),
# whatever the spec's size.
PARALLEL_VALIDATION_MIN_BYTES = 0


@dataclass(frozen=True)
class BuildOptions:
    """Everything besides the spec and the package name that decides a build's bytes."""

    limits: Limits = DEFAULT_LIMITS
    http_library: HttpLibrary = HttpLibrary.HTTPX
    pins: Pins = NO_PINS
    # The surface the package being replaced recorded: renamed names become deprecated aliases
    # (renames.py), unless `drop_deprecated`.
    previous: Surface | None = field(default=None, compare=False)
    drop_deprecated: bool = False

    def cache_text(self) -> str:
        """For the cache key (`cache.fingerprint`); the previous surface is added by `build_cached`."""
        return f"{self.limits!r}\0{self.http_library.value}\0{self.pins.fingerprint()}\0{self.drop_deprecated}"


DEFAULT_OPTIONS = BuildOptions()


@dataclass
class _Helpers:
    """The processes a cold build runs beside this one (none where `forks.can_fork` says no)."""

    validation: Forked | None = None
    models: ForkedAhead | None = None

    @classmethod
    def start(cls, spec_path: Path, options: BuildOptions) -> _Helpers:
        from . import forks, prestart

        helpers = cls()
        started = prestart.take()  # the models process the CLI forked as it started, if it did
        with_models = options.previous is None and not options.drop_deprecated
        if not forks.can_fork() or not with_models:
            if started is not None:
                started.cancel()
            started = None
        if not forks.can_fork():
            return helpers
        try:
            if Path(spec_path).stat().st_size >= PARALLEL_VALIDATION_MIN_BYTES:
                helpers.validation = forks.Forked(_validator_warnings, spec_path, options.limits)
        except OSError:
            pass  # load_spec reports the unreadable file
        if with_models:
            # datamodel-code-generator in a process of its own, started now if the CLI did not:
            # it imports itself (most of its time on a small spec) while this one loads and
            # builds, then models the IR while this one renders what the IR alone decides.
            helpers.models = started or prestart.fork_models()
        return helpers

    def cancel(self) -> None:
        """Stop both, their work unread (a cache hit, a crash, Ctrl-C)."""
        for helper in (self.models, self.validation):
            if helper is not None:
                helper.cancel()


def build_package(
    spec_path: Path,
    package_name: str | None = None,
    options: BuildOptions = DEFAULT_OPTIONS,
    progress: Progress = QUIET,
    helpers: _Helpers | None = None,
) -> Built:
    """Build the package's files from scratch (no cache); `helpers`, the processes started for
    it (`build_cached` starts them before it knows whether the cache has the build)."""
    limits = options.limits
    from .build import build_api
    from .emit import finish_files
    from .load import load_spec, validate_loaded
    from .model_modules import split_models
    from .models import GeneratedModels, generate_model_modules, generate_models
    from .render import PackageRenderer, runtime_files

    helpers = helpers if helpers is not None else _Helpers.start(spec_path, options)
    validation, models_job = helpers.validation, helpers.models
    try:
        with progress.stage("load"):
            loaded = load_spec(spec_path, validate=False, limits=limits)
        if validation is None:
            with progress.stage("validate"):
                validator_warnings = validate_loaded(loaded, limits)
        with progress.stage("build"):
            api = build_api(loaded, package_name, options.http_library, options.pins)
        if models_job is not None:
            models_job.send(api)
            with progress.stage("render"):
                renderer = PackageRenderer(api, __version__, templates_digest())
                rendered = renderer.spec_files()
            with progress.stage("models"):  # ran beside rendering; this is the wait for it
                models: GeneratedModels = models_job.result()
            rendered.update(renderer.model_files(models))
            api = dataclasses.replace(api, warnings=(*api.warnings, *models.warnings))
        else:
            with progress.stage("models"):
                models = generate_model_modules(api)
                api = dataclasses.replace(api, warnings=(*api.warnings, *models.warnings))
            if options.previous is not None or options.drop_deprecated:
                before = api.models_document
                api = _with_aliases(api, models.source, options)
                if api.models_document is not before:  # enum members kept under their old names
                    source, warnings = generate_models(api)
                    models = GeneratedModels(source, warnings, split_models(source))
            with progress.stage("render"):
                renderer = PackageRenderer(api, __version__, templates_digest())
                rendered = renderer.files(models)
    except Exception:
        if models_job is not None:
            models_job.wait()
        # A validator error comes first, as in a sequential run (KIBO_CODEGEN_JOBS=1), where the
        # build never sees an invalid document: nor does a bug of ours it would trip show here.
        if validation is not None:
            validation.result()
        raise
    except BaseException:
        helpers.cancel()  # no zombie helper behind a crash or Ctrl-C
        raise
    if validation is not None:
        with progress.stage("validate"):  # ran beside the stages above; this is the wait for it
            validator_warnings = validation.result()
    warnings = (*validator_warnings, *api.warnings)
    with progress.stage("format"):
        files = finish_files(rendered, spec_name=api.spec_filename, verbatim=runtime_files(renderer.wiring))
    return Built(
        files=files,
        package_name=api.package_name,
        operations=len(api.operations),
        resources=len(api.resources),
        models=len(api.model_names),
        warnings=warnings,
        api=api,
    )


def _with_aliases(api: ApiSpec, models_source: str, options: BuildOptions) -> ApiSpec:
    """`api` with deprecated aliases for what was renamed since `options.previous` (renames.py)."""
    from .renames import NO_ALIASES, apply_aliases, plan_aliases
    from .surface import extract

    previous = options.previous
    if options.drop_deprecated:
        return apply_aliases(api, NO_ALIASES, models_source, previous)
    return apply_aliases(api, plan_aliases(previous, extract(api, models_source)), models_source, previous)


def previous_surface(spec_path: Path, out_dir: Path, package_name: str | None, limits: Limits) -> Surface | None:
    """The surface recorded by the package a build into `out_dir` replaces, if there is one."""
    from .errors import SpecError
    from .load import read_document
    from .naming import package_name_for, package_name_problem
    from .surface import read_recorded

    name = package_name
    if name is None:
        try:
            _, document = read_document(Path(spec_path), limits)
        except SpecError:
            return None  # the build reports it
        name = package_name_for(document.get("info") if isinstance(document, dict) else None)
    if package_name_problem(name) is not None:
        return None
    return read_recorded(out_dir / name)


def build_cached(
    spec_path: Path,
    package_name: str | None = None,
    options: BuildOptions = DEFAULT_OPTIONS,
    progress: Progress = QUIET,
) -> Built:
    """The package's files: from the cache when the inputs' fingerprint is known, else built.

    The previous package's surface is an input too (its renames become aliases). A build is
    idempotent over its own output, so an entry is stored under the surface it replaced and under
    the surface it wrote; and a build that replaced nothing also stands for one that replaces a
    package with exactly its surface (an unchanged regeneration, `check`)."""
    from .surface import SURFACE_FILE, parse_surface_module

    def key(previous: Surface | None) -> str:
        text = json.dumps(previous, sort_keys=True, ensure_ascii=True)
        return hashlib.sha256(f"{base}\0{text}".encode()).hexdigest()

    def surface_of(entry: _cache.Entry) -> Surface | None:
        data = entry.files.get(SURFACE_FILE)
        return None if data is None else parse_surface_module(data.decode("utf-8"))

    # The helper processes start first: the fingerprint costs about 0.1 s (the tools' versions,
    # the generator's source), which a cold build would otherwise wait for; a hit stops them.
    helpers = _Helpers.start(spec_path, options) if _cache.cache_dir() is not None else None
    hit: _cache.Entry | None = None
    try:
        base = _cache.fingerprint(spec_path, package_name, __version__, options.limits, options.cache_text())
        if base is not None:
            with progress.stage("cache"):
                hit = _cache.load(key(options.previous))
                if hit is None and options.previous is not None:
                    fresh = _cache.load(key(None))
                    hit = fresh if fresh is not None and surface_of(fresh) == options.previous else None
    except BaseException:
        if helpers is not None:
            helpers.cancel()
        raise
    if hit is not None:
        if helpers is not None:
            helpers.cancel()
        return Built(**{f.name: getattr(hit, f.name) for f in fields(_cache.Entry)})
    built = build_package(spec_path, package_name, options, progress, helpers)
    if base is not None:
        _cache.store(key(options.previous), built)
        written = surface_of(built)
        if written is not None and written != options.previous:
            _cache.store(key(written), built)
    return built


@dataclass(frozen=True)
class Summary:
    package_dir: Path
    operations: int
    resources: int
    models: int
    files: int
    seconds: float
    warnings: tuple[str, ...]
    unchanged: bool = False
    changes: tuple[str, ...] = ()  # API changes vs the package this run replaced (diff.py)

    def lines(self) -> list[str]:
        state = " (unchanged)" if self.unchanged else ""
        return [
            f"generated {self.package_dir}{state}",
            f"  {self.operations} operations in {self.resources} resources, {self.models} models, "
            f"{self.files} files, {self.seconds:.2f} s",
            *self.changes,
        ]


def generate(
    spec_path: Path,
    out_dir: Path,
    package_name: str | None = None,
    *,
    limits: Limits = DEFAULT_LIMITS,
    force: bool = False,
    quiet: bool = True,
    http_library: str | None = None,
    pins: Pins = NO_PINS,
    drop_deprecated: bool = False,
) -> Summary:
    started = time.perf_counter()
    progress = Progress(enabled=not quiet)
    previous = previous_surface(spec_path, out_dir, package_name, limits)
    options = BuildOptions(limits, http_library_of(http_library), pins, previous, drop_deprecated)
    try:
        built = build_cached(spec_path, package_name, options, progress)
        package_dir = out_dir / built.package_name
        from .diff import regeneration_lines

        # Before the swap. Only `_surface.py` was read before this check (safely: `read_recorded`).
        check_target(package_dir, force=force)
        changes = regeneration_lines(package_dir, built.files, previous)  # vs the old package
        unchanged = read_tree(package_dir) == built.files
        if not unchanged:
            with progress.stage("write"):
                write_atomically(built.files, package_dir, force=force)
    except BaseException:
        progress.abandon()
        raise
    progress.finish()
    return Summary(
        package_dir=package_dir,
        operations=built.operations,
        resources=built.resources,
        models=built.models,
        files=len(built.files),
        seconds=time.perf_counter() - started,
        warnings=built.warnings,
        unchanged=unchanged,
        changes=tuple(changes),
    )


def check(
    spec_path: Path,
    out_dir: Path,
    package_name: str | None = None,
    *,
    limits: Limits = DEFAULT_LIMITS,
    http_library: str | None = None,
    pins: Pins = NO_PINS,
) -> list[str]:
    """Files that differ between the committed output and what the spec gives now (empty: clean).

    The committed package's recorded surface is the lock, as in `generate`: its deprecated
    aliases are expected again."""
    previous = previous_surface(spec_path, out_dir, package_name, limits)
    options = BuildOptions(limits, http_library_of(http_library), pins, previous)
    built = build_cached(spec_path, package_name, options)
    existing = read_tree(out_dir / built.package_name)
    names = sorted(set(existing) | set(built.files))
    return [name for name in names if existing.get(name) != built.files.get(name)]
