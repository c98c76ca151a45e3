"""Registries (reference §6): admin-only list/create/update/delete, inspect, the type rules of CE (1-7;
GitHub, 8, only when ``sim.edition`` is ``"BE"``), the 409 rules, what each answer hides or leaks per
version, and the missing-id bug of DELETE (2.29+: 200 with an empty body; 2.20-2.28: dropped connection;
2.19 and older: a proper 404)."""

from __future__ import annotations

import copy
import re
from typing import Any, Optional

from .server import DROP_CONNECTION, INVALID, PortainerSim, Result, SimError, SimRequest, field, parse_id

M = re.Match[str]
NOT_FOUND = "Unable to find a registry with the specified identifier inside the database"
CE_TYPES = (
    "invalid registry type. Valid values are: 1 (Quay.io), 2 (Azure container registry), 3 (custom registry), "
    "4 (Gitlab registry), 5 (ProGet registry), 6 (DockerHub), 7 (ECR)"
)
GITLAB, PROGET, ECR, GITHUB = 4, 5, 7, 8


def add_registry(sim: PortainerSim, name: str, url: str, type_: int = 3, **extra: Any) -> dict[str, Any]:
    """A registry created out of band (as the UI would)."""
    with sim.lock:
        rid = sim.next_id("registries")
        registry = {
            "Id": rid,
            "Type": type_,
            "Name": name,
            "URL": url,
            "BaseURL": "",
            "Authentication": False,
            "Username": "",
            "Password": "",
            "ManagementConfiguration": None,
            "Gitlab": {"ProjectId": 0, "InstanceURL": "", "ProjectPath": ""},
            "Github": {"UseOrganisation": False, "OrganisationName": ""},
            "Quay": {"OrganisationName": ""},
            "Ecr": {"Region": ""},
            "RegistryAccesses": {},
            "UserAccessPolicies": None,
            "TeamAccessPolicies": None,
            "AuthorizedUsers": None,
            "AuthorizedTeams": None,
        }
        registry.update(extra)
        sim.registries[rid] = registry
        return registry


def _view(sim: PortainerSim, registry: dict[str, Any], *, password: bool, management: bool, accesses: bool) -> Any:
    out = copy.deepcopy(registry)
    if not password or not out.get("Password"):
        out.pop("Password", None)
    if management:
        out["ManagementConfiguration"] = {
            "Type": registry["Type"],
            "Authentication": registry["Authentication"],
            "Username": registry["Username"],
            "Password": registry["Password"],
        }
    else:
        out["ManagementConfiguration"] = None
    if not accesses:
        out["RegistryAccesses"] = None
    return out


def _registry(sim: PortainerSim, rid: int) -> dict[str, Any]:
    registry = sim.registries.get(rid)
    if registry is None:
        raise SimError(404, NOT_FOUND, "Object not found inside the database")
    return registry


def _conflicts(sim: PortainerSim, candidate: dict[str, Any], own: Optional[int], check_url: bool) -> None:
    for other in sim.registries.values():
        if other["Id"] == own:
            continue
        if other["Name"] == candidate["Name"]:
            raise SimError(409, "Another registry with the same name already exists")
        if (
            check_url
            and other["URL"] == candidate["URL"]
            and other["Authentication"] == candidate["Authentication"]
            and (not candidate["Authentication"] or other["Username"] == candidate["Username"])
            and (candidate["Type"] != GITLAB or other["Gitlab"]["ProjectPath"] == candidate["Gitlab"]["ProjectPath"])
        ):
            raise SimError(409, "Another registry with the same URL and credentials already exists")


def _sub(p: dict[str, Any], name: str) -> dict[str, Any]:
    value = field(p, name, dict, {})
    return {k.lower(): v for k, v in value.items()}


def _create(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    sim.authenticate(req, admin=True)
    p = req.payload()
    name, url, type_ = field(p, "name", str, ""), field(p, "url", str, ""), field(p, "type", int, 0)
    auth, username, password = (
        field(p, "authentication", bool, False),
        field(p, "username", str, ""),
        field(p, "password", str, ""),
    )
    base_url = field(p, "baseurl", str, "")
    gitlab, quay, ecr, github = _sub(p, "gitlab"), _sub(p, "quay"), _sub(p, "ecr"), _sub(p, "github")
    if not name:
        raise SimError(400, INVALID, "invalid registry name")
    if not url:
        raise SimError(400, INVALID, "invalid registry URL")
    if auth and (not username or not password):
        raise SimError(
            400, INVALID, "invalid credentials. Username and password must be specified when authentication is enabled"
        )
    if type_ == ECR and auth and not ecr.get("region"):
        raise SimError(
            400,
            INVALID,
            "invalid credentials: access key ID, secret access key and region must be specified when "
            "authentication is enabled",
        )
    allowed = range(1, 9) if getattr(sim, "edition", "CE") == "BE" else range(1, 8)
    if type_ not in allowed:
        raise SimError(400, INVALID, CE_TYPES)
    if type_ == PROGET and not base_url:
        raise SimError(400, INVALID, "BaseURL is required for registry type 5 (ProGet)")
    candidate = {
        "Name": name,
        "URL": url,
        "Type": type_,
        "Authentication": auth,
        "Username": username if auth else "",
        "Gitlab": {
            "ProjectId": int(gitlab.get("projectid") or 0),
            "InstanceURL": str(gitlab.get("instanceurl") or ""),
            "ProjectPath": str(gitlab.get("projectpath") or ""),
        },
    }
    _conflicts(sim, candidate, None, True)
    registry = add_registry(
        sim,
        name,
        url,
        type_,
        BaseURL=base_url,
        Authentication=auth,
        Username=username if auth else "",
        Password=password if auth else "",
        Gitlab=candidate["Gitlab"],
        Github={
            "UseOrganisation": bool(github.get("useorganisation")),
            "OrganisationName": str(github.get("organisationname") or ""),
        },
        Quay=dict(
            {"OrganisationName": str(quay.get("organisationname") or "")},
            **({"UseOrganisation": True} if quay.get("useorganisation") else {}),
        ),
        Ecr={"Region": str(ecr.get("region") or "")},
    )
    return 200, _view(sim, registry, password=False, management=False, accesses=False), None


def _list(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    sim.authenticate(req, admin=True)
    leak = not sim.ge("2.27")  # up to 2.26 the list returned plaintext passwords to admins
    items = [_view(sim, r, password=leak, management=leak, accesses=True) for _, r in sorted(sim.registries.items())]
    return 200, items, None


def _inspect(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    user = sim.authenticate(req)
    rid = parse_id(m, "registry")
    admin = user["Role"] == 1
    if not admin:
        if req.arg("endpointId") is None:
            raise SimError(500, "Unable to retrieve info from request context", "Unable to find an endpoint ID")
        raise SimError(403, "Access denied to resource", "Access denied to resource")
    return 200, _view(sim, _registry(sim, rid), password=False, management=False, accesses=admin), None


def _update(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    sim.authenticate(req, admin=True)
    rid = parse_id(m, "registry")
    p = req.payload()
    registry = _registry(sim, rid)
    updated = copy.deepcopy(registry)
    if "name" in p:
        updated["Name"] = field(p, "name", str, "")
    if "url" in p:
        updated["URL"] = field(p, "url", str, "")
    if "baseurl" in p and registry["Type"] == PROGET:
        updated["BaseURL"] = field(p, "baseurl", str, "")
    if p.get("authentication") is not None:
        if field(p, "authentication", bool):
            updated["Authentication"] = True
            if p.get("username") is not None:
                updated["Username"] = field(p, "username", str, "")
            if field(p, "password", str, ""):
                updated["Password"] = p["password"]
            region = _sub(p, "ecr").get("region")
            if registry["Type"] == ECR and region:
                updated["Ecr"] = {"Region": str(region)}
        else:
            updated.update(Authentication=False, Username="", Password="", Ecr={"Region": ""})
    if p.get("quay") is not None:
        quay = _sub(p, "quay")
        updated["Quay"] = dict(
            {"OrganisationName": str(quay.get("organisationname") or "")},
            **({"UseOrganisation": True} if quay.get("useorganisation") else {}),
        )
    _conflicts(sim, updated, rid, "url" in p)
    registry.clear()
    registry.update(updated)
    leak = not sim.ge("2.33.2")  # sanitised by f4335e1e7, probably 2.33.2
    return 200, _view(sim, registry, password=leak, management=leak, accesses=True), None


def _delete(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    sim.authenticate(req, admin=True)
    rid = parse_id(m, "registry")
    if rid not in sim.registries:
        if sim.ge("2.29"):  # the panic is recovered and nothing is written
            return 200, b"", {}
        if sim.ge("2.20"):  # the panic kills the connection
            return DROP_CONNECTION, None, None
        raise SimError(404, NOT_FOUND, "object not found inside the database")
    del sim.registries[rid]
    return 204, None, None


def register_registry_routes(sim: PortainerSim) -> None:
    sim.registries = {}  # type: ignore[attr-defined]
    one = r"/api/registries/(?P<id>[^/]+)"
    for method, regex, handler in (
        ("GET", r"/api/registries", _list),
        ("POST", r"/api/registries", _create),
        ("GET", one, _inspect),
        ("PUT", one, _update),
        ("DELETE", one, _delete),
    ):
        sim.add_route(method, regex, handler)
