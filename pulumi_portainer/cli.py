"""The ``pulumi-portainer`` command (also ``python -m pulumi_portainer``): operations that are not desired
state (product §6), on the shared client.

Settings come from flags, then the environment, then (with ``--stack NAME [--cwd DIR]``) the Pulumi
stack's config read through the Automation API. Secrets never come from a flag value: a file
(``--password-file``), an environment variable, the stack's secret config, or a prompt when stdin is a
terminal; without a terminal and without a source the command fails at once. Errors are one line on
stderr, redacted of every secret; exit status 0 on success, 1 on failure, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import json
import os
import shutil
import socket
import ssl
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from typing import IO, Any, Optional, TextIO
from urllib.parse import urlsplit

from . import _compat
from ._http import Client, redact, register_secret
from .config import SETTINGS, Connection, normalize_url, resolve
from .errors import APIError, ConfigError, PortainerError, TransportError

PROG = "pulumi-portainer"
BACKUP_PASSWORD_ENV = "PORTAINER_BACKUP_PASSWORD"
ENDPOINT_ID_ENV = "PORTAINER_ENDPOINT_ID"
ENDPOINT_ID_KEY = "portainer:endpointId"
MiB = 1024 * 1024
ALREADY_INITIALISED = "Cannot restore already initialized instance"
RESTORE_REMEDY = (
    "restore only works on a fresh Portainer that has no administrator yet and started less than 5 minutes "
    "ago: start a new Portainer with an empty data volume and run restore before creating an admin"
)

# flag name of each connection setting that may come from a flag (secrets never do)
FLAGS = {
    "url": "--url",
    "username": "--username",
    "ca_cert": "--ca-cert",
    "insecure_skip_verify": "--insecure-skip-verify",
    "timeout": "--timeout",
}


class CliError(PortainerError):
    """A failure the command reports as one line."""


# ---------------------------------------------------------------- terminal and secrets


def _interactive() -> bool:
    """Prompts happen only when stdin is a terminal."""
    stdin = sys.stdin
    return stdin is not None and stdin.isatty()


def _read_secret_file(path: str, flag: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise CliError(f"cannot read {flag} {path}: {exc.strerror or exc}") from None
    value = text.rstrip("\r\n")
    if not value:
        raise CliError(f"{flag} {path} is empty")
    register_secret(value)
    return value


def _prompt(text: str) -> str:
    value = getpass.getpass(text)
    register_secret(value)
    return value


# ---------------------------------------------------------------- settings


def load_stack_config(stack: str, cwd: str) -> dict[str, str]:
    """All config of a Pulumi stack (secrets decrypted), through the Automation API and the pulumi CLI."""
    if shutil.which("pulumi") is None:
        raise CliError(
            f"--stack {stack} needs the pulumi CLI on PATH to read the stack's config "
            "(install it from https://www.pulumi.com/docs/install/), or pass the settings as flags or environment"
        )
    from pulumi import automation as auto

    try:
        selected = auto.select_stack(stack_name=stack, work_dir=cwd)
        values = selected.get_all_config()
    except auto.errors.CommandError as exc:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip().lower().startswith("error:")]
        reason = lines[0] if lines else str(exc).strip().splitlines()[-1]
        raise CliError(f"cannot read the config of stack {stack!r} in {cwd}: {redact(reason)}") from None
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot read the config of stack {stack!r} in {cwd}: {exc}") from None
    config = {key: str(item.value) for key, item in values.items()}
    register_secret(*(str(item.value) for item in values.values() if item.secret))
    return config


@dataclasses.dataclass
class Settings:
    """Connection settings gathered from flags, environment and stack config, with where each came from."""

    values: dict[str, str]
    where: dict[str, str]
    stack: dict[str, str]
    environ: Mapping[str, str]

    @classmethod
    def gather(cls, args: argparse.Namespace, environ: Mapping[str, str]) -> Settings:
        stack = load_stack_config(args.stack, args.cwd) if args.stack else {}
        flags = {
            "url": args.url,
            "username": args.username,
            "ca_cert": args.ca_cert,
            "insecure_skip_verify": "true" if args.insecure_skip_verify else None,
            "timeout": args.timeout,
        }
        values: dict[str, str] = {}
        where: dict[str, str] = {}
        for field, (key, env) in SETTINGS.items():
            for value, origin in (
                (flags.get(field), FLAGS.get(field, "")),
                (environ.get(env), env),
                (stack.get(key), f"{key} of stack {args.stack}"),
            ):
                if value not in (None, ""):
                    values[field], where[field] = str(value), origin
                    break
        register_secret(*(values[k] for k in ("api_key", "password") if k in values))
        return cls(values, where, stack, environ)

    def config(self, fields: Sequence[str]) -> dict[str, str]:
        """The chosen fields as a stack-config mapping for ``config.resolve``."""
        return {SETTINGS[f][0]: self.values[f] for f in fields if f in self.values}

    def url(self) -> str:
        if "url" not in self.values:
            raise CliError("no Portainer URL: pass --url, set PORTAINER_URL, or use --stack with portainer:url set")
        try:
            return normalize_url(self.values["url"], "url")
        except ConfigError as exc:  # name where the URL came from
            raise CliError(str(exc).replace("portainer:url (or PORTAINER_URL)", self.where["url"])) from None

    def endpoint_id(self, flag: Optional[int]) -> tuple[int, str]:
        for value, origin in (
            (flag, "--endpoint-id"),
            (self.environ.get(ENDPOINT_ID_ENV), ENDPOINT_ID_ENV),
            (self.stack.get(ENDPOINT_ID_KEY), ENDPOINT_ID_KEY),
        ):
            if value not in (None, ""):
                try:
                    return int(str(value)), origin
                except ValueError:
                    raise CliError(f"{origin} must be an integer environment id, not {value!r}") from None
        return 1, "default"

    def public(self) -> Connection:
        """URL and TLS settings without credentials (status, restore)."""
        self.url()
        plain = ("url", "insecure_skip_verify", "ca_cert", "timeout", "deploy_timeout")
        conn = resolve(None, {**self.config(plain), "portainer:apiKey": "none"}, environ={})
        return dataclasses.replace(conn, api_key=None)

    def login(self, password_file: Optional[str], *, allow_api_key: bool) -> Connection:
        """Credentials: an API key (when allowed), else username and password; the password from
        ``--password-file``, the environment or stack config, else a prompt on a terminal."""
        url = self.url()
        fields = ["url", "insecure_skip_verify", "ca_cert", "timeout", "deploy_timeout"]
        if allow_api_key and "api_key" in self.values and not password_file:
            return resolve(None, self.config([*fields, "api_key"]), environ={})
        username = self.values.get("username")
        if not username:
            key = " (or PORTAINER_API_KEY)" if allow_api_key else ""
            raise CliError(
                f"no credentials: pass --username (or set PORTAINER_USERNAME) with a password{key}, "
                "or use --stack with them in its config"
            )
        password = _read_secret_file(password_file, "--password-file") if password_file else self.values.get("password")
        if not password:
            if not _interactive():
                raise CliError(
                    f"no password for {username!r} and no terminal to ask on: pass --password-file FILE "
                    "or set PORTAINER_PASSWORD"
                )
            password = _prompt(f"Portainer password for {username} at {url}: ")
            if not password:
                raise CliError("no password given")
        config = {**self.config(fields), "portainer:username": username, "portainer:password": password}
        return resolve(None, config, environ={})


def _archive_password(args: argparse.Namespace, environ: Mapping[str, str], *, confirm: bool) -> str:
    """The backup archive's password; empty only with --no-encryption or an empty answer at the prompt."""
    if args.no_encryption:
        return ""
    if args.password_file:
        return _read_secret_file(args.password_file, "--password-file")
    if environ.get(BACKUP_PASSWORD_ENV):
        register_secret(environ[BACKUP_PASSWORD_ENV])
        return environ[BACKUP_PASSWORD_ENV]
    if not _interactive():
        raise CliError(
            f"no archive password and no terminal to ask on: pass --password-file FILE, set {BACKUP_PASSWORD_ENV}, "
            "or pass --no-encryption"
        )
    password = _prompt("Archive password (empty for none): ")
    if password and confirm and _prompt("Repeat the archive password: ") != password:
        raise CliError("the two passwords differ")
    return password


# ---------------------------------------------------------------- progress


def _size(count: float) -> str:
    return f"{count / MiB:.1f} MiB"


class Progress:
    """Transfer progress on stderr: one updating line on a terminal, else a line every ``step`` bytes."""

    def __init__(self, label: str, total: Optional[int], *, quiet: bool, stream: Optional[TextIO] = None) -> None:
        self.label, self.total, self.quiet = label, total, quiet
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.done = 0
        self.started = time.monotonic()
        self.shown_at = 0.0
        self.step = max(total // 10, 8 * MiB) if total else 64 * MiB  # small transfers: no log lines
        self.next_line = self.step

    def text(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        part = f"{_size(self.done)}"
        if self.total:
            part += f" of {_size(self.total)} ({100 * self.done // self.total}%)"
        return f"{self.label}: {part}, {_size(self.done / elapsed)}/s"

    def add(self, count: int) -> None:
        self.done += count
        if self.quiet:
            return
        now = time.monotonic()
        if self.tty:
            if now - self.shown_at >= 0.2:
                self.shown_at = now
                self.stream.write("\r" + self.text() + "   ")
                self.stream.flush()
        elif self.done >= self.next_line:
            self.next_line = (self.done // self.step + 1) * self.step
            self.stream.write(self.text() + "\n")
            self.stream.flush()

    def finish(self) -> float:
        elapsed = time.monotonic() - self.started
        if not self.quiet and self.tty:
            self.stream.write("\r" + self.text() + "   \n")
            self.stream.flush()
        return elapsed


class _ProgressReader:
    """A file read by requests-toolbelt's MultipartEncoder in pieces (``len`` is what is left), reporting
    each piece to a ``Progress``: the upload streams from disk."""

    def __init__(self, handle: IO[bytes], progress: Progress) -> None:
        self.handle, self.progress = handle, progress
        self.size = os.fstat(handle.fileno()).st_size

    def rewind(self) -> _ProgressReader:
        self.handle.seek(0)
        self.progress.done = 0
        return self

    @property
    def len(self) -> int:
        return self.size - self.handle.tell()

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size if size is not None and size >= 0 else -1)
        self.progress.add(len(data))
        return data


# ---------------------------------------------------------------- shared steps


def _public_status(client: Client) -> dict[str, Any]:
    """``/api/system/status`` (``/api/status`` on ≤ 2.16), without credentials."""
    try:
        body = client.get("/system/status", auth=False)
    except APIError as exc:
        if not exc.route_missing:
            raise
        body = client.get("/status", auth=False)
    if not isinstance(body, dict):
        raise CliError(f"{client.conn.url} answered /api/system/status without a status object: is it Portainer?")
    return body


def _info(body: Mapping[str, Any]) -> _compat.ServerInfo:
    return _compat.ServerInfo(str(body.get("Version", "")), str(body.get("InstanceID", "")))


def _current_user(client: Client, info: _compat.ServerInfo, username: Optional[str]) -> dict[str, Any]:
    """The caller's user object: ``/users/me`` on 2.20+, else found by name in the (admin-only) list."""
    if _compat.has_users_me(info):
        return dict(client.get("/users/me"))
    users = client.get("/users")
    folded = (username or "").casefold()
    for user in users:
        if str(user.get("Username", "")).casefold() == folded:
            return dict(user)
    raise CliError(f"user {username!r} is not in Portainer's user list")


# ---------------------------------------------------------------- commands


def cmd_status(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    conn = settings.public()
    client = Client(conn)
    try:
        started = time.monotonic()
        try:
            body = _public_status(client)
        except TransportError as exc:
            raise CliError(f"Portainer at {conn.url} is not reachable: {exc.reason}") from None
        rtt = (time.monotonic() - started) * 1000
        info = _info(body)
        try:
            _compat.check_supported(info, conn.url)
            supported = "yes"
        except _compat.UnsupportedVersionError:
            supported = "no (pulumi_portainer needs Portainer CE 2.14 or later)"
        edition = None
        if args.edition:
            edition_client = Client(settings.login(None, allow_api_key=True))
            try:
                version = edition_client.get("/system/version")
                edition = str(version.get("ServerEdition") or "CE (not reported before 2.24)")
            finally:
                edition_client.close()
    finally:
        client.close()
    if args.json:
        data: dict[str, Any] = {
            "url": conn.url,
            "reachable": True,
            "version": info.version,
            "instanceId": info.instance_id,
            "roundTripMs": round(rtt, 1),
            "supported": supported == "yes",
        }
        if edition is not None:
            data["edition"] = edition
        out.write(json.dumps(data) + "\n")
        return 0
    out.write(f"url:         {conn.url}\n")
    out.write(f"reachable:   yes (round trip {rtt:.0f} ms)\n")
    out.write(f"version:     {info.version}\n")
    out.write(f"instance id: {info.instance_id}\n")
    out.write(f"supported:   {supported}\n")
    if edition is not None:
        out.write(f"edition:     {edition}\n")
    return 0


class _Doctor:
    def __init__(self, out: TextIO) -> None:
        self.out, self.failed = out, False

    def ok(self, name: str, text: str) -> None:
        self.out.write(f"ok    {name}: {text}\n")

    def fail(self, name: str, text: str) -> None:
        self.failed = True
        self.out.write(f"FAIL  {name}: {redact(text)}\n")

    def skip(self, name: str, text: str) -> None:
        self.failed = True
        self.out.write(f"skip  {name}: {text}\n")


def cmd_doctor(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    doc = _Doctor(out)
    names = ("tcp", "tls", "status", "credentials", "environment")
    try:
        conn = settings.public()
    except (CliError, ConfigError) as exc:
        doc.fail("url", str(exc))
        for name in names:
            doc.skip(name, "needs a valid URL")
        return 1
    doc.ok("url", f"{conn.url} ({settings.where['url']})")
    parts = urlsplit(conn.url)
    host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=conn.timeout):
            pass
        doc.ok("tcp", f"connected to {host}:{port}")
    except OSError as exc:
        doc.fail(
            "tcp",
            f"cannot connect to {host}:{port} ({exc.strerror or exc}): check that Portainer runs there and that "
            f"the URL ({settings.where['url']}) names its API port",
        )
        for name in names[1:]:
            doc.skip(name, "needs a TCP connection")
        return 1
    if not _check_tls(doc, conn, host, port):
        for name in names[2:]:
            doc.skip(name, "needs a trusted TLS connection")
        return 1
    client = Client(conn)
    try:
        info = _check_status(doc, client)
    finally:
        client.close()
    if info is None:
        for name in names[3:]:
            doc.skip(name, "needs a supported Portainer answering /api/system/status")
        return 1
    try:
        login = settings.login(args.password_file, allow_api_key=True)
    except (CliError, ConfigError) as exc:
        doc.fail("credentials", str(exc))
        doc.skip("environment", "needs valid credentials")
        return 1
    client = Client(login)
    try:
        if _check_credentials(doc, client, info, login):
            _check_environment(doc, client, *settings.endpoint_id(args.endpoint_id))
        else:
            doc.skip("environment", "needs valid credentials")
    finally:
        client.close()
    return 1 if doc.failed else 0


def _check_tls(doc: _Doctor, conn: Connection, host: str, port: int) -> bool:
    if not conn.url.startswith("https://"):
        doc.ok("tls", "not used (http URL)")
        return True
    from ._http import _verify

    verify = _verify(conn)
    if verify is False:
        doc.ok("tls", "certificate not checked (insecureSkipVerify is set; for testing only)")
        return True
    context = verify if isinstance(verify, ssl.SSLContext) else ssl.create_default_context()
    try:
        with socket.create_connection((host, port), timeout=conn.timeout) as raw:
            with context.wrap_socket(raw, server_hostname=host) as tls:
                version = tls.version()
    except ssl.SSLCertVerificationError as exc:
        doc.fail(
            "tls",
            f"the server's certificate is not trusted ({exc.verify_message}): set --ca-cert, PORTAINER_CA_CERT or "
            "portainer:caCert to the CA that signed it (or, for testing only, portainer:insecureSkipVerify)",
        )
        return False
    except (ssl.SSLError, OSError) as exc:
        doc.fail("tls", f"TLS handshake with {host}:{port} failed ({exc}): is this port serving HTTPS?")
        return False
    where = "the configured CA" if conn.ca_cert else "the system CAs"
    doc.ok("tls", f"{version}, certificate trusted by {where}")
    return True


def _check_status(doc: _Doctor, client: Client) -> Optional[_compat.ServerInfo]:
    try:
        info = _info(_public_status(client))
        _compat.check_supported(info, client.conn.url)
    except _compat.UnsupportedVersionError as exc:
        doc.fail("status", str(exc))
        return None
    except (PortainerError, ValueError) as exc:
        doc.fail("status", f"{exc}: is this URL a Portainer server (its base, with or without /api)?")
        return None
    doc.ok("status", f"Portainer {info.version}, instance {info.instance_id}")
    return info


def _check_credentials(doc: _Doctor, client: Client, info: _compat.ServerInfo, conn: Connection) -> bool:
    try:
        if conn.api_key and not _compat.has_users_me(info):
            client.get("/users")  # admin only before 2.20, where /users/me does not exist
            doc.ok("credentials", "API key accepted; it can list users, so it belongs to an administrator")
            return True
        user = _current_user(client, info, conn.username)
    except APIError as exc:
        if exc.status == 403 and conn.api_key:
            doc.fail("credentials", "the API key's user is not an administrator: use an administrator's key")
        else:
            doc.fail("credentials", str(exc))
        return False
    except PortainerError as exc:
        doc.fail("credentials", str(exc))
        return False
    kind = "API key" if conn.api_key else "login"
    name = f"{user.get('Username')!r} (id {user.get('Id')})"
    if user.get("Role") != 1:
        doc.fail(
            "credentials",
            f"{kind} of {name} works, but that user is not an administrator: managing users, environments and "
            "registries needs one; use an administrator's credentials",
        )
        return False
    doc.ok("credentials", f"{kind} of {name}, an administrator")
    return True


def _check_environment(doc: _Doctor, client: Client, endpoint_id: int, origin: str) -> None:
    label = f"environment {endpoint_id} ({origin})"
    try:
        endpoint = client.get(f"/endpoints/{endpoint_id}")
    except APIError as exc:
        if exc.status != 404:
            doc.fail("environment", f"{label}: {exc}")
            return
        try:
            known = ", ".join(f"{e['Id']} ({e['Name']})" for e in client.get("/endpoints")) or "none"
        except PortainerError:
            known = "unknown"
        doc.fail(
            "environment",
            f"{label} does not exist: set portainer:endpointId (or PORTAINER_ENDPOINT_ID, --endpoint-id) to one "
            f"of: {known}",
        )
        return
    except PortainerError as exc:
        doc.fail("environment", f"{label}: {exc}")
        return
    name = endpoint.get("Name")
    if endpoint.get("Status") == 2:
        doc.fail(
            "environment",
            f"{label} {name!r} is down: Portainer cannot reach it at {endpoint.get('URL')}; start its Docker "
            "engine or agent, or choose another environment",
        )
        return
    doc.ok("environment", f"{label} {name!r} is up")


def cmd_api_key(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    description = args.description
    if not description.strip() or len(description.encode()) >= 128:
        raise CliError("--description must be non-blank and shorter than 128 bytes")
    conn = settings.login(args.password_file, allow_api_key=False)
    client = Client(conn)
    try:
        info = _compat.server_info(client)
        user = _current_user(client, info, conn.username)
        uid = int(user["Id"])
        body = client.post(f"/users/{uid}/tokens", json=_compat.token_payload(info, description, str(conn.password)))
    finally:
        client.close()
    key = body.get("rawAPIKey") if isinstance(body, dict) else None
    if not key:
        raise CliError(f"Portainer {info.version} created no API key (its answer had no rawAPIKey)")
    if args.quiet:
        out.write(f"{key}\n")
        return 0
    out.write(f"API key {description!r} for {conn.username!r} (id {uid}) on {conn.url}:\n{key}\n")
    sys.stderr.write(
        "Store it as a secret: `pulumi config set --secret portainer:apiKey` (paste the key when asked), "
        "or use `--quiet` to print only the key\n"
    )
    return 0


def cmd_backup(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    target = os.path.abspath(args.out)
    if os.path.exists(target) and not args.force:
        raise CliError(f"{args.out} already exists: choose another --out, or pass --force to overwrite it")
    folder = os.path.dirname(target)
    if not os.path.isdir(folder):
        raise CliError(f"the folder of --out {args.out} does not exist")
    password = _archive_password(args, settings.environ, confirm=True)
    conn = settings.login(None, allow_api_key=True)
    client = Client(conn)
    fd, partial = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", suffix=".partial", dir=folder)
    try:
        with os.fdopen(fd, "wb") as sink:
            info = _compat.server_info(client)
            progress = Progress("backup", None, quiet=args.quiet)

            def write(chunk: bytes) -> None:
                sink.write(chunk)
                progress.add(len(chunk))

            deadline = time.monotonic() + args.transfer_timeout if args.transfer_timeout else None
            size = client.download("/backup", json={"password": password}, sink=write, deadline=deadline)
        elapsed = progress.finish()
        os.replace(partial, target)
    except BaseException:
        if os.path.exists(partial):
            os.unlink(partial)
        raise
    finally:
        client.close()
    kind = "encrypted" if password else "unencrypted"
    out.write(
        f"backed up Portainer {info.version} (instance {info.instance_id}) to {args.out}: "
        f"{_size(size)} in {elapsed:.1f} s, {kind}\n"
    )
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    path = args.file
    if not os.path.isfile(path):
        raise CliError(f"{path} is not a file")
    password = _archive_password(args, settings.environ, confirm=False)
    conn = settings.public()
    client = Client(conn)
    try:
        try:
            before = _info(_public_status(client))
            _compat.check_supported(before, conn.url)
            client.get("/users/admin/check", auth=False, expect_json=False)
            initialised = True
        except APIError as exc:
            if exc.status == 303:  # Portainer's admin-initialisation timeout
                raise CliError(
                    f"Portainer at {conn.url} has waited more than 5 minutes for an administrator and now refuses "
                    "every request: restart it, then run restore within 5 minutes"
                ) from None
            if exc.status != 404 or exc.route_missing:
                raise
            initialised = False
        if initialised:
            raise CliError(f"Portainer at {conn.url} refused the restore: {ALREADY_INITIALISED}; {RESTORE_REMEDY}")
        with open(path, "rb") as handle:
            progress = Progress("upload", os.fstat(handle.fileno()).st_size, quiet=args.quiet)
            reader = _ProgressReader(handle, progress)
            name = os.path.basename(path)
            deadline = time.monotonic() + args.transfer_timeout if args.transfer_timeout else None
            try:
                client.post(
                    "/restore",
                    multipart=lambda: [("file", (name, reader.rewind(), "application/gzip")), ("password", password)],
                    expect_json=False,
                    auth=False,
                    deploy=True,
                    deadline=deadline,
                )
            except APIError as exc:
                if exc.message == ALREADY_INITIALISED:
                    raise CliError(
                        f"Portainer at {conn.url} refused the restore: {exc.message}; {RESTORE_REMEDY}"
                    ) from None
                raise
            progress.finish()
        after = _wait_restarted(client, args.wait)
    finally:
        client.close()
    out.write(
        f"restored {path} to {conn.url}: Portainer {after.version}, instance id {after.instance_id}; "
        "log in with an administrator of the backup\n"
    )
    return 0


def _wait_restarted(client: Client, wait: float) -> _compat.ServerInfo:
    """Portainer restarts its HTTP server after a restore: wait until it answers again, with an admin."""
    deadline = time.monotonic() + wait
    last = "no answer yet"
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise CliError(
                f"the archive was uploaded, but Portainer at {client.conn.url} did not come back within {wait:g} s "
                f"({last}); check its logs, then `{PROG} status`"
            )
        step = time.monotonic() + min(remaining, client.conn.timeout)
        try:
            info = _info(_public_status_until(client, step))
            client.get("/users/admin/check", auth=False, expect_json=False, deadline=step)
            return info
        except APIError as exc:
            last = str(exc)
        except TransportError as exc:
            last = exc.reason
        time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))


def _public_status_until(client: Client, deadline: float) -> dict[str, Any]:
    body = client.get("/system/status", auth=False, deadline=deadline)
    if not isinstance(body, dict):
        raise CliError("Portainer answered /api/system/status without a status object")
    return body


# ---------------------------------------------------------------- argument parsing


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (its ``--help`` is the command's reference)."""
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group(
        "connection",
        "Each setting comes from its flag, else its environment variable, else the --stack config. Credentials "
        "are never flags: PORTAINER_API_KEY / portainer:apiKey, or a username with PORTAINER_PASSWORD / "
        "portainer:password / --password-file (where the command has it) / a prompt when stdin is a terminal.",
    )
    group.add_argument("--url", help="Portainer base URL (PORTAINER_URL, portainer:url)")
    group.add_argument("--username", help="user for a password login (PORTAINER_USERNAME, portainer:username)")
    group.add_argument(
        "--ca-cert", metavar="PEM_OR_PATH", help="CA bundle to trust (PORTAINER_CA_CERT, portainer:caCert)"
    )
    group.add_argument(
        "--insecure-skip-verify",
        action="store_true",
        help="skip TLS verification, for testing only (PORTAINER_INSECURE_SKIP_VERIFY, portainer:insecureSkipVerify)",
    )
    group.add_argument(
        "--timeout", metavar="SECONDS", help="seconds per ordinary request (PORTAINER_TIMEOUT, portainer:timeout)"
    )
    group.add_argument(
        "--stack", metavar="NAME", help="read settings not given otherwise from this Pulumi stack's config"
    )
    group.add_argument("--cwd", metavar="DIR", default=".", help="the Pulumi project directory of --stack")

    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Portainer operations that are not desired state: status, checks, API keys, backup, restore.",
        epilog=f"Run `{PROG} COMMAND --help` for each command's options.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    status = sub.add_parser(
        "status",
        parents=[common],
        help="version, instance id, reachability and round-trip time (no credentials needed)",
        description="Show the server's version, instance id, reachability and round-trip time.",
    )
    status.add_argument(
        "--edition",
        action="store_true",
        help="also show the edition from /api/system/version (needs credentials; the server contacts the "
        "internet and may take 5 s offline)",
    )
    status.add_argument("--json", action="store_true", help="print one JSON object")

    doctor = sub.add_parser(
        "doctor",
        parents=[common],
        help="check URL, TCP, TLS, version, credentials and the default environment",
        description="Check, one line each: the URL parses; TCP connects; TLS is trusted with the configured CA; "
        "/api/system/status answers with a supported version; the credentials work and belong to an "
        "administrator; the default environment exists and is up. Exit 0 only when all pass.",
    )
    doctor.add_argument("--password-file", metavar="FILE", help="read the login password from FILE")
    doctor.add_argument(
        "--endpoint-id",
        type=int,
        metavar="ID",
        help=f"environment to check ({ENDPOINT_ID_ENV}, {ENDPOINT_ID_KEY}; default 1)",
    )

    api_key = sub.add_parser(
        "api-key",
        parents=[common],
        help="log in with username and password and print a new API key",
        description="Log in with username and password and create an API key for that user.",
        epilog="Example: pulumi-portainer api-key --url https://portainer:9443 --username admin --quiet "
        "| pulumi config set --secret portainer:apiKey",
    )
    api_key.add_argument("--password-file", metavar="FILE", help="read the login password from FILE")
    api_key.add_argument(
        "--description", default="pulumi-portainer", help="the key's description (default %(default)s)"
    )
    api_key.add_argument("--quiet", "-q", action="store_true", help="print only the key")

    def archive_options(command: argparse.ArgumentParser, verb: str) -> None:
        choice = command.add_mutually_exclusive_group()
        choice.add_argument(
            "--password-file",
            metavar="FILE",
            help=f"read the archive password from FILE (else {BACKUP_PASSWORD_ENV}, else a prompt on a terminal)",
        )
        choice.add_argument("--no-encryption", action="store_true", help=f"{verb} an unencrypted archive")
        command.add_argument(
            "--transfer-timeout",
            type=_positive,
            metavar="SECONDS",
            help="limit for the whole transfer (default: none; each wait for data is the deploy timeout)",
        )
        command.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")

    backup = sub.add_parser(
        "backup",
        parents=[common],
        help="stream a backup archive of the server to a file",
        description="Stream Portainer's backup archive (tar.gz, encrypted with the archive password) to a file, "
        "never whole in memory. Needs an administrator's credentials.",
    )
    backup.add_argument("--out", required=True, metavar="FILE", help="the archive file to write")
    backup.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    archive_options(backup, "write")

    restore = sub.add_parser(
        "restore",
        parents=[common],
        help="upload a backup archive to a fresh, uninitialised Portainer",
        description="Upload a backup archive to a Portainer that has no administrator yet and started less than "
        "5 minutes ago, wait for it to restart, and print its version and instance id. Needs no credentials.",
    )
    restore.add_argument("file", metavar="FILE", help="the archive made by `backup`")
    restore.add_argument(
        "--wait",
        type=_positive,
        default=120.0,
        metavar="SECONDS",
        help="how long to wait for the restart (default 120)",
    )
    archive_options(restore, "upload")
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pulumi_portainer")
    except PackageNotFoundError:
        return "unknown"


COMMANDS: dict[str, Callable[[argparse.Namespace, Settings, TextIO], int]] = {
    "status": cmd_status,
    "doctor": cmd_doctor,
    "api-key": cmd_api_key,
    "backup": cmd_backup,
    "restore": cmd_restore,
}


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.gather(args, os.environ)
        return COMMANDS[args.command](args, settings, sys.stdout)
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG} {args.command}: interrupted\n")
        return 130
    except (PortainerError, OSError) as exc:
        text = " ".join(redact(str(exc)).split())
        sys.stderr.write(f"{PROG} {args.command}: error: {text}\n")
        return 1
