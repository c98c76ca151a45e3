"""The ``pulumi-portainer`` command (product §6) against the simulator: every subcommand, its failure
paths, request counts, secrets never echoed, no prompt without a terminal; and ``Client.download``."""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import ssl
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pulumi_portainer import _http, cli
from pulumi_portainer._http import Client, _Limiter
from pulumi_portainer.config import Connection
from pulumi_portainer.errors import APIError, TransportError
from tests.sim import PortainerSim

ROOT = Path(__file__).resolve().parents[2]
ARCHIVE_PW = "archive-password-42"
USER_PW = "standard-user-password-1"


@pytest.fixture(autouse=True)
def fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_http, "backoff", lambda attempt: 0.0)
    monkeypatch.setattr(_http, "LOGIN_LIMITER", _Limiter(1000.0))
    for name in list(os.environ):
        if name.startswith("PORTAINER_"):
            monkeypatch.delenv(name)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # not a terminal


@pytest.fixture
def sim() -> Iterator[PortainerSim]:
    with PortainerSim() as server:
        yield server


@pytest.fixture
def fresh() -> Iterator[PortainerSim]:
    """A Portainer just started, with no administrator: the only kind restore accepts."""
    with PortainerSim(initialised=False) as server:
        yield server


def run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *argv: str, **env: str
) -> tuple[int, str, str]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def key_env(sim: PortainerSim) -> dict[str, str]:
    return {"PORTAINER_URL": sim.url, "PORTAINER_API_KEY": str(sim.api_key)}


def login_env(sim: PortainerSim, password: str | None = None) -> dict[str, str]:
    return {
        "PORTAINER_URL": sim.url,
        "PORTAINER_USERNAME": sim.admin_username,
        "PORTAINER_PASSWORD": password or sim.admin_password,
    }


def paths(sim: PortainerSim) -> list[str]:
    return [f"{r.method} {r.path}" for r in sim.requests]


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


# ---------------------------------------------------------------- the command itself


def test_help_lists_every_command_and_no_secret_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main(["--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    for command in ("status", "doctor", "api-key", "backup", "restore"):
        assert command in text
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    flags = {opt for command in sub.choices.values() for a in command._actions for opt in a.option_strings}
    assert not flags & {"--password", "--api-key", "--apikey", "--token"}  # secrets never as flag values
    assert {"--password-file", "--stack", "--cwd", "--url", "--no-encryption", "--force", "--quiet"} <= flags
    with pytest.raises(SystemExit):
        cli.main(["backup", "--help"])
    text = capsys.readouterr().out
    assert "PORTAINER_BACKUP_PASSWORD" in text and "--password-file" in text and "never whole in memory" in text


def test_console_script_is_declared() -> None:
    from importlib.metadata import entry_points

    [script] = [e for e in entry_points(group="console_scripts") if e.name == "pulumi-portainer"]
    assert script.value == "pulumi_portainer.cli:main"


def test_python_m_without_tty_and_without_secret_fails_at_once(sim: PortainerSim) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAINER_")}
    env.update(PORTAINER_URL=sim.url, PORTAINER_USERNAME="admin")
    done = subprocess.run(
        [sys.executable, "-m", "pulumi_portainer", "api-key"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 1
    assert "no terminal to ask on" in one_line(done.stderr) and "--password-file" in done.stderr
    assert sim.count() == 0  # nothing was sent


# ---------------------------------------------------------------- status


def test_status_needs_no_credentials_and_sends_none(monkeypatch, capsys, sim: PortainerSim) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run(monkeypatch, capsys, "status", **key_env(sim))
    assert code == 0
    assert f"version:     {sim.version}" in out and sim.instance_id in out
    assert re.search(r"reachable:   yes \(round trip \d+ ms\)", out)
    assert paths(sim) == ["GET /api/system/status"]
    assert "x-api-key" not in sim.requests[0].headers  # a public route gets no credential


def test_status_json_and_edition(monkeypatch, capsys, sim: PortainerSim) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run(monkeypatch, capsys, "status", "--json", "--edition", **key_env(sim))
    data = json.loads(out)
    assert code == 0 and data["version"] == sim.version and data["instanceId"] == sim.instance_id
    assert data["edition"] == "CE" and data["supported"] is True and data["roundTripMs"] >= 0
    assert sim.count("GET", "/api/system/version") == 1


def test_status_of_legacy_server_uses_api_status(monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    with PortainerSim(version="2.16.2") as old:
        code, out, _ = run(monkeypatch, capsys, "status", PORTAINER_URL=old.url)
        assert code == 0 and "2.16.2" in out
        assert paths(old) == ["GET /api/system/status", "GET /api/status"]


def test_status_reports_unsupported_version(monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    with PortainerSim(version="2.13.1") as old:
        code, out, _ = run(monkeypatch, capsys, "status", PORTAINER_URL=old.url)
    assert code == 0 and "supported:   no (pulumi_portainer needs Portainer CE 2.14 or later)" in out


def test_status_unreachable_is_one_line(monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run(monkeypatch, capsys, "status", PORTAINER_URL="http://127.0.0.1:1")
    assert code == 1 and out == ""
    line = one_line(err)
    assert line.startswith("pulumi-portainer status: error: Portainer at http://127.0.0.1:1 is not reachable")


def test_status_without_url_names_the_sources(monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run(monkeypatch, capsys, "status")
    assert code == 1 and "--url" in one_line(err) and "PORTAINER_URL" in err and "--stack" in err


# ---------------------------------------------------------------- TLS


@pytest.fixture(scope="module")
def tls_pem(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("tls")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1"]
        + ["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem")],
        check=True,
        capture_output=True,
    )
    return d / "cert.pem", d / "key.pem"


@pytest.fixture
def tls_sim(tls_pem: tuple[Path, Path]) -> Iterator[PortainerSim]:
    """The simulator behind HTTPS with a self-signed certificate."""
    server = PortainerSim()
    server.start()
    inner = server._server
    assert inner is not None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*tls_pem)
    inner.socket = ctx.wrap_socket(inner.socket, server_side=True, do_handshake_on_connect=False)
    inner.handle_error = lambda request, address: None  # type: ignore[method-assign]
    server.tls_url = server.url.replace("http://", "https://")  # type: ignore[attr-defined]
    yield server
    server.stop()


def test_status_tls_failure_names_the_ca_setting(monkeypatch, capsys, tls_sim: PortainerSim) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run(monkeypatch, capsys, "status", PORTAINER_URL=tls_sim.tls_url)  # type: ignore[attr-defined]
    assert code == 1 and "TLS verification failed" in one_line(err) and "portainer:caCert" in err


def test_doctor_tls_untrusted_then_trusted_with_ca(monkeypatch, capsys, tls_sim, tls_pem) -> None:  # type: ignore[no-untyped-def]
    env = {"PORTAINER_URL": tls_sim.tls_url, "PORTAINER_API_KEY": tls_sim.api_key}
    code, out, _ = run(monkeypatch, capsys, "doctor", **env)
    assert code == 1
    assert re.search(r"^FAIL  tls: the server's certificate is not trusted .*--ca-cert, PORTAINER_CA_CERT", out, re.M)
    assert "skip  status" in out
    code, out, _ = run(monkeypatch, capsys, "doctor", "--ca-cert", str(tls_pem[0]), **env)
    assert code == 0, out
    assert "ok    tls: TLSv1.3, certificate trusted by the configured CA" in out


# ---------------------------------------------------------------- doctor


def test_doctor_all_pass(monkeypatch, capsys, sim: PortainerSim) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run(monkeypatch, capsys, "doctor", **key_env(sim))
    assert code == 0
    assert [line.split(":")[0] for line in out.splitlines()] == [
        "ok    url",
        "ok    tcp",
        "ok    tls",
        "ok    status",
        "ok    credentials",
        "ok    environment",
    ]
    assert paths(sim) == ["GET /api/system/status", "GET /api/users/me", "GET /api/endpoints/1"]


def test_doctor_bad_url(monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run(monkeypatch, capsys, "doctor", "--url", "ftp://portainer")
    assert code == 1 and out.startswith("FAIL  url: --url must be") and "http:// or https://" in out
    assert out.count("skip  ") == 5


def test_doctor_unreachable(monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run(monkeypatch, capsys, "doctor", PORTAINER_URL="http://127.0.0.1:1", PORTAINER_API_KEY="ptr_x")
    assert code == 1 and "FAIL  tcp: cannot connect to 127.0.0.1:1" in out and "(PORTAINER_URL)" in out


def test_doctor_wrong_api_key(monkeypatch, capsys, sim: PortainerSim) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run(monkeypatch, capsys, "doctor", PORTAINER_URL=sim.url, PORTAINER_API_KEY="ptr_wrong-key-123")
    assert code == 1
    assert "FAIL  credentials: HTTP 401 GET /api/users/me: Invalid JWT token" in out
    assert "ptr_wrong-key-123" not in out and "skip  environment" in out


def test_doctor_wrong_password(monkeypatch, capsys, sim: PortainerSim) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run(monkeypatch, capsys, "doctor", **login_env(sim, "not-the-password-9"))
    assert code == 1 and "FAIL  credentials: HTTP 422 POST /api/auth: login as 'admin' failed" in out
    assert "not-the-password-9" not in out + err


def test_doctor_non_admin(monkeypatch, capsys, sim: PortainerSim, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sim.create_user("bob", USER_PW, 2)
    (tmp_path / "pw").write_text(USER_PW + "\n")
    env = {"PORTAINER_URL": sim.url, "PORTAINER_USERNAME": "bob"}
    code, out, _ = run(monkeypatch, capsys, "doctor", "--password-file", str(tmp_path / "pw"), **env)
    assert code == 1 and "FAIL  credentials: login of 'bob' (id 2) works, but that user is not an administrator" in out


def test_doctor_missing_and_down_environment(monkeypatch, capsys, sim: PortainerSim) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run(monkeypatch, capsys, "doctor", **key_env(sim), PORTAINER_ENDPOINT_ID="7")
    assert code == 1
    assert "FAIL  environment: environment 7 (PORTAINER_ENDPOINT_ID) does not exist" in out and "1 (local)" in out
    sim.endpoints[1]["Status"] = 2
    code, out, _ = run(monkeypatch, capsys, "doctor", "--endpoint-id", "1", **key_env(sim))
    assert code == 1 and "FAIL  environment: environment 1 (--endpoint-id) 'local' is down" in out


def test_doctor_unsupported_version(monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    with PortainerSim(version="2.13.1") as old:
        code, out, _ = run(monkeypatch, capsys, "doctor", **key_env(old))
    assert code == 1 and "FAIL  status: Portainer 2.13.1" in out and "upgrade Portainer" in out
    assert "skip  credentials" in out


def test_doctor_on_2_19_checks_the_key_by_listing_users(monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    with PortainerSim(version="2.19.4") as old:
        code, out, _ = run(monkeypatch, capsys, "doctor", **key_env(old))
        assert code == 0, out
        assert paths(old) == ["GET /api/system/status", "GET /api/users", "GET /api/endpoints/1"]


# ---------------------------------------------------------------- api-key


def test_api_key_quiet_prints_only_a_working_key(monkeypatch, capsys, sim: PortainerSim) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run(monkeypatch, capsys, "api-key", "--quiet", **login_env(sim))
    assert code == 0 and err == ""
    key = out.strip()
    assert re.fullmatch(r"ptr_[A-Za-z0-9+/=]{44}", key) and out == key + "\n"
    assert paths(sim) == [
        "GET /api/system/status",
        "POST /api/auth",
        "GET /api/users/me",
        "POST /api/users/1/tokens",
    ]
    assert json.loads(sim.requests[-1].body) == {"description": "pulumi-portainer", "password": sim.admin_password}
    client = Client(Connection(url=sim.url, api_key=key))
    try:
        assert client.get("/users/me")["Username"] == "admin"
    finally:
        client.close()


def test_api_key_default_output_and_hint(monkeypatch, capsys, sim: PortainerSim) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run(monkeypatch, capsys, "api-key", "--description", "ci", **login_env(sim))
    assert code == 0 and "API key 'ci' for 'admin' (id 1)" in out and "ptr_" in out
    assert "pulumi config set --secret portainer:apiKey" in err
    assert sim.admin_password not in out + err


def test_api_key_on_2_19_lists_users_and_sends_no_password(monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    with PortainerSim(version="2.19.4") as old:
        code, out, _ = run(monkeypatch, capsys, "api-key", "-q", **login_env(old))
        assert code == 0 and out.startswith("ptr_")
        assert "GET /api/users" in paths(old) and "GET /api/users/me" not in paths(old)
        assert json.loads(old.requests[-1].body) == {"description": "pulumi-portainer"}


def test_api_key_wrong_password(monkeypatch, capsys, sim: PortainerSim) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run(monkeypatch, capsys, "api-key", **login_env(sim, "wrong-password-77"))
    assert code == 1 and out == ""
    assert "HTTP 422 POST /api/auth: login as 'admin' failed (Invalid credentials)" in one_line(err)
    assert "wrong-password-77" not in err and sim.count("POST", r"/api/users/\d+/tokens") == 0


def test_api_key_password_file_and_prompt(monkeypatch, capsys, sim: PortainerSim, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    secret = tmp_path / "password"
    secret.write_text(sim.admin_password + "\n")
    env = {"PORTAINER_URL": sim.url, "PORTAINER_USERNAME": "admin"}
    code, out, err = run(monkeypatch, capsys, "api-key", "-q", "--password-file", str(secret), **env)
    assert code == 0 and out.startswith("ptr_") and sim.admin_password not in out + err
    prompts: list[str] = []
    monkeypatch.setattr(cli, "_interactive", lambda: True)
    monkeypatch.setattr(cli.getpass, "getpass", lambda text: prompts.append(text) or sim.admin_password)
    code, out, err = run(monkeypatch, capsys, "api-key", "-q", **env)
    assert code == 0 and prompts == [f"Portainer password for admin at {sim.url}: "]
    assert sim.admin_password not in out + err


def test_api_key_missing_password_file(monkeypatch, capsys, sim: PortainerSim, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env = {"PORTAINER_URL": sim.url, "PORTAINER_USERNAME": "admin"}
    code, _, err = run(monkeypatch, capsys, "api-key", "--password-file", str(tmp_path / "nope"), **env)
    assert code == 1 and "cannot read --password-file" in one_line(err) and sim.count() == 0


def test_api_key_refuses_bad_description(monkeypatch, capsys, sim: PortainerSim) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run(monkeypatch, capsys, "api-key", "--description", "x" * 128, **login_env(sim))
    assert code == 1 and "--description" in one_line(err) and "128 bytes" in err and sim.count() == 0


# ---------------------------------------------------------------- backup


def members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path, "r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}  # type: ignore[union-attr]


def test_backup_streams_an_unencrypted_archive(monkeypatch, capsys, sim: PortainerSim, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sim.backup_padding = 3 * 1024 * 1024  # type: ignore[attr-defined]
    out_file = tmp_path / "portainer.tar.gz"
    code, out, _ = run(monkeypatch, capsys, "backup", "--out", str(out_file), "--no-encryption", **key_env(sim))
    assert code == 0 and f"to {out_file}" in out and "unencrypted" in out
    content = members(out_file)
    assert len(content["padding.bin"]) == 3 * 1024 * 1024
    assert json.loads(content["portainer.db"])["InstanceID"] == sim.instance_id
    assert paths(sim) == ["GET /api/system/status", "POST /api/backup"]
    assert json.loads(sim.requests[-1].body) == {"password": ""}
    assert sorted(os.listdir(tmp_path)) == ["portainer.tar.gz"]  # no partial file left


def test_backup_refuses_an_existing_file(monkeypatch, capsys, sim: PortainerSim, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out_file = tmp_path / "old.tar.gz"
    out_file.write_bytes(b"keep me")
    code, _, err = run(monkeypatch, capsys, "backup", "--out", str(out_file), **key_env(sim))
    assert code == 1 and "already exists" in one_line(err) and "--force" in err
    assert out_file.read_bytes() == b"keep me" and sim.count() == 0
    code, _, _ = run(
        monkeypatch, capsys, "backup", "--out", str(out_file), "--force", "--no-encryption", **key_env(sim)
    )
    assert code == 0 and "portainer.db" in members(out_file)


def test_backup_without_tty_and_without_archive_password(
    monkeypatch, capsys, sim: PortainerSim, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run(monkeypatch, capsys, "backup", "--out", str(tmp_path / "b"), **key_env(sim))
    assert code == 1 and "no archive password and no terminal to ask on" in one_line(err)
    assert "PORTAINER_BACKUP_PASSWORD" in err and sim.count() == 0 and not os.listdir(tmp_path)


def test_backup_with_login_that_fails(monkeypatch, capsys, sim: PortainerSim, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    args = ("backup", "--out", str(tmp_path / "b"), "--no-encryption")
    code, _, err = run(monkeypatch, capsys, *args, **login_env(sim, "bad-password-123"))
    assert code == 1 and "HTTP 422 POST /api/auth" in one_line(err) and "bad-password-123" not in err
    assert not os.listdir(tmp_path)


def test_backup_by_a_non_admin(monkeypatch, capsys, sim: PortainerSim, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sim.create_user("bob", USER_PW, 2)
    env = {"PORTAINER_URL": sim.url, "PORTAINER_USERNAME": "bob", "PORTAINER_PASSWORD": USER_PW}
    code, _, err = run(monkeypatch, capsys, "backup", "--out", str(tmp_path / "b"), "--no-encryption", **env)
    assert code == 1 and "HTTP 401 POST /api/backup: User is not authorized to perform the action" in one_line(err)


def test_backup_unreachable_and_unsupported(monkeypatch, capsys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    args = ("backup", "--out", str(tmp_path / "b"), "--no-encryption")
    code, _, err = run(monkeypatch, capsys, *args, PORTAINER_URL="http://127.0.0.1:1", PORTAINER_API_KEY="ptr_x")
    assert code == 1 and "cannot connect to http://127.0.0.1:1" in one_line(err)
    with PortainerSim(version="2.13.1") as old:
        code, _, err = run(monkeypatch, capsys, *args, **key_env(old))
        assert code == 1 and "is not supported" in one_line(err) and old.count("POST") == 0
    assert not os.listdir(tmp_path)


def test_backup_cut_off_is_reported_and_not_retried(monkeypatch, capsys, sim: PortainerSim, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sim.backup_padding, sim.backup_cut_at = 3 * 1024 * 1024, 1024 * 1024  # type: ignore[attr-defined]
    code, _, err = run(monkeypatch, capsys, "backup", "--out", str(tmp_path / "b"), "--no-encryption", **key_env(sim))
    assert code == 1 and "POST /api/backup" in one_line(err) and ("broke off" in err or "ended after" in err)
    assert sim.count("POST", "/api/backup") == 1 and not os.listdir(tmp_path)


# ---------------------------------------------------------------- restore


def backup_to(monkeypatch, capsys, sim: PortainerSim, path: Path) -> None:  # type: ignore[no-untyped-def]
    password = tmp = path.with_suffix(".pw")
    tmp.write_text(ARCHIVE_PW)
    code, _, err = run(
        monkeypatch, capsys, "backup", "--out", str(path), "--password-file", str(password), **key_env(sim)
    )
    assert code == 0, err


def test_backup_then_restore_to_a_fresh_portainer(monkeypatch, capsys, sim, fresh, tmp_path) -> None:  # type: ignore[no-untyped-def]
    sim.create_user("carol", USER_PW, 2)
    archive = tmp_path / "b.tar.gz"
    backup_to(monkeypatch, capsys, sim, archive)
    assert not archive.read_bytes().startswith(b"\x1f\x8b")  # encrypted
    code, out, err = run(
        monkeypatch, capsys, "restore", str(archive), PORTAINER_URL=fresh.url, PORTAINER_BACKUP_PASSWORD=ARCHIVE_PW
    )
    assert code == 0, err
    assert out == (
        f"restored {archive} to {fresh.url}: Portainer {fresh.version}, instance id {sim.instance_id}; "
        "log in with an administrator of the backup\n"
    )
    assert fresh.instance_id == sim.instance_id and {u["Username"] for u in fresh.users.values()} == {"admin", "carol"}
    assert paths(fresh)[:3] == ["GET /api/system/status", "GET /api/users/admin/check", "POST /api/restore"]
    assert paths(fresh)[-1] == "GET /api/users/admin/check" and fresh.count("POST", "/api/restore") == 1
    assert fresh.count("GET", "/api/system/status") == 1 + 1 + fresh.restart_drops  # the restart was waited out
    assert all("x-api-key" not in r.headers and "authorization" not in r.headers for r in fresh.requests)
    assert ARCHIVE_PW not in out + err


def test_restore_to_an_initialised_portainer(monkeypatch, capsys, sim: PortainerSim, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    archive = tmp_path / "b.tar.gz"
    backup_to(monkeypatch, capsys, sim, archive)
    sim.clear_requests()
    code, _, err = run(monkeypatch, capsys, "restore", str(archive), "--no-encryption", PORTAINER_URL=sim.url)
    line = one_line(err)
    assert code == 1 and "refused the restore: Cannot restore already initialized instance" in line
    assert "empty data volume" in line and sim.count("POST", "/api/restore") == 0


def test_restore_refused_by_portainer_itself(monkeypatch, capsys, fresh: PortainerSim, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    archive = tmp_path / "b.tar.gz"
    archive.write_bytes(b"x" * 100)
    fresh.inject(
        "POST",
        "/api/restore",
        status=400,
        body={"message": "Cannot restore already initialized instance", "details": "System already initialized"},
    )
    code, _, err = run(monkeypatch, capsys, "restore", str(archive), "--no-encryption", PORTAINER_URL=fresh.url)
    assert code == 1 and "refused the restore" in one_line(err) and "empty data volume" in err


def test_restore_with_wrong_archive_password(monkeypatch, capsys, sim, fresh, tmp_path) -> None:  # type: ignore[no-untyped-def]
    archive = tmp_path / "b.tar.gz"
    backup_to(monkeypatch, capsys, sim, archive)
    env = {"PORTAINER_URL": fresh.url, "PORTAINER_BACKUP_PASSWORD": "not-the-archive-pw"}
    code, _, err = run(monkeypatch, capsys, "restore", str(archive), **env)
    line = one_line(err)
    assert code == 1 and "HTTP 500 POST /api/restore: Failed to restore the backup" in line
    assert "password is correct" in line and "not-the-archive-pw" not in line
    assert not fresh.users  # nothing restored


def test_restore_after_the_admin_init_timeout(monkeypatch, capsys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    archive = tmp_path / "b.tar.gz"
    archive.write_bytes(b"x")
    with PortainerSim(initialised=False, admin_init_timeout=0.0) as late:
        code, _, err = run(monkeypatch, capsys, "restore", str(archive), "--no-encryption", PORTAINER_URL=late.url)
        assert code == 1 and "waited more than 5 minutes" in one_line(err) and "restart it" in err
        assert late.count("POST", "/api/restore") == 0


def test_restore_without_tty_and_without_password(monkeypatch, capsys, fresh, tmp_path) -> None:  # type: ignore[no-untyped-def]
    archive = tmp_path / "b.tar.gz"
    archive.write_bytes(b"x")
    code, _, err = run(monkeypatch, capsys, "restore", str(archive), PORTAINER_URL=fresh.url)
    assert code == 1 and "no terminal to ask on" in one_line(err) and fresh.count() == 0
    code, _, err = run(monkeypatch, capsys, "restore", str(tmp_path / "missing"), PORTAINER_URL=fresh.url)
    assert code == 1 and "is not a file" in one_line(err)


def test_restore_waits_a_bounded_time(monkeypatch, capsys, sim, fresh, tmp_path) -> None:  # type: ignore[no-untyped-def]
    archive = tmp_path / "b.tar.gz"
    backup_to(monkeypatch, capsys, sim, archive)
    fresh.restart_drops = 10_000  # never comes back
    env = {"PORTAINER_URL": fresh.url, "PORTAINER_BACKUP_PASSWORD": ARCHIVE_PW}
    code, _, err = run(monkeypatch, capsys, "restore", str(archive), "--wait", "1", **env)
    assert code == 1 and "did not come back within 1 s" in one_line(err)
    fresh.faults.clear()


def test_restore_unreachable(monkeypatch, capsys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    archive = tmp_path / "b.tar.gz"
    archive.write_bytes(b"x")
    code, _, err = run(
        monkeypatch, capsys, "restore", str(archive), "--no-encryption", PORTAINER_URL="http://127.0.0.1:1"
    )
    assert code == 1 and "cannot connect" in one_line(err)


# ---------------------------------------------------------------- settings: flags, environment, stack


def test_flags_win_over_environment_over_stack(monkeypatch, capsys, sim: PortainerSim) -> None:  # type: ignore[no-untyped-def]
    calls: list[tuple[str, str]] = []

    def stack(name: str, cwd: str) -> dict[str, str]:
        calls.append((name, cwd))
        return {
            "portainer:url": "http://127.0.0.1:1",
            "portainer:apiKey": str(sim.api_key),
            "portainer:endpointId": "1",
        }

    monkeypatch.setattr(cli, "load_stack_config", stack)
    code, out, _ = run(monkeypatch, capsys, "doctor", "--stack", "dev", "--cwd", "/proj", PORTAINER_URL=sim.url)
    assert code == 0 and calls == [("dev", "/proj")]
    assert "(PORTAINER_URL)" in out and "environment 1 (portainer:endpointId)" in out
    code, out, err = run(monkeypatch, capsys, "status", "--stack", "dev", "--url", "http://127.0.0.1:1")
    assert code == 1 and "127.0.0.1:1 is not reachable" in err


def test_stack_config_alone(monkeypatch, capsys, sim: PortainerSim) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(cli, "load_stack_config", lambda name, cwd: {"portainer:url": sim.url})
    code, out, _ = run(monkeypatch, capsys, "status", "--stack", "dev")
    assert code == 0 and sim.instance_id in out


def test_stack_without_pulumi_cli(monkeypatch, capsys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PATH", str(tmp_path))
    code, _, err = run(monkeypatch, capsys, "status", "--stack", "dev")
    assert code == 1 and "needs the pulumi CLI on PATH" in one_line(err)


# ---------------------------------------------------------------- progress


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_and_in_a_log() -> None:
    term = FakeTerminal()
    bar = cli.Progress("upload", 1000, quiet=False, stream=term)
    bar.add(500)
    bar.finish()
    assert term.getvalue().startswith("\rupload: 0.0 MiB of 0.0 MiB (50%)") and term.getvalue().endswith("\n")
    log = io.StringIO()
    bar = cli.Progress("upload", 100 * cli.MiB, quiet=False, stream=log)
    for _ in range(10):
        bar.add(10 * cli.MiB)
    assert len(log.getvalue().splitlines()) == 10 and "(100%)" in log.getvalue()
    quiet = io.StringIO()
    cli.Progress("upload", 1000, quiet=True, stream=quiet).add(1000)
    assert quiet.getvalue() == ""


# ---------------------------------------------------------------- Client.download


def streaming_client(handler: Any) -> tuple[Client, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        request.read()
        seen.append(request)
        return handler(request)  # type: ignore[no-any-return]

    conn = Connection(url="http://127.0.0.1:1", api_key="ptr_download-key", timeout=5)
    return Client(conn, transport=httpx.MockTransport(record)), seen


def test_download_streams_chunks_to_the_sink() -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(8):
            yield b"a" * 100_000

    client, seen = streaming_client(
        lambda r: httpx.Response(200, content=chunks(), headers={"Content-Length": "800000"})
    )
    pieces: list[int] = []
    assert client.download("/backup", json={"password": ""}, sink=lambda b: pieces.append(len(b))) == 800_000
    assert sum(pieces) == 800_000 and max(pieces) <= _http.STREAM_CHUNK
    assert seen[0].headers["X-API-Key"] == "ptr_download-key" and json.loads(seen[0].content) == {"password": ""}


def test_download_error_status_and_short_body() -> None:
    client, seen = streaming_client(lambda r: httpx.Response(503, json={"message": "Failed to create backup"}))
    with pytest.raises(APIError) as err:
        client.download("/backup", sink=lambda b: None)
    assert (
        err.value.status == 503 and err.value.message == "Failed to create backup" and len(seen) == 1
    )  # POST: no retry
    client, seen = streaming_client(
        lambda r: httpx.Response(200, content=iter([b"abc"]), headers={"Content-Length": "10"})
    )
    with pytest.raises(TransportError) as cut:
        client.download("/backup", sink=lambda b: None)
    assert cut.value.sent and "3 of 10 bytes" in str(cut.value) and len(seen) == 1


def test_download_broken_connection_is_not_retried() -> None:
    def broken() -> Iterator[bytes]:
        yield b"x" * 1000
        raise httpx.ReadError("connection reset")

    client, seen = streaming_client(lambda r: httpx.Response(200, content=broken()))
    with pytest.raises(TransportError) as err:
        client.download("/backup", sink=lambda b: None)
    assert "broke off after 1000 bytes" in str(err.value) and err.value.sent and len(seen) == 1


def test_download_hands_bounded_pieces() -> None:
    """The sink sees bounded pieces however large the body: 64 MiB through 256 KiB pieces."""
    size = 64 * 1024 * 1024
    block = b"z" * (1024 * 1024)

    def body() -> Iterator[bytes]:
        for _ in range(size // len(block)):
            yield block

    client, _ = streaming_client(lambda r: httpx.Response(200, content=body(), headers={"Content-Length": str(size)}))
    largest = [0]

    def sink(piece: bytes) -> None:
        largest[0] = max(largest[0], len(piece))

    assert client.download("/backup", sink=sink) == size and largest[0] <= _http.STREAM_CHUNK
