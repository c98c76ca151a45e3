"""Connection settings (product §2): precedence, a resource's connection as a whole, errors that name
the setting, and bad settings ending in clear errors."""

from __future__ import annotations

import socket
import time

import pytest

from pulumi_portainer import _http
from pulumi_portainer._http import Client
from pulumi_portainer.config import Connection, default_endpoint_id, normalize_url, resolve
from pulumi_portainer.errors import ConfigError, TransportError

CFG = {"portainer:url": "https://cfg.example:9443/api/", "portainer:apiKey": "ptr_cfg"}
ENV = {"PORTAINER_URL": "https://env.example", "PORTAINER_API_KEY": "ptr_env", "PORTAINER_TIMEOUT": "12"}


def test_stack_config_wins_over_environment_field_by_field() -> None:
    conn = resolve(None, CFG, ENV)
    assert conn.url == "https://cfg.example:9443" and conn.api_key == "ptr_cfg"
    assert conn.timeout == 12 and conn.source == "default"


def test_environment_alone() -> None:
    conn = resolve(None, {}, ENV)
    assert conn.url == "https://env.example" and conn.api_key == "ptr_env"


def test_resource_connection_is_used_as_a_whole() -> None:
    explicit = {"url": "http://other.example:9000", "username": "ops", "password": "pw-123456789012"}
    conn = resolve(explicit, CFG, ENV)
    assert conn.api_key is None  # the default connection's key is never sent to another URL
    assert conn.username == "ops" and conn.source == "resource"
    assert conn.timeout == 12  # timeouts, TLS settings are inherited


def test_resource_connection_does_not_borrow_credentials() -> None:
    with pytest.raises(ConfigError, match="connection.api_key"):
        resolve({"url": "http://other.example"}, CFG, ENV)


def test_missing_url_names_key_and_env() -> None:
    with pytest.raises(ConfigError) as err:
        resolve(None, {}, {})
    assert "portainer:url" in str(err.value) and "PORTAINER_URL" in str(err.value)


def test_key_and_password_together_is_an_error() -> None:
    with pytest.raises(ConfigError) as err:
        resolve(None, {**CFG, "portainer:username": "a", "portainer:password": "b"}, {})
    text = str(err.value)
    assert "portainer:apiKey" in text and "portainer:password" in text and "ptr_cfg" not in text


@pytest.mark.parametrize("url", ["portainer.example", "ftp://x", "http://", "https://host:notaport"])
def test_malformed_url(url: str) -> None:
    with pytest.raises(ConfigError) as err:
        resolve(None, {"portainer:url": url, "portainer:apiKey": "k"}, {})
    assert "portainer:url" in str(err.value) and "PORTAINER_URL" in str(err.value)


def test_url_forms() -> None:
    assert normalize_url("https://h/sub/api/") == "https://h/sub"
    assert normalize_url("http://127.0.0.1:9000") == "http://127.0.0.1:9000"


@pytest.mark.parametrize(
    ("key", "value", "named"),
    [
        ("portainer:timeout", "soon", "portainer:timeout"),
        ("portainer:deployTimeout", "-1", "portainer:deployTimeout"),
        ("portainer:insecureSkipVerify", "maybe", "portainer:insecureSkipVerify"),
    ],
)
def test_bad_values_name_the_setting(key: str, value: str, named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        resolve(None, {**CFG, key: value}, {})


def test_endpoint_id_from_stack_config_only() -> None:
    assert default_endpoint_id({"portainer:endpointId": "3"}) == 3
    assert default_endpoint_id({}) is None
    with pytest.raises(ConfigError, match="portainer:endpointId"):
        default_endpoint_id({"portainer:endpointId": "three"})


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return int(port)


def test_refused_connection_fails_within_the_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_http, "backoff", lambda attempt: 0.05)
    conn = Connection(url=f"http://127.0.0.1:{_closed_port()}", api_key="ptr_k", timeout=3)
    start = time.monotonic()
    with pytest.raises(TransportError) as err:
        Client(conn).get("/system/status")
    assert time.monotonic() - start < conn.timeout
    assert "portainer:url" in str(err.value) and not err.value.sent


def test_ca_cert_path_that_does_not_exist() -> None:
    with pytest.raises(ConfigError, match="portainer:caCert"):
        Client(Connection(url="https://127.0.0.1:1", api_key="k", ca_cert="/nonexistent/ca.pem"))


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A loopback HTTPS server with a self-signed certificate for 127.0.0.1."""
    import http.server
    import ssl
    import subprocess
    import threading

    d = tmp_path_factory.mktemp("tls")
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(d / "key.pem"),
            "-out",
            str(d / "cert.pem"),
        ],
        check=True,
        capture_output=True,
    )

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = b'{"Version": "2.33.7", "InstanceID": "tls"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    class Server(http.server.ThreadingHTTPServer):
        def handle_error(self, request: object, client_address: object) -> None:
            pass  # the failed-handshake case is the point of one test

    server = Server(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(d / "cert.pem", d / "key.pem")
    server.socket = ctx.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}", (d / "cert.pem").read_text()
    server.shutdown()
    server.server_close()


def test_tls_failure_names_the_settings(tls_server) -> None:  # type: ignore[no-untyped-def]
    url, _pem = tls_server
    with pytest.raises(TransportError) as err:
        Client(Connection(url=url, api_key="ptr_k", timeout=5)).get("/system/status")
    assert "portainer:caCert" in str(err.value) and "insecureSkipVerify" in str(err.value)


def test_tls_with_ca_cert_pem_or_skip_verify(tls_server) -> None:  # type: ignore[no-untyped-def]
    url, pem = tls_server
    assert Client(Connection(url=url, api_key="ptr_k", ca_cert=pem)).get("/system/status")["InstanceID"] == "tls"
    insecure = Connection(url=url, api_key="ptr_k", insecure_skip_verify=True)
    assert Client(insecure).get("/system/status")["Version"] == "2.33.7"
