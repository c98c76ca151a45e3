"""Portainer stacks (``/api/stacks``): compose (standalone), swarm and Kubernetes stacks from text, a local
file or a git repository.

How each change reaches Portainer (reference §5):

* text and file stacks: content, env and ``redeploy_trigger`` changes are one ``PUT /stacks/{id}``
  (it redeploys and marks the stack active);
* git stacks are never sent ``PUT /stacks/{id}`` (it would detach them from git): reference,
  credentials, TLS, auto-update and env changes go through ``POST /stacks/{id}/git``, then, when the
  deployed result can change (reference, credentials, env, ``redeploy_trigger``),
  ``PUT /stacks/{id}/git/redeploy``; URL, compose path and additional files replace the stack;
* ``running`` is ``POST /stacks/{id}/start`` or ``/stop``; ``prune`` and ``pull_image`` are options of
  the next deploy and cause no call on their own.

Env values: plain values stay readable in previews; a value the program marks secret stays secret (each
value keeps its own secrecy in the inputs, and the ``env`` output is stored secret as soon as any value
is an ``Output``). Every env value is registered for redaction from logs and error text.
"""

from __future__ import annotations

import dataclasses
import json
import re
import uuid
from collections.abc import Mapping
from typing import Any, Optional, Union

import pulumi
import yaml
from pulumi.dynamic import CheckFailure, CheckResult, DiffResult

from . import _compat
from ._http import EMPTY_BODY, register_secret
from ._provider import Ctx, Fail, Field, PortainerProvider, Spec, get_or_none, is_unknown, same
from ._resource import PortainerResource, document, program_client
from .config import ConnectionArgs
from .errors import APIError, PortainerError

TYPES = {"swarm": 1, "standalone": 2, "kubernetes": 3}
TYPE_NAMES = {v: k for k, v in TYPES.items()}
ACTIVE, INACTIVE = 1, 2
PROJECT_LABEL = "com.docker.compose.project"
NAMESPACE_LABEL = "com.docker.stack.namespace"
DEFAULT_COMPOSE = "docker-compose.yml"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_DURATION = re.compile(r"^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
GIT_KEYS = ("url", "reference", "compose_path", "additional_files", "username", "password", "tls_skip_verify")
AUTO_KEYS = ("interval", "webhook", "force_update", "force_pull_image")
GIT_REPLACE = ("url", "compose_path", "additional_files")  # changing these needs a new stack
CONTENT_FIELDS = ("file_content", "env", "git", "redeploy_trigger")


class OrphanedStackError(PortainerError):
    """The stack's environment was deleted in Portainer; the stack record is orphaned."""


# ---------------------------------------------------------------- normalization (check)


def _name(value: str) -> str:
    if not _NAME.match(value):
        raise ValueError(
            f"{value!r} is not a valid stack name: use lower-case letters, digits, '-' and '_', starting with a "
            "letter or digit (Portainer silently strips other characters, and compose rejects them)"
        )
    return value


def _env_value(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError("must be a string or a number")
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("must be a string or a finite number")
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _env(value: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, item in value.items():
        if not str(key):
            raise ValueError("keys must be non-empty variable names")
        if is_unknown(item):
            out[str(key)] = item
            continue
        try:
            out[str(key)] = _env_value(item)
        except ValueError as exc:
            # never echo the value: it may be a secret
            raise ValueError(f"value of {key!r} {exc}") from None
    return out


def _seconds(interval: str) -> float:
    return sum(float(n) * _UNITS[u] for n, u in _DURATION_PART.findall(interval))


def _git(value: Mapping[str, Any]) -> dict[str, Any]:
    """The git object with every key present (defaults filled), so state, diff and refresh agree."""
    unknown = sorted(set(value) - set(GIT_KEYS) - {"auto_update"})
    if unknown:
        raise ValueError(
            f"has unknown key(s) {', '.join(unknown)}; StackGitArgs takes {', '.join(GIT_KEYS)}, auto_update"
        )
    git: dict[str, Any] = {
        "url": value.get("url"),
        "reference": value.get("reference") or None,
        "compose_path": value.get("compose_path") or DEFAULT_COMPOSE,
        "additional_files": list(value.get("additional_files") or []),
        "username": value.get("username") or None,
        "password": value.get("password"),
        "tls_skip_verify": bool(value.get("tls_skip_verify") or False),
        "auto_update": None,
    }
    auto = value.get("auto_update")
    if isinstance(auto, Mapping) and any(v not in (None, False, "") for v in auto.values()):
        extra = sorted(set(auto) - set(AUTO_KEYS))
        if extra:
            raise ValueError(f"auto_update has unknown key(s) {', '.join(extra)}")
        git["auto_update"] = {
            "interval": auto.get("interval") or None,
            "webhook": bool(auto.get("webhook") or False),
            "force_update": bool(auto.get("force_update") or False),
            "force_pull_image": bool(auto.get("force_pull_image") or False),
        }
    return git


SPEC = Spec(
    name="Stack",
    id_output="stack_id",
    noun="stack",
    label="name",
    deploys=frozenset({"create", "update"}),
    fields=(
        Field(
            "name",
            "Stack name (required): lower-case letters, digits, '-' and '_', starting with a letter or digit "
            "(`^[a-z0-9][a-z0-9_-]*$`, what both Portainer and compose accept). A change replaces the stack.",
            required=True,
            replace=True,
            normalize=_name,
        ),
        Field(
            "endpoint_id",
            "Id of the Portainer environment to deploy to; defaults to `portainer:endpointId` from stack "
            "config. A change replaces the stack.",
            type="int",
            required=True,
            replace=True,
        ),
        Field(
            "type",
            "`standalone` (docker compose, default), `swarm` or `kubernetes` (simulator-tested only). A change "
            "replaces the stack.",
            default="standalone",
            choices=tuple(TYPES),
            replace=True,
        ),
        Field(
            "file_content",
            "Compose file (or Kubernetes manifest) text. One of `file_content`, `file_path` and `git` is "
            "required. Also an output: the deployed content of text and file stacks.",
        ),
        Field(
            "file_path",
            "Path of a local compose file (relative to the program's working directory), read in the program "
            "process: its content is what Pulumi stores and compares, so editing the file shows in preview.",
            write_only=True,
        ),
        Field(
            "git",
            "Deploy from a git repository (a StackGitArgs). Changes of `url`, `compose_path` or "
            "`additional_files` replace the stack; other changes update it through Portainer's git routes. "
            "`password` is secret.",
            type="object",
            secret_paths=("password",),
            normalize=_git,
        ),
        Field(
            "env",
            "Environment variables: a mapping of names to strings or numbers (integral floats become ints). "
            "Values marked secret in the program stay secret; the whole map is sent on every update.",
            type="map",
            normalize=_env,
        ),
        Field(
            "running",
            "Whether the stack runs (default true). False stops it (Portainer removes its containers or "
            "services); Kubernetes stacks cannot be stopped.",
            type="bool",
            default=True,
        ),
        Field(
            "prune",
            "Remove services no longer in the compose file on the next deploy (swarm). A deploy option: "
            "changing only it makes no call to Portainer.",
            type="bool",
            default=False,
            write_only=True,
        ),
        Field(
            "pull_image",
            "Pull images again on the next deploy. A deploy option: changing only it makes no call to Portainer.",
            type="bool",
            default=False,
            write_only=True,
        ),
        Field(
            "swarm_id",
            "Swarm cluster id (swarm stacks); found from the environment when omitted. A change replaces the stack.",
            replace=True,
        ),
        Field(
            "namespace",
            "Kubernetes namespace (kubernetes stacks; default `default`). A change replaces the stack.",
            replace=True,
        ),
        Field(
            "redeploy_trigger",
            "Any string; a change redeploys the stack (text and file stacks resend their content, git stacks "
            "are redeployed from the repository).",
            write_only=True,
        ),
        Field("status", "`active` or `inactive`, as Portainer reports it.", computed=True),
        Field("source_kind", "`text`, `file` or `git`: where the stack's content comes from.", computed=True),
        Field("git_commit", "The deployed commit of a git stack.", computed=True),
        Field(
            "webhook_url",
            "URL that redeploys a git stack when POSTed to (git stacks with `auto_update.webhook`), built on "
            "`public_url`. Secret.",
            computed=True,
            secret=True,
        ),
        Field("webhook_token", "The git-stack webhook's id (a UUID). Secret.", computed=True, secret=True),
        Field("services", "Swarm stacks: compose service key -> current Docker service id.", computed=True),
    ),
)


def source_kind(values: Mapping[str, Any]) -> str:
    if values.get("git") is not None:
        return "git"
    return "file" if values.get("file_path") is not None else "text"


def _type(values: Mapping[str, Any]) -> str:
    return str(values.get("type") or "standalone")


def _env_list(env: Optional[Mapping[str, Any]]) -> list[dict[str, str]]:
    return [{"name": k, "value": str(v)} for k, v in sorted((env or {}).items())]


def _label_filter(label: str, value: str) -> dict[str, str]:
    return {"filters": json.dumps({"label": [f"{label}={value}"]})}


def _orphaned(eid: Any) -> OrphanedStackError:
    return OrphanedStackError(
        f"the stack's environment (endpoint {eid}) no longer exists in Portainer, so the stack is orphaned: "
        "associate it with an environment again in Portainer, or remove it from Pulumi state with "
        "`pulumi state delete` (the stack record stays in Portainer)"
    )


class StackProvider(PortainerProvider):
    spec = SPEC

    # -- check and diff

    def validate(self, inputs: dict[str, Any], fail: Fail) -> None:
        kind = _type(inputs)
        git, content, path = inputs.get("git"), inputs.get("file_content"), inputs.get("file_path")
        if git is not None and (content is not None or path is not None):
            fail("git", "give exactly one source: file_content, file_path or git, not git together with another")
            return
        if git is None and content is None and path is None:
            fail(
                "file_content",
                "give exactly one source: file_content (compose text), file_path (a local file) or "
                "git=StackGitArgs(url=...)",
            )
            return
        if path is not None and not is_unknown(path) and not content and not is_unknown(content):
            fail(
                "file_path",
                f"file_path {path!r} could not be read (or is empty) in the program's working directory; "
                "fix the path or create the file",
            )
        if kind != "swarm" and inputs.get("swarm_id") not in (None, ""):
            fail("swarm_id", "swarm_id applies to swarm stacks only: remove it or set type='swarm'")
        if kind != "kubernetes" and inputs.get("namespace") not in (None, ""):
            fail("namespace", "namespace applies to kubernetes stacks only: remove it or set type='kubernetes'")
        if kind == "kubernetes":
            inputs.setdefault("namespace", "default")
            if inputs.get("running") is False:
                fail("running", "kubernetes stacks cannot be started or stopped in Portainer: remove running=False")
            if git is not None:
                fail("git", "kubernetes stacks from git are not supported: use file_content or file_path")
        if isinstance(content, str) and not is_unknown(content):
            prop = "file_path" if path is not None else "file_content"
            problem = _manifest_problem(content) if kind == "kubernetes" else _compose_problem(content)
            if problem:
                fail(prop, f"{prop} {problem}")
        if isinstance(git, Mapping) and not is_unknown(git):
            self._validate_git(git, fail)
        env = inputs.get("env")
        for value in env.values() if isinstance(env, Mapping) else ():
            if isinstance(value, str):
                register_secret(value)

    @staticmethod
    def _validate_git(git: Mapping[str, Any], fail: Fail) -> None:
        url = git.get("url")
        if not url:
            fail("git", "git.url is required: the repository URL, e.g. https://github.com/org/repo.git")
        elif not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/\s]+", str(url)):
            fail("git", f"git.url {url!r} must be an absolute URL with a host, e.g. https://host/org/repo.git")
        if git.get("password") == "":
            fail("git", "git.password must not be empty: leave it out instead")
        if git.get("password") and not git.get("username"):
            fail("git", "git.password needs git.username (use any non-empty user name with a token)")
        if isinstance(git.get("password"), str):
            register_secret(git["password"])
        auto = git.get("auto_update")
        if isinstance(auto, Mapping):
            interval = auto.get("interval")
            if not interval and not auto.get("webhook"):
                fail("git", "git.auto_update needs interval (e.g. '5m') or webhook=True")
            if interval and not _DURATION.match(str(interval)):
                fail("git", f"git.auto_update.interval {interval!r} is not a duration such as '5m' or '1h30m'")
            elif interval and _seconds(str(interval)) < 60:
                fail("git", f"git.auto_update.interval {interval!r} is under 1 minute, Portainer's minimum")

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """The generic check, plus: a stopped stack's content cannot change (Portainer has no file-only
        update), so content, env, git and redeploy changes with ``running=False`` fail."""
        result = super().check(olds, news)
        inputs = result.inputs or {}
        if olds and not result.failures and inputs.get("running") is False:
            failures = list(result.failures or [])
            for prop in CONTENT_FIELDS:
                if prop == "git" and inputs.get("git") is not None and olds.get("git") is not None:
                    changed = _git_redeploy_changed(olds["git"], inputs["git"])
                else:
                    changed = not same(olds.get(prop), inputs.get(prop))
                if changed and not is_unknown(inputs.get(prop)):
                    failures.append(
                        CheckFailure(
                            prop,
                            f"set running=True to change content: Portainer cannot change the {prop} of a "
                            "stopped stack without deploying it",
                        )
                    )
            result = CheckResult(inputs, failures)
        return result

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = set(self._changed(olds, news))
        if empty_value(news.get("swarm_id")):
            changed.discard("swarm_id")  # found from the environment at create: not a change
        replaces = {f.name for f in self.spec.inputs if f.replace and f.name in changed}
        old_git, new_git = olds.get("git"), news.get("git")
        if "git" in changed and old_git is not None and new_git is not None:
            if is_unknown(new_git) or any(
                is_unknown(new_git.get(k)) or not same(old_git.get(k), new_git.get(k)) for k in GIT_REPLACE
            ):
                replaces.add("git")
        if source_kind(olds) != source_kind(news):
            replaces.update(k for k in ("git", "file_content", "file_path") if k in changed)
        return DiffResult(changes=bool(changed), replaces=sorted(replaces), delete_before_replace=True)

    # -- identity

    def _swarm_id(self, ctx: Ctx, eid: int) -> str:
        body = ctx.client.get(f"/endpoints/{eid}/docker/swarm")
        return str(body.get("ID", "")) if isinstance(body, dict) else ""

    def find(self, ctx: Ctx, inputs: dict[str, Any]) -> Optional[dict[str, Any]]:
        kind = _type(inputs)
        eid = int(inputs["endpoint_id"])
        if kind == "swarm" and not inputs.get("swarm_id"):
            inputs["swarm_id"] = self._swarm_id(ctx, eid)  # recorded in state: the swarm it was deployed to
        matches = [
            dict(s)
            for s in ctx.client.get("/stacks")  # unfiltered: an EndpointID filter hides swarm stacks
            if s.get("EndpointId") == eid
            and s.get("Type") == TYPES[kind]
            and str(s.get("Name", "")).lower() == inputs["name"]
            and (kind != "swarm" or s.get("SwarmId") == inputs.get("swarm_id"))
            and (kind != "kubernetes" or (s.get("Namespace") or "default") == inputs.get("namespace", "default"))
        ]
        if len(matches) > 1:
            ids = ", ".join(str(s["Id"]) for s in matches)
            raise PortainerError(
                f"several Portainer stacks match {kind} stack {inputs['name']!r} on endpoint {eid} (ids {ids}); "
                "delete the extra ones in Portainer"
            )
        return matches[0] if matches else None

    # -- create

    def create_object(self, ctx: Ctx, inputs: dict[str, Any]) -> dict[str, Any]:
        kind, eid = _type(inputs), int(inputs["endpoint_id"])
        self._register(inputs)
        source = source_kind(inputs)
        method = {"text": "string", "file": "file", "git": "repository"}[source]
        if kind == "kubernetes":
            method = "string"  # file_path is read in the program: its content goes as a string
        routes = _compat.stack_create(ctx.info, kind, method, eid)
        payload, fields = self._create_payload(inputs, kind, method)

        def send(route: _compat.Route) -> Any:
            return ctx.client.request(
                route.method,
                route.path,
                params=route.params,
                json=payload if fields is None else None,
                multipart=(lambda: fields) if fields is not None else None,
                deploy=True,
                deadline=ctx.deadline,
            )

        try:
            body = _compat.call_first(routes, send)
        except APIError as exc:
            if exc.status != 500 or exc.message == EMPTY_BODY:
                raise  # a 502-504, an empty answer or a lost response: the generic flow looks it up
            # Portainer's own 500: the deploy failed and the record was never saved (reference §5.5)
            found = self.find(ctx, inputs)
            if found is not None:
                return self._after_create(ctx, inputs, found)
            problem = "" if kind == "kubernetes" else self._remove_leftovers(ctx, eid, kind, inputs["name"])
            raise PortainerError(str(exc) + problem) from None
        if kind == "kubernetes":  # answers {"Output": ...} without an id
            found = self.find(ctx, inputs)
            if found is None:
                raise PortainerError(
                    f"Portainer created kubernetes stack {inputs['name']!r} but does not list it on endpoint {eid}"
                )
            body = found
        return self._after_create(ctx, inputs, dict(body))

    def _after_create(self, ctx: Ctx, inputs: dict[str, Any], obj: dict[str, Any]) -> dict[str, Any]:
        if inputs.get("running") is False and obj.get("Status") != INACTIVE:
            obj = self._stop(ctx, str(obj["Id"]), int(inputs["endpoint_id"]))
        if _type(inputs) == "swarm":
            obj["_services"] = self._services(ctx, int(inputs["endpoint_id"]), inputs["name"])
        return obj

    def _create_payload(
        self, inputs: Mapping[str, Any], kind: str, method: str
    ) -> tuple[dict[str, Any], Optional[list[tuple[str, Any]]]]:
        env = _env_list(inputs.get("env"))
        if kind == "kubernetes":
            return {
                "StackName": inputs["name"],
                "Namespace": inputs.get("namespace") or "default",
                "StackFileContent": inputs["file_content"],
                "ComposeFormat": False,
            }, None
        swarm = {"SwarmID": inputs.get("swarm_id") or ""} if kind == "swarm" else {}
        if method == "file":
            fields: list[tuple[str, Any]] = [("Name", inputs["name"])]
            fields += list(swarm.items())
            if env:
                fields.append(("Env", json.dumps(env)))
            fields.append(("file", ("docker-compose.yml", inputs["file_content"].encode(), "application/x-yaml")))
            return {}, fields
        payload: dict[str, Any] = {"Name": inputs["name"], "Env": env, **swarm}
        if method == "string":
            payload["StackFileContent"] = inputs["file_content"]
            return payload, None
        git = inputs["git"]
        payload.update(self._git_auth(git))
        payload.update(
            RepositoryURL=git["url"],
            RepositoryReferenceName=git.get("reference") or "",
            ComposeFile=git.get("compose_path") or DEFAULT_COMPOSE,
            AdditionalFiles=list(git.get("additional_files") or []),
            TLSSkipVerify=bool(git.get("tls_skip_verify")),
            AutoUpdate=self._auto_update(git, None),
        )
        return payload, None

    @staticmethod
    def _git_auth(git: Mapping[str, Any]) -> dict[str, Any]:
        use = bool(git.get("username") or git.get("password"))
        return {
            "RepositoryAuthentication": use,
            "RepositoryUsername": (git.get("username") or "") if use else "",
            "RepositoryPassword": (git.get("password") or "") if use else "",  # empty keeps the stored one
        }

    @staticmethod
    def _auto_update(git: Mapping[str, Any], token: Optional[str]) -> Optional[dict[str, Any]]:
        auto = git.get("auto_update")
        if not auto:
            return None
        webhook = ""
        if auto.get("webhook"):
            webhook = token or str(uuid.uuid4())  # generated once, then kept
            register_secret(webhook)
        return {
            "Interval": auto.get("interval") or "",
            "Webhook": webhook,
            "ForceUpdate": bool(auto.get("force_update")),
            "ForcePullImage": bool(auto.get("force_pull_image")),
        }

    def _remove_leftovers(self, ctx: Ctx, eid: int, kind: str, name: str) -> str:
        """Remove what a failed deploy left on the engine; returns a note when that itself failed."""
        base = f"/endpoints/{eid}/docker"
        label = NAMESPACE_LABEL if kind == "swarm" else PROJECT_LABEL
        try:
            if kind == "swarm":
                for service in ctx.client.get(f"{base}/services", params=_label_filter(label, name)):
                    ctx.client.delete(f"{base}/services/{service['ID']}")
            params = dict(_label_filter(PROJECT_LABEL, name), all="1")
            for container in ctx.client.get(f"{base}/containers/json", params=params):
                ctx.client.delete(f"{base}/containers/{container['Id']}", params={"force": "true", "v": "true"})
            for network in ctx.client.get(f"{base}/networks", params=_label_filter(label, name)):
                ctx.client.delete(f"{base}/networks/{network['Id']}")
        except PortainerError as exc:
            return f" (removing the containers, services and networks it left behind also failed: {exc})"
        return ""

    # -- read

    def read_object(self, ctx: Ctx, id_: str) -> Optional[dict[str, Any]]:
        return get_or_none(ctx.client, f"/stacks/{id_}")

    def _endpoint_exists(self, ctx: Ctx, eid: Any) -> bool:
        return get_or_none(ctx.client, f"/endpoints/{eid}", params={"excludeSnapshot": "true"}) is not None

    def read_live(self, ctx: Ctx, id_: str, state: Mapping[str, Any]) -> Optional[dict[str, Any]]:
        obj = self.read_object(ctx, id_)
        if obj is None:
            eid = state.get("endpoint_id")
            # non-admins get a 404 for a stack whose environment is gone: tell that apart from "deleted"
            if eid is not None and not self._endpoint_exists(ctx, eid):
                raise _orphaned(eid)
            return None
        eid = obj.get("EndpointId")
        if not self._endpoint_exists(ctx, eid):
            raise _orphaned(eid)
        if obj.get("GitConfig") is None and (
            "file_content" not in state or state.get("__update_date") != obj.get("UpdateDate")
        ):
            # the stored file changes only with UpdateDate: read it back only then
            obj["_file"] = self._file(ctx, id_)
        if obj.get("Type") == TYPES["swarm"]:
            obj["_services"] = self._services(ctx, int(obj["EndpointId"]), str(obj["Name"]))
        return obj

    def _file(self, ctx: Ctx, id_: str) -> str:
        body = ctx.client.get(f"/stacks/{id_}/file")
        return str(body.get("StackFileContent", "")) if isinstance(body, dict) else ""

    def _services(self, ctx: Ctx, eid: int, name: str) -> dict[str, str]:
        services = ctx.client.get(f"/endpoints/{eid}/docker/services", params=_label_filter(NAMESPACE_LABEL, name))
        out = {}
        for service in services:
            full = str(service.get("Spec", {}).get("Name", ""))
            key = full[len(name) + 1 :] if full.startswith(name + "_") else full
            out[key] = str(service["ID"])
        return out

    def live_inputs(self, ctx: Ctx, obj: dict[str, Any], state: Mapping[str, Any]) -> dict[str, Any]:
        kind = TYPE_NAMES.get(int(obj.get("Type") or 2), "standalone")
        env = {str(e.get("name")): str(e.get("value", "")) for e in obj.get("Env") or []}
        for value in env.values():
            register_secret(value)
        live: dict[str, Any] = {
            "name": obj.get("Name"),
            "endpoint_id": obj.get("EndpointId"),
            "type": kind,
            "env": env,
            "running": obj.get("Status") == ACTIVE,
            "swarm_id": (obj.get("SwarmId") or None) if state.get("swarm_id") else None,
            "namespace": (obj.get("Namespace") or "default") if kind == "kubernetes" else None,
            "__obj": obj,
        }
        git = obj.get("GitConfig")
        if git is not None:
            live["git"] = self._live_git(obj, git, state.get("git") or {})
        else:
            if "_file" in obj:
                content = obj["_file"]
            elif "file_content" in state:
                content = state["file_content"]
            else:
                content = obj["_file"] = self._file(ctx, str(obj["Id"]))
            live["file_content"] = content
        return live

    @staticmethod
    def _live_git(obj: Mapping[str, Any], git: Mapping[str, Any], old: Mapping[str, Any]) -> dict[str, Any]:
        auth = git.get("Authentication") or {}
        auto = obj.get("AutoUpdate") or None
        return _git(
            {
                "url": git.get("URL"),
                "reference": git.get("ReferenceName") or None,
                "compose_path": git.get("ConfigFilePath") or obj.get("EntryPoint"),
                "additional_files": list(obj.get("AdditionalFiles") or []),
                "username": auth.get("Username") or None,
                "password": old.get("password") if auth else None,  # Portainer never returns it
                "tls_skip_verify": bool(git.get("TLSSkipVerify")),
                "auto_update": None
                if not auto
                else {
                    "interval": auto.get("Interval") or None,
                    "webhook": bool(auto.get("Webhook")),
                    "force_update": bool(auto.get("ForceUpdate")),
                    "force_pull_image": bool(auto.get("ForcePullImage")),
                },
            }
        )

    def computed(self, ctx: Ctx, obj: dict[str, Any], inputs: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"source_kind": source_kind(inputs)}
        if "Status" in obj:
            out["status"] = "active" if obj["Status"] == ACTIVE else "inactive"
        if "UpdateDate" in obj:
            out["__update_date"] = obj["UpdateDate"]
        if "Type" in obj:
            git = obj.get("GitConfig")
            out["git_commit"] = (git or {}).get("ConfigHash") or None
            token = (obj.get("AutoUpdate") or {}).get("Webhook") or None
            out["webhook_token"] = token
            base = ctx.conn.public_url or ctx.conn.url
            out["webhook_url"] = f"{base}/api/stacks/webhooks/{token}" if token else None
            if token:
                register_secret(token)
            if obj["Type"] == TYPES["swarm"] and "_services" not in obj:
                obj["_services"] = self._services(ctx, int(obj["EndpointId"]), str(obj["Name"]))
            out["services"] = obj.get("_services") if obj["Type"] == TYPES["swarm"] else None
        return out

    # -- update

    def _register(self, values: Mapping[str, Any]) -> None:
        for value in (values.get("env") or {}).values():
            register_secret(str(value))
        git = values.get("git") or {}
        if git.get("password"):
            register_secret(git["password"])

    def _start(self, ctx: Ctx, id_: str, eid: int) -> dict[str, Any]:
        params = _compat.stack_action_params(ctx.info, eid)
        try:
            return dict(ctx.client.post(f"/stacks/{id_}/start", params=params, deploy=True, deadline=ctx.deadline))
        except APIError as exc:
            # 409 "already running" / 400 "already active": success only if the stack is then active
            if exc.status in (400, 409):
                live = self.read_object(ctx, id_)
                if live is not None and live.get("Status") == ACTIVE:
                    return live
            raise

    def _stop(self, ctx: Ctx, id_: str, eid: int) -> dict[str, Any]:
        params = _compat.stack_action_params(ctx.info, eid)
        try:
            return dict(ctx.client.post(f"/stacks/{id_}/stop", params=params, deploy=True, deadline=ctx.deadline))
        except APIError as exc:
            if exc.status == 400:  # "already inactive": fine if it is
                live = self.read_object(ctx, id_)
                if live is not None and live.get("Status") == INACTIVE:
                    return live
            raise

    def update_object(
        self, ctx: Ctx, id_: str, olds: Mapping[str, Any], news: dict[str, Any], changed: set[str]
    ) -> dict[str, Any]:
        self._register(news)
        eid, kind = int(news["endpoint_id"]), _type(news)
        if (olds.get("git") is None) != (news.get("git") is None):
            raise PortainerError(
                "a stack cannot switch between git and file content in place; change the program back, or "
                "replace the stack (`pulumi up --replace`)"
            )
        was_running = olds.get("status") == "active" if "status" in olds else olds.get("running", True) is not False
        want_running = news.get("running", True) is not False
        obj: Optional[dict[str, Any]] = None
        deployed = False
        trigger = "redeploy_trigger" in changed
        if news.get("git") is None:
            if changed & {"file_content", "env"} or trigger:
                payload: dict[str, Any] = {
                    "StackFileContent": news["file_content"],
                    "Env": _env_list(news.get("env")),
                    "PullImage": bool(news.get("pull_image")),
                    "RepullImageAndRedeploy": bool(news.get("pull_image")),
                }
                if kind == "swarm":
                    payload["Prune"] = bool(news.get("prune"))
                obj = dict(
                    ctx.client.put(
                        f"/stacks/{id_}",
                        json=payload,
                        params={"endpointId": eid},
                        deploy=True,
                        deadline=ctx.deadline,
                    )
                )
                deployed = True
        else:
            obj, deployed = self._update_git(ctx, id_, eid, kind, olds, news, changed)
        if want_running and not was_running and not deployed:
            obj, deployed = self._start(ctx, id_, eid), True
        elif not want_running and (was_running or deployed):
            obj, deployed = self._stop(ctx, id_, eid), True
        if obj is None:
            # nothing to send (deploy options, file_path, swarm_id found at create): outputs stay as they were
            return dict(olds.get("__obj") or {"Id": int(id_)})
        if kind == "swarm" and deployed:
            obj["_services"] = self._services(ctx, eid, news["name"])
        return obj

    def _update_git(
        self,
        ctx: Ctx,
        id_: str,
        eid: int,
        kind: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        changed: set[str],
    ) -> tuple[Optional[dict[str, Any]], bool]:
        old, new = olds.get("git") or {}, news["git"]
        settings = "env" in changed or any(
            not same(old.get(k), new.get(k)) for k in ("reference", "username", "password", "tls_skip_verify")
        )
        settings = settings or not same(old.get("auto_update"), new.get("auto_update"))
        redeploy = "redeploy_trigger" in changed or "env" in changed or _git_redeploy_changed(old, new)
        obj: Optional[dict[str, Any]] = None
        env = _env_list(news.get("env"))
        if settings:
            token = olds.get("webhook_token") or None
            payload = {
                "AutoUpdate": self._auto_update(new, token),
                "Env": env,
                "Prune": bool(news.get("prune")),
                "RepositoryReferenceName": new.get("reference") or "",
                "TLSSkipVerify": bool(new.get("tls_skip_verify")),
                **self._git_auth(new),
            }
            obj = dict(ctx.client.post(f"/stacks/{id_}/git", json=payload, params={"endpointId": eid}))
        if redeploy:
            payload = {
                "RepositoryReferenceName": new.get("reference") or "",
                "Env": env,
                "Prune": bool(news.get("prune")),
                "PullImage": bool(news.get("pull_image")),
                **self._git_auth(new),
            }
            obj = dict(
                ctx.client.put(
                    f"/stacks/{id_}/git/redeploy",
                    json=payload,
                    params={"endpointId": eid},
                    deploy=True,
                    deadline=ctx.deadline,
                )
            )
        return obj, redeploy

    # -- delete

    def delete_object(self, ctx: Ctx, id_: str, state: Mapping[str, Any]) -> None:
        eid = state.get("endpoint_id")
        try:
            ctx.client.delete(f"/stacks/{id_}", params={"endpointId": eid, "external": "false"})
        except APIError as exc:
            if exc.status == 404 and not exc.route_missing:
                live = self.read_object(ctx, id_)
                if live is None:
                    return
                if not self._endpoint_exists(ctx, live.get("EndpointId")):
                    raise _orphaned(live.get("EndpointId")) from None
            raise


def empty_value(value: Any) -> bool:
    return value is None or value == ""


def _git_redeploy_changed(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Git changes that change what is deployed (reference or credentials)."""
    return any(not same(old.get(k), new.get(k)) for k in ("reference", "username", "password"))


def _compose_problem(content: str) -> Optional[str]:
    try:
        doc = yaml.safe_load(content)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        return f"is not valid YAML{where}: {getattr(exc, 'problem', None) or exc}"
    if not isinstance(doc, dict) or not isinstance(doc.get("services"), dict) or not doc["services"]:
        return "is not a compose file: it needs a top-level `services` mapping with at least one service"
    return None


def _manifest_problem(content: str) -> Optional[str]:
    try:
        docs = [d for d in yaml.safe_load_all(content) if d is not None]
    except yaml.YAMLError as exc:
        return f"is not valid YAML: {getattr(exc, 'problem', None) or exc}"
    if not docs:
        return "is empty: a Kubernetes manifest needs at least one object"
    for index, doc in enumerate(docs, 1):
        if not isinstance(doc, dict) or not doc.get("kind"):
            return f"document {index} has no `kind`: every Kubernetes object needs one"
    return None


# ---------------------------------------------------------------- program side


@dataclasses.dataclass
class StackGitAutoUpdateArgs:
    """Portainer's GitOps auto-update of a git stack: poll every ``interval`` and/or redeploy on a webhook."""

    interval: Optional[pulumi.Input[str]] = None
    """Poll interval as a Go duration (``5m``, ``1h30m``); at least 1 minute."""
    webhook: Optional[pulumi.Input[bool]] = None
    """Create a webhook (outputs ``webhook_url`` and ``webhook_token``, secret) that redeploys the stack."""
    force_update: Optional[pulumi.Input[bool]] = None
    """Redeploy even when the commit did not change."""
    force_pull_image: Optional[pulumi.Input[bool]] = None
    """Pull images again on each auto-update."""


@dataclasses.dataclass
class StackGitArgs:
    """A git repository a stack deploys from."""

    url: pulumi.Input[str]
    """Repository URL (https or ssh form with a host). A change replaces the stack."""
    reference: Optional[pulumi.Input[str]] = None
    """Branch or tag reference such as ``refs/heads/main`` (default: the repository's default branch)."""
    compose_path: Optional[pulumi.Input[str]] = None
    """Path of the compose file in the repository (default ``docker-compose.yml``). A change replaces."""
    additional_files: Optional[pulumi.Input[list[pulumi.Input[str]]]] = None
    """Further compose files merged on top, in order. A change replaces the stack."""
    username: Optional[pulumi.Input[str]] = None
    """User name for a private repository."""
    password: Optional[pulumi.Input[str]] = None
    """Password or token for a private repository (secret)."""
    tls_skip_verify: Optional[pulumi.Input[bool]] = None
    """Skip TLS verification of the git server."""
    auto_update: Optional[StackGitAutoUpdateArgs] = None
    """Portainer's auto-update (interval polling and/or a webhook)."""


@dataclasses.dataclass
class StackArgs:
    """Arguments of a Portainer stack."""

    name: pulumi.Input[str]
    endpoint_id: Optional[pulumi.Input[Union[int, str]]] = None
    type: Optional[pulumi.Input[str]] = None
    file_content: Optional[pulumi.Input[str]] = None
    file_path: Optional[pulumi.Input[str]] = None
    git: Optional[StackGitArgs] = None
    env: Optional[pulumi.Input[Mapping[str, pulumi.Input[Union[str, int, float]]]]] = None
    running: Optional[pulumi.Input[bool]] = None
    prune: Optional[pulumi.Input[bool]] = None
    pull_image: Optional[pulumi.Input[bool]] = None
    swarm_id: Optional[pulumi.Input[str]] = None
    namespace: Optional[pulumi.Input[str]] = None
    redeploy_trigger: Optional[pulumi.Input[str]] = None


document(StackArgs, SPEC)


def _env_has_outputs(env: Any) -> bool:
    if isinstance(env, pulumi.Output):
        return True
    return isinstance(env, Mapping) and any(isinstance(v, pulumi.Output) for v in env.values())


class Stack(PortainerResource, module="portainer", name="Stack"):
    """A Portainer stack: a compose (standalone), swarm or Kubernetes deployment from text, a local file or
    a git repository. Name, environment, type, swarm id, namespace, source kind and the git URL, compose
    path and additional files replace it; everything else is updated in place through the route Portainer
    needs (git stacks are never detached from git)."""

    name: pulumi.Output[str]
    endpoint_id: pulumi.Output[int]
    type: pulumi.Output[str]
    file_content: pulumi.Output[Optional[str]]
    file_path: pulumi.Output[Optional[str]]
    git: pulumi.Output[Optional[dict[str, Any]]]
    env: pulumi.Output[Optional[dict[str, str]]]
    running: pulumi.Output[bool]
    prune: pulumi.Output[bool]
    pull_image: pulumi.Output[bool]
    swarm_id: pulumi.Output[Optional[str]]
    namespace: pulumi.Output[Optional[str]]
    redeploy_trigger: pulumi.Output[Optional[str]]
    stack_id: pulumi.Output[int]
    status: pulumi.Output[str]
    source_kind: pulumi.Output[str]
    git_commit: pulumi.Output[Optional[str]]
    webhook_url: pulumi.Output[Optional[str]]
    webhook_token: pulumi.Output[Optional[str]]
    services: pulumi.Output[Optional[dict[str, str]]]
    portainer_url: pulumi.Output[str]
    portainer_instance_id: pulumi.Output[str]
    _provider_class = StackProvider
    _args_class = StackArgs

    def __init__(
        self,
        resource_name: str,
        args: Optional[StackArgs] = None,
        opts: Optional[pulumi.ResourceOptions] = None,
        *,
        name: Optional[pulumi.Input[str]] = None,
        endpoint_id: Optional[pulumi.Input[Union[int, str]]] = None,
        type: Optional[pulumi.Input[str]] = None,
        file_content: Optional[pulumi.Input[str]] = None,
        file_path: Optional[pulumi.Input[str]] = None,
        git: Optional[StackGitArgs] = None,
        env: Optional[pulumi.Input[Mapping[str, pulumi.Input[Union[str, int, float]]]]] = None,
        running: Optional[pulumi.Input[bool]] = None,
        prune: Optional[pulumi.Input[bool]] = None,
        pull_image: Optional[pulumi.Input[bool]] = None,
        swarm_id: Optional[pulumi.Input[str]] = None,
        namespace: Optional[pulumi.Input[str]] = None,
        redeploy_trigger: Optional[pulumi.Input[str]] = None,
        connection: Optional[ConnectionArgs] = None,
        adopt: bool = False,
    ) -> None:
        """Create a stack: ``Stack(name, StackArgs(...))`` or ``Stack(name, name=..., file_content=...)``;
        see ``StackArgs`` for each argument, ``connection`` and ``adopt`` as in every resource."""
        if _env_has_outputs(env if env is not None else getattr(args, "env", None)):
            # the stored env output is secret as soon as a value may be secret; the inputs keep each
            # value's own secrecy, so plain values stay readable in preview diffs
            opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["env"]))
        super().__init__(
            resource_name,
            args,
            opts,
            connection=connection,
            adopt=adopt,
            name=name,
            endpoint_id=endpoint_id,
            type=type,
            file_content=file_content,
            file_path=file_path,
            git=git,
            env=env,
            running=running,
            prune=prune,
            pull_image=pull_image,
            swarm_id=swarm_id,
            namespace=namespace,
            redeploy_trigger=redeploy_trigger,
        )


@dataclasses.dataclass(frozen=True)
class GetStackResult:
    """A Portainer stack found by ``get_stack``."""

    id: str
    stack_id: int
    name: str
    endpoint_id: int
    type: str
    status: str
    swarm_id: Optional[str]
    namespace: Optional[str]
    git_url: Optional[str]
    git_commit: Optional[str]


def get_stack(
    name: str, endpoint_id: Optional[Union[int, str]] = None, connection: Optional[ConnectionArgs] = None
) -> GetStackResult:
    """Find a Portainer stack (a Portainer stack, not the Pulumi stack) by name, optionally on one
    environment, now; raises when there is none or several."""
    client, _info = program_client(connection)
    wanted = str(name).lower()
    matches = [
        s
        for s in client.get("/stacks")
        if str(s.get("Name", "")).lower() == wanted and (endpoint_id is None or s.get("EndpointId") == int(endpoint_id))
    ]
    where = "" if endpoint_id is None else f" on endpoint {endpoint_id}"
    if not matches:
        raise LookupError(f"get_stack: no Portainer stack named {name!r}{where} at {client.conn.url}")
    if len(matches) > 1:
        ids = ", ".join(str(s["Id"]) for s in matches)
        raise LookupError(f"get_stack: several Portainer stacks are named {name!r} (ids {ids}); give endpoint_id")
    s = matches[0]
    git = s.get("GitConfig") or {}
    return GetStackResult(
        id=str(s["Id"]),
        stack_id=int(s["Id"]),
        name=str(s["Name"]),
        endpoint_id=int(s["EndpointId"]),
        type=TYPE_NAMES.get(int(s.get("Type") or 2), "standalone"),
        status="active" if s.get("Status") == ACTIVE else "inactive",
        swarm_id=s.get("SwarmId") or None,
        namespace=s.get("Namespace") or None,
        git_url=git.get("URL") or None,
        git_commit=git.get("ConfigHash") or None,
    )


def get_stack_output(
    name: pulumi.Input[str],
    endpoint_id: Optional[pulumi.Input[Union[int, str]]] = None,
    connection: Optional[ConnectionArgs] = None,
) -> pulumi.Output[GetStackResult]:
    """``get_stack`` (a Portainer stack, not the Pulumi stack) once its inputs are known; no request while
    they are unknown in a preview."""
    return pulumi.Output.all(name, endpoint_id).apply(lambda args: get_stack(args[0], args[1], connection))
