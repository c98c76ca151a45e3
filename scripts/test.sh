#!/usr/bin/env bash
# The whole test suite, as CI runs it:  scripts/test.sh          (lint, types, all tiers incl. end-to-end)
# The development loop:                  scripts/test.sh --fast   (no end-to-end tier, no floor run)
# Installs what it needs (a venv and the Pulumi CLI built from its Go module) into $PP_CACHE
# (default ~/.cache/pulumi-portainer), outside the repository.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
# shellcheck disable=SC1091
. ./versions.env
CACHE=${PP_CACHE:-$HOME/.cache/pulumi-portainer}
FAST=0
[ "${1:-}" = "--fast" ] && FAST=1
PY=${PYTHON:-python3}
phase() { printf '\n== %s (%s)\n' "$1" "$(date +%H:%M:%S)"; }
t0=$(date +%s)

venv() {  # venv DIR PULUMI_SPEC
  local dir=$1 spec=$2
  if [ ! -x "$dir/bin/python" ]; then "$PY" -m venv "$dir"; fi
  "$dir/bin/python" -m pip install -q --disable-pip-version-check "$spec" -e ".[dev]"
}

phase "python environment (pulumi==$PULUMI_SDK_VERSION)"
venv "$CACHE/venv" "pulumi==$PULUMI_SDK_VERSION"
V="$CACHE/venv/bin"

phase "lint and types"
"$V/ruff" check .
"$V/ruff" format --check .
"$V/mypy"

if [ "$FAST" = 1 ]; then
  phase "fast tiers (unit, simulator, provider)"
  "$V/python" -m pytest -q -p no:cacheprovider -m "not e2e"
  exit 0
fi

phase "pulumi CLI $PULUMI_CLI_VERSION"
PULUMI_ROOT=$(dirname "$(bash scripts/build-pulumi.sh | tail -n 1)")
export PULUMI_ROOT
"$PULUMI_ROOT/bin/pulumi" version

phase "all tiers on pulumi==$PULUMI_SDK_VERSION (unit, simulator, provider, end-to-end)"
"$V/python" -m pytest -q -p no:cacheprovider

phase "fast tiers on the SDK floor (pulumi==${PULUMI_SDK_FLOOR%.*}.*)"
venv "$CACHE/venv-floor" "pulumi==${PULUMI_SDK_FLOOR%.*}.*"
"$CACHE/venv-floor/bin/python" -m pytest -q -p no:cacheprovider -m "not e2e"

phase "done in $(( $(date +%s) - t0 ))s"
