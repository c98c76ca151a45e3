"""Stack env secrecy through the real Pulumi CLI: plain env values readable in preview diffs, secret ones
never in plaintext in state, preview or logs; an unchanged program previews clean after refresh."""

from __future__ import annotations

from typing import Any

import pulumi

import pulumi_portainer as portainer
from tests.e2e.harness import changes, plaintext_leaks

WEB = "services:\n  web:\n    image: nginx:alpine\n"
TOKEN = "e2e-stack-secret-token-value"


def test_env_secret_values_stay_secret_and_plain_ones_readable(project: Any) -> None:
    mode = {"value": "prod-mode-value"}

    def program() -> None:
        portainer.Stack(
            "web",
            name="e2e-env",
            endpoint_id=1,
            file_content=WEB,
            env={"MODE": mode["value"], "PORT": 8080, "TOKEN": pulumi.Output.secret(TOKEN)},
        )

    proj = project("e2e-stack-env", program)
    assert proj.up().summary.result == "succeeded"
    state = proj.export()
    assert plaintext_leaks([TOKEN], state) == []
    assert proj.refresh().summary.result == "succeeded"
    assert changes(proj.preview().change_summary) == {}
    mode["value"] = "dev-mode-value"
    start = len(proj.output)
    preview = proj.preview()
    shown = "\n".join(proj.output[start:]) + preview.stdout
    assert changes(preview.change_summary) == {"update": 1}
    assert "prod-mode-value" in shown and "dev-mode-value" in shown  # plain values readable in the diff
    assert plaintext_leaks([TOKEN], shown, "\n".join(proj.output), proj.export()) == []
