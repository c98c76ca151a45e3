#!/usr/bin/env bash
# Build the Pulumi CLI from its published Go module at the pinned version, with the version stamp,
# and install the dynamic-provider script next to it. Caches live outside the repository.
# Usage: scripts/build-pulumi.sh  -> prints the bin directory on the last line.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck disable=SC1091
. "$here/versions.env"
V=$PULUMI_CLI_VERSION
CACHE=${PP_CACHE:-$HOME/.cache/pulumi-portainer}
ROOT=$CACHE/pulumi-$V
BIN=$ROOT/bin
if [ -x "$BIN/pulumi" ] && [ -x "$BIN/pulumi-resource-pulumi-python" ] && "$BIN/pulumi" version 2>/dev/null | grep -qx "$V"; then
  echo "$BIN"; exit 0
fi
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
export GOMODCACHE=${GOMODCACHE:-$CACHE/gomod} GOCACHE=${GOCACHE:-$CACHE/gobuild}
W=$ROOT/wrapper
rm -rf "$W"; mkdir -p "$W" "$BIN"
cd "$W"
go mod init example.invalid/pulumi-cli >/dev/null 2>&1
go get "github.com/pulumi/pulumi/pkg/v3@$V" "github.com/pulumi/pulumi/sdk/v3@$V" >&2
cat > tools.go <<'GO'
//go:build tools

package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
GO
go mod edit -replace github.com/atotto/clipboard=github.com/tgummerer/clipboard@v0.0.0-20241001131231-d02d263e614e
go mod tidy >&2
got=$(go list -m -f '{{.Version}}' github.com/pulumi/pulumi/pkg/v3)
[ "$got" = "$V" ] || { echo "pulumi pkg resolved to $got, expected $V" >&2; exit 1; }
start=$(date +%s)
go build -trimpath -tags osusergo,grpcnotrace \
  -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$V" \
  -o "$BIN/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi >&2
echo "built pulumi $V in $(( $(date +%s) - start ))s" >&2
SDK=$(go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)
install -m 0755 "$SDK/python/dist/pulumi-resource-pulumi-python" "$BIN/"
install -m 0755 "$SDK/python/cmd/pulumi-language-python-exec" "$BIN/"
"$BIN/pulumi" version >&2
echo "$BIN"
