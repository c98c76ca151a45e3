"""The `pulumi-portainer` command with the real Pulumi CLI: settings read from a Pulumi stack's config
(`--stack`), and a key from `api-key` that then works for `pulumi up`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pulumi

import pulumi_portainer as portainer
from tests.e2e.harness import PASSPHRASE, plaintext_leaks, pulumi_root


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)


def test_doctor_reads_a_pulumi_stacks_config(target: Any, tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: cli-e2e\nruntime: python\n")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PORTAINER_")},
        "PATH": f"{pulumi_root() / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "PULUMI_BACKEND_URL": (tmp_path / "state").as_uri(),
        "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
        "PULUMI_HOME": str(tmp_path / "home"),
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
    }
    (tmp_path / "state").mkdir()
    pulumi_cli = str(pulumi_root() / "bin" / "pulumi")
    for args in (
        ["stack", "init", "dev"],
        ["config", "set", "portainer:url", target.url],
        ["config", "set", "--secret", "portainer:apiKey", target.api_key],
    ):
        assert run([pulumi_cli, *args, "--non-interactive"], env, project).returncode == 0
    doctor = run(
        [sys.executable, "-m", "pulumi_portainer", "doctor", "--stack", "dev", "--cwd", str(project)], env, project
    )
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert plaintext_leaks([target.api_key], doctor.stdout, doctor.stderr) == []
    status = run(
        [sys.executable, "-m", "pulumi_portainer", "status", "--stack", "dev", "--cwd", str(project)], env, project
    )
    assert status.returncode == 0 and "2." in status.stdout


def test_api_key_works_for_pulumi_up(target: Any, project: Any, tmp_path: Path, portainer_api: Any) -> None:
    if target.sim is None:
        password = os.environ.get("PORTAINER_PASSWORD")
        assert password, "set PORTAINER_USERNAME/PORTAINER_PASSWORD to run api-key against a real server"
        username = os.environ.get("PORTAINER_USERNAME", "admin")
    else:
        username, password = target.sim.admin_username, target.sim.admin_password
    secret_file = tmp_path / "password"
    secret_file.write_text(password)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAINER_")}
    made = run(
        [
            sys.executable,
            "-m",
            "pulumi_portainer",
            "api-key",
            "--url",
            target.url,
            "--username",
            username,
            "--password-file",
            str(secret_file),
            "--quiet",
        ],
        env,
        tmp_path,
    )
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    assert key.startswith("ptr_") and password not in made.stdout + made.stderr

    def program() -> None:
        pulumi.export("version", portainer.get_status().version)
        portainer.User("via-new-key", username="e2e-new-key", password="e2e-new-key-password")

    proj = project("new-key", program, **{"portainer:apiKey": (key, True)})
    assert proj.up().summary.result == "succeeded"
    assert any(u["Username"] == "e2e-new-key" for u in portainer_api.get("/users"))
    proj.destroy()
