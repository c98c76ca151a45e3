#!/usr/bin/env bash
# Build Portainer CE (versions.env) from its published Go module through the module proxy, in a wrapper
# module, with module/build caches and the binary outside the repository, keyed by version.
# Portainer tags have no "v" prefix, so the go command resolves the tag to a pseudo-version; never @latest.
# Prints the binary's path on the last line.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck disable=SC1091
. "$here/versions.env"
V=$PORTAINER_VERSION
CACHE=${PP_CACHE:-$HOME/.cache/pulumi-portainer}
OUT=$CACHE/portainer-$V
if [ -x "$OUT/portainer" ]; then echo "$OUT/portainer"; exit 0; fi
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
export GOMODCACHE=${GOMODCACHE:-$CACHE/gomod} GOCACHE=${GOCACHE:-$CACHE/gobuild}
W=$OUT/wrapper
rm -rf "$W"; mkdir -p "$W"; cd "$W"
go mod init example.invalid/portainer-build >/dev/null 2>&1
# resolve the release tag to the pseudo-version the proxy serves (fails loudly if it serves none)
go list -m -json "github.com/portainer/portainer@$V" >&2
go get "github.com/portainer/portainer@$V" >&2
cat > tools.go <<'GO'
//go:build tools

package tools

import _ "github.com/portainer/portainer/api/cmd/portainer"
GO
# replace directives of a dependency are ignored: re-declare Portainer's own
gomod=$(go mod download -json "github.com/portainer/portainer@$V" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
awk '/^replace \(/{b=1;next} b&&/^\)/{b=0;next} b{print "replace " $0} /^replace [^(]/{print}' "$gomod" >> go.mod
go mod tidy >&2
start=$(date +%s)
go build -trimpath -ldflags "-s -w" -o "$OUT/portainer.tmp" github.com/portainer/portainer/api/cmd/portainer >&2
mv "$OUT/portainer.tmp" "$OUT/portainer"
echo "built portainer $V in $(( $(date +%s) - start ))s" >&2
echo "$OUT/portainer"
