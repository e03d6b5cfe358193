"""A process's first call, run by run.py in a fresh process (issue 11.5).

    python bench/_first_call.py URL raw PATH
    python bench/_first_call.py URL ours PACKAGE_DIR PACKAGE RESOURCE.METHOD [NAME=VALUE ...]

Prints one JSON object, in ms from the start of this script: `floor` after `import httpx,
pydantic`, `total` after the call; and `models`, how many model modules the call imported.
`raw` is the anchor: httpx.Client, one GET of PATH, json.loads. `ours` imports the package,
builds its Client and calls RESOURCE.METHOD once (its response model, and only the models that
one refers to, are imported and built then).
"""

from __future__ import annotations

import time

started = time.perf_counter()

import httpx  # noqa: E402  (what is timed starts above)
import pydantic  # noqa: E402, F401

floor = time.perf_counter()

import importlib  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402

TOKEN = "app-token-" + "x" * 40


def main() -> None:
    url, mode = sys.argv[1], sys.argv[2]
    models = 0
    if mode == "raw":
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
            json.loads(client.get(sys.argv[3]).content)
    else:
        package_dir, package, call = sys.argv[3], sys.argv[4], sys.argv[5]
        arguments = dict(argument.split("=", 1) for argument in sys.argv[6:])
        sys.path.insert(0, package_dir)
        generated = importlib.import_module(package)
        resource, method = call.split(".")
        with generated.Client(base_url=url, access_token=TOKEN, max_retries=0) as client:
            getattr(getattr(client, resource), method)(**arguments)
        models = sum(1 for name in sys.modules if name.startswith(f"{package}.models."))
    done = time.perf_counter()
    print(json.dumps({"floor": (floor - started) * 1000, "total": (done - started) * 1000, "models": models}))


if __name__ == "__main__":
    main()
