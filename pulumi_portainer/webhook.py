"""Portainer service webhooks (``/api/webhooks``): a URL that force-updates one Swarm service."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any, Optional

import pulumi

from ._http import register_secret
from ._provider import Ctx, Fail, Field, PortainerProvider, Spec, is_unknown
from ._resource import PortainerResource, document
from .config import ConnectionArgs
from .errors import PortainerError

WEBHOOK_TYPES = {"service": 1}
SERVICE_ID = "__service_id"  # the Swarm service id the webhook was created for (hidden output)


def _registry_id(value: int) -> Optional[int]:
    if value < 0:
        raise ValueError("must be a registry id (leave it out, or 0, for none)")
    return value or None


SPEC = Spec(
    name="Webhook",
    id_output="webhook_id",
    noun="webhook",
    label="service_id",
    fields=(
        Field(
            "service_id",
            "Id of the Swarm service the webhook redeploys (e.g. a Stack's `services[...]`); give this or "
            "`service_name`. A change replaces the webhook.",
            replace=True,
        ),
        Field(
            "service_name",
            "Name of the Swarm service, `<stack>_<service>`, resolved to its id when the webhook is created; "
            "give this or `service_id`. A change replaces the webhook.",
            replace=True,
        ),
        Field(
            "endpoint_id",
            "Id of the environment (Swarm) that runs the service; defaults to `portainer:endpointId`. A "
            "change replaces the webhook.",
            type="int",
            required=True,
            replace=True,
        ),
        Field(
            "type",
            "`service` (default; the only webhook type of Portainer CE). A change replaces the webhook.",
            default="service",
            choices=tuple(WEBHOOK_TYPES),
            replace=True,
        ),
        Field(
            "registry_id",
            "Id of the registry whose credentials pull the image on redeploy (none by default); changed in place.",
            type="int",
            normalize=_registry_id,
        ),
        Field(
            "token",
            "The webhook's token (secret): whoever knows it can redeploy the service.",
            computed=True,
            secret=True,
        ),
        Field(
            "url",
            "The URL to POST to (secret), `<public_url or url>/api/webhooks/<token>`; optional `?tag=<tag>` "
            "redeploys with another image tag.",
            computed=True,
            secret=True,
        ),
    ),
)


class WebhookProvider(PortainerProvider):
    spec = SPEC

    def _label(self, props: Mapping[str, Any]) -> str:
        for key in ("service_name", "service_id"):
            value = props.get(key)
            if value is not None and not is_unknown(value):
                return str(value)
        return "<unknown>"

    def validate(self, inputs: dict[str, Any], fail: Fail) -> None:
        given = [k for k in ("service_id", "service_name") if inputs.get(k) is not None]
        if not given:
            fail("service_id", "service_id or service_name is required: the Swarm service the webhook redeploys")
        elif len(given) == 2:
            fail("service_name", "give service_id or service_name, not both")

    def _service_id(self, ctx: Ctx, inputs: dict[str, Any]) -> str:
        """The service id, resolving ``service_name`` through the Docker proxy (once per operation)."""
        if inputs.get("service_id"):
            return str(inputs["service_id"])
        if inputs.get(SERVICE_ID):
            return str(inputs[SERVICE_ID])
        name, endpoint = str(inputs["service_name"]), inputs["endpoint_id"]
        services = ctx.client.get(
            f"/endpoints/{endpoint}/docker/services", params={"filters": json.dumps({"name": [name]})}
        )
        for service in services:
            if (service.get("Spec") or {}).get("Name") == name:
                resolved = str(service["ID"])
                inputs[SERVICE_ID] = resolved
                return resolved
        raise PortainerError(
            f"no Swarm service named {name!r} on environment {endpoint}: service_name is `<stack>_<service>` "
            "(the stack name, an underscore, then the compose service key); check the name and endpoint_id, "
            "or pass service_id"
        )

    def find(self, ctx: Ctx, inputs: dict[str, Any]) -> Optional[dict[str, Any]]:
        filters = {"EndpointID": inputs["endpoint_id"], "ResourceID": self._service_id(ctx, inputs)}
        for webhook in ctx.client.get("/webhooks", params={"filters": json.dumps(filters)}):
            return dict(webhook)
        return None

    def create_object(self, ctx: Ctx, inputs: dict[str, Any]) -> dict[str, Any]:
        payload = {
            "ResourceID": self._service_id(ctx, inputs),
            "EndpointID": inputs["endpoint_id"],
            "RegistryID": inputs.get("registry_id") or 0,
            "WebhookType": WEBHOOK_TYPES[inputs.get("type") or "service"],
        }
        return dict(ctx.client.post("/webhooks", json=payload))

    def read_object(self, ctx: Ctx, id_: str) -> Optional[dict[str, Any]]:
        # There is no GET by id: list (no filter lists all) and pick the id.
        for webhook in ctx.client.get("/webhooks"):
            if str(webhook.get("Id")) == str(id_):
                return dict(webhook)
        return None

    def live_inputs(self, ctx: Ctx, obj: dict[str, Any], state: Mapping[str, Any]) -> dict[str, Any]:
        live: dict[str, Any] = {
            "endpoint_id": obj.get("EndpointId"),
            "type": next((k for k, v in WEBHOOK_TYPES.items() if v == obj.get("Type")), str(obj.get("Type"))),
            "registry_id": obj.get("RegistryId") or None,
        }
        if state.get("service_name") and not state.get("service_id"):
            live["service_name"] = state["service_name"]  # the name was resolved at create
        else:
            live["service_id"] = obj.get("ResourceId")
        return live

    def computed(self, ctx: Ctx, obj: dict[str, Any], inputs: Mapping[str, Any]) -> dict[str, Any]:
        token = str(obj.get("Token") or "")
        register_secret(token)
        base = ctx.conn.public_url or ctx.conn.url
        return {"token": token, "url": f"{base}/api/webhooks/{token}", SERVICE_ID: obj.get("ResourceId")}

    def update_object(
        self, ctx: Ctx, id_: str, olds: Mapping[str, Any], news: dict[str, Any], changed: set[str]
    ) -> dict[str, Any]:
        if "registry_id" not in changed:  # adoption: nothing else can change in place
            return self.read_object(ctx, id_) or {"Id": int(id_)}
        return dict(ctx.client.put(f"/webhooks/{id_}", json={"RegistryID": news.get("registry_id") or 0}))

    def delete_object(self, ctx: Ctx, id_: str, state: Mapping[str, Any]) -> None:
        ctx.client.delete(f"/webhooks/{id_}")  # 204 also for an id already gone


@dataclasses.dataclass
class WebhookArgs:
    """Arguments of a Portainer service webhook."""

    service_id: Optional[pulumi.Input[str]] = None
    service_name: Optional[pulumi.Input[str]] = None
    endpoint_id: Optional[pulumi.Input[int]] = None
    type: Optional[pulumi.Input[str]] = None
    registry_id: Optional[pulumi.Input[int]] = None


document(WebhookArgs, SPEC)


class Webhook(PortainerResource, module="portainer", name="Webhook"):
    """A Portainer webhook that force-updates a Swarm service when its secret URL is POSTed to. One per
    service; ``token`` and ``url`` are secret; a change of ``registry_id`` is an update."""

    service_id: pulumi.Output[Optional[str]]
    service_name: pulumi.Output[Optional[str]]
    endpoint_id: pulumi.Output[int]
    type: pulumi.Output[str]
    registry_id: pulumi.Output[Optional[int]]
    token: pulumi.Output[str]
    url: pulumi.Output[str]
    webhook_id: pulumi.Output[int]
    portainer_url: pulumi.Output[str]
    portainer_instance_id: pulumi.Output[str]
    _provider_class = WebhookProvider
    _args_class = WebhookArgs

    def __init__(
        self,
        resource_name: str,
        args: Optional[WebhookArgs] = None,
        opts: Optional[pulumi.ResourceOptions] = None,
        *,
        service_id: Optional[pulumi.Input[str]] = None,
        service_name: Optional[pulumi.Input[str]] = None,
        endpoint_id: Optional[pulumi.Input[int]] = None,
        type: Optional[pulumi.Input[str]] = None,  # noqa: A002 - Pulumi SDK naming
        registry_id: Optional[pulumi.Input[int]] = None,
        connection: Optional[ConnectionArgs] = None,
        adopt: bool = False,
    ) -> None:
        """Create a webhook: ``Webhook(name, WebhookArgs(...))`` or ``Webhook(name, service_id=..., ...)``;
        see ``WebhookArgs`` for each argument, ``connection`` and ``adopt`` as in every resource."""
        super().__init__(
            resource_name,
            args,
            opts,
            connection=connection,
            adopt=adopt,
            service_id=service_id,
            service_name=service_name,
            endpoint_id=endpoint_id,
            type=type,
            registry_id=registry_id,
        )
