#!/usr/bin/env bash
# The README's first command: deploy the root project to Portainer (PORTAINER_URL, or a local one).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
# shellcheck disable=SC1091
. ./versions.env
CACHE=${PP_CACHE:-$HOME/.cache/pulumi-portainer}
if [ ! -x "$CACHE/venv/bin/python" ]; then python3 -m venv "$CACHE/venv"; fi
"$CACHE/venv/bin/python" -m pip install -q --disable-pip-version-check "pulumi==$PULUMI_SDK_VERSION" -e ".[dev]"
bash scripts/build-pulumi.sh >/dev/null
exec "$CACHE/venv/bin/python" -m tests.harness.quickstart up "$@"
