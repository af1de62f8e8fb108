#!/usr/bin/env bash
# Cross-builds static qs-jwt binaries for linux, darwin and windows on amd64
# and arm64 into dist/, one archive per target holding qs-jwt and its
# companion qs-jwt-net (setup, doctor, oauth-token, idp-config; it must sit
# beside qs-jwt), with SHA-256 checksums in dist/SHA256SUMS, and the version
# stamped from git (`qs-jwt --version` prints it).
#
#   scripts/release.sh            # all six targets
#   TARGETS="linux/amd64" scripts/release.sh
#
# dist/ is replaced as a whole: it never mixes binaries of two versions.
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(git describe --always --dirty 2>/dev/null || echo unknown)
targets=${TARGETS:-"linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64"}

tmp=$(mktemp -d dist.tmp.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"

for target in $targets; do
  goos=${target%/*}
  goarch=${target#*/}
  name="qs-jwt-${version}-${goos}-${goarch}"
  exe=""
  [ "$goos" = windows ] && exe=".exe"
  echo "== $goos/$goarch -> dist/$name.tar.gz"
  mkdir "$tmp/$name"
  for cmd in qs-jwt qs-jwt-net; do
    CGO_ENABLED=0 GOOS=$goos GOARCH=$goarch \
      go build -trimpath -ldflags "-s -w -X github.com/qsjwt/qsjwt/internal/cli.version=${version}" -o "$tmp/$name/$cmd$exe" "./cmd/$cmd"
  done
  tar -C "$tmp" -czf "$tmp/$name.tar.gz" "$name"
  rm -r "${tmp:?}/$name"
done

if command -v sha256sum >/dev/null; then sum="sha256sum"; else sum="shasum -a 256"; fi # macOS has shasum
(cd "$tmp" && $sum qs-jwt-*.tar.gz > SHA256SUMS)
rm -rf dist
mv "$tmp" dist
trap - EXIT
echo "== dist/SHA256SUMS (version $version)"
cat dist/SHA256SUMS
