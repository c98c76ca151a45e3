"""Provider tests: provider methods called as the engine calls them, against the simulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from pulumi.dynamic import Config, ConfigureRequest

from pulumi_portainer import _http
from pulumi_portainer._provider import PortainerProvider
from tests.sim import PortainerSim


@pytest.fixture
def sim() -> Iterator[PortainerSim]:
    server = PortainerSim()
    server.start()
    yield server
    server.stop()
    _http.reset_clients()


def configured(cls: type[PortainerProvider], sim: PortainerSim, **config: Any) -> PortainerProvider:
    raw = {"portainer:url": sim.url, "portainer:apiKey": sim.api_key}
    raw.update(config)
    provider = cls()
    provider.configure(ConfigureRequest(Config({k: v for k, v in raw.items() if v is not None}, "test")))
    return provider


class Engine:
    """Drives a provider the way the Pulumi engine does (check -> diff -> create/update, read, delete)."""

    def __init__(self, provider: PortainerProvider) -> None:
        self.p = provider

    def check(self, news: dict[str, Any], olds: dict[str, Any] | None = None) -> dict[str, Any]:
        result = self.p.check(olds or {}, dict(news))
        assert not result.failures, [(f.property, f.reason) for f in result.failures]
        return dict(result.inputs)

    def failures(self, news: dict[str, Any]) -> dict[str, str]:
        return {f.property: f.reason for f in self.p.check({}, dict(news)).failures}

    def create(self, news: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        result = self.p.create(self.check(news))
        assert result.outs is not None
        return result.id, dict(result.outs)

    def up(self, id_: str, state: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
        inputs = self.check(news, state)
        diff = self.p.diff(id_, state, inputs)
        assert diff.changes and not diff.replaces, diff.__dict__
        result = self.p.update(id_, state, inputs)
        assert result.outs is not None
        return dict(result.outs)

    def diff(self, id_: str, state: dict[str, Any], news: dict[str, Any]) -> Any:
        return self.p.diff(id_, state, self.check(news, state))


def body(sim: PortainerSim, index: int = -1) -> Any:
    """The JSON body of a recorded request (the last one by default)."""
    return json.loads(sim.requests[index].body or b"null")


def lines(sim: PortainerSim) -> list[str]:
    """The recorded requests as "METHOD /path" lines."""
    return [f"{r.method} {r.path}" for r in sim.requests]
