"""Lookups run in the program process: plain forms now, ``_output`` forms once inputs are known."""

from __future__ import annotations

import asyncio
from typing import Any

import pulumi
import pytest

import pulumi_portainer as portainer
from tests.sim import PortainerSim


@pytest.fixture
def env(sim: PortainerSim, monkeypatch: pytest.MonkeyPatch) -> PortainerSim:
    monkeypatch.setenv("PORTAINER_URL", sim.url)
    monkeypatch.setenv("PORTAINER_API_KEY", sim.api_key or "")
    return sim


def test_get_user_and_status(env: PortainerSim) -> None:
    env.create_user("Lookup-Me", "lookup-password-1", role=1)
    found = portainer.get_user("lookup-me")
    assert found.username == "Lookup-Me" and found.role == "admin" and found.id == str(found.user_id)
    status = portainer.get_status()
    assert status.instance_id == env.instance_id and status.version == env.version
    with pytest.raises(LookupError, match="no Portainer user named 'ghost'"):
        portainer.get_user("ghost")


def test_explicit_connection_is_used_as_a_whole(sim: PortainerSim, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAINER_URL", "http://127.0.0.1:9")  # would be refused
    conn = portainer.ConnectionArgs(url=sim.url, api_key=sim.api_key)
    assert portainer.get_status(connection=conn).instance_id == sim.instance_id


class Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return "1", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> Any:
        return {}


def test_output_form_waits_for_known_inputs(env: PortainerSim) -> None:
    pulumi.runtime.set_mocks(Mocks(), preview=True)
    env.clear_requests()

    @pulumi.runtime.test
    def program() -> Any:
        loop = asyncio.get_event_loop()
        unknown_name: pulumi.Output[str] = pulumi.Output(set(), _resolved(loop, None), _resolved(loop, False))
        lookup = portainer.get_user_output(unknown_name)
        known = portainer.get_user_output(pulumi.Output.from_input("admin"))
        return pulumi.Output.all(lookup.is_known(), known).apply(_check)

    def _check(values: list[Any]) -> None:
        is_known, found = values
        assert is_known is False
        assert found.user_id == 1

    program()
    assert env.count("GET", r"/api/users") == 1  # only the known lookup asked


def _resolved(loop: asyncio.AbstractEventLoop, value: Any) -> asyncio.Future[Any]:
    fut: asyncio.Future[Any] = loop.create_future()
    fut.set_result(value)
    return fut
