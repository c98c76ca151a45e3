"""Endpoint (environment) against the simulator: the exact multipart bytes of each creation type, group and
tag checks, unreachable targets and leftovers, in-place updates, replace triggers, refresh (type mapping,
Edge URL host, drift, deletion), delete refusal, secrets and request counts."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from pulumi.output import Unknown

from pulumi_portainer import ConnectionArgs, _http
from pulumi_portainer.endpoint import EndpointProvider, get_endpoint
from pulumi_portainer.errors import PortainerError
from tests.provider.conftest import Engine, configured
from tests.sim import PortainerSim
from tests.sim.endpoints import add_group, add_tag

SOCKET = "unix:///var/run/docker.sock"
EDGE_URL = "https://portainer.e2e.invalid:9443"
TCP = "tcp://10.9.8.7:2376"


def pem(label: str, seed: str) -> str:
    body = (seed * 64)[:64]
    return f"-----BEGIN {label}-----\n{body}\n{body[:20]}==\n-----END {label}-----\n"


CA, CERT, KEY = pem("CERTIFICATE", "Q0FjZXJ0"), pem("CERTIFICATE", "Y2xpZW50"), pem("PRIVATE KEY", "a2V5a2V5")


@pytest.fixture
def engine(sim: PortainerSim) -> Engine:
    return Engine(configured(EndpointProvider, sim))


@pytest.fixture
def lists(sim: PortainerSim) -> PortainerSim:
    """Stacks and webhooks stores with their list routes (registered here only if the simulator lacks them)."""
    for attr in ("stacks", "webhooks"):
        if not hasattr(sim, attr):
            setattr(sim, attr, {})
    for path, attr in (("/api/stacks", "stacks"), ("/api/webhooks", "webhooks")):
        if not any(r.method == "GET" and r.regex.fullmatch(path) for r in sim.routes):

            def handler(s: PortainerSim, req: Any, m: Any, attr: str = attr) -> Any:
                s.authenticate(req)
                return 200, [dict(v) for _, v in sorted(getattr(s, attr).items())], None

            sim.add_route("GET", re.escape(path), handler)
    return sim


def warm(sim: PortainerSim, engine: Engine) -> None:
    """Detect the server once (once per process in real runs) and forget the requests."""
    engine.create({"name": "local", "adopt": True})
    sim.clear_requests()


def seen(sim: PortainerSim) -> list[str]:
    return [f"{r.method} {r.path}" for r in sim.requests]


def multipart(boundary: str, fields: list[tuple[str, Any]]) -> bytes:
    """The expected body, written out by hand (independent of the encoder the client uses)."""
    out = b""
    for name, value in fields:
        out += f"--{boundary}\r\n".encode()
        if isinstance(value, tuple):
            filename, data, ctype = value
            head = f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\nContent-Type: {ctype}\r\n'
            out += head.encode() + b"\r\n" + data + b"\r\n"
        else:
            out += f'Content-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    return out + f"--{boundary}--\r\n".encode()


def posted(sim: PortainerSim) -> tuple[str, bytes]:
    post = next(r for r in reversed(sim.requests) if r.method == "POST" and r.path == "/api/endpoints")
    match = re.fullmatch(r"multipart/form-data; boundary=([0-9a-f]{32})", post.headers["content-type"])
    assert match, post.headers["content-type"]  # a random boundary in production
    assert int(post.headers["content-length"]) == len(post.body)
    return match.group(1), post.body


def by_name(sim: PortainerSim, name: str) -> list[dict[str, Any]]:
    return [e for e in sim.endpoints.values() if e["Name"] == name]


# ---------------------------------------------------------------- check


def test_check_validates_offline_and_names_the_property(engine: Engine, sim: PortainerSim) -> None:
    f = engine.failures
    assert "name" in f({})
    assert "one of docker, agent, azure, edge, kubernetes_local" in f({"name": "a", "type": "swarm"})["type"]
    assert "unix://, tcp:// or npipe://" in f({"name": "a", "url": "http://10.0.0.1:2375"})["url"]
    assert "tcp://<host>:<port>" in f({"name": "a", "url": "tcp://10.0.0.1"})["url"]
    assert "required for type 'agent'" in f({"name": "a", "type": "agent"})["url"]
    assert "usually port 9001" in f({"name": "a", "type": "agent", "url": "https://10.0.0.5:9001"})["url"]
    assert "required for type 'edge'" in f({"name": "a", "type": "edge"})["url"]
    assert "localhost" in f({"name": "a", "type": "edge", "url": "https://localhost:9443"})["url"]
    assert "http(s)://host" in f({"name": "a", "type": "edge", "url": "portainer.e2e.invalid:9443"})["url"]
    assert "https://" in f({"name": "a", "type": "kubernetes_local", "url": "http://k8s:6443"})["url"]
    azure = f({"name": "a", "type": "azure", "url": "https://x.example", "public_url": "1.2.3.4"})
    assert "not used by azure" in azure["url"] and "not used by azure" in azure["public_url"]
    assert "required for type 'azure'" in azure["azure_authentication_key"]
    assert "only to type 'azure'" in f({"name": "a", "azure_tenant_id": "t"})["azure_tenant_id"]
    assert "only to type 'edge'" in f({"name": "a", "edge_checkin_interval": 5})["edge_checkin_interval"]
    assert "podman" in f({"name": "a", "type": "kubernetes_local", "container_engine": "podman"})["container_engine"]
    # ids as integers
    assert "integer" in f({"name": "a", "group_id": "two"})["group_id"]
    assert "1 or more" in f({"name": "a", "group_id": 0})["group_id"]
    assert "integer tag ids" in f({"name": "a", "tag_ids": [1, "prod"]})["tag_ids"]
    # TLS
    assert "needs tls=True" in f({"name": "a", "url": TCP, "tls_skip_verify": True})["tls_skip_verify"]
    assert (
        "unix socket has no TLS"
        in f({"name": "a", "tls": True, "tls_skip_verify": True, "tls_skip_client_verify": True})["tls"]
    )
    missing = f({"name": "a", "url": TCP, "tls": True})
    assert "required with tls=True" in missing["tls_ca_cert"] and "tls_key" in missing
    assert (
        "not used with tls_skip_verify"
        in f(
            {
                "name": "a",
                "url": TCP,
                "tls": True,
                "tls_skip_verify": True,
                "tls_skip_client_verify": True,
                "tls_ca_cert": CA,
            }
        )["tls_ca_cert"]
    )
    assert "only to types 'docker'" in f({"name": "a", "type": "edge", "url": EDGE_URL, "tls": True})["tls"]
    # PEM shape; a path that could not be read names itself, a key never echoes
    bad = f({"name": "a", "url": TCP, "tls": True, "tls_ca_cert": "certs/ca.pem", "tls_cert": KEY, "tls_key": CERT})
    assert "PEM certificate" in bad["tls_ca_cert"] and "'certs/ca.pem' is neither" in bad["tls_ca_cert"]
    assert "PEM certificate" in bad["tls_cert"]
    assert "PEM private key" in bad["tls_key"] and "BEGIN CERTIFICATE" not in bad["tls_key"]
    # unknowns during preview are never an error
    assert f({"name": Unknown(), "type": Unknown(), "url": Unknown(), "tag_ids": [Unknown()]}) == {}
    assert f({"name": "a", "type": "agent", "url": Unknown(), "tls": Unknown(), "tls_ca_cert": Unknown()}) == {}
    assert sim.count() == 0


def test_check_normalizes_ids_and_fills_what_portainer_stores(engine: Engine) -> None:
    inputs = engine.check({"name": "a", "group_id": "3", "tag_ids": ["5", 2.0, 5]})
    assert inputs["group_id"] == 3 and inputs["tag_ids"] == [2, 5]
    assert inputs["url"] == SOCKET and inputs["container_engine"] == "docker" and inputs["tls"] is False
    assert engine.check({"name": "k", "type": "kubernetes_local"})["url"] == "https://kubernetes.default.svc"
    assert "url" not in engine.check(
        {
            "name": "z",
            "type": "azure",
            "azure_application_id": "a",
            "azure_tenant_id": "t",
            "azure_authentication_key": "k-secret",
        }
    )
    tls = engine.check(
        {"name": "t", "url": TCP, "tls": True, "tls_ca_cert": "  " + CA.strip(), "tls_cert": CERT, "tls_key": KEY}
    )
    assert tls["tls_ca_cert"] == CA  # surrounding whitespace normalized


# ---------------------------------------------------------------- create: exact multipart bytes


def test_docker_tls_create_sends_the_exact_multipart_body(engine: Engine, sim: PortainerSim) -> None:
    group = add_group(sim, "prod")
    tags = [add_tag(sim, "blue")["ID"], add_tag(sim, "green")["ID"]]
    sim.reachable_urls.add(TCP)  # type: ignore[attr-defined]
    warm(sim, engine)
    id_, state = engine.create(
        {
            "name": "remote",
            "url": TCP,
            "public_url": "10.9.8.7",
            "group_id": group["Id"],
            "tag_ids": [tags[1], tags[0]],
            "tls": True,
            "tls_ca_cert": CA,
            "tls_cert": CERT,
            "tls_key": KEY,
        }
    )
    # identity lookup + group check + tag check + 1
    assert seen(sim) == [
        "GET /api/endpoints",
        f"GET /api/endpoint_groups/{group['Id']}",
        "GET /api/tags",
        "POST /api/endpoints",
    ]
    assert sim.requests[0].query == {"name": ["remote"], "excludeSnapshots": ["true"]}
    boundary, body = posted(sim)
    assert body == multipart(
        boundary,
        [
            ("Name", "remote"),
            ("EndpointCreationType", "1"),
            ("ContainerEngine", "docker"),
            ("URL", TCP),
            ("PublicURL", "10.9.8.7"),
            ("GroupID", str(group["Id"])),
            ("TagIds", f"[{tags[0]},{tags[1]}]"),
            ("TLS", "true"),
            ("TLSSkipVerify", "false"),
            ("TLSSkipClientVerify", "false"),
            ("TLSCACertFile", ("ca.pem", CA.encode(), "application/x-pem-file")),
            ("TLSCertFile", ("cert.pem", CERT.encode(), "application/x-pem-file")),
            ("TLSKeyFile", ("key.pem", KEY.encode(), "application/x-pem-file")),
        ],
    )
    stored = sim.endpoints[int(id_)]
    assert stored["TLSConfig"] == {
        "TLS": True,
        "TLSSkipVerify": False,
        "TLSCACert": f"/data/tls/{id_}/ca.pem",
        "TLSCert": f"/data/tls/{id_}/cert.pem",
        "TLSKey": f"/data/tls/{id_}/key.pem",
    }
    assert stored["TagIds"] == sorted(tags) and stored["GroupId"] == group["Id"]
    assert state["endpoint_id"] == int(id_) and state["status"] == "up" and state["edge_id"] == ""
    assert state["edge_key"] is None and state["tls_key"] == KEY
    assert _http.redact(f"x {KEY} y") == "x [secret] y"  # the key is registered for redaction


def test_plain_docker_create_is_one_lookup_plus_one_post(engine: Engine, sim: PortainerSim) -> None:
    warm(sim, engine)
    id_, state = engine.create({"name": "local-again"})
    assert seen(sim) == ["GET /api/endpoints", "POST /api/endpoints"]
    boundary, body = posted(sim)
    assert body == multipart(
        boundary,
        [
            ("Name", "local-again"),
            ("EndpointCreationType", "1"),
            ("ContainerEngine", "docker"),
            ("URL", SOCKET),
            ("GroupID", "1"),
        ],
    )
    assert sim.engines[int(id_)] is sim.engines[1]  # the same daemon as the local environment
    assert state["url"] == SOCKET and state["type"] == "docker" and state["status"] == "up"


def test_edge_create_is_offline_and_outputs_a_secret_key(engine: Engine, sim: PortainerSim) -> None:
    warm(sim, engine)
    id_, state = engine.create({"name": "edge-1", "type": "edge", "url": EDGE_URL, "edge_checkin_interval": 10})
    boundary, body = posted(sim)
    assert body == multipart(
        boundary,
        [
            ("Name", "edge-1"),
            ("EndpointCreationType", "4"),
            ("ContainerEngine", "docker"),
            ("URL", EDGE_URL),
            ("GroupID", "1"),
            ("EdgeCheckinInterval", "10"),
        ],
    )
    stored = sim.endpoints[int(id_)]
    assert stored["Type"] == 4 and stored["URL"] == "portainer.e2e.invalid" and stored["EdgeCheckinInterval"] == 10
    assert state["edge_key"] == stored["EdgeKey"] and state["edge_key"]
    assert state["edge_id"] == "" and state["status"] == "down"  # no agent has checked in
    assert _http.redact(state["edge_key"]) == "[secret]"
    sim.settings["EnforceEdgeID"] = True
    _, enforced = engine.create({"name": "edge-2", "type": "edge", "url": EDGE_URL})
    assert re.fullmatch(r"[0-9a-f-]{36}", enforced["edge_id"])


def test_edge_without_container_engine_would_become_kubernetes(sim: PortainerSim) -> None:
    """Why the provider always sends ContainerEngine (2.33.1+)."""
    response = httpx.post(
        sim.url + "/api/endpoints",
        headers={"X-API-Key": sim.api_key or ""},
        files=[("Name", (None, "bare")), ("EndpointCreationType", (None, "4")), ("URL", (None, EDGE_URL))],
    )
    assert response.status_code == 200 and response.json()["Type"] == 7


def test_agent_create_maps_stored_types_back(engine: Engine, sim: PortainerSim) -> None:
    sim.agents.update({"tcp://10.0.0.5:9001": "docker", "tcp://10.0.0.6:9001": "kubernetes"})  # type: ignore[attr-defined]
    agent = {"type": "agent", "tls": True, "tls_skip_verify": True, "tls_skip_client_verify": True}
    id_docker, state_docker = engine.create({"name": "agent-d", "url": "tcp://10.0.0.5:9001", **agent})
    boundary, body = posted(sim)
    assert body == multipart(
        boundary,
        [
            ("Name", "agent-d"),
            ("EndpointCreationType", "2"),
            ("ContainerEngine", "docker"),
            ("URL", "tcp://10.0.0.5:9001"),
            ("GroupID", "1"),
            ("TLS", "true"),
            ("TLSSkipVerify", "true"),
            ("TLSSkipClientVerify", "true"),
        ],
    )
    id_k8s, state_k8s = engine.create({"name": "agent-k", "url": "tcp://10.0.0.6:9001", **agent})
    assert sim.endpoints[int(id_docker)]["Type"] == 2
    assert sim.endpoints[int(id_k8s)]["Type"] == 6 and sim.endpoints[int(id_k8s)]["URL"] == "10.0.0.6:9001"
    for id_, state in ((id_docker, state_docker), (id_k8s, state_k8s)):
        result = engine.p.read(id_, state)
        assert result.inputs["type"] == "agent" and result.inputs["url"] == state["url"]
        assert result.inputs["tls_skip_client_verify"] is True
        assert engine.p.diff(id_, dict(result.outs), engine.check(dict(result.inputs))).changes is False


def test_azure_create_keeps_the_key_secret(engine: Engine, sim: PortainerSim) -> None:
    key = "azure-client-secret-value"
    sim.azure_accounts.add(("app-id", "tenant-id", key))  # type: ignore[attr-defined]
    azure = {
        "name": "aci",
        "type": "azure",
        "azure_application_id": "app-id",
        "azure_tenant_id": "tenant-id",
        "azure_authentication_key": key,
    }
    id_, state = engine.create(azure)
    boundary, body = posted(sim)
    assert body == multipart(
        boundary,
        [
            ("Name", "aci"),
            ("EndpointCreationType", "3"),
            ("ContainerEngine", "docker"),
            ("GroupID", "1"),
            ("AzureApplicationID", "app-id"),
            ("AzureTenantID", "tenant-id"),
            ("AzureAuthenticationKey", key),
        ],
    )
    assert sim.endpoints[int(id_)]["Type"] == 3
    result = engine.p.read(id_, state)  # Portainer hides the credentials: write-only, copied
    assert result.inputs["azure_authentication_key"] == key and result.inputs["azure_application_id"] == "app-id"
    assert "url" not in result.inputs or result.inputs["url"] is None
    assert engine.p.diff(id_, dict(result.outs), engine.check(dict(result.inputs))).changes is False
    with pytest.raises(PortainerError) as err:
        engine.create(dict(azure, name="aci-2", azure_authentication_key="wrong-azure-secret"))
    text = str(err.value)
    assert text.startswith("create Endpoint 'aci-2': cannot reach Azure")
    assert "Unable to authenticate against Azure" in text and "wrong-azure-secret" not in text
    assert by_name(sim, "aci-2") == []


def test_kubernetes_local_create(engine: Engine, sim: PortainerSim) -> None:
    with pytest.raises(PortainerError, match=r"cannot reach https://kubernetes.default.svc: HTTP 500"):
        engine.create({"name": "k8s", "type": "kubernetes_local"})
    sim.reachable_urls.add("https://kubernetes.default.svc")  # type: ignore[attr-defined]
    id_, state = engine.create({"name": "k8s", "type": "kubernetes_local"})
    assert sim.endpoints[int(id_)]["Type"] == 5 and state["url"] == "https://kubernetes.default.svc"
    assert b'name="EndpointCreationType"\r\n\r\n5\r\n' in posted(sim)[1]


# ---------------------------------------------------------------- create: failures leave nothing behind


def test_unreachable_target_says_cannot_reach_and_burns_an_id(engine: Engine, sim: PortainerSim) -> None:
    warm(sim, engine)
    url = "tcp://10.1.2.3:2375"
    with pytest.raises(PortainerError) as err:
        engine.create({"name": "down", "url": url})
    text = str(err.value)
    assert text.startswith(
        f"create Endpoint 'down': cannot reach {url}: HTTP 500 POST /api/endpoints: "
        "Unable to initiate communications with environment: Error during connect"
    )
    assert err.value.__cause__ is None
    assert seen(sim) == ["GET /api/endpoints", "POST /api/endpoints", "GET /api/endpoints"]  # no retry, no record
    assert by_name(sim, "down") == []
    id_, _ = engine.create({"name": "up"})
    assert int(id_) == max(e for e in sim.endpoints if e != int(id_)) + 2  # Portainer burnt an id


def test_record_left_by_a_failed_create_is_removed(engine: Engine, sim: PortainerSim) -> None:
    warm(sim, engine)
    # the tag disappears between the check and the create: Portainer writes the environment, then fails
    sim.inject("GET", r"/api/tags", status=200, body=[{"ID": 99, "Name": "ghost", "Endpoints": {}}])
    with pytest.raises(PortainerError) as err:
        engine.create({"name": "half", "tag_ids": [99]})
    text = str(err.value)
    assert "HTTP 500 POST /api/endpoints: Unable to associate the environment to the specified tag" in text
    assert "the partly created environment (id " in text and "was removed" in text
    assert by_name(sim, "half") == []
    assert seen(sim)[-2:][0] == "GET /api/endpoints" and seen(sim)[-1].startswith("DELETE /api/endpoints/")


def test_group_and_tags_are_checked_before_the_create(engine: Engine, sim: PortainerSim) -> None:
    with pytest.raises(PortainerError, match=r"group_id 42: Portainer has no environment group with that id"):
        engine.create({"name": "g", "group_id": 42})
    tag = add_tag(sim, "real")["ID"]
    with pytest.raises(PortainerError, match=r"tag_ids: Portainer has no tag with id 77, 78; create the tags"):
        engine.create({"name": "t", "tag_ids": [tag, 77, 78]})
    assert sim.count("POST") == 0 and by_name(sim, "g") == by_name(sim, "t") == []


def test_lost_create_response_is_recovered_by_lookup(engine: Engine, sim: PortainerSim) -> None:
    warm(sim, engine)
    sim.inject("POST", r"/api/endpoints", drop=True, commit=True)
    id_, state = engine.create({"name": "dropped"})
    assert sim.count("POST") == 1 and [e["Id"] for e in by_name(sim, "dropped")] == [int(id_)]


def test_podman_needs_2_22(sim: PortainerSim) -> None:
    old = PortainerSim(version="2.21.5")
    old.start()
    try:
        engine = Engine(configured(EndpointProvider, old))
        with pytest.raises(PortainerError, match=r"'podman' needs Portainer 2.22 or later \(this server is 2.21.5\)"):
            engine.create({"name": "p", "container_engine": "podman"})
        id_, state = engine.create({"name": "d"})  # ContainerEngine is ignored there, and not stored
        assert "ContainerEngine" not in old.endpoints[int(id_)]
        result = engine.p.read(id_, state)
        assert engine.p.diff(id_, dict(result.outs), engine.check(dict(result.inputs))).changes is False
    finally:
        old.stop()


# ---------------------------------------------------------------- adopt


def test_existing_name_is_a_conflict_unless_adopted(engine: Engine, sim: PortainerSim) -> None:
    with pytest.raises(PortainerError) as err:
        engine.create({"name": "local"})
    assert str(err.value).startswith("create Endpoint 'local': HTTP 409") and "(id 1)" in str(err.value)
    warm(sim, engine)
    id_, state = engine.create({"name": "local", "adopt": True})
    assert id_ == "1" and seen(sim) == ["GET /api/endpoints"]  # nothing differs: no update
    sim.clear_requests()
    engine.create({"name": "local", "public_url": "192.0.2.10", "adopt": True})
    assert seen(sim) == ["GET /api/endpoints", "PUT /api/endpoints/1"]
    assert json.loads(sim.requests[-1].body) == {"PublicURL": "192.0.2.10"}
    with pytest.raises(PortainerError, match=r"differs in type, url, which Portainer cannot change in place"):
        engine.create({"name": "local", "type": "edge", "url": EDGE_URL, "adopt": True})


def test_adopt_compares_urls_in_portainers_stored_form(engine: Engine, sim: PortainerSim) -> None:
    sim.agents["tcp://10.0.0.6:9001"] = "kubernetes"  # type: ignore[attr-defined]
    agent = {
        "name": "k-agent",
        "type": "agent",
        "url": "tcp://10.0.0.6:9001",
        "tls": True,
        "tls_skip_verify": True,
        "tls_skip_client_verify": True,
    }
    engine.create(agent)
    edge = {"name": "edge-a", "type": "edge", "url": EDGE_URL}
    engine.create(edge)
    sim.clear_requests()
    engine.create({**agent, "adopt": True})
    engine.create({**edge, "adopt": True})
    assert sim.count("PUT") == 0  # nothing to update
    with pytest.raises(PortainerError, match=r"differs in url, which"):
        engine.create({**edge, "url": "https://elsewhere.e2e.invalid", "adopt": True})


# ---------------------------------------------------------------- read


def test_unchanged_preview_makes_no_request(engine: Engine, sim: PortainerSim) -> None:
    id_, state = engine.create({"name": "quiet", "tag_ids": [], "public_url": ""})
    sim.clear_requests()
    assert engine.diff(id_, state, {"name": "quiet"}).changes is False
    assert sim.count() == 0


def test_read_is_one_snapshot_free_request(engine: Engine, sim: PortainerSim) -> None:
    id_, state = engine.create({"name": "reader"})
    sim.clear_requests()
    result = engine.p.read(id_, state)
    assert seen(sim) == [f"GET /api/endpoints/{id_}"] and sim.requests[0].query == {"excludeSnapshot": ["true"]}
    assert result.id == id_ and result.outs["status"] == "up"
    assert engine.p.diff(id_, dict(result.outs), engine.check(dict(result.inputs))).changes is False


def test_refresh_reports_changes_made_in_portainer(engine: Engine, sim: PortainerSim) -> None:
    group, tag = add_group(sim, "moved"), add_tag(sim, "t")
    declared = {"name": "drifty", "public_url": "10.0.0.1"}
    id_, state = engine.create(declared)
    stored = sim.endpoints[int(id_)]
    stored.update(
        Name="renamed",
        PublicURL="10.0.0.2",
        GroupId=group["Id"],
        TagIds=[tag["ID"]],
        Status=2,
        URL="tcp://10.0.0.9:2375",
    )
    result = engine.p.read(id_, state)
    assert {k: result.inputs[k] for k in ("name", "public_url", "group_id", "tag_ids", "url")} == {
        "name": "renamed",
        "public_url": "10.0.0.2",
        "group_id": group["Id"],
        "tag_ids": [tag["ID"]],
        "url": "tcp://10.0.0.9:2375",
    }
    assert result.outs["status"] == "down"
    diff = engine.diff(id_, dict(result.outs), declared)
    assert diff.changes and diff.replaces == []  # all of it changes back in place
    stored["TLSConfig"] = {"TLS": True, "TLSSkipVerify": True}
    result = engine.p.read(id_, state)
    assert result.inputs["tls"] is True and engine.diff(id_, dict(result.outs), declared).replaces == [
        "tls",
        "tls_skip_verify",
        "tls_skip_client_verify",
    ]


def test_edge_url_is_compared_on_its_host(engine: Engine, sim: PortainerSim) -> None:
    declared = {"name": "edge-r", "type": "edge", "url": EDGE_URL}
    id_, state = engine.create(declared)
    result = engine.p.read(id_, state)
    assert result.inputs["url"] == EDGE_URL  # Portainer keeps only "portainer.e2e.invalid"
    assert engine.p.diff(id_, dict(result.outs), engine.check(dict(result.inputs))).changes is False
    sim.endpoints[int(id_)]["URL"] = "other.e2e.invalid"
    result = engine.p.read(id_, state)
    assert result.inputs["url"] == "other.e2e.invalid"
    assert engine.diff(id_, dict(result.outs), declared).replaces == ["url"]
    sim.endpoints[int(id_)]["Heartbeat"] = True
    assert engine.p.read(id_, state).outs["status"] == "up"


def test_deleted_out_of_band_leaves_state(engine: Engine, sim: PortainerSim) -> None:
    id_, state = engine.create({"name": "gone"})
    del sim.endpoints[int(id_)]
    result = engine.p.read(id_, state)
    assert not result.id and result.outs == {}


# ---------------------------------------------------------------- update and replace


def test_update_in_place_through_the_json_route(engine: Engine, sim: PortainerSim) -> None:
    group, tag = add_group(sim, "g2"), add_tag(sim, "t2")
    id_, state = engine.create({"name": "edge-u", "type": "edge", "url": EDGE_URL})
    sim.clear_requests()
    news = {
        "name": "edge-u2",
        "type": "edge",
        "url": EDGE_URL,
        "public_url": "203.0.113.4",
        "group_id": group["Id"],
        "tag_ids": [tag["ID"]],
        "edge_checkin_interval": 30,
    }
    state = engine.up(id_, state, news)
    assert seen(sim) == [f"GET /api/endpoint_groups/{group['Id']}", "GET /api/tags", f"PUT /api/endpoints/{id_}"]
    assert json.loads(sim.requests[-1].body) == {
        "Name": "edge-u2",
        "PublicURL": "203.0.113.4",
        "GroupID": group["Id"],
        "TagIDs": [tag["ID"]],
        "EdgeCheckinInterval": 30,
    }
    stored = sim.endpoints[int(id_)]
    assert (stored["Name"], stored["GroupId"], stored["TagIds"], stored["EdgeCheckinInterval"]) == (
        "edge-u2",
        group["Id"],
        [tag["ID"]],
        30,
    )
    assert state["edge_key"] == stored["EdgeKey"]
    assert engine.diff(id_, state, news).changes is False
    sim.clear_requests()
    state = engine.up(id_, state, {"name": "edge-u2", "type": "edge", "url": EDGE_URL})
    assert json.loads(sim.requests[-1].body) == {"PublicURL": "", "GroupID": 1, "TagIDs": [], "EdgeCheckinInterval": 0}


def test_docker_url_changes_in_place(engine: Engine, sim: PortainerSim) -> None:
    id_, state = engine.create({"name": "mover"})
    sim.clear_requests()
    engine.up(id_, state, {"name": "mover", "url": "tcp://10.0.0.9:2375"})
    assert seen(sim) == [f"PUT /api/endpoints/{id_}"]
    assert json.loads(sim.requests[-1].body) == {"URL": "tcp://10.0.0.9:2375"}


def test_replace_triggers(engine: Engine, sim: PortainerSim) -> None:
    base = {"name": "r", "url": TCP, "tls": True, "tls_ca_cert": CA, "tls_cert": CERT, "tls_key": KEY}
    sim.reachable_urls.add(TCP)  # type: ignore[attr-defined]
    id_, state = engine.create(base)
    sim.clear_requests()
    other = pem("CERTIFICATE", "bmV3Y2E=")
    for change, replaced in (
        ({"type": "agent"}, ["type"]),
        ({"container_engine": "podman"}, ["container_engine"]),
        ({"tls_ca_cert": other}, ["tls_ca_cert"]),
        ({"tls_key": pem("PRIVATE KEY", "bmV3a2V5")}, ["tls_key"]),
        ({"tls_skip_verify": True, "tls_ca_cert": None}, ["tls_skip_verify", "tls_ca_cert"]),
        ({"name": "r2", "public_url": "x"}, []),
        ({"type": Unknown()}, ["type"]),
    ):
        diff = engine.diff(id_, state, {**base, **change})
        assert diff.changes and sorted(diff.replaces) == sorted(replaced), change
        assert diff.delete_before_replace
    off = engine.diff(id_, state, {"name": "r", "url": TCP})
    assert set(off.replaces) == {"tls", "tls_ca_cert", "tls_cert", "tls_key"}
    edge = {"name": "e", "type": "edge", "url": EDGE_URL}
    edge_id, edge_state = engine.create(edge)
    assert engine.diff(edge_id, edge_state, {**edge, "url": "https://other.e2e.invalid"}).replaces == ["url"]
    assert engine.diff(id_, state, {**base, "url": "tcp://10.9.8.6:2376"}).replaces == []
    assert sim.count("GET", r"/api/endpoints/\d+") == 0 and sim.count("PUT") == 0


# ---------------------------------------------------------------- delete


def test_delete_refuses_while_stacks_or_webhooks_remain(engine: Engine, lists: PortainerSim) -> None:
    sim = lists
    id_, state = engine.create({"name": "busy"})
    eid = int(id_)
    sim.stacks[901] = {"Id": 901, "Name": "web", "Type": 2, "EndpointId": eid, "SwarmId": ""}  # type: ignore[attr-defined]
    sim.stacks[902] = {"Id": 902, "Name": "other", "Type": 2, "EndpointId": 1, "SwarmId": ""}  # type: ignore[attr-defined]
    sim.webhooks[903] = {
        "Id": 903,
        "Token": "t",
        "ResourceId": "svc123",
        "EndpointId": eid,  # type: ignore[attr-defined]
        "RegistryId": 0,
        "Type": 1,
    }
    sim.clear_requests()
    with pytest.raises(PortainerError) as err:
        engine.p.delete(id_, state)
    text = str(err.value)
    assert text.startswith(
        f"delete Endpoint 'busy' (id {id_}): Portainer still lists stacks web (id 901) and "
        "service webhooks 903 (service svc123) on this environment; delete them first"
    )
    assert "other" not in text and eid in sim.endpoints
    assert seen(sim) == ["GET /api/stacks", "GET /api/webhooks", f"GET /api/endpoints/{id_}"]
    del sim.stacks[901], sim.webhooks[903]  # type: ignore[attr-defined]
    sim.clear_requests()
    engine.p.delete(id_, state)
    assert seen(sim) == ["GET /api/stacks", "GET /api/webhooks", f"DELETE /api/endpoints/{id_}"]
    assert eid not in sim.endpoints


def test_delete_of_already_gone(engine: Engine, lists: PortainerSim) -> None:
    sim = lists
    id_, state = engine.create({"name": "twice"})
    engine.p.delete(id_, state)
    sim.stacks[905] = {"Id": 905, "Name": "orphan", "Type": 2, "EndpointId": int(id_), "SwarmId": ""}  # type: ignore[attr-defined]
    sim.clear_requests()
    engine.p.delete(id_, state)  # orphaned stacks do not hold up an environment that is already gone
    assert seen(sim) == ["GET /api/stacks", "GET /api/webhooks", f"GET /api/endpoints/{id_}"]
    del sim.stacks[905]  # type: ignore[attr-defined]
    sim.clear_requests()
    engine.p.delete(id_, state)  # DELETE 404 confirmed by GET 404
    assert seen(sim)[-2:] == [f"DELETE /api/endpoints/{id_}", f"GET /api/endpoints/{id_}"]


# ---------------------------------------------------------------- secrets and lookups


def test_secrets_never_reach_error_text(engine: Engine, sim: PortainerSim) -> None:
    sim.reachable_urls.add(TCP)  # type: ignore[attr-defined]
    sim.inject(
        "POST",
        r"/api/endpoints",
        status=400,
        body={"message": "Invalid request payload", "details": f"bad key {KEY.strip()}"},
    )
    with pytest.raises(PortainerError) as err:
        engine.create({"name": "s", "url": TCP, "tls": True, "tls_skip_verify": True, "tls_cert": CERT, "tls_key": KEY})
    assert "[secret]" in str(err.value) and "PRIVATE KEY-----\n" not in str(err.value)
    assert KEY.strip() not in str(err.value)


def test_get_endpoint(sim: PortainerSim) -> None:
    conn = ConnectionArgs(url=sim.url, api_key=sim.api_key)
    found = get_endpoint(name="local", connection=conn)
    assert (found.id, found.endpoint_id, found.type, found.url, found.status) == ("1", 1, "docker", SOCKET, "up")
    assert found.group_id == 1 and found.tag_ids == [] and found.edge_id == ""
    with pytest.raises(LookupError, match=r"no Portainer environment named 'Local'"):
        get_endpoint(name="Local", connection=conn)  # names are case-sensitive


def test_edge_key_and_keys_are_secret_outputs_and_stay_out_of_logs(
    engine: Engine, sim: PortainerSim, caplog: pytest.LogCaptureFixture
) -> None:
    from pulumi_portainer.endpoint import SPEC

    assert {"tls_key", "azure_authentication_key", "edge_key"} <= set(SPEC.secret_outputs)
    caplog.set_level("DEBUG", logger="pulumi_portainer")
    id_, state = engine.create({"name": "edge-log", "type": "edge", "url": EDGE_URL})
    engine.p.read(id_, state)
    assert caplog.records and state["edge_key"] not in caplog.text


def test_stored_edge_kubernetes_type_maps_back_to_edge(engine: Engine, sim: PortainerSim) -> None:
    id_, state = engine.create({"name": "edge-k", "type": "edge", "url": EDGE_URL})
    sim.endpoints[int(id_)]["Type"] = 7
    result = engine.p.read(id_, state)
    assert result.inputs["type"] == "edge"
    assert engine.p.diff(id_, dict(result.outs), engine.check(dict(result.inputs))).changes is False


def test_simulator_answers_like_portainer(sim: PortainerSim) -> None:
    """The form validation and errors the provider relies on (reference §9)."""

    def post(*fields: tuple[str, Any]) -> httpx.Response:
        return httpx.post(sim.url + "/api/endpoints", headers={"X-API-Key": sim.api_key or ""}, files=list(fields))

    def text(name: str, value: str) -> tuple[str, Any]:
        return (name, (None, value))

    r = post(text("EndpointCreationType", "1"))
    assert (r.status_code, r.json()) == (
        400,
        {"message": "Invalid request payload", "details": "Invalid environment name"},
    )
    assert post(text("Name", "x")).json()["details"].startswith("Invalid environment type value")
    r = post(text("Name", "x"), text("EndpointCreationType", "1"), text("TagIds", "1,2"))
    assert r.json()["details"] == "Invalid TagIds parameter"
    r = post(text("Name", "x"), text("EndpointCreationType", "1"), text("URL", TCP), text("TLS", "true"))
    assert r.json()["details"] == "Invalid CA certificate file. Ensure that the file is uploaded correctly"
    r = post(text("Name", "local"), text("EndpointCreationType", "1"))
    assert (r.status_code, r.json()) == (409, {"message": "Name is not unique", "details": "Name is not unique"})
    r = post(text("Name", "e"), text("EndpointCreationType", "4"), text("URL", "https://localhost:9443"))
    assert (r.status_code, r.json()["message"]) == (400, "Unable to parse host")
    r = post(text("Name", "e"), text("EndpointCreationType", "4"))
    assert r.json()["details"] == "URL cannot be empty"
    r = post(text("Name", "d"), text("EndpointCreationType", "1"), text("URL", "tcp://10.0.0.1:2375"))
    assert (r.status_code, r.json()["message"]) == (500, "Unable to initiate communications with environment")
    r = httpx.put(sim.url + "/api/endpoints/1", headers={"X-API-Key": sim.api_key or ""}, json={"TagIDs": [55]})
    assert (r.status_code, r.json()["message"]) == (500, "Unable to find a tag inside the database")
    r = httpx.delete(sim.url + "/api/endpoint_groups/1", headers={"X-API-Key": sim.api_key or ""})
    assert r.status_code == 403


def test_tls_paths_are_read_in_the_program_process(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import pulumi

    from pulumi_portainer import Endpoint

    (tmp_path / "ca.pem").write_text(CA)
    (tmp_path / "key.pem").write_text(KEY)
    monkeypatch.chdir(tmp_path)
    captured: dict[str, Any] = {}

    class Mocks(pulumi.runtime.Mocks):
        def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
            captured.update(args.inputs)
            return "7", dict(args.inputs)

        def call(self, args: pulumi.runtime.MockCallArgs) -> Any:
            return {}

    pulumi.runtime.set_mocks(Mocks(), preview=False)

    @pulumi.runtime.test
    def program() -> Any:
        env = Endpoint(
            "tls",
            name="tls",
            url=TCP,
            tls=True,
            tls_ca_cert="ca.pem",
            tls_cert=pulumi.Output.from_input(CERT),
            tls_key=pulumi.Output.secret("key.pem"),
            connection=ConnectionArgs(url="http://127.0.0.1:9", api_key="ptr_mock_key_1"),
        )
        return env.urn.apply(lambda _: None)

    program()
    assert captured["tls_ca_cert"] == CA and captured["tls_cert"] == CERT
    assert captured["tls_key"]["value"] == KEY and "4dabf18193072939515e22adb298388d" in captured["tls_key"]  # secret


@pytest.mark.parametrize("version", ["2.24.1", "2.18.4"])
def test_lifecycle_on_older_servers(version: str) -> None:
    old = PortainerSim(version=version)
    old.start()
    try:
        engine = Engine(configured(EndpointProvider, old))
        id_, state = engine.create({"name": "e", "type": "edge", "url": EDGE_URL})
        assert old.endpoints[int(id_)]["Type"] == 4 and state["edge_key"]
        result = engine.p.read(id_, state)
        assert engine.p.diff(id_, dict(result.outs), engine.check(dict(result.inputs))).changes is False
        state = engine.up(id_, state, {"name": "e2", "type": "edge", "url": EDGE_URL})
        assert old.endpoints[int(id_)]["Name"] == "e2"
        with pytest.raises(PortainerError, match=r"cannot reach tcp://10.1.1.1:2375: HTTP 500"):
            engine.create({"name": "d", "url": "tcp://10.1.1.1:2375"})
        engine.p.delete(id_, state)
        assert int(id_) not in old.endpoints
    finally:
        old.stop()
        _http.reset_clients()
