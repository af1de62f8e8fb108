package qsjwt

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	testClientID = "0123456789abcdef0123456789abcdef"
	testTenant   = "https://tenant.eu.qlikcloud.com"
	testAud      = "https://tenant.eu.qlikcloud.com/oauth/token"
)

// p384Key reads the committed test-only P-384 key with the standard library.
func p384Key(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	data, err := os.ReadFile("testdata/test-only-ec-p384-pkcs8.pem")
	require.NoError(t, err)
	block, _ := pem.Decode(data)
	require.NotNil(t, block)
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	require.NoError(t, err)
	return k.(*ecdsa.PrivateKey)
}

// splitJWS decodes a compact token's header and claims as raw JSON and its
// signature, and returns the exact signing input.
func splitJWS(t testing.TB, raw string) (header, claims map[string]json.RawMessage, input, sig []byte) {
	t.Helper()
	parts := strings.Split(raw, ".")
	require.Len(t, parts, 3)
	for i, dst := range []*map[string]json.RawMessage{&header, &claims} {
		js, err := base64.RawURLEncoding.Strict().DecodeString(parts[i])
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(js, dst))
	}
	sig, err := base64.RawURLEncoding.Strict().DecodeString(parts[2])
	require.NoError(t, err)
	return header, claims, []byte(parts[0] + "." + parts[1]), sig
}

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestClientAssertionRSAAndEC(t *testing.T) {
	rsaKey, ecKey := testKey(t), p384Key(t)
	ecSigner, err := SignerFromCrypto(ecKey)
	require.NoError(t, err, "a P-384 key is a Signer (for assertions only)")
	for _, tt := range []struct {
		name   string
		signer Signer
		opts   []AssertionOption
		alg    string
	}{
		{"RSA default RS256", testSigner(t), nil, "RS256"},
		{"RSA RS512", testSigner(t), []AssertionOption{WithAlgorithm(RS512)}, "RS512"},
		{"P-384 ES384", ecSigner, nil, "ES384"},
		{"P-384 ES384 named", ecSigner, []AssertionOption{WithAlgorithm(ES384)}, "ES384"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opts := append([]AssertionOption{WithClock(fixedClock), nil}, tt.opts...)
			a, err := NewClientAssertion(tt.signer, testClientID, testTenant+"/", "key-1", opts...)
			require.NoError(t, err)
			assert.Equal(t, Algorithm(tt.alg), a.Algorithm())
			assert.Equal(t, testAud, a.Audience())
			tok, err := a.Sign(context.Background())
			require.NoError(t, err)

			header, claims, input, sig := splitJWS(t, tok.Raw)
			assert.JSONEq(t, fmt.Sprintf(`{"alg":%q,"kid":"key-1","typ":"JWT"}`, tt.alg), mustJSON(t, header))
			// Independent check over the exact bytes: crypto/rsa or crypto/ecdsa.
			switch tt.alg {
			case "RS256":
				d := sha256.Sum256(input)
				require.NoError(t, rsa.VerifyPKCS1v15(&rsaKey.PublicKey, crypto.SHA256, d[:], sig))
			case "RS512":
				d := sha512.Sum512(input)
				require.NoError(t, rsa.VerifyPKCS1v15(&rsaKey.PublicKey, crypto.SHA512, d[:], sig))
			case "ES384":
				require.Len(t, sig, 96, "JWS r||s, 48 bytes each")
				d := sha512.Sum384(input)
				r, s := new(big.Int).SetBytes(sig[:48]), new(big.Int).SetBytes(sig[48:])
				require.True(t, ecdsa.Verify(&ecKey.PublicKey, d[:], r, s), "ecdsa.Verify over the exact bytes")
			}
			var iss, sub, aud, jti string
			var iat, exp int64
			for name, dst := range map[string]any{"iss": &iss, "sub": &sub, "aud": &aud, "jti": &jti, "iat": &iat, "exp": &exp} {
				require.NoError(t, json.Unmarshal(claims[name], dst), name)
			}
			assert.Len(t, claims, 6, "iss, sub, aud, jti, iat, exp and nothing else")
			assert.Equal(t, testClientID, iss)
			assert.Equal(t, testClientID, sub)
			assert.Equal(t, testAud, aud)
			assert.Regexp(t, uuidV4, jti)
			assert.Equal(t, fixedNow.Unix(), iat)
			assert.Equal(t, int64(60), exp-iat, "default lifetime one minute")
			assert.Equal(t, Token{Raw: tok.Raw, ID: jti, IssuedAt: fixedNow, ExpiresAt: fixedNow.Add(time.Minute)}, tok)

			// The verifier accepts it with the JWK the builder writes.
			jwk, err := a.PublicJWK()
			require.NoError(t, err)
			got, err := VerifyClientAssertion(tok.Raw, jwk, testClientID, testTenant, WithClock(fixedClock))
			require.NoError(t, err)
			assert.Equal(t, tok, got)

			again, err := a.Sign(context.Background())
			require.NoError(t, err)
			assert.NotEqual(t, tok.ID, again.ID, "a new jti per assertion")
		})
	}
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func TestClientAssertionPublicJWK(t *testing.T) {
	ecSigner, err := SignerFromCrypto(p384Key(t))
	require.NoError(t, err)
	a, err := NewClientAssertion(ecSigner, testClientID, testTenant, "ec-1")
	require.NoError(t, err)
	jwk, err := a.PublicJWK()
	require.NoError(t, err)
	var m map[string]string
	require.NoError(t, json.Unmarshal(jwk, &m))
	pub := p384Key(t).PublicKey
	raw, err := pub.Bytes()
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"alg": "ES384", "crv": "P-384", "kid": "ec-1", "kty": "EC", "use": "sig",
		"x": base64.RawURLEncoding.EncodeToString(raw[1:49]), "y": base64.RawURLEncoding.EncodeToString(raw[49:])}, m)

	r, err := NewClientAssertion(testSigner(t), testClientID, testTenant, "rsa-1", WithAlgorithm(RS512))
	require.NoError(t, err)
	jwk, err = r.PublicJWK()
	require.NoError(t, err)
	m = nil
	require.NoError(t, json.Unmarshal(jwk, &m))
	k := testKey(t)
	assert.Equal(t, map[string]string{"alg": "RS512", "e": "AQAB", "kid": "rsa-1", "kty": "RSA", "use": "sig",
		"n": base64.RawURLEncoding.EncodeToString(k.N.Bytes())}, m)
}

func TestNewClientAssertionRefuses(t *testing.T) {
	ecSigner, err := SignerFromCrypto(p384Key(t))
	require.NoError(t, err)
	k256, err := ParsePrivateKey(fixture(t, "ec-p256-pkcs8.pem"))
	require.NoError(t, err)
	p256 := SignerFunc(k256.Public(), nil)
	tests := []struct {
		name   string
		signer Signer
		tenant string
		opts   []AssertionOption
		option string
		reason string
	}{
		{"nil signer", nil, testTenant, nil, "signer", "nil"},
		{"RSA 1024", SignerFunc(&smallKey(t).PublicKey, nil), testTenant, nil, "signer", "1024 bits"},
		{"ECDSA P-256", p256, testTenant, nil, "signer", "an ECDSA key on P-256; Qlik Cloud client assertions take ECDSA on P-384 only"},
		{"http", testSigner(t), "http://tenant.eu.qlikcloud.com", nil, "tenantURL", "https only"},
		{"no scheme", testSigner(t), "tenant.eu.qlikcloud.com", nil, "tenantURL", "host"},
		{"path", testSigner(t), testTenant + "/sense/app", nil, "tenantURL", "path"},
		{"token endpoint", testSigner(t), testAud, nil, "tenantURL", "token endpoint"},
		{"query", testSigner(t), testTenant + "/?x=1", nil, "tenantURL", "query"},
		{"empty query", testSigner(t), testTenant + "?", nil, "tenantURL", "query"},
		{"fragment", testSigner(t), testTenant + "#x", nil, "tenantURL", "fragment"},
		{"userinfo", testSigner(t), "https://user@tenant.eu.qlikcloud.com", nil, "tenantURL", "user"},
		{"empty tenant", testSigner(t), "", nil, "tenantURL", "empty"},
		{"TTL over five minutes", testSigner(t), testTenant, []AssertionOption{WithTTL(5*time.Minute + time.Second)}, "WithTTL", "at most 5m0s"},
		{"RS384", testSigner(t), testTenant, []AssertionOption{WithAlgorithm(RS384)}, "WithAlgorithm", "RS256 or RS512"},
		{"ES384 with RSA", testSigner(t), testTenant, []AssertionOption{WithAlgorithm(ES384)}, "WithAlgorithm", "does not fit"},
		{"RS256 with P-384", ecSigner, testTenant, []AssertionOption{WithAlgorithm(RS256)}, "WithAlgorithm", "does not fit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := NewClientAssertion(tt.signer, testClientID, tt.tenant, "kid", tt.opts...)
			require.Error(t, err)
			assert.Nil(t, a)
			var oe *OptionError
			require.ErrorAs(t, err, &oe)
			assert.Equal(t, tt.option, oe.Option, "%v", err)
			assert.Contains(t, err.Error(), tt.reason)
		})
	}
	t.Run("every problem at once", func(t *testing.T) {
		_, err := NewClientAssertion(nil, "", "ftp://x", "", WithTTL(time.Hour))
		require.Error(t, err)
		errs := joinedErrors(err)
		for _, o := range []string{"signer", "clientID", "tenantURL", "keyID", "WithTTL"} {
			assert.True(t, hasOption(errs, o), "names %s: %v", o, err)
		}
	})
	t.Run("exactly five minutes is accepted", func(t *testing.T) {
		_, err := NewClientAssertion(testSigner(t), testClientID, testTenant, "kid", WithTTL(5*time.Minute))
		require.NoError(t, err)
	})
	t.Run("a P-384 key still cannot sign logins", func(t *testing.T) {
		_, err := NewCloud(ecSigner, "iss", "kid")
		assert.ErrorIs(t, err, ErrKey)
	})
}

// TestES384OpaqueSigners checks that signToken converts and verifies what an
// opaque signer returns, and refuses a wrong key or a non-ASN.1 signature.
func TestES384OpaqueSigners(t *testing.T) {
	key := p384Key(t)
	other, err := ecdsa.GenerateKey(key.Curve, rand.Reader)
	require.NoError(t, err)
	sign := func(k *ecdsa.PrivateKey) func(context.Context, []byte, crypto.Hash) ([]byte, error) {
		return func(_ context.Context, digest []byte, _ crypto.Hash) ([]byte, error) {
			return ecdsa.SignASN1(rand.Reader, k, digest)
		}
	}
	build := func(s Signer) (Token, error) {
		a, err := NewClientAssertion(s, testClientID, testTenant, "k", WithClock(fixedClock))
		require.NoError(t, err)
		return a.Sign(context.Background())
	}
	tok, err := build(SignerFunc(&key.PublicKey, sign(key)))
	require.NoError(t, err, "a SignerFunc returning ASN.1 works")
	_, _, input, sig := splitJWS(t, tok.Raw)
	d := sha512.Sum384(input)
	assert.True(t, ecdsa.Verify(&key.PublicKey, d[:], new(big.Int).SetBytes(sig[:48]), new(big.Int).SetBytes(sig[48:])))

	_, err = build(SignerFunc(&key.PublicKey, sign(other)))
	assert.ErrorIs(t, err, ErrSigner)
	assert.ErrorContains(t, err, "does not verify")

	raw := func(_ context.Context, digest []byte, _ crypto.Hash) ([]byte, error) {
		r, s, err := ecdsa.Sign(rand.Reader, key, digest)
		return append(r.FillBytes(make([]byte, 48)), s.FillBytes(make([]byte, 48))...), err
	}
	_, err = build(SignerFunc(&key.PublicKey, raw))
	assert.ErrorIs(t, err, ErrSigner, "r||s where ASN.1 belongs is refused, not sent")
	assert.ErrorContains(t, err, "ASN.1")

	failing := func(context.Context, []byte, crypto.Hash) ([]byte, error) { return nil, errors.New("HSM offline") }
	_, err = build(SignerFunc(&key.PublicKey, failing))
	assert.ErrorIs(t, err, ErrSigner)
}

// BenchmarkClientAssertion measures signing and verifying one assertion
// per algorithm with the committed test keys.
func BenchmarkClientAssertion(b *testing.B) {
	ecSigner, err := SignerFromCrypto(p384Key(b))
	require.NoError(b, err)
	for _, bc := range []struct {
		name   string
		signer Signer
		opts   []AssertionOption
	}{
		{"RS256", testSigner(b), nil},
		{"RS512", testSigner(b), []AssertionOption{WithAlgorithm(RS512)}},
		{"ES384", ecSigner, nil},
	} {
		a, err := NewClientAssertion(bc.signer, testClientID, testTenant, "k", append(bc.opts, WithClock(fixedClock))...)
		require.NoError(b, err)
		jwk, err := a.PublicJWK()
		require.NoError(b, err)
		b.Run("sign/"+bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.Sign(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
		})
		tok, err := a.Sign(context.Background())
		require.NoError(b, err)
		b.Run("verify/"+bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := VerifyClientAssertion(tok.Raw, jwk, testClientID, testTenant, WithClock(fixedClock)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
