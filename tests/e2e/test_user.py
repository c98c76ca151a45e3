"""User through the real Pulumi CLI: up -> empty preview -> out-of-band change -> refresh shows drift ->
up restores -> destroy; and no plaintext secret in state or CLI output."""

from __future__ import annotations

from typing import Any

import pulumi

import pulumi_portainer as portainer
from tests.e2e.harness import changes, plaintext_leaks

PASSWORD = "e2e-user-password-0001"
LEAK = "deliberately-plain-canary-0001"


def test_user_lifecycle(project: Any, target: Any, portainer_api: Any) -> None:
    def program() -> None:
        user = portainer.User("e2e-user", username="e2e-user", password=PASSWORD, role="standard")
        pulumi.export("user_id", user.user_id)
        pulumi.export("canary", LEAK)  # a plain output: proves the leak scan can see plaintext

    proj = project("user", program)
    up = proj.up()
    user_id = up.outputs["user_id"].value
    assert isinstance(user_id, int)
    client = portainer_api
    assert client.get(f"/users/{user_id}")["Username"] == "e2e-user"

    assert changes(proj.preview().change_summary) == {}

    client.put(f"/users/{user_id}", json={"Username": "renamed-by-hand", "Role": 1})
    refresh = proj.refresh()
    assert changes(refresh.summary.resource_changes or {}) == {"update": 1}
    preview = proj.preview()
    assert changes(preview.change_summary) == {"update": 1}

    proj.up()
    live = client.get(f"/users/{user_id}")
    assert live["Username"] == "e2e-user" and live["Role"] == 2
    assert changes(proj.preview().change_summary) == {}

    state = proj.export()
    output = "\n".join(proj.output)
    assert plaintext_leaks([PASSWORD, target.api_key], state, output) == []
    assert plaintext_leaks([LEAK], state) == [LEAK]  # the scan does see plaintext

    proj.destroy()
    users = [u["Username"] for u in client.get("/users")]
    assert "e2e-user" not in users


def test_user_deleted_out_of_band_leaves_state(project: Any, portainer_api: Any) -> None:
    def program() -> None:
        portainer.User("gone", username="e2e-gone", password=PASSWORD)

    proj = project("gone", program)
    proj.up()
    client = portainer_api
    user = next(u for u in client.get("/users") if u["Username"] == "e2e-gone")
    client.delete(f"/users/{user['Id']}")
    refresh = proj.refresh()
    assert changes(refresh.summary.resource_changes or {}) == {"delete": 1}
    assert changes(proj.preview().change_summary) == {"create": 1}


def test_get_reads_an_existing_user_without_managing_it(project: Any, portainer_api: Any) -> None:
    def program() -> None:
        admin = portainer.User.get("admin", "1")
        pulumi.export("name", admin.username)
        pulumi.export("role", admin.role)

    proj = project("get", program)
    up = proj.up()
    assert up.outputs["name"].value == "admin" and up.outputs["role"].value == "admin"
    proj.destroy()
    assert portainer_api.get("/users/1")["Username"] == "admin"  # read-only: never deleted
