"""Client rules of product §4 "Retries" and "Login and rate limits", against injected transports."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from pulumi_portainer import _http
from pulumi_portainer._http import EMPTY_BODY, Client, _Limiter, should_retry
from pulumi_portainer.config import Connection
from pulumi_portainer.errors import APIError, TransportError

KEY = "ptr_SECRETKEYvalue0123456789"
PASSWORD = "hunter2-very-secret"


def key_conn(**kw: Any) -> Connection:
    return Connection(url="http://127.0.0.1:1", api_key=KEY, timeout=5, **kw)


def login_conn() -> Connection:
    return Connection(url="http://127.0.0.1:1", username="admin", password=PASSWORD, timeout=5)


class Recorder:
    """A transport answering from a handler and recording every request."""

    def __init__(self, handler: Callable[[httpx.Request], httpx.Response]) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        with self.lock:
            self.requests.append(request)
        return self.handler(request)

    def paths(self) -> list[str]:
        return [f"{r.method} {r.url.path}" for r in self.requests]


def client(conn: Connection, handler: Callable[[httpx.Request], httpx.Response]) -> tuple[Client, Recorder]:
    rec = Recorder(handler)
    return Client(conn, transport=httpx.MockTransport(rec)), rec


@pytest.fixture(autouse=True)
def fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_http, "backoff", lambda attempt: 0.0)
    monkeypatch.setattr(_http, "LOGIN_LIMITER", _Limiter(1000.0))


def ok(body: Any = None, status: int = 200, **kw: Any) -> httpx.Response:
    return httpx.Response(status, json=body if body is not None else {"Id": 1}, **kw)


def sequence(*responses: Any) -> Callable[[httpx.Request], httpx.Response]:
    items = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        item = items.pop(0) if len(items) > 1 else items[0]
        if isinstance(item, Exception):
            raise item
        return item  # type: ignore[no-any-return]

    return handler


def test_should_retry_table() -> None:
    assert should_retry("POST", sent=False)
    assert should_retry("PUT", sent=False)
    assert not should_retry("POST", status=503)
    assert not should_retry("PUT", status=502)
    assert not should_retry("POST")  # read error after sending
    assert should_retry("GET", status=503) and should_retry("DELETE", status=504)
    assert should_retry("GET") and should_retry("DELETE")
    assert not should_retry("GET", status=409) and not should_retry("GET", status=500)


def test_api_key_header_only() -> None:
    c, rec = client(key_conn(), lambda r: ok())
    c.get("/users/1")
    headers = rec.requests[0].headers
    assert headers["x-api-key"] == KEY and "authorization" not in headers


def test_post_503_is_not_resent() -> None:
    c, rec = client(key_conn(), lambda r: httpx.Response(503, text="busy"))
    with pytest.raises(APIError) as err:
        c.post("/users", json={})
    assert err.value.status == 503 and len(rec.requests) == 1


def test_get_503_retried_then_succeeds() -> None:
    c, rec = client(key_conn(), sequence(httpx.Response(503), httpx.Response(502), ok({"Id": 3})))
    assert c.get("/users/3") == {"Id": 3}
    assert len(rec.requests) == 3


def test_get_gives_up_after_five_attempts() -> None:
    c, rec = client(key_conn(), lambda r: httpx.Response(504))
    with pytest.raises(APIError):
        c.get("/users")
    assert len(rec.requests) == 5


def test_delete_retry_then_404_is_reported_for_confirmation() -> None:
    c, rec = client(key_conn(), sequence(httpx.ReadTimeout("lost"), ok({"message": "Not found"}, 404)))
    with pytest.raises(APIError) as err:
        c.delete("/users/9")
    assert err.value.status == 404 and not err.value.route_missing
    assert rec.paths() == ["DELETE /api/users/9", "DELETE /api/users/9"]


def test_connect_error_retried_on_post_but_read_error_is_not() -> None:
    c, rec = client(key_conn(), sequence(httpx.ConnectError("refused"), ok()))
    c.post("/users", json={})
    assert len(rec.requests) == 2
    c, rec = client(key_conn(), sequence(httpx.ReadError("reset"), ok()))
    with pytest.raises(TransportError) as err:
        c.post("/users", json={})
    assert err.value.sent and len(rec.requests) == 1
    c, rec = client(key_conn(), sequence(httpx.ReadError("reset"), ok()))
    c.get("/users")
    assert len(rec.requests) == 2


def test_409_never_retried() -> None:
    c, rec = client(key_conn(), lambda r: ok({"message": "exists", "details": "User already exists"}, 409))
    with pytest.raises(APIError) as err:
        c.get("/users")
    assert len(rec.requests) == 1 and err.value.details == "User already exists"


def test_one_login_for_four_racing_threads() -> None:
    barrier = threading.Barrier(4)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/auth":
            return ok({"jwt": "jwt-token-1"}, headers={"Set-Cookie": "portainer_api_key=jwt-token-1; Path=/"})
        return ok({"Id": 1})

    c, rec = client(login_conn(), handler)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait()
            c.get("/users/1")
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert rec.paths().count("POST /api/auth") == 1
    for r in rec.requests[1:]:
        assert r.headers["authorization"] == "Bearer jwt-token-1"
        assert "cookie" not in r.headers  # the login cookie is never sent back
        assert "x-api-key" not in r.headers


def test_relogin_once_on_401() -> None:
    tokens = iter(["jwt-a", "jwt-b", "jwt-c"])

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/auth":
            return ok({"jwt": next(tokens)})
        if request.headers["authorization"] == "Bearer jwt-a":
            return ok({"message": "Invalid JWT token", "details": "Unauthorized"}, 401)
        return ok({"Id": 1})

    c, rec = client(login_conn(), handler)
    assert c.get("/users/1") == {"Id": 1}
    assert rec.paths() == ["POST /api/auth", "GET /api/users/1", "POST /api/auth", "GET /api/users/1"]


def test_401_after_relogin_is_raised_not_looped() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/auth":
            return ok({"jwt": "jwt-x"})
        return ok({"message": "Invalid JWT token", "details": "Unauthorized"}, 401)

    c, rec = client(login_conn(), handler)
    with pytest.raises(APIError) as err:
        c.get("/users/1")
    assert err.value.status == 401 and rec.paths().count("POST /api/auth") == 2


def test_wrong_credentials_422_not_retried_and_names_settings() -> None:
    c, rec = client(login_conn(), lambda r: ok({"message": "Invalid credentials", "details": "Unauthorized"}, 422))
    with pytest.raises(APIError) as err:
        c.get("/users")
    assert rec.paths() == ["POST /api/auth"]
    assert "portainer:username" in str(err.value) and "PORTAINER_PASSWORD" in str(err.value)
    assert PASSWORD not in str(err.value)


def test_login_ban_is_explained() -> None:
    c, _ = client(login_conn(), lambda r: ok({"message": "Access denied", "details": "Access denied to resource"}, 403))
    with pytest.raises(APIError) as err:
        c.get("/users")
    assert "one hour" in str(err.value)


def test_limiter_spaces_calls() -> None:
    clock = [0.0]
    sleeps: list[float] = []
    limiter = _Limiter(2.0)
    monkey_time = type(
        "T", (), {"monotonic": staticmethod(lambda: clock[0]), "sleep": staticmethod(lambda s: sleeps.append(s))}
    )
    orig = _http.time
    _http.time = monkey_time  # type: ignore[assignment]
    try:
        for _ in range(5):
            limiter.wait()
    finally:
        _http.time = orig
    assert sleeps == [0.5, 1.0, 1.5, 2.0]  # 5 calls at t=0 spread over 2 s: at most 2 a second


def test_login_routes_pass_through_the_limiter(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    class Spy:
        def wait(self) -> None:
            calls.append("wait")

    monkeypatch.setattr(_http, "LOGIN_LIMITER", Spy())
    c, _ = client(key_conn(), lambda r: ok({"rawAPIKey": "ptr_x"}))
    c.post("/users/1/tokens", json={})
    c.put("/users/1/passwd", json={})
    c.get("/users/1")
    assert calls == ["wait", "wait"]


def test_empty_200_is_an_error_but_204_is_fine() -> None:
    c, _ = client(key_conn(), lambda r: httpx.Response(200, content=b""))
    with pytest.raises(APIError) as err:
        c.get("/registries/1")
    assert EMPTY_BODY in str(err.value)
    c, _ = client(key_conn(), lambda r: httpx.Response(204))
    assert c.delete("/registries/1") is None


def test_route_missing_only_for_plain_text_404() -> None:
    c, _ = client(key_conn(), lambda r: httpx.Response(404, text="404 page not found\n"))
    with pytest.raises(APIError) as err:
        c.get("/system/status")
    assert err.value.route_missing
    c, _ = client(key_conn(), lambda r: ok({"message": "Unable to find"}, 404))
    with pytest.raises(APIError) as err:
        c.get("/users/5")
    assert not err.value.route_missing


def test_secrets_never_in_errors_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    echo = {"message": f"bad key {KEY}", "details": f"password {PASSWORD} rejected"}
    caplog.set_level(logging.DEBUG, logger="pulumi_portainer")
    c, _ = client(key_conn(), lambda r: ok(echo, 400))
    with pytest.raises(APIError) as err:
        c.get("/users")
    c2, _ = client(login_conn(), lambda r: ok({"message": f"nope {PASSWORD}"}, 422))
    with pytest.raises(APIError) as err2:
        c2.get("/users")
    _http.log.debug("trying %s with %s", KEY, PASSWORD)
    for text in (str(err.value), str(err2.value), caplog.text):
        assert KEY not in text and PASSWORD not in text
    assert "[secret]" in str(err.value) and "[secret]" in caplog.text


def test_multipart_exact_bytes_and_streaming() -> None:
    seen: dict[str, Any] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["body"] = request.content
        seen["type"] = request.headers["content-type"]
        seen["length"] = request.headers["content-length"]
        return ok()

    c, _ = client(key_conn(), handler)
    fields = [
        ("Name", "local"),
        ("TagIds", "[1,2]"),
        ("TLSCACertFile", ("ca.pem", b"PEM\n", "application/octet-stream")),
    ]
    c.post("/endpoints", multipart=lambda: fields, boundary="BOUNDARY")
    expected = (
        b'--BOUNDARY\r\nContent-Disposition: form-data; name="Name"\r\n\r\nlocal\r\n'
        b'--BOUNDARY\r\nContent-Disposition: form-data; name="TagIds"\r\n\r\n[1,2]\r\n'
        b'--BOUNDARY\r\nContent-Disposition: form-data; name="TLSCACertFile"; filename="ca.pem"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\nPEM\n\r\n--BOUNDARY--\r\n"
    )
    assert seen["body"] == expected
    assert seen["type"] == "multipart/form-data; boundary=BOUNDARY"
    assert seen["length"] == str(len(expected))


def test_json_body_and_deploy_timeout() -> None:
    seen: dict[str, Any] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["json"] = json.loads(request.content)
        seen["timeout"] = request.extensions["timeout"]
        return ok()

    c, _ = client(Connection(url="http://127.0.0.1:1", api_key=KEY, timeout=7, deploy_timeout=99), handler)
    c.post("/stacks", json={"Name": "x"}, deploy=True)
    assert seen["json"] == {"Name": "x"}
    assert seen["timeout"]["read"] == pytest.approx(99, abs=1) and seen["timeout"]["connect"] == pytest.approx(7, abs=1)


def test_redaction_does_not_garble_longer_words() -> None:
    _http.register_secret("short")
    assert _http.redact("a description shorter than 128: short") == "a description shorter than 128: [secret]"
    assert _http.redact('{"Password":"short"}') == '{"Password":"[secret]"}'
