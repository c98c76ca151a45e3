"""User through the generic machinery, against the simulator: payloads, request counts, drift, faults,
errors, the InstanceID guard and adoption."""

from __future__ import annotations

import pytest
from pulumi.output import Unknown

from pulumi_portainer._provider import CONNECTION_STATE
from pulumi_portainer.errors import PortainerError
from pulumi_portainer.user import UserProvider
from tests.provider.conftest import Engine, body, configured
from tests.sim import PortainerSim

PW = "long-enough-password-1"


@pytest.fixture
def engine(sim: PortainerSim) -> Engine:
    return Engine(configured(UserProvider, sim))


def warm(engine: Engine, sim: PortainerSim) -> None:
    """Detect the server once (once per process in real runs) and forget the requests."""
    engine.create({"username": "warmup", "password": PW})
    sim.clear_requests()


def test_check_names_the_property(engine: Engine) -> None:
    assert "username" in engine.failures({})
    assert "spaces" in engine.failures({"username": "a b"})["username"]
    assert "one of admin, standard" in engine.failures({"username": "a", "role": "root"})["role"]
    assert "must not be empty" in engine.failures({"username": "a", "password": ""})["password"]
    assert engine.failures({"username": Unknown(), "password": Unknown(), "role": Unknown()}) == {}
    assert (
        "connection.api_key"
        in engine.failures({"username": "a", "connection": {"url": "http://127.0.0.1:1"}})["connection"]
    )


def test_short_password_is_only_a_warning(engine: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    engine.check({"username": "a", "password": "short"})
    assert "shorter than 12" in capsys.readouterr().err


def test_check_and_diff_make_no_request(engine: Engine, sim: PortainerSim) -> None:
    id_, state = engine.create({"username": "alice", "password": PW})
    sim.clear_requests()
    diff = engine.diff(id_, state, {"username": "alice", "password": PW})
    assert diff.changes is False
    assert sim.count() == 0  # an unchanged preview costs nothing


def test_create_is_one_lookup_plus_one_post(engine: Engine, sim: PortainerSim) -> None:
    warm(engine, sim)
    id_, state = engine.create({"username": "bob", "password": PW, "role": "admin"})
    assert [f"{r.method} {r.path}" for r in sim.requests] == ["GET /api/users", "POST /api/users"]
    assert body(sim) == {"Username": "bob", "Role": 1, "Password": PW}
    assert state["user_id"] == int(id_) and state["role"] == "admin"
    assert state["portainer_instance_id"] == sim.instance_id and state["portainer_url"] == sim.url
    assert state[CONNECTION_STATE]["api_key"] == sim.api_key


def test_existing_user_is_a_conflict_unless_adopted(engine: Engine, sim: PortainerSim) -> None:
    existing = sim.create_user("Carol", PW, role=2)
    with pytest.raises(PortainerError) as err:
        engine.create({"username": "carol", "password": PW})
    text = str(err.value)
    assert text.startswith("create User 'carol': HTTP 409")
    assert f"(id {existing['Id']})" in text and "adopt=True" in text
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_adopt_updates_only_what_differs(engine: Engine, sim: PortainerSim) -> None:
    existing = sim.create_user("dave", PW, role=2)
    warm(engine, sim)
    id_, state = engine.create({"username": "dave", "role": "standard", "adopt": True})
    assert id_ == str(existing["Id"]) and [r.method for r in sim.requests] == ["GET"]
    sim.clear_requests()
    _, state = engine.create({"username": "dave", "role": "admin", "adopt": True})
    assert [f"{r.method} {r.path}" for r in sim.requests] == ["GET /api/users", f"PUT /api/users/{id_}"]
    assert body(sim) == {"Role": 1} and sim.users[existing["Id"]]["Role"] == 1


def test_read_unchanged_is_one_request(engine: Engine, sim: PortainerSim) -> None:
    id_, state = engine.create({"username": "erin", "password": PW})
    sim.clear_requests()
    result = engine.p.read(id_, state)
    assert sim.count() == 1
    assert result.id == id_ and result.inputs["username"] == "erin" and result.inputs["password"] == PW
    assert engine.p.diff(id_, dict(result.outs), engine.check(dict(result.inputs))).changes is False


def test_refresh_reports_rename_and_role_drift(engine: Engine, sim: PortainerSim) -> None:
    id_, state = engine.create({"username": "frank", "password": PW})
    sim.users[int(id_)]["Username"] = "franky"
    sim.users[int(id_)]["Role"] = 1
    result = engine.p.read(id_, state)
    assert result.inputs["username"] == "franky" and result.inputs["role"] == "admin"
    assert result.inputs["password"] == PW  # write-only: copied, never drift
    assert set(result.inputs) <= set(state)
    diff = engine.diff(id_, dict(result.outs), {"username": "frank", "password": PW})
    assert diff.changes and not diff.replaces


def test_deleted_out_of_band_leaves_state(engine: Engine, sim: PortainerSim) -> None:
    id_, state = engine.create({"username": "gina", "password": PW})
    del sim.users[int(id_)]
    result = engine.p.read(id_, state)
    assert not result.id and result.outs == {}


def test_update_rename_role_and_password(engine: Engine, sim: PortainerSim) -> None:
    id_, state = engine.create({"username": "hank", "password": PW})
    sim.clear_requests()
    state = engine.up(id_, state, {"username": "henry", "password": PW + "x", "role": "admin"})
    assert [f"{r.method} {r.path}" for r in sim.requests] == [f"PUT /api/users/{id_}"]
    assert body(sim) == {"Username": "henry", "Role": 1, "NewPassword": PW + "x"}
    assert state["username"] == "henry" and sim.users[int(id_)]["Password"] == PW + "x"
    diff = engine.diff(id_, state, {"username": "henry", "password": PW + "x", "role": "admin"})
    assert diff.changes is False


def test_adopt_and_timeouts_are_never_diffed(engine: Engine, sim: PortainerSim) -> None:
    id_, state = engine.create({"username": "ivy", "password": PW})
    diff = engine.diff(id_, state, {"username": "ivy", "password": PW, "adopt": True, "custom_timeouts": {"create": 5}})
    assert diff.changes is False
    diff = engine.diff(id_, state, {"username": Unknown(), "password": PW})
    assert diff.changes and diff.replaces == [] and diff.delete_before_replace


def test_delete_and_delete_of_already_gone(engine: Engine, sim: PortainerSim) -> None:
    id_, state = engine.create({"username": "jack", "password": PW})
    engine.p.delete(id_, state)
    assert int(id_) not in sim.users
    sim.clear_requests()
    engine.p.delete(id_, state)  # already gone: DELETE 404 confirmed by GET 404
    assert [f"{r.method} {r.path}" for r in sim.requests] == [f"DELETE /api/users/{id_}", f"GET /api/users/{id_}"]


def test_delete_the_initial_admin_fails_with_portainer_reason(engine: Engine, sim: PortainerSim) -> None:
    _, state = engine.create({"username": "admin", "role": "admin", "adopt": True})
    with pytest.raises(PortainerError) as err:
        engine.p.delete("1", state)
    assert "Cannot remove the initial admin account" in str(err.value)
    assert str(err.value).startswith("delete User 'admin' (id 1): HTTP 403 DELETE /api/users/1")


def test_lost_create_response_is_recovered_by_lookup(engine: Engine, sim: PortainerSim) -> None:
    warm(engine, sim)
    sim.inject("POST", r"^/api/users$", drop=True, commit=True)
    id_, state = engine.create({"username": "kim", "password": PW})
    assert sim.users[int(id_)]["Username"] == "kim"
    assert sim.count("POST", r"^/api/users$") == 1  # never resent
    assert len([u for u in sim.users.values() if u["Username"] == "kim"]) == 1


def test_empty_200_on_create_is_confirmed_by_lookup(engine: Engine, sim: PortainerSim) -> None:
    sim.inject("POST", r"^/api/users$", empty=True)
    id_, _ = engine.create({"username": "lena", "password": PW})
    assert sim.users[int(id_)]["Username"] == "lena"


def test_5xx_create_that_did_nothing_raises_after_the_deadline(engine: Engine, sim: PortainerSim) -> None:
    sim.inject("POST", r"^/api/users$", status=503, body={"message": "busy"})
    with pytest.raises(PortainerError) as err:
        engine.create({"username": "mia", "password": PW, "custom_timeouts": {"create": 1.5}})
    assert "HTTP 503 POST /api/users: busy" in str(err.value)
    assert sim.count("POST", r"^/api/users$") == 1 and sim.count("GET", r"^/api/users$") >= 2


def test_5xx_on_update_is_not_resent(engine: Engine, sim: PortainerSim) -> None:
    id_, state = engine.create({"username": "ned", "password": PW})
    sim.inject("PUT", rf"^/api/users/{id_}$", status=502, body="bad gateway")
    with pytest.raises(PortainerError, match="HTTP 502 PUT"):
        engine.up(id_, state, {"username": "ned", "role": "admin", "password": PW})
    assert sim.count("PUT") == 1


def test_refresh_on_another_instance_fails_and_keeps_state(engine: Engine, sim: PortainerSim) -> None:
    id_, state = engine.create({"username": "olga", "password": PW})
    created_on = sim.instance_id
    other = PortainerSim(instance_id="other-instance")
    other.start()
    try:
        provider = configured(UserProvider, other)
        moved = dict(state, **{CONNECTION_STATE: dict(state[CONNECTION_STATE], url=other.url)})
        with pytest.raises(PortainerError) as err:
            provider.read(id_, moved)
        text = str(err.value)
        assert "other-instance" in text and created_on in text and "pulumi state delete" in text
        assert other.count("GET", r"^/api/users") == 0  # a 404 from the wrong server is never "gone"
    finally:
        other.stop()


def test_jwt_login_mode(sim: PortainerSim) -> None:
    engine = Engine(
        configured(
            UserProvider,
            sim,
            **{"portainer:apiKey": None, "portainer:username": "admin", "portainer:password": sim.admin_password},
        )
    )
    id_, state = engine.create({"username": "pete", "password": PW})
    engine.p.read(id_, state)
    assert sim.login_calls == 1
    for r in sim.requests:
        assert "cookie" not in r.headers


def test_connection_change_is_an_update_without_request(engine: Engine, sim: PortainerSim) -> None:
    id_, state = engine.create({"username": "quinn", "password": PW})
    sim.clear_requests()
    conn = {"url": sim.url + "/api", "api_key": sim.api_key}
    diff = engine.diff(id_, state, {"username": "quinn", "password": PW, "connection": conn})
    assert diff.changes and not diff.replaces
    state = engine.up(id_, state, {"username": "quinn", "password": PW, "connection": conn})
    assert [r.method for r in sim.requests if "/users" in r.path] == []
    assert state["connection"] == conn and state[CONNECTION_STATE]["source"] == "resource"


def test_stale_resource_key_falls_back_to_current_config_on_read(engine: Engine, sim: PortainerSim) -> None:
    conn = {"url": sim.url, "api_key": "ptr_revoked_key"}
    id_, state = engine.create({"username": "rita", "password": PW})
    state = dict(state, connection=conn)
    result = engine.p.read(id_, state)  # 401 with the stored key, then the config's key
    assert result.id == id_


def test_password_is_a_secret_output() -> None:
    from pulumi_portainer.user import SPEC

    assert "password" in SPEC.secret_outputs


def test_deleting_oneself_fails_with_portainers_reason(sim: PortainerSim) -> None:
    me = sim.create_user("ops", PW, role=1)
    engine = Engine(configured(UserProvider, sim, **{"portainer:apiKey": sim.create_api_key(me["Id"], "ops")}))
    _, state = engine.create({"username": "ops", "role": "admin", "adopt": True})
    with pytest.raises(PortainerError) as err:
        engine.p.delete(str(me["Id"]), state)
    assert str(err.value) == (
        f"delete User 'ops' (id {me['Id']}): HTTP 403 DELETE /api/users/{me['Id']}: "
        "Cannot remove your own user account. Contact another administrator"
    )
    assert me["Id"] in sim.users


def test_the_servers_minimum_is_authoritative(engine: Engine, sim: PortainerSim) -> None:
    with pytest.raises(PortainerError) as err:
        engine.create({"username": "minlen", "password": "eightchr"})
    assert str(err.value) == "create User 'minlen': HTTP 400 POST /api/users: Password does not meet the requirements"
    sim.settings["RequiredPasswordLength"] = 8
    id_, state = engine.create({"username": "minlen", "password": "eightchr"})
    assert sim.users[int(id_)]["Password"] == "eightchr"
    sim.settings["RequiredPasswordLength"] = 12
    with pytest.raises(PortainerError, match="Password does not meet the minimum strength requirements"):
        engine.up(id_, state, {"username": "minlen", "password": "eightch2"})


@pytest.mark.parametrize(
    ("version", "payload"),
    [
        ("2.33.7", {"NewPassword": PW + "x"}),
        ("2.19.5", {"NewPassword": PW + "x"}),
        ("2.18.4", {"Password": PW + "x", "NewPassword": PW + "x"}),
    ],
)
def test_password_change_through_the_route_the_version_needs(version: str, payload: dict[str, str]) -> None:
    with PortainerSim(version=version) as server:
        engine = Engine(configured(UserProvider, server))
        id_, state = engine.create({"username": "vera", "password": PW})
        server.clear_requests()
        engine.up(id_, state, {"username": "vera", "password": PW + "x"})
        assert [f"{r.method} {r.path}" for r in server.requests] == [f"PUT /api/users/{id_}"]
        assert body(server) == payload and server.users[int(id_)]["Password"] == PW + "x"
