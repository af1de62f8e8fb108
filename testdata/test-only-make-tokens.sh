#!/usr/bin/env bash
# Makes the test-only-*.jwt fixtures with openssl alone, independently of
# qsjwt and of Go, signed with the committed test-only key. Times are fixed at
# 2026-11-29T12:00:00Z (1795953600), the tests' clock. Run from testdata/:
#
#	bash test-only-make-tokens.sh
#
# RSA PKCS #1 v1.5 signatures are deterministic, so the output is stable.
set -euo pipefail
key=test-only-rsa2048-pkcs8.pem

b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }

# jwt HEADER CLAIMS DIGEST OUT: signs header.claims with openssl dgst.
jwt() {
	local input
	input="$(printf '%s' "$1" | b64url).$(printf '%s' "$2" | b64url)"
	printf '%s.%s\n' "$input" "$(printf '%s' "$input" | openssl dgst "-$3" -sign "$key" | b64url)" >"$4"
}

# A Qlik Cloud token as Qlik documents it.
jwt '{"alg":"RS256","kid":"kid-1","typ":"JWT"}' \
	'{"iss":"tenant.eu.qlikcloud.com","aud":"qlik.api/login/jwt-session","sub":"anna-42","subType":"user","name":"Anna Andersson","email":"anna@example.com","email_verified":true,"groups":["Sales","Analysts"],"jti":"x2SbJiBZ0Y1uXW8b4nJxgA","iat":1795953600,"nbf":1795953595,"exp":1795953900}' \
	sha256 test-only-cloud-openssl.jwt

# A Qlik Cloud token in the shape other tools produce: "group" for "groups",
# email_verified a string, a 365-day lifetime, no nbf, aud an array, a random
# sub and no jti.
jwt '{"alg":"RS256","kid":"kid-1","typ":"JWT"}' \
	'{"iss":"tenant.eu.qlikcloud.com","aud":["qlik.api/login/jwt-session"],"sub":"6f1c2a9e-3b7d-4e5f-9a8b-1c2d3e4f5a6b","subType":"user","name":"Anna Andersson","email":"anna@example.com","email_verified":"true","group":["Sales"],"iat":1795953600,"exp":1827489600}' \
	sha256 test-only-cloud-othertool.jwt

# A QSEoW token with the claim names of Qlik's own samples, RS512.
jwt '{"alg":"RS512","typ":"JWT"}' \
	'{"user":"anna","directory":"GRUSGRUS","name":"Anna Andersson","email":"anna@example.com","group":["Sales","Analysts"],"aud":"qlik-sense","iat":1795953600,"exp":1795957200}' \
	sha512 test-only-qseow-openssl-rs512.jwt
