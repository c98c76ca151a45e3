"""Registry against the simulator: every type's payload, write-only password updates, drift, deletion
that reads first (Portainer's missing-id panic), conflicts and errors."""

from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from pulumi.output import Unknown

from pulumi_portainer import ConnectionArgs, get_registry
from pulumi_portainer.errors import PortainerError
from pulumi_portainer.registry import SPEC, RegistryProvider
from tests.provider.conftest import Engine, body, configured, lines
from tests.sim import PortainerSim
from tests.sim.registries import add_registry

PW = "registry-secret-1"


@pytest.fixture
def engine(sim: PortainerSim) -> Engine:
    return Engine(configured(RegistryProvider, sim))


def warm(engine: Engine, sim: PortainerSim) -> None:
    engine.create({"name": "warmup", "url": "warm.example"})
    sim.clear_requests()


def private(**extra: Any) -> dict[str, Any]:
    return dict({"name": "private", "url": "registry.example:5000", "username": "ci", "password": PW}, **extra)


def test_check_names_the_property(engine: Engine) -> None:
    assert "name" in engine.failures({"url": "x"})
    assert "url is required" in engine.failures({"name": "a"})["url"]
    assert "one of" in engine.failures({"name": "a", "url": "x", "type": "harbor"})["type"]
    assert "base_url is required" in engine.failures({"name": "a", "url": "x", "type": "proget"})["base_url"]
    assert "only to type='proget'" in engine.failures({"name": "a", "url": "x", "base_url": "b"})["base_url"]
    assert "only to type='gitlab'" in engine.failures({"name": "a", "url": "x", "gitlab": {"project_id": 1}})["gitlab"]
    assert "unknown key" in engine.failures({"name": "a", "type": "gitlab", "url": "x", "gitlab": {"id": 1}})["gitlab"]
    assert (
        "integer"
        in engine.failures({"name": "a", "type": "gitlab", "url": "x", "gitlab": {"project_id": "x"}})["gitlab"]
    )
    assert "password is required" in engine.failures({"name": "a", "url": "x", "username": "u"})["password"]
    assert "username is required" in engine.failures({"name": "a", "url": "x", "password": PW})["username"]
    assert (
        "must not be empty" in engine.failures({"name": "a", "url": "x", "username": "u", "password": ""})["password"]
    )
    ecr = {"name": "a", "type": "ecr", "url": "1.dkr.ecr.eu-west-1.amazonaws.com"}
    assert "region" in engine.failures(dict(ecr, username="AKIA", password=PW))["ecr"]
    assert "only with username" in engine.failures(dict(ecr, ecr={"region": "eu-west-1"}))["ecr"]
    unknown = {k: Unknown() for k in ("name", "url", "type", "username", "password", "ecr")}
    assert engine.failures(unknown) == {}
    assert engine.failures(dict(ecr, username="AKIA", password=PW, ecr=Unknown())) == {}


def test_default_urls_per_type(engine: Engine) -> None:
    assert engine.check({"name": "hub", "type": "dockerhub"})["url"] == "docker.io"
    assert engine.check({"name": "q", "type": "quay"})["url"] == "quay.io"
    assert engine.check({"name": "g", "type": "github"})["url"] == "ghcr.io"


CASES: list[tuple[dict[str, Any], dict[str, Any]]] = [
    (
        private(),
        {
            "Name": "private",
            "Type": 3,
            "URL": "registry.example:5000",
            "Authentication": True,
            "Username": "ci",
            "Password": PW,
        },
    ),
    (
        {"name": "anon", "url": "anon.example"},
        {"Name": "anon", "Type": 3, "URL": "anon.example", "Authentication": False},
    ),
    (
        {"name": "hub", "type": "dockerhub", "username": "me", "password": PW},
        {"Name": "hub", "Type": 6, "URL": "docker.io", "Authentication": True, "Username": "me", "Password": PW},
    ),
    (
        {
            "name": "gl",
            "type": "gitlab",
            "url": "registry.gitlab.com",
            "username": "me",
            "password": PW,
            "gitlab": {"instance_url": "https://gitlab.com", "project_id": 42.0, "project_path": "grp/app"},
        },
        {
            "Name": "gl",
            "Type": 4,
            "URL": "registry.gitlab.com",
            "Authentication": True,
            "Username": "me",
            "Password": PW,
            "Gitlab": {"InstanceURL": "https://gitlab.com", "ProjectId": 42, "ProjectPath": "grp/app"},
        },
    ),
    (
        {"name": "q", "type": "quay", "username": "me", "password": PW, "quay": {"organisation_name": "acme"}},
        {
            "Name": "q",
            "Type": 1,
            "URL": "quay.io",
            "Authentication": True,
            "Username": "me",
            "Password": PW,
            "Quay": {"UseOrganisation": True, "OrganisationName": "acme"},
        },
    ),
    (
        {"name": "az", "type": "azure", "url": "acme.azurecr.io", "username": "app", "password": PW},
        {"Name": "az", "Type": 2, "URL": "acme.azurecr.io", "Authentication": True, "Username": "app", "Password": PW},
    ),
    (
        {"name": "pg", "type": "proget", "url": "proget.example/feed", "base_url": "proget.example"},
        {"Name": "pg", "Type": 5, "URL": "proget.example/feed", "Authentication": False, "BaseURL": "proget.example"},
    ),
    (
        {
            "name": "ecr",
            "type": "ecr",
            "url": "1.dkr.ecr.eu-west-1.amazonaws.com",
            "username": "AKIA",
            "password": PW,
            "ecr": {"region": "eu-west-1"},
        },
        {
            "Name": "ecr",
            "Type": 7,
            "URL": "1.dkr.ecr.eu-west-1.amazonaws.com",
            "Authentication": True,
            "Username": "AKIA",
            "Password": PW,
            "Ecr": {"Region": "eu-west-1"},
        },
    ),
]


@pytest.mark.parametrize(("inputs", "payload"), CASES, ids=[c[1]["Name"] for c in CASES])
def test_create_every_type(engine: Engine, sim: PortainerSim, inputs: dict[str, Any], payload: dict[str, Any]) -> None:
    warm(engine, sim)
    id_, state = engine.create(inputs)
    assert lines(sim) == ["GET /api/registries", "POST /api/registries"]  # identity lookup + 1
    assert body(sim) == payload
    assert state["registry_id"] == int(id_) and sim.registries[int(id_)]["Type"] == payload["Type"]
    sim.clear_requests()
    result = engine.p.read(id_, state)
    assert sim.count() == 1
    assert engine.p.diff(id_, dict(result.outs), engine.check(inputs)).changes is False


def test_password_is_secret_and_never_returned(engine: Engine, sim: PortainerSim) -> None:
    assert "password" in SPEC.secret_outputs
    id_, state = engine.create(private())
    result = engine.p.read(id_, state)
    assert result.inputs["password"] == PW  # copied from state: Portainer never returns it
    assert "Password" not in json.dumps(result.outs)


def test_github_is_refused_by_ce_with_portainers_reason(engine: Engine, sim: PortainerSim) -> None:
    with pytest.raises(PortainerError) as err:
        engine.create({"name": "gh", "type": "github", "username": "me", "password": PW})
    assert "create Registry 'gh': HTTP 400 POST /api/registries: Invalid request payload: Invalid registry type" in str(
        err.value
    )
    sim.edition = "BE"  # type: ignore[attr-defined]
    id_, _ = engine.create({"name": "gh", "type": "github", "username": "me", "password": PW})
    assert sim.registries[int(id_)]["Type"] == 8 and sim.registries[int(id_)]["URL"] == "ghcr.io"


def test_unchanged_preview_makes_no_request(engine: Engine, sim: PortainerSim) -> None:
    id_, state = engine.create(private())
    sim.clear_requests()
    assert engine.diff(id_, state, private()).changes is False
    assert sim.count() == 0


def test_existing_name_is_a_conflict_unless_adopted(engine: Engine, sim: PortainerSim) -> None:
    existing = add_registry(sim, "private", "registry.example:5000")
    with pytest.raises(PortainerError) as err:
        engine.create(private())
    assert str(err.value).startswith("create Registry 'private': HTTP 409")
    assert f"(id {existing['Id']})" in str(err.value) and "adopt=True" in str(err.value)
    assert sim.count("POST") == 0
    sim.clear_requests()
    id_, _ = engine.create(private(adopt=True))
    assert id_ == str(existing["Id"])
    assert lines(sim) == ["GET /api/registries", f"PUT /api/registries/{id_}"]
    assert body(sim) == {"Authentication": True, "Username": "ci", "Password": PW}
    assert sim.registries[existing["Id"]]["Password"] == PW


def test_same_url_and_credentials_conflict_is_portainers_409(engine: Engine, sim: PortainerSim) -> None:
    engine.create(private())
    with pytest.raises(PortainerError) as err:
        engine.create(private(name="other"))
    assert str(err.value) == (
        "create Registry 'other': HTTP 409 POST /api/registries: "
        "Another registry with the same URL and credentials already exists"
    )


def test_refresh_detects_drift_of_every_returned_field(engine: Engine, sim: PortainerSim) -> None:
    id_, state = engine.create(private())
    sim.registries[int(id_)].update(Name="renamed", URL="moved.example", Username="someone", Password="changed")
    result = engine.p.read(id_, state)
    assert result.inputs["name"] == "renamed" and result.inputs["url"] == "moved.example"
    assert result.inputs["username"] == "someone"
    assert result.inputs["password"] == PW  # write-only: never drift
    diff = engine.diff(id_, dict(result.outs), private())
    assert diff.changes and not diff.replaces


def test_refresh_detects_type_settings_and_type_changes(engine: Engine, sim: PortainerSim) -> None:
    quay = {"name": "q", "type": "quay", "username": "me", "password": PW, "quay": {"organisation_name": "acme"}}
    id_, state = engine.create(quay)
    sim.registries[int(id_)]["Quay"] = {"OrganisationName": "other", "UseOrganisation": True}
    result = engine.p.read(id_, state)
    assert result.inputs["quay"] == {"organisation_name": "other"}
    sim.registries[int(id_)]["Type"] = 3
    result = engine.p.read(id_, state)
    assert result.inputs["type"] == "custom" and result.inputs.get("quay") is None
    diff = engine.diff(id_, dict(result.outs), quay)
    assert diff.replaces == ["type"] and diff.delete_before_replace


def test_deleted_out_of_band_leaves_state(engine: Engine, sim: PortainerSim) -> None:
    id_, state = engine.create(private())
    del sim.registries[int(id_)]
    result = engine.p.read(id_, state)
    assert not result.id and result.outs == {}


def test_changed_password_updates_only_the_password(engine: Engine, sim: PortainerSim) -> None:
    id_, state = engine.create(private())
    sim.clear_requests()
    state = engine.up(id_, state, private(password=PW + "-new"))
    assert lines(sim) == [f"PUT /api/registries/{id_}"]
    assert body(sim) == {"Authentication": True, "Username": "ci", "Password": PW + "-new"}
    assert sim.registries[int(id_)]["Password"] == PW + "-new"
    assert engine.diff(id_, state, private(password=PW + "-new")).changes is False


def test_unchanged_password_is_never_sent(engine: Engine, sim: PortainerSim) -> None:
    id_, state = engine.create(private())
    sim.registries[int(id_)]["Password"] = "rotated-in-portainer"
    sim.clear_requests()
    state = engine.up(id_, state, private(name="renamed", url="moved.example"))
    assert body(sim) == {"Name": "renamed", "URL": "moved.example"}
    state = engine.up(id_, state, private(name="renamed", url="moved.example", username="robot"))
    assert body(sim) == {"Authentication": True, "Username": "robot"}  # no password: Portainer keeps it
    assert sim.registries[int(id_)]["Password"] == "rotated-in-portainer"
    assert sim.registries[int(id_)]["Username"] == "robot"


def test_dropping_credentials_turns_authentication_off(engine: Engine, sim: PortainerSim) -> None:
    id_, state = engine.create(private())
    engine.up(id_, state, {"name": "private", "url": "registry.example:5000"})
    assert body(sim) == {"Authentication": False}
    assert sim.registries[int(id_)]["Authentication"] is False and sim.registries[int(id_)]["Password"] == ""


def test_quay_and_ecr_settings_update_in_place(engine: Engine, sim: PortainerSim) -> None:
    quay = {"name": "q", "type": "quay", "username": "me", "password": PW}
    id_, state = engine.create(quay)
    engine.up(id_, state, dict(quay, quay={"organisation_name": "acme"}))
    assert body(sim) == {"Quay": {"UseOrganisation": True, "OrganisationName": "acme"}}
    ecr = {
        "name": "e",
        "type": "ecr",
        "url": "1.dkr.ecr.eu-west-1.amazonaws.com",
        "username": "AKIA",
        "password": PW,
        "ecr": {"region": "eu-west-1"},
    }
    id_, state = engine.create(ecr)
    engine.up(id_, state, dict(ecr, ecr={"region": "us-east-1"}))
    assert body(sim) == {"Authentication": True, "Username": "AKIA", "Ecr": {"Region": "us-east-1"}}
    assert sim.registries[int(id_)]["Ecr"] == {"Region": "us-east-1"} and sim.registries[int(id_)]["Password"] == PW


def test_type_and_gitlab_changes_replace(engine: Engine, sim: PortainerSim) -> None:
    gitlab = {"name": "gl", "type": "gitlab", "url": "registry.gitlab.com", "gitlab": {"project_path": "a/b"}}
    id_, state = engine.create(gitlab)
    diff = engine.diff(id_, state, dict(gitlab, gitlab={"project_path": "a/c"}))
    assert diff.replaces == ["gitlab"] and diff.delete_before_replace
    diff = engine.diff(id_, state, dict(gitlab, type="custom", gitlab=None))
    assert "type" in diff.replaces
    assert engine.diff(id_, state, dict(gitlab, type=Unknown())).replaces == ["type"]


def test_delete_reads_first(engine: Engine, sim: PortainerSim) -> None:
    id_, state = engine.create(private())
    sim.clear_requests()
    engine.p.delete(id_, state)
    assert lines(sim) == [f"GET /api/registries/{id_}", f"DELETE /api/registries/{id_}"]
    assert int(id_) not in sim.registries
    sim.clear_requests()
    engine.p.delete(id_, state)  # already gone: the read says so, the buggy DELETE is never sent
    assert lines(sim) == [f"GET /api/registries/{id_}"]


def _raw_delete(sim: PortainerSim, rid: int) -> tuple[int, bytes]:
    split = urlsplit(sim.url)
    conn = http.client.HTTPConnection(split.hostname or "", split.port, timeout=5)
    try:
        conn.request("DELETE", f"/api/registries/{rid}", headers={"X-API-Key": sim.api_key or ""})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@pytest.mark.parametrize("version", ["2.33.7", "2.24.1", "2.19.5"])
def test_delete_of_a_gone_registry_succeeds_on_every_version(version: str) -> None:
    with PortainerSim(version=version) as sim:
        engine = Engine(configured(RegistryProvider, sim))
        id_, state = engine.create(private())
        del sim.registries[int(id_)]
        sim.clear_requests()
        engine.p.delete(id_, state)
        assert sim.count("DELETE") == 0
        # what a DELETE of the unknown id would have met
        if version.startswith("2.33"):
            assert _raw_delete(sim, int(id_)) == (200, b"")  # the recovered panic
        elif version.startswith("2.24"):
            with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
                _raw_delete(sim, int(id_))  # the panic drops the connection
        else:
            assert _raw_delete(sim, int(id_))[0] == 404


def test_update_answer_that_leaks_the_password_is_not_stored() -> None:
    with PortainerSim(version="2.33.0") as sim:
        engine = Engine(configured(RegistryProvider, sim))
        id_, state = engine.create(private())
        state = engine.up(id_, state, private(name="renamed"))
        assert "ManagementConfiguration" not in json.dumps(state) and "Password" not in json.dumps(state)


def test_secrets_are_redacted_from_errors(engine: Engine, sim: PortainerSim) -> None:
    id_, state = engine.create(private())
    sim.inject("PUT", rf"/api/registries/{id_}", status=500, body={"message": f"cannot use {PW}-new", "details": PW})
    with pytest.raises(PortainerError) as err:
        engine.up(id_, state, private(password=PW + "-new"))
    assert PW not in str(err.value) and "[secret]" in str(err.value)


def test_registries_are_admin_only(sim: PortainerSim) -> None:
    sim.create_user("dev", "long-enough-password-1", 2)
    key = sim.create_api_key(2, "dev")
    engine = Engine(configured(RegistryProvider, sim, **{"portainer:apiKey": key}))
    with pytest.raises(PortainerError) as err:
        engine.create(private())
    assert "HTTP 403 GET /api/registries: Access denied" in str(err.value)


def test_get_registry(engine: Engine, sim: PortainerSim) -> None:
    id_, _ = engine.create(private())
    conn = ConnectionArgs(url=sim.url, api_key=sim.api_key)
    found = get_registry("private", connection=conn)
    assert (found.id, found.registry_id, found.type, found.username) == (id_, int(id_), "custom", "ci")
    with pytest.raises(LookupError, match="no Portainer registry named 'nope'"):
        get_registry("nope", connection=conn)
