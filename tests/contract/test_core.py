"""Contract scenarios for the system, auth and user routes, and the product §9 items they confirm."""

from __future__ import annotations

import uuid

import pytest

from tests.contract.conftest import Server


def test_system_status_and_legacy_status_agree(server: Server) -> None:
    new = server.http.get("/api/system/status")
    old = server.http.get("/api/status")  # §9.2: still answers in 2.33
    assert new.status_code == old.status_code == 200
    assert new.json()["InstanceID"] == old.json()["InstanceID"]
    assert new.json()["Version"].startswith("2.")


def test_unknown_route_is_a_plain_text_404(server: Server) -> None:
    r = server.http.get("/api/no-such-route", headers=server.key())
    assert r.status_code == 404 and not r.headers.get("content-type", "").startswith("application/json")


def test_unknown_object_is_a_json_404(server: Server) -> None:
    r = server.http.get("/api/users/987654", headers=server.key())
    assert r.status_code == 404 and r.json()["message"]


def test_wrong_credentials_answer_422(server: Server) -> None:
    # §9.8: 422, not 401
    r = server.http.post("/api/auth", json={"username": "nobody-" + uuid.uuid4().hex[:6], "password": "wrong-pass"})
    assert r.status_code == 422 and r.json()["message"] == "Invalid credentials"


def test_bad_api_key_is_401_invalid_jwt(server: Server) -> None:
    r = server.http.get("/api/users", headers={"X-API-Key": "ptr_not-a-real-key"})
    assert r.status_code == 401 and r.json()["message"] == "Invalid JWT token"


def test_api_key_and_authorization_together_are_refused(server: Server) -> None:
    r = server.http.get("/api/users", headers={**server.key(), "Authorization": "Bearer x"})
    assert r.status_code == 403


def test_login_cookie_triggers_csrf_on_unsafe_methods(server: Server) -> None:
    if not server.password:
        pytest.fail("set PORTAINER_USERNAME and PORTAINER_PASSWORD for the login scenarios", pytrace=False)
    login = server.http.post("/api/auth", json={"username": server.username, "password": server.password})
    assert login.status_code == 200 and "portainer_api_key" in login.headers.get("set-cookie", "")
    jwt = login.json()["jwt"]
    r = server.http.post("/api/users", json={"Username": "x"}, headers={"Cookie": f"portainer_api_key={jwt}"})
    assert r.status_code == 403 and r.text.startswith("Forbidden")
    ok = server.http.get("/api/users", headers={"Authorization": f"Bearer {jwt}"})
    assert ok.status_code == 200


def test_user_create_conflict_and_delete(server: Server) -> None:
    name = "contract-" + uuid.uuid4().hex[:8]
    created = server.http.post(
        "/api/users", json={"Username": name, "Password": "contract-pass-123", "Role": 2}, headers=server.key()
    )
    assert created.status_code == 200  # §9.8: creates answer 200
    assert "Password" not in created.json() or not created.json()["Password"]
    uid = created.json()["Id"]
    dup = server.http.post(
        "/api/users", json={"Username": name.upper(), "Password": "contract-pass-123", "Role": 2}, headers=server.key()
    )
    assert dup.status_code == 409  # case-insensitive
    short = server.http.post(
        "/api/users", json={"Username": name + "x", "Password": "short", "Role": 2}, headers=server.key()
    )
    assert short.status_code == 400 and short.json()["message"] == "Password does not meet the requirements"
    assert server.http.delete(f"/api/users/{uid}", headers=server.key()).status_code == 204
    assert server.http.delete(f"/api/users/{uid}", headers=server.key()).status_code == 404


def test_initial_admin_cannot_be_deleted(server: Server) -> None:
    r = server.http.delete("/api/users/1", headers=server.key())
    assert r.status_code == 403 and r.json()["message"] in (
        "Cannot remove the initial admin account",
        "Cannot remove your own user account. Contact another administrator",
    )
