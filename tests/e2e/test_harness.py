"""The harness's Docker engine for real: Debian's dockerd on a private socket (installed only in CI or
when asked), a loopback-tagged busybox image made with `docker import`, and swarm on loopback; the
recipe a local Portainer runs on."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from tests.harness import local

SWARM_FILE = f'version: "3.8"\nservices:\n  web:\n    image: {local.IMAGE_TAG}\n    command: ["/bin/sleep", "600"]\n'


@pytest.fixture(scope="module")
def docker() -> Iterator[local.Docker]:
    started_before = local._pid_alive(local.STATE / "dockerd.pid") is not None
    try:
        engine = local.docker_engine(install=os.environ.get("CI") == "true")
    except local.MissingPiece as exc:
        pytest.fail(str(exc), pytrace=False)
    yield engine
    if engine.own and not started_before:
        local.stop_docker()  # by the PID it recorded


def test_engine_runs_an_imported_image_offline(docker: local.Docker) -> None:
    image = local.test_image(docker)
    assert image.startswith("127.0.0.1:")  # never a Docker Hub name: no lookup leaves the machine
    out = docker("run", "--rm", image, "/bin/echo", "hello from the harness").stdout.decode()
    assert out.strip() == "hello from the harness"


def test_swarm_stack_deploys_from_the_local_image(docker: local.Docker, tmp_path) -> None:  # type: ignore[no-untyped-def]
    local.test_image(docker)
    assert docker("info", "--format", "{{.Swarm.LocalNodeState}}").stdout.decode().strip() == "active"
    stack_file = tmp_path / "stack.yml"
    stack_file.write_text(SWARM_FILE)
    docker("stack", "deploy", "--with-registry-auth", "-c", str(stack_file), "pp-probe")
    try:
        deadline = time.monotonic() + 60
        while (
            "1/1"
            not in docker("service", "ls", "--filter", "name=pp-probe_web", "--format", "{{.Replicas}}").stdout.decode()
        ):
            assert time.monotonic() < deadline, "the swarm service did not start from the local image"
            time.sleep(1)
    finally:
        docker("stack", "rm", "pp-probe", check=False)
