"""The generic provider: check, diff, create, read, update and delete driven by a field table and a few
per-resource hooks. Instances hold no state in the program process (they are pickled by reference into
``__provider``); ``configure`` runs only in the provider process and records the stack config there.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar, Optional

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)
from pulumi.output import Unknown

from . import _compat
from ._http import EMPTY_BODY, Client, client_for, redact, register_secret
from .config import ENDPOINT_ID_KEY, SETTINGS, Connection, default_endpoint_id, from_state, resolve
from .errors import APIError, ConfigError, InstanceMismatchError, PortainerError, TransportError

Fail = Callable[[str, str], None]

# ---------------------------------------------------------------- the field table


@dataclasses.dataclass(frozen=True)
class Field:
    """One declared property of a resource.

    ``replace``: a change (or an unknown value) replaces the object; ``secret``: wrapped in
    ``Output.secret`` by the resource and listed in ``additional_secret_outputs``; ``secret_paths``: the
    same for keys nested in an object input; ``write_only``: never read back from Portainer, copied from
    state on refresh; ``computed``: an output only; ``diffed``: false for inputs that never cause an
    update (``adopt``, timeouts); ``choices``: allowed values; ``normalize``: applied in ``check`` to known
    values, so state, diff and refresh compare the same form.
    """

    name: str
    doc: str
    type: str = "str"  # str | int | bool | number | map | list | object
    required: bool = False
    default: Any = None
    replace: bool = False
    secret: bool = False
    secret_paths: tuple[str, ...] = ()
    write_only: bool = False
    computed: bool = False
    diffed: bool = True
    choices: tuple[str, ...] = ()
    normalize: Optional[Callable[[Any], Any]] = None


COMMON = (
    Field(
        "connection",
        "How to reach Portainer for this resource only (a ConnectionArgs); used as a whole instead of the "
        "stack config. A change is an in-place update that re-checks the server's InstanceID.",
        type="object",
        secret_paths=("api_key", "password"),
    ),
    Field(
        "adopt",
        "Take over an object that already exists in Portainer with the same identity instead of failing "
        "with a conflict (default false). Never diffed.",
        type="bool",
        default=False,
        diffed=False,
    ),
    Field(
        "custom_timeouts",
        "Seconds per operation copied from opts.custom_timeouts (the engine does not pass them to dynamic "
        "providers). Never diffed.",
        type="object",
        diffed=False,
    ),
    Field("portainer_url", "URL of the Portainer server the object was created on.", computed=True),
    Field("portainer_instance_id", "InstanceID of the Portainer server the object was created on.", computed=True),
)
CONNECTION_STATE = "__connection"  # resolved connection used last (hidden, secret)


@dataclasses.dataclass(frozen=True)
class Spec:
    """A resource declared as data: its class name, id output, noun, identity field and fields."""

    name: str
    id_output: str
    noun: str
    label: str  # the input that names the object in messages
    fields: tuple[Field, ...]
    deploys: frozenset[str] = frozenset()  # operations that use the deploy timeout

    @property
    def all_fields(self) -> tuple[Field, ...]:
        return self.fields + COMMON

    @property
    def inputs(self) -> tuple[Field, ...]:
        return tuple(f for f in self.all_fields if not f.computed)

    @property
    def outputs(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.all_fields if f.computed) + (self.id_output,)

    @property
    def secret_outputs(self) -> list[str]:
        names = [f.name for f in self.all_fields if f.secret or f.secret_paths]
        return names + [CONNECTION_STATE]


# ---------------------------------------------------------------- value helpers


def is_unknown(value: Any) -> bool:
    if isinstance(value, Unknown):
        return True
    if isinstance(value, Mapping):
        return any(is_unknown(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(is_unknown(v) for v in value)
    return False


def plain(value: Any) -> Any:
    """Wire form to Python form: integral floats become ints (numbers cross the wire as floats)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def empty(value: Any) -> bool:
    return value is None or value == "" or value == {} or value == []


def canonical(value: Any) -> Any:
    """The form two values are compared in: absent, null and empty are equal."""
    value = plain(value)
    if isinstance(value, Mapping):
        value = {k: canonical(v) for k, v in sorted(value.items()) if not empty(canonical(v))}
    elif isinstance(value, list):
        value = [canonical(v) for v in value]
    return None if empty(value) else value


def same(old: Any, new: Any) -> bool:
    return bool(canonical(old) == canonical(new))


def as_int(value: Any) -> int:
    """Ints, integral floats and numeric strings; anything else raises ValueError."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(value)
        return int(value)
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if not text.lstrip("-").isdigit():
        raise ValueError(value)
    return int(text)


def _coerce(field: Field, value: Any) -> Any:
    kind = field.type
    if kind == "str":
        if isinstance(value, (dict, list)):
            raise ValueError("must be a string")
        return str(value)
    if kind == "int":
        try:
            return as_int(value)
        except ValueError:
            raise ValueError(f"must be an integer, not {value!r}") from None
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "false"):
            return str(value).lower() == "true"
        raise ValueError(f"must be true or false, not {value!r}")
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
            raise ValueError(f"must be a number, not {value!r}")
        return plain(value)
    if kind in ("map", "object"):
        if not isinstance(value, Mapping):
            raise ValueError("must be a mapping")
        return plain(dict(value))
    if kind == "list":
        if not isinstance(value, (list, tuple)):
            raise ValueError("must be a list")
        return plain(list(value))
    raise AssertionError(kind)


def password_rule(field: str, value: Any, fail: Fail, warn_below: int = 12) -> None:
    """Short passwords are a warning (empty ones fail in ``check``; the server's minimum is authoritative)."""
    if value is None or is_unknown(value):
        return
    if len(str(value)) < warn_below:
        print(
            f"warning: {field} is shorter than {warn_below} characters, Portainer's default minimum; "
            "the server will refuse it unless its minimum was lowered",
            file=sys.stderr,
            flush=True,
        )


# ---------------------------------------------------------------- the provider


@dataclasses.dataclass
class Ctx:
    """Everything one operation needs: the client, what the server is, and the operation's deadline."""

    client: Client
    info: _compat.ServerInfo
    conn: Connection
    deadline: float

    def remaining(self) -> float:
        return self.deadline - time.monotonic()


class PortainerProvider(ResourceProvider):
    """Generic CRUD flow; subclasses set ``spec`` and implement the hooks below."""

    spec: ClassVar[Spec]
    _config: dict[str, Any]

    # -- hooks

    def validate(self, inputs: dict[str, Any], fail: Fail) -> None:
        """Extra offline validation of known inputs."""

    def find(self, ctx: Ctx, inputs: dict[str, Any]) -> Optional[dict[str, Any]]:
        """The existing object with the same identity, or None (one lookup)."""
        raise NotImplementedError

    def create_object(self, ctx: Ctx, inputs: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def read_object(self, ctx: Ctx, id_: str) -> Optional[dict[str, Any]]:
        """The object, or None when Portainer says it does not exist."""
        raise NotImplementedError

    def read_live(self, ctx: Ctx, id_: str, state: Mapping[str, Any]) -> Optional[dict[str, Any]]:
        """The object for a refresh, given the stored outputs (default: ``read_object``)."""
        return self.read_object(ctx, id_)

    def live_inputs(self, ctx: Ctx, obj: dict[str, Any], state: Mapping[str, Any]) -> dict[str, Any]:
        """Declared inputs as Portainer holds them, in the program's shape."""
        raise NotImplementedError

    def computed(self, ctx: Ctx, obj: dict[str, Any], inputs: Mapping[str, Any]) -> dict[str, Any]:
        """Computed outputs beyond the id."""
        return {}

    def update_object(
        self, ctx: Ctx, id_: str, olds: Mapping[str, Any], news: dict[str, Any], changed: set[str]
    ) -> dict[str, Any]:
        raise NotImplementedError

    def delete_object(self, ctx: Ctx, id_: str, state: Mapping[str, Any]) -> None:
        raise NotImplementedError

    def object_id(self, obj: Mapping[str, Any]) -> int:
        return int(obj["Id"])

    # -- plumbing

    def configure(self, req: ConfigureRequest) -> None:
        keys = [key for key, _env in SETTINGS.values()] + [ENDPOINT_ID_KEY]
        self._config = {key: value for key in keys if (value := req.config.get(key)) is not None}

    @property
    def config(self) -> dict[str, Any]:
        return getattr(self, "_config", {})

    def _declared(self, props: Mapping[str, Any]) -> dict[str, Any]:
        return {f.name: props[f.name] for f in self.spec.inputs if f.name in props}

    def _label(self, props: Mapping[str, Any]) -> str:
        value = props.get(self.spec.label)
        return "<unknown>" if value is None or is_unknown(value) else str(value)

    @contextlib.contextmanager
    def _operation(self, operation: str, props: Mapping[str, Any], id_: Optional[str] = None) -> Iterator[None]:
        """Turn any PortainerError into one sentence naming the operation, class, name and id."""
        try:
            yield
        except PortainerError as exc:
            where = f" (id {id_})" if id_ else ""
            text = redact(f"{operation} {self.spec.name} '{self._label(props)}'{where}: {exc}")
            raise PortainerError(text) from None

    def _deadline(self, props: Mapping[str, Any], operation: str, conn: Connection) -> float:
        timeouts = props.get("custom_timeouts") or {}
        seconds = timeouts.get(operation)
        if not seconds:
            seconds = conn.deploy_timeout if operation in self.spec.deploys else conn.timeout
        return time.monotonic() + float(seconds)

    def _connection(self, props: Mapping[str, Any], operation: str) -> Connection:
        explicit = props.get("connection") or None
        stored = props.get(CONNECTION_STATE)
        try:
            return resolve(explicit, self.config)
        except ConfigError:
            # read and delete see only state: fall back to the connection stored there
            if stored and operation in ("read", "delete"):
                return from_state(stored)
            raise

    def _ctx(self, props: Mapping[str, Any], operation: str, state: Optional[Mapping[str, Any]] = None) -> Ctx:
        conn = self._connection(props, operation)
        client = client_for(conn)
        info = _compat.server_info(client)
        expected = (state or props).get("portainer_instance_id")
        if expected and info.instance_id != expected:
            created_on = (state or props).get("portainer_url", "?")
            raise InstanceMismatchError(
                f"the connection reaches Portainer instance {info.instance_id} at {conn.url}, but this "
                f"{self.spec.noun} lives on instance {expected} (created at {created_on}); point the "
                "connection back at that server, or remove the resource from state with `pulumi state "
                "delete` (or recreate it with `pulumi up --replace`)"
            )
        return Ctx(client, info, conn, self._deadline(props, operation, conn))

    def _fallback_ctx(self, ctx: Ctx, props: Mapping[str, Any], operation: str) -> Optional[Ctx]:
        """After a 401 with a resource's stored credentials: the current default credentials, if they
        reach the same instance."""
        if ctx.conn.source != "resource":
            return None
        try:
            conn = resolve(None, self.config)
        except ConfigError:
            return None
        client = client_for(conn)
        info = _compat.server_info(client)
        if info.instance_id != ctx.info.instance_id:
            return None
        return Ctx(client, info, conn, ctx.deadline)

    def _retrying_401(self, ctx: Ctx, props: Mapping[str, Any], operation: str, fn: Callable[[Ctx], Any]) -> Any:
        try:
            return fn(ctx)
        except APIError as exc:
            if exc.status != 401:
                raise
            other = self._fallback_ctx(ctx, props, operation)
            if other is None:
                raise
            return fn(other)

    def _outputs(
        self,
        ctx: Ctx,
        obj: Optional[dict[str, Any]],
        inputs: Mapping[str, Any],
        base: Optional[Mapping[str, Any]] = None,
    ) -> dict[str, Any]:
        """Full outputs: declared inputs, computed values (kept from ``base`` when ``obj`` is None), the
        id, and where the object lives."""
        outs = {k: v for k, v in (base or {}).items() if k != "__provider"}
        outs.update(inputs)
        if obj is not None:
            outs.update(self.computed(ctx, obj, inputs))
            outs[self.spec.id_output] = self.object_id(obj)
        outs["portainer_url"] = ctx.conn.url
        outs["portainer_instance_id"] = ctx.info.instance_id
        outs[CONNECTION_STATE] = ctx.conn.to_state()
        return outs

    def _changed(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
        return [
            f.name
            for f in self.spec.inputs
            if f.diffed and (is_unknown(news.get(f.name)) or not same(olds.get(f.name), news.get(f.name)))
        ]

    # -- ResourceProvider

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures: list[CheckFailure] = []

        def fail(prop: str, reason: str) -> None:
            failures.append(CheckFailure(prop, reason))

        inputs: dict[str, Any] = {}
        for field in self.spec.inputs:
            value = news.get(field.name)
            if is_unknown(value):
                inputs[field.name] = value
                continue
            if field.name == "endpoint_id" and empty(value):
                try:
                    value = default_endpoint_id(self.config)
                except ConfigError as exc:
                    fail(field.name, str(exc))
            if value == "" and field.secret:
                fail(field.name, f"{field.name} must not be empty: leave it out instead")
                continue
            if empty(value) and field.default is not None:
                value = field.default
            if empty(value):
                if field.required:
                    fail(field.name, f"{field.name} is required: {field.doc}")
                continue
            try:
                value = _coerce(field, value)
            except ValueError as exc:
                fail(field.name, f"{field.name} {exc}")
                continue
            if field.choices and value not in field.choices:
                fail(field.name, f"{field.name} must be one of {', '.join(field.choices)}, not {value!r}")
                continue
            if field.normalize is not None:
                try:
                    value = field.normalize(value)
                except ValueError as exc:
                    fail(field.name, f"{field.name} {exc}")
                    continue
            inputs[field.name] = value
        connection = inputs.get("connection")
        if isinstance(connection, Mapping) and not is_unknown(connection) and any(connection.values()):
            try:
                resolve(connection, {}, {})
            except ConfigError as exc:
                fail("connection", str(exc))
        if not failures:
            self.validate(inputs, fail)
        for field in self.spec.inputs:
            if field.secret and isinstance(inputs.get(field.name), str):
                register_secret(inputs[field.name])
        return CheckResult(inputs, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = self._changed(olds, news)
        replaces = [f.name for f in self.spec.inputs if f.replace and f.name in changed]
        return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=True)

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = plain(self._declared(props))
        with self._operation("create", inputs):
            ctx = self._ctx(inputs, "create")
            found = self.find(ctx, inputs)
            if found is not None:
                if not inputs.get("adopt"):
                    raise APIError(
                        409,
                        "POST",
                        "(identity lookup)",
                        f"a {self.spec.noun} named {self._label(inputs)!r} already exists in Portainer "
                        f"(id {self.object_id(found)}); set adopt=True to manage it with Pulumi, or choose "
                        f"another {self.spec.label}",
                    )
                obj = self._adopt(ctx, found, inputs)
            else:
                obj = self._create_confirmed(ctx, inputs)
            return CreateResult(str(self.object_id(obj)), self._outputs(ctx, obj, inputs))

    def _create_confirmed(self, ctx: Ctx, inputs: dict[str, Any]) -> dict[str, Any]:
        """Create; after an ambiguous failure look the object up until the deadline. The identity lookup
        before the create found nothing, so an object found now appeared after the request was sent."""
        try:
            return self.create_object(ctx, inputs)
        except (TransportError, APIError) as exc:
            ambiguous = (isinstance(exc, TransportError) and exc.sent) or (
                isinstance(exc, APIError) and (exc.status >= 500 or exc.message == EMPTY_BODY)
            )
            if not ambiguous:
                raise
            pause = 0.25
            while True:
                found = self.find(ctx, inputs)
                if found is not None:
                    return found
                if ctx.remaining() <= pause:
                    raise exc from None
                time.sleep(pause)
                pause = min(pause * 2, 5.0)

    def _adopt(self, ctx: Ctx, found: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
        live = self.live_inputs(ctx, found, {})
        changed = {
            f.name
            for f in self.spec.fields
            if not f.computed
            and f.diffed
            and (
                f.write_only
                and not empty(inputs.get(f.name))
                or not f.write_only
                and not same(live.get(f.name), inputs.get(f.name))
            )
        }
        if not changed:
            return found
        return self.update_object(ctx, str(self.object_id(found)), live, inputs, changed)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        props = plain(props)
        with self._operation("read", props, id_):
            ctx = self._ctx(props, "read")
            obj = self._retrying_401(ctx, props, "read", lambda c: self.read_live(c, id_, props))
            if obj is None:
                return ReadResult(None, {})
            live = self.live_inputs(ctx, obj, props)
            inputs: dict[str, Any] = {}
            for field in self.spec.inputs:
                if field.write_only or not field.diffed or field.name == "connection":
                    value = props.get(field.name)
                else:
                    value = live.get(field.name)
                if field.name in props or not empty(value):
                    inputs[field.name] = value
            outs = self._outputs(ctx, obj, inputs, props)
            return ReadResult(id_, outs, {k: v for k, v in inputs.items() if v is not None})

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        olds, inputs = plain(olds), plain(self._declared(news))
        with self._operation("update", inputs, id_):
            ctx = self._ctx(inputs, "update", state=olds)
            changed = set(self._changed(olds, inputs)) - {"connection"}
            if not changed:  # only the connection: InstanceID re-checked above, store the new one
                return UpdateResult(self._outputs(ctx, None, inputs, olds))
            obj = self.update_object(ctx, id_, olds, inputs, changed)
            return UpdateResult(self._outputs(ctx, obj, inputs, olds))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        props = plain(props)
        with self._operation("delete", props, id_):
            ctx = self._ctx(props, "delete")

            def remove(c: Ctx) -> None:
                try:
                    self.delete_object(c, id_, props)
                except APIError as exc:
                    # a 404 may be about something else than the object: confirm it is gone
                    if exc.status == 404 and not exc.route_missing and self.read_object(c, id_) is None:
                        return
                    raise

            self._retrying_401(ctx, props, "delete", remove)


def get_or_none(client: Client, path: str, **kw: Any) -> Optional[dict[str, Any]]:
    """GET an object; None on a Portainer 404 about it (a route-missing 404 still raises)."""
    try:
        body = client.get(path, **kw)
    except APIError as exc:
        if exc.status == 404 and not exc.route_missing:
            return None
        raise
    return body if isinstance(body, dict) else None
