"""Custom templates (reference §8): create from a string, an uploaded file (multipart field ``File``) or a
git repository (cloned from ``sim.template_repos``), where every validation or clone error and a duplicate
title answer 500 (after the id is consumed); list, inspect (admin or creator), file, full-replacement
update (validation 400, duplicate title 500 before the 404) and delete. ``?method=`` is the only create
route up to 2.18 and a legacy alias up to 2.26."""

from __future__ import annotations

import copy
import hashlib
import json
import re
from email import policy
from email.parser import BytesParser
from typing import Any, Optional

from .server import INVALID, PortainerSim, Result, SimError, SimRequest, field, parse_id

M = re.Match[str]
CREATE_FAILED = "Unable to create custom template"
NOT_FOUND = "Unable to find a custom template with the specified identifier inside the database"
UNIQUE = "Template name must be unique"
KUBERNETES = 3


def add_template_repo(
    sim: PortainerSim,
    url: str,
    files: dict[str, str],
    *,
    username: str = "",
    password: str = "",
    refs: tuple[str, ...] = ("refs/heads/main",),
) -> dict[str, Any]:
    """A git repository the simulator can clone (no network)."""
    repo = {"files": dict(files), "username": username, "password": password, "refs": refs}
    sim.template_repos[url] = repo
    return repo


def add_template(sim: PortainerSim, title: str, content: str = "services: {}\n", **extra: Any) -> dict[str, Any]:
    """A text template created out of band by the admin (as the UI would)."""
    with sim.lock:
        tid = sim.next_id("custom_templates")
        template = _template(tid, 1, title, "out of band", "", "", 1, 2, None, None)
        template.update(extra)
        sim.custom_templates[tid] = template
        sim.template_files[tid] = content
        return template


def _template(
    tid: int,
    uid: int,
    title: str,
    description: str,
    note: str,
    logo: str,
    platform: int,
    type_: int,
    variables: Optional[list[dict[str, Any]]],
    git: Optional[dict[str, Any]],
) -> dict[str, Any]:
    return {
        "Id": tid,
        "Title": title,
        "Description": description,
        "ProjectPath": f"/data/custom_templates/{tid}",
        "EntryPoint": "" if git else "docker-compose.yml",
        "CreatedByUserId": uid,
        "Note": note,
        "Platform": platform,
        "Logo": logo,
        "Type": type_,
        "ResourceControl": {
            "Id": tid,
            "ResourceId": str(tid),
            "SubResourceIds": [],
            "Type": 8,
            "UserAccesses": [{"UserId": uid, "AccessLevel": 1}],
            "TeamAccesses": [],
            "Public": False,
            "AdministratorsOnly": False,
            "System": False,
        },
        "Variables": variables,
        "GitConfig": git,
        "IsComposeFormat": False,
        "EdgeTemplate": False,
    }


def _variables(raw: Any) -> Optional[list[dict[str, Any]]]:
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise ValueError("json: cannot unmarshal into []portainer.CustomTemplateVariableDefinition")
    out = []
    for item in raw:
        item = {k.lower(): v for k, v in dict(item).items()}
        out.append(
            {
                "name": str(item.get("name") or ""),
                "label": str(item.get("label") or ""),
                "defaultValue": str(item.get("defaultvalue") or ""),
                "description": str(item.get("description") or ""),
            }
        )
    return out


def _validate(
    title: str,
    description: str,
    platform: int,
    type_: int,
    note: str,
    variables: Optional[list[dict[str, Any]]],
    extra: Optional[str] = None,
) -> Optional[str]:
    """The payload Validate() of every create method and of update; the first problem, or None."""
    if not title:
        return "Invalid custom template title"
    if not description:
        return "Invalid custom template description"
    if extra:
        return extra
    if type_ != KUBERNETES and platform not in (1, 2):
        return "Invalid custom template platform"
    if type_ not in (1, 2, 3):
        return "Invalid custom template type"
    if "<img" in note:
        return "Invalid note. <img> tag is not supported"
    for variable in variables or []:
        if not variable["name"]:
            return "variable name is required"
        if not variable["label"]:
            return "variable label is required"
    return None


def _form(req: SimRequest) -> dict[str, tuple[Optional[str], bytes]]:
    """multipart/form-data fields by (case-sensitive) name: (filename, bytes)."""
    ctype = req.header("content-type")
    out: dict[str, tuple[Optional[str], bytes]] = {}
    if ctype.startswith("multipart/form-data"):
        raw = b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + req.body
        message = BytesParser(policy=policy.HTTP).parsebytes(raw)
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if isinstance(name, str):
                out[name] = (part.get_filename(), part.get_payload(decode=True) or b"")
    for key, values in req.query.items():  # FormValue also reads the URL query
        out.setdefault(key, (None, values[0].encode()))
    return out


def _clone(
    sim: PortainerSim, url: str, ref: str, path: str, auth: bool, username: str, password: str, type_: int
) -> tuple[str, str]:
    """(file content, commit hash) of ``path`` at ``ref``; raises the clone error text as ValueError."""
    repo = sim.template_repos.get(url)
    if repo is None:
        raise ValueError("failed to clone git repository: repository not found")
    if repo["password"] and not (auth and username == repo["username"] and password == repo["password"]):
        raise ValueError("failed to clone git repository: authentication required")
    if ref and ref not in repo["refs"]:
        raise ValueError(f"failed to clone git repository: reference not found: {ref}")
    if path not in repo["files"]:
        kind = "Manifest" if type_ == KUBERNETES else "Compose"
        raise ValueError(f"Invalid {kind} file, ensure that the {kind} file path is correct")
    content = repo["files"][path]
    return content, hashlib.sha1(content.encode()).hexdigest()


def _git_config(url: str, ref: str, path: str, auth: bool, username: str, password: str, tls: bool, commit: str) -> Any:
    return {
        "URL": url,
        "ReferenceName": ref,
        "ConfigFilePath": path,
        "Authentication": {"Username": username, "Password": password, "AuthorizationType": 0} if auth else None,
        "ConfigHash": commit,
        "TLSSkipVerify": tls,
    }


def _create(sim: PortainerSim, req: SimRequest, method: str) -> Result:
    user = sim.authenticate(req)
    tid = 0

    def failed(details: str) -> SimError:
        return SimError(500, CREATE_FAILED, details)

    git = None
    if method in ("string", "repository"):
        try:
            p = req.payload()
        except SimError as exc:
            raise failed(exc.details or INVALID) from None
        title, description = field(p, "title", str, ""), field(p, "description", str, "")
        note, logo = field(p, "note", str, ""), field(p, "logo", str, "")
        platform, type_ = field(p, "platform", int, 0), field(p, "type", int, 0)
        try:
            variables = _variables(p.get("variables"))
        except ValueError as exc:
            raise failed(str(exc)) from None
        if method == "string":
            content = field(p, "filecontent", str, "")
            problem = _validate(
                title, description, platform, type_, note, variables, None if content else "Invalid file content"
            )
        else:
            url, ref = field(p, "repositoryurl", str, ""), field(p, "repositoryreferencename", str, "")
            auth = field(p, "repositoryauthentication", bool, False)
            username, password = field(p, "repositoryusername", str, ""), field(p, "repositorypassword", str, "")
            path = field(p, "composefilepathinrepository", str, "") or "docker-compose.yml"
            tls = field(p, "tlsskipverify", bool, False)
            bad_url = not re.match(r"^(https?|ssh|git)://[^/\s]+", url) and not re.match(r"^git@[^:\s]+:", url)
            extra = (
                "Invalid repository URL. Must correspond to a valid URL format"
                if bad_url
                else "Invalid repository credentials. Username and password must be specified when "
                "authentication is enabled"
                if auth and (not username or not password)
                else None
            )
            problem = _validate(title, description, platform, type_, note, variables, extra)
            if problem is None:
                tid = sim.next_id("custom_templates")  # the id is taken before the clone
                try:
                    content, commit = _clone(sim, url, ref, path, auth, username, password, type_)
                except ValueError as exc:
                    raise failed(str(exc)) from None
                git = _git_config(url, ref, path, auth, username, password, tls, commit)
    elif method == "file":
        form = _form(req)

        def value(name: str) -> str:
            return form.get(name, (None, b""))[1].decode()

        title, description, note, logo = value("Title"), value("Description"), value("Note"), value("Logo")
        extra = None
        try:
            type_ = int(value("Type"))
        except ValueError:
            type_, extra = 0, "Invalid custom template type"
        try:
            platform = int(value("Platform") or "0")
        except ValueError:
            platform = 0
        variables = None
        if value("Variables"):
            try:
                variables = _variables(json.loads(value("Variables")))
            except ValueError:
                extra = extra or "Invalid variables. Ensure that the variables are valid JSON"
        if "File" not in form or not form["File"][0]:
            extra = extra or "Invalid Compose file. Ensure that the Compose file is uploaded correctly"
        content = form.get("File", (None, b""))[1].decode()
        problem = _validate(title, description, platform, type_, note, variables, extra)
    else:
        raise failed("Invalid value for query parameter: method. Value must be one of: string, repository or file")
    if problem:
        raise failed(problem)
    tid = tid or sim.next_id("custom_templates")
    if any(t["Title"] == title for t in sim.custom_templates.values()):
        raise SimError(500, UNIQUE, UNIQUE)
    template = _template(tid, user["Id"], title, description, note, logo, platform, type_, variables, git)
    sim.custom_templates[tid] = template
    sim.template_files[tid] = content
    return 200, copy.deepcopy(template), None  # the git password comes back in clear


def _create_path(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    return _create(sim, req, m.group("method"))


def _create_legacy(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    return _create(sim, req, req.arg("method") or "")


def _visible(sim: PortainerSim, user: dict[str, Any], template: dict[str, Any]) -> bool:
    return bool(user["Role"] == 1 or template["CreatedByUserId"] == user["Id"])


def _list(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    user = sim.authenticate(req)
    types = []
    for raw in req.query.get("type", []):
        try:
            types.append(int(raw))
        except ValueError:
            raise SimError(
                400, "Invalid Custom template type", f'strconv.Atoi: parsing "{raw}": invalid syntax'
            ) from None
    items = []
    for _, template in sorted(sim.custom_templates.items()):
        if (types and template["Type"] not in types) or not _visible(sim, user, template):
            continue
        item = copy.deepcopy(template)
        if item["GitConfig"] and item["GitConfig"]["Authentication"]:
            item["GitConfig"]["Authentication"]["Password"] = ""
        items.append(item)
    return 200, items, None


def _get(sim: PortainerSim, req: SimRequest, m: M) -> tuple[dict[str, Any], dict[str, Any]]:
    user = sim.authenticate(req)
    tid = parse_id(m, "Custom template")
    template = sim.custom_templates.get(tid)
    if template is None:
        raise SimError(404, NOT_FOUND, "Object not found inside the database")
    return user, template


def _inspect(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    user, template = _get(sim, req, m)
    if not _visible(sim, user, template):
        raise SimError(403, "Access denied to resource", "Access denied to resource")
    return 200, copy.deepcopy(template), None


def _file(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    _user, template = _get(sim, req, m)  # no access check in 2.33
    return 200, {"FileContent": sim.template_files.get(template["Id"], "")}, None


def _update(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    user = sim.authenticate(req)
    tid = parse_id(m, "Custom template")
    p = req.payload()
    title, description = field(p, "title", str, ""), field(p, "description", str, "")
    note, logo = field(p, "note", str, ""), field(p, "logo", str, "")
    platform, type_ = field(p, "platform", int, 0), field(p, "type", int, 0)
    content, url = field(p, "filecontent", str, ""), field(p, "repositoryurl", str, "")
    try:
        variables = _variables(p.get("variables"))
    except ValueError as exc:
        raise SimError(400, INVALID, str(exc)) from None
    extra = None if content or url else "Either file content or git repository url need to be provided"
    problem = _validate(title, description, platform, type_, note, variables, extra)
    if problem:
        raise SimError(400, INVALID, problem)
    if any(t["Title"] == title and t["Id"] != tid for t in sim.custom_templates.values()):
        raise SimError(500, UNIQUE, UNIQUE)
    template = sim.custom_templates.get(tid)
    if template is None:
        raise SimError(404, NOT_FOUND, "Object not found inside the database")
    if not _visible(sim, user, template):
        raise SimError(403, "Access denied to resource", "Access denied to resource")
    git = None
    if url:
        ref = field(p, "repositoryreferencename", str, "")
        auth = field(p, "repositoryauthentication", bool, False)
        username, password = field(p, "repositoryusername", str, ""), field(p, "repositorypassword", str, "")
        path = field(p, "composefilepathinrepository", str, "") or "docker-compose.yml"
        try:
            content, commit = _clone(sim, url, ref, path, auth, username, password, type_)
        except ValueError as exc:
            raise SimError(500, "Unable to clone git repository", str(exc)) from None
        git = _git_config(url, ref, path, auth, username, password, field(p, "tlsskipverify", bool, False), commit)
    template.update(
        Title=title,
        Description=description,
        Note=note,
        Logo=logo,
        Platform=platform,
        Type=type_,
        Variables=variables,
        GitConfig=git,
        EntryPoint="" if git else "docker-compose.yml",
    )
    sim.template_files[tid] = content
    return 200, copy.deepcopy(template), None


def _delete(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    user, template = _get(sim, req, m)
    if not _visible(sim, user, template):
        raise SimError(403, "Access denied to resource", "Access denied to resource")
    del sim.custom_templates[template["Id"]]
    sim.template_files.pop(template["Id"], None)
    return 204, None, None


def register_template_routes(sim: PortainerSim) -> None:
    sim.custom_templates = {}  # type: ignore[attr-defined]
    sim.template_files = {}  # type: ignore[attr-defined]
    sim.template_repos = {}  # type: ignore[attr-defined]
    one = r"/api/custom_templates/(?P<id>[^/]+)"
    for method, regex, handler, options in (
        ("POST", r"/api/custom_templates/create/(?P<method>[^/]+)", _create_path, {"min_version": "2.19"}),
        ("POST", r"/api/custom_templates", _create_legacy, {"max_version": "2.27"}),
        ("GET", r"/api/custom_templates", _list, {}),
        ("GET", one, _inspect, {}),
        ("GET", one + r"/file", _file, {}),
        ("PUT", one, _update, {}),
        ("DELETE", one, _delete, {}),
    ):
        sim.add_route(method, regex, handler, **options)
