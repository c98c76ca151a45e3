"""Bring up (and tear down) what the end-to-end tier and the quickstart need, on loopback only.

* Docker engine: the one ``DOCKER_HOST`` (or the default socket) already answers on; else Debian's
  ``docker.io`` (installed only with ``install=True`` or in CI) started on a private unix socket with its
  own data and exec roots, ``DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1`` and ``docker swarm init`` on loopback.
* Portainer CE (versions.env): ``PORTAINER_URL`` when given; else the official image when it is present
  or a user-configured engine can pull it (the private engine never asks a registry); else built from
  its Go module through the module proxy (``scripts/build-portainer.sh``).
  Started on 127.0.0.1 with a generated admin password; an API key is bootstrapped.
* Pulumi CLI: ``scripts/build-pulumi.sh``.
Every process started is recorded with its PID in the state directory and stopped by that PID only.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("PP_CACHE", Path.home() / ".cache" / "pulumi-portainer"))
STATE = Path(os.environ.get("PP_STATE", "/run/pp-e2e" if os.geteuid() == 0 else CACHE / "run"))
DATA = Path(os.environ.get("PP_DATA", "/var/lib/pp-e2e" if os.geteuid() == 0 else CACHE / "data"))
SOCKET = STATE / "docker.sock"
IMAGE_TAG = "127.0.0.1:5999/pp/busybox:1"  # a loopback registry where nothing listens: no lookup leaves


_children: list[subprocess.Popen[bytes]] = []  # started here: kept referenced, reaped when stopped


def _spawn(args: list[str], log_path: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    with open(log_path, "ab") as log:  # the child keeps its own descriptor
        proc = subprocess.Popen(args, stdout=log, stderr=log, env=env, start_new_session=True)
    _children.append(proc)
    return proc


def _reap() -> None:
    for proc in list(_children):
        if proc.poll() is not None:
            _children.remove(proc)


class MissingPiece(RuntimeError):
    """Something the harness needs is not on this machine; the message says how to get it."""


def versions() -> dict[str, str]:
    out = {}
    for line in (ROOT / "versions.env").read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip()
    return out


def _run(
    *args: str,
    env: Optional[dict[str, str]] = None,
    check: bool = True,
    input_: Optional[bytes] = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(list(args), env=env, check=check, capture_output=True, input=input_, timeout=timeout)


def _pid_alive(pidfile: Path) -> Optional[int]:
    try:
        pid = int(pidfile.read_text().strip())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None


def _stop(pidfile: Path, timeout: float = 30) -> None:
    """Stop the process recorded in ``pidfile`` (only that PID), and reap it when it is our child."""
    pid = _pid_alive(pidfile)
    if pid is not None:
        child = next((p for p in _children if p.pid == pid), None)
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if (child.poll() is not None) if child is not None else _pid_alive(pidfile) is None:
                break
            time.sleep(0.2)
        else:
            os.kill(pid, signal.SIGKILL)
            if child is not None:
                child.wait(timeout=10)
    pidfile.unlink(missing_ok=True)
    _reap()


# ---------------------------------------------------------------- docker


@dataclass
class Docker:
    host: str  # DOCKER_HOST value
    cli: str
    own: bool  # started by the harness

    def env(self) -> dict[str, str]:
        return {**os.environ, "DOCKER_HOST": self.host}

    def __call__(
        self, *args: str, check: bool = True, input_: Optional[bytes] = None, timeout: float = 300
    ) -> subprocess.CompletedProcess[bytes]:
        return _run(self.cli, *args, env=self.env(), check=check, input_=input_, timeout=timeout)

    @property
    def socket(self) -> Optional[str]:
        return self.host[len("unix://") :] if self.host.startswith("unix://") else None


def _docker_cli() -> Optional[str]:
    # Debian's docker.io CLI first: Portainer runs it for swarm stacks and it matches the engine
    for candidate in ("/usr/bin/docker", shutil.which("docker")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def _answers(cli: str, host: str) -> bool:
    try:
        return (
            _run(
                cli,
                "version",
                "--format",
                "{{.Server.Version}}",
                env={**os.environ, "DOCKER_HOST": host},
                check=False,
                timeout=20,
            ).returncode
            == 0
        )
    except (OSError, subprocess.TimeoutExpired):
        return False


def install_packages(packages: list[str]) -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    _run("apt-get", "update", "-q", env=env, timeout=900)
    _run("apt-get", "install", "-y", "-q", *packages, env=env, timeout=1800)


def docker_engine(install: bool = False) -> Docker:
    """A Docker engine to use: configured, already started by us, or started now."""
    cli = _docker_cli()
    configured = os.environ.get("DOCKER_HOST")
    if cli and configured and _answers(cli, configured):
        return Docker(configured, cli, own=False)
    if cli and SOCKET.exists() and _answers(cli, f"unix://{SOCKET}"):
        return Docker(f"unix://{SOCKET}", cli, own=True)
    if (
        cli
        and not configured
        and Path("/var/run/docker.sock").exists()
        and _answers(cli, "unix:///var/run/docker.sock")
    ):
        return Docker("unix:///var/run/docker.sock", cli, own=False)
    if not shutil.which("dockerd") or not Path("/usr/bin/docker").exists() or not shutil.which("busybox"):
        if not install:
            raise MissingPiece(
                "no Docker engine: set DOCKER_HOST to a running engine, or install Debian's packages "
                "(apt-get install docker.io containerd busybox-static), or rerun with --install"
            )
        install_packages(["docker.io", "containerd", "busybox-static"])
    return _start_dockerd()


def _start_dockerd() -> Docker:
    STATE.mkdir(parents=True, exist_ok=True)
    (DATA / "docker").mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DOCKER_SERVICE_PREFER_OFFLINE_IMAGE": "1"}
    proc = _spawn(
        [
            "dockerd",
            "--host",
            f"unix://{SOCKET}",
            "--data-root",
            str(DATA / "docker"),
            "--exec-root",
            str(STATE / "exec"),
            "--pidfile",
            str(STATE / "dockerd.pid"),
        ],
        STATE / "dockerd.log",
        env,
    )
    docker = Docker(f"unix://{SOCKET}", "/usr/bin/docker", own=True)
    deadline = time.monotonic() + 90
    while not _answers(docker.cli, docker.host):
        if proc.poll() is not None or time.monotonic() > deadline:
            tail = (STATE / "dockerd.log").read_text(errors="replace")[-2000:]
            raise MissingPiece(f"dockerd did not start (exit {proc.poll()}):\n{tail}")
        time.sleep(0.5)
    state = docker("info", "--format", "{{.Swarm.LocalNodeState}}").stdout.decode().strip()
    if state != "active":
        docker("swarm", "init", "--advertise-addr", "127.0.0.1")
    return docker


def test_image(docker: Docker) -> str:
    """A busybox image made with ``docker import`` and tagged with a loopback registry name."""
    if docker("image", "inspect", IMAGE_TAG, check=False).returncode == 0:
        return IMAGE_TAG
    rootfs = STATE / "rootfs"
    (rootfs / "bin").mkdir(parents=True, exist_ok=True)
    busybox = shutil.which("busybox") or "/bin/busybox"
    shutil.copy(busybox, rootfs / "bin" / "busybox")
    for applet in _run(str(rootfs / "bin" / "busybox"), "--list").stdout.decode().split():
        link = rootfs / "bin" / applet
        if not link.exists():
            link.symlink_to("busybox")
    tar = _run("tar", "-C", str(rootfs), "-c", ".").stdout
    docker("import", "--change", 'CMD ["/bin/sh"]', "-", IMAGE_TAG, input_=tar)
    return IMAGE_TAG


def stop_docker() -> None:
    if (STATE / "dockerd.pid").exists():
        cli = _docker_cli()
        if cli and _answers(cli, f"unix://{SOCKET}"):
            _run(cli, "swarm", "leave", "--force", env={**os.environ, "DOCKER_HOST": f"unix://{SOCKET}"}, check=False)
        _stop(STATE / "dockerd.pid")


# ---------------------------------------------------------------- portainer


@dataclass
class Portainer:
    url: str
    api_key: str
    admin_password: Optional[str] = None
    own: bool = False


def _http(
    method: str, url: str, body: Optional[dict] = None, headers: Optional[dict] = None, timeout: float = 10
) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - loopback only
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _wait_status(url: str, seconds: float = 120) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        try:
            status, body = _http("GET", f"{url}/api/system/status", timeout=3)
            if status == 200:
                return dict(json.loads(body))
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise MissingPiece(f"Portainer at {url} did not answer /api/system/status within {seconds:.0f} s")
        time.sleep(0.5)


def portainer_binary() -> Path:
    """Portainer built from its Go module through the module proxy (scripts/build-portainer.sh)."""
    run = subprocess.run(["bash", str(ROOT / "scripts" / "build-portainer.sh")], capture_output=True, text=True)
    if run.returncode != 0:
        raise MissingPiece(
            "cannot get Portainer: no PORTAINER_URL, no official image present or pullable by an engine you "
            "configured (the private engine never pulls), and building "
            f"it from its Go module failed:\n{run.stderr.strip()[-1500:]}"
        )
    return Path(run.stdout.strip().splitlines()[-1])


def start_portainer(docker: Docker, name: str = "main", port: int = 19000, initialise: bool = True) -> Portainer:
    """Start (or reuse) a local Portainer with its own data directory and ports; bootstrap an admin and an
    API key, unless ``initialise`` is false (a fresh, uninitialised server, e.g. a restore target)."""
    home = DATA / f"portainer-{name}"
    cred = home / "credentials.json"
    url = f"http://127.0.0.1:{port}"
    if cred.exists() and (_pid_alive(home / "portainer.pid") or _container_running(docker, name)):
        saved = json.loads(cred.read_text())
        _wait_status(url, 30)
        return Portainer(url, saved["api_key"], saved["admin_password"], own=True)
    home.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(18)
    (home / "admin.pw").write_text(password)
    (home / "admin.pw").chmod(0o600)
    version = versions()["PORTAINER_VERSION"]
    image = f"portainer/portainer-ce:{version}"
    # The official image: already present, or pulled by an engine the user configured. The private
    # engine this harness starts stays offline (it never asks a registry), so the binary is built instead.
    present = docker("image", "inspect", image, check=False).returncode == 0
    if present or (not docker.own and docker("pull", image, check=False, timeout=180).returncode == 0):
        docker("rm", "-f", f"pp-portainer-{name}", check=False)
        docker(
            "run",
            "-d",
            "--name",
            f"pp-portainer-{name}",
            "-p",
            f"127.0.0.1:{port}:9000",
            "-v",
            f"{docker.socket}:/var/run/docker.sock",
            "-v",
            f"{home}:/state",
            image,
            "--http-enabled",
            *(["--admin-password-file", "/state/admin.pw"] if initialise else []),
            "-H",
            "unix:///var/run/docker.sock",
        )
    else:
        binary = portainer_binary()
        assets = home / "assets"
        assets.mkdir(exist_ok=True)
        if not (assets / "docker").exists():
            (assets / "docker").symlink_to(docker.cli)
        proc = _spawn(
            [
                str(binary),
                "--data",
                str(home / "data"),
                "--assets",
                str(assets),
                "--bind",
                f"127.0.0.1:{port}",
                "--bind-https",
                f"127.0.0.1:{port + 443}",
                "--http-enabled",
                "--tunnel-addr",
                "127.0.0.1",
                "--tunnel-port",
                str(port + 1000),
                *(["--admin-password-file", str(home / "admin.pw")] if initialise else []),
                "-H",
                docker.host,
                "--log-mode",
                "NOCOLOR",
            ],
            home / "portainer.log",
            docker.env(),
        )
        (home / "portainer.pid").write_text(str(proc.pid))
    _wait_status(url)
    if not initialise:
        return Portainer(url, "", None, own=True)
    status, body = _http("POST", f"{url}/api/auth", {"username": "admin", "password": password})
    if status != 200:
        raise MissingPiece(f"login to the new Portainer failed: HTTP {status} {body[:200]!r}")
    jwt = json.loads(body)["jwt"]
    status, body = _http(
        "POST",
        f"{url}/api/users/1/tokens",
        {"description": "pp-harness", "password": password},
        {"Authorization": f"Bearer {jwt}"},
    )
    if status not in (200, 201):
        raise MissingPiece(f"API key bootstrap failed: HTTP {status} {body[:200]!r}")
    key = json.loads(body)["rawAPIKey"]
    cred.write_text(json.dumps({"api_key": key, "admin_password": password}))
    cred.chmod(0o600)
    deadline = time.monotonic() + 120  # the -H environment is created asynchronously
    while _http("GET", f"{url}/api/endpoints/1", headers={"X-API-Key": key})[0] != 200:
        if time.monotonic() > deadline:
            raise MissingPiece("Portainer's local environment (id 1) did not appear")
        time.sleep(0.5)
    return Portainer(url, key, password, own=True)


def _container_running(docker: Docker, name: str) -> bool:
    out = docker("inspect", "-f", "{{.State.Running}}", f"pp-portainer-{name}", check=False)
    return out.returncode == 0 and out.stdout.decode().strip() == "true"


def stop_portainer(name: str = "main") -> None:
    home = DATA / f"portainer-{name}"
    _stop(home / "portainer.pid")
    cli = _docker_cli()
    if cli and SOCKET.exists():
        _run(
            cli, "rm", "-f", f"pp-portainer-{name}", env={**os.environ, "DOCKER_HOST": f"unix://{SOCKET}"}, check=False
        )
    shutil.rmtree(home, ignore_errors=True)  # data, credentials, assets: the next start is a fresh server


def target_from_env() -> Optional[Portainer]:
    url = os.environ.get("PORTAINER_URL")
    if not url:
        return None
    key = os.environ.get("PORTAINER_API_KEY", "")
    return Portainer(url.rstrip("/").removesuffix("/api"), key)
