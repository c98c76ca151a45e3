"""The README's first command: ``scripts/up.sh`` (this module's ``up``) and ``scripts/down.sh``.

``up``: uses ``PORTAINER_URL`` (+ ``PORTAINER_API_KEY``) when set, otherwise brings up a local Portainer on
a local Docker engine (system packages only with ``--install`` or in CI); then runs ``pulumi up`` of the
root project on a local file backend and prints its outputs. A second run changes nothing. ``down``
destroys the stack and stops what ``up`` started.
"""

from __future__ import annotations

import argparse
import os
import runpy
import secrets
import sys

from pulumi import automation as auto

from tests.e2e.harness import pulumi_root
from tests.harness import local

STACK = "quickstart"
PROJECT_DIR = local.ROOT


def _program() -> None:
    main = (PROJECT_DIR / "Pulumi.yaml").read_text().split("main:", 1)[1].split()[0]
    runpy.run_path(str(PROJECT_DIR / main / "__main__.py"), run_name="__main__")


def _secret(name: str) -> str:
    path = local.CACHE / "quickstart" / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(24))
        path.chmod(0o600)
    return path.read_text().strip()


def _stack(url: str, api_key: str) -> auto.Stack:
    state = local.CACHE / "quickstart" / "state"
    state.mkdir(parents=True, exist_ok=True)
    root = pulumi_root()
    env = {
        "PULUMI_BACKEND_URL": state.as_uri(),
        "PULUMI_CONFIG_PASSPHRASE": _secret("passphrase"),
        "PULUMI_HOME": str(local.CACHE / "quickstart" / "home"),
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_PYTHON_CMD": sys.executable,
        "PATH": f"{root / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    opts = auto.LocalWorkspaceOptions(
        work_dir=str(local.CACHE / "quickstart"),
        env_vars=env,
        pulumi_command=auto.PulumiCommand(root=str(root)),
        project_settings=auto.ProjectSettings(name="pulumi-portainer-quickstart", runtime="python"),
    )
    stack = auto.create_or_select_stack(STACK, project_name="pulumi-portainer-quickstart", program=_program, opts=opts)
    stack.set_all_config(
        {
            "portainer:url": auto.ConfigValue(url),
            "portainer:apiKey": auto.ConfigValue(api_key, secret=True),
            "pulumi-portainer-quickstart:operatorPassword": auto.ConfigValue(_secret("operator-password"), secret=True),
        }
    )
    return stack


def _target(install: bool) -> local.Portainer:
    given = local.target_from_env()
    if given is not None:
        if not given.api_key:
            raise local.MissingPiece("PORTAINER_URL is set: also set PORTAINER_API_KEY")
        return given
    docker = local.docker_engine(install=install)
    return local.start_portainer(docker)


def up(install: bool) -> int:
    target = _target(install)
    stack = _stack(target.url, target.api_key)
    result = stack.up(on_output=print, color="never")
    print("\nOutputs:")
    for key, value in sorted(result.outputs.items()):
        print(f"  {key}: {'[secret]' if value.secret else value.value}")
    return 0


def down() -> int:
    target = local.target_from_env()
    creds = local.DATA / "portainer-main" / "credentials.json"
    if target is None and creds.exists():
        import json

        target = local.Portainer("http://127.0.0.1:19000", json.loads(creds.read_text())["api_key"])
    if target is not None and (local.CACHE / "quickstart" / "state").exists():
        stack = _stack(target.url, target.api_key)
        stack.destroy(on_output=print, color="never")
    local.stop_portainer()
    local.stop_docker()
    print("down: stack destroyed, local Portainer and Docker engine stopped (if this harness started them)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/up.sh", description=__doc__)
    parser.add_argument("command", choices=["up", "down"])
    parser.add_argument("--install", action="store_true", help="install missing system packages (apt-get)")
    args = parser.parse_args(argv)
    try:
        if args.command == "up":
            return up(args.install or os.environ.get("CI") == "true")
        return down()
    except local.MissingPiece as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
