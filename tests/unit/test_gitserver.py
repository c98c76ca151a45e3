"""The harness's smart-HTTP git server: anonymous and basic-auth repositories, clone and new commits."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.harness.gitserver import GitServer

COMPOSE = "services:\n  web:\n    image: 127.0.0.1:5999/pp/busybox:1\n"


def git(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {"GIT_TERMINAL_PROMPT": "0", "PATH": "/usr/bin:/bin:/usr/local/bin", "HOME": str(cwd or "/tmp")}
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)


def test_anonymous_and_authenticated_clone(tmp_path: Path) -> None:
    server = GitServer(tmp_path / "git").start()
    try:
        first = server.create("open", {"docker-compose.yml": COMPOSE})
        server.create("closed", {"stack/compose.yml": COMPOSE}, private=True)
        assert git("clone", "-q", server.repo_url("open"), str(tmp_path / "a")).returncode == 0
        assert (tmp_path / "a" / "docker-compose.yml").read_text() == COMPOSE
        denied = git("clone", "-q", server.repo_url("closed", private=True), str(tmp_path / "b"))
        assert denied.returncode != 0
        authed = server.repo_url("closed", private=True).replace(
            "http://", f"http://{server.username}:{server.password}@"
        )
        assert git("clone", "-q", authed, str(tmp_path / "c")).returncode == 0
        second = server.commit("open", {"docker-compose.yml": COMPOSE + "    command: ['sleep', '1']\n"})
        assert second != first
        remote = git("ls-remote", server.repo_url("open"), "refs/heads/main").stdout.split()[0]
        assert remote == second
    finally:
        server.stop()
