"""Backup and restore: ``POST /api/backup`` (admin, streams a tar.gz) and ``POST /api/restore`` (public,
multipart ``file`` + ``password``, only while no administrator exists). See docs/backup-restore.md.

The archive is a real tar.gz holding ``portainer.db`` (a JSON dump of the simulator's database-like state)
and, when ``sim.backup_padding`` is set, a ``padding.bin`` member of that many bytes (stored, not
compressed) so that large transfers can be measured. Archives are built in a temp file and streamed from
it, as Portainer builds the file and sends it with ``http.ServeFile``; uploads above
``sim.spool_threshold`` arrive spooled to a temp file (``req.spool``), so neither side is held in memory.
A password "encrypts" the archive with a simulator-only XOR stream (Portainer uses AES): wrong passwords
are detected like Portainer's decrypt errors, but the bytes are not compatible with a real server.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import secrets
import tarfile
import tempfile
import time
from collections.abc import Iterator
from typing import IO, Any, Optional

from .server import PortainerSim, Result, SimError, SimRequest

M = re.Match[str]
MAGIC = b"PTRSIM-ENCRYPTED1"
CHUNK = 1 << 20
# Portainer database state the archive carries; other modules may add attribute names to
# ``sim.backup_attrs`` (dicts keyed by int ids, or plain JSON values).
BACKUP_ATTRS = ("users", "api_keys", "endpoints", "settings", "_seq", "_digests")
NOT_INITIALISED_ONLY = "Cannot restore already initialized instance"


# ---------------------------------------------------------------- archive format


def _keystream(password: str) -> bytes:
    seed = hashlib.sha256(b"portainer-sim:" + password.encode()).digest()
    return b"".join(hashlib.sha256(seed + i.to_bytes(4, "big")).digest() for i in range(CHUNK // 32))


def _xor(data: bytes, stream: bytes) -> bytes:
    n = len(data)
    return (int.from_bytes(data, "big") ^ int.from_bytes(stream[:n], "big")).to_bytes(n, "big")


def _dump(sim: PortainerSim) -> bytes:
    state: dict[str, Any] = {"InstanceID": sim.instance_id}
    for name in (*BACKUP_ATTRS, *sorted(getattr(sim, "backup_attrs", ()))):
        value = getattr(sim, name)
        state[name] = {"items": [[k, v] for k, v in value.items()]} if isinstance(value, dict) else value
    return json.dumps(state).encode()


def _load(sim: PortainerSim, raw: bytes) -> None:
    from .docker import Engine

    state = json.loads(raw)
    sim.instance_id = state.pop("InstanceID")
    for name, value in state.items():
        setattr(sim, name, dict((k, v) for k, v in value["items"]) if isinstance(value, dict) else value)
    for eid in sim.endpoints:
        sim.engines.setdefault(eid, Engine())
    sim._jwts.clear()  # the restored database carries another JWT secret


class _Padding(io.RawIOBase):
    """``size`` bytes of a repeated random block, read without holding them."""

    def __init__(self, size: int) -> None:
        self.left, self.block = size, secrets.token_bytes(CHUNK)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = min(len(buffer), self.left, CHUNK)
        buffer[:n] = self.block[:n]
        self.left -= n
        return n


def build_archive(sim: PortainerSim, password: str) -> str:
    """Write the backup archive to a temp file and return its path (the caller deletes it)."""
    fd, path = tempfile.mkstemp(prefix="portainer-sim-backup-", suffix=".tar.gz")
    with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz", compresslevel=0) as tar:
        db = _dump(sim)
        info = tarfile.TarInfo("portainer.db")
        info.size, info.mtime = len(db), int(time.time())
        tar.addfile(info, io.BytesIO(db))
        if sim.backup_padding:  # type: ignore[attr-defined]
            info = tarfile.TarInfo("padding.bin")
            info.size, info.mtime = sim.backup_padding, int(time.time())  # type: ignore[attr-defined]
            tar.addfile(info, io.BufferedReader(_Padding(info.size), CHUNK))
    if not password:
        return path
    stream, sealed = _keystream(password), path + ".encrypted"
    with open(path, "rb") as src, open(sealed, "wb") as out:
        out.write(MAGIC + hashlib.sha256(password.encode()).digest()[:16])
        while piece := src.read(CHUNK):
            out.write(_xor(piece, stream))
    os.unlink(path)
    return sealed


class _Section(io.RawIOBase):
    """Bytes ``start:end`` of a seekable file, optionally XOR-decrypted."""

    def __init__(self, source: IO[bytes], start: int, end: int, stream: Optional[bytes] = None) -> None:
        self.source, self.pos, self.end, self.stream, self.offset = source, start, end, stream, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = min(len(buffer), self.end - self.pos, CHUNK - self.offset % CHUNK)
        if n <= 0:
            return 0
        self.source.seek(self.pos)
        data = self.source.read(n)
        if self.stream is not None:
            start = self.offset % CHUNK
            data = _xor(data, self.stream[start : start + len(data)])
        buffer[: len(data)] = data
        self.pos += len(data)
        self.offset += len(data)
        return len(data)


# ---------------------------------------------------------------- multipart, streamed


def _multipart(source: IO[bytes], boundary: bytes) -> list[tuple[dict[str, str], int, int]]:
    """(headers, start, end) of each part of a multipart body, scanning in 1 MiB pieces."""
    delimiter, parts = b"\r\n--" + boundary, []
    buffer, base = source.read(CHUNK), 0  # base: file offset of buffer[0]
    if not buffer.startswith(b"--" + boundary):
        raise ValueError("multipart: NextPart: bufio: buffer full")
    cut = buffer.index(b"\r\n") + 2
    buffer, base = buffer[cut:], base + cut
    while True:
        while b"\r\n\r\n" not in buffer:
            more = source.read(CHUNK)
            if not more:
                raise ValueError("multipart: NextPart: EOF")
            buffer += more
        head, _, buffer = buffer.partition(b"\r\n\r\n")
        base += len(head) + 4
        headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        start = base
        while (at := buffer.find(delimiter)) < 0:
            keep = len(delimiter)
            base += max(0, len(buffer) - keep)
            buffer = buffer[-keep:]
            more = source.read(CHUNK)
            if not more:
                raise ValueError("multipart: NextPart: EOF")
            buffer += more
        parts.append((headers, start, base + at))
        buffer, base = buffer[at + len(delimiter) :], base + at + len(delimiter)
        while len(buffer) < 2:
            more = source.read(CHUNK)
            if not more:
                raise ValueError("multipart: NextPart: EOF")
            buffer += more
        if buffer.startswith(b"--"):
            return parts
        buffer, base = buffer[2:], base + 2


def _disposition(headers: dict[str, str]) -> dict[str, str]:
    return {
        k.lower(): v.strip('"')
        for k, v in re.findall(r';\s*(\w+)="?([^";]*)"?', headers.get("content-disposition", ""))
    }


# ---------------------------------------------------------------- handlers


def _backup(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    user = sim.authenticate(req)
    if user["Role"] != 1:  # adminAccess middleware
        raise SimError(401, "User is not authorized to perform the action")
    password = req.payload().get("password") or ""
    if not isinstance(password, str):
        raise SimError(
            400, "Invalid request payload", "json: cannot unmarshal into Go struct field .Password of type string"
        )
    path = build_archive(sim, password)
    size = os.path.getsize(path)
    stamp = time.strftime("%Y-%m-%d_%H-%M-%S")
    name = f"portainer-backup_{stamp}.tar.gz" + (".encrypted" if password else "")
    headers = {
        "Content-Disposition": f"attachment; filename={name}",
        "Content-Type": "application/octet-stream" if password else "application/gzip",
        "Content-Length": str(size),
        "Accept-Ranges": "bytes",
        "Last-Modified": time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime()),
    }
    return 200, _serve_file(path, sim.backup_cut_at), headers  # type: ignore[attr-defined]


def _serve_file(path: str, cut_at: Optional[int]) -> Iterator[bytes]:
    sent = 0
    try:
        with open(path, "rb") as f:
            while piece := f.read(CHUNK):
                if cut_at is not None and sent + len(piece) > cut_at:
                    yield piece[: cut_at - sent]
                    raise ConnectionAbortedError("simulated cut")
                sent += len(piece)
                yield piece
    finally:
        os.unlink(path)


def _restore(sim: PortainerSim, req: SimRequest, m: M) -> Result:
    if any(u["Role"] == 1 for u in sim.users.values()):
        raise SimError(400, NOT_INITIALISED_ONLY, "system already initialized")
    boundary = re.search(r"boundary=\"?([^\";]+)", req.header("content-type"))
    if not req.header("content-type").startswith("multipart/form-data") or boundary is None:
        raise SimError(400, "Invalid request payload", "request Content-Type isn't multipart/form-data")
    with open(req.spool, "rb") if req.spool else io.BytesIO(req.body) as source:
        try:
            parts = _multipart(source, boundary.group(1).encode())
        except ValueError as exc:
            raise SimError(400, "Invalid request payload", str(exc)) from None
        files = [
            (h, s, e) for h, s, e in parts if "filename" in _disposition(h) and _disposition(h).get("name") == "file"
        ]
        if not files:
            raise SimError(400, "Invalid request payload", "http: no such file")
        password = next(
            (
                _read(source, s, e).decode()
                for h, s, e in parts
                if _disposition(h).get("name") == "password" and "filename" not in _disposition(h)
            ),
            req.arg("password") or "",
        )
        _, start, end = files[0]
        db = _extract(source, start, end, password)
    _load(sim, db)
    sim._started_at = time.time()
    # Portainer shuts its HTTP server down after a restore and builds a new one: the next requests fail.
    sim.inject("GET", r"/api/system/status", drop=True, times=sim.restart_drops)  # type: ignore[attr-defined]
    return 200, b"", None


def _read(source: IO[bytes], start: int, end: int) -> bytes:
    source.seek(start)
    return source.read(end - start)


def _extract(source: IO[bytes], start: int, end: int, password: str) -> bytes:
    failed = "Failed to restore the backup"
    stream = None
    if password:
        source.seek(start)
        head = source.read(len(MAGIC) + 16)
        if head != MAGIC + hashlib.sha256(password.encode()).digest()[:16]:
            raise SimError(
                500,
                failed,
                "failed to decrypt the archive. Please ensure the password is correct and try again: "
                "cipher: message authentication failed",
            )
        start, stream = start + len(head), _keystream(password)
    reader = io.BufferedReader(_Section(source, start, end, stream), CHUNK)
    db = None
    try:
        with tarfile.open(fileobj=reader, mode="r|gz") as tar:
            for member in tar:
                if member.name.rsplit("/", 1)[-1] == "portainer.db" and member.isfile():
                    handle = tar.extractfile(member)
                    db = handle.read() if handle else None
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise SimError(
            500,
            failed,
            f"cannot extract files from the archive. Please ensure the password is correct and try again: {exc}",
        ) from None
    if db is None:
        raise SimError(500, failed, "failed to restore from backup. Portainer database missing from backup file")
    return db


def register_backup_routes(sim: PortainerSim) -> None:
    sim.backup_padding = 0  # type: ignore[attr-defined]  # bytes of padding.bin in each backup
    sim.backup_cut_at = None  # type: ignore[attr-defined]  # cut the backup download after this many bytes
    sim.restart_drops = 2  # type: ignore[attr-defined]  # status requests dropped while "restarting"
    sim.add_route("POST", r"/api/backup", _backup)
    sim.add_route("POST", r"/api/restore", _restore)
