"""The Portainer server itself: version and InstanceID (``/api/system/status``)."""

from __future__ import annotations

import dataclasses
from typing import Optional

import pulumi

from ._resource import program_client
from .config import ConnectionArgs


@dataclasses.dataclass(frozen=True)
class GetStatusResult:
    """What the server reports about itself."""

    version: str
    instance_id: str
    url: str


def get_status(connection: Optional[ConnectionArgs] = None) -> GetStatusResult:
    """Version and InstanceID of the Portainer server, now."""
    client, info = program_client(connection)
    return GetStatusResult(info.version, info.instance_id, client.conn.url)


def get_status_output(connection: Optional[ConnectionArgs] = None) -> pulumi.Output[GetStatusResult]:
    """``get_status`` as an Output."""
    return pulumi.Output.from_input(0).apply(lambda _: get_status(connection))
