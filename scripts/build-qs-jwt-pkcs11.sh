#!/bin/sh
# Builds qs-jwt, and qs-jwt-net beside it (doctor takes the key flags too),
# with --cert-privatekey-pkcs11: a key in an HSM or smart card, through the
# module github.com/qsjwt/qsjwt/pkcs11 (cgo). The default build (go build
# ./cmd/qs-jwt, the release binaries) stays pure Go without it.
#
#   scripts/build-qs-jwt-pkcs11.sh [output]     (default output: ./qs-jwt;
#                                                qs-jwt-net goes in the same folder)
#
# How: the main module does not require the nested pkcs11 module, so the
# build uses the workspace pkcs11/qs-jwt.work (both modules); the overlay
# pkcs11/qs-jwt-overlay.json adds pkcs11/clihook/pkcs11.go to internal/cli
# (the command line of both programs) as internal/cli/pkcs11.go, and the tag
# pkcs11 leaves out internal/cli/pkcs11_none.go. The hook lives outside
# internal/cli so that `go mod tidy` in the main module never looks for the
# nested module.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-qs-jwt}
case $out in /*) ;; *) out=$PWD/$out ;; esac
cd "$root"
for cmd in qs-jwt qs-jwt-net; do
  dest=$out
  [ "$cmd" = qs-jwt ] || dest=$(dirname "$out")/qs-jwt-net
  GOWORK="$root/pkcs11/qs-jwt.work" CGO_ENABLED=1 \
    go build -tags pkcs11 -overlay pkcs11/qs-jwt-overlay.json -o "$dest" "./cmd/$cmd"
done
