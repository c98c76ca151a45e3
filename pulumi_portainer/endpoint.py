"""Portainer environments (``/api/endpoints``): Docker, agent, Edge, Azure and local Kubernetes.

Created with one ``multipart/form-data`` body (TLS material as file parts), changed in place through the
JSON ``PUT`` for what Portainer can change (name, URLs, group, tags, Edge check-in interval, Azure
credentials), replaced otherwise. Read with ``excludeSnapshot=true``.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from typing import Any, Optional
from urllib.parse import urlsplit

import pulumi
from pulumi.dynamic import CheckResult, DiffResult

from . import _compat
from ._http import EMPTY_BODY, Client, register_secret
from ._provider import (
    Ctx,
    Fail,
    Field,
    PortainerProvider,
    Spec,
    as_int,
    empty,
    get_or_none,
    is_unknown,
)
from ._resource import PortainerResource, document, program_client, read_local
from .config import ConnectionArgs
from .errors import APIError, PortainerError

# declared type -> EndpointCreationType (form field); stored Type -> declared type
CREATION_TYPES = {"docker": 1, "agent": 2, "azure": 3, "edge": 4, "kubernetes_local": 5}
STORED_TYPES = {1: "docker", 2: "agent", 3: "azure", 4: "edge", 5: "kubernetes_local", 6: "agent", 7: "edge"}
DEFAULT_URLS = {"docker": "unix:///var/run/docker.sock", "kubernetes_local": "https://kubernetes.default.svc"}
AZURE_URL = "https://management.azure.com"
# Portainer's 500 messages when the target of a create cannot be contacted (reference §9)
UNREACHABLE = (
    "Unable to initiate communications with environment",
    "Unable to get environment type",
    "Unable to authenticate against Azure",
)
TLS_FILES = (("tls_ca_cert", "TLSCACertFile", "ca.pem"), ("tls_cert", "TLSCertFile", "cert.pem"))
TLS_FIELDS = ("tls_skip_verify", "tls_skip_client_verify", "tls_ca_cert", "tls_cert", "tls_key")
AZURE_FIELDS = ("azure_application_id", "azure_tenant_id", "azure_authentication_key")
FIXED = ("type", "container_engine", "tls", "tls_skip_verify", "tls_skip_client_verify")
PEM_TYPE = "application/x-pem-file"
_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\s]+?)-----END \1-----")


# ---------------------------------------------------------------- normalization (check)


def _pem(kind: str, label_ok: Any) -> Any:
    def normalize(value: str) -> str:
        text = value.strip()
        blocks = _PEM_BLOCK.findall(text)
        leftover = _PEM_BLOCK.sub("", text).strip()
        if blocks and not leftover and all(label_ok(label) for label, _body in blocks):
            return text + "\n"
        shown = f" ({value!r} is neither)" if kind != "private key" and "\n" not in value and len(value) < 300 else ""
        raise ValueError(
            f"must be a PEM {kind} (text starting with -----BEGIN) or the path of a readable PEM file, relative "
            f"to the program's working directory{shown}"
        )

    return normalize


def _tag_ids(value: list[Any]) -> list[int]:
    out = set()
    for item in value:
        try:
            number = as_int(item)
        except ValueError:
            raise ValueError(f"must be a list of integer tag ids, not {item!r} (look tags up by id)") from None
        if number < 1:
            raise ValueError(f"must hold tag ids of 1 or more, not {number}")
        out.add(number)
    return sorted(out)


def _positive(value: int) -> int:
    if value < 1:
        raise ValueError(f"must be 1 or more (1 is the Unassigned group), not {value}")
    return value


def _not_negative(value: int) -> int:
    if value < 0:
        raise ValueError(f"must be 0 (Portainer's default) or a number of seconds, not {value}")
    return value


def _name(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


SPEC = Spec(
    name="Endpoint",
    id_output="endpoint_id",
    noun="environment",
    label="name",
    deploys=frozenset({"create"}),
    fields=(
        Field("name", "Environment name; unique in Portainer (case-sensitive).", required=True, normalize=_name),
        Field(
            "type",
            "`docker` (default: a Docker API, unix:// socket or tcp://), `agent` (a Portainer agent, tcp://), "
            "`edge` (an Edge agent that calls in; created offline), `azure` (Azure ACI) or `kubernetes_local` "
            "(the cluster Portainer runs in). A change replaces the environment.",
            default="docker",
            choices=tuple(CREATION_TYPES),
            replace=True,
        ),
        Field(
            "url",
            "Where Portainer reaches the environment: docker `unix:///...` or `tcp://host:port` (default "
            "unix:///var/run/docker.sock); agent `tcp://host:port`; edge the Portainer URL the agent calls, "
            "`https://host[:port]` (Portainer stores only its host; a change replaces an Edge environment); "
            "kubernetes_local `https://...` (default https://kubernetes.default.svc); none for azure.",
        ),
        Field("public_url", "Address used for the links to published ports (not for azure)."),
        Field(
            "group_id",
            "Environment group id (default 1, Unassigned); checked to exist.",
            type="int",
            default=1,
            normalize=_positive,
        ),
        Field("tag_ids", "Tag ids (integers); checked to exist.", type="list", normalize=_tag_ids),
        Field(
            "container_engine",
            "`docker` (default) or `podman` (Portainer 2.22+; not for azure or kubernetes_local). Always sent. "
            "A change replaces the environment.",
            default="docker",
            choices=("docker", "podman"),
            replace=True,
        ),
        Field(
            "tls",
            "Connect with TLS (docker over tcp:// and agent only). A change replaces.",
            type="bool",
            default=False,
            replace=True,
        ),
        Field(
            "tls_skip_verify",
            "With tls: do not verify the server's certificate (then no tls_ca_cert). A change replaces.",
            type="bool",
            default=False,
            replace=True,
        ),
        Field(
            "tls_skip_client_verify",
            "With tls: present no client certificate (then no tls_cert/tls_key). A change replaces.",
            type="bool",
            default=False,
            replace=True,
        ),
        Field(
            "tls_ca_cert",
            "With tls and without tls_skip_verify: the CA certificate, PEM text or a path read "
            "by the program (write-only; a change replaces).",
            write_only=True,
            replace=True,
            normalize=_pem("certificate", lambda label: label == "CERTIFICATE"),
        ),
        Field(
            "tls_cert",
            "With tls and without tls_skip_client_verify: the client certificate, PEM text or a "
            "path read by the program (write-only; a change replaces).",
            write_only=True,
            replace=True,
            normalize=_pem("certificate", lambda label: label == "CERTIFICATE"),
        ),
        Field(
            "tls_key",
            "With tls_cert: the client private key, PEM text or a path read by the program "
            "(secret, write-only; a change replaces).",
            secret=True,
            write_only=True,
            replace=True,
            normalize=_pem("private key", lambda label: label.endswith("PRIVATE KEY") and "ENCRYPTED" not in label),
        ),
        Field(
            "azure_application_id",
            "Azure: the application (client) id (write-only: Portainer hides it).",
            write_only=True,
        ),
        Field("azure_tenant_id", "Azure: the tenant id (write-only: Portainer hides it).", write_only=True),
        Field(
            "azure_authentication_key", "Azure: the client secret (secret, write-only).", secret=True, write_only=True
        ),
        Field(
            "edge_checkin_interval",
            "Edge: seconds between agent check-ins (0 or absent: Portainer's default).",
            type="int",
            normalize=_not_negative,
        ),
        Field("status", "`up` or `down` (an Edge environment is up once its agent has checked in).", computed=True),
        Field("edge_key", "Edge: the key to start the Edge agent with (secret).", computed=True, secret=True),
        Field("edge_id", "Edge: the Edge id, empty unless the server enforces Edge ids.", computed=True),
    ),
)


def _host(url: str) -> str:
    try:
        parsed = urlsplit(url)
        return (parsed.hostname or "") if parsed.netloc else ""
    except ValueError:
        return ""


def _known(value: Any) -> bool:
    return value is not None and not is_unknown(value)


def _check_url(type_: str, url: Any, fail: Fail) -> None:
    if not _known(url):
        if type_ in ("agent", "edge") and url is None:
            example = "tcp://10.0.0.5:9001" if type_ == "agent" else "https://portainer.example.com:9443"
            fail("url", f"url is required for type '{type_}', e.g. {example}")
        return
    text = str(url)
    try:
        parsed = urlsplit(text)
        port = parsed.port
    except ValueError as exc:
        fail("url", f"url {text!r} is not a valid URL ({exc})")
        return
    scheme = parsed.scheme.lower()
    if type_ == "docker":
        if scheme == "tcp" and (not parsed.hostname or port is None):
            fail("url", f"url {text!r} must be tcp://<host>:<port> for a Docker API (e.g. tcp://10.0.0.5:2376)")
        elif scheme not in ("unix", "tcp", "npipe"):
            fail("url", f"url {text!r} must start with unix://, tcp:// or npipe:// for type 'docker'")
        elif scheme in ("unix", "npipe") and len(text) <= len(scheme) + 3:
            fail("url", f"url {text!r} must name the socket, e.g. unix:///var/run/docker.sock")
    elif type_ == "agent":
        if scheme != "tcp" or not parsed.hostname or port is None:
            fail("url", f"url {text!r} must be tcp://<host>:<port> for an agent (usually port 9001)")
    elif type_ == "edge":
        if scheme not in ("http", "https") or not parsed.hostname:
            fail("url", f"url {text!r} must be the http(s)://host[:port] address of Portainer that Edge agents call")
        elif parsed.hostname == "localhost":
            fail(
                "url",
                "url cannot use localhost for an Edge environment (Portainer refuses it): use a name or "
                "address the agent can reach",
            )
    elif type_ == "azure":
        fail("url", "url is not used by azure environments: leave it out")
    elif type_ == "kubernetes_local" and (scheme != "https" or not parsed.hostname):
        fail("url", f"url {text!r} must be https://<host>[:port] for type 'kubernetes_local'")


class EndpointProvider(PortainerProvider):
    spec = SPEC

    # -- check / diff

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        result = super().check(olds, news)
        inputs = result.inputs
        type_ = inputs.get("type")
        if not result.failures and isinstance(type_, str) and empty(inputs.get("url")) and type_ in DEFAULT_URLS:
            inputs["url"] = DEFAULT_URLS[type_]  # what Portainer stores: explicit, so refresh compares alike
        return result

    def validate(self, inputs: dict[str, Any], fail: Fail) -> None:
        type_ = inputs.get("type")
        if not isinstance(type_, str):
            return
        _check_url(type_, inputs.get("url"), fail)
        engine = inputs.get("container_engine")
        if engine == "podman" and type_ in ("azure", "kubernetes_local"):
            fail("container_engine", f"container_engine 'podman' does not apply to type '{type_}': leave it out")
        if type_ == "azure":
            if _known(inputs.get("public_url")):
                fail("public_url", "public_url is not used by azure environments: leave it out")
            for name in AZURE_FIELDS:
                if inputs.get(name) is None:
                    fail(name, f"{name} is required for type 'azure'")
        else:
            for name in AZURE_FIELDS:
                if _known(inputs.get(name)):
                    fail(name, f"{name} applies only to type 'azure': leave it out")
        if type_ != "edge" and _known(inputs.get("edge_checkin_interval")):
            fail("edge_checkin_interval", "edge_checkin_interval applies only to type 'edge': leave it out")
        self._validate_tls(type_, inputs, fail)

    @staticmethod
    def _validate_tls(type_: str, inputs: dict[str, Any], fail: Fail) -> None:
        tls = inputs.get("tls")
        if not _known(tls):
            return
        if not tls:
            for name in TLS_FIELDS:
                value = inputs.get(name)
                if _known(value) and value is not False:
                    fail(name, f"{name} needs tls=True: set tls=True or leave {name} out")
            return
        url = inputs.get("url")
        if type_ not in ("docker", "agent"):
            fail("tls", f"tls applies only to types 'docker' (tcp://) and 'agent', not '{type_}'")
        elif type_ == "docker" and not is_unknown(url) and not str(url or "").lower().startswith("tcp://"):
            fail("tls", "tls needs a tcp://host:port url (a unix socket has no TLS)")
        skip_verify, skip_client = inputs.get("tls_skip_verify"), inputs.get("tls_skip_client_verify")
        if skip_verify is False and inputs.get("tls_ca_cert") is None:
            fail("tls_ca_cert", "tls_ca_cert is required with tls=True unless tls_skip_verify=True")
        if skip_verify is True and _known(inputs.get("tls_ca_cert")):
            fail("tls_ca_cert", "tls_ca_cert is not used with tls_skip_verify=True: leave one of them out")
        for name in ("tls_cert", "tls_key"):
            if skip_client is False and inputs.get(name) is None:
                fail(name, f"{name} is required with tls=True unless tls_skip_client_verify=True")
            if skip_client is True and _known(inputs.get(name)):
                fail(name, f"{name} is not used with tls_skip_client_verify=True: leave one of them out")

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        result = super().diff(id_, olds, news)
        replaces = list(result.replaces or [])
        changed = set(self._changed(olds, news))
        edge = olds.get("type") == "edge" or news.get("type") == "edge" or is_unknown(news.get("type"))
        if "url" in changed and edge and "url" not in replaces:
            replaces.append("url")  # Edge agents hold a key built on the URL: a new URL needs a new environment
        return DiffResult(changes=result.changes, replaces=replaces, delete_before_replace=True)

    # -- hooks

    def find(self, ctx: Ctx, inputs: dict[str, Any]) -> Optional[dict[str, Any]]:
        return _by_name(ctx.client, str(inputs["name"]))

    def create_object(self, ctx: Ctx, inputs: dict[str, Any]) -> dict[str, Any]:
        _register(inputs)
        if inputs.get("container_engine") == "podman" and not _compat.endpoint_container_engine(ctx.info):
            raise PortainerError(
                f"container_engine 'podman' needs Portainer 2.22 or later (this server is {ctx.info.version})"
            )
        _check_references(ctx, inputs.get("group_id"), inputs.get("tag_ids"))
        fields = _form(inputs)
        try:
            obj = ctx.client.post("/endpoints", multipart=lambda: fields, deploy=True, deadline=ctx.deadline)
        except APIError as exc:
            if exc.status != 500 or exc.message == EMPTY_BODY:
                raise  # ambiguous (gateway, panic): the generic flow confirms by lookup
            raise self._failed_create(ctx, inputs, exc) from None
        return dict(obj)

    def _failed_create(self, ctx: Ctx, inputs: dict[str, Any], exc: APIError) -> PortainerError:
        """Portainer allocates the id before contacting the target and links group and tags after writing
        the environment, so a failed create may leave a record behind: look it up by name, remove it."""
        note = ""
        leftover = _by_name(ctx.client, str(inputs["name"]))
        if leftover is not None:
            try:
                ctx.client.delete(f"/endpoints/{leftover['Id']}")
                note = f"; the partly created environment (id {leftover['Id']}) was removed"
            except PortainerError as cleanup:
                note = (
                    f"; the partly created environment (id {leftover['Id']}) could not be removed ({cleanup}): "
                    "delete it in Portainer"
                )
        if exc.message in UNREACHABLE:
            return PortainerError(f"cannot reach {_target(inputs)}: {exc}{note}")
        return PortainerError(f"{exc}{note}")

    def read_object(self, ctx: Ctx, id_: str) -> Optional[dict[str, Any]]:
        return get_or_none(ctx.client, f"/endpoints/{id_}", params={"excludeSnapshot": "true"})

    def live_inputs(self, ctx: Ctx, obj: dict[str, Any], state: Mapping[str, Any]) -> dict[str, Any]:
        type_ = STORED_TYPES.get(int(obj.get("Type") or 1), "docker")
        tls = obj.get("TLSConfig") or {}
        tls_on = bool(tls.get("TLS"))
        return {
            "name": obj.get("Name"),
            "type": type_,
            "url": _live_url(type_, str(obj.get("URL") or ""), state.get("url")),
            "public_url": obj.get("PublicURL") or None,
            "group_id": int(obj.get("GroupId") or 1),
            "tag_ids": sorted(int(t) for t in obj.get("TagIds") or []) or None,
            "container_engine": obj.get("ContainerEngine") or "docker",
            "tls": tls_on,
            "tls_skip_verify": tls_on and bool(tls.get("TLSSkipVerify")),
            "tls_skip_client_verify": tls_on and not tls.get("TLSCert"),
            "edge_checkin_interval": int(obj.get("EdgeCheckinInterval") or 0) or None,
        }

    def computed(self, ctx: Ctx, obj: dict[str, Any], inputs: Mapping[str, Any]) -> dict[str, Any]:
        _register(inputs)
        edge_key = str(obj.get("EdgeKey") or "")
        register_secret(edge_key)
        return {"status": _status(obj), "edge_key": edge_key or None, "edge_id": str(obj.get("EdgeID") or "")}

    def update_object(
        self, ctx: Ctx, id_: str, olds: Mapping[str, Any], news: dict[str, Any], changed: set[str]
    ) -> dict[str, Any]:
        _register(news)
        type_ = news.get("type") or "docker"
        if "url" in changed and _same_url(type_, str(news.get("url") or ""), str(olds.get("url") or "")):
            changed = changed - {"url"}  # adopt compares with Portainer's stored form
        fixed = sorted(changed & set(FIXED) | ({"url"} & changed if type_ == "edge" else set()))
        if fixed:  # only reachable through adopt: diff replaces these
            raise PortainerError(
                f"the existing environment differs in {', '.join(fixed)}, which Portainer cannot change in place; "
                "adopt an environment that matches, or delete it in Portainer first"
            )
        payload: dict[str, Any] = {}
        if "name" in changed:
            payload["Name"] = news["name"]
        if "url" in changed:
            payload["URL"] = news.get("url") or DEFAULT_URLS.get(type_, "")
        if "public_url" in changed:
            payload["PublicURL"] = news.get("public_url") or ""
        if "group_id" in changed:
            payload["GroupID"] = int(news.get("group_id") or 1)
        if "tag_ids" in changed:
            payload["TagIDs"] = list(news.get("tag_ids") or [])
        if "edge_checkin_interval" in changed:
            payload["EdgeCheckinInterval"] = int(news.get("edge_checkin_interval") or 0)
        if changed & set(AZURE_FIELDS):
            payload.update(
                AzureApplicationID=news.get("azure_application_id") or "",
                AzureTenantID=news.get("azure_tenant_id") or "",
                AzureAuthenticationKey=news.get("azure_authentication_key") or "",
            )
        # TLS files cannot be uploaded through PUT; changes to them replace (adopt leaves Portainer's files)
        if not payload:
            return self.read_object(ctx, id_) or {"Id": int(id_)}
        _check_references(
            ctx,
            payload.get("GroupID"),
            payload.get("TagIDs"),
        )
        return dict(ctx.client.put(f"/endpoints/{id_}", json=payload))

    def delete_object(self, ctx: Ctx, id_: str, state: Mapping[str, Any]) -> None:
        eid = int(id_)
        stacks = [s for s in ctx.client.get("/stacks") or [] if _int(s.get("EndpointId")) == eid]
        hooks = [w for w in ctx.client.get("/webhooks") or [] if _int(w.get("EndpointId")) == eid]
        if (stacks or hooks) and self.read_object(ctx, id_) is not None:
            parts = []
            if stacks:
                parts.append("stacks " + ", ".join(f"{s.get('Name')} (id {s.get('Id')})" for s in stacks))
            if hooks:
                parts.append(
                    "service webhooks " + ", ".join(f"{w.get('Id')} (service {w.get('ResourceId')})" for w in hooks)
                )
            raise PortainerError(
                f"Portainer still lists {' and '.join(parts)} on this environment; delete them first (Portainer "
                "would leave them orphaned)"
            )
        if stacks or hooks:
            return  # the environment itself is already gone
        ctx.client.delete(f"/endpoints/{id_}")


# ---------------------------------------------------------------- helpers


def _int(value: Any) -> int:
    try:
        return as_int(value)
    except ValueError:
        return 0


def _status(obj: Mapping[str, Any]) -> str:
    """Edge environments are stored as up from the start: they are up once their agent has checked in."""
    if STORED_TYPES.get(int(obj.get("Type") or 1)) == "edge":
        return "up" if obj.get("Heartbeat") else "down"
    return "up" if obj.get("Status") == 1 else "down"


def _register(values: Mapping[str, Any]) -> None:
    for name in ("tls_key", "azure_authentication_key"):
        value = values.get(name)
        if isinstance(value, str):
            register_secret(value, value.strip())


def _by_name(client: Client, name: str) -> Optional[dict[str, Any]]:
    """Names are unique and case-sensitive; filtered by the server where it can, always exactly here."""
    for endpoint in client.get("/endpoints", params={"name": name, "excludeSnapshots": "true"}) or []:
        if endpoint.get("Name") == name:
            return dict(endpoint)
    return None


def _target(inputs: Mapping[str, Any]) -> str:
    type_ = inputs.get("type") or "docker"
    if type_ == "azure":
        return f"Azure ({AZURE_URL}) with the given credentials"
    return str(inputs.get("url") or DEFAULT_URLS.get(type_, ""))


def _same_url(type_: str, declared: str, live: str) -> bool:
    """Whether Portainer's stored URL is what the declared one becomes there."""
    if type_ == "edge":  # Portainer keeps only the host of an Edge URL
        return bool(declared) and _host(declared) == live
    if declared.lower().startswith("tcp://") and declared[6:] == live:
        return True  # Kubernetes agents: Portainer strips tcp://
    return declared == live


def _live_url(type_: str, live: str, state_url: Any) -> Optional[str]:
    declared = state_url if isinstance(state_url, str) else ""
    if type_ == "azure":
        return None
    if declared and _same_url(type_, declared, live):
        return declared
    return live or None


def _check_references(ctx: Ctx, group_id: Any, tag_ids: Any) -> None:
    """Portainer writes the environment before it links group and tags (a 500 then leaves it behind)."""
    if group_id is not None and int(group_id) != 1:
        if get_or_none(ctx.client, f"/endpoint_groups/{int(group_id)}") is None:
            raise PortainerError(
                f"group_id {group_id}: Portainer has no environment group with that id; create the group first, "
                "or use 1 (Unassigned)"
            )
    if tag_ids:
        known = {_int(tag.get("ID", tag.get("Id"))) for tag in ctx.client.get("/tags") or []}
        missing = [t for t in tag_ids if int(t) not in known]
        if missing:
            raise PortainerError(
                f"tag_ids: Portainer has no tag with id {', '.join(str(t) for t in missing)}; create the tags first"
            )


def _form(inputs: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """The multipart fields of ``POST /api/endpoints`` (names case-sensitive, booleans ``true``/``false``)."""
    type_ = inputs.get("type") or "docker"
    fields: list[tuple[str, Any]] = [
        ("Name", str(inputs["name"])),
        ("EndpointCreationType", str(CREATION_TYPES[type_])),
        # always sent: since 2.33.1 an Edge environment without it becomes an Edge Kubernetes one
        ("ContainerEngine", str(inputs.get("container_engine") or "docker")),
    ]
    if type_ != "azure":
        if inputs.get("url"):
            fields.append(("URL", str(inputs["url"])))
        if inputs.get("public_url"):
            fields.append(("PublicURL", str(inputs["public_url"])))
    fields.append(("GroupID", str(int(inputs.get("group_id") or 1))))
    if inputs.get("tag_ids"):
        fields.append(("TagIds", json.dumps([int(t) for t in inputs["tag_ids"]], separators=(",", ":"))))
    if inputs.get("tls"):
        fields += [
            ("TLS", "true"),
            ("TLSSkipVerify", "true" if inputs.get("tls_skip_verify") else "false"),
            ("TLSSkipClientVerify", "true" if inputs.get("tls_skip_client_verify") else "false"),
        ]
        for name, form, filename in (*TLS_FILES, ("tls_key", "TLSKeyFile", "key.pem")):
            if inputs.get(name):
                fields.append((form, (filename, str(inputs[name]).encode(), PEM_TYPE)))
    if type_ == "azure":
        fields += [
            ("AzureApplicationID", str(inputs.get("azure_application_id") or "")),
            ("AzureTenantID", str(inputs.get("azure_tenant_id") or "")),
            ("AzureAuthenticationKey", str(inputs.get("azure_authentication_key") or "")),
        ]
    if type_ == "edge" and inputs.get("edge_checkin_interval"):
        fields.append(("EdgeCheckinInterval", str(int(inputs["edge_checkin_interval"]))))
    return fields


def _read_pem(value: Any) -> Any:
    """PEM text as is; anything else is a path, read now (a missing file is left for check to name)."""
    if not isinstance(value, str) or value.lstrip().startswith("-----BEGIN"):
        return value
    content = read_local(value)
    return value if content is None else content


# ---------------------------------------------------------------- the resource


@dataclasses.dataclass
class EndpointArgs:
    """Arguments of a Portainer environment (endpoint)."""

    name: pulumi.Input[str]
    type: Optional[pulumi.Input[str]] = None
    url: Optional[pulumi.Input[str]] = None
    public_url: Optional[pulumi.Input[str]] = None
    group_id: Optional[pulumi.Input[int]] = None
    tag_ids: Optional[pulumi.Input[list[pulumi.Input[int]]]] = None
    container_engine: Optional[pulumi.Input[str]] = None
    tls: Optional[pulumi.Input[bool]] = None
    tls_skip_verify: Optional[pulumi.Input[bool]] = None
    tls_skip_client_verify: Optional[pulumi.Input[bool]] = None
    tls_ca_cert: Optional[pulumi.Input[str]] = None
    tls_cert: Optional[pulumi.Input[str]] = None
    tls_key: Optional[pulumi.Input[str]] = None
    azure_application_id: Optional[pulumi.Input[str]] = None
    azure_tenant_id: Optional[pulumi.Input[str]] = None
    azure_authentication_key: Optional[pulumi.Input[str]] = None
    edge_checkin_interval: Optional[pulumi.Input[int]] = None


document(EndpointArgs, SPEC)


class Endpoint(PortainerResource, module="portainer", name="Endpoint"):
    """A Portainer environment (endpoint). Docker, agent, Azure and local Kubernetes environments are
    contacted by Portainer at creation ("cannot reach <url>" when they are down; nothing is left behind);
    Edge environments are created offline and output a secret ``edge_key``. Deletion is refused while
    Portainer still lists stacks or service webhooks on the environment."""

    name: pulumi.Output[str]
    type: pulumi.Output[str]
    url: pulumi.Output[Optional[str]]
    public_url: pulumi.Output[Optional[str]]
    group_id: pulumi.Output[int]
    tag_ids: pulumi.Output[Optional[list[int]]]
    container_engine: pulumi.Output[str]
    tls: pulumi.Output[bool]
    tls_skip_verify: pulumi.Output[bool]
    tls_skip_client_verify: pulumi.Output[bool]
    tls_ca_cert: pulumi.Output[Optional[str]]
    tls_cert: pulumi.Output[Optional[str]]
    tls_key: pulumi.Output[Optional[str]]
    azure_application_id: pulumi.Output[Optional[str]]
    azure_tenant_id: pulumi.Output[Optional[str]]
    azure_authentication_key: pulumi.Output[Optional[str]]
    edge_checkin_interval: pulumi.Output[Optional[int]]
    status: pulumi.Output[str]
    edge_key: pulumi.Output[Optional[str]]
    edge_id: pulumi.Output[str]
    endpoint_id: pulumi.Output[int]
    portainer_url: pulumi.Output[str]
    portainer_instance_id: pulumi.Output[str]
    _provider_class = EndpointProvider
    _args_class = EndpointArgs

    def __init__(
        self,
        resource_name: str,
        args: Optional[EndpointArgs] = None,
        opts: Optional[pulumi.ResourceOptions] = None,
        *,
        name: Optional[pulumi.Input[str]] = None,
        type: Optional[pulumi.Input[str]] = None,  # noqa: A002 - Pulumi's generated SDKs name it so
        url: Optional[pulumi.Input[str]] = None,
        public_url: Optional[pulumi.Input[str]] = None,
        group_id: Optional[pulumi.Input[int]] = None,
        tag_ids: Optional[pulumi.Input[list[pulumi.Input[int]]]] = None,
        container_engine: Optional[pulumi.Input[str]] = None,
        tls: Optional[pulumi.Input[bool]] = None,
        tls_skip_verify: Optional[pulumi.Input[bool]] = None,
        tls_skip_client_verify: Optional[pulumi.Input[bool]] = None,
        tls_ca_cert: Optional[pulumi.Input[str]] = None,
        tls_cert: Optional[pulumi.Input[str]] = None,
        tls_key: Optional[pulumi.Input[str]] = None,
        azure_application_id: Optional[pulumi.Input[str]] = None,
        azure_tenant_id: Optional[pulumi.Input[str]] = None,
        azure_authentication_key: Optional[pulumi.Input[str]] = None,
        edge_checkin_interval: Optional[pulumi.Input[int]] = None,
        connection: Optional[ConnectionArgs] = None,
        adopt: bool = False,
    ) -> None:
        """Create an environment: ``Endpoint(name, EndpointArgs(...))`` or ``Endpoint(name, name=..., ...)``;
        see ``EndpointArgs`` for each argument, ``connection`` and ``adopt`` as in every resource."""
        super().__init__(
            resource_name,
            args,
            opts,
            connection=connection,
            adopt=adopt,
            name=name,
            type=type,
            url=url,
            public_url=public_url,
            group_id=group_id,
            tag_ids=tag_ids,
            container_engine=container_engine,
            tls=tls,
            tls_skip_verify=tls_skip_verify,
            tls_skip_client_verify=tls_skip_client_verify,
            tls_ca_cert=tls_ca_cert,
            tls_cert=tls_cert,
            tls_key=tls_key,
            azure_application_id=azure_application_id,
            azure_tenant_id=azure_tenant_id,
            azure_authentication_key=azure_authentication_key,
            edge_checkin_interval=edge_checkin_interval,
        )

    def _prepare(self, values: dict[str, Any]) -> dict[str, Any]:
        """TLS material given as a path is read here, in the program process, relative to its working
        directory: the provider never opens user paths, and state holds the content."""
        for name in ("tls_ca_cert", "tls_cert", "tls_key"):
            value = values.get(name)
            if isinstance(value, str):
                values[name] = _read_pem(value)
            elif value is not None:
                values[name] = pulumi.Output.from_input(value).apply(_read_pem)
        return values


@dataclasses.dataclass(frozen=True)
class GetEndpointResult:
    """A Portainer environment found by ``get_endpoint``."""

    id: str
    endpoint_id: int
    name: str
    type: str
    url: str
    public_url: str
    group_id: int
    tag_ids: list[int]
    container_engine: str
    status: str
    edge_id: str


def get_endpoint(name: str, connection: Optional[ConnectionArgs] = None) -> GetEndpointResult:
    """Find a Portainer environment by its exact name, now; raises when there is none."""
    client, _info = program_client(connection)
    found = _by_name(client, str(name))
    if found is None:
        raise LookupError(f"get_endpoint: no Portainer environment named {name!r} at {client.conn.url}")
    type_ = STORED_TYPES.get(int(found.get("Type") or 1), "docker")
    return GetEndpointResult(
        id=str(found["Id"]),
        endpoint_id=int(found["Id"]),
        name=str(found["Name"]),
        type=type_,
        url=str(found.get("URL") or ""),
        public_url=str(found.get("PublicURL") or ""),
        group_id=int(found.get("GroupId") or 1),
        tag_ids=sorted(int(t) for t in found.get("TagIds") or []),
        container_engine=str(found.get("ContainerEngine") or "docker"),
        status=_status(found),
        edge_id=str(found.get("EdgeID") or ""),
    )


def get_endpoint_output(
    name: pulumi.Input[str], connection: Optional[ConnectionArgs] = None
) -> pulumi.Output[GetEndpointResult]:
    """``get_endpoint`` once ``name`` is known; no request while it is unknown in a preview."""
    return pulumi.Output.from_input(name).apply(lambda value: get_endpoint(value, connection))
