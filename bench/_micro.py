"""Client-overhead and parsing micro-benchmarks, run in a fresh process by run.py.

    python bench/_micro.py --ours DIR [--opc DIR --opc-name NAME] [--url URL] --calls N --runs R

Prints one JSON object: {name: [seconds per call or per parse, one per run]}.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from _payload import ticket_bytes

TOKEN = "app-token-" + "x" * 40
REFRESH = "r" * 43
PATH = "/commerce/customer/authtickets/refresh"


def _import(parent: str, name: str) -> Any:
    sys.path.insert(0, parent)
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(parent)


def _per_call(fn: Callable[[], object], calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - started) / calls


async def _per_call_async(fn: Callable[[], Awaitable[object]], calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        await fn()
    return (time.perf_counter() - started) / calls


def _parse_cases(ours: Any, opc: Any) -> dict[str, Callable[[], object]]:
    data = ticket_bytes()
    cases: dict[str, Callable[[], object]] = {"parse/json.loads": lambda: json.loads(data)}
    model = ours.models.CustomerAuthTicket
    cases["parse/ours"] = lambda: model.model_validate_json(data)
    if opc is not None:
        opc_model = opc.models.CustomerAuthTicket
        cases["parse/openapi-python-client"] = lambda: opc_model.from_dict(json.loads(data))
    return cases


def _timeit(fn: Callable[[], object], budget: float = 0.2) -> float:
    number = 1
    while True:
        elapsed = _per_call(fn, number) * number
        if elapsed >= budget or number >= 1 << 20:
            return elapsed / number
        number *= 2 if elapsed > budget / 10 else 10


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ours", required=True, help="directory holding the generated package")
    parser.add_argument("--ours-name", default="kibo_authtickets")
    parser.add_argument("--opc", help="directory holding openapi-python-client's package")
    parser.add_argument("--opc-name", default="opc_kibo_authtickets")
    parser.add_argument("--url", help="base URL of the benchmark server (client benchmark)")
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    import httpx

    ours = _import(args.ours, args.ours_name)
    importlib.import_module(args.ours_name + ".models")
    opc = _import(args.opc, args.opc_name) if args.opc else None
    if opc is not None:
        importlib.import_module(args.opc_name + ".models")
    results: dict[str, list[float]] = {}

    parse_cases = _parse_cases(ours, opc)
    for _ in range(args.runs):
        for name, fn in parse_cases.items():
            results.setdefault(name, []).append(_timeit(fn, 0.05 if args.calls < 500 else 0.2))

    if args.url:
        url = args.url
        auth = {"Authorization": f"Bearer {TOKEN}"}
        raw = httpx.Client(base_url=url, headers=auth)
        ours_client = ours.Client(base_url=url, access_token=TOKEN, max_retries=0)
        resource = ours_client.storefront_auth_ticket
        sync_cases: dict[str, Callable[[], object]] = {
            "sync/httpx+json.loads": lambda: json.loads(
                raw.put(PATH, params={"refreshToken": REFRESH}).content
            ),
            "sync/ours": lambda: resource.refresh_user_auth_ticket(refresh_token=REFRESH),
        }
        if opc is not None:
            endpoint = importlib.import_module(
                args.opc_name
                + ".api.storefront_auth_ticket.put_commerce_customer_authtickets_refresh"
            )
            opc_client = opc.AuthenticatedClient(base_url=url, token=TOKEN)
            sync_cases["sync/openapi-python-client"] = lambda: endpoint.sync(
                client=opc_client, refresh_token=REFRESH
            )
        for fn in sync_cases.values():  # warm up connections and caches
            for _ in range(20):
                fn()
        for _ in range(args.runs):
            for name, fn in sync_cases.items():
                results.setdefault(name, []).append(_per_call(fn, args.calls))
        raw.close()
        ours_client.close()

        async def run_async() -> None:
            araw = httpx.AsyncClient(base_url=url, headers=auth)
            aours = ours.AsyncClient(base_url=url, access_token=TOKEN, max_retries=0)
            aresource = aours.storefront_auth_ticket

            async def raw_call() -> object:
                return json.loads((await araw.put(PATH, params={"refreshToken": REFRESH})).content)

            cases: dict[str, Callable[[], Awaitable[object]]] = {
                "async/httpx+json.loads": raw_call,
                "async/ours": lambda: aresource.refresh_user_auth_ticket(refresh_token=REFRESH),
            }
            if opc is not None:
                aopc = opc.AuthenticatedClient(base_url=url, token=TOKEN)
                cases["async/openapi-python-client"] = lambda: endpoint.asyncio(
                    client=aopc, refresh_token=REFRESH
                )
            for fn in cases.values():
                for _ in range(20):
                    await fn()
            for _ in range(args.runs):
                for name, fn in cases.items():
                    results.setdefault(name, []).append(await _per_call_async(fn, args.calls))
            await araw.aclose()
            await aours.close()

        asyncio.run(run_async())
    print(json.dumps(results))


if __name__ == "__main__":
    main()
