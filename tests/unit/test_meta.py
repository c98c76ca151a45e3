"""Contract checks over every resource class the package exports."""

from __future__ import annotations

import base64
import dataclasses
import inspect
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pulumi
import pytest
from google.protobuf import json_format
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import mocks as pulumi_mocks

import pulumi_portainer
from pulumi_portainer._resource import PortainerResource

ROOT = Path(__file__).resolve().parents[2]
RESOURCES = [
    obj
    for name in pulumi_portainer.__all__
    if inspect.isclass(obj := getattr(pulumi_portainer, name)) and issubclass(obj, PortainerResource)
]
SECRET_NAME = re.compile(r"(password|secret|token|api_key|_key$|^key$)")
SECRET_SIG = "4dabf18193072939515e22adb298388d"
# a plain value for each secret-looking field, to prove it lands secret
PLAIN_INPUTS: dict[str, dict[str, Any]] = {
    "User": {"username": "meta-user", "password": "plain-text-password-1"},
    "Registry": {"name": "meta-registry", "url": "r.example", "username": "u", "password": "plain-registry-pw"},
    "CustomTemplate": {
        "title": "meta-template",
        "description": "d",
        "type": "standalone",
        "git": pulumi_portainer.CustomTemplateGitArgs(
            url="https://git.example/r.git", username="u", password="plain-git-password"
        ),
    },
    "Webhook": {"service_id": "meta-service", "endpoint_id": 1},
    "Endpoint": {
        "name": "meta-env",
        "type": "azure",
        "azure_application_id": "meta-app",
        "azure_tenant_id": "meta-tenant",
        "azure_authentication_key": "plain-azure-key-1",
        "tls_key": "-----BEGIN PRIVATE KEY-----\nbWV0YQ==\n-----END PRIVATE KEY-----\n",
    },
    "Stack": {
        "name": "meta-stack",
        "endpoint_id": 1,
        "git": {"url": "https://git.example/org/repo.git", "username": "bot", "password": "plain-git-password-1"},
    },
}


def test_there_are_resources_and_all_is_sorted() -> None:
    assert RESOURCES
    assert pulumi_portainer.__all__ == sorted(pulumi_portainer.__all__)
    for name in pulumi_portainer.__all__:
        assert getattr(pulumi_portainer, name).__doc__, f"{name} has no docstring"


@pytest.mark.parametrize("cls", RESOURCES, ids=lambda c: c.__name__)
def test_type_token_and_shape(cls: type[PortainerResource]) -> None:
    spec = cls._provider_class.spec
    assert spec.name == cls.__name__
    assert cls._resource_type_name == f"dynamic/portainer:{cls.__name__}"  # type: ignore[attr-defined]
    assert cls._provider_class.__module__.startswith("pulumi_portainer."), "provider must be importable"
    args_fields = {f.name for f in dataclasses.fields(cls._args_class)}
    assert args_fields == {f.name for f in spec.fields if not f.computed}
    params = set(inspect.signature(cls.__init__).parameters)
    assert args_fields | {"connection", "adopt", "args", "opts", "resource_name"} <= params
    assert spec.id_output in cls.__annotations__
    for field in spec.fields:
        assert field.doc.strip(), f"{cls.__name__}.{field.name} has no doc"
        assert field.name in (cls._args_class.__doc__ or ""), f"{field.name} missing from the Args docstring"
    assert callable(getattr(cls, "get", None))
    assert (ROOT / "examples" / cls.__name__.lower() / "Pulumi.yaml").exists(), "every resource has an example"


@pytest.mark.parametrize("cls", RESOURCES, ids=lambda c: c.__name__)
def test_secret_looking_fields_are_secret(cls: type[PortainerResource]) -> None:
    for field in cls._provider_class.spec.all_fields:
        if SECRET_NAME.search(field.name) and not field.computed:
            assert field.secret, f"{cls.__name__}.{field.name} looks secret but is not declared secret"


def _pickle_in_subprocess(seed: str) -> str:
    code = (
        "import sys; from pulumi.dynamic.dynamic import serialize_provider; import importlib;"
        "m, c = sys.argv[1].rsplit('.', 1); print(serialize_provider(getattr(importlib.import_module(m), c)()))"
    )
    out = []
    for cls in RESOURCES:
        target = f"{cls._provider_class.__module__}.{cls._provider_class.__name__}"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        run = subprocess.run([sys.executable, "-c", code, target], capture_output=True, text=True, env=env, check=True)
        out.append(run.stdout.strip())
    return "\n".join(out)


def test_providers_pickle_small_by_reference_and_deterministic() -> None:
    import dill

    for cls in RESOURCES:
        provider = cls._provider_class()
        blob = serialize_provider(provider)
        assert len(blob) < 200, "pickled by reference, holding nothing"
        loaded = dill.loads(base64.b64decode(blob))
        assert type(loaded) is cls._provider_class
    assert _pickle_in_subprocess("1") == _pickle_in_subprocess("2")


def test_configured_provider_still_pickles_without_credentials() -> None:
    from pulumi.dynamic import Config, ConfigureRequest

    for cls in RESOURCES:
        provider = cls._provider_class()
        blob_before = serialize_provider(cls._provider_class())
        provider.configure(ConfigureRequest(Config({"portainer:apiKey": "ptr_meta_SECRET"}, "p")))
        # what the program process pickles never went through configure
        assert "ptr_meta_SECRET" not in base64.b64decode(blob_before).decode("latin-1")


class Recording(pulumi_mocks.MockMonitor):
    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.raw: dict[str, Any] = {}

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802
        if request.type.startswith("pulumi-python:"):
            self.raw[request.name] = (
                json_format.MessageToDict(request.object),
                list(request.additionalSecretOutputs),
                request.type,
            )
        return super().RegisterResource(request)


class Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return "7", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> Any:
        return {}


@pytest.mark.parametrize("cls", RESOURCES, ids=lambda c: c.__name__)
def test_plain_secret_inputs_are_registered_secret(cls: type[PortainerResource]) -> None:
    monitor = Recording(Mocks())
    pulumi.runtime.set_mocks(Mocks(), preview=False, monitor=monitor)
    inputs = PLAIN_INPUTS[cls.__name__]
    conn = pulumi_portainer.ConnectionArgs(url="http://127.0.0.1:9", api_key="ptr_plain_key_123")

    @pulumi.runtime.test
    def program() -> Any:
        res = cls("meta", **inputs, connection=conn)
        return res.urn.apply(lambda _: None)

    program()
    obj, secret_outputs, typ = monitor.raw["meta"]
    assert typ == f"pulumi-python:dynamic/portainer:{cls.__name__}"
    spec = cls._provider_class.spec
    for field in spec.fields:
        if field.secret and field.name in inputs:
            assert obj[field.name].get(SECRET_SIG), f"{field.name} is not secret-wrapped"
            assert field.name in secret_outputs
        for key in field.secret_paths:
            nested = inputs.get(field.name)
            if nested is not None and getattr(nested, key, None) is not None and field.name != "connection":
                assert obj[field.name][key].get(SECRET_SIG), f"{field.name}.{key} is not secret-wrapped"
                assert field.name in secret_outputs
        if field.computed and field.secret:
            assert field.name in secret_outputs, f"computed {field.name} is not a secret output"
    assert obj["connection"]["api_key"].get(SECRET_SIG)
    assert obj["connection"]["url"].__class__ is not dict  # the URL stays readable
    assert "connection" in secret_outputs and "__connection" in secret_outputs
    assert obj["__provider"].get(SECRET_SIG)


def test_get_needs_a_recent_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    from pulumi_portainer import _resource

    monkeypatch.setattr(_resource, "_sdk_version", lambda: "3.216.0")
    with pytest.raises(RuntimeError, match=r"needs the Pulumi Python SDK 3\.272"):
        pulumi_portainer.User.get("x", "1")


@pytest.mark.parametrize("cls", RESOURCES, ids=lambda c: c.__name__)
def test_args_object_and_keywords_register_the_same_inputs(cls: type[PortainerResource]) -> None:
    """``Class(name, ClassArgs(...))`` (positional), ``args=ClassArgs(...)`` and keywords are one thing."""
    monitor = Recording(Mocks())
    pulumi.runtime.set_mocks(Mocks(), preview=False, monitor=monitor)
    inputs = PLAIN_INPUTS[cls.__name__]

    @pulumi.runtime.test
    def program() -> Any:
        a = cls("by-keywords", **inputs)
        b = cls("by-args", cls._args_class(**inputs))
        c = cls("by-args-keyword", args=cls._args_class(**inputs))
        return pulumi.Output.all(a.urn, b.urn, c.urn).apply(lambda _: None)

    program()
    shapes = []
    for name in ("by-keywords", "by-args", "by-args-keyword"):
        obj = dict(monitor.raw[name][0])
        obj.pop("__provider")
        shapes.append(json.dumps(obj, sort_keys=True))
    assert shapes[0] == shapes[1] == shapes[2]
