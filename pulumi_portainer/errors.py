"""One root error with a branch per cause.

``PortainerError`` is what callers catch. ``APIError`` is Portainer answering with an error status (or an
unusable body); ``TransportError`` is the request not completing; ``ConfigError`` is a setting that cannot
work; ``InstanceMismatchError`` is a connection that reaches a different Portainer than the one a resource
was created on. Every message is already redacted: no credential ever appears in ``str(error)``.
"""

from __future__ import annotations


class PortainerError(Exception):
    """Root of every error raised by pulumi_portainer."""


class ConfigError(PortainerError):
    """A connection setting is missing, conflicting or malformed; the message names the setting."""


class InstanceMismatchError(PortainerError):
    """The connection reaches another Portainer instance than the one that holds the object."""


class APIError(PortainerError):
    """Portainer answered with an error status, or a 2xx without the body the route must return.

    ``message`` and ``details`` come from Portainer's JSON envelope when there is one; ``route_missing`` is
    true for a plain-text 404 (no such route on this server version), which is the only 404 that may
    trigger a version fallback.
    """

    def __init__(
        self,
        status: int,
        method: str,
        path: str,
        message: str,
        details: str = "",
        *,
        route_missing: bool = False,
    ) -> None:
        self.status = status
        self.method = method
        self.path = path
        self.message = message
        self.details = details
        self.route_missing = route_missing
        text = f"HTTP {status} {method} {path}: {message}"
        if details and details.lower() != message.lower():
            text += f": {details}"
        super().__init__(text)


class TransportError(PortainerError):
    """The request did not complete: refused, DNS, TLS, timeout, or the connection dropped.

    ``sent`` is false when the failure happened before the request could reach the server (so any
    method may be retried) and true when the server may have acted on it.
    """

    def __init__(self, method: str, path: str, reason: str, *, sent: bool, url: str = "") -> None:
        self.method = method
        self.path = path
        self.reason = reason
        self.sent = sent
        where = f" ({url})" if url else ""
        super().__init__(f"{method} {path}{where}: {reason}")
