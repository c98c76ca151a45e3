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


def _seed(sim: PortainerSim) -> dict[str, tuple[Any, Any, Any]]:
    """One object of each kind, and (plain lookup, output lookup, argument) to find it."""
    from pulumi_portainer._http import Client
    from pulumi_portainer.config import Connection
    from tests.sim.docker import add_endpoint

    client = Client(Connection(url=sim.url, api_key=sim.api_key))
    client.post("/registries", json={"Name": "seeded-registry", "Type": 3, "URL": "seeded.invalid:5000"})
    client.post(
        "/custom_templates/create/string",
        json={
            "Title": "seeded-template",
            "Description": "d",
            "Type": 2,
            "Platform": 1,
            "FileContent": "services:\n  web:\n    image: x\n",
        },
    )
    client.post(
        "/stacks/create/standalone/string",
        params={"endpointId": 1},
        json={"Name": "seeded-stack", "StackFileContent": "services:\n  web:\n    image: x\n"},
    )
    add_endpoint(sim, "seeded-environment", swarm=False)
    client.close()
    return {
        "registry": (portainer.get_registry, portainer.get_registry_output, "seeded-registry"),
        "custom_template": (portainer.get_custom_template, portainer.get_custom_template_output, "seeded-template"),
        "stack": (portainer.get_stack, portainer.get_stack_output, "seeded-stack"),
        "endpoint": (portainer.get_endpoint, portainer.get_endpoint_output, "seeded-environment"),
        "user": (portainer.get_user, portainer.get_user_output, "admin"),
    }


def test_every_output_lookup_matches_its_plain_form(env: PortainerSim) -> None:
    lookups = _seed(env)
    results: dict[str, Any] = {}
    pulumi.runtime.set_mocks(Mocks(), preview=False)

    @pulumi.runtime.test
    def program() -> Any:
        outs = {kind: output(pulumi.Output.from_input(arg)) for kind, (_plain, output, arg) in lookups.items()}
        outs["status"] = portainer.get_status_output()
        return pulumi.Output.all(**outs).apply(results.update)

    program()
    for kind, (plain, _output, arg) in lookups.items():
        assert results[kind] == plain(arg), kind
        assert type(results[kind]).__name__.startswith("Get") and type(results[kind]).__name__.endswith("Result")
    assert results["status"] == portainer.get_status()
    assert isinstance(results["status"], portainer.GetStatusResult)
