"""Portainer registries (``/api/registries``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, Optional

import pulumi

from ._provider import Ctx, Fail, Field, PortainerProvider, Spec, as_int, get_or_none, is_unknown
from ._resource import PortainerResource, document, program_client
from .config import ConnectionArgs

TYPES = {"quay": 1, "azure": 2, "custom": 3, "gitlab": 4, "proget": 5, "dockerhub": 6, "ecr": 7, "github": 8}
TYPE_NAMES = {v: k for k, v in TYPES.items()}
DEFAULT_URLS = {"dockerhub": "docker.io", "quay": "quay.io", "github": "ghcr.io"}
SETTINGS = ("gitlab", "quay", "ecr")


def _settings(keys: dict[str, str]) -> Callable[[Any], Any]:
    """Normalize a type-settings object: known keys only, typed, empty values dropped."""

    def normalize(value: Any) -> Any:
        unknown = sorted(set(value) - set(keys))
        if unknown:
            raise ValueError(f"has unknown key(s) {', '.join(unknown)}; allowed: {', '.join(keys)}")
        out: dict[str, Any] = {}
        for key, kind in keys.items():
            item = value.get(key)
            if item is None or item == "":
                continue
            if kind == "int":
                try:
                    item = as_int(item)
                except ValueError:
                    raise ValueError(f"{key} must be an integer, not {item!r}") from None
            else:
                item = str(item)
            out[key] = item
        return out or None

    return normalize


SPEC = Spec(
    name="Registry",
    id_output="registry_id",
    noun="registry",
    label="name",
    fields=(
        Field("name", "Display name; unique in Portainer (exact, case-sensitive).", required=True),
        Field(
            "url",
            "Registry address, e.g. `registry.example.com:5000` (Azure: `<name>.azurecr.io`; ProGet: "
            "`<host>/<feed>`). Defaults to `docker.io` for dockerhub, `quay.io` for quay and `ghcr.io` for "
            "github; required otherwise.",
        ),
        Field(
            "type",
            "`custom` (default), `dockerhub`, `gitlab`, `quay`, `azure`, `proget`, `ecr`, or `github` where the "
            "edition allows it (Portainer CE 2.33 refuses it). A change replaces the registry.",
            default="custom",
            choices=tuple(sorted(TYPES)),
            replace=True,
        ),
        Field(
            "username",
            "User name (ECR: the access key ID). Together with `password` it turns authentication on; leave "
            "both out for an anonymous registry.",
        ),
        Field(
            "password",
            "Password or token (ECR: the secret access key); secret and write-only: Portainer never returns "
            "it, so only a change of this input is sent, and a change made in Portainer is not seen as drift.",
            secret=True,
            write_only=True,
        ),
        Field("base_url", "ProGet base URL, e.g. `proget.example.com` (required for `proget`, only there)."),
        Field(
            "gitlab",
            "GitLab settings (a RegistryGitlabArgs: instance_url, project_id, project_path); `gitlab` type "
            "only. Portainer cannot update them, so a change replaces the registry.",
            type="object",
            replace=True,
            normalize=_settings({"instance_url": "str", "project_id": "int", "project_path": "str"}),
        ),
        Field(
            "quay",
            "Quay settings (a RegistryQuayArgs: organisation_name, to use an organisation's namespace); "
            "`quay` type only.",
            type="object",
            normalize=_settings({"organisation_name": "str"}),
        ),
        Field(
            "ecr",
            "Amazon ECR settings (a RegistryEcrArgs: region, required with username/password); `ecr` type only.",
            type="object",
            normalize=_settings({"region": "str"}),
        ),
    ),
)


def _known(value: Any) -> bool:
    return value is not None and not is_unknown(value)


class RegistryProvider(PortainerProvider):
    spec = SPEC

    def validate(self, inputs: dict[str, Any], fail: Fail) -> None:
        type_ = inputs.get("type")
        if not _known(type_):
            return
        for name in SETTINGS:
            if inputs.get(name) is not None and type_ != name:
                fail(name, f"{name} settings apply only to type='{name}', not type='{type_}'")
        if inputs.get("base_url") is not None and type_ != "proget":
            fail("base_url", f"base_url applies only to type='proget', not type='{type_}'")
        if type_ == "proget" and inputs.get("base_url") is None:
            fail("base_url", "base_url is required for type='proget' (Portainer: BaseURL is required for ProGet)")
        if inputs.get("url") is None:
            if type_ in DEFAULT_URLS:
                inputs["url"] = DEFAULT_URLS[type_]
            else:
                fail("url", f"url is required for type='{type_}': the registry's address, e.g. registry.example.com")
        username, password = inputs.get("username"), inputs.get("password")
        if username is not None and password is None:
            fail("password", "password is required when username is set (both turn authentication on)")
        if password is not None and username is None:
            fail("username", "username is required when password is set (both turn authentication on)")
        ecr = inputs.get("ecr")
        region = ecr.get("region") if isinstance(ecr, Mapping) else ecr  # unknown stays not-None
        if type_ == "ecr" and username is not None and region is None:
            fail("ecr", "ecr=RegistryEcrArgs(region=...) is required with username/password for type='ecr'")
        if region is not None and username is None:
            fail("ecr", "ecr.region takes effect only with username (access key ID) and password (secret key)")

    def find(self, ctx: Ctx, inputs: dict[str, Any]) -> Optional[dict[str, Any]]:
        for registry in ctx.client.get("/registries"):
            if registry.get("Name") == inputs["name"]:
                return dict(registry)
        return None

    def create_object(self, ctx: Ctx, inputs: dict[str, Any]) -> dict[str, Any]:
        type_ = inputs.get("type", "custom")
        payload: dict[str, Any] = {
            "Name": inputs["name"],
            "Type": TYPES[type_],
            "URL": inputs["url"],
            "Authentication": bool(inputs.get("username")),
        }
        if inputs.get("username"):
            payload["Username"] = inputs["username"]
            payload["Password"] = inputs.get("password", "")
        if inputs.get("base_url"):
            payload["BaseURL"] = inputs["base_url"]
        if type_ == "gitlab":
            gitlab = inputs.get("gitlab") or {}
            payload["Gitlab"] = {
                "InstanceURL": gitlab.get("instance_url", ""),
                "ProjectId": gitlab.get("project_id", 0),
                "ProjectPath": gitlab.get("project_path", ""),
            }
        if type_ == "quay":
            payload["Quay"] = _quay(inputs)
        if type_ == "ecr":
            payload["Ecr"] = {"Region": (inputs.get("ecr") or {}).get("region", "")}
        return dict(ctx.client.post("/registries", json=payload))

    def read_object(self, ctx: Ctx, id_: str) -> Optional[dict[str, Any]]:
        return get_or_none(ctx.client, f"/registries/{id_}")

    def live_inputs(self, ctx: Ctx, obj: dict[str, Any], state: Mapping[str, Any]) -> dict[str, Any]:
        type_ = TYPE_NAMES.get(int(obj.get("Type") or 0), str(obj.get("Type")))
        live: dict[str, Any] = {
            "name": obj.get("Name"),
            "url": obj.get("URL"),
            "type": type_,
            "username": (obj.get("Username") or None) if obj.get("Authentication") else None,
            "base_url": obj.get("BaseURL") or None,
        }
        if type_ == "gitlab":
            gitlab = obj.get("Gitlab") or {}
            live["gitlab"] = SPEC_SETTINGS["gitlab"](
                {
                    "instance_url": gitlab.get("InstanceURL"),
                    "project_id": gitlab.get("ProjectId") or None,
                    "project_path": gitlab.get("ProjectPath"),
                }
            )
        if type_ == "quay":
            quay = obj.get("Quay") or {}
            live["quay"] = {"organisation_name": quay["OrganisationName"]} if quay.get("OrganisationName") else None
        if type_ == "ecr":
            region = (obj.get("Ecr") or {}).get("Region")
            live["ecr"] = {"region": region} if region else None
        return live

    def update_object(
        self, ctx: Ctx, id_: str, olds: Mapping[str, Any], news: dict[str, Any], changed: set[str]
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {}
        if "name" in changed:
            payload["Name"] = news["name"]
        if "url" in changed:
            payload["URL"] = news["url"]
        if "base_url" in changed:
            payload["BaseURL"] = news.get("base_url") or ""
        # Portainer touches credentials only when Authentication is sent, and keeps the stored password
        # when the one sent is empty: send the password only when its input changed.
        if changed & {"username", "password", "ecr"}:
            if news.get("username"):
                payload["Authentication"] = True
                payload["Username"] = news["username"]
                if "password" in changed and news.get("password"):
                    payload["Password"] = news["password"]
                if news.get("ecr"):
                    payload["Ecr"] = {"Region": news["ecr"].get("region", "")}
            else:
                payload["Authentication"] = False
        if "quay" in changed:
            payload["Quay"] = _quay(news)
        if not payload:
            return self.read_object(ctx, id_) or {"Id": int(id_)}
        return dict(ctx.client.put(f"/registries/{id_}", json=payload))

    def delete_object(self, ctx: Ctx, id_: str, state: Mapping[str, Any]) -> None:
        # Portainer 2.20-2.33 panics on DELETE of an unknown id (2.33: 200 with an empty body; 2.24: a
        # dropped connection), so read first and delete only a registry that exists.
        if self.read_object(ctx, id_) is None:
            return
        ctx.client.delete(f"/registries/{id_}")


SPEC_SETTINGS = {f.name: f.normalize for f in SPEC.fields if f.name in SETTINGS and f.normalize is not None}


def _quay(inputs: Mapping[str, Any]) -> dict[str, Any]:
    organisation = (inputs.get("quay") or {}).get("organisation_name", "")
    return {"UseOrganisation": bool(organisation), "OrganisationName": organisation}


@dataclasses.dataclass
class RegistryGitlabArgs:
    """GitLab settings of a `gitlab` registry."""

    instance_url: Optional[pulumi.Input[str]] = None
    """URL of the GitLab instance, e.g. ``https://gitlab.com``."""
    project_id: Optional[pulumi.Input[int]] = None
    """Numeric id of the GitLab project."""
    project_path: Optional[pulumi.Input[str]] = None
    """Path of the project, e.g. ``group/project``."""


@dataclasses.dataclass
class RegistryQuayArgs:
    """Quay settings of a `quay` registry."""

    organisation_name: Optional[pulumi.Input[str]] = None
    """Organisation whose namespace the registry uses (leave out for the user's own namespace)."""


@dataclasses.dataclass
class RegistryEcrArgs:
    """Amazon ECR settings of an `ecr` registry."""

    region: Optional[pulumi.Input[str]] = None
    """AWS region of the registry, e.g. ``eu-west-1``."""


@dataclasses.dataclass
class RegistryArgs:
    """Arguments of a Portainer registry."""

    name: pulumi.Input[str]
    url: Optional[pulumi.Input[str]] = None
    type: Optional[pulumi.Input[str]] = None
    username: Optional[pulumi.Input[str]] = None
    password: Optional[pulumi.Input[str]] = None
    base_url: Optional[pulumi.Input[str]] = None
    gitlab: Optional[RegistryGitlabArgs] = None
    quay: Optional[RegistryQuayArgs] = None
    ecr: Optional[RegistryEcrArgs] = None


document(RegistryArgs, SPEC)


class Registry(PortainerResource, module="portainer", name="Registry"):
    """A container registry known to Portainer. The password is secret in state and sent only when it
    changes; a change of type (or of the GitLab settings) replaces the registry."""

    name: pulumi.Output[str]
    url: pulumi.Output[str]
    type: pulumi.Output[str]
    username: pulumi.Output[Optional[str]]
    password: pulumi.Output[Optional[str]]
    base_url: pulumi.Output[Optional[str]]
    gitlab: pulumi.Output[Optional[dict[str, Any]]]
    quay: pulumi.Output[Optional[dict[str, Any]]]
    ecr: pulumi.Output[Optional[dict[str, Any]]]
    registry_id: pulumi.Output[int]
    portainer_url: pulumi.Output[str]
    portainer_instance_id: pulumi.Output[str]
    _provider_class = RegistryProvider
    _args_class = RegistryArgs

    def __init__(
        self,
        resource_name: str,
        args: Optional[RegistryArgs] = None,
        opts: Optional[pulumi.ResourceOptions] = None,
        *,
        name: Optional[pulumi.Input[str]] = None,
        url: Optional[pulumi.Input[str]] = None,
        type: Optional[pulumi.Input[str]] = None,  # noqa: A002 - Pulumi SDK naming
        username: Optional[pulumi.Input[str]] = None,
        password: Optional[pulumi.Input[str]] = None,
        base_url: Optional[pulumi.Input[str]] = None,
        gitlab: Optional[RegistryGitlabArgs] = None,
        quay: Optional[RegistryQuayArgs] = None,
        ecr: Optional[RegistryEcrArgs] = None,
        connection: Optional[ConnectionArgs] = None,
        adopt: bool = False,
    ) -> None:
        """Create a registry: ``Registry(name, RegistryArgs(...))`` or ``Registry(name, name=..., ...)``;
        see ``RegistryArgs`` for each argument, ``connection`` and ``adopt`` as in every resource."""
        super().__init__(
            resource_name,
            args,
            opts,
            connection=connection,
            adopt=adopt,
            name=name,
            url=url,
            type=type,
            username=username,
            password=password,
            base_url=base_url,
            gitlab=gitlab,
            quay=quay,
            ecr=ecr,
        )


@dataclasses.dataclass(frozen=True)
class GetRegistryResult:
    """A Portainer registry found by ``get_registry``."""

    id: str
    registry_id: int
    name: str
    url: str
    type: str
    username: Optional[str]


def get_registry(name: str, connection: Optional[ConnectionArgs] = None) -> GetRegistryResult:
    """Find a Portainer registry by its exact name, now; raises when there is none (admin only)."""
    client, _info = program_client(connection)
    for registry in client.get("/registries"):
        if registry.get("Name") == name:
            return GetRegistryResult(
                str(registry["Id"]),
                int(registry["Id"]),
                str(registry["Name"]),
                str(registry.get("URL", "")),
                TYPE_NAMES.get(int(registry.get("Type") or 0), str(registry.get("Type"))),
                (registry.get("Username") or None) if registry.get("Authentication") else None,
            )
    raise LookupError(f"get_registry: no Portainer registry named {name!r} at {client.conn.url}")


def get_registry_output(
    name: pulumi.Input[str], connection: Optional[ConnectionArgs] = None
) -> pulumi.Output[GetRegistryResult]:
    """``get_registry`` once ``name`` is known; no request while it is unknown in a preview."""
    return pulumi.Output.from_input(name).apply(lambda value: get_registry(value, connection))
