"""Tests of the test guards: the egress guard refuses a non-loopback connection and name lookup."""

from __future__ import annotations

import socket

import pytest

from tests import conftest


def test_egress_guard_refuses_and_records_non_loopback() -> None:
    before = len(conftest.violations)
    with socket.socket() as sock, pytest.raises(ConnectionRefusedError, match="egress guard"):
        sock.connect(("192.0.2.10", 80))  # TEST-NET-1: refused before any packet is sent
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo("portainer.e2e.invalid", 443)
    assert len(conftest.violations) == before + 2
    del conftest.violations[before:]  # recorded as expected; the autouse check would fail this test


def test_egress_guard_allows_loopback() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=2):
            pass
