"""Version detection and the route tables of ``_compat``."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from pulumi_portainer import _compat
from pulumi_portainer._compat import Route, ServerInfo, call_first, custom_template_create, server_info, stack_create
from pulumi_portainer._http import Client
from pulumi_portainer.config import Connection
from pulumi_portainer.errors import APIError


def make(handler: Any) -> tuple[Client, list[str]]:
    seen: list[str] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        return handler(request)  # type: ignore[no-any-return]

    return Client(Connection(url="http://127.0.0.1:9", api_key="ptr_k"), transport=httpx.MockTransport(record)), seen


def status(version: str, legacy_only: bool = False) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/system/status" and legacy_only:
            return httpx.Response(404, text="404 page not found\n")
        return httpx.Response(200, json={"Version": version, "InstanceID": "iid-1"})

    return handler


def test_detected_once_per_client_from_system_status() -> None:
    client, seen = make(status("2.33.7"))
    assert server_info(client) == ServerInfo("2.33.7", "iid-1")
    server_info(client)
    assert seen == ["GET /api/system/status"]


def test_falls_back_to_api_status_only_when_the_route_is_missing() -> None:
    client, seen = make(status("2.16.2", legacy_only=True))
    assert server_info(client).version == "2.16.2"
    assert seen == ["GET /api/system/status", "GET /api/status"]


def test_a_json_404_is_not_a_missing_route() -> None:
    client, seen = make(lambda r: httpx.Response(404, json={"message": "nope"}))
    with pytest.raises(APIError):
        server_info(client)
    assert seen == ["GET /api/system/status"]


def test_below_2_14_is_refused() -> None:
    client, _ = make(status("2.13.1"))
    with pytest.raises(_compat.UnsupportedVersionError, match="2.14 or later"):
        server_info(client)


@pytest.mark.parametrize(
    ("version", "warning"),
    [("2.36.0", "untested version"), ("2.41.2", "asynchronously"), ("2.33.7", None), ("2.14.0", None)],
)
def test_warnings(version: str, warning: str | None, capsys: pytest.CaptureFixture[str]) -> None:
    client, _ = make(status(version))
    server_info(client)
    err = capsys.readouterr().err
    if warning:
        assert warning in err and err.count("\n") == 1
    else:
        assert err == ""


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("2.33.7", [Route("POST", "/stacks/create/standalone/string", {"endpointId": 1})]),
        ("2.24.0", [Route("POST", "/stacks/create/standalone/string", {"endpointId": 1})]),
        ("2.19.0", [Route("POST", "/stacks/create/standalone/string", {"endpointId": 1})]),
        ("2.18.4", [Route("POST", "/stacks", {"type": 2, "method": "string", "endpointId": 1})]),
    ],
)
def test_stack_create_route_by_version(version: str, expected: list[Route]) -> None:
    assert stack_create(ServerInfo(version, "i"), "standalone", "string", 1) == expected


def test_template_create_route_by_version() -> None:
    assert custom_template_create(ServerInfo("2.33.7", "i"), "file") == [Route("POST", "/custom_templates/create/file")]
    assert custom_template_create(ServerInfo("2.16.0", "i"), "file") == [
        Route("POST", "/custom_templates", {"method": "file"})
    ]


def test_unknown_version_falls_back_only_on_route_missing() -> None:
    routes = stack_create(None, "swarm", "string", 2)
    assert [r.path for r in routes] == ["/stacks/create/swarm/string", "/stacks"]
    tried: list[str] = []

    def send(route: Route) -> str:
        tried.append(route.path)
        if route.path != "/stacks":
            raise APIError(404, "POST", route.path, "404 page not found", route_missing=True)
        return "created"

    assert call_first(routes, send) == "created"
    assert tried == ["/stacks/create/swarm/string", "/stacks"]

    def refuse(route: Route) -> str:
        raise APIError(404, "POST", route.path, "Unable to find an environment")

    with pytest.raises(APIError, match="Unable to find"):
        call_first(routes, refuse)


def test_version_specific_payloads() -> None:
    assert _compat.token_create_status(ServerInfo("2.28.1", "i")) == 201
    assert _compat.token_create_status(ServerInfo("2.33.7", "i")) == 200
    assert _compat.token_payload(ServerInfo("2.19.0", "i"), "d", "p") == {"description": "d"}
    assert _compat.token_payload(ServerInfo("2.24.0", "i"), "d", "p") == {"description": "d", "password": "p"}
    assert not _compat.has_users_me(ServerInfo("2.19.0", "i")) and _compat.has_users_me(ServerInfo("2.20.0", "i"))
