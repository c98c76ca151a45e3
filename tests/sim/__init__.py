"""Portainer CE simulator for tests (standard library only)."""

from .server import (
    Envelope,
    Handler,
    PortainerSim,
    Recorded,
    Result,
    Route,
    SimError,
    SimRequest,
    error,
    field,
    go_json,
    parse_id,
    vtuple,
)

__all__ = [
    "Envelope",
    "Handler",
    "PortainerSim",
    "Recorded",
    "Result",
    "Route",
    "SimError",
    "SimRequest",
    "error",
    "field",
    "go_json",
    "parse_id",
    "vtuple",
]
