"""Connection settings: a resource's own ``connection`` as a whole, else stack config, else environment.

Nothing here talks to the network. Settings are validated when a resource first needs a connection, and
each error names both the stack-config key and the environment variable that set the value.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import Any, Optional
from urllib.parse import urlsplit

import pulumi

from .errors import ConfigError

# field -> (stack config key, environment variable)
SETTINGS: dict[str, tuple[str, str]] = {
    "url": ("portainer:url", "PORTAINER_URL"),
    "api_key": ("portainer:apiKey", "PORTAINER_API_KEY"),
    "username": ("portainer:username", "PORTAINER_USERNAME"),
    "password": ("portainer:password", "PORTAINER_PASSWORD"),
    "insecure_skip_verify": ("portainer:insecureSkipVerify", "PORTAINER_INSECURE_SKIP_VERIFY"),
    "ca_cert": ("portainer:caCert", "PORTAINER_CA_CERT"),
    "timeout": ("portainer:timeout", "PORTAINER_TIMEOUT"),
    "deploy_timeout": ("portainer:deployTimeout", "PORTAINER_DEPLOY_TIMEOUT"),
    "public_url": ("portainer:publicUrl", "PORTAINER_PUBLIC_URL"),
}
SECRET_SETTINGS = ("api_key", "password")
# Fields a resource's own connection inherits from the default one: they carry no credential.
INHERITED = ("insecure_skip_verify", "ca_cert", "timeout", "deploy_timeout")
ENDPOINT_ID_KEY = "portainer:endpointId"
DEFAULT_TIMEOUT = 30.0
DEFAULT_DEPLOY_TIMEOUT = 600.0


@dataclasses.dataclass
class ConnectionArgs:
    """How to reach a Portainer server. When given to a resource it is used as a whole: fields left out
    are not taken from stack config or the environment, except ``insecure_skip_verify``, ``ca_cert``,
    ``timeout`` and ``deploy_timeout``."""

    url: Optional[pulumi.Input[str]] = None
    """Base URL of Portainer, with or without ``/api``; it may carry a sub-path."""
    api_key: Optional[pulumi.Input[str]] = None
    """A ``ptr_...`` API key, sent as ``X-API-Key`` (secret)."""
    username: Optional[pulumi.Input[str]] = None
    """User name for a JWT login, instead of an API key."""
    password: Optional[pulumi.Input[str]] = None
    """Password for the JWT login (secret)."""
    insecure_skip_verify: Optional[pulumi.Input[bool]] = None
    """Skip TLS certificate verification (off by default)."""
    ca_cert: Optional[pulumi.Input[str]] = None
    """CA bundle: PEM text (starting with ``-----BEGIN``) or a file path."""
    timeout: Optional[pulumi.Input[float]] = None
    """Seconds allowed for ordinary requests (default 30)."""
    deploy_timeout: Optional[pulumi.Input[float]] = None
    """Seconds allowed for requests that deploy (default 600)."""
    public_url: Optional[pulumi.Input[str]] = None
    """Base URL used in webhook URLs handed to outsiders (default: ``url``)."""


@dataclasses.dataclass(frozen=True)
class Connection:
    """Resolved, validated settings of one connection. ``url`` is normalised (no ``/api``, no trailing
    slash); ``source`` is ``resource`` for a resource's own connection, else ``default``."""

    url: str
    api_key: Optional[str] = None
    username: Optional[str] = None
    password: Optional[str] = None
    insecure_skip_verify: bool = False
    ca_cert: Optional[str] = None
    timeout: float = DEFAULT_TIMEOUT
    deploy_timeout: float = DEFAULT_DEPLOY_TIMEOUT
    public_url: Optional[str] = None
    source: str = "default"

    def key(self) -> tuple[Any, ...]:
        """Identity of the connection for the one-client-per-connection registry."""
        return dataclasses.astuple(self)[:-1]

    def to_state(self) -> dict[str, Any]:
        """Plain mapping stored in outputs (secret as a whole)."""
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.api_key, self.password) if s)


def _where(field: str, source: str) -> str:
    key, env = SETTINGS[field]
    if source == "resource":
        return f"connection.{field}"
    return f"{key} (or {env})"


def _bool(value: Any, field: str, source: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("", "0", "false", "no", "off"):
        return False
    raise ConfigError(f"{_where(field, source)} must be true or false, not {value!r}")


def _seconds(value: Any, field: str, source: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = -1.0
    if number <= 0:
        raise ConfigError(f"{_where(field, source)} must be a positive number of seconds, not {value!r}")
    return number


def normalize_url(url: str, field: str = "url", source: str = "default") -> str:
    """Strip a trailing slash and a trailing ``/api``; refuse what cannot be a Portainer base URL."""
    text = str(url).strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"{_where(field, source)} must be an http:// or https:// URL with a host, "
            f"like https://portainer.example:9443, not {text!r}"
        )
    try:
        parts.port  # noqa: B018 - validates the port
    except ValueError:
        raise ConfigError(f"{_where(field, source)} has an invalid port: {text!r}") from None
    path = parts.path.rstrip("/")
    if path.endswith("/api"):
        path = path[: -len("/api")]
    return f"{parts.scheme}://{parts.netloc}{path}"


def _from_default(config: Mapping[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for field, (key, env) in SETTINGS.items():
        value = config.get(key)
        if value in (None, ""):
            value = environ.get(env)
        if value not in (None, ""):
            values[field] = value
    return values


def resolve(
    explicit: Optional[Mapping[str, Any]],
    config: Mapping[str, Any],
    environ: Optional[Mapping[str, str]] = None,
) -> Connection:
    """Resolve and validate one connection.

    ``explicit`` is a resource's ``connection`` input (a mapping of ``ConnectionArgs`` fields); when it
    holds any value it is used as a whole. ``config`` is the stack config the provider received in
    ``configure``.
    """
    environ = os.environ if environ is None else environ
    default = _from_default(config, environ)
    given = {k: v for k, v in (explicit or {}).items() if k in SETTINGS and v not in (None, "")}
    if given:
        source = "resource"
        values = dict(given)
        for field in INHERITED:
            if field not in values and field in default:
                values[field] = default[field]
    else:
        source = "default"
        values = default

    if "url" not in values:
        if source == "resource":
            raise ConfigError("connection.url is required when a resource sets its own connection")
        raise ConfigError(
            "no Portainer URL: set it with `pulumi config set portainer:url https://HOST:9443` "
            "or the PORTAINER_URL environment variable"
        )
    url = normalize_url(values["url"], "url", source)
    api_key = values.get("api_key")
    username = values.get("username")
    password = values.get("password")
    if api_key and (username or password):
        raise ConfigError(
            f"both an API key ({_where('api_key', source)}) and a username/password "
            f"({_where('username', source)}, {_where('password', source)}) are set: keep only one"
        )
    if not api_key and not (username and password):
        if username or password:
            missing = "password" if username else "username"
            raise ConfigError(f"{_where(missing, source)} is missing: a login needs both username and password")
        raise ConfigError(
            f"no Portainer credentials: set an API key with {_where('api_key', source)}, "
            f"or {_where('username', source)} and {_where('password', source)}"
        )
    public_url = values.get("public_url")
    return Connection(
        url=url,
        api_key=str(api_key) if api_key else None,
        username=str(username) if username else None,
        password=str(password) if password else None,
        insecure_skip_verify=_bool(values.get("insecure_skip_verify", False), "insecure_skip_verify", source),
        ca_cert=str(values["ca_cert"]) if values.get("ca_cert") else None,
        timeout=_seconds(values.get("timeout", DEFAULT_TIMEOUT), "timeout", source),
        deploy_timeout=_seconds(values.get("deploy_timeout", DEFAULT_DEPLOY_TIMEOUT), "deploy_timeout", source),
        public_url=normalize_url(public_url, "public_url", source) if public_url else None,
        source=source,
    )


def from_state(state: Mapping[str, Any]) -> Connection:
    """Rebuild a connection stored in a resource's outputs."""
    fields = {f.name for f in dataclasses.fields(Connection)}
    return Connection(**{k: v for k, v in state.items() if k in fields})


def default_endpoint_id(config: Mapping[str, Any]) -> Optional[int]:
    """``portainer:endpointId`` from stack config only (never the environment)."""
    value = config.get(ENDPOINT_ID_KEY)
    if value in (None, ""):
        return None
    try:
        return int(str(value))
    except ValueError:
        raise ConfigError(f"{ENDPOINT_ID_KEY} must be an integer environment id, not {value!r}") from None
