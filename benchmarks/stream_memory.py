"""Peak memory of ``pulumi-portainer backup`` and ``restore`` on a large archive (default 500 MiB).

Each simulator runs in its own process (so its memory is not counted), and each command runs through the
real CLI code path (``python -m pulumi_portainer``) in a child process whose peak RSS comes from
``os.wait4`` (``ru_maxrss``). A baseline child that only imports the CLI shows the interpreter's share.
Run from the repository root::

    python benchmarks/stream_memory.py [--size-mb 500] [--encrypted]

This is a measurement, not a test: it prints figures and exits 0 when both peaks stay under
``--limit-mb`` (default 100), else 1.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MiB = 1024 * 1024


def serve(kind: str, padding: int) -> None:
    """Child mode: run a simulator until stdin closes; print its URL and API key first."""
    sys.path.insert(0, str(ROOT))
    from tests.sim import PortainerSim

    sim = PortainerSim(initialised=(kind == "initialised"))
    sim.backup_padding = padding  # type: ignore[attr-defined]
    sim.start()
    print(json.dumps({"url": sim.url, "api_key": sim.api_key}), flush=True)
    sys.stdin.read()
    sim.stop()


def start_sim(kind: str, padding: int) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", kind, "--padding", str(padding)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    return proc, json.loads(proc.stdout.readline())


def stop_sim(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None
    proc.stdin.close()
    proc.wait(timeout=60)


def measure(argv: list[str], env: dict[str, str]) -> tuple[int, float, float, str]:
    """(exit status, seconds, peak RSS in MiB, stderr) of one child process."""
    started = time.monotonic()
    proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, time.monotonic() - started, usage.ru_maxrss / 1024, err


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=500, help="padding in the archive, MiB (default 500)")
    parser.add_argument("--encrypted", action="store_true", help="use an archive password")
    parser.add_argument("--limit-mb", type=float, default=100.0, help="peak RSS budget per command (default 100)")
    parser.add_argument("--serve", choices=("initialised", "fresh"), help=argparse.SUPPRESS)
    parser.add_argument("--padding", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.padding)
        return 0

    base = {k: v for k, v in os.environ.items() if not k.startswith("PORTAINER_")}
    base["PYTHONPATH"] = str(ROOT)
    secret = ["--no-encryption"] if not args.encrypted else []
    if args.encrypted:
        base["PORTAINER_BACKUP_PASSWORD"] = "benchmark-archive-password"
    cli = [sys.executable, "-m", "pulumi_portainer"]
    rows: list[tuple[str, int, float, float, str]] = []

    code, seconds, peak, err = measure([sys.executable, "-c", "import pulumi_portainer.cli"], base)
    rows.append(("import only (baseline)", code, seconds, peak, ""))
    with tempfile.TemporaryDirectory(prefix="stream-memory-") as tmp:
        archive = Path(tmp) / "backup.tar.gz"
        source, info = start_sim("initialised", args.size_mb * MiB)
        try:
            env = dict(base, PORTAINER_URL=info["url"], PORTAINER_API_KEY=info["api_key"])
            code, seconds, peak, err = measure([*cli, "backup", "--out", str(archive), "--quiet", *secret], env)
        finally:
            stop_sim(source)
        size = archive.stat().st_size if archive.exists() else 0
        rows.append((f"backup ({size / MiB:.0f} MiB)", code, seconds, peak, err))
        target, info = start_sim("fresh", 0)
        try:
            env = dict(base, PORTAINER_URL=info["url"])
            code, seconds, peak, err = measure([*cli, "restore", str(archive), "--quiet", *secret], env)
        finally:
            stop_sim(target)
        rows.append((f"restore ({size / MiB:.0f} MiB)", code, seconds, peak, err))

    print(f"{'command':<24} {'exit':>4} {'seconds':>8} {'peak RSS MiB':>13}")
    for name, code, seconds, peak, _ in rows:
        print(f"{name:<24} {code:>4} {seconds:>8.1f} {peak:>13.1f}")
    failed = [r for r in rows[1:] if r[1] != 0 or r[3] >= args.limit_mb]
    for name, code, _, peak, err in failed:
        print(f"{name}: exit {code}, peak {peak:.1f} MiB: {err.strip()}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
