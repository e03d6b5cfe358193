"""The whole pipeline: load → validate → IR → models → render → format → write."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .build import build_api
from .emit import finish_files, read_tree, write_atomically
from .load import load_spec
from .models import generate_models
from .naming import snake_case
from .render import render_package, template_dir
from .spec import ApiSpec

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PACKAGE = "kibo_authtickets"


def default_spec() -> Path:
    for candidate in (ROOT / "spec" / "kibo_authtickets.yaml", Path(__file__).resolve().parent / "_spec" / "kibo_authtickets.yaml"):
        if candidate.is_file():
            return candidate
    return ROOT / "spec" / "kibo_authtickets.yaml"


def default_output() -> Path:
    return ROOT / "generated"


def templates_digest() -> str:
    """Fingerprint of templates/ (and the generator version): any template edit changes the output."""
    digest = hashlib.sha256(__version__.encode())
    directory = template_dir()
    for path in sorted(directory.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.relative_to(directory).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


@dataclass(frozen=True)
class Built:
    api: ApiSpec
    files: dict[str, bytes]  # relative to the package directory

    @property
    def package_name(self) -> str:
        return self.api.package_name


def package_name_for(title: str) -> str:
    return snake_case(title, fallback="api_client")


def build_package(spec_path: Path, package_name: str | None = None) -> Built:
    loaded = load_spec(spec_path)
    if package_name is None:
        package_name = package_name_for(str((loaded.document.get("info") or {}).get("title") or ""))
    api = build_api(loaded, package_name)
    models_source = generate_models(api)
    rendered = render_package(api, models_source, __version__, templates_digest())
    files = finish_files(rendered, spec_name=api.spec_filename, sha256=api.spec_sha256, version=__version__)
    return Built(api=api, files=files)


@dataclass(frozen=True)
class Summary:
    package_dir: Path
    operations: int
    resources: int
    models: int
    files: int
    seconds: float
    warnings: tuple[str, ...]

    def lines(self) -> list[str]:
        return [
            f"generated {self.package_dir}",
            f"  {self.operations} operations in {self.resources} resources, {self.models} models, "
            f"{self.files} files, {self.seconds:.2f} s",
        ]


def generate(spec_path: Path, out_dir: Path, package_name: str | None = None) -> Summary:
    started = time.perf_counter()
    built = build_package(spec_path, package_name)
    package_dir = out_dir / built.package_name
    write_atomically(built.files, package_dir)
    return Summary(
        package_dir=package_dir,
        operations=len(built.api.operations),
        resources=len(built.api.resources),
        models=len(built.api.model_names),
        files=len(built.files),
        seconds=time.perf_counter() - started,
        warnings=built.api.warnings,
    )


def check(spec_path: Path, out_dir: Path, package_name: str | None = None) -> list[str]:
    """Files that differ between the committed output and what the spec gives now (empty: clean)."""
    built = build_package(spec_path, package_name)
    existing = read_tree(out_dir / built.package_name)
    names = sorted(set(existing) | set(built.files))
    return [name for name in names if existing.get(name) != built.files.get(name)]
