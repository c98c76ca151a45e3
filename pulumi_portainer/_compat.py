"""The only module that knows Portainer versions.

The server version and InstanceID come from ``GET /api/system/status`` (2.17+), falling back to the
deprecated ``GET /api/status`` only when that route is missing; once per client per process. Never
``/api/system/version``: it calls out to the internet on every request. Route and payload differences
between 2.33, 2.19–2.32 and 2.14–2.18 are looked up here by operation.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from collections.abc import Callable
from typing import Any, Optional

from ._http import Client
from .errors import APIError, PortainerError

MINIMUM = (2, 14)
TESTED_UP_TO = (2, 33)
UNTESTED_FROM = (2, 34)
ASYNC_STACKS_FROM = (2, 41)
_warned: set[tuple[str, str]] = set()


@dataclasses.dataclass(frozen=True)
class ServerInfo:
    """What one Portainer server said about itself."""

    version: str
    instance_id: str

    @property
    def release(self) -> Optional[tuple[int, int, int]]:
        """(major, minor, patch), or None when the version string cannot be read."""
        match = re.match(r"^v?(\d+)\.(\d+)(?:\.(\d+))?", self.version or "")
        if not match:
            return None
        return int(match[1]), int(match[2]), int(match[3] or 0)

    def at_least(self, major: int, minor: int) -> bool:
        release = self.release
        return release is None or release[:2] >= (major, minor)


class UnsupportedVersionError(PortainerError):
    """The server is older than pulumi_portainer supports."""


def server_info(client: Client) -> ServerInfo:
    """Detect (once per client) and check the server's version and InstanceID."""
    with client.server_lock:
        if client.server is None:
            try:
                body = client.get("/system/status", auth=False)  # public: no login just for this
            except APIError as exc:
                if not exc.route_missing:
                    raise
                body = client.get("/status", auth=False)  # ≤ 2.16
            info = ServerInfo(str(body.get("Version", "")), str(body.get("InstanceID", "")))
            check_supported(info, client.conn.url)
            client.server = info
        return client.server  # type: ignore[no-any-return]


def check_supported(info: ServerInfo, url: str) -> None:
    """Refuse servers below 2.14; warn once for versions newer than the tested ones."""
    release = info.release
    if release is None:
        _warn(url, f"Portainer at {url} reports an unreadable version {info.version!r}; proceeding as if 2.33")
        return
    if release[:2] < MINIMUM:
        raise UnsupportedVersionError(
            f"Portainer {info.version} at {url} is not supported: pulumi_portainer needs Portainer CE 2.14 or "
            "later (2.33 LTS is the tested release); upgrade Portainer"
        )
    if release[:2] >= ASYNC_STACKS_FROM:
        _warn(url, f"Portainer {info.version} at {url} deploys stacks asynchronously; stack support is untested there")
    elif release[:2] >= UNTESTED_FROM:
        _warn(url, f"Portainer {info.version} at {url} is an untested version (tested: 2.14 to 2.33); proceeding")


def _warn(url: str, text: str) -> None:
    if (url, text) not in _warned:
        _warned.add((url, text))
        print(f"warning: {text}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- routes by version


@dataclasses.dataclass(frozen=True)
class Route:
    method: str
    path: str
    params: dict[str, Any] = dataclasses.field(default_factory=dict)


STACK_TYPES = {"swarm": 1, "standalone": 2, "kubernetes": 3}


def stack_create(info: Optional[ServerInfo], type_: str, method: str, endpoint_id: int) -> list[Route]:
    """Create route(s) for a stack, in the order to try. One route when the version is known; the
    legacy route as a fallback only when it is not (tried on a route-missing 404 only)."""
    modern = Route("POST", f"/stacks/create/{type_}/{method}", {"endpointId": endpoint_id})
    legacy = Route("POST", "/stacks", {"type": STACK_TYPES[type_], "method": method, "endpointId": endpoint_id})
    if info is None or info.release is None:
        return [modern, legacy]
    return [modern] if info.at_least(2, 19) else [legacy]


def custom_template_create(info: Optional[ServerInfo], method: str) -> list[Route]:
    """Create route(s) for a custom template; same rules as ``stack_create``."""
    modern = Route("POST", f"/custom_templates/create/{method}")
    legacy = Route("POST", "/custom_templates", {"method": method})
    if info is None or info.release is None:
        return [modern, legacy]
    return [modern] if info.at_least(2, 19) else [legacy]


def call_first(routes: list[Route], send: Callable[[Route], Any]) -> Any:
    """Send through the first route; fall back to the next only on a route-missing 404."""
    for index, route in enumerate(routes):
        try:
            return send(route)
        except APIError as exc:
            if exc.route_missing and index + 1 < len(routes):
                continue
            raise
    raise AssertionError("no route")  # pragma: no cover


def token_create_status(info: ServerInfo) -> int:
    """API-token creation answers 201 up to 2.28 and 200 from 2.29."""
    return 200 if info.at_least(2, 29) else 201


def token_payload(info: ServerInfo, description: str, password: str) -> dict[str, str]:
    """2.19 and older take only a description; 2.20+ also the current password."""
    if info.at_least(2, 20):
        return {"description": description, "password": password}
    return {"description": description}


def has_users_me(info: ServerInfo) -> bool:
    """``GET /api/users/me`` exists from 2.20."""
    return info.at_least(2, 20)


def endpoint_container_engine(info: ServerInfo) -> bool:
    """Environments record a container engine, and accept ``podman``, from 2.22 (earlier servers ignore
    the ``ContainerEngine`` form field, so sending ``docker`` is always safe)."""
    return info.at_least(2, 22)


def stack_action_params(info: ServerInfo, endpoint_id: int) -> dict[str, int]:
    """Stack start/stop take ``endpointId`` from 2.19; older servers use the stack's stored endpoint."""
    return {"endpointId": endpoint_id} if info.at_least(2, 19) else {}


def user_password_payload(info: ServerInfo, new_password: str) -> dict[str, str]:
    """The fields of ``PUT /users/{id}`` that set another user's password as an admin. 2.19+ take it as
    ``NewPassword`` (``Password`` alone is then the caller's current password and is refused); older
    servers read ``Password`` as the new password and ignore ``NewPassword``, so both are sent there:
    each shape reads the field it knows, and an admin's ``Password`` is not checked by the newer one."""
    if info.at_least(2, 19):
        return {"NewPassword": new_password}
    return {"Password": new_password, "NewPassword": new_password}
