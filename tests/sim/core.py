"""Core Portainer CE routes of the simulator: system status/version, auth, API keys, users (reference §2-4)."""

from __future__ import annotations

import hashlib
import re
import time
from typing import Any

from .server import AUTH_COOKIE, INVALID, JWT_LIFETIME, PortainerSim, Result, SimError, SimRequest, field, parse_id

M = re.Match[str]
NOT_FOUND_USER = "Unable to find a user with the specified identifier inside the database"


def _status(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    out: dict[str, Any] = {"Version": sim.version, "InstanceID": sim.instance_id}
    if not sim.ge("2.22"):
        out["DemoEnvironment"] = {"enabled": False, "users": None, "environments": None}
    return 200, out, None


def _system_version(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    user = sim.authenticate(req)
    sim.system_version_calls += 1  # real Portainer calls api.github.com here: clients must not use it
    v = sim.version
    build = {
        "BuildNumber": "sim",
        "ImageTag": v,
        "NodejsVersion": "18.20.4",
        "YarnVersion": "1.22.22",
        "WebpackVersion": "5.88.2",
        "GoVersion": "go1.24.6",
        "GitCommit": "0000000",
    }
    out: dict[str, Any] = {"UpdateAvailable": False, "LatestVersion": "", "ServerVersion": v}
    env = {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin"]} if user["Role"] == 1 else {}
    if sim.ge("2.25"):
        out.update(
            VersionSupport="LTS",
            ServerEdition="CE",
            DatabaseVersion=v,
            Build=build,
            Runtime=env,
            Dependencies={
                "DockerVersion": "v28.3.3",
                "HelmVersion": "v3.18.4",
                "KubectlVersion": "v1.33.3",
                "ComposeVersion": "v2.39.1",
            },
        )
    elif sim.ge("2.20"):
        out.update(ServerEdition="CE", DatabaseVersion=v, Build=dict(build, **env))
    else:
        build.pop("GitCommit")
        out.update(DatabaseVersion=v, Build=build)
    return 200, out, None


def _settings_public(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    return (
        200,
        {
            "LogoURL": "",
            "AuthenticationMethod": 1,
            "RequiredPasswordLength": 12,
            "EnableEdgeComputeFeatures": False,
            "EnforceEdgeID": False,
            "FeatureFlagSettings": {},
            "OAuthLoginURI": "",
            "OAuthLogoutURI": "",
            "OAuthHideInternalAuth": False,
            "EnableTelemetry": False,
            "KubeconfigExpiry": "0",
            "IsDockerDesktopExtension": False,
            **sim.settings,
        },
        None,
    )


def _auth(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    p = req.payload()
    username, password = field(p, "username", str, ""), field(p, "password", str, "")
    if not username or not password:
        raise SimError(400, INVALID, "Invalid username" if not username else "Invalid password")
    user = sim.find_user(username)
    if user is None or user["Password"] != password:
        raise SimError(422, "Invalid credentials", "Unauthorized")
    token = sim.issue_jwt(user["Id"])
    if not sim.ge("2.20"):
        return 200, {"jwt": token}, None
    expires = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + JWT_LIFETIME))
    return (
        200,
        {"jwt": token},
        {"Set-Cookie": f"{AUTH_COOKIE}={token}; Path=/; Expires={expires}; HttpOnly; SameSite=Strict"},
    )


def _logout(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    if sim.ge("2.20"):  # only the cookie's JWT is revoked
        sim._jwts.pop(req.cookies.get(AUTH_COOKIE, ""), None)
    return (
        204,
        None,
        {
            "Set-Cookie": f"{AUTH_COOKIE}=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; "
            "Max-Age=0; HttpOnly; SameSite=Strict"
        },
    )


def _admin_check(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    if any(u["Role"] == 1 for u in sim.users.values()):
        return 204, None, None
    raise SimError(404, "No administrator account found inside the database")


def _admin_init(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    p = req.payload()
    username, password = field(p, "username", str, ""), field(p, "password", str, "")
    if not username or " " in username:
        raise SimError(400, INVALID, "Invalid username. Must not contain any whitespace")
    if not password:
        raise SimError(400, INVALID, "Invalid password")
    if any(u["Role"] == 1 for u in sim.users.values()):
        raise SimError(409, "Unable to create administrator user", "An administrator user already exists")
    if not sim.password_ok(password):
        raise SimError(400, "Password does not meet the requirements")
    return 200, sim.user_json(sim.create_user(username, password, 1), with_hash=True), None


def _user_create(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    sim.authenticate(req, admin=True)
    p = req.payload()
    username, password = field(p, "username", str, ""), field(p, "password", str, "")
    role = field(p, "role", int, 0)
    if not username or " " in username:
        raise SimError(400, INVALID, "Invalid username. Must not contain any whitespace")
    if role not in (1, 2):
        raise SimError(400, INVALID, "Invalid role value. Value must be one of: 1 (administrator) or 2 (regular user)")
    if sim.find_user(username):
        raise SimError(409, "Another user with the same username already exists", "User already exists")
    if not sim.password_ok(password):
        raise SimError(400, "Password does not meet the requirements")
    return 200, sim.user_json(sim.create_user(username, password, role)), None


def _user_list(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    if sim.authenticate(req)["Role"] != 1:
        raise SimError(403, "Permission denied to access users list", "Unauthorized")
    return (
        200,
        [{"Id": u["Id"], "Username": u["Username"], "Role": u["Role"]} for _, u in sorted(sim.users.items())],
        None,
    )


def _user_me(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    user = sim.authenticate(req)
    force = sim._jwts[req.jwt][2] if req.jwt in sim._jwts else False
    return 200, dict(sim.user_json(user), forceChangePassword=force), None


def _target(sim: PortainerSim, req: SimRequest, m: M, denied: str) -> tuple[dict[str, Any], int]:
    """Authenticate, parse {id}, allow an admin or the user themself: (caller, id)."""
    caller, uid = sim.authenticate(req), parse_id(m, "user")
    if caller["Role"] != 1 and caller["Id"] != uid:
        raise SimError(403, denied, "Unauthorized")
    return caller, uid


def _get_user(sim: PortainerSim, uid: int) -> dict[str, Any]:
    if uid not in sim.users:
        raise SimError(404, NOT_FOUND_USER, "Object not found inside the database")
    return sim.users[uid]


def _user_inspect(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    return 200, sim.user_json(_get_user(sim, _target(sim, req, m, "Permission denied inspect user")[1])), None


def _user_update(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    caller, uid = _target(sim, req, m, "Permission denied to update user")
    admin, p = caller["Role"] == 1, req.payload()
    username, password = field(p, "username", str, ""), field(p, "password", str, "")
    new_password, role = field(p, "newpassword", str, ""), field(p, "role", int, 0)
    use_cache, theme = field(p, "usecache", bool), field(p, "theme", dict)
    if " " in username:
        raise SimError(400, INVALID, "invalid username. Must not contain any whitespace")
    if role not in (0, 1, 2):
        raise SimError(400, INVALID, "invalid role value. Value must be one of: 1 (administrator) or 2 (regular user)")
    if not admin and role:
        raise SimError(403, "Permission denied to update user to administrator role", "Access denied to resource")
    user = _get_user(sim, uid)
    if username and username != user["Username"]:
        if not admin:
            raise SimError(403, "Permission denied. Unable to update username", "Access denied to resource")
        other = sim.find_user(username)
        if other is not None and other["Id"] != uid:
            raise SimError(409, "Another user with the same username already exists", "User already exists")
    if password and not new_password:
        raise SimError(400, "Existing password field specified without new password field.")
    if new_password:
        if not admin and password != user["Password"]:
            raise SimError(
                403, "Current password doesn't match. Password left unchanged", "Current password does not match"
            )
        if not sim.password_ok(new_password):
            raise SimError(400, "Password does not meet the minimum strength requirements")
    if username:
        user["Username"] = username
    if new_password:
        user["Password"] = new_password
    if new_password or role:
        user["Role"] = role or user["Role"]
        sim.bump_tokens(uid)
    color = {k.lower(): v for k, v in (theme or {}).items()}.get("color")
    if isinstance(color, str):
        user["ThemeSettings"] = {"color": color}
    if use_cache is not None:
        user["UseCache"] = use_cache
    return 200, sim.user_json(user), None


def _user_passwd(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    uid, p = _target(sim, req, m, "Permission denied to update user")[1], req.payload()
    password, new_password = field(p, "password", str, ""), field(p, "newpassword", str, "")
    if not password or not new_password:
        raise SimError(400, INVALID, "invalid current password" if not password else "invalid new password")
    user = _get_user(sim, uid)
    if password != user["Password"]:
        raise SimError(403, "Current password doesn't match", "Current password does not match")
    if not sim.password_ok(new_password):
        raise SimError(400, "Password does not meet the minimum strength requirements")
    user["Password"] = new_password
    sim.bump_tokens(uid)
    return 204, None, None


def _user_delete(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    caller, uid = sim.authenticate(req, admin=True), parse_id(m, "user")
    if uid == 1:
        raise SimError(403, "Cannot remove the initial admin account")
    if uid == caller["Id"]:
        raise SimError(403, "Cannot remove your own user account. Contact another administrator")
    user = _get_user(sim, uid)
    if user["Role"] == 1 and not any(u["Role"] == 1 and u["Password"] for u in sim.users.values() if u is not user):
        raise SimError(
            500, "Cannot remove local administrator user", "Cannot remove the last local administrator account"
        )
    del sim.users[uid]
    for kid in [k for k, v in sim.api_keys.items() if v["userId"] == uid]:
        sim.delete_api_key(kid)
    return 204, None, None


def _token_create(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    caller, new = sim.authenticate(req), sim.ge("2.20")
    if req.auth == "apikey":
        raise (
            SimError(401, "Auth not supported", "Authentication required")
            if new
            else SimError(401, "A valid authorisation token is missing", "Unauthorized")
        )
    p = req.payload()
    description = field(p, "description", str, "")
    if not description or description.isspace() or len(description.encode()) >= 128:
        raise SimError(
            400,
            INVALID,
            "invalid description: "
            + (
                "cannot be empty"
                if not description
                else "cannot contain only whitespaces"
                if description.isspace()
                else "cannot be longer than 128 characters"
            ),
        )
    uid = parse_id(m, "user")
    if caller["Id"] != uid:
        raise SimError(403, "Permission denied to create user access token", "Unauthorized")
    user = _get_user(sim, uid)
    if new:  # 2.19 had no password in the payload
        password = field(p, "password", str, "")
        if not password:
            raise SimError(400, INVALID, "invalid password: cannot be empty")
        if password != user["Password"]:
            raise SimError(403, "Current password doesn't match", "Current password does not match")
    raw = sim.create_api_key(uid, description)
    key = sim.api_keys[sim._digests[hashlib.sha256(raw.encode()).hexdigest()]]
    return (200 if sim.ge("2.29") else 201), {"rawAPIKey": raw, "apiKey": dict(key)}, None


def _token_list(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    caller, uid = sim.authenticate(req), parse_id(m, "user")
    user = _get_user(sim, uid)
    if caller["Id"] != uid and not (caller["Role"] == 1 and user["Role"] != 1):
        raise SimError(403, "Permission denied to get user access tokens", "Unauthorized")
    return (
        200,
        [
            {k: v for k, v in key.items() if k != "digest"}
            for _, key in sorted(sim.api_keys.items())
            if key["userId"] == uid
        ],
        None,
    )


def _token_delete(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    uid, kid = _target(sim, req, m, "Permission denied to remove api-key")[1], parse_id(m, "API Key", "kid")
    _get_user(sim, uid)
    if kid not in sim.api_keys:
        raise SimError(500, "API Key not found")
    if sim.api_keys[kid]["userId"] != uid:
        raise SimError(403, "Permission denied to remove api-key", "Unauthorized")
    sim.delete_api_key(kid)
    return 204, None, None


def register_core_routes(sim: PortainerSim) -> None:
    uid = r"/api/users/(?P<id>[^/]+)"
    for method, regex, handler, options in (
        ("GET", r"/api/status", _status, {}),
        ("GET", r"/api/status/version", _system_version, {"max_version": "2.27"}),
        ("GET", r"/api/system/status", _status, {"min_version": "2.17"}),
        ("GET", r"/api/system/version", _system_version, {"min_version": "2.17"}),
        ("GET", r"/api/settings/public", _settings_public, {}),
        ("POST", r"/api/auth", _auth, {"rate_limited": True}),
        ("POST", r"/api/auth/logout", _logout, {}),
        ("GET", r"/api/users/admin/check", _admin_check, {}),
        ("POST", r"/api/users/admin/init", _admin_init, {}),
        ("POST", r"/api/users", _user_create, {}),
        ("GET", r"/api/users", _user_list, {}),
        ("GET", r"/api/users/me", _user_me, {"min_version": "2.20"}),
        ("GET", uid, _user_inspect, {}),
        ("PUT", uid, _user_update, {}),
        ("DELETE", uid, _user_delete, {}),
        ("PUT", uid + "/passwd", _user_passwd, {"rate_limited": True}),
        ("POST", uid + "/tokens", _token_create, {"rate_limited": True}),
        ("GET", uid + "/tokens", _token_list, {}),
        ("DELETE", uid + r"/tokens/(?P<kid>[^/]+)", _token_delete, {}),
    ):
        sim.add_route(method, regex, handler, **options)
