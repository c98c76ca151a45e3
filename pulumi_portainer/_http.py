"""The one HTTP client: the only module that imports httpx.

Retry policy (product §4), implemented by ``should_retry`` and ``Client.request``:

* at most 5 attempts, with jittered exponential backoff, never past the operation's deadline;
* a failure **before the request was sent** (DNS, refused, connect timeout, TLS handshake) is retried on
  any method: the server never saw it;
* 502, 503, 504 and read errors (timeout or dropped connection after sending) are retried only on GET
  and DELETE; a retried DELETE may then answer 404, which callers confirm with a GET;
* POST and PUT are never resent after they may have reached the server; callers confirm such
  ambiguous failures by looking the object up;
* 4xx answers, 409 included, are never retried, except one re-login on a 401 with a JWT;
* a download (``Client.download``) streams the body to a sink; once its answer has begun, a broken
  transfer is reported with the byte count and never resent.

Authentication is an API key (``X-API-Key``) or a JWT from one login per client (racing threads wait for
the same login). The login, token and password routes pass through one per-process limiter (2 a second),
because Portainer bans an IP for an hour at about 10 a second. No cookie is ever kept: Portainer's CSRF
check fires on requests that carry its login cookie. Every error text and log line is redacted of the
credentials and of any value registered with ``register_secret``.
"""

from __future__ import annotations

import http.cookiejar
import json as jsonlib
import logging
import random
import re
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Optional

import httpx
from requests_toolbelt.multipart.encoder import MultipartEncoder

from .config import Connection
from .errors import APIError, ConfigError, TransportError

log = logging.getLogger("pulumi_portainer")

MAX_ATTEMPTS = 5
RETRY_STATUSES = frozenset({502, 503, 504})
IDEMPOTENT = frozenset({"GET", "HEAD", "DELETE"})
LOGIN_RATE = 2.0  # calls per second to the login/token/password routes, per process
_AUTH_ROUTE = re.compile(r"^/(auth(/oauth/validate)?|users/\d+/tokens|users/\d+/passwd)$")
EMPTY_BODY = "empty response, possibly a server-side panic"
STREAM_CHUNK = 256 * 1024  # bytes handed to a download's sink at a time

# ---------------------------------------------------------------- redaction

_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def register_secret(*values: Any) -> None:
    """Remember values that must never appear in an error text or a log line."""
    with _secrets_lock:
        for value in values:
            if isinstance(value, str) and len(value) >= 4:
                _secrets.add(value)


def redact(text: str) -> str:
    """Replace every registered secret in ``text`` with ``[secret]``. A secret is not matched inside a
    longer word (a password "short" leaves "shorter" alone), so short secrets do not garble messages."""
    with _secrets_lock:
        values = sorted(_secrets, key=len, reverse=True)
    for value in values:
        if value in text:
            head = r"(?<![A-Za-z0-9])" if value[0].isalnum() else ""
            tail = r"(?![A-Za-z0-9])" if value[-1].isalnum() else ""
            text = re.sub(head + re.escape(value) + tail, "[secret]", text)
    return text


class _RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        return True


log.addFilter(_RedactingFilter())

# ---------------------------------------------------------------- policy


def should_retry(method: str, *, status: Optional[int] = None, sent: bool = True) -> bool:
    """The whole retry decision: see the module docstring."""
    if status is None and not sent:
        return True
    if method.upper() not in IDEMPOTENT:
        return False
    return status is None or status in RETRY_STATUSES


def backoff(attempt: int) -> float:
    return float(min(0.2 * 2 ** (attempt - 1), 3.0) * random.uniform(0.5, 1.5))


class _Limiter:
    """At most ``rate`` calls a second across all threads of the process."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self.lock = threading.Lock()
        self.next_at = 0.0

    def wait(self) -> None:
        with self.lock:
            now = time.monotonic()
            at = max(now, self.next_at)
            self.next_at = at + self.interval
        if at > now:
            time.sleep(at - now)


LOGIN_LIMITER = _Limiter(LOGIN_RATE)

# ---------------------------------------------------------------- client


class _RefuseAll(http.cookiejar.DefaultCookiePolicy):
    def set_ok(self, cookie: http.cookiejar.Cookie, request: object) -> bool:
        return False


def _no_cookies() -> http.cookiejar.CookieJar:
    return http.cookiejar.CookieJar(policy=_RefuseAll())


def _verify(conn: Connection) -> ssl.SSLContext | bool:
    if conn.insecure_skip_verify:
        return False
    if not conn.ca_cert:
        return True
    try:
        if conn.ca_cert.lstrip().startswith("-----BEGIN"):
            return ssl.create_default_context(cadata=conn.ca_cert)
        return ssl.create_default_context(cafile=conn.ca_cert)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"portainer:caCert (or PORTAINER_CA_CERT, or connection.ca_cert) is not a readable PEM CA "
            f"bundle or path: {exc}"
        ) from None


def _envelope(response: httpx.Response) -> tuple[str, str, bool]:
    """(message, details, route_missing) of an error answer."""
    text = response.text
    try:
        body = jsonlib.loads(text) if text else None
    except ValueError:
        body = None
    if isinstance(body, dict) and ("message" in body or "details" in body):
        return str(body.get("message", "")), str(body.get("details", "")), False
    message = text.strip()[:500] or response.reason_phrase or "no message"
    return message, "", response.status_code == 404


def _stream(encoder: MultipartEncoder) -> Iterator[bytes]:
    while True:
        chunk = encoder.read(64 * 1024)
        if not chunk:
            return
        yield chunk


Fields = Sequence[tuple[str, Any]]


class Client:
    """One Portainer connection, shared by all threads of a process (see ``client_for``)."""

    def __init__(self, conn: Connection, *, transport: Optional[httpx.BaseTransport] = None) -> None:
        self.conn = conn
        self.base = conn.url + "/api"
        register_secret(*conn.secrets)
        self._http = httpx.Client(
            verify=_verify(conn),
            timeout=httpx.Timeout(conn.timeout),
            transport=transport,
            cookies=_no_cookies(),
            trust_env=True,  # HTTPS_PROXY / NO_PROXY
            follow_redirects=False,
        )
        self._jwt: Optional[str] = None
        self._login_lock = threading.Lock()
        self.server: Any = None  # _compat.ServerInfo, detected once per client
        self.server_lock = threading.Lock()
        self.logins = 0

    def close(self) -> None:
        self._http.close()

    # -- authentication

    def _token(self, stale: Optional[str] = None) -> str:
        with self._login_lock:
            if self._jwt is None or self._jwt == stale:
                self._jwt = self._login()
            return self._jwt

    def _login(self) -> str:
        self.logins += 1
        body = self.request(
            "POST", "/auth", json={"Username": self.conn.username, "Password": self.conn.password}, auth=False
        )
        token = body.get("jwt") if isinstance(body, dict) else None
        if not token:
            raise APIError(200, "POST", "/api/auth", "login answered without a token")
        register_secret(token)
        return str(token)

    def _auth_headers(self) -> dict[str, str]:
        if self.conn.api_key:
            return {"X-API-Key": self.conn.api_key}
        return {"Authorization": f"Bearer {self._token()}"}

    # -- requests

    def download(
        self,
        path: str,
        *,
        sink: Callable[[bytes], Any],
        method: str = "POST",
        json: Any = None,
        deadline: Optional[float] = None,
        auth: bool = True,
    ) -> int:
        """Stream a successful answer's body into ``sink`` chunk by chunk (never whole in memory) and
        return the number of bytes given to it. Same authentication, error mapping and redaction as
        ``request``; the wait for the first byte and between chunks is the deploy timeout, and the whole
        transfer must end before ``deadline`` (default: now + deploy timeout). A failure once the answer
        has begun is never retried: the ``TransportError`` (``sent=True``) says how many bytes arrived."""
        return int(self.request(method, path, json=json, deploy=True, deadline=deadline, auth=auth, sink=sink))

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Optional[Mapping[str, Any]] = None,
        multipart: Optional[Callable[[], Fields]] = None,
        boundary: Optional[str] = None,
        deploy: bool = False,
        expect_json: bool = True,
        deadline: Optional[float] = None,
        auth: bool = True,
        sink: Optional[Callable[[bytes], Any]] = None,
    ) -> Any:
        """Send one logical request and return the decoded JSON body (``None`` for 204 or when
        ``expect_json`` is false). ``path`` is relative to ``/api``. ``multipart`` builds the form fields
        (rebuilt for each attempt); ``deploy`` selects the deploy timeout; ``sink`` streams the body
        instead (see ``download``)."""
        method = method.upper()
        full = "/api" + path
        limit = self.conn.deploy_timeout if deploy else self.conn.timeout
        deadline = deadline if deadline is not None else time.monotonic() + limit
        relogged = False
        attempt = 0
        while True:
            attempt += 1
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TransportError(method, full, f"no time left before the {limit:g} s deadline", sent=False)
            headers = self._auth_headers() if auth else {}
            content: Any = None
            if multipart is not None:
                encoder = MultipartEncoder(fields=list(multipart()), boundary=boundary)
                headers["Content-Type"] = encoder.content_type
                headers["Content-Length"] = str(encoder.len)
                content = _stream(encoder)
            elif json is not None:
                headers["Content-Type"] = "application/json"
                content = jsonlib.dumps(json).encode()
            if _AUTH_ROUTE.match(path):  # not other public routes (status, restore): Portainer limits only these
                LOGIN_LIMITER.wait()
            timeout = httpx.Timeout(max(0.001, min(limit, remaining)), connect=min(self.conn.timeout, remaining))
            response: Optional[httpx.Response] = None
            try:
                built = self._http.build_request(
                    method, self.base + path, params=params, content=content, headers=headers, timeout=timeout
                )
                response = self._http.send(built, stream=True)
                if sink is None or not 200 <= response.status_code < 300:
                    response.read()
            except httpx.TransportError as exc:
                if response is not None:
                    response.close()
                sent = not isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.UnsupportedProtocol))
                reason = redact(str(exc) or type(exc).__name__)
                if "CERTIFICATE_VERIFY_FAILED" in reason:
                    raise TransportError(
                        method,
                        full,
                        f"TLS verification failed ({reason}); trust the server's CA with portainer:caCert "
                        "(or PORTAINER_CA_CERT) or, for testing only, set portainer:insecureSkipVerify",
                        sent=False,
                        url=self.conn.url,
                    ) from None
                if isinstance(exc, httpx.ConnectError):
                    reason = f"cannot connect to {self.conn.url} (portainer:url or PORTAINER_URL): {reason}"
                error = TransportError(method, full, reason, sent=sent)
                log.debug("%s %s attempt %d failed: %s", method, full, attempt, reason)
                if attempt < MAX_ATTEMPTS and should_retry(method, sent=sent) and self._pause(attempt, deadline):
                    continue
                raise error from None
            status = response.status_code
            log.debug("%s %s -> %d", method, full, status)
            if status in RETRY_STATUSES and attempt < MAX_ATTEMPTS and should_retry(method, status=status):
                if self._pause(attempt, deadline):
                    continue
            if status == 401 and auth and not self.conn.api_key and not relogged:
                relogged = True
                self._token(stale=headers.get("Authorization", "")[7:])
                continue
            if status >= 400 or (300 <= status < 400):
                message, details, missing = _envelope(response)
                raise self._api_error(status, method, full, message, details, missing, path)
            if sink is not None:
                return self._drain(response, sink, method, full, deadline)
            if not expect_json or status == 204:
                return None
            if not response.content:
                raise APIError(status, method, full, EMPTY_BODY)
            try:
                return response.json()
            except ValueError:
                raise APIError(
                    status, method, full, "invalid JSON in the answer", redact(response.text[:200])
                ) from None

    @staticmethod
    def _drain(response: httpx.Response, sink: Callable[[bytes], Any], method: str, full: str, deadline: float) -> int:
        given = 0
        try:
            for chunk in response.iter_bytes(STREAM_CHUNK):
                sink(chunk)
                given += len(chunk)
                if time.monotonic() > deadline:
                    raise TransportError(
                        method,
                        full,
                        f"the transfer did not finish before its deadline ({given} bytes received)",
                        sent=True,
                    )
        except httpx.TransportError as exc:
            reason = redact(str(exc) or type(exc).__name__)
            received = response.num_bytes_downloaded
            raise TransportError(
                method, full, f"the answer broke off after {received} bytes: {reason}", sent=True
            ) from None
        finally:
            response.close()
        expected = response.headers.get("Content-Length", "")
        if expected.isdigit() and response.num_bytes_downloaded != int(expected):
            raise TransportError(
                method, full, f"the answer ended after {response.num_bytes_downloaded} of {expected} bytes", sent=True
            )
        return given

    def _api_error(
        self, status: int, method: str, full: str, message: str, details: str, missing: bool, path: str
    ) -> APIError:
        message, details = redact(message), redact(details)
        if _AUTH_ROUTE.match(path) and status == 403 and message == "Access denied":
            message = (
                "Portainer refuses logins from this address for one hour after too many attempts "
                "(its login rate limit); wait, or use an API key"
            )
        elif path == "/auth" and status == 422:
            message = (
                f"login as {self.conn.username!r} failed ({message}): check portainer:username and "
                "portainer:password (or PORTAINER_USERNAME and PORTAINER_PASSWORD)"
            )
        elif status == 401:
            setting = "portainer:apiKey (or PORTAINER_API_KEY)" if self.conn.api_key else "the username/password"
            message = f"{message}: Portainer rejected the credentials from {setting}"
        return APIError(status, method, full, message, details, route_missing=missing)

    @staticmethod
    def _pause(attempt: int, deadline: float) -> bool:
        delay = backoff(attempt)
        if time.monotonic() + delay >= deadline:
            return False
        time.sleep(delay)
        return True

    def get(self, path: str, **kw: Any) -> Any:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Any:
        return self.request("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> Any:
        return self.request("PUT", path, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        kw.setdefault("expect_json", False)
        return self.request("DELETE", path, **kw)


# ---------------------------------------------------------------- registry

_clients: dict[tuple[Any, ...], Client] = {}
_clients_lock = threading.Lock()


def client_for(conn: Connection) -> Client:
    """The process's one client for this connection, created on first use."""
    key = conn.key()
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = Client(conn)
        return client


def reset_clients() -> None:
    """Forget every client (tests)."""
    with _clients_lock:
        for client in _clients.values():
            client.close()
        _clients.clear()


def is_status(error: BaseException, *statuses: int) -> bool:
    return isinstance(error, APIError) and error.status in statuses
