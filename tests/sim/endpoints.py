"""Create, update and delete of environments (endpoints), environment groups and tags (reference §9).

The read routes and the store (``sim.endpoints``, ``sim.engines``) live in ``tests/sim/docker.py``; this
module adds what changes them. What a create may contact is modelled so that nothing outside the machine
is ever needed:

* a Docker URL (creation types 1 and >= 6) is reachable when an existing environment with a reachable
  engine has the same URL (the new environment then shares that engine, as two environments on one
  daemon do) or when it is listed in ``sim.reachable_urls`` (a new standalone engine);
* an agent URL is reachable when it is a key of ``sim.agents`` (value: ``"docker"`` or ``"kubernetes"``);
* Azure accepts the (application id, tenant id, key) triples in ``sim.azure_accounts``;
* local Kubernetes is reachable when its URL is in ``sim.reachable_urls``;
* an Edge environment is created offline.

Like Portainer, the id is allocated before the target is contacted (a failed create burns it), and a
group or tag that does not exist fails with a 500 *after* the environment has been written.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
import uuid
from typing import Any, Optional
from urllib.parse import urlsplit

from .docker import NO_ENDPOINT, Engine, endpoint_of
from .server import INVALID, PortainerSim, Result, SimError, SimRequest, field, parse_id

M = re.Match[str]
NOT_FOUND = "Object not found inside the database"
NO_GROUP = "Unable to find an environment group with the specified identifier inside the database"
NO_TAG = "Unable to find a tag with the specified identifier inside the database"
UNREACHABLE = "Unable to initiate communications with environment"
TYPE_VALUES = (
    "invalid environment type value. Value must be one of: 1 (Docker environment), 2 (Agent environment), "
    "3 (Azure environment), 4 (Edge Agent environment) or 5 (Local Kubernetes environment)"
)
DOCKER_SOCKET = "unix:///var/run/docker.sock"
KUBERNETES_URL = "https://kubernetes.default.svc"
AZURE_URL = "https://management.azure.com"
TUNNEL_PORT = "8000"


# ---------------------------------------------------------------- multipart/form-data (Go's r.FormValue)


def parse_multipart(req: SimRequest) -> tuple[dict[str, str], dict[str, tuple[str, bytes]]]:
    """(values, files) of a multipart body: the first value per name, like ``r.FormValue``; parts with a
    filename are files (``r.FormFile``) and never values."""
    values: dict[str, str] = {}
    files: dict[str, tuple[str, bytes]] = {}
    match = re.search(r'boundary="?([^";]+)"?', req.header("content-type"))
    if not req.header("content-type").startswith("multipart/form-data") or not match:
        return values, files
    delimiter = b"--" + match.group(1).encode()
    for chunk in req.body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, content = chunk[2:].partition(b"\r\n\r\n")
        content = content[:-2] if content.endswith(b"\r\n") else content
        disposition = next(
            (line for line in head.decode().split("\r\n") if line.lower().startswith("content-disposition:")), ""
        )
        name = re.search(r'\bname="([^"]*)"', disposition)
        filename = re.search(r'\bfilename="([^"]*)"', disposition)
        if name is None:
            continue
        if filename is not None:
            files.setdefault(name.group(1), (filename.group(1), content))
        else:
            values.setdefault(name.group(1), content.decode())
    return values, files


def _atoi(text: str) -> int:
    if not re.fullmatch(r"[+-]?\d+", text):
        raise ValueError(text)
    return int(text)


def _numeric(values: dict[str, str], name: str) -> int:
    """RetrieveNumericMultiPartFormValue(optional): empty -> 0, not a number -> error (ignored by callers)."""
    raw = values.get(name, "")
    try:
        return _atoi(raw) if raw else 0
    except ValueError:
        return 0


def _invalid(details: str) -> SimError:
    return SimError(400, INVALID, details)


# ---------------------------------------------------------------- groups and tags


def _groups(sim: PortainerSim) -> dict[int, dict[str, Any]]:
    return sim.endpoint_groups  # type: ignore[attr-defined,no-any-return]


def _tags(sim: PortainerSim) -> dict[int, dict[str, Any]]:
    return sim.tags  # type: ignore[attr-defined,no-any-return]


def add_group(sim: PortainerSim, name: str, description: str = "") -> dict[str, Any]:
    """An environment group (``Id``; group 1 "Unassigned" always exists)."""
    with sim.lock:
        gid = sim.next_id("endpoint_groups")
        group = {
            "Id": gid,
            "Name": name,
            "Description": description,
            "TagIds": [],
            "UserAccessPolicies": {},
            "TeamAccessPolicies": {},
        }
        _groups(sim)[gid] = group
        return group


def add_tag(sim: PortainerSim, name: str) -> dict[str, Any]:
    """A tag. Portainer's Tag JSON says ``ID`` (no json struct tag), unlike every other object's ``Id``."""
    with sim.lock:
        tid = sim.next_id("tags")
        tag = {"ID": tid, "Name": name, "Endpoints": {}, "EndpointGroups": {}}
        _tags(sim)[tid] = tag
        return tag


def _group_list(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    sim.authenticate(req)
    return 200, [_groups(sim)[k] for k in sorted(_groups(sim))], None


def _group_inspect(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    sim.authenticate(req)
    group = _groups(sim).get(parse_id(m, "environment group"))
    if group is None:
        raise SimError(404, NO_GROUP, NOT_FOUND)
    return 200, group, None


def _group_create(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    sim.authenticate(req, admin=True)
    payload = req.payload()
    name = field(payload, "name", str, "")
    if not name:
        raise _invalid("Invalid environment group name")
    group = add_group(sim, name, field(payload, "description", str, ""))
    group["TagIds"] = list(field(payload, "tagids", list, []))
    return 200, group, None


def _group_delete(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    sim.authenticate(req, admin=True)
    gid = parse_id(m, "environment group")
    if gid == 1:
        raise SimError(403, "Unable to remove the default 'Unassigned' group", "Cannot remove the default group")
    if _groups(sim).pop(gid, None) is None:
        raise SimError(404, NO_GROUP, NOT_FOUND)
    for endpoint in sim.endpoints.values():  # their environments go back to Unassigned
        if endpoint["GroupId"] == gid:
            endpoint["GroupId"] = 1
    return 204, None, None


def _tag_list(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    sim.authenticate(req)
    return 200, [_tags(sim)[k] for k in sorted(_tags(sim))], None


def _tag_create(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    sim.authenticate(req, admin=True)
    name = field(req.payload(), "name", str, "")
    if not name:
        raise _invalid("Invalid tag name")
    if any(t["Name"] == name for t in _tags(sim).values()):
        raise SimError(409, "This name is already associated to a tag")
    return 200, add_tag(sim, name), None


def _tag_delete(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    sim.authenticate(req, admin=True)
    tid = parse_id(m, "tag")
    if _tags(sim).pop(tid, None) is None:
        raise SimError(404, NO_TAG, NOT_FOUND)
    for endpoint in sim.endpoints.values():
        if tid in endpoint["TagIds"]:
            endpoint["TagIds"] = [t for t in endpoint["TagIds"] if t != tid]
    return 204, None, None


# ---------------------------------------------------------------- POST /api/endpoints


def _validate(sim: PortainerSim, values: dict[str, str], files: dict[str, tuple[str, bytes]]) -> dict[str, Any]:
    """endpointCreatePayload.Validate, in Portainer's order."""
    p: dict[str, Any] = {}
    p["name"] = values.get("Name", "")
    if not p["name"]:
        raise _invalid("invalid environment name")
    try:
        p["type"] = _atoi(values.get("EndpointCreationType", ""))
    except ValueError:
        p["type"] = 0
    if p["type"] == 0:
        raise _invalid(TYPE_VALUES)
    p["engine"] = values.get("ContainerEngine", "") if sim.ge("2.22") else ""
    if p["engine"] not in ("", "docker", "podman"):
        raise _invalid("invalid container engine value. Value must be one of: 'docker' or 'podman'")
    p["group"] = _numeric(values, "GroupID") or 1
    raw_tags = values.get("TagIds", "")
    try:
        tags = json.loads(raw_tags) if raw_tags else []
        if tags is None:
            tags = []
        if not isinstance(tags, list) or not all(isinstance(t, int) and not isinstance(t, bool) for t in tags):
            raise ValueError(raw_tags)
    except ValueError:
        raise _invalid("invalid TagIds parameter") from None
    p["tags"] = tags
    p["tls"] = values.get("TLS") == "true"
    p["skip_verify"] = p["tls"] and values.get("TLSSkipVerify") == "true"
    p["skip_client"] = p["tls"] and values.get("TLSSkipClientVerify") == "true"
    p["files"] = {}
    if p["tls"]:
        if not p["skip_verify"]:
            if "TLSCACertFile" not in files:
                raise _invalid("invalid CA certificate file. Ensure that the file is uploaded correctly")
            p["files"]["ca"] = files["TLSCACertFile"][1]
        if not p["skip_client"]:
            if "TLSCertFile" not in files:
                raise _invalid("invalid certificate file. Ensure that the file is uploaded correctly")
            if "TLSKeyFile" not in files:
                raise _invalid("invalid key file. Ensure that the file is uploaded correctly")
            p["files"]["cert"] = files["TLSCertFile"][1]
            p["files"]["key"] = files["TLSKeyFile"][1]
    p["url"] = p["public_url"] = ""
    if p["type"] == 3:
        for key, message in (
            ("AzureApplicationID", "invalid Azure application ID"),
            ("AzureTenantID", "invalid Azure tenant ID"),
            ("AzureAuthenticationKey", "invalid Azure authentication key"),
        ):
            if not values.get(key):
                raise _invalid(message)
        p["azure"] = (values["AzureApplicationID"], values["AzureTenantID"], values["AzureAuthenticationKey"])
    else:
        p["url"] = values.get("URL", "")
        p["public_url"] = values.get("PublicURL", "")
        if p["type"] == 4 and not p["url"]:
            raise _invalid("URL cannot be empty")
    p["checkin"] = _numeric(values, "EdgeCheckinInterval") or _numeric(values, "CheckinInterval")
    return p


def _base_endpoint(sim: PortainerSim, eid: int, p: dict[str, Any], type_: int, url: str) -> dict[str, Any]:
    endpoint: dict[str, Any] = {
        "Id": eid,
        "Name": p["name"],
        "Type": type_,
        "URL": url,
        "GroupId": p["group"],
        "PublicURL": p["public_url"],
        "Gpus": [],
        "TLSConfig": {"TLS": False, "TLSSkipVerify": False},
        "AzureCredentials": {"ApplicationID": "", "TenantID": "", "AuthenticationKey": ""},
        "TagIds": list(p["tags"]),
        "Status": 1,
        "Snapshots": [],
        "UserAccessPolicies": {},
        "TeamAccessPolicies": {},
        "EdgeKey": "",
        "EdgeCheckinInterval": p["checkin"],
        "Heartbeat": False,
    }
    if sim.ge("2.22"):
        endpoint["ContainerEngine"] = p["engine"]
    if p["tls"]:
        tls: dict[str, Any] = {"TLS": True, "TLSSkipVerify": p["skip_verify"]}
        for kind, key in (("ca", "TLSCACert"), ("cert", "TLSCert"), ("key", "TLSKey")):
            if kind in p["files"]:
                tls[key] = f"/data/tls/{eid}/{kind}.pem"
        endpoint["TLSConfig"] = tls
    return endpoint


def _docker_engine(sim: PortainerSim, url: str) -> Optional[Engine]:
    for other_id, other in sim.endpoints.items():
        engine = sim.engines.get(other_id)
        if other["URL"] == url and engine is not None and engine.reachable:
            return engine  # type: ignore[no-any-return]
    if url in sim.reachable_urls:  # type: ignore[attr-defined]
        return Engine()
    return None


def _unreachable_details(url: str) -> str:
    if url.startswith("unix://"):
        return f"Cannot connect to the Docker daemon at {url}. Is the docker daemon running?"
    host = urlsplit(url).netloc or url
    return f'error during connect: Get "http://{host}/v1.24/info": dial tcp {host}: connect: connection refused'


def _create_edge(sim: PortainerSim, eid: int, p: dict[str, Any]) -> dict[str, Any]:
    parsed = urlsplit(p["url"])
    host = parsed.hostname or ""
    if not parsed.netloc:
        host = ""
    if not host:
        raise SimError(400, "Unable to parse host", "hostname cannot be empty")
    if host == "localhost":
        raise SimError(400, "Unable to parse host", "cannot use localhost as environment URL")
    # 2.33.1+: an Edge environment without a container engine is an Edge Kubernetes one
    type_ = 7 if not p["engine"] and sim.ge("2.33.1") else 4
    endpoint = _base_endpoint(sim, eid, p, type_, host)
    fingerprint = ":".join(f"{b:02x}" for b in secrets.token_bytes(16))
    info = "|".join([p["url"], f"{host}:{TUNNEL_PORT}", fingerprint, str(eid)])
    endpoint["EdgeKey"] = base64.b64encode(info.encode()).decode().rstrip("=")
    endpoint["UserTrusted"] = True
    if sim.settings.get("EnforceEdgeID"):
        endpoint["EdgeID"] = str(uuid.uuid4())
    return endpoint


def _endpoint_create(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    sim.authenticate(req, admin=True)
    p = _validate(sim, *parse_multipart(req))
    if any(e["Name"] == p["name"] for e in sim.endpoints.values()):
        raise SimError(409, "Name is not unique")
    eid = sim.next_id("endpoints")  # allocated before the target is contacted: failures burn it
    engine: Optional[Engine] = None
    if p["type"] == 3:
        if p["azure"] not in sim.azure_accounts:  # type: ignore[attr-defined]
            raise SimError(
                500,
                "Unable to authenticate against Azure",
                "AADSTS7000215: Invalid client secret provided",
            )
        endpoint = _base_endpoint(sim, eid, p, 3, AZURE_URL)
        app, tenant, key = p["azure"]
        endpoint["AzureCredentials"] = {"ApplicationID": app, "TenantID": tenant, "AuthenticationKey": key}
        endpoint.pop("ContainerEngine", None)
    elif p["type"] == 4:
        endpoint = _create_edge(sim, eid, p)
    elif p["type"] == 5:
        url = p["url"] or KUBERNETES_URL
        if url not in sim.reachable_urls:  # type: ignore[attr-defined]
            raise SimError(500, UNREACHABLE, f'Get "{url}/version": dial tcp: lookup kubernetes: no such host')
        endpoint = _base_endpoint(sim, eid, p, 5, url)
        endpoint.pop("ContainerEngine", None)
    elif p["type"] == 2:
        url = p["url"]
        platform = sim.agents.get(url)  # type: ignore[attr-defined]
        if platform is None:
            host = url.removeprefix("tcp://")
            raise SimError(
                500,
                "Unable to get environment type",
                f'Get "https://{host}/ping": dial tcp {host}: connect: connection refused',
            )
        if platform == "kubernetes":
            endpoint = _base_endpoint(sim, eid, p, 6, url.removeprefix("tcp://"))
        else:
            endpoint = _base_endpoint(sim, eid, p, 2, url)
            engine = Engine()
    else:  # 1, and anything >= 6 falls through to plain Docker
        url = p["url"] or DOCKER_SOCKET
        engine = _docker_engine(sim, url)
        if engine is None:
            raise SimError(500, UNREACHABLE, _unreachable_details(url))
        endpoint = _base_endpoint(sim, eid, p, 1, url)
    # written, then the group and tags are linked: not transactional (reference §9)
    sim.endpoints[eid] = endpoint
    if engine is not None:
        sim.engines[eid] = engine
    if p["group"] not in _groups(sim):
        raise SimError(500, "Unable to find an environment group inside the database", NOT_FOUND)
    for tid in p["tags"]:
        tag = _tags(sim).get(tid)
        if tag is None:
            raise SimError(500, "Unable to associate the environment to the specified tag", NOT_FOUND)
        tag["Endpoints"][str(eid)] = True
    return 200, endpoint, None  # create responses are not sanitised


# ---------------------------------------------------------------- PUT / DELETE /api/endpoints/{id}


def _endpoint_update(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    sim.authenticate(req, admin=True)
    eid = parse_id(m, "environment")
    endpoint = endpoint_of(sim, eid)
    payload = req.payload()
    name = field(payload, "name", str)
    if name is not None and any(e["Name"] == name and i != eid for i, e in sim.endpoints.items()):
        raise SimError(409, "Name is not unique")
    tags = field(payload, "tagids", list)
    for tid in tags or []:
        if tid not in _tags(sim):
            raise SimError(500, "Unable to find a tag inside the database", NOT_FOUND)
    azure = None
    if endpoint["Type"] == 3:  # Azure environments re-authenticate on every update
        creds = endpoint["AzureCredentials"]
        azure = (
            field(payload, "azureapplicationid", str) or creds["ApplicationID"],
            field(payload, "azuretenantid", str) or creds["TenantID"],
            field(payload, "azureauthenticationkey", str) or creds["AuthenticationKey"],
        )
        if azure not in sim.azure_accounts:  # type: ignore[attr-defined]
            raise SimError(500, "Unable to authenticate against Azure", "AADSTS7000215: Invalid client secret provided")
    if name is not None:
        endpoint["Name"] = name
    for key, out in (("url", "URL"), ("publicurl", "PublicURL")):
        value = field(payload, key, str)
        if value is not None:
            endpoint[out] = value
    group = field(payload, "groupid", int)
    if group is not None:
        endpoint["GroupId"] = group
    if tags is not None:
        for tid in endpoint["TagIds"]:
            if tid in _tags(sim):
                _tags(sim)[tid]["Endpoints"].pop(str(eid), None)
        endpoint["TagIds"] = list(tags)
        for tid in tags:
            _tags(sim)[tid]["Endpoints"][str(eid)] = True
    interval = field(payload, "edgecheckininterval", int)
    if interval is not None:
        endpoint["EdgeCheckinInterval"] = interval
    status = field(payload, "status", int)
    if status in (1, 2):
        endpoint["Status"] = status
    if azure is not None:
        endpoint["AzureCredentials"] = dict(zip(("ApplicationID", "TenantID", "AuthenticationKey"), azure, strict=True))
    endpoint["LastUpdate"] = int(time.time())
    return 200, endpoint, None


def _endpoint_delete(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    sim.authenticate(req, admin=True)
    eid = parse_id(m, "environment")
    if eid not in sim.endpoints:
        raise SimError(404, NO_ENDPOINT, NOT_FOUND)
    endpoint = sim.endpoints.pop(eid)
    sim.engines.pop(eid, None)
    for tid in endpoint["TagIds"]:
        if tid in _tags(sim):
            _tags(sim)[tid]["Endpoints"].pop(str(eid), None)
    # stacks and webhooks on the environment are not deleted (reference §9)
    return 204, None, None


def register_endpoint_routes(sim: PortainerSim) -> None:
    """Environment create/update/delete, environment groups and tags."""
    sim.endpoint_groups = {}  # type: ignore[attr-defined]
    sim.tags = {}  # type: ignore[attr-defined]
    sim.reachable_urls = set()  # type: ignore[attr-defined]
    sim.agents = {}  # type: ignore[attr-defined]
    sim.azure_accounts = set()  # type: ignore[attr-defined]
    group = add_group(sim, "Unassigned", "Unassigned environments")
    assert group["Id"] == 1
    ep = r"/api/endpoints/(?P<id>[^/]+)"
    for method, regex, handler in (
        ("POST", r"/api/endpoints", _endpoint_create),
        ("PUT", ep, _endpoint_update),
        ("DELETE", ep, _endpoint_delete),
        ("GET", r"/api/endpoint_groups", _group_list),
        ("POST", r"/api/endpoint_groups", _group_create),
        ("GET", r"/api/endpoint_groups/(?P<id>[^/]+)", _group_inspect),
        ("DELETE", r"/api/endpoint_groups/(?P<id>[^/]+)", _group_delete),
        ("GET", r"/api/tags", _tag_list),
        ("POST", r"/api/tags", _tag_create),
        ("DELETE", r"/api/tags/(?P<id>[^/]+)", _tag_delete),
    ):
        sim.add_route(method, regex, handler)
