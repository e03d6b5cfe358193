"""What pydantic alone costs for the models of commerce `order.get_order` (issue 11.5's floor).

    python bench/first_call_floor.py [--runs N]     # needs ../shared/specs/kibo (commerce)

Generates the commerce package, then measures in fresh processes, after `import httpx, pydantic`
(medians of --runs, default 9), in ms:

- `pydantic.main`: importing BaseModel, which `import pydantic` leaves for later;
- `the package`: the generated package's own import, no model among it;
- `first model`: the package's base classes, the first pydantic classes of the process;
- `closure`: importing the order's model module (its 109 classes in 109 modules), as a call does;
- `one module, no aliases`: the same classes, in their import order, in one module, with every
  `Field(default=None, serialization_alias=..., validation_alias=...)` replaced by `None`: a
  lower bound for building these fields with pydantic (the wire names are lost; not a client);
- `full collection`: the first full garbage collection the closure's objects bring on, which
  the first call pays (`gc.collect()` right after the closure).

The sum of rows 1, 3, 5 and 6 is what any pydantic client pays for this
response before its own code runs; compare it with the target of +100 ms over the anchor.
"""

from __future__ import annotations

import argparse
import builtins
import inspect
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from run import ROOT, SPECS, compiled_env, generate_argv, median

COMMERCE = SPECS["commerce"]
PACKAGE = "bench_commerce"
ORDER_MODULE = f"{PACKAGE}.models.commerce_runtime_order"
ORDER_CLASSES = 109
ALIASED_NONE = re.compile(r'Field\(\s*default=None, serialization_alias="\w+", validation_alias="\w+"\s*\)')

CHILD = """
import gc, importlib, json, sys, time
import httpx, pydantic
sys.path.insert(0, sys.argv[1])
marks = [time.perf_counter()]
from pydantic import BaseModel
marks.append(time.perf_counter())
import {package}
marks.append(time.perf_counter())
import {package}._model_base
marks.append(time.perf_counter())
importlib.import_module(sys.argv[2])
marks.append(time.perf_counter())
gc.collect()
marks.append(time.perf_counter())
print(json.dumps([(b - a) * 1000 for a, b in zip(marks, marks[1:])]))
"""


def one_module_source(package_dir: Path) -> str:
    """The order's closure as one module: each class's source in creation order, aliases dropped."""
    sys.path.insert(0, str(package_dir))
    created: list[type] = []
    build_class = builtins.__build_class__

    def recording(*args: Any, **kwargs: Any) -> Any:
        cls = build_class(*args, **kwargs)
        created.append(cls)
        return cls

    builtins.__build_class__ = recording
    try:
        __import__(ORDER_MODULE)
    finally:
        builtins.__build_class__ = build_class
    header = (
        "from datetime import date, datetime\nfrom typing import Any, Literal\n\nfrom pydantic import Field\n\n"
        f"from {PACKAGE}._model_base import Model, RequestModel\n"
    )
    bodies = [inspect.getsource(cls) for cls in created if cls.__module__.startswith(f"{PACKAGE}.models.")]
    source, dropped = ALIASED_NONE.subn("None", "\n\n".join(bodies))
    if len(bodies) != ORDER_CLASSES or not dropped:  # the generated models changed shape: no floor
        raise SystemExit(f"first_call_floor: {len(bodies)} classes, {dropped} aliases dropped; update this script")
    return header + source


def measure(package_dir: Path, module: str, runs: int) -> list[float]:
    argv = [sys.executable, "-c", CHILD.format(package=PACKAGE), str(package_dir), module]
    env = compiled_env()
    subprocess.run(argv, check=True, capture_output=True, env=env)  # writes the .pyc files
    samples = [
        json.loads(subprocess.run(argv, check=True, capture_output=True, text=True, env=env).stdout)
        for _ in range(runs)
    ]
    return [median(list(column)) for column in zip(*samples, strict=True)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    if not COMMERCE.is_file():
        print(f"first_call_floor: {COMMERCE} is missing (../shared is not beside the project)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as work:
        package_dir = Path(work)
        subprocess.run(generate_argv(COMMERCE, package_dir, PACKAGE), cwd=ROOT, check=True, capture_output=True)
        (package_dir / "order_closure_without_aliases.py").write_text(one_module_source(package_dir))
        main_ms, package_ms, base_ms, closure_ms, _ = measure(package_dir, ORDER_MODULE, args.runs)
        *_, floor_ms, collect_ms = measure(package_dir, "order_closure_without_aliases", args.runs)
    print(f"Medians of {args.runs} fresh processes, ms after `import httpx, pydantic`:\n")
    print("| part | ms |\n| --- | --- |")
    print(f"| pydantic.main | {main_ms:.0f} |\n| the package (no models) | {package_ms:.0f} |")
    print(f"| first model (the package's base classes) | {base_ms:.0f} |")
    print(f"| closure of order.get_order, as generated (109 modules) | {closure_ms:.0f} |")
    print(f"| the same classes in one module, no aliases | {floor_ms:.0f} |")
    print(f"| full collection after the closure | {collect_ms:.0f} |")
    floor = main_ms + base_ms + floor_ms + collect_ms
    print(f"| **pydantic's floor: rows 1, 3, 5 and 6** | **{floor:.0f}** |")
    print(f"| the same with the wire names kept (row 4 for row 5) | {floor - floor_ms + closure_ms:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
