#!/bin/sh
# Builds qs-jwt with --cert-privatekey-pkcs11: a key in an HSM or smart card,
# through the module github.com/qsjwt/qsjwt/pkcs11 (cgo). The default build
# (go build ./cmd/qs-jwt, the release binaries) stays pure Go without it.
#
#   scripts/build-qs-jwt-pkcs11.sh [output]     (default output: ./qs-jwt)
#
# How: the main module does not require the nested pkcs11 module, so the
# build uses the workspace pkcs11/qs-jwt.work (both modules); the overlay
# pkcs11/qs-jwt-overlay.json adds pkcs11/clihook/pkcs11.go to cmd/qs-jwt as
# cmd/qs-jwt/pkcs11.go, and the tag pkcs11 leaves out cmd/qs-jwt/pkcs11_none.go.
# The hook lives outside cmd/qs-jwt so that `go mod tidy` in the main
# module never looks for the nested module.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-qs-jwt}
case $out in /*) ;; *) out=$PWD/$out ;; esac
cd "$root"
GOWORK="$root/pkcs11/qs-jwt.work" CGO_ENABLED=1 \
  go build -tags pkcs11 -overlay pkcs11/qs-jwt-overlay.json -o "$out" ./cmd/qs-jwt
