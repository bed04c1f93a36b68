#!/usr/bin/env bash
# Builds FerretDB from the Go module proxy into $2 (skipped when it is already there).
# `go install ...@v1.24.2` alone yields a binary that panics at start: the module ships without
# build/version/version.txt, which FerretDB embeds. So fetch the module, add that file, build.
set -euo pipefail
VERSION="$1"
OUT="$2"
if [ -x "$OUT" ] && "$OUT" --version >/dev/null 2>&1; then exit 0; fi
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
