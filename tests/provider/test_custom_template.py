"""CustomTemplate against the simulator: text, file and git sources, offline validation of what
Portainer refuses with a 500, the same-title lookup, drift of the stored file, updates and replacement."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pulumi.output import Unknown

from pulumi_portainer import ConnectionArgs, get_custom_template
from pulumi_portainer.custom_template import SPEC, CustomTemplate, CustomTemplateProvider
from pulumi_portainer.errors import PortainerError
from tests.provider.conftest import Engine, body, configured, lines
from tests.sim import PortainerSim
from tests.sim.templates import add_template, add_template_repo

COMPOSE = "services:\n  web:\n    image: nginx:{{ tag }}\n"
REPO = "https://git.example/acme/templates.git"
GIT_PW = "git-token-secret-1"


@pytest.fixture
def engine(sim: PortainerSim) -> Engine:
    return Engine(configured(CustomTemplateProvider, sim))


def warm(engine: Engine, sim: PortainerSim) -> None:
    id_, state = engine.create(text(title="warmup"))
    engine.p.delete(id_, state)
    sim.clear_requests()


def text(**extra: Any) -> dict[str, Any]:
    return dict({"title": "nginx", "description": "web server", "type": "standalone", "file_content": COMPOSE}, **extra)


def git(**extra: Any) -> dict[str, Any]:
    source = {
        "url": REPO,
        "reference": "refs/heads/main",
        "compose_path": "web/compose.yml",
        "username": "ci",
        "password": GIT_PW,
    }
    return dict({"title": "from-git", "description": "d", "type": "swarm", "git": source}, **extra)


def test_check_applies_portainers_validation_offline(engine: Engine) -> None:
    failures = engine.failures({"file_content": COMPOSE})
    assert {"title", "description", "type"} <= set(failures)
    assert "one of linux, windows" in engine.failures(text(platform="mac"))["platform"]
    assert "one of" in engine.failures(text(type="compose"))["type"]
    assert "<img>" in engine.failures(text(note='<img src="x">'))["note"]
    assert (
        "variables[1].label is required"
        in engine.failures(text(variables=[{"name": "a", "label": "A"}, {"name": "b"}]))["variables"]
    )
    assert "variables[0].name is required" in engine.failures(text(variables=[{"label": "A"}]))["variables"]
    assert "unknown key" in engine.failures(text(variables=[{"name": "a", "label": "A", "default": 1}]))["variables"]
    assert "a source is required" in engine.failures(text(file_content=None))["file_content"]
    assert "not both" in engine.failures(git(file_content=COMPOSE))["git"]
    assert "could not be read" in engine.failures(text(file_content=None, file_path="missing.yml"))["file_path"]
    assert "http:// or https://" in engine.failures(git(git={"url": "ftp://x/y"}))["git"]
    assert "go together" in engine.failures(git(git={"url": REPO, "username": "u"}))["git"]
    assert "unknown key" in engine.failures(git(git={"url": REPO, "branch": "main"}))["git"]
    unknowns = {k: Unknown() for k in ("title", "description", "type", "file_content", "note", "variables")}
    assert engine.failures(unknowns) == {}
    assert engine.failures(git(git={"url": Unknown(), "password": Unknown(), "username": "u"})) == {}


def test_kubernetes_needs_no_platform_and_git_defaults(engine: Engine) -> None:
    assert engine.check(text(type="kubernetes"))["platform"] == "linux"
    checked = engine.check(git(git={"url": REPO, "tls_skip_verify": False}))
    assert checked["git"] == {"url": REPO, "compose_path": "docker-compose.yml"}


def test_create_from_text(engine: Engine, sim: PortainerSim) -> None:
    warm(engine, sim)
    variables = [{"name": "tag", "label": "Tag", "default_value": "alpine"}]
    id_, state = engine.create(text(note="hi", logo="https://l.example/x.png", variables=variables))
    assert lines(sim) == ["GET /api/custom_templates", "POST /api/custom_templates/create/string"]
    assert body(sim) == {
        "Title": "nginx",
        "Description": "web server",
        "Note": "hi",
        "Logo": "https://l.example/x.png",
        "Platform": 1,
        "Type": 2,
        "Variables": [{"name": "tag", "label": "Tag", "defaultValue": "alpine", "description": ""}],
        "FileContent": COMPOSE,
    }
    assert state["custom_template_id"] == int(id_) and state["file_content"] == COMPOSE
    assert sim.template_files[int(id_)] == COMPOSE


def test_create_from_a_local_file_uploads_field_File(engine: Engine, sim: PortainerSim, tmp_path: Path) -> None:
    path = tmp_path / "app.yml"
    path.write_text(COMPOSE)
    prepared = CustomTemplate._prepare(object.__new__(CustomTemplate), {"file_path": str(path)})
    assert prepared["file_content"] == COMPOSE
    missing = CustomTemplate._prepare(object.__new__(CustomTemplate), {"file_path": str(tmp_path / "nope.yml")})
    assert missing["file_content"] is None  # check then names file_path
    with pytest.raises(TypeError, match="not both"):
        CustomTemplate._prepare(object.__new__(CustomTemplate), {"file_path": str(path), "file_content": "x"})
    warm(engine, sim)
    id_, state = engine.create(text(file_path=str(path), variables=[{"name": "tag", "label": "Tag"}]))
    assert lines(sim) == ["GET /api/custom_templates", "POST /api/custom_templates/create/file"]
    request = sim.requests[-1]
    assert request.headers["content-type"].startswith("multipart/form-data")
    assert b'name="File"; filename="app.yml"' in request.body and b'name="file"' not in request.body
    assert b'name="Type"\r\n\r\n2\r\n' in request.body
    assert sim.template_files[int(id_)] == COMPOSE and sim.custom_templates[int(id_)]["Variables"][0]["name"] == "tag"
    assert state["file_path"] == str(path) and state["file_content"] == COMPOSE
    sim.clear_requests()
    result = engine.p.read(id_, state)
    assert sim.count() == 2 and result.inputs["file_path"] == str(path)
    changed = engine.check(text(file_path=str(path), variables=[{"name": "tag", "label": "Tag"}]))
    assert engine.p.diff(id_, dict(result.outs), changed).changes is False


def test_create_from_git(engine: Engine, sim: PortainerSim) -> None:
    add_template_repo(sim, REPO, {"web/compose.yml": COMPOSE}, username="ci", password=GIT_PW)
    warm(engine, sim)
    id_, state = engine.create(git())
    assert lines(sim) == ["GET /api/custom_templates", "POST /api/custom_templates/create/repository"]
    assert body(sim) == {
        "Title": "from-git",
        "Description": "d",
        "Note": "",
        "Logo": "",
        "Platform": 1,
        "Type": 1,
        "Variables": [],
        "RepositoryURL": REPO,
        "RepositoryReferenceName": "refs/heads/main",
        "RepositoryAuthentication": True,
        "RepositoryUsername": "ci",
        "RepositoryPassword": GIT_PW,
        "ComposeFilePathInRepository": "web/compose.yml",
        "TLSSkipVerify": False,
    }
    assert "git" in SPEC.secret_outputs and "password" in next(f for f in SPEC.fields if f.name == "git").secret_paths
    sim.clear_requests()
    result = engine.p.read(id_, state)
    assert lines(sim) == [f"GET /api/custom_templates/{id_}"]  # git: the file lives in the repository
    assert result.inputs["git"]["password"] == GIT_PW  # write-only: from state
    assert engine.p.diff(id_, dict(result.outs), engine.check(git())).changes is False


def test_clone_failure_is_portainers_500_verbatim_and_final(engine: Engine, sim: PortainerSim) -> None:
    add_template_repo(sim, REPO, {"docker-compose.yml": COMPOSE}, username="ci", password=GIT_PW)
    warm(engine, sim)
    with pytest.raises(PortainerError) as err:
        engine.create(git())
    assert str(err.value) == (
        "create CustomTemplate 'from-git': HTTP 500 POST /api/custom_templates/create/repository: "
        "Unable to create custom template: Invalid Compose file, ensure that the Compose file path is correct"
    )
    assert sim.count("GET", "/api/custom_templates") == 1 and sim.count("POST") == 1  # no lookup loop
    with pytest.raises(PortainerError) as err:
        engine.create(
            git(git={"url": REPO, "compose_path": "docker-compose.yml", "username": "ci", "password": "wrong-token"})
        )
    assert "authentication required" in str(err.value) and "wrong-token" not in str(err.value)


def test_same_title_is_found_first(engine: Engine, sim: PortainerSim) -> None:
    existing = add_template(sim, "nginx", COMPOSE)
    with pytest.raises(PortainerError) as err:
        engine.create(text())
    text_ = str(err.value)
    assert text_.startswith("create CustomTemplate 'nginx': HTTP 409") and f"(id {existing['Id']})" in text_
    assert sim.count("POST") == 0
    sim.clear_requests()
    id_, _ = engine.create(text(adopt=True))
    assert id_ == str(existing["Id"])
    assert lines(sim)[-1] == f"PUT /api/custom_templates/{id_}" and body(sim)["Description"] == "web server"


def test_title_taken_by_a_template_the_caller_cannot_see_is_passed_through(sim: PortainerSim) -> None:
    sim.create_user("dev", "long-enough-password-1", 2)
    engine = Engine(configured(CustomTemplateProvider, sim, **{"portainer:apiKey": sim.create_api_key(2, "dev")}))
    add_template(sim, "nginx", COMPOSE)  # the admin's: invisible to dev
    with pytest.raises(PortainerError) as err:
        engine.create(text())
    assert str(err.value) == (
        "create CustomTemplate 'nginx': HTTP 500 POST /api/custom_templates/create/string: Template name must be unique"
    )
    assert sim.count("POST") == 1


def test_unchanged_preview_and_read_cost(engine: Engine, sim: PortainerSim) -> None:
    id_, state = engine.create(text())
    sim.clear_requests()
    assert engine.diff(id_, state, text()).changes is False
    assert sim.count() == 0
    result = engine.p.read(id_, state)
    assert lines(sim) == [f"GET /api/custom_templates/{id_}", f"GET /api/custom_templates/{id_}/file"]
    assert engine.p.diff(id_, dict(result.outs), engine.check(text())).changes is False


def test_refresh_reads_the_file_back(engine: Engine, sim: PortainerSim) -> None:
    id_, state = engine.create(text(variables=[{"name": "tag", "label": "Tag"}]))
    sim.template_files[int(id_)] = "services:\n  web:\n    image: httpd\n"
    sim.custom_templates[int(id_)].update(Title="renamed", Note="edited", Type=1, Platform=2, Variables=None)
    result = engine.p.read(id_, state)
    assert result.inputs["file_content"] == "services:\n  web:\n    image: httpd\n"
    assert (result.inputs["title"], result.inputs["note"], result.inputs["type"], result.inputs["platform"]) == (
        "renamed",
        "edited",
        "swarm",
        "windows",
    )
    assert result.inputs.get("variables") is None
    diff = engine.diff(id_, dict(result.outs), text(variables=[{"name": "tag", "label": "Tag"}]))
    assert diff.changes and not diff.replaces


def test_deleted_out_of_band_leaves_state(engine: Engine, sim: PortainerSim) -> None:
    id_, state = engine.create(text())
    del sim.custom_templates[int(id_)]
    result = engine.p.read(id_, state)
    assert not result.id and result.outs == {}


def test_title_type_and_content_are_updates(engine: Engine, sim: PortainerSim) -> None:
    id_, state = engine.create(text())
    sim.clear_requests()
    state = engine.up(id_, state, text(title="nginx2", type="swarm", file_content="services: {a: {}}\n"))
    assert lines(sim) == [f"PUT /api/custom_templates/{id_}"]
    assert body(sim)["Title"] == "nginx2" and body(sim)["Type"] == 1
    assert body(sim)["FileContent"] == "services: {a: {}}\n"
    assert sim.custom_templates[int(id_)]["Title"] == "nginx2" and state["title"] == "nginx2"


def test_git_settings_update_in_place(engine: Engine, sim: PortainerSim) -> None:
    add_template_repo(
        sim, REPO, {"web/compose.yml": COMPOSE, "api/compose.yml": COMPOSE}, username="ci", password=GIT_PW
    )
    id_, state = engine.create(git())
    new = git()
    new["git"] = dict(new["git"], compose_path="api/compose.yml")
    engine.up(id_, state, new)
    assert body(sim)["ComposeFilePathInRepository"] == "api/compose.yml" and body(sim)["RepositoryPassword"] == GIT_PW
    assert sim.custom_templates[int(id_)]["GitConfig"]["ConfigFilePath"] == "api/compose.yml"


def test_another_kind_of_source_replaces(engine: Engine, sim: PortainerSim, tmp_path: Path) -> None:
    id_, state = engine.create(text())
    diff = engine.diff(id_, state, git(title="nginx"))
    assert diff.changes and diff.delete_before_replace and {"file_content", "git"} <= set(diff.replaces)
    diff = engine.diff(id_, state, text(file_path=str(tmp_path / "x.yml")))
    assert "file_path" in diff.replaces
    assert engine.diff(id_, state, text(file_content="services: {}\n")).replaces == []


def test_duplicate_title_on_update_is_passed_through(engine: Engine, sim: PortainerSim) -> None:
    add_template(sim, "taken", COMPOSE)
    id_, state = engine.create(text())
    with pytest.raises(PortainerError) as err:
        engine.up(id_, state, text(title="taken"))
    assert str(err.value) == (
        f"update CustomTemplate 'taken' (id {id_}): HTTP 500 PUT /api/custom_templates/{id_}: "
        "Template name must be unique"
    )


def test_delete_and_delete_of_already_gone(engine: Engine, sim: PortainerSim) -> None:
    id_, state = engine.create(text())
    engine.p.delete(id_, state)
    assert int(id_) not in sim.custom_templates
    sim.clear_requests()
    engine.p.delete(id_, state)
    assert lines(sim) == [f"DELETE /api/custom_templates/{id_}", f"GET /api/custom_templates/{id_}"]


@pytest.mark.parametrize(
    ("version", "route"),
    [("2.18.4", "POST /api/custom_templates"), ("2.24.1", "POST /api/custom_templates/create/string")],
)
def test_create_route_by_version(version: str, route: str) -> None:
    with PortainerSim(version=version) as sim:
        engine = Engine(configured(CustomTemplateProvider, sim))
        id_, _ = engine.create(text())
        post = next(r for r in sim.requests if r.method == "POST")
        assert f"{post.method} {post.path}" == route
        if version.startswith("2.18"):
            assert post.query == {"method": ["string"]}
        assert sim.custom_templates[int(id_)]["Title"] == "nginx"


def test_get_custom_template(engine: Engine, sim: PortainerSim) -> None:
    id_, _ = engine.create(text())
    conn = ConnectionArgs(url=sim.url, api_key=sim.api_key)
    found = get_custom_template("nginx", connection=conn)
    assert (found.id, found.custom_template_id, found.type, found.platform) == (id_, int(id_), "standalone", "linux")
    with pytest.raises(LookupError, match="titled 'nope'"):
        get_custom_template("nope", connection=conn)
