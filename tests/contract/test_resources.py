"""Contract scenarios for the resource routes, confirming product §9 items: the same requests against
the simulator and (with PORTAINER_URL) the real server."""

from __future__ import annotations

import uuid

from tests.contract.conftest import Server

COMPOSE = 'services:\n  web:\n    image: 127.0.0.1:5999/pp/busybox:1\n    command: ["/bin/sleep", "60"]\n'


def test_numeric_stack_type_path_is_refused(server: Server) -> None:
    # §9.1: numeric types in the path are a 400, so "try numeric, fall back on 404" never falls back
    r = server.http.post(
        "/api/stacks/create/2/string",
        params={"endpointId": 1},
        headers=server.key(),
        json={"Name": "numeric", "StackFileContent": COMPOSE},
    )
    assert r.status_code == 400


def test_legacy_stack_create_is_405_in_2_33(server: Server) -> None:
    r = server.http.post(
        "/api/stacks",
        params={"type": 2, "method": "string", "endpointId": 1},
        headers=server.key(),
        json={"Name": "legacy", "StackFileContent": COMPOSE},
    )
    assert r.status_code == 405


def test_stack_create_answers_200_and_delete_needs_the_endpoint(server: Server) -> None:
    name = "contract-" + uuid.uuid4().hex[:6]
    r = server.http.post(
        "/api/stacks/create/standalone/string",
        params={"endpointId": 1},
        headers=server.key(),
        json={"Name": name, "StackFileContent": COMPOSE},
    )
    assert r.status_code == 200  # §9.8
    sid = r.json()["Id"]
    assert server.http.get(f"/api/stacks/{sid}/file", headers=server.key()).json()["StackFileContent"] == COMPOSE
    assert server.http.delete(f"/api/stacks/{sid}", params={"endpointId": 1}, headers=server.key()).status_code == 204


def test_template_validation_is_a_500(server: Server) -> None:
    # §9.4 and §9.9: create route by method name; validation errors answer 500
    r = server.http.post(
        "/api/custom_templates/create/string",
        headers=server.key(),
        json={"Title": "", "Description": "d", "Type": 2, "Platform": 1, "FileContent": COMPOSE},
    )
    assert r.status_code == 500 and r.json()["message"] == "Unable to create custom template"


def test_deleting_an_unknown_registry_is_an_empty_200(server: Server) -> None:
    # §9.10: a server-side panic in 2.29+ answers 200 with an empty body
    r = server.http.delete("/api/registries/987654", headers=server.key())
    assert r.status_code == 200 and r.content == b""


def test_unknown_service_webhook_token_is_404(server: Server) -> None:
    # §9.5: service webhooks trigger at /api/webhooks/{token} (public)
    r = server.http.post(f"/api/webhooks/{uuid.uuid4()}")
    assert r.status_code == 404


def test_endpoint_creation_type_is_validated(server: Server) -> None:
    # §9.7: the creation types named in the error message (5 local Kubernetes, 3 Azure)
    r = server.http.post(
        "/api/endpoints", headers=server.key(), files={"Name": (None, "x"), "EndpointCreationType": (None, "0")}
    )
    assert r.status_code == 400
    assert "5 (Local Kubernetes environment)" in r.json()["details"] and "3 (Azure environment)" in r.json()["details"]
