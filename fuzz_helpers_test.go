package qsjwt

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/qsjwt/qsjwt/internal/engine/enginetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The fuzz targets sign with enginetest.FastKey: an RSA-2048 key (e =
// 65537) that every check treats as any other, but that signs in tens of
// microseconds, so a target can sign every input and still run thousands of
// times a second. FuzzSignRSA2048 alone signs with the committed two-prime
// key, the path of a key read from a PEM file.

// fastSigner is the FastKey as a Signer, through SignerFromCrypto: a
// crypto.Signer that is not an *rsa.PrivateKey, so signToken verifies each
// signature it makes before returning the token.
func fastSigner(t testing.TB) (Signer, *rsa.PublicKey) {
	t.Helper()
	k := enginetest.NewFastKey()
	s, err := SignerFromCrypto(k)
	require.NoError(t, err)
	return s, k.PublicKey()
}

// zeroReader reads zeros: the jti of a fuzzed Cloud token is then the same in
// every run, so that a failing input reproduces.
type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// checkBuilt is the independent check of a token a builder made: crypto/rsa
// over the exact signing input (verifyStdlib), and jwx, which must verify the
// signature, see exactly the payload bytes and read the same claims as
// encoding/json. It returns the header and the claims as encoding/json
// reads them.
func checkBuilt(t *testing.T, raw string, pub *rsa.PublicKey) (header, claims map[string]any) {
	t.Helper()
	d := verifyStdlib(t, raw, pub)
	header, claims = jsonObject(t, d.header), jsonObject(t, d.claims)
	alg, _ := header["alg"].(string)
	payload, fromJWX, err := enginetest.JWXClaims(raw, alg, pub)
	require.NoError(t, err, "jwx verifies the token and reads its claims")
	assert.Equal(t, segment(t, raw, 1), payload, "jwx sees exactly the payload signed")
	assert.Equal(t, claims, fromJWX, "jwx reads the claims encoding/json reads")
	return header, claims
}

// jsonObject turns raw members back into one JSON object read by
// encoding/json alone.
func jsonObject(t *testing.T, members map[string]json.RawMessage) map[string]any {
	t.Helper()
	b, err := json.Marshal(members)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

// asJSON returns v as encoding/json reads it back: the form in which
// expected claims and the claims of a token are compared.
func asJSON(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	var back any
	require.NoError(t, json.Unmarshal(b, &back))
	return back
}

// segment decodes the i-th segment of a compact token with encoding/base64.
func segment(t *testing.T, token string, i int) []byte {
	t.Helper()
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3)
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	require.NoError(t, err)
	return b
}

// requireClaimErrors requires err to be one or more *ClaimError (joined).
func requireClaimErrors(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		var ce *ClaimError
		require.True(t, errors.As(e, &ce), "refusals are *ClaimError: %v", e)
		require.NotEmpty(t, ce.Field, "a refusal names the field")
		require.NotEmpty(t, ce.Reason)
	}
}

// requireRefusal requires err to be a *VerifyError with at least one
// problem that is not a warning.
func requireRefusal(t *testing.T, err error) {
	t.Helper()
	var ve *VerifyError
	require.True(t, errors.As(err, &ve), "refusals are *VerifyError: %v", err)
	refused := false
	for _, p := range ve.Problems {
		refused = refused || !p.Warning
	}
	require.True(t, refused, "a refusal names a reason: %v", err)
}

// signFast signs header and payload, exactly these bytes, with the FastKey,
// using the hash the header's "alg" names (SHA-256 when it names none).
func signFast(header, payload string) string {
	input := base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + base64.RawURLEncoding.EncodeToString([]byte(payload))
	h := crypto.SHA256
	var hdr struct{ Alg string }
	if json.Unmarshal([]byte(header), &hdr) == nil {
		switch hdr.Alg {
		case "RS384":
			h = crypto.SHA384
		case "RS512":
			h = crypto.SHA512
		}
	}
	d := h.New()
	d.Write([]byte(input))
	sig, err := enginetest.NewFastKey().Sign(nil, d.Sum(nil), h)
	if err != nil {
		panic(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// payloadClaims decodes the payload of an accepted token with encoding/json
// alone, from the token's own bytes, and requires a JSON object.
func payloadClaims(t *testing.T, token string) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(segment(t, strings.TrimSpace(token), 1)))
	require.NoError(t, dec.Decode(&m), "an accepted token's payload is a JSON object")
	return m
}
