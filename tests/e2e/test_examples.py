"""The root project and every example run `up` and `destroy` cleanly through the real Pulumi CLI (as
inline programs: the example's __main__.py is run inside the Automation API program)."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.harness import ROOT, changes

EXAMPLES = sorted(p.parent for p in (ROOT / "examples").glob("*/Pulumi.yaml"))
# per-example stack config (key without namespace -> (value, secret)); the connection comes from the target
CONFIG: dict[str, dict[str, tuple[str, bool]]] = {
    "composition": {
        "ciPassword": ("composition-ci-password-1", True),
        "registryPassword": ("composition-registry-password-1", True),
        "image": ("127.0.0.1:5999/pp/busybox:1", False),
    },
    "endpoint": {},
    "quickstart": {"operatorPassword": ("quickstart-password-1", True)},
    "user": {"userPassword": ("example-user-password-1", True)},
    "registry": {"registryPassword": ("example-registry-password-1", True)},
    "customtemplate": {},
    "webhook": {},
    "stack": {"apiToken": ("e2e-api-token-value", True)},
    "stack-git": {"repoUrl": ("https://git.example/e2e/app.git", False)},
}
# in-memory repositories the simulator serves (a real target needs tests/harness/gitserver.py instead)
SIM_GIT_REPOS = {
    "https://git.example/e2e/app.git": {"docker-compose.yml": "services:\n  web:\n    image: nginx:alpine\n"}
}


def test_every_example_has_a_config_entry() -> None:
    assert {p.name for p in EXAMPLES} <= set(CONFIG), "add the example's config to CONFIG"


def test_root_project_points_at_an_example() -> None:
    main = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["main"].strip("/")
    assert (ROOT / main / "__main__.py").exists()


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_up_and_destroy(example: Path, project: Any, portainer_api: Any, target: Any) -> None:
    name = yaml.safe_load((example / "Pulumi.yaml").read_text())["name"]
    if target.sim is not None:
        from tests.sim.stacks import set_git_repo

        for url, files in SIM_GIT_REPOS.items():
            set_git_repo(target.sim, url, files)
    config = {f"{name}:{k}": v for k, v in CONFIG.get(example.name, {}).items()}

    def program() -> None:
        runpy.run_path(str(example / "__main__.py"), run_name="__main__")

    proj = project(name, program, **config)
    up = proj.up()
    assert up.summary.result == "succeeded"
    assert changes(proj.preview().change_summary) == {}
    destroy = proj.destroy()
    assert destroy.summary.result == "succeeded"
