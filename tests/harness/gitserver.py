"""A smart-HTTP git server on 127.0.0.1: ``git http-backend`` behind a small threaded HTTP server, with
anonymous repositories under ``/public/`` and basic-auth repositories under ``/private/``."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Optional

GIT_ENV = {
    "GIT_AUTHOR_NAME": "e2e",
    "GIT_AUTHOR_EMAIL": "e2e@example.invalid",
    "GIT_COMMITTER_NAME": "e2e",
    "GIT_COMMITTER_EMAIL": "e2e@example.invalid",
}


def _git(*args: str, cwd: Optional[Path] = None) -> str:
    env = {**os.environ, **GIT_ENV}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout.strip()


class GitServer:
    """Serve the bare repositories under ``root`` on loopback."""

    def __init__(self, root: Path, username: str = "e2e-git", password: str = "e2e-git-password") -> None:
        self.root = root
        self.username, self.password = username, password
        self.server: Optional[ThreadingHTTPServer] = None
        (root / "repos" / "public").mkdir(parents=True, exist_ok=True)
        (root / "repos" / "private").mkdir(parents=True, exist_ok=True)
        (root / "work").mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> GitServer:
        backend = _git("--exec-path") + "/git-http-backend"
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _serve(self) -> None:
                path, _, query = self.path.partition("?")
                user = ""
                if path.startswith("/private/"):
                    expected = base64.b64encode(f"{outer.username}:{outer.password}".encode()).decode()
                    if self.headers.get("Authorization", "") != f"Basic {expected}":
                        self.send_response(401)
                        self.send_header("WWW-Authenticate", 'Basic realm="e2e"')
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    user = outer.username
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                env = {
                    "PATH": os.environ.get("PATH", ""),
                    "GIT_PROJECT_ROOT": str(outer.root / "repos"),
                    "GIT_HTTP_EXPORT_ALL": "1",
                    "PATH_INFO": path,
                    "QUERY_STRING": query,
                    "REQUEST_METHOD": self.command,
                    "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                    "CONTENT_LENGTH": str(len(body)),
                    "REMOTE_USER": user,
                    "REMOTE_ADDR": "127.0.0.1",
                    "GIT_HTTP_MAX_REQUEST_BUFFER": "100M",
                }
                if self.headers.get("Content-Encoding"):
                    env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
                if self.headers.get("Git-Protocol"):
                    env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
                out = subprocess.run([backend], input=body, env=env, capture_output=True).stdout
                head, _, payload = out.partition(b"\r\n\r\n")
                if not _:
                    head, _, payload = out.partition(b"\n\n")
                status = 200
                headers = []
                for line in head.decode("latin-1").splitlines():
                    name, _, value = line.partition(":")
                    if name.lower() == "status":
                        status = int(value.strip().split()[0])
                    elif name:
                        headers.append((name, value.strip()))
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _serve  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def repo_url(self, name: str, private: bool = False) -> str:
        return f"{self.url}/{'private' if private else 'public'}/{name}.git"

    def create(self, name: str, files: dict[str, str], private: bool = False, branch: str = "main") -> str:
        """A repository holding ``files``; returns the commit sha."""
        bare = self.root / "repos" / ("private" if private else "public") / f"{name}.git"
        _git("init", "--bare", "-b", branch, str(bare))
        _git("config", "http.receivepack", "true", cwd=bare)
        work = self.root / "work" / name
        shutil.rmtree(work, ignore_errors=True)
        _git("clone", "-q", str(bare), str(work))
        _git("checkout", "-q", "-b", branch, cwd=work)
        return self.commit(name, files, branch=branch)

    def commit(self, name: str, files: dict[str, str], branch: str = "main") -> str:
        """Write ``files`` into the repository, commit and push; returns the new commit sha."""
        work = self.root / "work" / name
        for rel, content in files.items():
            target = work / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content)
        _git("add", "-A", cwd=work)
        _git("commit", "-q", "-m", f"update {', '.join(sorted(files))}", cwd=work)
        _git("push", "-q", "origin", branch, cwd=work)
        return _git("rev-parse", "HEAD", cwd=work)
