"""Benchmarks of kibo-codegen against its anchors, measured side by side in one run.

    pip install -e ".[bench]"        # openapi-python-client 0.29.1 + pyinstrument (anchors only)
    python bench/run.py              # full run: prints a Markdown table of medians and ratios
    python bench/run.py --quick      # smoke run (CI): our spec only, tiny iteration counts

Anchors: openapi-python-client (`generate --meta none`, formats with ruff) for generation, its
generated client and models for the client and parsing benchmarks, raw httpx + json.loads for
the client, json.loads for parsing, `import httpx, pydantic` for import time. An anchor that is
not installed is reported as missing. Every number is the median of --runs runs (default 5).
Cold generation runs in a fresh process with no build-cache entry (KIBO_CODEGEN_CACHE_DIR points
into the run's temp dir; only Jinja's compiled templates stay, as .pyc files do); regeneration and
`check` run in a fresh process with the build cache warm and the output intact.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
KIBO_SPECS = ROOT.parent / "shared" / "specs" / "kibo"
OUR_SPEC = ROOT / "spec" / "kibo_authtickets.yaml"
OUR_PACKAGE = "kibo_authtickets"
OPC_PACKAGE = "opc_kibo_authtickets"

SPECS = {  # name -> path; the generation and scale benchmarks
    "ours": OUR_SPEC,
    "customer": KIBO_SPECS / "openapi_customer.json",
    "commerce": KIBO_SPECS / "openapi_commerce.json",
    "catalog_admin": KIBO_SPECS / "openapi_catalog_admin.json",
}
COLD_TARGET_SPECS = ("ours", "customer", "commerce")


# -- measuring ---------------------------------------------------------------------------------


@dataclass
class Run:
    seconds: float
    peak_mb: float
    returncode: int
    stdout: str
    stderr: str


def run_process(argv: list[str], *, env: dict[str, str] | None = None, cwd: Path = ROOT) -> Run:
    """One fresh process: wall time and its own peak RSS (os.wait4, not the whole tree's max)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(argv, stdout=out, stderr=err, cwd=cwd, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(
            seconds=seconds,
            peak_mb=usage.ru_maxrss / 1024,
            returncode=process.returncode,
            stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
        )


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def opc_command() -> list[str] | None:
    exe = shutil.which("openapi-python-client")
    if exe is None:
        return None
    return [exe]


@dataclass
class GenResult:
    spec: str
    operations: int | None = None
    ours_cold: list[float] = field(default_factory=list)
    ours_peak: list[float] = field(default_factory=list)
    ours_regen: list[float] = field(default_factory=list)
    ours_check: list[float] = field(default_factory=list)
    ours_error: str | None = None
    opc_cold: list[float] = field(default_factory=list)
    opc_peak: list[float] = field(default_factory=list)
    opc_error: str | None = None
    opc_warnings: bool = False
    package_dir: Path | None = None


def compiled_env(**extra: str) -> dict[str, str]:
    """This environment with `extra`, .pyc files written and read as for installed code (pip
    byte-compiles site-packages, so the anchors have them even where PYTHONDONTWRITEBYTECODE is
    set; our checkout and generated packages would otherwise be compiled again in every run)."""
    env = {**os.environ, **extra}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def generator_env(cache: Path) -> dict[str, str]:
    """The environment of our generation runs: the run's build cache, compiled as installed."""
    return compiled_env(KIBO_CODEGEN_CACHE_DIR=str(cache))


def bench_generation(name: str, spec: Path, runs: int, work: Path, with_opc: bool) -> GenResult:
    result = GenResult(spec=name)
    opc = opc_command() if with_opc else None
    if with_opc and opc is None:
        result.opc_error = "not installed"
    package = OUR_PACKAGE if name == "ours" else f"bench_{name}"
    for index in range(runs):
        cache = work / "cache"
        for entry in cache.glob("*.json"):  # cold: no build-cache entry (compiled templates stay)
            entry.unlink()
        out = work / f"out-{name}-{index}"
        env = generator_env(cache)
        argv = [sys.executable, "-m", "generator", "generate", str(spec), "-o", str(out)]
        argv += ["--package-name", package]
        cold = run_process(argv, env=env)
        if cold.returncode != 0:
            result.ours_error = _first_line(cold.stderr or cold.stdout)
        else:
            result.ours_cold.append(cold.seconds)
            result.ours_peak.append(cold.peak_mb)
            found = re.search(r"(\d+) operations", cold.stdout)
            result.operations = int(found.group(1)) if found else None
            result.package_dir = out
            regen = run_process(argv, env=env)
            if regen.returncode == 0:
                result.ours_regen.append(regen.seconds)
            check_argv = [sys.executable, "-m", "generator", "check", str(spec), "-o", str(out)]
            checked = run_process([*check_argv, "--package-name", package], env=env)
            if checked.returncode == 0:
                result.ours_check.append(checked.seconds)
            else:
                result.ours_error = "check after generate: " + _first_line(checked.stdout)
        if opc is not None:
            target = work / f"opc-{name}-{index}"
            opc_run = run_process(
                [
                    *opc,
                    "generate",
                    "--path",
                    str(spec),
                    "--output-path",
                    str(target),
                    "--overwrite",
                    "--meta",
                    "none",
                ]
            )
            if opc_run.returncode != 0:
                result.opc_error = _first_line(opc_run.stderr or opc_run.stdout)
            else:
                result.opc_cold.append(opc_run.seconds)
                result.opc_peak.append(opc_run.peak_mb)
                result.opc_warnings = result.opc_warnings or "Warning" in opc_run.stdout
            shutil.rmtree(target, ignore_errors=True)
        if index < runs - 1:
            shutil.rmtree(out, ignore_errors=True)
    return result


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return (lines[0] if lines else "failed")[:160]


# -- client, parsing -----------------------------------------------------------------------------


def json_only_spec(work: Path) -> Path:
    """Our spec with only application/json responses: openapi-python-client picks the first media
    type of a response, and ours lists text/plain first, which it would parse as a dict."""
    import yaml

    document = yaml.safe_load(OUR_SPEC.read_text())

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            content = node.get("content")
            if isinstance(content, dict) and "application/json" in content:
                node["content"] = {"application/json": content["application/json"]}
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    target = work / "kibo_authtickets_json_only.json"
    target.write_text(json.dumps(document))
    return target


def bench_micro(
    work: Path, calls: int, runs: int, with_opc: bool
) -> tuple[dict[str, float], str | None]:
    ours_dir = work / "micro-ours"
    # The shared build cache: after the generation benchmark this is a cache hit.
    cache_env = {**os.environ, "KIBO_CODEGEN_CACHE_DIR": str(work / "cache")}
    generated = run_process(generate_argv(OUR_SPEC, ours_dir, OUR_PACKAGE), env=cache_env)
    if generated.returncode != 0:
        return {}, "ours: " + _first_line(generated.stderr)
    argv = [sys.executable, str(HERE / "_micro.py"), "--ours", str(ours_dir)]
    argv += ["--calls", str(calls), "--runs", str(runs)]
    note = None
    opc = opc_command() if with_opc else None
    if opc is not None:
        opc_dir = work / "micro-opc"
        made = run_process(
            [
                *opc,
                "generate",
                "--path",
                str(json_only_spec(work)),
                "--output-path",
                str(opc_dir / OPC_PACKAGE),
                "--overwrite",
                "--meta",
                "none",
            ]
        )
        if made.returncode == 0:
            argv += ["--opc", str(opc_dir), "--opc-name", OPC_PACKAGE]
        else:
            note = "openapi-python-client: " + _first_line(made.stderr or made.stdout)
    elif with_opc:
        note = "openapi-python-client not installed"
    with bench_server() as url:
        measured = run_process([*argv, "--url", url], env={**os.environ, "PYTHONPATH": str(HERE)})
    if measured.returncode != 0:
        return {}, "micro: " + measured.stderr.strip().splitlines()[-1][:200]
    samples: dict[str, list[float]] = json.loads(measured.stdout)
    return {name: median(values) for name, values in samples.items()}, note


# -- import time ---------------------------------------------------------------------------------


# Issue 11.5: the first call of one operation of the 289-operation package, in a fresh process:
# a response with one model, one with a few dozen, the order with the most (its closure).
FIRST_CALLS = (
    ("cart.get_cart_summary", ()),
    ("cart.get_cart", ("cart_id=c1",)),
    ("order.get_order", ("order_id=o1",)),
)


@contextlib.contextmanager
def bench_server() -> Iterator[str]:
    """The benchmark's HTTP server (`_server.py`) for the block; its base URL."""
    server = subprocess.Popen(
        [sys.executable, str(HERE / "_server.py")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        yield f"http://127.0.0.1:{int(server.stdout.readline())}/api"
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(timeout=10)


def first_call_ms(
    package_dir: Path, package: str, call: str, arguments: tuple[str, ...], url: str, runs: int
) -> dict[str, float]:
    """Medians over fresh processes, raw and ours alternating: `anchor` (import httpx, pydantic;
    one GET with httpx.Client; json.loads), `ours` (import the package, its Client, `call` once),
    `floor` (import httpx, pydantic in our processes), `models` (model modules the call imported)."""
    env = compiled_env()  # compiled once (the warm-up pair), then read
    script = str(HERE / "_first_call.py")
    ours_argv = [sys.executable, script, url, "ours", str(package_dir), package, call, *arguments]
    raw_argv = [sys.executable, script, url, "raw", "/commerce/carts/summary"]
    samples: dict[str, list[float]] = {"anchor": [], "ours": [], "floor": [], "models": []}
    for index in range(runs + 1):
        raw = json.loads(subprocess.run(raw_argv, capture_output=True, text=True, check=True, env=env).stdout)
        ours = json.loads(subprocess.run(ours_argv, capture_output=True, text=True, check=True, env=env).stdout)
        if index:  # the first pair is the warm-up
            samples["anchor"].append(raw["total"])
            samples["ours"].append(ours["total"])
            samples["floor"].append(ours["floor"])
            samples["models"].append(ours["models"])
    return {name: median(values) for name, values in samples.items()}


def import_ms(module: str, path: Path, runs: int) -> tuple[float, float]:
    """(floor, ours) in ms, medians over fresh processes of `-X importtime`, measured together.

    Each process runs `import httpx, pydantic; import MODULE`: the floor is the cumulative time
    of httpx and pydantic, ours is the floor plus the cumulative time of MODULE on top of them
    (what the package adds). Measured in one process, the two share the machine's load.
    """
    env = compiled_env(PYTHONPATH=str(path))  # compiled once (a warm-up), then read
    subprocess.run([sys.executable, "-c", f"import {module}"], env=env, cwd=tempfile.gettempdir(), check=True)
    floors, totals = [], []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", f"import httpx, pydantic; import {module}"],
            capture_output=True,
            text=True,
            env=env,
            cwd=tempfile.gettempdir(),
            check=True,
        )
        cumulative: dict[str, int] = {}
        for line in done.stderr.splitlines():
            parts = line.split("|")
            if len(parts) == 3 and parts[1].strip().isdigit():
                cumulative[parts[2].rstrip()] = int(parts[1])  # top level: one leading space
        floor = (cumulative.get(" httpx", 0) + cumulative.get(" pydantic", 0)) / 1000
        floors.append(floor)
        totals.append(floor + cumulative.get(" " + module, 0) / 1000)
    return median(floors), median(totals)


# -- report --------------------------------------------------------------------------------------


def fmt_s(value: float) -> str:
    return "—" if value != value else f"{value:.2f} s"


def fmt_us(value: float | None) -> str:
    return "—" if value is None else f"{value * 1e6:.1f} µs"


OPC = "openapi-python-client"


def row(label: str, ours: str, anchor: str, value: float | None, target: str, test: Any) -> str:
    met = None if value is None else bool(test(value))
    return f"| {label} | {ours} | {anchor} | {fmt_ratio(value)} | {target} | {verdict(met)} |"


def generate_argv(spec: Path, out: Path, package: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "generator",
        "generate",
        str(spec),
        "-o",
        str(out),
        "--package-name",
        package,
    ]


def verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("✅" if ok else "❌")


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or a != a or b != b or b == 0:
        return None
    return a / b


def fmt_ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    python = platform.python_version()
    return f"{os.cpu_count()} cores (`nproc`), {cpu}, Python {python}, {platform.system()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: our spec, 1 run, few calls"
    )
    parser.add_argument(
        "--runs", type=int, help="runs per measurement (median); default 5, --quick 1"
    )
    parser.add_argument("--calls", type=int, help="client calls per run; default 2000, --quick 30")
    parser.add_argument("--specs", help=f"comma-separated subset of {','.join(SPECS)}")
    parser.add_argument(
        "--skip", default="", help="comma-separated sections to skip: gen,client,import"
    )
    parser.add_argument("--no-anchors", action="store_true", help="measure ours only")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args(argv)
    runs = args.runs or (1 if args.quick else 5)
    calls = args.calls or (30 if args.quick else 2000)
    names = args.specs.split(",") if args.specs else (["ours"] if args.quick else list(SPECS))
    skip = set(filter(None, args.skip.split(",")))
    with_opc = not args.no_anchors

    work = Path(tempfile.mkdtemp(prefix="kibo-bench-"))
    raw: dict[str, Any] = {"machine": machine(), "runs": runs, "calls": calls}
    rows: list[str] = []
    scale_rows: list[str] = []
    notes: list[str] = []
    try:
        gens: dict[str, GenResult] = {}
        if "gen" not in skip:
            # Warm-up, untimed: byte-compiles the generator and its templates once, as an
            # installed tool would have them (the anchor's own .pyc files exist already).
            if not args.quick:
                run_process(generate_argv(OUR_SPEC, work / "warm-up", OUR_PACKAGE), env=generator_env(work / "cache"))
            for name in names:
                spec = SPECS[name]
                if not spec.is_file():
                    notes.append(f"{name}: {spec} not found, skipped")
                    continue
                print(f"[bench] generation: {name} ({runs} runs)", file=sys.stderr, flush=True)
                gens[name] = bench_generation(name, spec, runs, work, with_opc)
            for name, gen in gens.items():
                cold, anchor = median(gen.ours_cold), median(gen.opc_cold)
                if name in COLD_TARGET_SPECS:
                    ours_cell = fmt_s(cold) if gen.ours_cold else f"failed: {gen.ours_error}"
                    if gen.opc_cold:
                        anchor_cell = fmt_s(anchor)
                    elif gen.opc_error == "not installed":
                        anchor_cell = "not installed (`pip install -e .[bench]`)"
                    else:
                        anchor_cell = f"failed: {gen.opc_error}"
                    if gen.opc_warnings:
                        anchor_cell += " (warnings: some endpoints dropped)"
                    ops = f"{gen.operations} ops" if gen.operations else "?"
                    rows.append(
                        row(
                            f"1. cold generate, {name} ({ops})",
                            ours_cell,
                            f"{OPC} {anchor_cell}",
                            ratio(cold, anchor),
                            "≤ 1.0",
                            lambda r: r <= 1.0,
                        )
                    )
                for label, values in (
                    ("regenerate, unchanged", gen.ours_regen),
                    ("check", gen.ours_check),
                ):
                    rows.append(
                        row(
                            f"2. {label}, {name}",
                            fmt_s(median(values)),
                            f"cold generate {fmt_s(cold)}",
                            ratio(median(values), cold),
                            "≤ 0.3",
                            lambda r: r <= 0.3,
                        )
                    )
                per_op = cold / gen.operations if gen.operations and gen.ours_cold else None
                per_op_cell = "—" if per_op is None else f"{per_op * 1000:.1f} ms"
                scale_rows.append(
                    f"| {name} | {gen.operations or '?'} | {fmt_s(cold)} | {per_op_cell} | "
                    f"{median(gen.ours_peak):.0f} MB | {fmt_s(anchor)} | "
                    f"{median(gen.opc_peak):.0f} MB |"
                )
                raw[f"gen/{name}"] = {k: v for k, v in gen.__dict__.items() if k != "package_dir"}

        if "client" not in skip:
            print(f"[bench] client and parsing ({runs} runs, {calls} calls)", file=sys.stderr)
            micro, note = bench_micro(work, calls, runs, with_opc)
            raw["micro"] = micro
            if note:
                notes.append(note)
            for mode in ("sync", "async"):
                ours = micro.get(f"{mode}/ours")
                base = micro.get(f"{mode}/httpx+json.loads")
                opc = micro.get(f"{mode}/openapi-python-client")
                label = f"4. refresh_user_auth_ticket, {mode}"
                rows.append(
                    row(
                        label,
                        fmt_us(ours),
                        f"httpx + json.loads {fmt_us(base)}",
                        ratio(ours, base),
                        "≤ 1.10",
                        lambda r: r <= 1.10,
                    )
                )
                rows.append(
                    row(
                        label,
                        fmt_us(ours),
                        f"{OPC} {fmt_us(opc)}",
                        ratio(ours, opc),
                        "≤ 0.9",
                        lambda r: r <= 0.9,
                    )
                )
            ours = micro.get("parse/ours")
            base = micro.get("parse/json.loads")
            opc = micro.get("parse/openapi-python-client")
            label = "5. parse a full CustomerAuthTicket from bytes"
            rows.append(
                row(
                    label,
                    fmt_us(ours),
                    f"json.loads {fmt_us(base)}",
                    ratio(ours, base),
                    "≤ 1.6",
                    lambda r: r <= 1.6,
                )
            )
            rows.append(
                row(
                    label,
                    fmt_us(ours),
                    f"{OPC} from_dict(json.loads) {fmt_us(opc)}",
                    ratio(opc, ours),
                    "≥ 3 (anchor / ours)",
                    lambda r: r >= 3,
                )
            )

        if "import" not in skip:
            print("[bench] import time", file=sys.stderr, flush=True)
            import_runs = 1 if args.quick else max(runs, 7)
            ours_dir = work / "micro-ours"
            if not (ours_dir / OUR_PACKAGE).is_dir():
                cache_env = {**os.environ, "KIBO_CODEGEN_CACHE_DIR": str(work / "cache")}
                run_process(generate_argv(OUR_SPEC, ours_dir, OUR_PACKAGE), env=cache_env)
            cases = [(OUR_PACKAGE, ours_dir, "")]
            built = [g for g in gens.values() if g.package_dir is not None and g.operations]
            # The 300-operation case: commerce (289) when it was generated, else the largest.
            big = next((g for g in built if g.spec == "commerce"), None) or max(
                built, key=lambda g: g.operations or 0, default=None
            )
            if big is not None and big.package_dir is not None and big.spec != "ours":
                cases.append((f"bench_{big.spec}", big.package_dir, f" ({big.operations} ops)"))
            for module, path, extra in cases:
                floor, ms = import_ms(module, path, import_runs)
                raw[f"import/{module}"] = {"floor_ms": floor, "ms": ms}
                rows.append(
                    f"| 6. import {module}{extra} | {ms:.0f} ms "
                    f"| import httpx, pydantic {floor:.0f} ms "
                    f"| +{ms - floor:.0f} ms | ≤ +40 ms | {verdict(ms - floor <= 40)} |"
                )
            if big is not None and big.package_dir is not None and big.spec == "commerce":
                print("[bench] first call", file=sys.stderr, flush=True)
                with bench_server() as url:
                    for call, arguments in FIRST_CALLS:
                        first = first_call_ms(big.package_dir, f"bench_{big.spec}", call, arguments, url, import_runs)
                        raw[f"first_call/{call}"] = first
                        added = first["ours"] - first["anchor"]
                        rows.append(
                            f"| 7. first call, commerce `{call}` ({first['models']:.0f} model modules) "
                            f"| {first['ours']:.0f} ms | httpx first call + json.loads {first['anchor']:.0f} ms "
                            f"(import httpx, pydantic {first['floor']:.0f} ms) "
                            f"| +{added:.0f} ms | ≤ +100 ms | {verdict(added <= 100)} |"
                        )
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"Machine: {machine()}. Medians of {runs} run(s); client: {calls} calls per run.\n")
    print("| benchmark | ours | anchor (same run) | ratio | target | met |")
    print("| --- | --- | --- | --- | --- | --- |")
    print("\n".join(rows))
    if scale_rows:
        print("\n3. Scale (cold generation: fresh process, no build-cache entry):\n")
        print(
            "| spec | operations | ours | ours per operation | ours peak RSS "
            f"| {OPC} | its peak RSS |"
        )
        print("| --- | --- | --- | --- | --- | --- | --- |")
        print("\n".join(scale_rows))
    for note in notes:
        print(f"\nNote: {note}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(raw, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
