"""Portainer under Pulumi's control: stacks, registries, users, webhooks, custom templates and
environments as Pulumi dynamic resources on one shared HTTP client."""

from .config import ConnectionArgs
from .errors import APIError, ConfigError, InstanceMismatchError, PortainerError, TransportError
from .status import GetStatusResult, get_status, get_status_output
from .user import GetUserResult, User, UserArgs, get_user, get_user_output

__all__ = [
    "APIError",
    "ConfigError",
    "ConnectionArgs",
    "GetStatusResult",
    "GetUserResult",
    "InstanceMismatchError",
    "PortainerError",
    "TransportError",
    "User",
    "UserArgs",
    "get_status",
    "get_status_output",
    "get_user",
    "get_user_output",
]
