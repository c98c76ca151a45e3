"""Stack through the generic machinery, against the simulator: sources, types and version routes, exact
request sequences, git flows, running, drift, orphaned environments, faults, env secrecy and errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi.output import Unknown

from pulumi_portainer import _http
from pulumi_portainer.config import ConnectionArgs
from pulumi_portainer.errors import PortainerError
from pulumi_portainer.stack import Stack, StackGitArgs, StackGitAutoUpdateArgs, StackProvider, get_stack
from tests.provider.conftest import Engine, configured
from tests.sim import PortainerSim
from tests.sim.docker import add_endpoint
from tests.sim.stacks import edit_stack, set_git_repo, tick_auto_updates

WEB = "services:\n  web:\n    image: nginx:alpine\n"
WEB_API = "services:\n  web:\n    image: nginx:alpine\n  api:\n    image: traefik/whoami\n"
FAILING = "services:\n  db:\n    image: postgres:16\n  broken:\n    image: fail\n"
REPO = "https://git.example/org/app.git"
SECRET = "hunter2-super-secret-value"


@pytest.fixture
def engine(sim: PortainerSim) -> Engine:
    return Engine(configured(StackProvider, sim, **{"portainer:endpointId": "1"}))


def seq(sim: PortainerSim) -> list[str]:
    return [f"{r.method} {r.path}" for r in sim.requests]


def body(sim: PortainerSim, method: str, path: str) -> Any:
    hits = [r for r in sim.requests if r.method == method and r.path == path]
    return json.loads(hits[-1].body)


def warm(engine: Engine, sim: PortainerSim) -> None:
    """Detect the server once (once per process in real runs) and forget the requests."""
    engine.create({"name": "warmup", "file_content": WEB})
    sim.clear_requests()


def engine_of(sim: PortainerSim, eid: int = 1) -> Any:
    return sim.engines[eid]


def labelled(sim: PortainerSim, name: str, eid: int = 1) -> tuple[list[Any], list[Any], list[Any]]:
    eng = engine_of(sim, eid)
    containers = [c for c in eng.containers.values() if c["Labels"].get("com.docker.compose.project") == name]
    services = [s for s in eng.services.values() if s["Spec"]["Labels"].get("com.docker.stack.namespace") == name]
    networks = [
        n
        for n in eng.networks.values()
        if name in (n["Labels"].get("com.docker.compose.project"), n["Labels"].get("com.docker.stack.namespace"))
    ]
    return containers, services, networks


# ---------------------------------------------------------------- check and diff


def test_check_names_the_property_and_the_fix(engine: Engine) -> None:
    assert "exactly one source" in engine.failures({"name": "a"})["file_content"]
    assert "exactly one source" in engine.failures({"name": "a", "file_content": WEB, "git": {"url": REPO}})["git"]
    assert "lower-case" in engine.failures({"name": "My Stack", "file_content": WEB})["name"]
    assert "lower-case" in engine.failures({"name": "-x", "file_content": WEB})["name"]
    assert (
        "one of swarm, standalone, kubernetes"
        in engine.failures({"name": "a", "type": "x", "file_content": WEB})["type"]
    )
    assert (
        "not valid YAML (line 2"
        in engine.failures({"name": "a", "file_content": "services:\n  - : [\n"})["file_content"]
    )
    assert "`services`" in engine.failures({"name": "a", "file_content": "version: '3'\n"})["file_content"]
    assert "`services`" in engine.failures({"name": "a", "file_path": "c.yml", "file_content": "x: 1\n"})["file_path"]
    assert "could not be read" in engine.failures({"name": "a", "file_path": "missing.yml"})["file_path"]
    assert "swarm stacks only" in engine.failures({"name": "a", "file_content": WEB, "swarm_id": "abc"})["swarm_id"]
    assert (
        "kubernetes stacks only" in engine.failures({"name": "a", "file_content": WEB, "namespace": "x"})["namespace"]
    )
    k8s = {"name": "a", "type": "kubernetes", "file_content": "apiVersion: v1\nmetadata: {}\n"}
    assert "no `kind`" in engine.failures(k8s)["file_content"]
    k8s_ok = dict(k8s, file_content="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
    assert "cannot be started or stopped" in engine.failures(dict(k8s_ok, running=False))["running"]
    assert "not supported" in engine.failures(dict(k8s_ok, file_content=None, git={"url": REPO}))["git"]
    assert "absolute URL" in engine.failures({"name": "a", "git": {"url": "github.com/x"}})["git"]
    assert "git.url is required" in engine.failures({"name": "a", "git": {"reference": "main"}})["git"]
    assert "unknown key" in engine.failures({"name": "a", "git": {"url": REPO, "branch": "main"}})["git"]
    auto = {"name": "a", "git": {"url": REPO, "auto_update": {"force_update": True}}}
    assert "interval" in engine.failures(auto)["git"]
    auto["git"]["auto_update"] = {"interval": "30s"}  # type: ignore[index]
    assert "under 1 minute" in engine.failures(auto)["git"]
    auto["git"]["auto_update"] = {"interval": "five minutes"}  # type: ignore[index]
    assert "not a duration" in engine.failures(auto)["git"]
    assert (
        "must not be empty"
        in engine.failures({"name": "a", "git": {"url": REPO, "username": "u", "password": ""}})["git"]
    )
    reason = engine.failures({"name": "a", "file_content": WEB, "env": {"TOKEN": {"nested": SECRET}}})["env"]
    assert "TOKEN" in reason and "string or a number" in reason and SECRET not in reason
    assert engine.failures({"name": Unknown(), "file_content": Unknown(), "env": Unknown(), "git": None}) == {}
    assert engine.failures({"name": "a", "file_path": Unknown(), "file_content": Unknown()}) == {}


def test_endpoint_id_comes_from_stack_config_or_fails(sim: PortainerSim) -> None:
    bare = Engine(configured(StackProvider, sim))
    assert "endpoint_id is required" in bare.failures({"name": "a", "file_content": WEB})["endpoint_id"]
    inputs = Engine(configured(StackProvider, sim, **{"portainer:endpointId": "1"})).check(
        {"name": "a", "file_content": WEB}
    )
    assert inputs["endpoint_id"] == 1 and inputs["type"] == "standalone" and inputs["running"] is True


def test_env_numbers_become_strings_and_integral_floats_ints(engine: Engine) -> None:
    inputs = engine.check({"name": "a", "file_content": WEB, "env": {"PORT": 8080.0, "RATIO": 0.5, "X": "y"}})
    assert inputs["env"] == {"PORT": "8080", "RATIO": "0.5", "X": "y"}


def test_stopped_stack_content_changes_fail_in_check(engine: Engine, sim: PortainerSim) -> None:
    id_, state = engine.create({"name": "halted", "file_content": WEB, "running": False})
    olds = {k: state[k] for k in ("name", "endpoint_id", "type", "file_content", "running")}
    result = engine.p.check(olds, {"name": "halted", "file_content": WEB_API, "running": False})
    assert [f.property for f in result.failures] == ["file_content"]
    assert "set running=True to change content" in result.failures[0].reason
    result = engine.p.check(olds, {"name": "halted", "file_content": WEB, "running": False, "env": {"A": "1"}})
    assert [f.property for f in result.failures] == ["env"]
    assert not engine.p.check(olds, {"name": "halted", "file_content": WEB_API, "running": True}).failures


def test_diff_rules_without_requests(engine: Engine, sim: PortainerSim) -> None:
    id_, state = engine.create({"name": "difftest", "file_content": WEB})
    sim.clear_requests()
    same_program = {"name": "difftest", "file_content": WEB}
    assert engine.diff(id_, state, same_program).changes is False
    assert engine.diff(id_, state, dict(same_program, adopt=True, custom_timeouts={"create": 5})).changes is False
    assert engine.diff(id_, state, dict(same_program, name="other")).replaces == ["name"]
    assert engine.diff(id_, state, dict(same_program, type="swarm")).replaces == ["type"]
    assert engine.diff(id_, state, dict(same_program, endpoint_id=2)).replaces == ["endpoint_id"]
    moved = engine.diff(id_, state, {"name": "difftest", "file_path": "c.yml", "file_content": WEB})
    assert moved.replaces == ["file_path"] and moved.delete_before_replace  # source kind text -> file
    to_git = engine.diff(id_, state, {"name": "difftest", "git": {"url": REPO}})
    assert to_git.replaces == ["file_content", "git"]
    for update in ({"env": {"A": "1"}}, {"file_content": WEB_API}, {"running": False}, {"prune": True}):
        diff = engine.diff(id_, state, dict(same_program, **update))
        assert diff.changes and diff.replaces == []
    unknown = engine.p.diff(id_, state, dict(engine.check(same_program), name=Unknown()))
    assert unknown.replaces == ["name"]
    assert sim.count() == 0  # check and diff never call Portainer


# ---------------------------------------------------------------- create


def test_create_text_standalone_is_one_lookup_plus_one_create(engine: Engine, sim: PortainerSim) -> None:
    warm(engine, sim)
    id_, state = engine.create({"name": "web", "file_content": WEB, "env": {"GREETING": "hi", "PORT": 80}})
    assert seq(sim) == ["GET /api/stacks", "POST /api/stacks/create/standalone/string"]
    assert sim.requests[-1].query == {"endpointId": ["1"]}
    assert body(sim, "POST", "/api/stacks/create/standalone/string") == {
        "Name": "web",
        "Env": [{"name": "GREETING", "value": "hi"}, {"name": "PORT", "value": "80"}],
        "StackFileContent": WEB,
    }
    assert state["stack_id"] == int(id_) and state["status"] == "active" and state["source_kind"] == "text"
    assert state["file_content"] == WEB and state["services"] is None and state["git_commit"] is None
    containers, _, networks = labelled(sim, "web")
    assert [c["Names"] for c in containers] == [["/web-web-1"]] and len(networks) == 1
    sim.clear_requests()
    assert not engine.diff(
        id_, state, {"name": "web", "file_content": WEB, "env": {"GREETING": "hi", "PORT": 80.0}}
    ).changes
    assert sim.count() == 0  # an unchanged preview costs nothing


@pytest.mark.parametrize(
    ("version", "path", "query"),
    [
        ("2.33.7", "/api/stacks/create/standalone/string", {"endpointId": ["1"]}),
        ("2.24.0", "/api/stacks/create/standalone/string", {"endpointId": ["1"]}),
        ("2.18.4", "/api/stacks", {"type": ["2"], "method": ["string"], "endpointId": ["1"]}),
    ],
)
def test_create_route_follows_the_server_version(version: str, path: str, query: dict[str, list[str]]) -> None:
    with PortainerSim(version=version) as sim:
        try:
            engine = Engine(configured(StackProvider, sim, **{"portainer:endpointId": "1"}))
            id_, state = engine.create({"name": "versioned", "file_content": WEB})
            create = [r for r in sim.requests if r.method == "POST" and r.path.startswith("/api/stacks")]
            assert [(r.path, r.query) for r in create] == [(path, query)]
            state = engine.up(id_, state, {"name": "versioned", "file_content": WEB, "running": False})
            stop = [r for r in sim.requests if r.path.endswith("/stop")][-1]
            assert stop.query == ({} if version == "2.18.4" else {"endpointId": ["1"]})
            state = engine.up(id_, state, {"name": "versioned", "file_content": WEB})
            assert state["status"] == "active" and sim.stacks[int(id_)]["Status"] == 1
        finally:
            _http.reset_clients()


def test_create_from_file_path_uploads_the_file(engine: Engine, sim: PortainerSim) -> None:
    warm(engine, sim)
    id_, state = engine.create(
        {"name": "fromfile", "file_path": "compose.yml", "file_content": WEB_API, "env": {"A": "1"}}
    )
    assert seq(sim) == ["GET /api/stacks", "POST /api/stacks/create/standalone/file"]
    raw = sim.requests[-1]
    assert raw.headers["content-type"].startswith("multipart/form-data")
    assert b'name="file"' in raw.body and WEB_API.encode() in raw.body and b'[{"name": "A", "value": "1"}]' in raw.body
    assert sim.stack_files[int(id_)] == {"docker-compose.yml": WEB_API}
    assert state["source_kind"] == "file" and state["file_path"] == "compose.yml"


def test_create_swarm_finds_the_swarm_id_and_reads_services(engine: Engine, sim: PortainerSim) -> None:
    warm(engine, sim)
    id_, state = engine.create({"name": "app", "type": "swarm", "file_content": WEB_API})
    assert seq(sim) == [
        "GET /api/endpoints/1/docker/swarm",
        "GET /api/stacks",
        "POST /api/stacks/create/swarm/string",
        "GET /api/endpoints/1/docker/services",
    ]
    swarm_id = sim.engines[1].swarm_id
    assert body(sim, "POST", "/api/stacks/create/swarm/string")["SwarmID"] == swarm_id
    _, services, _ = labelled(sim, "app")
    assert state["services"] == {s["Spec"]["Name"][len("app_") :]: s["ID"] for s in services}
    assert set(state["services"]) == {"web", "api"} and state["swarm_id"] == swarm_id
    sim.clear_requests()
    assert engine.diff(id_, state, {"name": "app", "type": "swarm", "file_content": WEB_API}).changes is False
    result = engine.p.read(id_, state)
    assert seq(sim) == [
        f"GET /api/stacks/{id_}",
        "GET /api/endpoints/1",
        "GET /api/endpoints/1/docker/services",
    ]  # refresh of an unchanged swarm stack: 2 + 1 for services
    assert (
        engine.diff(id_, dict(result.outs), {"name": "app", "type": "swarm", "file_content": WEB_API}).changes is False
    )


def test_create_with_running_false_stops_after_create(engine: Engine, sim: PortainerSim) -> None:
    warm(engine, sim)
    id_, state = engine.create({"name": "idle", "type": "swarm", "file_content": WEB, "running": False})
    assert seq(sim) == [
        "GET /api/endpoints/1/docker/swarm",
        "GET /api/stacks",
        "POST /api/stacks/create/swarm/string",
        f"POST /api/stacks/{id_}/stop",
        "GET /api/endpoints/1/docker/services",
    ]
    assert state["status"] == "inactive" and state["services"] == {} and labelled(sim, "idle")[1] == []
    sim.clear_requests()
    engine.create({"name": "idle2", "file_content": WEB, "running": False})
    assert [r.path for r in sim.requests][-1].endswith("/stop") and sim.count() == 3


def test_existing_stack_is_a_conflict_unless_adopted(engine: Engine, sim: PortainerSim) -> None:
    id_, _ = engine.create({"name": "taken", "file_content": WEB, "env": {"A": "1"}})
    with pytest.raises(PortainerError) as err:
        engine.create({"name": "taken", "file_content": WEB})
    text = str(err.value)
    assert text.startswith("create Stack 'taken': HTTP 409") and f"(id {id_})" in text and "adopt=True" in text
    assert err.value.__cause__ is None and err.value.__suppress_context__
    sim.clear_requests()
    adopted_id, state = engine.create({"name": "taken", "file_content": WEB, "env": {"A": "1"}, "adopt": True})
    assert adopted_id == id_ and seq(sim) == ["GET /api/stacks", f"GET /api/stacks/{id_}/file"]  # no redeploy
    assert state["status"] == "active" and state["file_content"] == WEB
    sim.clear_requests()
    engine.create({"name": "taken", "file_content": WEB, "env": {"A": "2"}, "adopt": True})
    assert seq(sim) == ["GET /api/stacks", f"GET /api/stacks/{id_}/file", f"PUT /api/stacks/{id_}"]
    assert body(sim, "PUT", f"/api/stacks/{id_}")["Env"] == [{"name": "A", "value": "2"}]


def test_swarm_stacks_are_found_by_the_unfiltered_list(engine: Engine, sim: PortainerSim) -> None:
    engine.create({"name": "hidden", "type": "swarm", "file_content": WEB})
    sim.clear_requests()
    with pytest.raises(PortainerError, match="already exists"):
        engine.create({"name": "hidden", "type": "swarm", "file_content": WEB})
    listing = [r for r in sim.requests if r.path == "/api/stacks"]
    assert listing and all("filters" not in r.query for r in listing)


def test_failed_deploy_removes_leftovers_and_raises_portainers_message(engine: Engine, sim: PortainerSim) -> None:
    warm(engine, sim)
    with pytest.raises(PortainerError) as err:
        engine.create({"name": "broken", "file_content": FAILING})
    text = str(err.value)
    assert text.startswith("create Stack 'broken': HTTP 500 POST /api/stacks/create/standalone/string")
    assert "pull access denied for fail" in text
    assert labelled(sim, "broken") == ([], [], [])  # the db container and the network were removed
    assert not [s for s in sim.stacks.values() if s["Name"] == "broken"]
    assert sim.count("POST") == 1 and sim.count("DELETE", r"/api/endpoints/1/docker/containers/.*") == 1
    assert sim.count("DELETE", r"/api/endpoints/1/docker/networks/.*") == 1
    with pytest.raises(PortainerError, match="could not be accessed"):
        engine.create({"name": "broken2", "type": "swarm", "file_content": FAILING})
    assert labelled(sim, "broken2") == ([], [], [])


def test_lost_create_response_is_recovered_by_lookup(engine: Engine, sim: PortainerSim) -> None:
    warm(engine, sim)
    sim.inject("POST", r"/api/stacks/create/standalone/string", drop=True, commit=True)
    id_, state = engine.create({"name": "lost", "file_content": WEB})
    assert sim.count("POST", r"/api/stacks/create/.*") == 1  # never resent
    assert sim.stacks[int(id_)]["Name"] == "lost" and state["status"] == "active"
    assert len([s for s in sim.stacks.values() if s["Name"] == "lost"]) == 1


def test_empty_200_on_create_is_confirmed_by_lookup(engine: Engine, sim: PortainerSim) -> None:
    sim.inject("POST", r"/api/stacks/create/swarm/string", empty=True)
    id_, state = engine.create({"name": "quiet", "type": "swarm", "file_content": WEB})
    assert sim.stacks[int(id_)]["Name"] == "quiet" and set(state["services"]) == {"web"}


def test_5xx_create_that_did_nothing_raises_after_the_deadline(engine: Engine, sim: PortainerSim) -> None:
    sim.inject("POST", r"/api/stacks/create/standalone/string", status=503, body={"message": "busy"})
    with pytest.raises(PortainerError) as err:
        engine.create({"name": "never", "file_content": WEB, "custom_timeouts": {"create": 1.0}})
    assert "HTTP 503 POST /api/stacks/create/standalone/string: busy" in str(err.value)
    assert sim.count("POST", r"/api/stacks/create/.*") == 1 and sim.count("GET", r"/api/stacks") >= 2


# ---------------------------------------------------------------- update


def test_content_and_env_change_is_one_put_with_the_full_env(engine: Engine, sim: PortainerSim) -> None:
    program = {"name": "upd", "file_content": WEB, "env": {"A": "1", "B": "2"}}
    id_, state = engine.create(program)
    sim.clear_requests()
    state = engine.up(id_, state, dict(program, file_content=WEB_API, env={"A": "1", "B": "3"}, pull_image=True))
    assert seq(sim) == [f"PUT /api/stacks/{id_}"]
    assert sim.requests[0].query == {"endpointId": ["1"]}
    sent = body(sim, "PUT", f"/api/stacks/{id_}")
    assert sent["StackFileContent"] == WEB_API and sent["PullImage"] is True and "Prune" not in sent
    assert sent["Env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "3"}]
    assert len(labelled(sim, "upd")[0]) == 2 and state["file_content"] == WEB_API


def test_deploy_options_and_file_path_alone_make_no_call(engine: Engine, sim: PortainerSim) -> None:
    program = {"name": "opts", "file_path": "a.yml", "file_content": WEB}
    id_, state = engine.create(program)
    sim.clear_requests()
    state = engine.up(id_, state, dict(program, prune=True, pull_image=True, file_path="b.yml"))
    assert sim.count() == 0 and state["prune"] is True and state["file_path"] == "b.yml"
    assert state["status"] == "active" and state["stack_id"] == int(id_)


def test_redeploy_trigger_resends_the_content(engine: Engine, sim: PortainerSim) -> None:
    program = {"name": "trig", "type": "swarm", "file_content": WEB, "redeploy_trigger": "1"}
    id_, state = engine.create(program)
    sim.clear_requests()
    state = engine.up(id_, state, dict(program, redeploy_trigger="2", prune=True))
    assert seq(sim) == [f"PUT /api/stacks/{id_}", "GET /api/endpoints/1/docker/services"]
    assert body(sim, "PUT", f"/api/stacks/{id_}")["Prune"] is True


def test_5xx_on_update_is_not_resent(engine: Engine, sim: PortainerSim) -> None:
    id_, state = engine.create({"name": "flaky", "file_content": WEB})
    sim.inject("PUT", rf"/api/stacks/{id_}", status=502, body="bad gateway")
    with pytest.raises(PortainerError) as err:
        engine.up(id_, state, {"name": "flaky", "file_content": WEB_API})
    assert str(err.value).startswith(f"update Stack 'flaky' (id {id_}): HTTP 502 PUT /api/stacks/{id_}")
    assert sim.count("PUT") == 1


def test_stop_and_start_reread_swarm_services(engine: Engine, sim: PortainerSim) -> None:
    program = {"name": "cycle", "type": "swarm", "file_content": WEB}
    id_, state = engine.create(program)
    first = dict(state["services"])
    sim.clear_requests()
    state = engine.up(id_, state, dict(program, running=False))
    assert seq(sim) == [f"POST /api/stacks/{id_}/stop", "GET /api/endpoints/1/docker/services"]
    assert state["status"] == "inactive" and state["services"] == {}
    sim.clear_requests()
    state = engine.up(id_, state, program)
    assert seq(sim) == [f"POST /api/stacks/{id_}/start", "GET /api/endpoints/1/docker/services"]
    assert state["status"] == "active" and set(state["services"]) == {"web"} and state["services"] != first


def test_start_is_not_sent_to_an_active_stack_and_409_is_checked(engine: Engine, sim: PortainerSim) -> None:
    program = {"name": "busy", "file_content": WEB}
    id_, state = engine.create(program)
    sim.clear_requests()
    engine.up(id_, state, dict(program, env={"A": "1"}))
    assert sim.count("POST", r".*/start") == 0  # running stays true: no start
    # state says stopped, but someone started it by hand: 409 "already running" + active -> success
    stale = dict(state, running=False, status="inactive")
    sim.clear_requests()
    result = engine.p.update(id_, stale, engine.check(program, stale))
    assert seq(sim) == [f"POST /api/stacks/{id_}/start", f"GET /api/stacks/{id_}"]
    assert result.outs is not None and result.outs["status"] == "active"
    # a 409 while the stack is inactive is an error
    sim.stacks[int(id_)]["Status"] = 2
    with pytest.raises(PortainerError, match="409 POST .*already running"):
        engine.p.update(id_, stale, engine.check(program, stale))


def test_content_change_of_a_stopped_stack_with_running_true_is_one_put(engine: Engine, sim: PortainerSim) -> None:
    id_, state = engine.create({"name": "wake", "file_content": WEB, "running": False})
    sim.clear_requests()
    state = engine.up(id_, state, {"name": "wake", "file_content": WEB_API})
    assert seq(sim) == [f"PUT /api/stacks/{id_}"] and state["status"] == "active"


# ---------------------------------------------------------------- read / refresh


def test_refresh_of_an_unchanged_stack_is_two_requests(engine: Engine, sim: PortainerSim) -> None:
    program = {"name": "steady", "file_content": WEB, "env": {"A": "1"}}
    id_, state = engine.create(program)
    sim.clear_requests()
    result = engine.p.read(id_, state)
    assert seq(sim) == [f"GET /api/stacks/{id_}", "GET /api/endpoints/1"]
    assert result.id == id_ and result.inputs["file_content"] == WEB and result.inputs["env"] == {"A": "1"}
    assert set(result.inputs) <= set(state)
    sim.clear_requests()
    assert engine.diff(id_, dict(result.outs), program).changes is False and sim.count() == 0


def test_refresh_reads_back_content_edited_in_portainer(engine: Engine, sim: PortainerSim) -> None:
    program = {"name": "edited", "file_path": "c.yml", "file_content": WEB}
    id_, state = engine.create(program)
    edit_stack(sim, int(id_), content=WEB_API, env={"NEW": "x"})
    sim.clear_requests()
    result = engine.p.read(id_, state)
    assert seq(sim) == [f"GET /api/stacks/{id_}", "GET /api/endpoints/1", f"GET /api/stacks/{id_}/file"]
    assert result.inputs["file_content"] == WEB_API and result.inputs["env"] == {"NEW": "x"}
    assert result.inputs["file_path"] == "c.yml"  # kept for display
    diff = engine.diff(id_, dict(result.outs), program)
    assert diff.changes and diff.replaces == []
    state = engine.up(id_, dict(result.outs), program)  # the program wins back
    assert sim.stack_files[int(id_)]["docker-compose.yml"] == WEB and sim.stacks[int(id_)]["Env"] == []
    sim.clear_requests()
    engine.p.read(id_, state)
    assert sim.count() == 2  # our own update moved UpdateDate in state too


def test_refresh_sees_a_stack_stopped_and_started_by_hand(engine: Engine, sim: PortainerSim) -> None:
    program = {"name": "manual", "file_content": WEB}
    id_, state = engine.create(program)
    sim.stacks[int(id_)]["Status"] = 2
    result = engine.p.read(id_, state)
    assert result.inputs["running"] is False and result.outs["status"] == "inactive"
    diff = engine.diff(id_, dict(result.outs), program)
    assert diff.changes and not diff.replaces
    sim.stacks[int(id_)]["Status"] = 1
    result = engine.p.read(id_, dict(result.outs))
    assert result.inputs["running"] is True
    assert engine.diff(id_, dict(result.outs), program).changes is False


def test_deleted_by_hand_leaves_state(engine: Engine, sim: PortainerSim) -> None:
    id_, state = engine.create({"name": "gone", "file_content": WEB})
    del sim.stacks[int(id_)]
    result = engine.p.read(id_, state)
    assert not result.id and result.outs == {}


def test_deleted_environment_is_an_orphaned_error_not_gone(engine: Engine, sim: PortainerSim) -> None:
    other = add_endpoint(sim, "remote", swarm=False)
    id_, state = engine.create({"name": "orphan", "file_content": WEB, "endpoint_id": other["Id"]})
    del sim.endpoints[other["Id"]]
    with pytest.raises(PortainerError) as err:
        engine.p.read(id_, state)
    text = str(err.value)
    assert text.startswith(f"read Stack 'orphan' (id {id_}): the stack's environment (endpoint {other['Id']})")
    assert "orphaned" in text and "pulumi state delete" in text
    with pytest.raises(PortainerError, match="orphaned"):
        engine.p.delete(id_, state)
    assert int(id_) in sim.stacks


def test_orphaned_stack_seen_by_a_non_admin_is_not_gone(sim: PortainerSim) -> None:
    user = sim.create_user("operator", "operator-password-1", role=2)
    key = sim.create_api_key(user["Id"], "op")
    admin = Engine(configured(StackProvider, sim, **{"portainer:endpointId": "1"}))
    other = add_endpoint(sim, "remote", swarm=False)
    id_, state = admin.create({"name": "orphan2", "file_content": WEB, "endpoint_id": other["Id"]})
    del sim.endpoints[other["Id"]]
    operator = Engine(configured(StackProvider, sim, **{"portainer:apiKey": key}))
    with pytest.raises(PortainerError, match="orphaned"):
        operator.p.read(id_, dict(state, __connection=dict(state["__connection"], api_key=key)))


def test_delete_and_delete_of_already_gone(engine: Engine, sim: PortainerSim) -> None:
    id_, state = engine.create({"name": "bye", "type": "swarm", "file_content": WEB})
    sim.clear_requests()
    engine.p.delete(id_, state)
    assert seq(sim) == [f"DELETE /api/stacks/{id_}"] and sim.requests[0].query["endpointId"] == ["1"]
    assert int(id_) not in sim.stacks and labelled(sim, "bye") == ([], [], [])
    sim.clear_requests()
    engine.p.delete(id_, state)
    assert seq(sim) == [f"DELETE /api/stacks/{id_}", f"GET /api/stacks/{id_}"]


# ---------------------------------------------------------------- git stacks


@pytest.fixture
def repo(sim: PortainerSim) -> Iterator[str]:
    set_git_repo(sim, REPO, {"docker-compose.yml": WEB, "prod.yml": WEB_API}, sha="a" * 40)
    set_git_repo(sim, REPO, {"docker-compose.yml": WEB_API}, ref="refs/heads/next", sha="b" * 40)
    yield REPO


def git_program(**git: Any) -> dict[str, Any]:
    return {"name": "gitapp", "git": {"url": REPO, **git}, "env": {"MODE": "prod"}}


def test_git_create_with_webhook(engine: Engine, sim: PortainerSim, repo: str) -> None:
    warm(engine, sim)
    program = git_program(reference="refs/heads/main", username="bot", password=SECRET, auto_update={"webhook": True})
    id_, state = engine.create(program)
    assert seq(sim) == ["GET /api/stacks", "POST /api/stacks/create/standalone/repository"]
    sent = body(sim, "POST", "/api/stacks/create/standalone/repository")
    token = sent["AutoUpdate"]["Webhook"]
    assert sent["RepositoryURL"] == REPO and sent["ComposeFile"] == "docker-compose.yml"
    assert sent["RepositoryAuthentication"] is True and sent["RepositoryPassword"] == SECRET
    assert sent["Env"] == [{"name": "MODE", "value": "prod"}] and sent["AutoUpdate"]["Interval"] == ""
    assert state["git_commit"] == "a" * 40 and state["source_kind"] == "git"
    assert state["webhook_token"] == token and state["webhook_url"] == f"{sim.url}/api/stacks/webhooks/{token}"
    assert "webhook_url" in StackProvider.spec.secret_outputs and "webhook_token" in StackProvider.spec.secret_outputs
    # refresh: unchanged (password is write-only, never drift), and a preview shows nothing
    sim.clear_requests()
    result = engine.p.read(id_, state)
    assert seq(sim) == [f"GET /api/stacks/{id_}", "GET /api/endpoints/1"]
    assert result.inputs["git"]["password"] == SECRET
    assert engine.diff(id_, dict(result.outs), program).changes is False
    # the webhook redeploys when the branch moved; refresh then shows the new commit
    set_git_repo(sim, REPO, {"docker-compose.yml": WEB_API}, sha="c" * 40)
    status, _ = _post(sim, f"/api/stacks/webhooks/{token}")
    assert status == 204
    result = engine.p.read(id_, dict(result.outs))
    assert result.outs["git_commit"] == "c" * 40 and len(labelled(sim, "gitapp")[0]) == 2
    # the token is kept across updates that touch git settings
    state = engine.up(id_, dict(result.outs), dict(program, env={"MODE": "dev"}))
    assert state["webhook_token"] == token
    assert body(sim, "POST", f"/api/stacks/{id_}/git")["AutoUpdate"]["Webhook"] == token


def _post(sim: PortainerSim, path: str) -> tuple[int, bytes]:
    import httpx

    response = httpx.post(sim.url + path)
    return response.status_code, response.content


def test_git_reference_change_is_settings_then_redeploy_never_put(engine: Engine, sim: PortainerSim, repo: str) -> None:
    program = git_program(reference="refs/heads/main")
    id_, state = engine.create(program)
    sim.clear_requests()
    state = engine.up(id_, state, git_program(reference="refs/heads/next"))
    assert seq(sim) == [f"POST /api/stacks/{id_}/git", f"PUT /api/stacks/{id_}/git/redeploy"]
    assert body(sim, "PUT", f"/api/stacks/{id_}/git/redeploy")["RepositoryReferenceName"] == "refs/heads/next"
    assert state["git_commit"] == "b" * 40 and sim.stacks[int(id_)]["GitConfig"] is not None
    assert sim.count("PUT", rf"/api/stacks/{id_}") == 0


def test_git_env_change_sends_the_full_env_through_git_routes(engine: Engine, sim: PortainerSim, repo: str) -> None:
    id_, state = engine.create(git_program())
    sim.clear_requests()
    engine.up(id_, state, dict(git_program(), env={"MODE": "prod", "EXTRA": 1}))
    assert seq(sim) == [f"POST /api/stacks/{id_}/git", f"PUT /api/stacks/{id_}/git/redeploy"]
    full = [{"name": "EXTRA", "value": "1"}, {"name": "MODE", "value": "prod"}]
    assert body(sim, "POST", f"/api/stacks/{id_}/git")["Env"] == full
    assert body(sim, "PUT", f"/api/stacks/{id_}/git/redeploy")["Env"] == full


def test_git_auto_update_change_is_settings_only(engine: Engine, sim: PortainerSim, repo: str) -> None:
    id_, state = engine.create(git_program())
    sim.clear_requests()
    state = engine.up(id_, state, git_program(auto_update={"interval": "5m"}))
    assert seq(sim) == [f"POST /api/stacks/{id_}/git"]
    assert sim.stacks[int(id_)]["AutoUpdate"]["Interval"] == "5m"  # the stored interval, checked without waiting
    assert state["webhook_token"] is None and state["git_commit"] == "a" * 40
    set_git_repo(sim, REPO, {"docker-compose.yml": WEB_API}, sha="d" * 40)
    assert tick_auto_updates(sim) == [int(id_)]  # what the interval job does
    assert engine.p.read(id_, state).outs["git_commit"] == "d" * 40
    sim.clear_requests()
    engine.up(id_, state, dict(git_program(auto_update={"interval": "5m"}), prune=True, pull_image=True))
    assert sim.count() == 0  # deploy options alone


def test_git_redeploy_trigger_redeploys_only(engine: Engine, sim: PortainerSim, repo: str) -> None:
    id_, state = engine.create(dict(git_program(), redeploy_trigger="a"))
    sim.clear_requests()
    engine.up(id_, state, dict(git_program(), redeploy_trigger="b", pull_image=True))
    assert seq(sim) == [f"PUT /api/stacks/{id_}/git/redeploy"]
    assert body(sim, "PUT", f"/api/stacks/{id_}/git/redeploy")["PullImage"] is True


def test_git_url_compose_path_and_files_replace(engine: Engine, sim: PortainerSim, repo: str) -> None:
    id_, state = engine.create(git_program())
    for change in ({"url": REPO + "x"}, {"compose_path": "prod.yml"}, {"additional_files": ["prod.yml"]}):
        assert engine.diff(id_, state, git_program(**change)).replaces == ["git"]
    assert engine.diff(id_, state, git_program(reference="refs/heads/next")).replaces == []
    assert engine.p.diff(id_, state, dict(engine.check(git_program()), git=Unknown())).replaces == ["git"]


def test_git_clone_failure_raises_and_leaves_nothing(engine: Engine, sim: PortainerSim, repo: str) -> None:
    with pytest.raises(PortainerError) as err:
        engine.create(
            {"name": "nogit", "git": {"url": "https://git.example/none.git", "password": SECRET, "username": "u"}}
        )
    assert "unable to clone git repository" in str(err.value) and SECRET not in str(err.value)
    assert not [s for s in sim.stacks.values() if s["Name"] == "nogit"]


# ---------------------------------------------------------------- kubernetes


def test_kubernetes_stack_is_found_after_create_without_an_id(sim: PortainerSim) -> None:
    k8s = add_endpoint(sim, "k8s", swarm=False, type_=5)
    engine = Engine(configured(StackProvider, sim, **{"portainer:endpointId": str(k8s["Id"])}))
    manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n"
    warm_id, _ = engine.create({"name": "warm", "type": "kubernetes", "file_content": manifest})
    sim.clear_requests()
    program = {"name": "kube", "type": "kubernetes", "file_content": manifest, "namespace": "apps"}
    id_, state = engine.create(program)
    assert seq(sim) == ["GET /api/stacks", "POST /api/stacks/create/kubernetes/string", "GET /api/stacks"]
    assert body(sim, "POST", "/api/stacks/create/kubernetes/string")["Namespace"] == "apps"
    assert sim.stacks[int(id_)]["Namespace"] == "apps" and state["namespace"] == "apps"
    assert engine.check({"name": "x", "type": "kubernetes", "file_content": manifest})["namespace"] == "default"
    # a second stack of that name and namespace makes the identity ambiguous
    dup = dict(sim.stacks[int(id_)], Id=999)
    sim.stacks[999] = dup
    with pytest.raises(PortainerError, match="several Portainer stacks match"):
        engine.create(program)
    assert warm_id


# ---------------------------------------------------------------- secrets and the program side


def test_env_values_are_redacted_from_errors(engine: Engine, sim: PortainerSim) -> None:
    sim.inject(
        "POST",
        r"/api/stacks/create/standalone/string",
        status=500,
        body={"message": f"failed to deploy a stack: bad value {SECRET}", "details": SECRET},
    )
    with pytest.raises(PortainerError) as err:
        engine.create({"name": "leaky", "file_content": WEB, "env": {"TOKEN": SECRET}})
    assert SECRET not in str(err.value) and "[secret]" in str(err.value)


class _Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return "7", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> Any:
        return {}


def _register(**kwargs: Any) -> tuple[dict[str, Any], list[str]]:
    """What the program sends the engine for one Stack (the engine's preview diff shows these inputs)."""
    from tests.unit.test_meta import Recording

    monitor = Recording(_Mocks())
    pulumi.runtime.set_mocks(_Mocks(), preview=True, monitor=monitor)
    conn = ConnectionArgs(url="http://127.0.0.1:9", api_key="ptr_plain_key_123")

    @pulumi.runtime.test
    def program() -> Any:
        return Stack("s", name="s", endpoint_id=1, connection=conn, **kwargs).urn.apply(lambda _: None)

    program()
    obj, secret_outputs, _ = monitor.raw["s"]
    return obj, secret_outputs


def test_preview_shows_plain_env_values_and_hides_secret_ones() -> None:
    from tests.unit.test_meta import SECRET_SIG

    obj, secret_outputs = _register(
        file_content=WEB, env={"MODE": "prod", "PORT": 8080, "TOKEN": pulumi.Output.secret(SECRET)}
    )
    assert obj["env"]["MODE"] == "prod" and obj["env"]["PORT"] == 8080  # readable in preview diffs
    assert obj["env"]["TOKEN"][SECRET_SIG] and SECRET not in json.dumps({k: v for k, v in obj.items() if k != "env"})
    assert obj["env"]["TOKEN"]["value"] == SECRET  # only inside the secret envelope
    assert "env" in secret_outputs  # and the stored output is secret as a whole
    obj, secret_outputs = _register(file_content=WEB, env={"MODE": "prod"})
    assert obj["env"] == {"MODE": "prod"} and "env" not in secret_outputs


def test_git_password_is_secret_in_the_inputs() -> None:
    from tests.unit.test_meta import SECRET_SIG

    git = StackGitArgs(url=REPO, username="bot", password=SECRET, auto_update=StackGitAutoUpdateArgs(webhook=True))
    obj, secret_outputs = _register(git=git)
    assert obj["git"]["password"][SECRET_SIG] and obj["git"]["url"] == REPO
    assert obj["git"]["auto_update"] == {"webhook": True}
    assert {"git", "webhook_url", "webhook_token"} <= set(secret_outputs)


def test_file_path_is_read_in_the_program(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "compose.yml").write_text(WEB_API)
    obj, _ = _register(file_path="compose.yml")
    assert obj["file_content"] == WEB_API and obj["file_path"] == "compose.yml"
    obj, _ = _register(file_path=pulumi.Output.from_input("compose.yml"))
    assert obj["file_content"] == WEB_API
    obj, _ = _register(file_path="missing.yml")
    assert "file_content" not in obj  # check then fails naming file_path
    with pytest.raises(TypeError, match="one source: file_content or file_path"):
        Stack("both", name="both", file_content=WEB, file_path="compose.yml")


def test_get_stack_finds_by_name(engine: Engine, sim: PortainerSim) -> None:
    id_, _ = engine.create({"name": "lookup", "type": "swarm", "file_content": WEB})
    conn = ConnectionArgs(url=sim.url, api_key=sim.api_key)
    found = get_stack("lookup", connection=conn)
    assert found.id == id_ and found.type == "swarm" and found.status == "active" and found.swarm_id
    assert get_stack("lookup", endpoint_id=1, connection=conn).stack_id == int(id_)
    with pytest.raises(LookupError, match="no Portainer stack named 'nope'"):
        get_stack("nope", connection=conn)
    assert "not the Pulumi stack" in (get_stack.__doc__ or "")
