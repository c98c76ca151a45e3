"""Tests of the Portainer simulator itself."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

import httpx
import pytest

from tests.sim import PortainerSim, SimError, SimRequest, error
from tests.sim.server import Result

ADMIN_PW = "sim-admin-password-1"
# One shared client (creating one costs ~0.1 s); it never stores cookies.
H = httpx.Client(timeout=5, trust_env=False, cookies=CookieJar(DefaultCookiePolicy(allowed_domains=[])))


@pytest.fixture(scope="module", autouse=True)
def _close_client() -> Iterator[None]:
    yield
    H.close()


class Api:
    """Requests against one sim with its admin API key."""

    def __init__(self, sim: PortainerSim) -> None:
        self.sim = sim

    def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = {"X-API-Key": self.sim.api_key or "", **kw.pop("headers", {})}
        return H.request(method, self.sim.url + path, headers=headers, **kw)

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("PUT", path, **kw)

    def delete(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("DELETE", path, **kw)


@pytest.fixture
def sim() -> Iterator[PortainerSim]:
    with PortainerSim() as s:
        yield s


@pytest.fixture
def client(sim: PortainerSim) -> Api:
    return Api(sim)


def login(sim: PortainerSim, username: str = "admin", password: str = ADMIN_PW) -> str:
    r = H.post(f"{sim.url}/api/auth", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return str(r.json()["jwt"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# ------------------------------------------------------------------ routing / system
@pytest.mark.parametrize("version, system_status", [("2.33.7", 200), ("2.24.0", 200), ("2.17.0", 200), ("2.16.2", 404)])
def test_status_routes_per_version(sim: PortainerSim, version: str, system_status: int) -> None:
    sim.version = version
    r = H.get(f"{sim.url}/api/status")
    assert r.status_code == 200 and r.json()["Version"] == version
    assert r.json()["InstanceID"] == sim.instance_id
    r = H.get(f"{sim.url}/api/system/status")
    assert r.status_code == system_status
    if system_status == 404:
        assert r.text == "404 page not found\n" and r.headers["content-type"].startswith("text/plain")
    else:
        assert set(r.json()) >= {"Version", "InstanceID"}


def test_instance_id_and_system_version_is_recorded(client: Api, sim: PortainerSim) -> None:
    assert PortainerSim(instance_id="abc").instance_id == "abc"
    assert client.get("/api/system/version").json()["ServerVersion"] == "2.33.7"
    assert sim.system_version_calls == 1 and sim.count("GET", r"/api/system/version") == 1


def test_404_text_vs_json_envelope_and_405(client: Api, sim: PortainerSim) -> None:
    r = client.get("/api/nope")
    assert (r.status_code, r.text) == (404, "404 page not found\n")
    r = client.get("/api/users/")  # trailing slash does not match
    assert r.status_code == 404 and r.text == "404 page not found\n"
    r = client.get("/api/users/999")
    assert r.status_code == 404 and r.headers["content-type"] == "application/json"
    assert r.content == (
        b'{"message":"Unable to find a user with the specified identifier inside the '
        b'database","details":"Object not found inside the database"}'
    )
    r = client.get("/api/users/abc")
    assert r.status_code == 400
    assert r.json() == {
        "message": "Invalid user identifier route variable",
        "details": 'Strconv.Atoi: parsing "abc": invalid syntax',
    }
    sim.version = "2.19.4"
    r = client.get("/api/users/abc")
    assert r.content.endswith(b'"details":"strconv.Atoi: parsing \\"abc\\": invalid syntax"}\n')
    r = client.delete("/api/users")
    assert r.status_code == 405 and r.content == b""


# ------------------------------------------------------------------ authentication
def test_api_key_auth(sim: PortainerSim) -> None:
    r = H.get(f"{sim.url}/api/users", headers={"x-api-key": sim.api_key or ""})
    assert r.status_code == 200
    assert r.json() == [{"Id": 1, "Username": "admin", "Role": 1}]
    assert "X-CSRF-Token" in r.headers
    r = H.get(f"{sim.url}/api/users", headers={"X-API-Key": "ptr_wrong"})
    assert r.status_code == 401 and r.json() == {"message": "Invalid JWT token", "details": "Unauthorized"}
    r = H.get(f"{sim.url}/api/users")
    assert r.status_code == 401
    assert r.json()["message"] == "A valid authorization token is missing"
    sim.version = "2.19.4"
    assert H.get(f"{sim.url}/api/users").json()["message"] == "A valid authorisation token is missing"


def test_login_and_jwt(sim: PortainerSim) -> None:
    r = H.post(f"{sim.url}/api/auth", json={"USERNAME": "admin", "password": ADMIN_PW, "x": 1})
    assert r.status_code == 200
    token = r.json()["jwt"]
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"portainer_api_key={token}; Path=/;")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert H.get(f"{sim.url}/api/users/me", headers=bearer(token)).json()["Username"] == "admin"
    assert H.get(f"{sim.url}/api/users/1", headers={"Authorization": token}).status_code == 200
    r = H.post(f"{sim.url}/api/auth", json={"Username": "admin", "Password": "wrong"})
    assert r.status_code == 422 and r.json() == {"message": "Invalid credentials", "details": "Unauthorized"}
    r = H.post(f"{sim.url}/api/auth", json={"Username": "admin"})
    assert r.status_code == 400 and r.json()["details"] == "Invalid password"
    assert H.post(f"{sim.url}/api/auth", content=b"").json()["details"] == "EOF"
    assert H.get(f"{sim.url}/api/users/me", headers=bearer("garbage")).status_code == 401
    # a password change invalidates earlier JWTs
    r = H.put(
        f"{sim.url}/api/users/1/passwd",
        headers=bearer(token),
        json={"Password": ADMIN_PW, "NewPassword": "another-long-password"},
    )
    assert r.status_code == 204 and r.content == b""
    r = H.get(f"{sim.url}/api/users/me", headers=bearer(token))
    assert r.status_code == 401 and r.json()["message"] == "Invalid JWT token"
    fresh = login(sim, "ADMIN", "another-long-password")  # usernames match case-insensitively
    assert H.get(f"{sim.url}/api/users/me", headers=bearer(fresh)).status_code == 200


def test_deleted_user_jwt(client: Api, sim: PortainerSim) -> None:
    uid = client.post("/api/users", json={"Username": "bob", "Password": "bob-password-123", "Role": 2}).json()["Id"]
    token = login(sim, "bob", "bob-password-123")
    assert client.delete(f"/api/users/{uid}").status_code == 204
    r = H.get(f"{sim.url}/api/users/me", headers=bearer(token))
    assert r.status_code == 401 and r.json()["message"] == "The authorization token is invalid"


def test_cookie_triggers_csrf(sim: PortainerSim) -> None:
    with httpx.Client(base_url=sim.url) as c:
        assert c.post("/api/auth", json={"Username": "admin", "Password": ADMIN_PW}).status_code == 200
        assert c.cookies.get("portainer_api_key")
        r = c.post("/api/users", json={"Username": "bob", "Password": "bob-password-123", "Role": 2})
        assert r.status_code == 403 and r.text == "Forbidden - CSRF token invalid\n"
        assert r.headers["content-type"].startswith("text/plain")
        r = c.get("/api/users")  # safe method: cookie auth works and hands out a token
        assert r.status_code == 200
        r = c.post(
            "/api/users",
            json={"Username": "bob", "Password": "bob-password-123", "Role": 2},
            headers={"X-CSRF-Token": r.headers["x-csrf-token"]},
        )
        assert r.status_code == 200
    sim.version = "2.19.4"  # no cookie auth before 2.20
    r = H.get(f"{sim.url}/api/users", headers={"Cookie": f"portainer_api_key={login(sim)}"})
    assert r.status_code == 401


def test_api_key_with_authorization_header(sim: PortainerSim) -> None:
    r = H.get(f"{sim.url}/api/status", headers={"X-API-Key": sim.api_key or "", **bearer(login(sim))})
    assert r.status_code == 403
    assert r.json() == {
        "message": "api key and auth header are not allowed at the same time",
        "details": "Api key and auth header are not allowed at the same time",
    }


def test_rate_limit_ban(sim: PortainerSim) -> None:
    url = f"{sim.url}/api/auth"
    codes = [H.post(url, json={"Username": "admin", "Password": "wrong"}).status_code for _ in range(11)]
    assert codes == [422] * 10 + [403]
    r = H.post(url, json={"Username": "admin", "Password": ADMIN_PW})
    assert r.status_code == 403
    assert r.json() == {"message": "Access denied", "details": "Access denied to resource"}
    assert sim.banned and sim.login_calls == 12
    sim.unban()
    assert H.post(url, json={"Username": "admin", "Password": ADMIN_PW}).status_code == 200


def test_token_sources_precedence(sim: PortainerSim) -> None:
    good = login(sim)
    assert H.get(f"{sim.url}/api/users", params={"X-API-KEY": sim.api_key}).status_code == 200
    assert H.get(f"{sim.url}/api/users", params={"token": good}).status_code == 200
    r = H.get(f"{sim.url}/api/users", headers={"Cookie": "portainer_api_key=stale", **bearer(good)})
    assert r.status_code == 401 and r.json()["message"] == "Invalid JWT token"  # the cookie is tried first
    sim.version = "2.19.4"
    r = H.get(f"{sim.url}/api/users/me", headers=bearer(good))  # "me" falls through to /users/{id}
    assert r.status_code == 400 and r.json()["message"] == "Invalid user identifier route variable"


def test_add_route_and_admin_init_timeout() -> None:
    def handler(sim: PortainerSim, req: SimRequest, match: re.Match[str]) -> Result:
        sim.authenticate(req)
        if match.group("id") == "0":
            raise SimError(409, "thing exists", "already there")
        return error(418, "teapot") if match.group("id") == "1" else (200, {"id": match.group("id")}, None)

    with PortainerSim(initialised=False, admin_init_timeout=0.0) as sim:
        sim.add_route("GET", r"/api/things/(?P<id>\d+)", handler)
        key = sim.create_api_key(sim.create_user("root", "root-password-1", 1)["Id"], "k")
        r = H.get(f"{sim.url}/api/things/0", headers={"X-API-Key": key})
        assert r.status_code == 409 and r.json() == {"message": "thing exists", "details": "Already there"}
        assert H.get(f"{sim.url}/api/things/1", headers={"X-API-Key": key}).json()["details"] == "Teapot"
        assert H.get(f"{sim.url}/api/things/7", headers={"X-API-Key": key}).json() == {"id": "7"}
        sim.users.clear()  # no administrator any more and the (zero) timeout has passed
        r = H.get(f"{sim.url}/api/system/status")
        assert r.status_code == 303 and r.headers["redirect-reason"] == "AdminInitTimeout"
        assert H.get(f"{sim.url}/api/status").status_code == 200


# ------------------------------------------------------------------ users
def test_user_create_rules(client: Api, sim: PortainerSim) -> None:
    r = client.post("/api/users", json={"username": "bob", "password": "bob-password-123", "role": 2})
    assert r.status_code == 200
    bob = r.json()
    assert bob["Id"] == 2 and bob["Role"] == 2 and "Password" not in bob
    r = client.post("/api/users", json={"Username": "BOB", "Password": "bob-password-123", "Role": 2})
    assert r.status_code == 409
    assert r.json() == {
        "message": "Another user with the same username already exists",
        "details": "User already exists",
    }
    r = client.post("/api/users", json={"Username": "carol", "Password": "short", "Role": 2})
    assert r.status_code == 400 and r.json()["message"] == "Password does not meet the requirements"
    r = client.post("/api/users", json={"Username": "carol x", "Password": "carol-password-1", "Role": 2})
    assert r.status_code == 400 and r.json()["details"].startswith("Invalid username")
    r = client.post("/api/users", json={"Username": "carol", "Password": "carol-password-1", "Role": 3})
    assert r.status_code == 400 and r.json()["details"].startswith("Invalid role value")
    sim.settings["RequiredPasswordLength"] = 4
    assert H.get(f"{sim.url}/api/settings/public").json()["RequiredPasswordLength"] == 4
    assert client.post("/api/users", json={"Username": "carol", "Password": "short", "Role": 2}).json()["Id"] == 3
    bob_jwt = login(sim, "bob", "bob-password-123")
    r = H.post(
        f"{sim.url}/api/users",
        headers=bearer(bob_jwt),
        json={"Username": "dave", "Password": "dave-password-1", "Role": 2},
    )
    assert r.status_code == 403 and r.json() == {"message": "Access denied", "details": "Unauthorized"}
    assert H.get(f"{sim.url}/api/users/1", headers=bearer(bob_jwt)).status_code == 403
    assert "Password" not in sim.user_json(sim.users[2]) and sim.users[2]["Password"] == "bob-password-123"


def test_user_update_and_delete_rules(client: Api, sim: PortainerSim) -> None:
    bob = client.post("/api/users", json={"Username": "bob", "Password": "bob-password-123", "Role": 2}).json()
    bob_jwt = login(sim, "bob", "bob-password-123")
    url = f"/api/users/{bob['Id']}"
    r = H.put(sim.url + url, headers=bearer(bob_jwt), json={"Role": 2})
    assert r.status_code == 403 and r.json()["message"] == "Permission denied to update user to administrator role"
    r = H.put(sim.url + url, headers=bearer(bob_jwt), json={"Username": "robert"})
    assert r.status_code == 403 and r.json()["message"] == "Permission denied. Unable to update username"
    r = H.put(sim.url + url, headers=bearer(bob_jwt), json={"Password": "bob-password-123"})
    assert r.status_code == 400
    r = H.put(sim.url + url, headers=bearer(bob_jwt), json={"Password": "x", "NewPassword": "new-password-12"})
    assert r.status_code == 403
    assert r.json()["message"] == "Current password doesn't match. Password left unchanged"
    r = H.put(sim.url + url, headers=bearer(bob_jwt), json={"Theme": {"color": "dark"}, "UseCache": False})
    assert r.status_code == 200 and r.json()["ThemeSettings"] == {"color": "dark"} and not r.json()["UseCache"]
    assert client.put(url, json={"Username": "ADMIN"}).status_code == 409
    r = client.put(url, json={"Username": "robert", "Role": 1})
    assert r.status_code == 200 and (r.json()["Username"], r.json()["Role"]) == ("robert", 1)
    assert H.get(f"{sim.url}/api/users/me", headers=bearer(bob_jwt)).status_code == 401  # role change
    r = client.delete("/api/users/1")
    assert r.status_code == 403 and r.json()["message"] == "Cannot remove the initial admin account"
    robert_jwt = login(sim, "robert", "bob-password-123")
    r = H.delete(f"{sim.url}{url}", headers=bearer(robert_jwt))
    assert r.status_code == 403
    assert r.json()["message"] == "Cannot remove your own user account. Contact another administrator"
    assert client.delete(url).status_code == 204
    assert client.delete(url).status_code == 404
    assert client.post("/api/users", json={"Username": "x", "Password": "x-password-123", "Role": 2}).json()["Id"] == 3


def test_admin_init_flow() -> None:
    with PortainerSim(initialised=False) as sim:
        assert sim.api_key is None and sim.users == {}
        assert H.get(f"{sim.url}/api/users/admin/check").status_code == 404
        body = {"Username": "root", "Password": "root-password-1"}
        r = H.post(f"{sim.url}/api/users/admin/init", json=body)
        assert r.status_code == 200 and r.json()["Password"].startswith("$2a$10$")
        assert H.get(f"{sim.url}/api/users/admin/check").status_code == 204
        assert H.post(f"{sim.url}/api/users/admin/init", json=body).status_code == 409


# ------------------------------------------------------------------ API tokens
@pytest.mark.parametrize("version, expected", [("2.33.7", 200), ("2.29.0", 200), ("2.28.1", 201), ("2.24.0", 201)])
def test_token_create_status_by_version(sim: PortainerSim, version: str, expected: int) -> None:
    sim.version = version
    token = login(sim)
    r = H.post(f"{sim.url}/api/users/1/tokens", headers=bearer(token), json={"password": ADMIN_PW, "description": "ci"})
    assert r.status_code == expected
    raw = r.json()["rawAPIKey"]
    assert raw.startswith("ptr_") and r.json()["apiKey"]["prefix"] == raw[:7] and r.json()["apiKey"]["digest"]
    assert H.get(f"{sim.url}/api/users/1", headers={"X-API-Key": raw}).status_code == 200
    keys = H.get(f"{sim.url}/api/users/1/tokens", headers={"X-API-Key": raw}).json()
    assert [k["description"] for k in keys] == ["sim-bootstrap", "ci"] and "digest" not in keys[0]


def test_token_create_rules(client: Api, sim: PortainerSim) -> None:
    r = client.post("/api/users/1/tokens", json={"password": ADMIN_PW, "description": "ci"})
    assert r.status_code == 401
    assert r.json() == {"message": "Auth not supported", "details": "Authentication required"}
    h = bearer(login(sim))
    url = f"{sim.url}/api/users/1/tokens"
    r = H.post(url, headers=h, json={"password": "nope", "description": "ci"})
    assert r.status_code == 403 and r.json()["message"] == "Current password doesn't match"
    r = H.post(url, headers=h, json={"password": ADMIN_PW, "description": "x" * 128})
    assert r.status_code == 400 and "longer than 128" in r.json()["details"]
    r = H.post(url, headers=h, json={"password": ADMIN_PW, "description": "   "})
    assert r.status_code == 400 and "whitespaces" in r.json()["details"]
    assert H.post(url, headers=h, json={"password": ADMIN_PW, "description": "x" * 127}).status_code == 200


# ------------------------------------------------------------------ faults and recording
def test_fault_status_without_commit(client: Api, sim: PortainerSim) -> None:
    sim.inject("POST", "/api/users", status=500, body={"message": "boom"})
    r = client.post("/api/users", json={"Username": "bob", "Password": "bob-password-123", "Role": 2})
    assert r.status_code == 500 and r.json() == {"message": "boom"}
    assert sim.find_user("bob") is None
    r = client.post("/api/users", json={"Username": "bob", "Password": "bob-password-123", "Role": 2})
    assert r.status_code == 200  # consumed after one use


def test_fault_status_with_commit(client: Api, sim: PortainerSim) -> None:
    sim.inject("POST", "/api/users", status=502, body="bad gateway", commit=True, times=2)
    for name in ("bob", "carol"):
        r = client.post("/api/users", json={"Username": name, "Password": "x-password-123", "Role": 2})
        assert (r.status_code, r.text) == (502, "bad gateway")
    assert sim.find_user("bob") and sim.find_user("carol") and not sim.faults


def test_fault_delay(sim: PortainerSim) -> None:
    sim.inject("GET", r"/api/system/status", delay=0.5)
    with pytest.raises(httpx.ReadTimeout):
        H.get(f"{sim.url}/api/system/status", timeout=0.1)
    assert H.get(f"{sim.url}/api/system/status", timeout=2).status_code == 200


def test_fault_drop_with_commit(client: Api, sim: PortainerSim) -> None:
    sim.inject("POST", "/api/users", drop=True, commit=True)
    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/api/users", json={"Username": "bob", "Password": "bob-password-123", "Role": 2})
    assert sim.find_user("bob") is not None
    assert client.get("/api/users").status_code == 200  # the client recovers on a new connection


def test_fault_empty(client: Api, sim: PortainerSim) -> None:
    sim.inject("*", r"/api/users", empty=True)
    r = client.post("/api/users", json={"Username": "bob", "Password": "bob-password-123", "Role": 2})
    assert (r.status_code, r.content) == (200, b"")
    assert sim.find_user("bob") is not None


def test_recording_and_keep_alive(client: Api, sim: PortainerSim) -> None:
    sim.clear_requests()
    threads = [
        threading.Thread(target=client.get, args=("/api/status",), kwargs={"params": {"a": "1"}}) for _ in range(5)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    client.post("/api/auth", json={"Username": "admin", "Password": ADMIN_PW})
    assert sim.count() == 6 and sim.count("GET", r"/api/status") == 5 and sim.count(path_regex="/api/auth") == 1
    rec = sim.requests[-1]
    assert rec.method == "POST" and rec.headers["x-api-key"] == sim.api_key and b'"Username"' in rec.body
    assert sim.requests[0].query == {"a": ["1"]}


def test_default_environment_and_docker_proxy() -> None:
    from tests.sim.docker import add_endpoint

    with PortainerSim() as sim:
        headers = {"X-API-Key": sim.api_key or ""}
        with httpx.Client(base_url=sim.url) as c:
            assert c.get("/api/endpoints/1", headers=headers).json()["Name"] == "local"
            swarm_id = c.get("/api/endpoints/1/docker/swarm", headers=headers).json()["ID"]
            assert swarm_id == sim.engines[1].swarm_id
            sim.engines[1].add_service("web_app", "img", {"com.docker.stack.namespace": "web"})
            sim.engines[1].add_service("other", "img")
            flt = '{"label": ["com.docker.stack.namespace=web"]}'
            found = c.get("/api/endpoints/1/docker/services", params={"filters": flt}, headers=headers).json()
            assert [s["Spec"]["Name"] for s in found] == ["web_app"]
            standalone = add_endpoint(sim, "plain", swarm=False)
            r = c.get(f"/api/endpoints/{standalone['Id']}/docker/swarm", headers=headers)
            assert r.status_code == 503
            assert c.get("/api/endpoints/99", headers=headers).status_code == 404
