"""The generic resource: ``*Args`` or keyword arguments -> props, secret wrapping, computed outputs,
timeouts, ``get``. Each resource class is a thin subclass that passes its type token."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any, ClassVar, Optional, TypeVar

import pulumi
import pulumi.dynamic

from ._provider import PortainerProvider, Spec
from .config import ConnectionArgs

_R = TypeVar("_R", bound="PortainerResource")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|m|s)")


def parse_duration(text: Optional[str]) -> Optional[float]:
    """``"1h30m"``, ``"90s"``, ``"5m"`` -> seconds (Pulumi's custom-timeout strings)."""
    if not text:
        return None
    total = 0.0
    for number, unit in _DURATION.findall(text):
        total += float(number) * {"h": 3600, "m": 60, "s": 1}[unit]
    return total or None


def _timeouts(opts: Optional[pulumi.ResourceOptions]) -> Optional[dict[str, float]]:
    custom = getattr(opts, "custom_timeouts", None) if opts else None
    if custom is None:
        return None
    values = {op: parse_duration(getattr(custom, op, None)) for op in ("create", "update", "delete")}
    values["read"] = values.get("update")
    return {k: v for k, v in values.items() if v} or None


def _secret(value: Any) -> Any:
    return None if value is None else pulumi.Output.secret(value)


def _plain_args(value: Any) -> Any:
    """Nested ``*Args`` dataclasses as mappings (Pulumi serializes mappings, not dataclasses)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.fields(value)
        return {f.name: _plain_args(getattr(value, f.name)) for f in fields if getattr(value, f.name) is not None}
    if isinstance(value, Mapping):
        return {k: _plain_args(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_args(v) for v in value]
    return value


def _args_dict(args: Any) -> dict[str, Any]:
    if args is None:
        return {}
    if dataclasses.is_dataclass(args) and not isinstance(args, type):
        return {f.name: getattr(args, f.name) for f in dataclasses.fields(args)}
    if isinstance(args, Mapping):
        return dict(args)
    raise TypeError(f"args must be an *Args instance or a mapping, not {type(args).__name__}")


def document(args_class: type, spec: Spec) -> None:
    """Write the argument docs of ``args_class`` from the field table (one source for every doc)."""
    lines = [args_class.__doc__ or f"Arguments of {spec.name}.", "", "Args:"]
    for field in spec.fields:
        if not field.computed:
            lines.append(f"    {field.name}: {field.doc}")
    outputs = [f"    {field.name}: {field.doc}" for field in spec.fields if field.computed]
    if outputs:
        lines += ["", f"Outputs of {spec.name} beyond the inputs:", *outputs]
    args_class.__doc__ = "\n".join(lines)


class PortainerResource(pulumi.dynamic.Resource):
    """Base of every pulumi_portainer resource."""

    _provider_class: ClassVar[type[PortainerProvider]]
    _args_class: ClassVar[type]

    def __init__(
        self,
        resource_name: str,
        args: Any = None,
        opts: Optional[pulumi.ResourceOptions] = None,
        *,
        connection: Optional[ConnectionArgs] = None,
        adopt: bool = False,
        **kwargs: Any,
    ) -> None:
        spec = self._provider_class.spec
        values = _args_dict(args)
        values.update({k: v for k, v in kwargs.items() if v is not None})
        known = {f.name for f in spec.fields if not f.computed}
        unknown = sorted(set(values) - known)
        if unknown:
            raise TypeError(f"{spec.name} got unexpected argument(s): {', '.join(unknown)}")
        values = self._prepare({k: _plain_args(v) for k, v in values.items()})
        props: dict[str, Any] = {}
        for field in spec.fields:
            if field.computed:
                props[field.name] = None
                continue
            value = values.get(field.name)
            props[field.name] = _secret(value) if field.secret else _wrap_nested(value, field.secret_paths)
        props["connection"] = _wrap_nested(_args_dict(connection) or None, ("api_key", "password"))
        props["adopt"] = adopt
        props["custom_timeouts"] = _timeouts(opts)
        props["portainer_url"] = None
        props["portainer_instance_id"] = None
        props[spec.id_output] = None
        secret_outputs = spec.secret_outputs
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=secret_outputs))
        super().__init__(self._provider_class(), resource_name, props, opts)

    def _prepare(self, values: dict[str, Any]) -> dict[str, Any]:
        """Work done in the program process: a ``file_path`` source is read here, relative to the
        program's working directory (the provider never opens user paths); its content is what Pulumi
        stores and compares. Resources with more local inputs extend this."""
        path = values.get("file_path")
        if path is None:
            return values
        if values.get("file_content") is not None:
            name = self._provider_class.spec.name
            raise TypeError(f"{name} takes one source: file_content or file_path (or git), not both")
        content = read_local(path) if isinstance(path, str) else pulumi.Output.from_input(path).apply(read_local)
        return dict(values, file_content=content)

    @classmethod
    def get(
        cls: type[_R],
        resource_name: str,
        id: pulumi.Input[str],
        opts: Optional[pulumi.ResourceOptions] = None,
        connection: Optional[ConnectionArgs] = None,
    ) -> _R:
        """Read an existing object by its Portainer id without managing it: it is never updated or
        deleted by Pulumi (Pulumi SDK 3.272+; use ``adopt=True`` to manage an existing object)."""
        version = tuple(int(p) for p in re.findall(r"\d+", _sdk_version())[:2])
        if version < (3, 272):
            raise RuntimeError(
                f"{cls.__name__}.get needs the Pulumi Python SDK 3.272 or later (this is {_sdk_version()}); "
                "upgrade pulumi, or use adopt=True"
            )
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(id=id))
        return cls(resource_name, opts=opts, connection=connection)


def read_local(path: Optional[str]) -> Optional[str]:
    """A local text file's content, or None when it cannot be read (``check`` then names the input)."""
    if path is None:
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError):
        return None


def _wrap_nested(value: Any, paths: tuple[str, ...]) -> Any:
    if not paths or not isinstance(value, Mapping):
        return value
    return {k: (_secret(v) if k in paths else v) for k, v in value.items() if v is not None} or None


def _sdk_version() -> str:
    from importlib.metadata import version

    return version("pulumi")


# ---------------------------------------------------------------- lookups (program process)


def program_client(connection: Optional[ConnectionArgs] = None) -> tuple[Any, Any]:
    """A client and the server's info for a lookup that runs now, in the program process: the given
    connection as a whole, else stack config (``portainer:*``), else the environment."""
    from . import _compat
    from ._http import client_for
    from .config import SETTINGS, resolve

    config: dict[str, Any] = {}
    try:
        portainer = pulumi.Config("portainer")
        for key, _env in SETTINGS.values():
            value = portainer.get(key.split(":", 1)[1])
            if value is not None:
                config[key] = value
    except Exception:  # noqa: BLE001 - outside a Pulumi program there is no config: use the environment
        config = {}
    client = client_for(resolve(_args_dict(connection) or None, config))
    return client, _compat.server_info(client)
