"""Docker service webhooks (reference §7): create (one per ResourceID, 409 before the admin check), list
with the both-keys filter, update of RegistryID only, delete (204 even for unknown ids) and the public
trigger, which force-updates the service on the webhook's environment."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from .docker import NO_ENDPOINT
from .server import INVALID, PortainerSim, Result, SimError, SimRequest, field, parse_id

M = re.Match[str]
NOT_FOUND = "Unable to find a webhooks with the specified identifier inside the database"


def add_webhook(sim: PortainerSim, resource_id: str, endpoint_id: int = 1, registry_id: int = 0) -> dict[str, Any]:
    """A webhook created out of band (as the UI would)."""
    with sim.lock:
        wid = sim.next_id("webhooks")
        webhook = {
            "Id": wid,
            "Token": str(uuid.uuid4()),
            "ResourceId": resource_id,
            "EndpointId": endpoint_id,
            "RegistryId": registry_id,
            "Type": 1,
        }
        sim.webhooks[wid] = webhook
        return webhook


def _registry_check(sim: PortainerSim, registry_id: int) -> None:
    if registry_id and registry_id not in getattr(sim, "registries", {}):
        raise SimError(403, "Permission deny to access registry", "Object not found inside the database")


def _create(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    user = sim.authenticate(req)
    p = req.payload()
    resource_id, endpoint_id = field(p, "resourceid", str, ""), field(p, "endpointid", int, 0)
    registry_id, type_ = field(p, "registryid", int, 0), field(p, "webhooktype", int, 0)
    if not resource_id:
        raise SimError(400, INVALID, "Invalid ResourceID")
    if not endpoint_id:
        raise SimError(400, INVALID, "Invalid EndpointID")
    if type_ != 1:
        raise SimError(400, INVALID, "Invalid WebhookType")
    if any(w["ResourceId"] == resource_id for w in sim.webhooks.values()):
        raise SimError(409, "A webhook for this resource already exists", "A webhook for this resource already exists")
    if user["Role"] != 1:
        raise SimError(403, "Not authorized to create a webhook", "Access denied to resource")
    _registry_check(sim, registry_id)
    return 200, dict(add_webhook(sim, resource_id, endpoint_id, registry_id)), None


def _list(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    user = sim.authenticate(req)
    raw = req.arg("filters")
    filters: dict[str, Any] = {}
    if raw:
        try:
            filters = {k.lower(): v for k, v in json.loads(raw).items()}
        except (ValueError, AttributeError):
            raise SimError(400, "Invalid query parameter: filters", "Invalid character in filters") from None
    if user["Role"] != 1:
        return 200, [], None
    items = [dict(w) for _, w in sorted(sim.webhooks.items())]
    endpoint_id, resource_id = int(filters.get("endpointid") or 0), str(filters.get("resourceid") or "")
    if endpoint_id or resource_id:  # both keys must match, zero values included
        items = [w for w in items if w["EndpointId"] == endpoint_id and w["ResourceId"] == resource_id]
    return 200, items, None


def _update(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    user = sim.authenticate(req)
    wid = parse_id(m, "webhook")
    p = req.payload()
    registry_id = field(p, "registryid", int, 0)
    webhook = sim.webhooks.get(wid)
    if webhook is None:
        raise SimError(404, NOT_FOUND, "Object not found inside the database")
    if user["Role"] != 1:
        raise SimError(403, "Not authorized to update a webhook", "Access denied to resource")
    _registry_check(sim, registry_id)
    webhook["RegistryId"] = registry_id
    return 200, dict(webhook), None


def _delete(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    user = sim.authenticate(req)
    wid = parse_id(m, "webhook")
    if user["Role"] != 1:
        raise SimError(403, "Not authorized to delete a webhook", "Access denied to resource")
    sim.webhooks.pop(wid, None)  # bbolt delete of a missing key is no error
    return 204, None, None


def _execute(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    token = m.group("id")
    webhook = next((w for w in sim.webhooks.values() if w["Token"] == token), None)
    if webhook is None:
        raise SimError(404, "Unable to find a webhook with this token", "Object not found inside the database")
    if webhook["EndpointId"] not in sim.endpoints:
        raise SimError(404, NO_ENDPOINT, "Object not found inside the database")
    engine = sim.engines[webhook["EndpointId"]]
    if webhook["ResourceId"] not in engine.services:
        raise SimError(500, "Error looking up service", f"service {webhook['ResourceId']} not found")
    engine.force_update(webhook["ResourceId"])
    sim.webhook_calls.append((webhook["Id"], req.arg("tag")))
    return 204, None, None


def register_webhook_routes(sim: PortainerSim) -> None:
    sim.webhooks = {}  # type: ignore[attr-defined]
    sim.webhook_calls = []  # type: ignore[attr-defined]
    one = r"/api/webhooks/(?P<id>[^/]+)"
    for method, regex, handler in (
        ("POST", r"/api/webhooks", _create),
        ("GET", r"/api/webhooks", _list),
        ("PUT", one, _update),
        ("DELETE", one, _delete),
        ("POST", one, _execute),
    ):
        sim.add_route(method, regex, handler)
