"""Test-wide guards: no test's Python side may reach a non-loopback address (nor resolve a name that is
not local), and warnings are errors (pyproject)."""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo
violations: list[str] = []
_lock = threading.Lock()
LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def _loopback(host: Any) -> bool:
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return str(host).lower() in LOCAL_NAMES


def _check(sock: socket.socket, address: Any) -> None:
    if sock.family == getattr(socket, "AF_UNIX", None):
        return
    host = address[0] if isinstance(address, tuple) else address
    if not _loopback(host):
        with _lock:
            violations.append(f"connect to {address!r}")
        raise ConnectionRefusedError(f"egress guard: tests may only connect to loopback, not {address!r}")


def _connect(self: socket.socket, address: Any) -> None:
    _check(self, address)
    _real_connect(self, address)


def _connect_ex(self: socket.socket, address: Any) -> int:
    _check(self, address)
    return _real_connect_ex(self, address)


def _getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if host is not None and not _loopback(host if not isinstance(host, bytes) else host.decode()):
        with _lock:
            violations.append(f"name lookup of {host!r}")
        raise socket.gaierror(socket.EAI_NONAME, f"egress guard: no name lookups outside loopback ({host!r})")
    return _real_getaddrinfo(host, *args, **kwargs)


def install_guard() -> None:
    socket.socket.connect = _connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = _getaddrinfo


def pytest_configure(config: pytest.Config) -> None:
    install_guard()


@pytest.fixture(autouse=True)
def egress_guard() -> Iterator[None]:
    """Fail the test if its Python side tried to leave loopback, even if the error was swallowed."""
    with _lock:
        start = len(violations)
    yield
    with _lock:
        new = violations[start:]
    if new:
        pytest.fail("egress guard: " + "; ".join(new), pytrace=False)
