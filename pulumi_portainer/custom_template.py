"""Portainer custom templates (``/api/custom_templates``)."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from typing import Any, Optional
from urllib.parse import urlsplit

import pulumi
from pulumi.dynamic import DiffResult

from . import _compat
from ._http import register_secret
from ._provider import Ctx, Fail, Field, PortainerProvider, Spec, empty, get_or_none, is_unknown
from ._resource import PortainerResource, document, program_client
from .config import ConnectionArgs
from .errors import APIError, PortainerError

TYPES = {"swarm": 1, "standalone": 2, "kubernetes": 3}
TYPE_NAMES = {v: k for k, v in TYPES.items()}
PLATFORMS = {"linux": 1, "windows": 2}
PLATFORM_NAMES = {v: k for k, v in PLATFORMS.items()}
DEFAULT_COMPOSE_PATH = "docker-compose.yml"
SOURCES = ("file_content", "file_path", "git")
GIT_KEYS = ("url", "reference", "compose_path", "username", "password", "tls_skip_verify")
VARIABLE_KEYS = ("name", "label", "default_value", "description")


def _git(value: Any) -> Any:
    unknown = sorted(set(value) - set(GIT_KEYS))
    if unknown:
        raise ValueError(f"has unknown key(s) {', '.join(unknown)}; allowed: {', '.join(GIT_KEYS)}")
    out = {k: v for k, v in value.items() if not empty(v)}
    tls = out.pop("tls_skip_verify", False)
    if not isinstance(tls, bool):
        raise ValueError(f"tls_skip_verify must be true or false, not {tls!r}")
    if tls:
        out["tls_skip_verify"] = True
    for key in ("url", "reference", "compose_path", "username", "password"):
        if key in out:
            out[key] = str(out[key])
    out.setdefault("compose_path", DEFAULT_COMPOSE_PATH)
    return out


def _variables(value: Any) -> Any:
    out = []
    for index, item in enumerate(value):
        if not isinstance(item, Mapping):
            raise ValueError(
                f"[{index}] must be a CustomTemplateVariableArgs (name, label, default_value, description)"
            )
        unknown = sorted(set(item) - set(VARIABLE_KEYS))
        if unknown:
            raise ValueError(f"[{index}] has unknown key(s) {', '.join(unknown)}; allowed: {', '.join(VARIABLE_KEYS)}")
        out.append({k: str(v) for k, v in item.items() if not empty(v)})
    return out or None


SPEC = Spec(
    name="CustomTemplate",
    id_output="custom_template_id",
    noun="custom template",
    label="title",
    fields=(
        Field(
            "title",
            "Title; unique across all users' templates (exact, case-sensitive). A change is an update.",
            required=True,
        ),
        Field("description", "Description shown in the template list (Portainer requires one).", required=True),
        Field("note", "Note shown when the template is deployed (HTML without <img> tags)."),
        Field("logo", "URL of a logo image."),
        Field(
            "platform",
            "`linux` (default) or `windows`.",
            default="linux",
            choices=tuple(PLATFORMS),
        ),
        Field(
            "type",
            "`standalone` (Docker compose), `swarm` or `kubernetes`. A change is an update.",
            required=True,
            choices=tuple(TYPES),
        ),
        Field(
            "file_content",
            "The template text (one source: `file_content`, `file_path` or `git`). Read back on refresh, so "
            "content edited in Portainer shows as drift.",
        ),
        Field(
            "file_path",
            "A local file whose content is the template, read by the program (relative to its working "
            "directory) and uploaded; the path is kept for display, the content is what is compared.",
        ),
        Field(
            "git",
            "A git source (a CustomTemplateGitArgs: url, reference, compose_path (default "
            "docker-compose.yml), username, password (secret), tls_skip_verify), cloned by Portainer.",
            type="object",
            secret_paths=("password",),
            normalize=_git,
        ),
        Field(
            "variables",
            "Variables users fill in when deploying (a list of CustomTemplateVariableArgs: name, label, "
            "default_value, description; name and label required).",
            type="list",
            normalize=_variables,
        ),
    ),
)


def source_kind(props: Mapping[str, Any]) -> str:
    """``git``, ``file`` (from ``file_path``) or ``text``."""
    if not empty(props.get("git")):
        return "git"
    if not empty(props.get("file_path")):
        return "file"
    return "text"


def _common(inputs: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "Title": inputs["title"],
        "Description": inputs["description"],
        "Note": inputs.get("note") or "",
        "Logo": inputs.get("logo") or "",
        "Platform": PLATFORMS[inputs.get("platform") or "linux"],
        "Type": TYPES[inputs["type"]],
        "Variables": [
            {
                "name": v.get("name", ""),
                "label": v.get("label", ""),
                "defaultValue": v.get("default_value", ""),
                "description": v.get("description", ""),
            }
            for v in inputs.get("variables") or []
        ],
    }


def _repository(inputs: Mapping[str, Any]) -> dict[str, Any]:
    git = inputs["git"]
    auth = bool(git.get("username"))
    return {
        "RepositoryURL": git["url"],
        "RepositoryReferenceName": git.get("reference", ""),
        "RepositoryAuthentication": auth,
        "RepositoryUsername": git.get("username", "") if auth else "",
        "RepositoryPassword": git.get("password", "") if auth else "",
        "ComposeFilePathInRepository": git.get("compose_path", DEFAULT_COMPOSE_PATH),
        "TLSSkipVerify": bool(git.get("tls_skip_verify")),
    }


class CustomTemplateProvider(PortainerProvider):
    spec = SPEC

    def validate(self, inputs: dict[str, Any], fail: Fail) -> None:
        content, path, git = (inputs.get(k) for k in SOURCES)
        if path is not None and content is None:
            fail(
                "file_path",
                f"file_path {path!r} could not be read by the program: check that it exists (relative to the "
                "program's working directory) and is UTF-8 text",
            )
        elif content is None and git is None:
            fail("file_content", "a source is required: file_content, file_path or git=CustomTemplateGitArgs(...)")
        elif content is not None and git is not None:
            fail("git", "give one source: git, or file_content/file_path, not both")
        note = inputs.get("note")
        if isinstance(note, str) and "<img" in note:
            fail("note", "note must not contain <img> tags: Portainer refuses them (Invalid note)")
        variables = inputs.get("variables")
        for index, variable in enumerate(variables if isinstance(variables, list) else []):
            if is_unknown(variable):
                continue
            for key in ("name", "label"):
                if key not in variable:
                    fail("variables", f"variables[{index}].{key} is required (Portainer: variable {key} is required)")
        if isinstance(git, Mapping) and not is_unknown(git):
            url = git.get("url")
            parts = urlsplit(str(url or ""))
            if url is None:
                fail("git", "git.url is required: the repository's http(s) URL")
            elif not is_unknown(url) and (parts.scheme not in ("http", "https") or not parts.hostname):
                fail("git", f"git.url must be an http:// or https:// repository URL, not {url!r}")
            if ("username" in git) != ("password" in git):
                fail("git", "git.username and git.password go together (Portainer needs both for authentication)")
            if isinstance(git.get("password"), str):
                register_secret(git["password"])

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        result = super().diff(id_, olds, news)
        if source_kind(olds) == source_kind(news):
            return result
        # another kind of source: titles are unique, so delete first, then create from the new source
        replaces = sorted(set(result.replaces or []) | {k for k in SOURCES if not empty(olds.get(k)) or k in news})
        return DiffResult(changes=True, replaces=replaces, delete_before_replace=True)

    def find(self, ctx: Ctx, inputs: dict[str, Any]) -> Optional[dict[str, Any]]:
        for template in ctx.client.get("/custom_templates"):
            if template.get("Title") == inputs["title"]:
                return dict(template)
        return None

    def create_object(self, ctx: Ctx, inputs: dict[str, Any]) -> dict[str, Any]:
        kind = source_kind(inputs)
        method = {"text": "string", "file": "file", "git": "repository"}[kind]
        common = _common(inputs)

        def fields() -> list[tuple[str, Any]]:
            name = os.path.basename(str(inputs["file_path"])) or DEFAULT_COMPOSE_PATH
            out: list[tuple[str, Any]] = [(k, str(v)) for k, v in common.items() if k != "Variables"]
            out.append(("Variables", json.dumps(common["Variables"])))
            out.append(("File", (name, str(inputs["file_content"]).encode(), "application/octet-stream")))
            return out

        def send(route: _compat.Route) -> Any:
            params = route.params or None
            if kind == "file":
                return ctx.client.request(route.method, route.path, params=params, multipart=fields)
            payload = dict(
                common, **(_repository(inputs) if kind == "git" else {"FileContent": inputs["file_content"]})
            )
            return ctx.client.request(route.method, route.path, params=params, json=payload)

        try:
            return dict(_compat.call_first(_compat.custom_template_create(ctx.info, method), send))
        except APIError as exc:
            # Portainer answers every refused create (validation, clone, duplicate title) with a 500: the
            # request was handled and nothing was created, so it is final, not a lost answer to look up.
            if exc.status == 500:
                raise PortainerError(str(exc)) from None
            raise

    def read_object(self, ctx: Ctx, id_: str) -> Optional[dict[str, Any]]:
        template = get_or_none(ctx.client, f"/custom_templates/{id_}")
        if template is None or template.get("GitConfig"):
            return template
        file = get_or_none(ctx.client, f"/custom_templates/{id_}/file")
        if file is None:
            return None
        return dict(template, __file_content=file.get("FileContent"))

    def live_inputs(self, ctx: Ctx, obj: dict[str, Any], state: Mapping[str, Any]) -> dict[str, Any]:
        live: dict[str, Any] = {
            "title": obj.get("Title"),
            "description": obj.get("Description"),
            "note": obj.get("Note") or None,
            "logo": obj.get("Logo") or None,
            "platform": PLATFORM_NAMES.get(int(obj.get("Platform") or 0)),
            "type": TYPE_NAMES.get(int(obj.get("Type") or 0), str(obj.get("Type"))),
            "variables": [
                {
                    k: str(v)
                    for k, v in (
                        ("name", item.get("name")),
                        ("label", item.get("label")),
                        ("default_value", item.get("defaultValue")),
                        ("description", item.get("description")),
                    )
                    if not empty(v)
                }
                for item in obj.get("Variables") or []
            ]
            or None,
        }
        config = obj.get("GitConfig")
        if config:
            auth = config.get("Authentication") or {}
            stored_git = state.get("git")
            stored: Mapping[str, Any] = stored_git if isinstance(stored_git, Mapping) else {}
            git = {
                "url": config.get("URL"),
                "reference": config.get("ReferenceName"),
                "compose_path": config.get("ConfigFilePath"),
                "username": auth.get("Username"),
                "password": stored.get("password") if auth else None,  # write-only: kept from state
                "tls_skip_verify": bool(config.get("TLSSkipVerify")),
            }
            live["git"] = _git({k: v for k, v in git.items() if not empty(v)})
        else:
            live["file_content"] = obj.get("__file_content")
            live["file_path"] = state.get("file_path")
        return live

    def update_object(
        self, ctx: Ctx, id_: str, olds: Mapping[str, Any], news: dict[str, Any], changed: set[str]
    ) -> dict[str, Any]:
        payload = _common(news)
        if source_kind(news) == "git":
            payload.update(_repository(news))
        else:
            payload["FileContent"] = news["file_content"]
        return dict(ctx.client.put(f"/custom_templates/{id_}", json=payload))

    def delete_object(self, ctx: Ctx, id_: str, state: Mapping[str, Any]) -> None:
        ctx.client.delete(f"/custom_templates/{id_}")


@dataclasses.dataclass
class CustomTemplateGitArgs:
    """A git repository holding a custom template."""

    url: pulumi.Input[str]
    """http(s) URL of the repository."""
    reference: Optional[pulumi.Input[str]] = None
    """Branch or tag, e.g. ``refs/heads/main`` (default: the repository's default branch)."""
    compose_path: Optional[pulumi.Input[str]] = None
    """Path of the template file in the repository (default ``docker-compose.yml``)."""
    username: Optional[pulumi.Input[str]] = None
    """User name for the repository (with ``password``)."""
    password: Optional[pulumi.Input[str]] = None
    """Password or token for the repository (secret)."""
    tls_skip_verify: Optional[pulumi.Input[bool]] = None
    """Skip TLS verification when cloning."""


@dataclasses.dataclass
class CustomTemplateVariableArgs:
    """A variable users fill in when they deploy the template."""

    name: pulumi.Input[str]
    """Name used in the template as ``{{ name }}``."""
    label: pulumi.Input[str]
    """Label shown in the form."""
    default_value: Optional[pulumi.Input[str]] = None
    """Value proposed in the form."""
    description: Optional[pulumi.Input[str]] = None
    """Help text shown in the form."""


@dataclasses.dataclass
class CustomTemplateArgs:
    """Arguments of a Portainer custom template."""

    title: pulumi.Input[str]
    description: pulumi.Input[str]
    type: pulumi.Input[str]
    note: Optional[pulumi.Input[str]] = None
    logo: Optional[pulumi.Input[str]] = None
    platform: Optional[pulumi.Input[str]] = None
    file_content: Optional[pulumi.Input[str]] = None
    file_path: Optional[pulumi.Input[str]] = None
    git: Optional[CustomTemplateGitArgs] = None
    variables: Optional[list[CustomTemplateVariableArgs]] = None


document(CustomTemplateArgs, SPEC)


class CustomTemplate(PortainerResource, module="portainer", name="CustomTemplate"):
    """A Portainer custom template from text, a local file or git. Title and type changes are updates; a
    change to another kind of source replaces it (delete first: titles are unique)."""

    title: pulumi.Output[str]
    description: pulumi.Output[str]
    note: pulumi.Output[Optional[str]]
    logo: pulumi.Output[Optional[str]]
    platform: pulumi.Output[str]
    type: pulumi.Output[str]
    file_content: pulumi.Output[Optional[str]]
    file_path: pulumi.Output[Optional[str]]
    git: pulumi.Output[Optional[dict[str, Any]]]
    variables: pulumi.Output[Optional[list[dict[str, Any]]]]
    custom_template_id: pulumi.Output[int]
    portainer_url: pulumi.Output[str]
    portainer_instance_id: pulumi.Output[str]
    _provider_class = CustomTemplateProvider
    _args_class = CustomTemplateArgs

    def __init__(
        self,
        resource_name: str,
        args: Optional[CustomTemplateArgs] = None,
        opts: Optional[pulumi.ResourceOptions] = None,
        *,
        title: Optional[pulumi.Input[str]] = None,
        description: Optional[pulumi.Input[str]] = None,
        note: Optional[pulumi.Input[str]] = None,
        logo: Optional[pulumi.Input[str]] = None,
        platform: Optional[pulumi.Input[str]] = None,
        type: Optional[pulumi.Input[str]] = None,  # noqa: A002 - Pulumi SDK naming
        file_content: Optional[pulumi.Input[str]] = None,
        file_path: Optional[pulumi.Input[str]] = None,
        git: Optional[CustomTemplateGitArgs] = None,
        variables: Optional[list[CustomTemplateVariableArgs]] = None,
        connection: Optional[ConnectionArgs] = None,
        adopt: bool = False,
    ) -> None:
        """Create a custom template: ``CustomTemplate(name, CustomTemplateArgs(...))`` or keyword arguments;
        see ``CustomTemplateArgs`` for each argument, ``connection`` and ``adopt`` as in every resource."""
        super().__init__(
            resource_name,
            args,
            opts,
            connection=connection,
            adopt=adopt,
            title=title,
            description=description,
            note=note,
            logo=logo,
            platform=platform,
            type=type,
            file_content=file_content,
            file_path=file_path,
            git=git,
            variables=variables,
        )


@dataclasses.dataclass(frozen=True)
class GetCustomTemplateResult:
    """A Portainer custom template found by ``get_custom_template``."""

    id: str
    custom_template_id: int
    title: str
    description: str
    type: str
    platform: Optional[str]
    note: str
    logo: str
    git_url: Optional[str]


def get_custom_template(title: str, connection: Optional[ConnectionArgs] = None) -> GetCustomTemplateResult:
    """Find a Portainer custom template by its exact title, now; raises when there is none."""
    client, _info = program_client(connection)
    for template in client.get("/custom_templates"):
        if template.get("Title") == title:
            return GetCustomTemplateResult(
                str(template["Id"]),
                int(template["Id"]),
                str(template["Title"]),
                str(template.get("Description") or ""),
                TYPE_NAMES.get(int(template.get("Type") or 0), str(template.get("Type"))),
                PLATFORM_NAMES.get(int(template.get("Platform") or 0)),
                str(template.get("Note") or ""),
                str(template.get("Logo") or ""),
                (template.get("GitConfig") or {}).get("URL"),
            )
    raise LookupError(f"get_custom_template: no Portainer custom template titled {title!r} at {client.conn.url}")


def get_custom_template_output(
    title: pulumi.Input[str], connection: Optional[ConnectionArgs] = None
) -> pulumi.Output[GetCustomTemplateResult]:
    """``get_custom_template`` once ``title`` is known; no request while it is unknown in a preview."""
    return pulumi.Output.from_input(title).apply(lambda value: get_custom_template(value, connection))
