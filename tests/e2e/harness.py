"""End-to-end harness: the real Pulumi CLI (Automation API, inline programs, local file backend) against
a Portainer target, which is the real server named by ``PORTAINER_URL`` + ``PORTAINER_API_KEY`` when set,
else the in-repo simulator on loopback.

Inline programs need only the ``pulumi`` CLI and its ``pulumi-resource-pulumi-python`` script (built by
``scripts/build-pulumi.sh``); no language host. The dynamic-provider process runs this interpreter
(``PULUMI_PYTHON_CMD``), where pulumi_portainer is installed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from pulumi import automation as auto

from tests.harness.local import versions

ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = "e2e-passphrase"


def pulumi_root() -> Path:
    """The directory whose ``bin/`` holds ``pulumi`` and ``pulumi-resource-pulumi-python``: ``PULUMI_ROOT``,
    else the build cache of ``scripts/build-pulumi.sh``, else a ``pulumi`` on PATH."""
    candidates = []
    if os.environ.get("PULUMI_ROOT"):
        candidates.append(Path(os.environ["PULUMI_ROOT"]))
    cache = Path(os.environ.get("PP_CACHE", Path.home() / ".cache" / "pulumi-portainer"))
    candidates.append(cache / f"pulumi-{versions()['PULUMI_CLI_VERSION']}")
    on_path = shutil.which("pulumi")
    if on_path:
        candidates.append(Path(on_path).resolve().parent.parent)
    for root in candidates:
        if (root / "bin" / "pulumi").exists() and (root / "bin" / "pulumi-resource-pulumi-python").exists():
            return root
    raise FileNotFoundError(
        "no Pulumi CLI: run scripts/build-pulumi.sh (builds it from its Go module) or set PULUMI_ROOT"
    )


@dataclass
class Target:
    """The Portainer the test talks to."""

    url: str
    api_key: str
    sim: Any = None  # the simulator, when the target is the simulator

    @property
    def real(self) -> bool:
        return self.sim is None


@dataclass
class Project:
    """One Pulumi stack of one inline program, with a private PULUMI_HOME and file backend."""

    name: str
    program: Callable[[], None]
    target: Target
    workdir: Path
    config: dict[str, tuple[str, bool]] = field(default_factory=dict)
    stack: Optional[auto.Stack] = None
    output: list[str] = field(default_factory=list)

    def open(self) -> Project:
        state = self.workdir / "state"
        home = self.workdir / "home"
        state.mkdir(parents=True, exist_ok=True)
        home.mkdir(parents=True, exist_ok=True)
        root = pulumi_root()
        env = {
            "PULUMI_BACKEND_URL": state.as_uri(),
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_HOME": str(home),
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_PYTHON_CMD": sys.executable,
            "PATH": f"{root / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        for var in ("PORTAINER_URL", "PORTAINER_API_KEY", "PORTAINER_USERNAME", "PORTAINER_PASSWORD"):
            env[var] = ""  # only stack config counts inside tests
        opts = auto.LocalWorkspaceOptions(
            work_dir=str(self.workdir),
            env_vars=env,
            pulumi_command=auto.PulumiCommand(root=str(root)),
            project_settings=auto.ProjectSettings(name=self.name, runtime="python"),
        )
        self.stack = auto.create_or_select_stack("e2e", project_name=self.name, program=self.program, opts=opts)
        settings = {
            "portainer:url": (self.target.url, False),
            "portainer:apiKey": (self.target.api_key, True),
            **self.config,
        }
        self.stack.set_all_config({k: auto.ConfigValue(v, secret=s) for k, (v, s) in settings.items()})
        return self

    def _log(self, line: str) -> None:
        self.output.append(line)

    @property
    def s(self) -> auto.Stack:
        assert self.stack is not None
        return self.stack

    def up(self) -> auto.UpResult:
        return self.s.up(on_output=self._log, color="never")

    def preview(self) -> auto.PreviewResult:
        return self.s.preview(on_output=self._log, color="never", diff=True)

    def refresh(self) -> auto.RefreshResult:
        return self.s.refresh(on_output=self._log, color="never")

    def destroy(self) -> auto.DestroyResult:
        return self.s.destroy(on_output=self._log, color="never")

    def export(self) -> str:
        """``pulumi stack export`` as a user runs it (the Automation API's export adds --show-secrets)."""
        workspace = self.s.workspace
        env = {**os.environ, **(workspace.env_vars or {})}
        run = subprocess.run(
            [str(pulumi_root() / "bin" / "pulumi"), "stack", "export", "--stack", "e2e", "--non-interactive"],
            cwd=self.workdir,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        json.loads(run.stdout)
        return run.stdout

    def close(self) -> None:
        if self.stack is not None:
            try:
                self.s.destroy(on_output=self._log, color="never")
            finally:
                self.s.workspace.remove_stack("e2e")


def changes(summary: dict[Any, int]) -> dict[str, int]:
    """A change summary without the unchanged count, keyed by plain strings."""
    return {str(getattr(k, "value", k)): v for k, v in summary.items() if str(getattr(k, "value", k)) != "same" and v}


def plaintext_leaks(secrets: Iterable[str], *texts: str) -> list[str]:
    """Every secret value that appears verbatim in any of the texts."""
    return sorted({s for s in secrets if s and any(s in t for t in texts)})


def cli_version(root: Path) -> str:
    return subprocess.run(
        [str(root / "bin" / "pulumi"), "version"], capture_output=True, text=True, check=True
    ).stdout.strip()
