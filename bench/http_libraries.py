"""httpx against httpx2 for the generated client (issue 15): `python bench/http_libraries.py`.

Generates our spec twice (`--http-library httpx` and `httpx2`) into a temporary directory and
measures, in fresh processes, medians of --runs runs:

- import time: `import PACKAGE` (which imports its HTTP library and pydantic), wall clock;
- call overhead: `refresh_user_auth_ticket` against the canned keep-alive server on 127.0.0.1
  (`bench/_server.py`), sync, per call;
- the trust store: which CA store a default client verifies with (certifi's bundle for httpx,
  the operating system's through truststore for httpx2).

Needs httpx2 installed (`pip install httpx2`, Python >= 3.11). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "spec" / "kibo_authtickets.yaml"
LIBRARIES = ("httpx", "httpx2")

IMPORT = "import time; t = time.perf_counter(); import kibo_authtickets; print(time.perf_counter() - t)"
CALLS = """
import sys, time
import kibo_authtickets as k
url, n = sys.argv[1], int(sys.argv[2])
with k.Client(base_url=url, access_token="app-token") as c:
    for _ in range(50):
        c.storefront_auth_ticket.refresh_user_auth_ticket(refresh_token="r")
    t = time.perf_counter()
    for _ in range(n):
        c.storefront_auth_ticket.refresh_user_auth_ticket(refresh_token="r")
    print((time.perf_counter() - t) / n)
"""
TRUST = """
import ssl, sys
lib = __import__(sys.argv[1])
ctx = lib.create_ssl_context()
print(type(ctx).__module__ + "." + type(ctx).__name__, len(ctx.get_ca_certs()))
"""


def run(code: str, package_root: Path, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=package_root,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PYTHONPATH": str(package_root), "PATH": "/usr/bin:/bin"},
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-2000:])
    return result.stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from generator.pipeline import generate

    with tempfile.TemporaryDirectory() as work:
        server = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "_server.py")],
            cwd=ROOT / "bench",
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert server.stdout is not None
        url = f"http://127.0.0.1:{server.stdout.readline().strip()}/api"
        rows = []
        try:
            for library in LIBRARIES:
                out = Path(work) / library
                generate(SPEC, out, "kibo_authtickets", http_library=library)
                imports = [float(run(IMPORT, out)) for _ in range(args.runs)]
                calls = [float(run(CALLS, out, url, str(args.calls))) for _ in range(args.runs)]
                trust = run(TRUST, out, library)
                rows.append((library, statistics.median(imports), statistics.median(calls), trust))
        finally:
            if server.stdin is not None:
                server.stdin.close()
            server.wait(timeout=30)
    print(f"Python {sys.version.split()[0]}; medians of {args.runs} runs, {args.calls} calls per run.\n")
    print("| library | import PACKAGE | sync call | default TLS context (CA certificates loaded) |")
    print("| --- | --- | --- | --- |")
    for library, imported, call, trust in rows:
        print(f"| {library} | {imported * 1000:.0f} ms | {call * 1e6:.0f} µs | {trust} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
