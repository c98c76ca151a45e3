"""Stacks and a service webhook through the real Pulumi CLI: compose from text, compose from a local
file, swarm with a webhook on one of its services, and git from the local git server with credentials.
Each: up -> empty preview -> a change made directly in Portainer -> refresh shows it -> up restores ->
destroy leaves nothing running (checked through Portainer's Docker proxy)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pulumi

import pulumi_portainer as portainer
from tests.e2e.harness import changes, plaintext_leaks
from tests.harness.gitserver import GitServer

IMAGE = "127.0.0.1:5999/pp/busybox:1"  # a loopback registry name where nothing listens
COMPOSE = f'services:\n  web:\n    image: {IMAGE}\n    command: ["/bin/sleep", "3600"]\n'
SWARM = f'version: "3.8"\nservices:\n  web:\n    image: {IMAGE}\n    command: ["/bin/sleep", "3600"]\n'
EDITED = COMPOSE.replace("3600", "3601")


def containers(api: Any, project: str) -> list[dict[str, Any]]:
    flt = json.dumps({"label": [f"com.docker.compose.project={project}"]})
    return list(api.get("/endpoints/1/docker/containers/json", params={"all": "1", "filters": flt}))


def services(api: Any, stack: str) -> list[dict[str, Any]]:
    flt = json.dumps({"label": [f"com.docker.stack.namespace={stack}"]})
    return list(api.get("/endpoints/1/docker/services", params={"filters": flt}))


def stack_file(api: Any, stack_id: int) -> str:
    return str(api.get(f"/stacks/{stack_id}/file")["StackFileContent"])


def test_compose_stack_from_text(project: Any, portainer_api: Any) -> None:
    def program() -> None:
        stack = portainer.Stack("web", name="e2e-text", endpoint_id=1, file_content=COMPOSE, env={"MODE": "a"})
        pulumi.export("stack_id", stack.stack_id)

    proj = project("stack-text", program)
    stack_id = proj.up().outputs["stack_id"].value
    assert [c["State"] for c in containers(portainer_api, "e2e-text")] == ["running"]
    assert changes(proj.preview().change_summary) == {}

    portainer_api.post(f"/stacks/{stack_id}/stop", params={"endpointId": 1})  # stopped by hand
    assert changes(proj.refresh().summary.resource_changes or {}) == {"update": 1}
    assert changes(proj.preview().change_summary) == {"update": 1}
    proj.up()
    assert portainer_api.get(f"/stacks/{stack_id}")["Status"] == 1
    assert [c["State"] for c in containers(portainer_api, "e2e-text")] == ["running"]
    assert changes(proj.preview().change_summary) == {}

    proj.destroy()
    assert containers(portainer_api, "e2e-text") == []
    assert all(s["Id"] != stack_id for s in portainer_api.get("/stacks"))


def test_compose_stack_from_a_local_file(project: Any, portainer_api: Any, tmp_path: Path) -> None:
    compose = tmp_path / "docker-compose.yml"
    compose.write_text(COMPOSE)

    def program() -> None:
        stack = portainer.Stack("file", name="e2e-file", endpoint_id=1, file_path=str(compose))
        pulumi.export("stack_id", stack.stack_id)

    proj = project("stack-file", program)
    stack_id = proj.up().outputs["stack_id"].value
    assert changes(proj.preview().change_summary) == {}
    portainer_api.put(f"/stacks/{stack_id}", params={"endpointId": 1}, json={"StackFileContent": EDITED})
    assert changes(proj.refresh().summary.resource_changes or {}) == {"update": 1}
    proj.up()
    assert stack_file(portainer_api, stack_id) == COMPOSE
    compose.write_text(EDITED)  # editing the local file shows in preview
    assert changes(proj.preview().change_summary) == {"update": 1}
    proj.destroy()
    assert containers(portainer_api, "e2e-file") == []


def test_swarm_stack_with_a_service_webhook(project: Any, portainer_api: Any) -> None:
    def program() -> None:
        stack = portainer.Stack("swarm", name="e2e-swarm", type="swarm", endpoint_id=1, file_content=SWARM)
        hook = portainer.Webhook("hook", service_id=stack.services.apply(lambda s: s["web"]), endpoint_id=1)
        pulumi.export("stack_id", stack.stack_id)
        pulumi.export("webhook_id", hook.webhook_id)
        pulumi.export("webhook_url", hook.url)

    proj = project("stack-swarm", program)
    up = proj.up()
    assert up.outputs["webhook_url"].secret
    url = up.outputs["webhook_url"].value
    [service] = services(portainer_api, "e2e-swarm")
    before = service["Version"]["Index"]
    assert httpx.post(url, timeout=30).status_code == 204  # the public webhook URL
    after = portainer_api.get(f"/endpoints/1/docker/services/{service['ID']}")["Version"]["Index"]
    assert after > before
    assert changes(proj.preview().change_summary) == {}

    portainer_api.delete(f"/webhooks/{up.outputs['webhook_id'].value}")  # deleted by hand
    assert changes(proj.refresh().summary.resource_changes or {}) == {"delete": 1}
    proj.up()
    assert len(portainer_api.get("/webhooks")) == 1
    token = url.rsplit("/", 1)[1]
    assert plaintext_leaks([token, url], proj.export(), "\n".join(proj.output)) == []

    proj.destroy()
    assert services(portainer_api, "e2e-swarm") == [] and portainer_api.get("/webhooks") == []


def test_git_stack_with_credentials_and_webhook(project: Any, portainer_api: Any, tmp_path: Path) -> None:
    git = GitServer(tmp_path / "git").start()
    try:
        first = git.create("app", {"deploy/compose.yml": COMPOSE}, private=True)
        repo = git.repo_url("app", private=True)

        def program() -> None:
            stack = portainer.Stack(
                "git",
                name="e2e-git",
                endpoint_id=1,
                git=portainer.StackGitArgs(
                    url=repo,
                    reference="refs/heads/main",
                    compose_path="deploy/compose.yml",
                    username=git.username,
                    password=git.password,
                    auto_update=portainer.StackGitAutoUpdateArgs(webhook=True),
                ),
            )
            pulumi.export("stack_id", stack.stack_id)
            pulumi.export("git_commit", stack.git_commit)
            pulumi.export("webhook_url", stack.webhook_url)

        proj = project("stack-git", program)
        up = proj.up()
        assert up.outputs["git_commit"].value == first
        assert changes(proj.preview().change_summary) == {}

        second = git.commit("app", {"deploy/compose.yml": EDITED})
        assert httpx.post(up.outputs["webhook_url"].value, timeout=30).status_code == 204
        deadline = time.monotonic() + 120  # Portainer redeploys in the background
        while stack_file(portainer_api, up.outputs["stack_id"].value) != EDITED:
            assert time.monotonic() < deadline, "the webhook did not redeploy the new commit"
            time.sleep(1)
        proj.refresh()  # refresh updates the resource's state (stack outputs change only on up)
        deployment = json.loads(proj.export())["deployment"]
        [res] = [r for r in deployment["resources"] if r["type"] == "pulumi-python:dynamic/portainer:Stack"]
        assert res["outputs"]["git_commit"] == second
        assert changes(proj.preview().change_summary) == {}
        assert plaintext_leaks([git.password], proj.export(), "\n".join(proj.output)) == []
        proj.destroy()
        assert containers(portainer_api, "e2e-git") == []
    finally:
        git.stop()
