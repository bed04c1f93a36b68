#!/usr/bin/env bash
# Builds FerretDB from the Go module proxy into $2 (skipped when it is already there).
# `go install ...@v1.24.2` alone yields a binary that panics at start: the module ships without
# build/version/version.txt, which FerretDB embeds. So fetch the module, add that file, build.
set -euo pipefail
VERSION="$1"
OUT="$2"
if [ -x "$OUT" ] && "$OUT" --version >/dev/null 2>&1; then exit 0; fi
# FerretDB v1.24.2's go.mod says `go 1.24` (toolchain go1.24.3). Go 1.24 or newer builds it; Go 1.21 to 1.23
# switch to that toolchain themselves, downloaded through the module proxy, when GOTOOLCHAIN allows it (auto,
# the default of Go's own releases; some distributions' packages set local); older Go cannot. Said here, before anything runs, not as `go: command not found`.
if ! command -v go >/dev/null 2>&1; then
  echo "build-ferretdb: Go is not installed (FerretDB is built from source): install Go 1.24 or newer and try again" >&2
  exit 1
fi
GO_VERSION="$(go env GOVERSION)"
if [[ "$GO_VERSION" =~ ^go1\.([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -lt 24 ]; then
  if [ "${BASH_REMATCH[1]}" -lt 21 ]; then
    echo "build-ferretdb: this is $GO_VERSION; FerretDB $VERSION needs Go 1.24 or newer (Go 1.21 or newer can fetch it itself): install it and try again" >&2
    exit 1
  fi
  if ! [[ "$(go env GOTOOLCHAIN)" =~ (^|\+)auto$ ]]; then
    echo "build-ferretdb: this is $GO_VERSION with GOTOOLCHAIN=$(go env GOTOOLCHAIN); FerretDB $VERSION needs Go 1.24 or newer: install it, or let Go fetch it with GOTOOLCHAIN=auto" >&2
    exit 1
  fi
  echo "build-ferretdb: this is $GO_VERSION; Go fetches the Go 1.24 toolchain FerretDB $VERSION asks for (GOTOOLCHAIN=auto)"
fi
echo "building FerretDB $VERSION (one-off, cached at $OUT)"
export GOFLAGS=-mod=mod
MODDIR="$(go mod download -json "github.com/FerretDB/FerretDB@$VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
SRC="$(mktemp -d)"
trap 'chmod -R u+w "$SRC"; rm -rf "$SRC"; rm -f "$OUT.$$.tmp"' EXIT
cp -r "$MODDIR/." "$SRC/"
chmod -R u+w "$SRC"
echo "$VERSION" >"$SRC/build/version/version.txt"
# A name of this build's own: two builds at once (a dev store and CI) must not move each other's file.
(cd "$SRC" && go build -trimpath -o "$OUT.$$.tmp" ./cmd/ferretdb)
mv -f "$OUT.$$.tmp" "$OUT"
"$OUT" --version | head -n 1
