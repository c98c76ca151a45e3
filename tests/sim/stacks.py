"""Stacks (reference §5): create by version route, list/inspect/file, update, git settings and redeploy,
start/stop, delete, git-stack webhooks and interval auto-update.

Deploys are modelled on the endpoint's ``Engine``: a compose (standalone) stack is one container per
compose service labelled ``com.docker.compose.project=<name>`` plus a ``<name>_default`` network; a
swarm stack is one service per compose service named ``<name>_<service>`` and labelled
``com.docker.stack.namespace=<name>``, plus a network. A service whose image is ``fail`` fails the
deploy after the services before it were created (Portainer leaves those behind, §5.5).

Git repositories live in memory: ``sim.git_repos[url] = {ref: (commit sha, {path: content})}`` (the
first ref is the default branch) and ``sim.git_credentials[url] = (username, password)`` for private
ones. ``set_git_repo`` and ``tick_auto_updates`` are the test-facing helpers.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import json
import os
import re
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Optional
from urllib.parse import quote, urlsplit, urlunsplit

import yaml

from .docker import Engine, endpoint_of
from .server import INVALID, PortainerSim, Result, SimError, SimRequest, field, parse_id

M = re.Match[str]
SWARM, COMPOSE, KUBERNETES = 1, 2, 3
TYPES = {"swarm": SWARM, "standalone": COMPOSE, "kubernetes": KUBERNETES}
NO_STACK = "Unable to find a stack with the specified identifier inside the database"
NO_ENDPOINT = "Unable to find an environment with the specified identifier inside the database"
PROJECT = "com.docker.compose.project"
NAMESPACE = "com.docker.stack.namespace"
K8S_TYPES = (5, 6, 7)
_NORMALIZE = re.compile(r"[^-_a-z0-9]+")


# ---------------------------------------------------------------- test-facing helpers


def set_git_repo(
    sim: PortainerSim,
    url: str,
    files: dict[str, str],
    ref: str = "refs/heads/main",
    sha: Optional[str] = None,
    credentials: Optional[tuple[str, str]] = None,
) -> str:
    """Put (or move) ``ref`` of an in-memory repository at a new commit holding ``files``; returns the sha."""
    with sim.lock:
        sha = sha or hashlib.sha1(json.dumps([url, ref, files, time.time_ns()]).encode()).hexdigest()
        sim.git_repos.setdefault(url, {})[ref] = (sha, dict(files))
        if credentials:
            sim.git_credentials[url] = credentials
        return sha


def tick_auto_updates(sim: PortainerSim) -> list[int]:
    """Run every interval auto-update job once (what Portainer's scheduler does each interval): redeploy
    the git stacks whose remote commit changed. Returns the redeployed stack ids."""
    done = []
    with sim.lock:
        for stack in list(sim.stacks.values()):
            auto = stack.get("AutoUpdate") or {}
            live = stack["EndpointId"] in sim.endpoints and stack["Status"] == 1
            if auto.get("Interval") and live and _git_redeploy_if_changed(sim, stack):
                done.append(stack["Id"])
    return done


def stack_by_name(sim: PortainerSim, name: str) -> Optional[dict[str, Any]]:
    return next((s for s in sim.stacks.values() if s["Name"] == name), None)


def edit_stack(
    sim: PortainerSim, sid: int, content: Optional[str] = None, env: Optional[dict[str, str]] = None
) -> None:
    """What an edit in Portainer's UI does (PUT /stacks/{id}): new file and/or env, redeployed, UpdateDate set."""
    with sim.lock:
        stack = sim.stacks[sid]
        if content is not None:
            sim.stack_files[sid] = {stack["EntryPoint"]: content}
        if env is not None:
            stack["Env"] = [{"name": k, "value": v} for k, v in env.items()]
        _undeploy(sim, stack)
        _deploy(sim, stack)
        stack["Status"] = 1
        _touch(sim, stack)


# ---------------------------------------------------------------- helpers


def _normalize(name: str) -> str:
    return _NORMALIZE.sub("", name.lower())


def _touch(sim: PortainerSim, stack: dict[str, Any], user: Optional[dict[str, Any]] = None) -> None:
    # UpdateDate has one-second resolution in Portainer; keep it strictly increasing so tests can rely on it
    stack["UpdateDate"] = max(int(time.time()), int(stack.get("UpdateDate") or 0) + 1)
    stack["UpdatedBy"] = (user or {}).get("Username", sim.admin_username)


def _public(stack: dict[str, Any]) -> dict[str, Any]:
    out = json.loads(json.dumps(stack))
    auth = (out.get("GitConfig") or {}).get("Authentication")
    if auth:
        auth["Password"] = ""  # sanitised in every response
    return out


def _endpoint_id(req: SimRequest, required: bool = True) -> Optional[int]:
    raw = req.arg("endpointId")
    if raw is None or not re.fullmatch(r"\d+", raw):
        if not required and raw is None:
            return None
        raise SimError(400, "Invalid query parameter: endpointId", "Invalid query parameter: endpointId")
    return int(raw)


def _stack_of(sim: PortainerSim, m: M) -> dict[str, Any]:
    stack = sim.stacks.get(parse_id(m, "stack"))
    if stack is None:
        raise SimError(404, NO_STACK, "Object not found inside the database")
    return stack


def _env(value: Any) -> Optional[list[dict[str, str]]]:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(e, dict) for e in value):
        raise SimError(400, INVALID, "json: cannot unmarshal Env")
    return [{"name": str(e.get("name", "")), "value": str(e.get("value", ""))} for e in value]


def _compose_services(content: str) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(content)
    except yaml.YAMLError as exc:
        raise SimError(500, f"failed to deploy a stack: invalid compose file: {exc}") from None
    services = doc.get("services") if isinstance(doc, dict) else None
    if not isinstance(services, dict) or not services:
        raise SimError(500, "failed to deploy a stack: no service found in the compose file")
    return services


def _entry_content(sim: PortainerSim, stack: dict[str, Any]) -> str:
    files = sim.stack_files.get(stack["Id"], {})
    return files.get(stack["EntryPoint"], "")


def _deploy(sim: PortainerSim, stack: dict[str, Any], prune: bool = False) -> None:
    """compose up / docker stack deploy of the stored file on the stack's engine."""
    if stack["Type"] == KUBERNETES:
        return
    engine: Engine = sim.engines[stack["EndpointId"]]
    name = stack["Name"]
    services = _compose_services(_entry_content(sim, stack))
    if stack["Type"] == COMPOSE:
        labels = {PROJECT: name}
        if not any(n["Labels"].get(PROJECT) == name for n in engine.networks.values()):
            engine.add_network(f"{name}_default", labels)
        for key, spec in services.items():
            image = str((spec or {}).get("image", ""))
            if image == "fail":
                raise SimError(
                    500,
                    "failed to deploy a stack: compose up operation failed: Error response from daemon: pull "
                    "access denied for fail, repository does not exist or may require 'docker login'",
                )
            present = any(
                c["Labels"].get(PROJECT) == name and c["Labels"].get("com.docker.compose.service") == key
                for c in engine.containers.values()
            )
            if not present:
                engine.add_container(f"{name}-{key}-1", image, {**labels, "com.docker.compose.service": key})
        return
    labels = {NAMESPACE: name}
    if not any(n["Labels"].get(NAMESPACE) == name for n in engine.networks.values()):
        engine.add_network(f"{name}_default", labels)
    wanted = set()
    for key, spec in services.items():
        image = str((spec or {}).get("image", ""))
        if image == "fail":
            raise SimError(
                500,
                f"failed to deploy a stack: service {name}_{key}: image fail could not be accessed on a registry "
                "to record its digest",
            )
        wanted.add(f"{name}_{key}")
        existing = next((s for s in engine.services.values() if s["Spec"]["Name"] == f"{name}_{key}"), None)
        if existing is None:
            engine.add_service(f"{name}_{key}", image, dict(labels, **{"com.docker.stack.image": image}))
        elif existing["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"] != image:
            existing["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"] = image
            existing["Version"]["Index"] += 1
    if prune:
        for sid, service in list(engine.services.items()):
            if service["Spec"]["Labels"].get(NAMESPACE) == name and service["Spec"]["Name"] not in wanted:
                del engine.services[sid]


def _undeploy(sim: PortainerSim, stack: dict[str, Any]) -> None:
    """compose down / docker stack rm."""
    if stack["Type"] == KUBERNETES:
        return
    engine: Engine = sim.engines[stack["EndpointId"]]
    label = PROJECT if stack["Type"] == COMPOSE else NAMESPACE
    name = stack["Name"]
    for cid in [c for c, v in engine.containers.items() if v["Labels"].get(label) == name]:
        del engine.containers[cid]
    for sid in [s for s, v in engine.services.items() if v["Spec"]["Labels"].get(label) == name]:
        del engine.services[sid]
    for nid in [n for n, v in engine.networks.items() if v["Labels"].get(label) == name]:
        del engine.networks[nid]


def _running(sim: PortainerSim, stack: dict[str, Any]) -> bool:
    engine: Engine = sim.engines[stack["EndpointId"]]
    name = stack["Name"]
    return any(c["Labels"].get(PROJECT) == name for c in engine.containers.values()) or any(
        s["Spec"]["Labels"].get(NAMESPACE) == name for s in engine.services.values()
    )


def _fetch(url: str, ref: str, username: str, password: str) -> tuple[str, str, dict[str, str]]:
    """Clone a repository from a git server on loopback (the end-to-end harness's), as Portainer would."""
    parts = urlsplit(url)
    if parts.hostname not in ("127.0.0.1", "localhost"):
        raise SimError(500, "unable to clone git repository: repository not found")
    netloc = f"{quote(username, safe='')}:{quote(password, safe='')}@{parts.netloc}" if username else parts.netloc
    source = urlunsplit(parts._replace(netloc=netloc))
    env = {"PATH": os.environ.get("PATH", ""), "GIT_TERMINAL_PROMPT": "0", "HOME": tempfile.gettempdir()}
    with tempfile.TemporaryDirectory() as work:
        branch = ["--branch", ref.removeprefix("refs/heads/").removeprefix("refs/tags/")] if ref else []
        run = subprocess.run(
            ["git", "clone", "-q", "--depth", "1", *branch, source, work], env=env, capture_output=True, text=True
        )
        if run.returncode != 0:
            if "Authentication failed" in run.stderr or "401" in run.stderr:
                raise SimError(500, "Invalid git credential")
            raise SimError(
                500, "unable to clone git repository: " + run.stderr.strip().replace(password or "\0", "***")
            )
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=work, env=env, capture_output=True, text=True, check=True
        ).stdout.strip()
        head = subprocess.run(
            ["git", "symbolic-ref", "-q", "HEAD"], cwd=work, env=env, capture_output=True, text=True
        ).stdout.strip()
        files = {}
        for path in Path(work).rglob("*"):
            if path.is_file() and ".git" not in path.relative_to(work).parts:
                files[str(path.relative_to(work))] = path.read_text(errors="replace")
    return ref or head, sha, files


def _clone(sim: PortainerSim, url: str, ref: str, username: str, password: str) -> tuple[str, str, dict[str, str]]:
    """(ref, commit, files) of a repository, as Portainer's clone sees it: an in-memory repository of
    ``sim.git_repos``, else a real git server on loopback."""
    repo = sim.git_repos.get(url.rstrip("/")) or sim.git_repos.get(url)
    if repo is None:
        return _fetch(url, ref, username, password)
    creds = sim.git_credentials.get(url.rstrip("/")) or sim.git_credentials.get(url)
    if creds is not None and (username, password) != creds:
        raise SimError(500, "Invalid git credential")
    ref = ref or next(iter(repo))
    if ref not in repo:
        raise SimError(500, f"unable to clone git repository: reference not found: {ref}")
    sha, files = repo[ref]
    return ref, sha, dict(files)


def _git_redeploy_if_changed(sim: PortainerSim, stack: dict[str, Any]) -> bool:
    git = stack["GitConfig"]
    auth = git.get("Authentication") or {}
    try:
        _, sha, files = _clone(
            sim, git["URL"], git["ReferenceName"], auth.get("Username", ""), auth.get("Password", "")
        )
    except SimError:
        return False  # background job: only logged
    auto = stack.get("AutoUpdate") or {}
    if sha == git["ConfigHash"] and not auto.get("ForceUpdate"):
        return False
    sim.stack_files[stack["Id"]] = files
    git["ConfigHash"] = sha
    if stack["Type"] == COMPOSE:
        _undeploy(sim, stack)
    _deploy(sim, stack)
    _touch(sim, stack)
    return True


def _auto_update(value: Any, sim: PortainerSim, own: Optional[int] = None) -> Optional[dict[str, Any]]:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise SimError(400, INVALID, "json: cannot unmarshal AutoUpdate")
    auto = {k.lower(): v for k, v in value.items()}
    interval, webhook = str(auto.get("interval") or ""), str(auto.get("webhook") or "")
    if not interval and not webhook:
        raise SimError(400, INVALID, "Webhook or Interval must be provided")
    if webhook:
        try:
            uuid.UUID(webhook)
        except ValueError:
            raise SimError(400, INVALID, "invalid Webhook format") from None
        for other in sim.stacks.values():
            if other["Id"] != own and ((other.get("AutoUpdate") or {}).get("Webhook") or "").lower() == webhook.lower():
                raise SimError(409, f"Webhook ID: {webhook} already exists", "A webhook ID already exists")
    if interval:
        match = re.fullmatch(r"((\d+(\.\d+)?)(h|m|s|ms))+", interval)
        if not match:
            raise SimError(400, INVALID, "invalid Interval format")
        seconds = sum(
            float(n) * {"h": 3600, "m": 60, "s": 1, "ms": 0.001}[u]
            for n, _, u in re.findall(r"(\d+(\.\d+)?)(h|m|s|ms)", interval)
        )
        if sim.ge("2.33.2") and seconds < 60:
            raise SimError(400, INVALID, "interval must be at least 1 minute")
    return {
        "Interval": interval,
        "Webhook": webhook,
        "JobID": "job-" + uuid.uuid4().hex[:8] if interval else "",
        "ForceUpdate": bool(auto.get("forceupdate")),
        "ForcePullImage": bool(auto.get("forcepullimage")),
    }


# ---------------------------------------------------------------- create


def _check_unique(sim: PortainerSim, eid: int, type_: int, name: str) -> None:
    engine: Engine = sim.engines[eid]
    same_endpoint = [s for s in sim.stacks.values() if s["EndpointId"] == eid and s["Name"].lower() == name]
    conflict = SimError(409, f"A stack with the normalized name '{name}' already exists")
    if type_ == SWARM:
        if (
            same_endpoint
            or any(s["Spec"]["Labels"].get(NAMESPACE) == name for s in engine.services.values())
            or any(c["Labels"].get(PROJECT) == name for c in engine.containers.values())
        ):
            raise conflict
        return
    taken = same_endpoint or any(c["Labels"].get(PROJECT) == name for c in engine.containers.values())
    if not taken:
        return
    for stack in [s for s in sim.stacks.values() if s["Name"] == name]:
        if stack["Type"] == COMPOSE or stack["EndpointId"] != eid:
            raise conflict
        del sim.stacks[stack["Id"]]  # a swarm stack of that name on this endpoint is replaced


def _multipart(req: SimRequest) -> dict[str, bytes]:
    ctype = req.header("content-type")
    if not ctype.startswith("multipart/form-data"):
        return {}
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + req.body
    )
    out: dict[str, bytes] = {}
    for part in message.iter_parts():  # type: ignore[attr-defined]
        name = part.get_param("name", header="content-disposition")
        if name:
            out[str(name)] = part.get_payload(decode=True) or b""
    return out


def _create(sim: PortainerSim, req: SimRequest, eid: int, type_name: str, method: str) -> Result:
    user = sim.authenticate(req)
    endpoint = endpoint_of(sim, eid)
    if type_name not in TYPES:
        raise SimError(
            400,
            "Invalid value for query parameter: type. Value must be one of: 1 (Swarm stack) or 2 (Compose stack)",
        )
    type_ = TYPES[type_name]
    methods = ("string", "repository", "url") if type_ == KUBERNETES else ("string", "file", "repository")
    if method not in methods:
        raise SimError(
            400, "Invalid value for query parameter: method. Value must be one of: string, repository or file"
        )
    if type_ == KUBERNETES:
        return _create_kubernetes(sim, req, user, endpoint, method)
    if method == "file":
        form = _multipart(req)
        name = form.get("Name", b"").decode()
        if not name:
            raise SimError(400, INVALID, "Invalid stack name")
        if not form.get("file"):
            raise SimError(400, INVALID, "Invalid Compose file. Ensure that the Compose file is uploaded correctly")
        swarm_id = form.get("SwarmID", b"").decode()
        try:
            env = _env(json.loads(form["Env"])) if form.get("Env") else None
        except ValueError:
            raise SimError(400, INVALID, "Invalid Env parameter") from None
        payload: dict[str, Any] = {}
        files = {"docker-compose.yml": form["file"].decode()}
        entry = "docker-compose.yml"
    else:
        payload = req.payload()
        name = field(payload, "name", str, "")
        if not name:
            raise SimError(400, INVALID, "Invalid stack name")
        swarm_id = field(payload, "swarmid", str, "")
        env = _env(payload.get("env"))
        if method == "string":
            content = field(payload, "stackfilecontent", str, "")
            if not content:
                raise SimError(400, INVALID, "Invalid stack file content")
            files, entry = {"docker-compose.yml": content}, "docker-compose.yml"
    if type_ == SWARM and not swarm_id:
        raise SimError(400, INVALID, "Invalid Swarm ID")
    name = _normalize(name)
    _check_unique(sim, eid, type_, name)
    git: Optional[dict[str, Any]] = None
    auto: Optional[dict[str, Any]] = None
    additional: Optional[list[str]] = None
    sid = sim.next_id("stacks")  # allocated before the deploy: a failed create burns it
    if method == "repository":
        url = field(payload, "repositoryurl", str, "")
        if not re.match(r"^[a-z][a-z0-9+.-]*://[^/]+", url):
            raise SimError(400, INVALID, "Invalid repository URL. Must correspond to a valid URL format")
        if type_ == COMPOSE:
            url = url[:-1] if url.endswith("/") else url
        use_auth = bool(payload.get("repositoryauthentication"))
        username = field(payload, "repositoryusername", str, "") if use_auth else ""
        password = field(payload, "repositorypassword", str, "") if use_auth else ""
        if use_auth and not password:
            raise SimError(
                400,
                INVALID,
                "Invalid repository credentials. Password must be specified when authentication is enabled",
            )
        auto = _auto_update(payload.get("autoupdate"), sim)
        entry = field(payload, "composefile", str, "") or "docker-compose.yml"
        additional = field(payload, "additionalfiles", list, None)
        ref, sha, files = _clone(sim, url, field(payload, "repositoryreferencename", str, ""), username, password)
        if entry not in files:
            raise SimError(500, f"failed to deploy a stack: open {entry}: no such file or directory")
        git = {
            "URL": url,
            "ReferenceName": field(payload, "repositoryreferencename", str, ""),
            "ConfigFilePath": entry,
            "Authentication": {"Username": username, "Password": password, "AuthorizationType": 0}
            if use_auth
            else None,
            "ConfigHash": sha,
            "TLSSkipVerify": bool(payload.get("tlsskipverify")),
        }
    now = int(time.time())
    stack = {
        "Id": sid,
        "Name": name,
        "Type": type_,
        "EndpointId": eid,
        "SwarmId": swarm_id if type_ == SWARM else "",
        "EntryPoint": entry,
        "Env": env,
        "ResourceControl": None,
        "Status": 1,
        "ProjectPath": f"/data/compose/{sid}",
        "CreationDate": now,
        "CreatedBy": user["Username"],
        "UpdateDate": 0,
        "UpdatedBy": "",
        "AdditionalFiles": additional,
        "AutoUpdate": auto,
        "Option": None,
        "GitConfig": git,
        "FromAppTemplate": False,
        "Namespace": "",
        "IsComposeFormat": False,
    }
    sim.stack_files[sid] = files
    try:
        _deploy(sim, stack)
    except SimError:
        sim.stack_files.pop(sid, None)  # never written to the database; leftovers stay on the engine
        raise
    stack["ResourceControl"] = {
        "Id": sim.next_id("resource_controls"),
        "ResourceId": f"{eid}_{name}",
        "Type": 6,
        "AdministratorsOnly": user["Role"] == 1,
        "Public": False,
        "UserAccesses": [] if user["Role"] == 1 else [{"UserId": user["Id"], "AccessLevel": 1}],
        "TeamAccesses": [],
    }
    sim.stacks[sid] = stack
    return 200, _public(stack), None


def _create_kubernetes(
    sim: PortainerSim, req: SimRequest, user: dict[str, Any], endpoint: dict[str, Any], method: str
) -> Result:
    if endpoint["Type"] not in K8S_TYPES:
        raise SimError(400, "Environment type does not match")
    if method != "string":
        raise SimError(500, "the simulator models kubernetes stacks from a string only")
    payload = req.payload()
    content = field(payload, "stackfilecontent", str, "")
    if not content:
        raise SimError(400, INVALID, "Invalid stack file content")
    name = _normalize(field(payload, "stackname", str, ""))
    if not name:
        raise SimError(400, INVALID, "Invalid stack name")
    namespace = field(payload, "namespace", str, "") or "default"
    sid = sim.next_id("stacks")
    sim.stack_files[sid] = {"deployment.yml": content}
    sim.stacks[sid] = {
        "Id": sid,
        "Name": name,
        "Type": KUBERNETES,
        "EndpointId": endpoint["Id"],
        "SwarmId": "",
        "EntryPoint": "deployment.yml",
        "Env": None,
        "ResourceControl": None,
        "Status": 1,
        "ProjectPath": f"/data/compose/{sid}",
        "CreationDate": int(time.time()),
        "CreatedBy": user["Username"],
        "UpdateDate": 0,
        "UpdatedBy": "",
        "AdditionalFiles": None,
        "AutoUpdate": None,
        "Option": None,
        "GitConfig": None,
        "FromAppTemplate": False,
        "Namespace": namespace,
        "IsComposeFormat": bool(payload.get("composeformat")),
    }
    return 200, {"Output": f"deployment.apps/{name} created"}, None


def _create_route(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    sim.authenticate(req)
    eid = _endpoint_id(req)
    assert eid is not None
    return _create(sim, req, eid, m.group("type"), m.group("method"))


def _create_legacy(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    sim.authenticate(req)
    raw_type, method = req.arg("type"), req.arg("method") or ""
    names = {"1": "swarm", "2": "standalone", "3": "kubernetes"}
    if raw_type not in names:
        raise SimError(400, "Invalid query parameter: type", "Invalid query parameter: type")
    if method not in ("string", "file", "repository", "url"):
        raise SimError(400, "Invalid query parameter: method. Valid values are: file or string")
    eid = _endpoint_id(req)
    assert eid is not None
    return _create(sim, req, eid, names[raw_type], method)


# ---------------------------------------------------------------- read


def _list(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    sim.authenticate(req)
    items = sorted(sim.stacks.values(), key=lambda s: s["Id"])
    raw = req.arg("filters")
    if raw:
        filters = {k.lower(): v for k, v in json.loads(raw).items()}
        eid, swarm_id = filters.get("endpointid"), filters.get("swarmid")
        if eid or swarm_id:
            items = [
                s
                for s in items
                if (s["Type"] == COMPOSE and s["EndpointId"] == eid)
                or (s["Type"] == SWARM and s["SwarmId"] == swarm_id)
            ]
            if not filters.get("includeorphanedstacks"):
                items = [s for s in items if s["EndpointId"] in sim.endpoints]
    return 200, [_public(s) for s in items], None


def _visible(sim: PortainerSim, req: SimRequest, stack: dict[str, Any]) -> None:
    # an orphaned stack stays readable for admins only
    if stack["EndpointId"] not in sim.endpoints and (req.user or {}).get("Role") != 1:
        raise SimError(404, NO_ENDPOINT, "Object not found inside the database")


def _inspect(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    sim.authenticate(req)
    stack = _stack_of(sim, m)
    _visible(sim, req, stack)
    return 200, _public(stack), None


def _file(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    sim.authenticate(req)
    stack = _stack_of(sim, m)
    _visible(sim, req, stack)
    return 200, {"StackFileContent": _entry_content(sim, stack)}, None


# ---------------------------------------------------------------- update


def _stack_endpoint(sim: PortainerSim, stack: dict[str, Any], eid: Optional[int]) -> None:
    if eid is not None and eid not in sim.endpoints or stack["EndpointId"] not in sim.endpoints:
        raise SimError(404, "Unable to find the environment associated to the stack inside the database")


def _update(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    user = sim.authenticate(req)
    stack = _stack_of(sim, m)
    eid = _endpoint_id(req)
    payload = req.payload()
    content = field(payload, "stackfilecontent", str, "")
    if not content:
        raise SimError(400, INVALID, "Invalid stack file content")
    _stack_endpoint(sim, stack, eid)
    old_files, old_env = sim.stack_files.get(stack["Id"], {}), stack["Env"]
    stack["Env"] = _env(payload.get("env"))
    if stack["GitConfig"] is not None:  # detached from git
        stack["GitConfig"], stack["AutoUpdate"], stack["FromAppTemplate"] = None, None, True
    sim.stack_files[stack["Id"]] = {stack["EntryPoint"]: content}
    if stack["Type"] == COMPOSE:
        _undeploy(sim, stack)
    try:
        _deploy(sim, stack, prune=bool(payload.get("prune")) and stack["Type"] == SWARM)
    except SimError:
        sim.stack_files[stack["Id"]], stack["Env"] = old_files, old_env  # the file is rolled back
        raise
    stack["Status"] = 1
    _touch(sim, stack, user)
    return 200, _public(stack), None


def _git_settings(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    user = sim.authenticate(req)
    stack = _stack_of(sim, m)
    payload = req.payload()
    git = stack["GitConfig"]
    if git is None:
        raise SimError(500, "No Git config in the found stack")
    auto = _auto_update(payload.get("autoupdate"), sim, own=stack["Id"])
    git["ReferenceName"] = field(payload, "repositoryreferencename", str, "")
    git["TLSSkipVerify"] = bool(payload.get("tlsskipverify"))
    if payload.get("repositoryauthentication"):
        old = git.get("Authentication") or {}
        password = field(payload, "repositorypassword", str, "") or old.get("Password", "")
        username = field(payload, "repositoryusername", str, "")
        git["Authentication"] = {"Username": username, "Password": password, "AuthorizationType": 0}
        if sim.git_credentials.get(git["URL"]) not in (None, (username, password)):
            raise SimError(500, "Unable to fetch git repository", "Invalid git credential")
    else:
        git["Authentication"] = None
    stack["AutoUpdate"] = auto
    stack["Env"] = _env(payload.get("env"))
    if stack["Type"] == SWARM:
        stack["Option"] = {"Prune": bool(payload.get("prune"))}
    _touch(sim, stack, user)
    return 200, _public(stack), None


def _git_redeploy(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    user = sim.authenticate(req)
    stack = _stack_of(sim, m)
    git = stack["GitConfig"]
    if git is None:
        raise SimError(400, "Stack is not created from git")
    payload = req.payload()
    _stack_endpoint(sim, stack, _endpoint_id(req, required=False))
    ref = field(payload, "repositoryreferencename", str, "") or git["ReferenceName"]
    if payload.get("repositoryauthentication"):
        old = git.get("Authentication") or {}
        username = field(payload, "repositoryusername", str, "")
        password = field(payload, "repositorypassword", str, "") or old.get("Password", "")
        git["Authentication"] = {"Username": username, "Password": password, "AuthorizationType": 0}
    auth = git.get("Authentication") or {}
    _, sha, files = _clone(sim, git["URL"], ref, auth.get("Username", ""), auth.get("Password", ""))
    git["ReferenceName"] = ref
    stack["Env"] = _env(payload.get("env"))
    old_files = sim.stack_files.get(stack["Id"], {})
    sim.stack_files[stack["Id"]] = files
    if stack["Type"] == COMPOSE:
        _undeploy(sim, stack)
    try:
        _deploy(sim, stack, prune=bool(payload.get("prune")))
    except SimError:
        sim.stack_files[stack["Id"]] = old_files
        raise
    git["ConfigHash"] = sha
    stack["Status"] = 1
    _touch(sim, stack, user)
    return 200, _public(stack), None


# ---------------------------------------------------------------- start / stop / delete


def _start(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    sim.authenticate(req)
    stack = _stack_of(sim, m)
    if stack["Type"] == KUBERNETES:
        raise SimError(400, "Starting a kubernetes stack is not supported")
    eid = _endpoint_id(req) if sim.ge("2.19") else stack["EndpointId"]
    if eid not in sim.endpoints:
        raise SimError(404, "Unable to find an endpoint with the specified identifier inside the database")
    if _running(sim, stack):
        raise SimError(409, f"A stack with the name '{stack['Name']}' is already running")
    if stack["Status"] == 1:
        raise SimError(400, "Stack is already active")
    _deploy(sim, stack)
    stack["Status"] = 1
    return 200, _public(stack), None


def _stop(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    sim.authenticate(req)
    stack = _stack_of(sim, m)
    if stack["Type"] == KUBERNETES:
        raise SimError(400, "Stopping a kubernetes stack is not supported")
    eid = _endpoint_id(req) if sim.ge("2.19") else stack["EndpointId"]
    if eid not in sim.endpoints:
        raise SimError(404, "Unable to find an endpoint with the specified identifier inside the database")
    if stack["Status"] == 2:
        raise SimError(400, "Stack is already inactive")
    _undeploy(sim, stack)
    stack["Status"] = 2
    return 200, _public(stack), None


def _delete(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    user = sim.authenticate(req)
    stack = _stack_of(sim, m)
    eid = int(req.arg("endpointId") or 0)
    if eid != stack["EndpointId"] and user["Role"] != 1:
        raise SimError(403, "Permission denied to remove orphaned stack")
    if eid not in sim.endpoints:
        raise SimError(404, "Unable to find the endpoint associated to the stack inside the database")
    _undeploy(sim, stack)
    del sim.stacks[stack["Id"]]
    sim.stack_files.pop(stack["Id"], None)
    return 204, None, None


def _webhook(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    raw = m.group("uuid")
    try:
        uuid.UUID(raw)
    except ValueError:
        raise SimError(400, "Invalid webhook identifier route variable") from None
    stack = next(
        (s for s in sim.stacks.values() if ((s.get("AutoUpdate") or {}).get("Webhook") or "").lower() == raw.lower()),
        None,
    )
    if stack is None:
        raise SimError(404, "Unable to find the stack by webhook ID")
    if stack["EndpointId"] in sim.endpoints:
        _git_redeploy_if_changed(sim, stack)  # asynchronous in Portainer; the answer does not wait for it
    return 204, None, None


def register_stack_routes(sim: PortainerSim) -> None:
    sim.stacks = {}  # type: ignore[attr-defined]
    sim.stack_files = {}  # type: ignore[attr-defined]
    sim.git_repos = {}  # type: ignore[attr-defined]
    sim.git_credentials = {}  # type: ignore[attr-defined]
    one = r"/api/stacks/(?P<id>[^/]+)"
    sim.add_route("POST", r"/api/stacks/create/(?P<type>[^/]+)/(?P<method>[^/]+)", _create_route, min_version="2.19")
    sim.add_route("POST", r"/api/stacks", _create_legacy, max_version="2.27")
    sim.add_route("GET", r"/api/stacks", _list)
    sim.add_route("POST", r"/api/stacks/webhooks/(?P<uuid>[^/]+)", _webhook)
    sim.add_route("GET", one, _inspect)
    sim.add_route("GET", one + r"/file", _file)
    sim.add_route("PUT", one, _update)
    sim.add_route("POST", one + r"/git", _git_settings)
    sim.add_route("PUT", one + r"/git/redeploy", _git_redeploy)
    sim.add_route("POST", one + r"/start", _start)
    sim.add_route("POST", one + r"/stop", _stop)
    sim.add_route("DELETE", one, _delete)
