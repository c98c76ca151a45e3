"""Registry, CustomTemplate and Endpoint through the real Pulumi CLI: up -> empty preview -> a change
made directly in Portainer -> refresh shows it -> up restores the declared state -> destroy leaves
nothing; and no plaintext secret in the state export or the CLI output."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi

import pulumi_portainer as portainer
from tests.e2e.harness import changes, plaintext_leaks

REGISTRY_PASSWORD = "e2e-registry-password-1"
COMPOSE = 'version: "3.8"\nservices:\n  web:\n    image: 127.0.0.1:5999/pp/busybox:1\n'


def lifecycle(
    proj: Any,
    *,
    id_output: str,
    mutate: Callable[[int], None],
    restored: Callable[[int], bool],
    gone: Callable[[int], bool],
    secrets: Callable[[int], list[str]],
) -> None:
    up = proj.up()
    object_id = up.outputs[id_output].value
    assert changes(proj.preview().change_summary) == {}
    mutate(object_id)
    assert not restored(object_id)
    assert changes(proj.refresh().summary.resource_changes or {}) == {"update": 1}
    assert changes(proj.preview().change_summary) == {"update": 1}
    proj.up()
    assert restored(object_id)
    assert changes(proj.preview().change_summary) == {}
    leaks = plaintext_leaks([*secrets(object_id), proj.target.api_key], proj.export(), "\n".join(proj.output))
    assert leaks == []
    proj.destroy()
    assert gone(object_id)


def test_registry(project: Any, portainer_api: Any) -> None:
    def program() -> None:
        reg = portainer.Registry(
            "reg", name="e2e-registry", url="registry.e2e.invalid:5000", username="e2e", password=REGISTRY_PASSWORD
        )
        pulumi.export("registry_id", reg.registry_id)

    def live(i: int) -> dict[str, Any]:
        return dict(portainer_api.get(f"/registries/{i}"))

    lifecycle(
        project("registry", program),
        id_output="registry_id",
        mutate=lambda i: portainer_api.put(f"/registries/{i}", json={"Name": "renamed-by-hand"}),
        restored=lambda i: live(i)["Name"] == "e2e-registry",
        gone=lambda i: all(r["Id"] != i for r in portainer_api.get("/registries")),
        secrets=lambda i: [REGISTRY_PASSWORD],
    )


def test_custom_template(project: Any, portainer_api: Any) -> None:
    def program() -> None:
        tpl = portainer.CustomTemplate(
            "tpl", title="e2e-template", description="end to end", type="standalone", file_content=COMPOSE
        )
        pulumi.export("custom_template_id", tpl.custom_template_id)

    def content(i: int) -> str:
        return str(portainer_api.get(f"/custom_templates/{i}/file")["FileContent"])

    def edit(i: int) -> None:
        body = {
            "Title": "e2e-template",
            "Description": "end to end",
            "Type": 2,
            "Platform": 1,
            "FileContent": COMPOSE + "    command: ['/bin/sleep', '60']\n",
        }
        portainer_api.put(f"/custom_templates/{i}", json=body)

    lifecycle(
        project("template", program),
        id_output="custom_template_id",
        mutate=edit,
        restored=lambda i: content(i) == COMPOSE,
        gone=lambda i: all(t["Id"] != i for t in portainer_api.get("/custom_templates")),
        secrets=lambda i: [],
    )


def test_edge_endpoint(project: Any, portainer_api: Any) -> None:
    def program() -> None:
        env = portainer.Endpoint("edge", name="e2e-edge", type="edge", url="https://portainer.e2e.invalid:9443")
        pulumi.export("endpoint_id", env.endpoint_id)

    def live(i: int) -> dict[str, Any]:
        return dict(portainer_api.get(f"/endpoints/{i}", params={"excludeSnapshot": "true"}))

    lifecycle(
        project("edge", program),
        id_output="endpoint_id",
        mutate=lambda i: portainer_api.put(f"/endpoints/{i}", json={"Name": "renamed-by-hand"}),
        restored=lambda i: live(i)["Name"] == "e2e-edge",
        gone=lambda i: all(e["Id"] != i for e in portainer_api.get("/endpoints")),
        secrets=lambda i: [live(i)["EdgeKey"]],
    )
