#!/usr/bin/env bash
# Makes the key fixtures of issues 10.10 and 14.4 with openssl 3 alone,
# independently of qsjwt and of Go. Run from testdata/:
#
#	bash test-only-make-keys.sh
#
# Keys of types qsjwt does not read (RSA-PSS, secp256k1, Ed448) are new random
# keys on every run; the PFX files and the over-the-cap encrypted key hold the
# committed test-only RSA key and certificate. Every file is test-only: never
# use these keys for anything else.
set -euo pipefail
pass=test-only-passphrase
key=test-only-rsa2048-pkcs8.pem
cer=test-only-rsa2048.cer

# Valid keys of types qsjwt reports as "unsupported key type".
openssl genpkey -algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048 -out test-only-rsapss2048-pkcs8.pem
openssl pkey -in test-only-rsapss2048-pkcs8.pem -pubout -out test-only-rsapss2048-public.pem
openssl req -x509 -new -key test-only-rsapss2048-pkcs8.pem -subj "/CN=qsjwt test only rsa-pss" -days 36500 -out test-only-rsapss2048.cer
openssl ecparam -name secp256k1 -genkey -noout -out test-only-ec-secp256k1-sec1.pem
openssl pkcs8 -topk8 -nocrypt -in test-only-ec-secp256k1-sec1.pem -out test-only-ec-secp256k1-pkcs8.pem
openssl pkey -in test-only-ec-secp256k1-sec1.pem -pubout -out test-only-ec-secp256k1-public.pem
openssl req -x509 -new -key test-only-ec-secp256k1-sec1.pem -subj "/CN=qsjwt test only secp256k1" -days 36500 -out test-only-ec-secp256k1.cer
openssl genpkey -algorithm Ed448 -out test-only-ed448-pkcs8.pem
openssl pkey -in test-only-ed448-pkcs8.pem -pubout -out test-only-ed448-public.pem
openssl req -x509 -new -key test-only-ed448-pkcs8.pem -subj "/CN=qsjwt test only ed448" -days 36500 -out test-only-ed448.cer

# One PBKDF2 iteration over qsjwt's cap of 600,000.
openssl pkcs8 -topk8 -v2 aes-256-cbc -iter 600001 -in "$key" -passout "pass:$pass" -out test-only-rsa2048-pkcs8-aes256-iter600001.pem

# PFX: legacy (3DES key, RC2-40 certificates, SHA-1 MAC: what the QMC and
# older Windows write), modern (openssl 3's default: PBES2 AES-256-CBC,
# SHA-256 MAC), modern with an empty password, and over the iteration cap.
openssl pkcs12 -export -legacy -inkey "$key" -in "$cer" -name "qsjwt test only" -passout "pass:$pass" -out test-only-rsa2048-legacy.pfx
openssl pkcs12 -export -inkey "$key" -in "$cer" -name "qsjwt test only" -passout "pass:$pass" -out test-only-rsa2048-aes256.pfx
openssl pkcs12 -export -inkey "$key" -in "$cer" -passout pass: -out test-only-rsa2048-nopass.pfx
openssl pkcs12 -export -iter 600001 -inkey "$key" -in "$cer" -passout "pass:$pass" -out test-only-rsa2048-iter600001.pfx
