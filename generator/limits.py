"""Input limits (README "Security"): a spec is hostile until proven otherwise, so the work and the
reading it can cause are bounded. Real specs are far inside them (Kibo's largest is 4 MB with
nesting 12; the development corpus nests at most 18 levels)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEFAULT_MAX_SPEC_BYTES = 64 * 1024 * 1024  # per file; --max-spec-bytes raises it
MAX_NESTING = 100  # mappings/lists inside each other
MAX_EXPANDED_NODES = 5_000_000  # nodes after YAML aliases are expanded ("billion laughs")
REF_EXTENSIONS = (".json", ".yaml", ".yml")  # what an external $ref may name


@dataclass(frozen=True)
class Limits:
    """What a spec may make the generator read and what it accepts: the size of each file, where
    external `$ref`s may point (`ref_root`: default the spec's own directory; `--ref-root` widens
    it), and whether harmless validator findings are only warnings (`strict`)."""

    max_spec_bytes: int = DEFAULT_MAX_SPEC_BYTES
    ref_root: Path | None = None
    strict: bool = False  # --strict: every validator finding is an error, none a warning


DEFAULT_LIMITS = Limits()
