"""End-to-end fixtures. These tests need the real Pulumi CLI; without it they fail (they never skip):
build it with scripts/build-pulumi.sh. The fast tier deselects them with ``-m "not e2e"``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pulumi_portainer import _http
from pulumi_portainer._http import Client
from pulumi_portainer.config import Connection
from tests.e2e.harness import Project, Target, pulumi_root
from tests.sim import PortainerSim


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def cli_root() -> Path:
    try:
        return pulumi_root()
    except FileNotFoundError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture
def target(cli_root: Path) -> Iterator[Target]:
    url, key = os.environ.get("PORTAINER_URL"), os.environ.get("PORTAINER_API_KEY")
    if url and key:
        yield Target(url, key)
        return
    sim = PortainerSim()
    sim.start()
    try:
        assert sim.api_key
        yield Target(sim.url, sim.api_key, sim)
    finally:
        sim.stop()
        _http.reset_clients()


@pytest.fixture
def portainer_api(target: Target) -> Iterator[Client]:
    """A client of the target for out-of-band changes and checks."""
    client = Client(Connection(url=target.url, api_key=target.api_key))
    yield client
    client.close()


@pytest.fixture
def project(target: Target, tmp_path: Path) -> Iterator[callable]:  # type: ignore[valid-type]
    made: list[Project] = []

    def make(name: str, program, **config: tuple[str, bool]) -> Project:  # type: ignore[no-untyped-def]
        proj = Project(name, program, target, tmp_path / name, dict(config)).open()
        made.append(proj)
        return proj

    yield make
    for proj in made:
        try:
            proj.close()
        except Exception:  # noqa: BLE001 - teardown after a failed test must not hide its failure
            pass
