"""The development corpus (issue 13): every document of `../shared/corpus/` through the generator.

    python bench/corpus.py                 # every document (about 5 minutes on 2 cores)
    python bench/corpus.py --limit 20      # the first 20 of each source
    python bench/corpus.py --mypy 10       # also `mypy --strict` on 10 generated packages
    python bench/corpus.py --timing 3      # cold generation time against openapi-python-client

For each document of MANIFEST.tsv: `generate` in a fresh process (exit code, traceback or not,
`error:` lines with and without LINE:COL), the operations generated against the manifest's count,
and an import of every module of the package in another fresh process. When openapi-python-client
is installed (`pip install -e .[bench]`), it runs on the same documents and its exit codes are
printed beside ours. Prints a Markdown table; `--json FILE` writes every row.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
LOCATED = re.compile(r"^error: .+:\d+:\d+: ")
IMPORT_ALL = (
    "import importlib, pathlib, sys; root = pathlib.Path(sys.argv[1]); sys.path.insert(0, str(root));"
    "[importlib.import_module('.'.join(p.relative_to(root).with_suffix('').parts).removesuffix('.__init__'))"
    " for p in sorted((root / sys.argv[2]).rglob('*.py'))]"
)


@dataclass
class Row:
    file: str
    source: str
    ops: int
    valid: str
    exit: int = -1
    traceback: bool = False
    operations: int = 0
    errors: int = 0
    unlocated_errors: int = 0
    imports: bool = False
    import_error: str = ""
    mypy: bool | None = None
    black: bool | None = None  # `black --check`: the templates write black's style without black
    opc_exit: int | None = None
    messages: list[str] = field(default_factory=list)


def manifest(limit: int | None) -> list[Row]:
    with (CORPUS / "MANIFEST.tsv").open(encoding="utf-8") as handle:
        rows = [
            Row(file=r["file"], source=r["source"], ops=int(r["ops"] or 0), valid=r["valid"])
            for r in csv.DictReader(handle, delimiter="\t")
        ]
    if limit is None:
        return rows
    picked: list[Row] = []
    for source in sorted({r.source for r in rows}):
        picked.extend([r for r in rows if r.source == source][:limit])
    return picked


def run_ours(row: Row, work: Path) -> Row:
    out = work / "ours" / re.sub(r"[^A-Za-z0-9]", "_", row.file)
    env = {**os.environ, "KIBO_CODEGEN_CACHE": "0", "KIBO_CODEGEN_JOBS": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "generator", "generate", str(CORPUS / row.file), "-o", str(out),
         "--package-name", "corpus_pkg", "--quiet"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    row.exit = result.returncode
    row.traceback = "Traceback (most recent call last)" in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    row.errors = len(errors)
    row.unlocated_errors = sum(1 for line in errors if not LOCATED.match(line))
    row.messages = errors[:3]
    package = out / "corpus_pkg"
    if row.exit == 0 and package.is_dir():
        row.operations = _operations(package)
        imported = subprocess.run(
            [sys.executable, "-c", IMPORT_ALL, str(out), "corpus_pkg"], capture_output=True, text=True, timeout=300
        )
        row.imports = imported.returncode == 0
        row.import_error = imported.stderr.strip().splitlines()[-1] if imported.returncode else ""
    return row


def _operations(package: Path) -> int:
    """Operation methods of a generated package, from the API surface it records (`_surface.py`)."""
    source = (package / "_surface.py").read_text(encoding="utf-8")
    surface = json.loads(source.split('r"""', 1)[1].rsplit('"""', 1)[0])
    return sum(len(resource["operations"]) for resource in surface["resources"].values())


def run_mypy(row: Row, work: Path) -> None:
    out = work / "ours" / re.sub(r"[^A-Za-z0-9]", "_", row.file)
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir", str(out / ".mypy"), "corpus_pkg"],
        cwd=out, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    row.mypy = result.returncode == 0
    formatted = subprocess.run(
        [sys.executable, "-m", "black", "--check", "--quiet", "--line-length", "100", "--target-version", "py310",
         "corpus_pkg"],
        cwd=out, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    row.black = formatted.returncode == 0


def run_opc(row: Row, work: Path, command: list[str]) -> None:
    target = work / "opc" / re.sub(r"[^A-Za-z0-9]", "_", row.file)
    target.mkdir(parents=True, exist_ok=True)
    try:
        result = subprocess.run(
            [*command, "generate", "--path", str(CORPUS / row.file), "--meta", "none", "--overwrite"],
            cwd=target, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        row.opc_exit = result.returncode
    except subprocess.TimeoutExpired:
        row.opc_exit = 124


def time_generation(rows: list[Row], work: Path, opc: str, runs: int) -> list[tuple[str, float, float]]:
    """(document, our seconds, openapi-python-client's seconds): medians of `runs` cold generations
    in fresh processes, one document at a time (nothing else running beside them), for the
    documents both generate. Ours cold (no build-cache entry; Jinja's compiled templates stay, as
    .pyc files do) and with .pyc files as an installed tool has them (see bench/run.py)."""
    cache = work / "timing-cache"  # entries removed before each run; compiled templates stay
    env = {**os.environ, "KIBO_CODEGEN_CACHE_DIR": str(cache)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    timed: list[tuple[str, float, float]] = []
    for row in rows:
        if row.exit != 0 or row.opc_exit != 0:
            continue
        ours: list[float] = []
        theirs: list[float] = []
        for index in range(runs):
            out = work / "timing" / f"{index}"
            shutil.rmtree(out, ignore_errors=True)
            for entry in cache.glob("*.json"):
                entry.unlink()
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "generator", "generate", str(CORPUS / row.file), "-o", str(out),
                 "--package-name", "corpus_pkg", "--quiet"],
                cwd=ROOT, env=env, capture_output=True, timeout=300,
            )  # fmt: skip
            ours.append(time.perf_counter() - started)
            target = work / "timing-opc"
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            started = time.perf_counter()
            subprocess.run(
                [opc, "generate", "--path", str(CORPUS / row.file), "--meta", "none", "--overwrite"],
                cwd=target, capture_output=True, timeout=300,
            )  # fmt: skip
            theirs.append(time.perf_counter() - started)
        timed.append((row.file, statistics.median(ours), statistics.median(theirs)))
    return timed


def timing_summary(timed: list[tuple[str, float, float]]) -> str:
    ratios = sorted(ours / theirs for _, ours, theirs in timed)
    worst = max(timed, key=lambda item: item[1] / item[2])
    return "\n".join([
        f"Cold generation, {len(timed)} documents both generate (medians per document):",
        "",
        "| | ours | openapi-python-client | ratio |",
        "| --- | --- | --- | --- |",
        f"| median time | {statistics.median(t[1] for t in timed):.2f} s | "
        f"{statistics.median(t[2] for t in timed):.2f} s | — |",
        f"| median ratio | — | — | **{statistics.median(ratios):.2f}** |",
        f"| worst ratio | {worst[1]:.2f} s | {worst[2]:.2f} s | {worst[1] / worst[2]:.2f} (`{worst[0]}`) |",
        f"| documents at ≤ 1.0 | {sum(r <= 1.0 for r in ratios)} of {len(ratios)} | — | — |",
    ])  # fmt: skip


def summary(rows: list[Row], with_opc: bool) -> str:
    def count(predicate: object) -> int:
        return sum(1 for r in rows if predicate(r))  # type: ignore[operator]

    with_ops = [r for r in rows if r.ops > 0]
    without = [r for r in rows if r.ops == 0]
    lines = [
        f"{len(rows)} documents ({len(with_ops)} with operations, {len(without)} without); "
        f"{sum(r.ops for r in with_ops)} operations in the manifest.",
        "",
        "| | ours | openapi-python-client |",
        "| --- | --- | --- |",
        f"| exit 0 | {count(lambda r: r.exit == 0)} | "
        + (f"{count(lambda r: r.opc_exit == 0)}" if with_opc else "not installed") + " |",
        f"| exit 0, documents with operations | {sum(1 for r in with_ops if r.exit == 0)} | "
        + (f"{sum(1 for r in with_ops if r.opc_exit == 0)}" if with_opc else "—") + " |",
        f"| valid (validator) documents with operations, exit 0 | "
        f"{sum(1 for r in with_ops if r.valid == 'yes' and r.exit == 0)} of "
        f"{sum(1 for r in with_ops if r.valid == 'yes')} | "
        + (f"{sum(1 for r in with_ops if r.valid == 'yes' and r.opc_exit == 0)}" if with_opc else "—") + " |",
        f"| documents without operations, models package | {sum(1 for r in without if r.exit == 0)} of "
        f"{len(without)} | — |",
        f"| operations generated (of the manifest's, where exit 0) | "
        f"{sum(r.operations for r in with_ops if r.exit == 0)} of {sum(r.ops for r in with_ops if r.exit == 0)} | — |",
        f"| every module imports | {count(lambda r: r.exit == 0 and r.imports)} of "
        f"{count(lambda r: r.exit == 0)} | — |",
        f"| tracebacks | {count(lambda r: r.traceback)} | — |",
        f"| exit 2 | {count(lambda r: r.exit == 2)} ({sum(r.errors for r in rows)} `error:` lines, "
        f"{sum(r.unlocated_errors for r in rows)} without LINE:COL) | — |",
    ]
    checked = [r for r in rows if r.mypy is not None]
    if checked:
        lines.append(f"| `mypy --strict` clean | {sum(1 for r in checked if r.mypy)} of {len(checked)} | — |")
        lines.append(f"| `black --check` clean | {sum(1 for r in checked if r.black)} of {len(checked)} | — |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, help="the first N documents of each source")
    parser.add_argument("--mypy", type=int, default=0, help="mypy --strict on this many generated packages")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--json", type=Path, help="write every row here")
    parser.add_argument("--no-opc", action="store_true", help="do not run openapi-python-client")
    parser.add_argument("--every", type=int, default=1, help="time every Nth document only (with --timing)")
    parser.add_argument("--timing", type=int, default=0, metavar="RUNS",
                        help="also time cold generation against openapi-python-client (RUNS per document)")
    args = parser.parse_args(argv)
    if not (CORPUS / "MANIFEST.tsv").is_file():
        print(f"the corpus is not there: {CORPUS} (../shared/corpus beside the checkout)", file=sys.stderr)
        return 2
    rows = manifest(args.limit)
    opc = shutil.which("openapi-python-client", path=str(Path(sys.executable).parent)) or shutil.which(
        "openapi-python-client"
    )
    with_opc = opc is not None and not args.no_opc
    timed: list[tuple[str, float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            rows = list(pool.map(lambda r: run_ours(r, work), rows))
            checked = [r for r in rows if r.exit == 0 and r.imports][: args.mypy]
            list(pool.map(lambda r: run_mypy(r, work), checked))
            if with_opc:
                assert opc is not None
                list(pool.map(lambda r: run_opc(r, work, [opc]), rows))
        if with_opc and args.timing:
            assert opc is not None
            timed = time_generation(rows[:: args.every], work, opc, args.timing)
    print(summary(rows, with_opc))
    if with_opc and args.timing:
        print()
        print(timing_summary(timed))
    failures = [r for r in rows if r.traceback or (r.exit == 0 and not r.imports)]
    for row in failures[:20]:
        print(f"- {row.file}: exit {row.exit}{' traceback' if row.traceback else ''} {row.import_error}")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
