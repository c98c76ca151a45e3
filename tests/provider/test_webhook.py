"""Webhook against the simulator: service id or name, read by listing (no GET by id), one webhook per
service, secret token and URL, registry changes in place, the trigger, deletion."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from pulumi.output import Unknown

from pulumi_portainer.errors import PortainerError
from pulumi_portainer.webhook import SPEC, WebhookProvider
from tests.provider.conftest import Engine, body, configured, lines
from tests.sim import PortainerSim
from tests.sim.registries import add_registry
from tests.sim.webhooks import add_webhook


@pytest.fixture
def engine(sim: PortainerSim) -> Engine:
    return Engine(configured(WebhookProvider, sim, **{"portainer:endpointId": "1"}))


@pytest.fixture
def service(sim: PortainerSim) -> dict[str, Any]:
    return sim.engines[1].add_service("web_app", "nginx:alpine", {"com.docker.stack.namespace": "web"})


def warm(engine: Engine, sim: PortainerSim) -> None:
    id_, state = engine.create({"service_id": "warmup-service"})
    engine.p.delete(id_, state)
    sim.clear_requests()


def test_check_names_the_property(engine: Engine, sim: PortainerSim) -> None:
    assert "service_id or service_name is required" in engine.failures({})["service_id"]
    assert "not both" in engine.failures({"service_id": "a", "service_name": "b"})["service_name"]
    assert "one of service" in engine.failures({"service_id": "a", "type": "container"})["type"]
    assert "registry id" in engine.failures({"service_id": "a", "registry_id": -1})["registry_id"]
    assert engine.check({"service_id": "a"})["endpoint_id"] == 1  # portainer:endpointId
    assert engine.check({"service_id": "a", "endpoint_id": "3"})["endpoint_id"] == 3
    bare = Engine(configured(WebhookProvider, sim))
    assert "endpoint_id is required" in bare.failures({"service_id": "a"})["endpoint_id"]
    assert engine.failures({"service_id": Unknown(), "registry_id": Unknown()}) == {}


def test_token_and_url_are_secret_outputs() -> None:
    assert {"token", "url"} <= set(SPEC.secret_outputs)


def test_create_by_service_id(engine: Engine, sim: PortainerSim, service: dict[str, Any]) -> None:
    warm(engine, sim)
    id_, state = engine.create({"service_id": service["ID"]})
    assert lines(sim) == ["GET /api/webhooks", "POST /api/webhooks"]  # identity lookup + 1
    assert json.loads(sim.requests[0].query["filters"][0]) == {"EndpointID": 1, "ResourceID": service["ID"]}
    assert body(sim) == {"ResourceID": service["ID"], "EndpointID": 1, "RegistryID": 0, "WebhookType": 1}
    token = sim.webhooks[int(id_)]["Token"]
    assert state["token"] == token and state["url"] == f"{sim.url}/api/webhooks/{token}"
    assert state["webhook_id"] == int(id_) and state["type"] == "service"


def test_create_by_service_name_resolves_it_once(engine: Engine, sim: PortainerSim, service: dict[str, Any]) -> None:
    warm(engine, sim)
    id_, state = engine.create({"service_name": "web_app"})
    assert lines(sim) == ["GET /api/endpoints/1/docker/services", "GET /api/webhooks", "POST /api/webhooks"]
    assert sim.webhooks[int(id_)]["ResourceId"] == service["ID"]
    assert state["service_name"] == "web_app" and "service_id" not in state
    sim.clear_requests()
    result = engine.p.read(id_, state)
    assert sim.count() == 1 and result.inputs["service_name"] == "web_app"
    assert engine.p.diff(id_, dict(result.outs), engine.check({"service_name": "web_app"})).changes is False


def test_unknown_service_name_fails_before_any_create(engine: Engine, sim: PortainerSim, service: Any) -> None:
    with pytest.raises(PortainerError) as err:
        engine.create({"service_name": "web_db"})
    assert str(err.value).startswith("create Webhook 'web_db': no Swarm service named 'web_db' on environment 1")
    assert "<stack>_<service>" in str(err.value) and sim.count("POST") == 0


def test_url_is_built_on_public_url(sim: PortainerSim, service: dict[str, Any]) -> None:
    engine = Engine(
        configured(WebhookProvider, sim, **{"portainer:endpointId": "1", "portainer:publicUrl": "https://p.example/"})
    )
    _, state = engine.create({"service_id": service["ID"]})
    assert state["url"] == f"https://p.example/api/webhooks/{state['token']}"


def test_second_webhook_on_a_service_is_a_conflict_naming_the_existing_one(
    engine: Engine, sim: PortainerSim, service: dict[str, Any]
) -> None:
    existing = add_webhook(sim, service["ID"], 1)
    with pytest.raises(PortainerError) as err:
        engine.create({"service_name": "web_app"})
    text = str(err.value)
    assert text.startswith("create Webhook 'web_app': HTTP 409") and f"(id {existing['Id']})" in text
    assert "adopt=True" in text and sim.count("POST") == 0
    id_, state = engine.create({"service_name": "web_app", "adopt": True})
    assert id_ == str(existing["Id"]) and state["token"] == existing["Token"]


def test_portainers_own_409_is_passed_through(engine: Engine, sim: PortainerSim, service: dict[str, Any]) -> None:
    add_webhook(sim, service["ID"], 2)  # same service id recorded on another environment: the lookup misses it
    with pytest.raises(PortainerError) as err:
        engine.create({"service_id": service["ID"]})
    assert str(err.value) == (
        f"create Webhook '{service['ID']}': HTTP 409 POST /api/webhooks: A webhook for this resource already exists"
    )


def test_unchanged_preview_and_read_cost(engine: Engine, sim: PortainerSim, service: dict[str, Any]) -> None:
    id_, state = engine.create({"service_id": service["ID"], "registry_id": 0})
    sim.clear_requests()
    assert engine.diff(id_, state, {"service_id": service["ID"]}).changes is False
    assert sim.count() == 0
    result = engine.p.read(id_, state)
    assert lines(sim) == ["GET /api/webhooks"]  # no GET by id: one list
    assert result.id == id_ and result.outs["token"] == state["token"]
    assert engine.p.diff(id_, dict(result.outs), engine.check({"service_id": service["ID"]})).changes is False


def test_refresh_detects_registry_drift_and_deletion(engine: Engine, sim: PortainerSim, service: Any) -> None:
    registry = add_registry(sim, "private", "r.example")
    id_, state = engine.create({"service_id": service["ID"]})
    sim.webhooks[int(id_)]["RegistryId"] = registry["Id"]
    result = engine.p.read(id_, state)
    assert result.inputs["registry_id"] == registry["Id"]
    diff = engine.diff(id_, dict(result.outs), {"service_id": service["ID"]})
    assert diff.changes and not diff.replaces
    del sim.webhooks[int(id_)]
    result = engine.p.read(id_, state)
    assert not result.id and result.outs == {}


def test_registry_change_is_an_update_in_place(engine: Engine, sim: PortainerSim, service: dict[str, Any]) -> None:
    registry = add_registry(sim, "private", "r.example")
    id_, state = engine.create({"service_id": service["ID"]})
    sim.clear_requests()
    state = engine.up(id_, state, {"service_id": service["ID"], "registry_id": str(registry["Id"])})
    assert lines(sim) == [f"PUT /api/webhooks/{id_}"] and body(sim) == {"RegistryID": registry["Id"]}
    assert sim.webhooks[int(id_)]["RegistryId"] == registry["Id"] and state["registry_id"] == registry["Id"]
    state = engine.up(id_, state, {"service_id": service["ID"]})
    assert body(sim) == {"RegistryID": 0} and sim.webhooks[int(id_)]["RegistryId"] == 0


def test_unknown_registry_is_portainers_403(engine: Engine, sim: PortainerSim, service: dict[str, Any]) -> None:
    with pytest.raises(PortainerError) as err:
        engine.create({"service_id": service["ID"], "registry_id": 99})
    assert "HTTP 403 POST /api/webhooks: Permission deny to access registry" in str(err.value)


def test_service_endpoint_and_type_changes_replace(engine: Engine, sim: PortainerSim, service: Any) -> None:
    id_, state = engine.create({"service_id": service["ID"]})
    assert engine.diff(id_, state, {"service_id": "other"}).replaces == ["service_id"]
    assert engine.diff(id_, state, {"service_id": service["ID"], "endpoint_id": 2}).replaces == ["endpoint_id"]
    diff = engine.diff(id_, state, {"service_name": "web_app"})
    assert set(diff.replaces) == {"service_id", "service_name"} and diff.delete_before_replace
    assert engine.diff(id_, state, {"service_id": Unknown()}).replaces == ["service_id"]


def test_the_url_force_updates_the_service(engine: Engine, sim: PortainerSim, service: dict[str, Any]) -> None:
    _, state = engine.create({"service_name": "web_app"})
    assert service["Version"]["Index"] == 1
    response = httpx.post(state["url"])  # public: no credentials
    assert response.status_code == 204
    assert service["Version"]["Index"] == 2 and service["Spec"]["TaskTemplate"]["ForceUpdate"] == 1
    assert httpx.post(f"{sim.url}/api/webhooks/not-a-token").status_code == 404


def test_delete_and_delete_of_already_gone(engine: Engine, sim: PortainerSim, service: dict[str, Any]) -> None:
    id_, state = engine.create({"service_id": service["ID"]})
    sim.clear_requests()
    engine.p.delete(id_, state)
    assert lines(sim) == [f"DELETE /api/webhooks/{id_}"] and int(id_) not in sim.webhooks
    engine.p.delete(id_, state)  # Portainer answers 204 for unknown ids


def test_webhooks_are_admin_only(sim: PortainerSim, service: dict[str, Any]) -> None:
    sim.create_user("dev", "long-enough-password-1", 2)
    key = sim.create_api_key(2, "dev")
    engine = Engine(configured(WebhookProvider, sim, **{"portainer:apiKey": key, "portainer:endpointId": "1"}))
    with pytest.raises(PortainerError) as err:
        engine.create({"service_id": service["ID"]})
    assert "HTTP 403 POST /api/webhooks: Not authorized to create a webhook" in str(err.value)


def test_token_is_redacted_from_errors(engine: Engine, sim: PortainerSim, service: dict[str, Any]) -> None:
    id_, state = engine.create({"service_id": service["ID"]})
    sim.inject("PUT", rf"/api/webhooks/{id_}", status=500, body={"message": f"bad {state['token']}"})
    with pytest.raises(PortainerError) as err:
        engine.up(id_, state, {"service_id": service["ID"], "registry_id": 3})
    assert state["token"] not in str(err.value) and "[secret]" in str(err.value)
