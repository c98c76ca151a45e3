"""In-process simulator of the Portainer CE HTTP API: auth, API keys, system, users.

Behaviour follows /work/shared/reference/portainer-api.md sections 1-4 and 10; standard library only.
Other test modules add resources with ``PortainerSim.add_route``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import socket
import tempfile
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple, Optional, Union
from urllib.parse import parse_qs, unquote, urlsplit

Result = tuple[int, Any, Optional[dict[str, str]]]  # (status, Envelope|dict|list|str|bytes|None, headers)
TEXT, JSON_CT = "text/plain; charset=utf-8", "application/json"
PLAIN_404 = (404, b"404 page not found\n", {"Content-Type": TEXT, "X-Content-Type-Options": "nosniff"})
SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")
AUTH_COOKIE = "portainer_api_key"
INVALID = "Invalid request payload"
DROP_CONNECTION = 0  # a handler answering this status drops the connection (a Go panic before 2.29)
JWT_LIFETIME = 8 * 3600


def vtuple(version: str) -> tuple[int, int, int]:
    """'2.33.7' / '2.33.0-rc1' -> (2, 33, 7)."""
    nums = [int(n) for n in re.findall(r"\d+", version.split("-")[0])[:3]]
    return tuple((nums + [0, 0, 0])[:3])  # type: ignore[return-value]


def go_json(obj: Any) -> bytes:
    """Compact JSON with Go's HTML escaping (encoding/json)."""
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    for raw, esc in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(raw, esc)
    return text.encode()


class Envelope(dict[str, Any]):
    """Portainer error body; rendered per server version (capitalised details, trailing newline)."""


def error(status: int, message: str, details: Optional[str] = None) -> Result:
    """Portainer's JSON error envelope as a handler result; details None -> the message."""
    return status, Envelope(message=message, details=details), None


class SimError(Exception):
    """Raise from a handler to answer with the JSON error envelope."""

    def __init__(self, status: int, message: str, details: Optional[str] = None) -> None:
        super().__init__(f"{status} {message}: {details}")
        self.status, self.message, self.details = status, message, details


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    spool: Optional[str] = None  # path of a body too large to keep in memory (body is then b"")


class SimRequest:
    """What a route handler sees: the recorded request plus the authentication outcome."""

    def __init__(self, rec: Recorded) -> None:
        self.method, self.path, self.query, self.headers, self.body = (
            rec.method,
            rec.path,
            rec.query,
            rec.headers,
            rec.body,
        )
        self.spool = rec.spool
        self.cookies: dict[str, str] = {}
        for part in rec.headers.get("cookie", "").split(";"):
            name, sep, value = part.strip().partition("=")
            if sep and name not in self.cookies:
                self.cookies[name] = value.strip('"')
        self.user: Optional[dict[str, Any]] = None
        self.auth: Optional[str] = None  # "apikey" | "cookie" | "bearer"
        self.jwt: Optional[str] = None

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    def arg(self, name: str) -> Optional[str]:
        values = self.query.get(name)
        return values[0] if values else None

    def payload(self) -> dict[str, Any]:
        """JSON object body with lower-cased keys (Portainer's decoder is case-insensitive)."""
        if not self.body.strip():
            raise SimError(400, INVALID, "EOF")
        try:
            data = json.loads(self.body)
        except ValueError as exc:
            raise SimError(400, INVALID, f"invalid character: {exc}") from None
        if not isinstance(data, dict):
            raise SimError(400, INVALID, f"json: cannot unmarshal {type(data).__name__} into Go value")
        return {k.lower(): v for k, v in data.items()}


def field(payload: dict[str, Any], name: str, typ: type, default: Any = None) -> Any:
    """Typed payload field (lower-case name): missing/null -> default, wrong JSON type -> 400."""
    value = payload.get(name)
    if value is None:
        return default
    if not isinstance(value, typ) or (typ is int and isinstance(value, bool)):
        raise SimError(
            400,
            INVALID,
            f"json: cannot unmarshal {type(value).__name__} into Go struct field .{name} of type {typ.__name__}",
        )
    return value


def parse_id(match: re.Match[str], what: str, group: str = "id") -> int:
    """strconv.Atoi on a route variable; 400 'Invalid <what> identifier route variable'."""
    raw = match.group(group)
    problem = None if re.fullmatch(r"[+-]?\d+", raw) else "invalid syntax"
    if problem is None and abs(int(raw)) >= 2**63:
        problem = "value out of range"
    if problem:
        raise SimError(
            400, f"Invalid {what} identifier route variable", f"strconv.Atoi: parsing {json.dumps(raw)}: {problem}"
        )
    return int(raw)


Handler = Callable[["PortainerSim", SimRequest, "re.Match[str]"], Result]


class Route(NamedTuple):
    method: str
    regex: re.Pattern[str]
    handler: Handler
    min_version: Optional[str] = None  # inclusive
    max_version: Optional[str] = None  # exclusive: the release that removed the route
    rate_limited: bool = False


@dataclass
class Fault:
    method: str
    regex: re.Pattern[str]
    status: Optional[int]
    body: bytes
    headers: dict[str, str]
    delay: float
    drop: bool
    empty: bool
    commit: bool
    times: int


class PortainerSim:
    """Threaded HTTP/1.1 server on 127.0.0.1 that behaves like Portainer CE ``version``."""

    def __init__(
        self,
        version: str = "2.33.7",
        instance_id: Optional[str] = None,
        admin_username: str = "admin",
        admin_password: str = "sim-admin-password-1",
        *,
        initialised: bool = True,
        rate_limit: bool = True,
        admin_init_timeout: float = 300.0,
        with_endpoint: bool = True,
    ) -> None:
        self.version, self.instance_id = version, instance_id or str(uuid.uuid4())
        self.admin_username, self.admin_password = admin_username, admin_password
        self.lock = threading.RLock()
        self.users: dict[int, dict[str, Any]] = {}
        self.api_keys: dict[int, dict[str, Any]] = {}
        self.endpoints: dict[int, dict[str, Any]] = {}  # Endpoint JSON by id (tests/sim/docker.py)
        self.engines: dict[int, Any] = {}  # docker.Engine behind each endpoint
        self.settings: dict[str, Any] = {"RequiredPasswordLength": 12}
        self.requests: list[Recorded] = []
        self.faults: list[Fault] = []
        self.routes: list[Route] = []
        self.login_calls = self.system_version_calls = 0
        self.rate_limit_enabled, self.admin_init_timeout = rate_limit, admin_init_timeout
        self._seq: dict[str, int] = {}
        self._digests: dict[str, int] = {}  # sha256 hex -> api key id
        self._jwts: dict[str, tuple[int, float, bool]] = {}  # token -> (user id, issued at, force change)
        self._floor: dict[int, float] = {}  # sub-second precision for TokenIssueAt
        self._csrf: set[str] = set()
        self._hits: deque[float] = deque()
        self._ban_until = 0.0
        self._secret = secrets.token_bytes(32)
        self._started_at = time.time()
        self._server: Optional[ThreadingHTTPServer] = None
        self._thread: Optional[threading.Thread] = None
        self._conns: set[socket.socket] = set()
        self._conn_lock, self._stopping = threading.Lock(), threading.Event()
        self.api_key: Optional[str] = None
        self.spool_threshold = 8 * 1024 * 1024  # request bodies above this go to a temp file (req.spool)
        if initialised:
            self.create_user(admin_username, admin_password, 1)
            self.api_key = self.create_api_key(1, "sim-bootstrap")
        from .core import register_core_routes  # auth, system and user routes (imports this module)
        from .docker import add_endpoint, register_docker_routes

        register_core_routes(self)
        register_docker_routes(self)
        from .registries import register_registry_routes  # registries
        from .templates import register_template_routes  # custom templates
        from .webhooks import register_webhook_routes  # service webhooks

        register_registry_routes(self)
        register_template_routes(self)
        register_webhook_routes(self)
        from .stacks import register_stack_routes  # stacks, git settings/redeploy, stack webhooks

        register_stack_routes(self)
        from .backup import register_backup_routes  # backup and restore

        register_backup_routes(self)
        from .endpoints import register_endpoint_routes  # environment create/update/delete, groups, tags

        register_endpoint_routes(self)
        if with_endpoint:
            add_endpoint(self, "local", swarm=True)  # id 1, like the -H environment of a real server

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> PortainerSim:
        handler = type("_BoundHandler", (_RequestHandler,), {"sim": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads, self._server.block_on_close = True, False
        self._started_at = time.time()
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="portainer-sim", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        with self._conn_lock:
            conns = list(self._conns)
        for conn in conns:  # end keep-alive connections still waiting for a request
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> PortainerSim:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("simulator not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # ------------------------------------------------------------------ test-facing helpers
    def ge(self, version: str) -> bool:
        return vtuple(self.version) >= vtuple(version)

    def clear_requests(self) -> None:
        with self.lock:
            self.requests.clear()

    def count(self, method: Optional[str] = None, path_regex: Optional[str] = None) -> int:
        """Recorded requests with that method and a path that fullmatches path_regex."""
        with self.lock:
            return sum(
                1
                for r in self.requests
                if (method is None or r.method == method.upper())
                and (path_regex is None or re.fullmatch(path_regex, r.path))
            )

    def inject(
        self,
        method: str,
        path_regex: str,
        *,
        status: Optional[int] = None,
        body: Union[bytes, str, dict[str, Any], None] = None,
        delay: float = 0.0,
        drop: bool = False,
        empty: bool = False,
        commit: bool = False,
        times: int = 1,
    ) -> None:
        """Queue a fault for requests whose method ('*' = any) matches and whose path fullmatches."""
        headers = (
            {"Content-Type": JSON_CT}
            if isinstance(body, (dict, list))
            else {"Content-Type": TEXT}
            if isinstance(body, str)
            else {}
        )
        raw = (
            go_json(body) if isinstance(body, (dict, list)) else body.encode() if isinstance(body, str) else body or b""
        )
        with self.lock:
            self.faults.append(
                Fault(method.upper(), re.compile(path_regex), status, raw, headers, delay, drop, empty, commit, times)
            )

    def add_route(
        self,
        method: str,
        regex: Union[str, re.Pattern[str]],
        handler: Handler,
        *,
        min_version: Optional[str] = None,
        max_version: Optional[str] = None,
        rate_limited: bool = False,
        first: bool = False,
    ) -> None:
        """Register handler(sim, req, match) -> (status, body, headers); regex fullmatches the path."""
        route = Route(method.upper(), re.compile(regex), handler, min_version, max_version, rate_limited)
        with self.lock:
            self.routes.insert(0, route) if first else self.routes.append(route)

    def next_id(self, bucket: str) -> int:
        """bbolt NextSequence(): per bucket, ever increasing, never reused."""
        with self.lock:
            self._seq[bucket] = self._seq.get(bucket, 0) + 1
            return self._seq[bucket]

    def ban(self, seconds: float = 3600.0) -> None:
        with self.lock:
            self._ban_until = time.time() + seconds

    def unban(self) -> None:
        with self.lock:
            self._ban_until = 0.0
            self._hits.clear()

    @property
    def banned(self) -> bool:
        return time.time() < self._ban_until

    def find_user(self, username: str) -> Optional[dict[str, Any]]:
        folded = username.casefold()
        return next((u for u in self.users.values() if u["Username"].casefold() == folded), None)

    def password_ok(self, password: str) -> bool:
        return len(password.encode()) >= int(self.settings.get("RequiredPasswordLength", 12))

    def create_user(self, username: str, password: str, role: int = 2) -> dict[str, Any]:
        with self.lock:
            uid = self.next_id("users")
            self.users[uid] = {
                "Id": uid,
                "Username": username,
                "Password": password,
                "Role": role,
                "TokenIssueAt": 0,
                "ThemeSettings": {"color": ""},
                "UseCache": True,
            }
            return self.users[uid]

    def user_json(self, user: dict[str, Any], with_hash: bool = False) -> dict[str, Any]:
        """User JSON in Go field order; Password only as a fake bcrypt hash (admin init leaks it)."""
        out = {"Id": user["Id"], "Username": user["Username"]}
        if with_hash:
            digest = base64.b64encode(hashlib.sha256(user["Password"].encode()).digest() * 2).decode()
            out["Password"] = "$2a$10$" + digest.replace("+", ".")[:53]
        out.update(
            Role=user["Role"],
            TokenIssueAt=user["TokenIssueAt"],
            ThemeSettings=dict(user.get("ThemeSettings") or {"color": ""}),
            UseCache=user.get("UseCache", True),
            PortainerAuthorizations=None,
            EndpointAuthorizations=None,
        )
        return out

    def bump_tokens(self, uid: int) -> None:
        """TokenIssueAt = now: the user's JWTs issued so far stop working."""
        now = time.time()
        self.users[uid]["TokenIssueAt"], self._floor[uid] = int(now), now

    def create_api_key(self, user_id: int, description: str) -> str:
        """Store a new key (by SHA-256 digest) for the user and return the raw 'ptr_...' key."""
        with self.lock:
            raw = "ptr_" + base64.b64encode(secrets.token_bytes(32)).decode()
            digest, kid = hashlib.sha256(raw.encode()).digest(), self.next_id("api_key")
            self.api_keys[kid] = {
                "id": kid,
                "userId": user_id,
                "description": description,
                "prefix": raw[:7],
                "dateCreated": int(time.time()),
                "lastUsed": 0,
                "digest": base64.b64encode(digest).decode(),
            }
            self._digests[digest.hex()] = kid
            return raw

    def delete_api_key(self, kid: int) -> None:
        with self.lock:
            key = self.api_keys.pop(kid)
            self._digests.pop(base64.b64decode(key["digest"]).hex(), None)

    def issue_jwt(self, user_id: int) -> str:
        """A JWT-shaped HS256 token for the user (what POST /api/auth returns)."""
        with self.lock:
            user, now = self.users[user_id], time.time()
            force = not self.password_ok(user["Password"])
            claims = {
                "id": user_id,
                "username": user["Username"],
                "role": user["Role"],
                "scope": "default",
                "forceChangePassword": force,
                "exp": int(now) + JWT_LIFETIME,
                "iat": int(now),
                "jti": secrets.token_hex(8),
            }
            signed = b".".join(
                base64.urlsafe_b64encode(go_json(o)).rstrip(b"=") for o in ({"alg": "HS256", "typ": "JWT"}, claims)
            )
            sig = base64.urlsafe_b64encode(hmac.new(self._secret, signed, hashlib.sha256).digest())
            token = (signed + b"." + sig.rstrip(b"=")).decode()
            self._jwts[token] = (user_id, now, force)
            return token

    # ------------------------------------------------------------------ auth
    def _msg(self, kind: str) -> str:
        if not self.ge("2.20"):
            return "Unauthorized" if kind == "deleted" else "A valid authorisation token is missing"
        if kind == "deleted":
            return "The authorization token is invalid" if self.ge("2.25") else "An authorization token is invalid"
        return "Invalid JWT token" if kind == "invalid" else "A valid authorization token is missing"

    @staticmethod
    def api_key_of(req: SimRequest) -> str:
        """X-API-Key header, else an x-api-key query parameter (name case-insensitive)."""
        return req.header("x-api-key") or next(
            (v[0] for k, v in req.query.items() if k.lower() == "x-api-key" and v), ""
        )

    def authenticate(self, req: SimRequest, *, admin: bool = False) -> dict[str, Any]:
        """The bouncer: API key, then cookie (2.20+), then Authorization / ?token=. Sets req.user."""
        key = self.api_key_of(req)
        cookie = req.cookies.get(AUTH_COOKIE, "") if self.ge("2.20") else ""
        bearer = req.arg("token") or ""
        if "authorization" in req.headers:
            bearer = req.header("authorization")
            bearer = bearer[7:] if bearer.startswith("Bearer ") else bearer
        invalid = SimError(401, self._msg("invalid"), "Unauthorized")
        if key:
            kid = self._digests.get(hashlib.sha256(key.encode()).hexdigest())
            if kid is None:
                raise invalid
            api_key, now = self.api_keys[kid], int(time.time())
            if now - api_key["lastUsed"] >= 60:
                api_key["lastUsed"] = now
            uid, req.auth = api_key["userId"], "apikey"
        elif cookie or bearer:
            req.jwt, req.auth = cookie or bearer, "cookie" if cookie else "bearer"
            entry = self._jwts.get(req.jwt)
            if entry is None:
                raise invalid
            uid, iat, _ = entry
            holder = self.users.get(uid)
            if holder and (
                holder["TokenIssueAt"] > int(iat) or self._floor.get(uid, 0.0) > iat or time.time() > iat + JWT_LIFETIME
            ):
                raise invalid
        else:
            raise SimError(401, self._msg("missing"), "Unauthorized")
        user = self.users.get(uid)
        if user is None:
            raise SimError(401, self._msg("deleted"), "Unauthorized")
        if admin and user["Role"] != 1:
            raise SimError(403, "Access denied", "Unauthorized")
        req.user = user
        return user

    def _rate_limit(self) -> None:
        self.login_calls += 1
        if self.banned:
            raise SimError(403, "Access denied", "Access denied to resource")
        if self.rate_limit_enabled:
            now = time.time()
            self._hits.append(now)
            while self._hits[0] <= now - 1.0:
                self._hits.popleft()
            if len(self._hits) > 10:
                self._ban_until = now + 3600.0
                raise SimError(403, "Access denied", "Access denied to resource")

    # ------------------------------------------------------------------ dispatch
    def _process(self, rec: Recorded) -> tuple[int, bytes, dict[str, str]]:
        try:
            result = self._pipeline(SimRequest(rec))
        except SimError as exc:
            result = error(exc.status, exc.message, exc.details)
        status, body, headers = self._render(result)
        if self.ge("2.20") and 200 <= status < 300:  # gorilla/csrf hands a token to every 2xx
            token = secrets.token_urlsafe(32)
            self._csrf.add(token)
            headers["X-CSRF-Token"] = token
        return status, body, headers

    def _pipeline(self, req: SimRequest) -> Result:
        if self.ge("2.20"):  # csrf.WithProtect wraps the whole server
            if req.cookies.get(AUTH_COOKIE):
                if req.method not in SAFE_METHODS and req.header("x-csrf-token") not in self._csrf:
                    return (
                        403,
                        b"Forbidden - CSRF token invalid\n",
                        {"Content-Type": TEXT, "X-Content-Type-Options": "nosniff"},
                    )
            elif self.api_key_of(req) and req.header("authorization"):
                raise SimError(403, "api key and auth header are not allowed at the same time")
        if (
            req.path.startswith("/api")
            and req.path not in ("/api/status", "/api/settings/public")
            and not any(u["Role"] == 1 for u in self.users.values())
            and time.time() - self._started_at > self.admin_init_timeout
        ):
            return 303, error(303, "Administrator initialization timeout")[1], {"redirect-reason": "AdminInitTimeout"}
        path_seen = False
        for route in list(self.routes):
            if (route.min_version and not self.ge(route.min_version)) or (
                route.max_version and self.ge(route.max_version)
            ):
                continue
            match = route.regex.fullmatch(req.path)
            if match and route.method != req.method:
                path_seen = True
            elif match:
                if route.rate_limited:
                    self._rate_limit()
                return route.handler(self, req, match)
        return (405, None, None) if path_seen else PLAIN_404

    def _render(self, result: Result) -> tuple[int, bytes, dict[str, str]]:
        status, body, headers = result
        headers = dict(headers or {})
        if isinstance(body, Envelope):
            details = body["details"] if body["details"] is not None else body["message"]
            if self.ge("2.20"):
                details = details[:1].upper() + details[1:]
            body = go_json({k: v for k, v in (("message", body["message"]), ("details", details)) if v})
            body += b"" if self.ge("2.20") else b"\n"
            headers["Content-Type"] = JSON_CT
        elif isinstance(body, str):
            body = body.encode()
            headers.setdefault("Content-Type", TEXT)
        elif isinstance(body, Iterator):  # streamed (e.g. a backup archive); the handler sets Content-Length
            return status, body, headers  # type: ignore[return-value]
        elif body is not None and not isinstance(body, (bytes, bytearray)):
            body = go_json(body) + b"\n"  # response.JSON uses json.NewEncoder
            headers.setdefault("Content-Type", JSON_CT)
        return status, bytes(body or b""), headers

    def _take_fault(self, method: str, path: str) -> Optional[Fault]:
        for fault in self.faults:
            if fault.method in ("*", method) and fault.regex.fullmatch(path):
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    def _serve(self, h: _RequestHandler) -> None:
        split, headers, spool = urlsplit(h.path), dict[str, str](), None
        for name, value in h.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        if "chunked" in headers.get("transfer-encoding", "").lower():
            chunks = []
            while size := int(h.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(h.rfile.read(size))
                h.rfile.readline()
            while h.rfile.readline().strip():  # trailers
                pass
            body = b"".join(chunks)
        elif int(headers.get("content-length") or 0) > self.spool_threshold:
            spool, body = _spool(h.rfile, int(headers["content-length"])), b""
        else:
            body = h.rfile.read(int(headers.get("content-length") or 0))
        query = parse_qs(split.query, keep_blank_values=True)
        rec = Recorded(h.command, unquote(split.path), query, headers, body, spool)
        try:
            self._answer(h, rec)
        finally:
            if rec.spool:
                os.unlink(rec.spool)

    def _answer(self, h: _RequestHandler, rec: Recorded) -> None:
        with self.lock:
            self.requests.append(rec)
            fault = self._take_fault(rec.method, rec.path)
        if fault and fault.delay and self._stopping.wait(fault.delay):
            return h.drop()
        if fault and not fault.commit and (fault.drop or fault.status is not None):
            return h.drop() if fault.drop else h.reply(fault.status or 200, fault.body, fault.headers)
        with self.lock:
            status, data, out = self._process(rec)
        if (fault and fault.drop) or status == DROP_CONNECTION:
            return h.drop()
        if fault and fault.status is not None:
            return h.reply(fault.status, fault.body, fault.headers)
        h.reply(200, b"", {}) if fault and fault.empty else h.reply(status, data, out)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    sim: PortainerSim

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.sim._conn_lock:
            self.sim._conns.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            with self.sim._conn_lock:
                self.sim._conns.discard(self.connection)

    def _any(self) -> None:
        try:
            self.sim._serve(self)
        except (TimeoutError, BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _any

    def drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def reply(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        if isinstance(body, Iterator):
            return self._reply_stream(status, body, headers)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if status in (204, 304) or status < 200:
            body = b""
        else:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)
        self.wfile.flush()

    def _reply_stream(self, status: int, chunks: Iterator[bytes], headers: dict[str, str]) -> None:
        """Write a streamed body; a ConnectionAbortedError from the iterator cuts the connection there."""
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        try:
            for chunk in chunks:
                self.wfile.write(chunk)
            self.wfile.flush()
        except ConnectionAbortedError:
            self.drop()
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()


def _spool(rfile: Any, length: int) -> str:
    """Copy a request body to a temp file in 1 MiB pieces; return its path."""
    fd, path = tempfile.mkstemp(prefix="portainer-sim-upload-")
    with os.fdopen(fd, "wb") as out:
        while length > 0:
            piece = rfile.read(min(length, 1 << 20))
            if not piece:
                break
            out.write(piece)
            length -= len(piece)
    return path
