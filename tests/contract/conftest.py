"""Contract suite: the same scenarios against the simulator and, when ``PORTAINER_URL`` and
``PORTAINER_API_KEY`` (plus ``PORTAINER_USERNAME``/``PORTAINER_PASSWORD`` for login scenarios) are set,
the real Portainer, so the simulator cannot drift from the server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Optional

import httpx
import pytest

from tests.sim import PortainerSim


@dataclass
class Server:
    name: str
    url: str
    api_key: str
    username: Optional[str]
    password: Optional[str]
    http: httpx.Client
    sim: Optional[PortainerSim] = None

    def key(self) -> dict[str, str]:
        return {"X-API-Key": self.api_key}


def _targets() -> list[str]:
    return ["sim"] + (["real"] if os.environ.get("PORTAINER_URL") and os.environ.get("PORTAINER_API_KEY") else [])


@pytest.fixture(params=_targets())
def server(request: pytest.FixtureRequest) -> Iterator[Server]:
    # a client that keeps no cookies, like pulumi_portainer's
    if request.param == "real":
        url = os.environ["PORTAINER_URL"].rstrip("/").removesuffix("/api")
        with httpx.Client(base_url=url, verify=False, timeout=30) as http:  # noqa: S501 - test servers
            yield Server(
                "real",
                url,
                os.environ["PORTAINER_API_KEY"],
                os.environ.get("PORTAINER_USERNAME"),
                os.environ.get("PORTAINER_PASSWORD"),
                http,
            )
        return
    sim = PortainerSim()
    sim.start()
    try:
        assert sim.api_key
        with httpx.Client(base_url=sim.url, timeout=30) as http:
            yield Server("sim", sim.url, sim.api_key, sim.admin_username, sim.admin_password, http, sim)
    finally:
        sim.stop()
