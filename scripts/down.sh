#!/usr/bin/env bash
# Tear down what scripts/up.sh made: the quickstart stack, the local Portainer and Docker engine it started.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
CACHE=${PP_CACHE:-$HOME/.cache/pulumi-portainer}
exec "$CACHE/venv/bin/python" -m tests.harness.quickstart down "$@"
