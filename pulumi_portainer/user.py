"""Portainer users (``/api/users``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Optional

import pulumi

from . import _compat
from ._provider import Ctx, Fail, Field, PortainerProvider, Spec, get_or_none, password_rule
from ._resource import PortainerResource, document, program_client
from .config import ConnectionArgs

ROLES = {"admin": 1, "standard": 2}


def _username(value: str) -> str:
    if not value or " " in value:
        raise ValueError("must be non-empty and contain no spaces (Portainer refuses whitespace in user names)")
    return value


SPEC = Spec(
    name="User",
    id_output="user_id",
    noun="user",
    label="username",
    fields=(
        Field(
            "username",
            "Login name; unique in Portainer, compared case-insensitively.",
            required=True,
            normalize=_username,
        ),
        Field(
            "password",
            "Password (secret, write-only: Portainer never returns it, so a change made in "
            "Portainer is not seen as drift). Portainer's default minimum length is 12.",
            secret=True,
            write_only=True,
        ),
        Field("role", "`standard` (default) or `admin`.", default="standard", choices=tuple(ROLES)),
    ),
)


class UserProvider(PortainerProvider):
    spec = SPEC

    def validate(self, inputs: dict[str, Any], fail: Fail) -> None:
        password_rule("password", inputs.get("password"), fail)

    def find(self, ctx: Ctx, inputs: dict[str, Any]) -> Optional[dict[str, Any]]:
        wanted = str(inputs["username"]).lower()
        for user in ctx.client.get("/users"):
            if str(user.get("Username", "")).lower() == wanted:
                return dict(user)
        return None

    def create_object(self, ctx: Ctx, inputs: dict[str, Any]) -> dict[str, Any]:
        payload = {"Username": inputs["username"], "Role": ROLES[inputs.get("role", "standard")]}
        if inputs.get("password"):
            payload["Password"] = inputs["password"]
        return dict(ctx.client.post("/users", json=payload))

    def read_object(self, ctx: Ctx, id_: str) -> Optional[dict[str, Any]]:
        return get_or_none(ctx.client, f"/users/{id_}")

    def live_inputs(self, ctx: Ctx, obj: dict[str, Any], state: Mapping[str, Any]) -> dict[str, Any]:
        role = "admin" if obj.get("Role") == ROLES["admin"] else "standard"
        return {"username": obj.get("Username"), "role": role}

    def update_object(
        self, ctx: Ctx, id_: str, olds: Mapping[str, Any], news: dict[str, Any], changed: set[str]
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {}
        if "username" in changed:
            payload["Username"] = news["username"]
        if "role" in changed:
            payload["Role"] = ROLES[news.get("role", "standard")]
        if "password" in changed and news.get("password"):
            payload.update(_compat.user_password_payload(ctx.info, news["password"]))  # no old one for admins
        if not payload:
            return self.read_object(ctx, id_) or {"Id": int(id_)}
        return dict(ctx.client.put(f"/users/{id_}", json=payload))

    def delete_object(self, ctx: Ctx, id_: str, state: Mapping[str, Any]) -> None:
        ctx.client.delete(f"/users/{id_}")


@dataclasses.dataclass
class UserArgs:
    """Arguments of a Portainer user."""

    username: pulumi.Input[str]
    password: Optional[pulumi.Input[str]] = None
    role: Optional[pulumi.Input[str]] = None


document(UserArgs, SPEC)


class User(PortainerResource, module="portainer", name="User"):
    """A Portainer user. Its password is secret in state; renames, role and password changes are updates."""

    username: pulumi.Output[str]
    password: pulumi.Output[Optional[str]]
    role: pulumi.Output[str]
    user_id: pulumi.Output[int]
    portainer_url: pulumi.Output[str]
    portainer_instance_id: pulumi.Output[str]
    _provider_class = UserProvider
    _args_class = UserArgs

    def __init__(
        self,
        resource_name: str,
        args: Optional[UserArgs] = None,
        opts: Optional[pulumi.ResourceOptions] = None,
        *,
        username: Optional[pulumi.Input[str]] = None,
        password: Optional[pulumi.Input[str]] = None,
        role: Optional[pulumi.Input[str]] = None,
        connection: Optional[ConnectionArgs] = None,
        adopt: bool = False,
    ) -> None:
        """Create a user: ``User(name, UserArgs(...))`` or ``User(name, username=..., ...)``; see
        ``UserArgs`` for each argument, ``connection`` and ``adopt`` as in every resource."""
        super().__init__(
            resource_name,
            args,
            opts,
            connection=connection,
            adopt=adopt,
            username=username,
            password=password,
            role=role,
        )


@dataclasses.dataclass(frozen=True)
class GetUserResult:
    """A Portainer user found by ``get_user``."""

    id: str
    user_id: int
    username: str
    role: str


def get_user(username: str, connection: Optional[ConnectionArgs] = None) -> GetUserResult:
    """Find a Portainer user by name (case-insensitive), now; raises when there is none."""
    client, _info = program_client(connection)
    for user in client.get("/users"):
        if str(user.get("Username", "")).lower() == str(username).lower():
            role = "admin" if user.get("Role") == ROLES["admin"] else "standard"
            return GetUserResult(str(user["Id"]), int(user["Id"]), str(user["Username"]), role)
    raise LookupError(f"get_user: no Portainer user named {username!r} at {client.conn.url}")


def get_user_output(
    username: pulumi.Input[str], connection: Optional[ConnectionArgs] = None
) -> pulumi.Output[GetUserResult]:
    """``get_user`` once ``username`` is known; no request while it is unknown in a preview."""
    return pulumi.Output.from_input(username).apply(lambda name: get_user(name, connection))
