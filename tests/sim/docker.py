"""Environments (endpoints) and the Docker engine behind each, as Portainer's Docker proxy shows it.

The base every resource module builds on: ``sim.endpoints`` (Endpoint JSON by id, reference §9),
``sim.engines`` (a small Docker engine per endpoint: swarm id, services, containers, networks), the read
routes of ``/api/endpoints`` and the Docker-proxy routes under ``/api/endpoints/{id}/docker/...``.
Create/update/delete of endpoints, stacks and webhooks are registered by their own modules.
"""

from __future__ import annotations

import dataclasses
import json
import re
import secrets
import time
from typing import Any, Optional

from .server import PortainerSim, Result, SimError, SimRequest, parse_id

M = re.Match[str]
NO_ENDPOINT = "Unable to find an environment with the specified identifier inside the database"


@dataclasses.dataclass
class Engine:
    """What one Docker daemon holds. Labels follow compose/swarm conventions
    (``com.docker.compose.project``, ``com.docker.stack.namespace``)."""

    swarm_id: Optional[str] = None
    services: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    containers: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    networks: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    reachable: bool = True

    def add_service(self, name: str, image: str, labels: Optional[dict[str, str]] = None) -> dict[str, Any]:
        sid = secrets.token_hex(12)
        service = {
            "ID": sid,
            "Version": {"Index": 1},
            "CreatedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Spec": {
                "Name": name,
                "Labels": dict(labels or {}),
                "TaskTemplate": {"ContainerSpec": {"Image": image}, "ForceUpdate": 0},
            },
        }
        self.services[sid] = service
        return service

    def add_container(
        self, name: str, image: str, labels: Optional[dict[str, str]] = None, state: str = "running"
    ) -> dict[str, Any]:
        cid = secrets.token_hex(32)
        container = {"Id": cid, "Names": [f"/{name}"], "Image": image, "Labels": dict(labels or {}), "State": state}
        self.containers[cid] = container
        return container

    def add_network(self, name: str, labels: Optional[dict[str, str]] = None) -> dict[str, Any]:
        nid = secrets.token_hex(32)
        network = {"Id": nid, "Name": name, "Labels": dict(labels or {})}
        self.networks[nid] = network
        return network

    def force_update(self, sid: str) -> None:
        service = self.services[sid]
        service["Version"]["Index"] += 1
        service["Spec"]["TaskTemplate"]["ForceUpdate"] += 1


def add_endpoint(
    sim: PortainerSim,
    name: str = "local",
    *,
    swarm: bool = True,
    type_: int = 1,
    url: str = "unix:///var/run/docker.sock",
    **extra: Any,
) -> dict[str, Any]:
    """An environment with a Docker engine behind it (swarm manager when ``swarm``)."""
    with sim.lock:
        eid = sim.next_id("endpoints")
        endpoint = {
            "Id": eid,
            "Name": name,
            "Type": type_,
            "URL": url,
            "PublicURL": "",
            "GroupId": 1,
            "TagIds": [],
            "Status": 1,
            "ContainerEngine": "docker",
            "EdgeKey": "",
            "EdgeCheckinInterval": 0,
            "TLSConfig": {"TLS": False, "TLSSkipVerify": False},
            "AzureCredentials": {"ApplicationID": "", "TenantID": "", "AuthenticationKey": ""},
            "Snapshots": [],
            "Gpus": [],
            "UserAccessPolicies": {},
            "TeamAccessPolicies": {},
        }
        endpoint.update(extra)
        sim.endpoints[eid] = endpoint
        sim.engines[eid] = Engine(swarm_id=secrets.token_hex(13) if swarm else None)
        return endpoint


def endpoint_of(sim: PortainerSim, eid: int) -> dict[str, Any]:
    endpoint = sim.endpoints.get(eid)
    if endpoint is None:
        raise SimError(404, NO_ENDPOINT, "Object not found inside the database")
    return endpoint


def engine_of(sim: PortainerSim, eid: int) -> Engine:
    endpoint_of(sim, eid)
    engine = sim.engines[eid]
    if not engine.reachable:
        raise SimError(502, "Unable to proxy the request via the Docker API", "connection refused")
    return engine


def _docker_error(status: int, message: str) -> Result:
    # the Docker proxy passes the daemon's own answers through
    return status, {"message": message}, None


def _label_filters(req: SimRequest) -> dict[str, Optional[str]]:
    raw = req.arg("filters")
    if not raw:
        return {}
    labels = json.loads(raw).get("label", [])
    if isinstance(labels, dict):
        labels = [k for k, v in labels.items() if v]
    out: dict[str, Optional[str]] = {}
    for item in labels:
        key, sep, value = item.partition("=")
        out[key] = value if sep else None
    return out


def _matches(labels: dict[str, str], wanted: dict[str, Optional[str]]) -> bool:
    return all(k in labels and (v is None or labels[k] == v) for k, v in wanted.items())


def _endpoints_list(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    sim.authenticate(req)
    items = sorted(sim.endpoints.values(), key=lambda e: e["Id"])
    name = req.arg("name")
    if name is not None:
        items = [e for e in items if e["Name"] == name]
    return 200, items, {"X-Total-Count": str(len(items)), "X-Total-Available": str(len(sim.endpoints))}


def _endpoint_inspect(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    sim.authenticate(req)
    endpoint = dict(endpoint_of(sim, parse_id(m, "environment")))
    endpoint["AzureCredentials"] = {"ApplicationID": "", "TenantID": "", "AuthenticationKey": ""}
    if req.arg("excludeSnapshot") == "true":
        endpoint["Snapshots"] = []
    return 200, endpoint, None


def _swarm(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    sim.authenticate(req)
    engine = engine_of(sim, parse_id(m, "environment"))
    if engine.swarm_id is None:
        return _docker_error(
            503,
            'This node is not a swarm manager. Use "docker swarm init" or '
            '"docker swarm join" to connect this node to swarm and try again.',
        )
    return 200, {"ID": engine.swarm_id, "Spec": {"Name": "default"}}, None


def _services(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    sim.authenticate(req)
    engine = engine_of(sim, parse_id(m, "environment"))
    wanted = _label_filters(req)
    return 200, [s for s in engine.services.values() if _matches(s["Spec"]["Labels"], wanted)], None


def _service(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    sim.authenticate(req)
    engine = engine_of(sim, parse_id(m, "environment"))
    ref = m.group("sid")
    for service in engine.services.values():
        if ref in (service["ID"], service["Spec"]["Name"]):
            if req.method == "DELETE":
                del engine.services[service["ID"]]
                return 200, None, None
            return 200, service, None
    return _docker_error(404, f"service {ref} not found")


def _containers(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    sim.authenticate(req)
    engine = engine_of(sim, parse_id(m, "environment"))
    wanted = _label_filters(req)
    everything = req.arg("all") in ("1", "true")
    items = [
        c
        for c in engine.containers.values()
        if _matches(c["Labels"], wanted) and (everything or c["State"] == "running")
    ]
    return 200, items, None


def _container_delete(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    sim.authenticate(req)
    engine = engine_of(sim, parse_id(m, "environment"))
    if engine.containers.pop(m.group("cid"), None) is None:
        return _docker_error(404, f"No such container: {m.group('cid')}")
    return 204, None, None


def _networks(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    sim.authenticate(req)
    engine = engine_of(sim, parse_id(m, "environment"))
    wanted = _label_filters(req)
    return 200, [n for n in engine.networks.values() if _matches(n["Labels"], wanted)], None


def _network_delete(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    sim.authenticate(req)
    engine = engine_of(sim, parse_id(m, "environment"))
    if engine.networks.pop(m.group("nid"), None) is None:
        return _docker_error(404, f"network {m.group('nid')} not found")
    return 204, None, None


def register_docker_routes(sim: PortainerSim) -> None:
    ep = r"/api/endpoints/(?P<id>[^/]+)"
    docker = ep + r"/docker(?:/v[\d.]+)?"
    for method, regex, handler in (
        ("GET", r"/api/endpoints", _endpoints_list),
        ("GET", ep, _endpoint_inspect),
        ("GET", docker + r"/swarm", _swarm),
        ("GET", docker + r"/services", _services),
        ("GET", docker + r"/services/(?P<sid>[^/]+)", _service),
        ("DELETE", docker + r"/services/(?P<sid>[^/]+)", _service),
        ("GET", docker + r"/containers/json", _containers),
        ("DELETE", docker + r"/containers/(?P<cid>[^/]+)", _container_delete),
        ("GET", docker + r"/networks", _networks),
        ("DELETE", docker + r"/networks/(?P<nid>[^/]+)", _network_delete),
    ):
        sim.add_route(method, regex, handler)
