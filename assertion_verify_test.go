package qsjwt

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// handSigned signs header and payload JSON, as given, with crypto/rsa
// (RS256): tokens the builder would never make.
func handSigned(t testing.TB, key *rsa.PrivateKey, header, payload string) string {
	t.Helper()
	enc := base64.RawURLEncoding
	input := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	d := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, d[:])
	require.NoError(t, err)
	return input + "." + enc.EncodeToString(sig)
}

func TestVerifyClientAssertionNamesEveryProblem(t *testing.T) {
	key := testKey(t)
	a, err := NewClientAssertion(testSigner(t), testClientID, testTenant, "key-1")
	require.NoError(t, err)
	jwk, err := a.PublicJWK()
	require.NoError(t, err)
	now := fixedNow.Unix()
	const hdr = `{"alg":"RS256","kid":"key-1","typ":"JWT"}`
	claims := func(extra string) string {
		return `{"iss":"` + testClientID + `","sub":"` + testClientID + `","aud":"` + testAud + `","jti":"550e8400-e29b-41d4-a716-446655440000",` + extra + `}`
	}
	times := func(iat, exp int64) string {
		return `"iat":` + itoa(iat) + `,"exp":` + itoa(exp)
	}
	good := handSigned(t, key, hdr, claims(times(now, now+300)))
	_, err = VerifyClientAssertion(good, jwk, testClientID, testTenant, WithClock(fixedClock))
	require.NoError(t, err, "exp - iat = 300 s is accepted")

	tests := []struct {
		name, header, payload string
		want                  []string // claims named, in order
	}{
		{"exp - iat 301 s", hdr, claims(times(now, now+301)), []string{"exp"}},
		{"expired", hdr, claims(times(now-120, now-60)), []string{"exp"}},
		{"aud with trailing slash", hdr, strings.Replace(claims(times(now, now+60)), "/oauth/token", "/oauth/token/", 1), []string{"aud"}},
		{"aud as array", hdr, strings.Replace(claims(times(now, now+60)), `"`+testAud+`"`, `["`+testAud+`"]`, 1), []string{"aud"}},
		{"iss and sub another client", hdr, strings.ReplaceAll(claims(times(now, now+60)), testClientID, "other"), []string{"iss", "sub"}},
		{"kid of another key", `{"alg":"RS256","kid":"key-2"}`, claims(times(now, now+60)), []string{"header.kid"}},
		{"no kid", `{"alg":"RS256"}`, claims(times(now, now+60)), []string{"header.kid"}},
		{"alg other than the JWK's", `{"alg":"RS512","kid":"key-1"}`, claims(times(now, now+60)), []string{"header.alg"}},
		{"iat missing, exp fraction", hdr, claims(`"exp":` + itoa(now+60) + `.5`), []string{"iat", "exp"}},
		{"jti missing", hdr, `{"iss":"` + testClientID + `","sub":"` + testClientID + `","aud":"` + testAud + `",` + times(now, now+60) + `}`, []string{"jti"}},
		{"name twice", hdr, claims(times(now, now+60) + `,"iss":"x"`), []string{"iss", "iss"}},
		{"crit", `{"alg":"RS256","kid":"key-1","crit":["b64"]}`, claims(times(now, now+60)), []string{"header.crit"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := handSigned(t, key, tt.header, tt.payload)
			_, err := VerifyClientAssertion(tok, jwk, testClientID, testTenant, WithClock(fixedClock))
			var ve *VerifyError
			require.ErrorAs(t, err, &ve)
			var names []string
			for _, p := range ve.Problems {
				if !p.Warning {
					names = append(names, p.Claim)
				}
			}
			assert.Equal(t, tt.want, names, "%v", err)
			assert.NotContains(t, err.Error(), tok)
		})
	}
	t.Run("signature of another key", func(t *testing.T) {
		other, err := rsa.GenerateKey(rand.Reader, 2048)
		require.NoError(t, err)
		_, err = VerifyClientAssertion(handSigned(t, other, hdr, claims(times(now, now+60))), jwk, testClientID, testTenant, WithClock(fixedClock))
		var ve *VerifyError
		require.ErrorAs(t, err, &ve)
		assert.False(t, ve.SignatureVerified)
		assert.Equal(t, "signature", ve.Problems[0].Claim)
	})
	t.Run("a changed byte", func(t *testing.T) {
		b := []byte(good)
		b[len(b)-5] ^= 1
		_, err := VerifyClientAssertion(string(b), jwk, testClientID, testTenant, WithClock(fixedClock))
		var ve *VerifyError
		assert.ErrorAs(t, err, &ve)
	})
	t.Run("not a UUID is a warning only", func(t *testing.T) {
		tok := handSigned(t, key, hdr, strings.Replace(claims(times(now, now+60)), "550e8400-e29b-41d4-a716-446655440000", "abc", 1))
		got, err := VerifyClientAssertion(tok, jwk, testClientID, testTenant, WithClock(fixedClock))
		require.NoError(t, err)
		assert.Equal(t, "abc", got.ID)
	})
	t.Run("clock skew", func(t *testing.T) {
		tok := handSigned(t, key, hdr, claims(times(now-60, now-3)))
		_, err := VerifyClientAssertion(tok, jwk, testClientID, testTenant, WithClock(fixedClock))
		require.NoError(t, err, "3 s past exp is within the default 5 s")
		_, err = VerifyClientAssertion(tok, jwk, testClientID, testTenant, WithClock(fixedClock), WithClockSkew(0))
		var ve *VerifyError
		assert.ErrorAs(t, err, &ve)
	})
	t.Run("bad parameters", func(t *testing.T) {
		_, err := VerifyClientAssertion(good, []byte(`{"kty":"RSA","d":"secret-member"}`), "", "http://x")
		require.Error(t, err)
		errs := joinedErrors(err)
		for _, o := range []string{"jwk", "clientID", "tenantURL"} {
			assert.True(t, hasOption(errs, o), "names %s: %v", o, err)
		}
		assert.NotContains(t, err.Error(), "secret-member")
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// FuzzVerifyClientAssertion: the verifier never panics, and accepts only
// tokens the key really signed, byte for byte, checked with crypto/rsa over
// the exact bytes: no other spelling of a signed token (padding, another
// base64 of the same bytes, white space) gets through.
func FuzzVerifyClientAssertion(f *testing.F) {
	a, err := NewClientAssertion(testSigner(f), testClientID, testTenant, "key-1", WithClock(fixedClock))
	require.NoError(f, err)
	jwk, err := a.PublicJWK()
	require.NoError(f, err)
	tok, err := a.Sign(context.Background())
	require.NoError(f, err)
	for _, seed := range []string{tok.Raw, tok.Raw + "=", " " + tok.Raw, strings.Replace(tok.Raw, ".", "..", 1),
		tok.Raw[:len(tok.Raw)-1] + "B", "eyJhbGciOiJub25lIn0.e30."} {
		f.Add(seed)
	}
	pub := &testKey(f).PublicKey
	f.Fuzz(func(t *testing.T, token string) {
		got, err := VerifyClientAssertion(token, jwk, testClientID, testTenant, WithClock(fixedClock))
		if err != nil {
			return
		}
		parts := strings.Split(token, ".")
		require.Len(t, parts, 3)
		for _, p := range parts {
			b, err := base64.RawURLEncoding.Strict().DecodeString(p)
			require.NoError(t, err)
			require.Equal(t, p, base64.RawURLEncoding.EncodeToString(b), "one spelling only")
		}
		sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
		d := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
		require.NoError(t, rsa.VerifyPKCS1v15(pub, crypto.SHA256, d[:], sig), "accepted a token the key did not sign")
		require.Equal(t, token, got.Raw)
	})
}
