"""A cache of built packages, keyed by a fingerprint of every input that decides their bytes.

Key: SHA-256 over the spec's bytes and file name, the package name asked for, the generator's
version and source files, the templates, and the versions of Python and of the tools that write
text (black, datamodel-code-generator, Jinja2, PyYAML, openapi-spec-validator). Value: the files
the build produced (and its summary counts). It lives outside the output directory:
`$KIBO_CODEGEN_CACHE_DIR`, else `$XDG_CACHE_HOME/kibo-codegen`, else `~/.cache/kibo-codegen`;
`KIBO_CODEGEN_CACHE=0` turns it off. A spec that `$ref`s other files is never cached (their
bytes are not in the key); that is judged from the parsed document, so no spelling of `$ref`
slips past. Every entry is checked against its key and a checksum of its files before use, and a
cache directory that is not this user's own, or that others may write, is not used at all (a
poisoned entry would be code in the next package, a poisoned Jinja cache code in this process).
Any unreadable or corrupt entry is a miss, never an error.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .naming import package_name_problem

if TYPE_CHECKING:
    from .limits import Limits

FORMAT = 2
MAX_ENTRIES = 64
_TOOLS = ("black", "datamodel-code-generator", "Jinja2", "PyYAML", "openapi-spec-validator")


@dataclass(frozen=True)
class Entry:
    files: dict[str, bytes]
    package_name: str
    operations: int
    resources: int
    models: int
    warnings: tuple[str, ...]


def cache_dir() -> Path | None:
    """The cache directory, created private (0700); None when off or not safe to trust."""
    if os.environ.get("KIBO_CODEGEN_CACHE", "1").strip().lower() in {"0", "off", "false", "no"}:
        return None
    explicit = os.environ.get("KIBO_CODEGEN_CACHE_DIR")
    if explicit:
        directory = Path(explicit)
    else:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        directory = Path(base) / "kibo-codegen"
    return directory if _private_directory(directory) else None


def _private_directory(directory: Path) -> bool:
    """True when `directory` is (or is now made) a real directory of this user that no one else may write."""
    try:
        directory.parent.mkdir(parents=True, exist_ok=True)
        directory.mkdir(mode=0o700, exist_ok=True)
        info = directory.lstat()
    except OSError:
        return False
    if not stat.S_ISDIR(info.st_mode):
        return False  # a symlink or a file: someone else may choose where it points
    owner_ok = not hasattr(os, "getuid") or info.st_uid == os.getuid()
    return owner_ok and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def jinja_bytecode_cache() -> Any:
    """Jinja2's cache of compiled templates (keyed by their source), in the cache directory."""
    directory = cache_dir()
    if directory is None:
        return None
    import jinja2

    if not _private_directory(directory / "jinja"):
        return None
    return jinja2.FileSystemBytecodeCache(str(directory / "jinja"))


def template_dir() -> Path:
    """templates/ of a source checkout or editable install, else the copy inside a wheel."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "templates", here / "_templates"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("templates/ not found next to the generator package")


def _digest_tree(digest: hashlib._Hash, directory: Path, pattern: str) -> None:
    for path in sorted(directory.rglob(pattern)):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(
                path.relative_to(directory).as_posix().encode() + b"\0" + path.read_bytes() + b"\0"
            )


def templates_digest(version: str) -> str:
    """Fingerprint of templates/ and the generator version: any template edit changes the output."""
    digest = hashlib.sha256(version.encode())
    _digest_tree(digest, template_dir(), "*")
    return digest.hexdigest()


def _tool_versions() -> str:
    from importlib import metadata

    versions = []
    for name in _TOOLS:
        try:
            versions.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name}==?")
    return ";".join(versions)


def fingerprint(
    spec_path: Path, package_name: str | None, version: str, limits: Limits, options: str
) -> str | None:
    """The cache key of a build, or None when this build must not be cached: no cache, a spec
    that cannot be read or parsed (the real build reports it), or one that refers to other files."""
    if cache_dir() is None:
        return None
    from .errors import SpecError
    from .load import iter_refs, read_document

    try:
        text, document = read_document(Path(spec_path), limits)
    except SpecError:
        return None
    if any(not ref.startswith("#") for _, ref in iter_refs(document)):
        return None
    spec_bytes = text.encode("utf-8")
    digest = hashlib.sha256(f"kibo-codegen cache {FORMAT}\0{version}\0".encode())
    digest.update(f"{Path(spec_path).name}\0{package_name}\0{options}\0".encode())
    passes = os.environ.get("KIBO_CODEGEN_BLACK_PASSES", "")
    digest.update(f"{sys.version_info[:2]}\0{_tool_versions()}\0{passes}\0".encode())
    digest.update(hashlib.sha256(spec_bytes).digest())
    _digest_tree(digest, Path(__file__).resolve().parent, "*.py")
    _digest_tree(digest, template_dir(), "*")
    return digest.hexdigest()


def _entry_path(key: str) -> Path | None:
    directory = cache_dir()
    return None if directory is None else directory / f"{key}.json"


def _files_digest(files: dict[str, bytes]) -> str:
    """Checksum of an entry's files: a torn or edited cache file is a miss."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name] + b"\0")
    return digest.hexdigest()


def load(key: str) -> Entry | None:
    path = _entry_path(key)
    if path is None:
        return None
    try:
        data = json.loads(path.read_bytes())
        if data.get("format") != FORMAT or data.get("key") != key:
            return None
        entry = Entry(
            files={name: text.encode("utf-8") for name, text in data["files"].items()},
            package_name=str(data["package_name"]),
            operations=int(data["operations"]),
            resources=int(data["resources"]),
            models=int(data["models"]),
            warnings=tuple(str(w) for w in data["warnings"]),
        )
        if _files_digest(entry.files) != data.get("files_sha256"):
            return None
        if package_name_problem(entry.package_name) or not all(map(safe_relative_path, entry.files)):
            return None
        os.utime(path)  # recently used: kept by the pruning in store()
        return entry
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def safe_relative_path(name: str) -> bool:
    """A file name inside the package: relative, `/`-separated, no `..`, no empty or hidden parts."""
    parts = name.split("/")
    return bool(name) and "\\" not in name and all(part and not part.startswith(".") for part in parts)


def store(key: str, entry: Entry) -> None:
    """Best effort: a cache that cannot be written is just a slower next run."""
    path = _entry_path(key)
    if path is None:
        return
    try:
        text = json.dumps(
            {
                "format": FORMAT,
                "key": key,
                "package_name": entry.package_name,
                "operations": entry.operations,
                "resources": entry.resources,
                "models": entry.models,
                "warnings": list(entry.warnings),
                "files_sha256": _files_digest(entry.files),
                "files": {name: data.decode("utf-8") for name, data in sorted(entry.files.items())},
            }
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=path.parent)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temp, path)
        _prune(path.parent)
    except (OSError, UnicodeDecodeError):
        return


def _prune(directory: Path) -> None:
    entries = sorted(directory.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    for stale in entries[MAX_ENTRIES:]:
        stale.unlink(missing_ok=True)
