"""Requests and time per provider operation, for every resource, against the simulator, in one run.

    python benchmarks/operations.py

Prints one row per resource and operation: requests sent, median milliseconds over the runs, and the
ratio of requests to the minimum the operation needs (1.0 = nothing wasted).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pulumi.dynamic import Config, ConfigureRequest  # noqa: E402

from pulumi_portainer import _http  # noqa: E402
from pulumi_portainer.custom_template import CustomTemplateProvider  # noqa: E402
from pulumi_portainer.endpoint import EndpointProvider  # noqa: E402
from pulumi_portainer.registry import RegistryProvider  # noqa: E402
from pulumi_portainer.stack import StackProvider  # noqa: E402
from pulumi_portainer.user import UserProvider  # noqa: E402
from tests.sim import PortainerSim  # noqa: E402

RUNS = 5
COMPOSE = "services:\n  web:\n    image: 127.0.0.1:5999/pp/busybox:1\n"
# resource -> (provider, inputs for run i, changed inputs for the update, minimum requests per op)
CASES: dict[str, tuple[type, Callable[[int], dict[str, Any]], dict[str, Any], dict[str, int]]] = {
    "User": (
        UserProvider,
        lambda i: {"username": f"bench-{i}", "password": "bench-password-1"},
        {"role": "admin"},
        {"create": 2, "read": 1, "update": 1, "delete": 1},
    ),
    "Registry": (
        RegistryProvider,
        lambda i: {"name": f"bench-{i}", "url": f"r{i}.invalid:5000"},
        {"url": "changed.invalid:5000"},
        {"create": 2, "read": 1, "update": 1, "delete": 2},
    ),
    "CustomTemplate": (
        CustomTemplateProvider,
        lambda i: {"title": f"bench-{i}", "description": "d", "type": "standalone", "file_content": COMPOSE},
        {"description": "changed"},
        {"create": 2, "read": 2, "update": 1, "delete": 1},
    ),
    "Stack": (
        StackProvider,
        lambda i: {"name": f"bench-{i}", "endpoint_id": 1, "file_content": COMPOSE},
        {"env": {"MODE": "changed"}},
        {"create": 2, "read": 2, "update": 1, "delete": 1},
    ),
    "Endpoint": (
        EndpointProvider,
        lambda i: {"name": f"bench-{i}", "type": "edge", "url": "https://portainer.bench.invalid:9443"},
        {"public_url": "https://changed.invalid"},
        {"create": 2, "read": 1, "update": 1, "delete": 3},
    ),
}


def measure(
    sim: PortainerSim,
    counts: dict[str, list[int]],
    times: dict[str, list[float]],
    op: str,
    fn: Callable[..., Any],
    *args: Any,
) -> Any:
    """Run one operation, recording its requests and milliseconds."""
    sim.clear_requests()
    start = time.perf_counter()
    result = fn(*args)
    times.setdefault(op, []).append((time.perf_counter() - start) * 1000)
    counts.setdefault(op, []).append(sim.count())
    return result


def main() -> None:
    sim = PortainerSim()
    sim.start()
    rows = []
    try:
        for name, (cls, inputs, change, minimum) in CASES.items():
            provider = cls()
            provider.configure(
                ConfigureRequest(Config({"portainer:url": sim.url, "portainer:apiKey": sim.api_key}, "bench"))
            )
            counts: dict[str, list[int]] = {}
            times: dict[str, list[float]] = {}
            provider.check({}, inputs(-1))
            warm = provider.create(provider.check({}, inputs(-1)).inputs)  # detect the server once
            provider.delete(warm.id, warm.outs)
            for i in range(RUNS):
                checked = provider.check({}, inputs(i)).inputs
                created = measure(sim, counts, times, "create", provider.create, checked)
                state = dict(created.outs)
                rechecked = provider.check(state, checked).inputs
                measure(sim, counts, times, "preview (check+diff)", provider.diff, created.id, state, rechecked)
                measure(sim, counts, times, "read", provider.read, created.id, state)
                news = provider.check(state, {**checked, **change}).inputs
                updated = measure(sim, counts, times, "update", provider.update, created.id, state, news)
                measure(sim, counts, times, "delete", provider.delete, created.id, dict(updated.outs))
            for op in counts:
                requests = max(counts[op])
                need = minimum.get(op, 0)
                ratio = f"{requests / need:.2f}" if need else ("0 ok" if requests == 0 else "n/a")
                rows.append((name, op, requests, statistics.median(times[op]), ratio))
    finally:
        sim.stop()
        _http.reset_clients()
    print(f"{'resource':<15} {'operation':<22} {'requests':>8} {'median ms':>10} {'ratio':>7}")
    for name, op, requests, ms, ratio in rows:
        print(f"{name:<15} {op:<22} {requests:>8} {ms:>10.1f} {ratio:>7}")


if __name__ == "__main__":
    main()
