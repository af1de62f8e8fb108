package engine

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha512"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/qsjwt/qsjwt/internal/engine/enginetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func p384Key(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	data, err := os.ReadFile("../../testdata/test-only-ec-p384-pkcs8.pem")
	require.NoError(t, err)
	block, _ := pem.Decode(data)
	require.NotNil(t, block)
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	require.NoError(t, err)
	return k.(*ecdsa.PrivateKey)
}

// es384Token signs claims ES384 with key the way signToken does: the
// encoder's signing input, crypto's ASN.1 signature, converted to r||s.
func es384Token(t testing.TB, key *ecdsa.PrivateKey, claims []Claim) string {
	t.Helper()
	input, err := AppendSigningInput(nil, "ES384", "ec-1", claims)
	require.NoError(t, err)
	d := sha512.Sum384(input)
	der, err := ecdsa.SignASN1(rand.Reader, key, d[:])
	require.NoError(t, err)
	sig, err := ECDSAToJWS(der, 48)
	require.NoError(t, err)
	require.Len(t, sig, ES384SignatureSize)
	return string(AppendSignature(input, sig))
}

func TestES384CrossCheckedWithJWX(t *testing.T) {
	key := p384Key(t)
	claims := []Claim{{"iss", "client"}, {"sub", "client"}, {"aud", "https://t.example/oauth/token"}, {"iat", time.Unix(1700000000, 0)}}
	for range 20 { // r and s with leading zero bytes come up now and then
		tok := es384Token(t, key, claims)
		payload, err := jws.Verify([]byte(tok), jws.WithKey(jwa.ES384, &key.PublicKey))
		require.NoError(t, err, "jwx verifies our ES384 token")
		assert.JSONEq(t, `{"iss":"client","sub":"client","aud":"https://t.example/oauth/token","iat":1700000000}`, string(payload))

		c, err := ParseCompact(tok)
		require.NoError(t, err)
		require.NoError(t, c.VerifyES384(&key.PublicKey))
		c.Signature[10] ^= 1
		assert.ErrorIs(t, c.VerifyES384(&key.PublicKey), ErrBadSignature)
	}

	// And the other way: jwx's ES384 token verifies with ours.
	signed, err := jws.Sign([]byte(`{"a":1}`), jws.WithKey(jwa.ES384, key))
	require.NoError(t, err)
	c, err := ParseCompact(string(signed))
	require.NoError(t, err)
	require.NoError(t, c.VerifyES384(&key.PublicKey))
	c.Signature = c.Signature[:95]
	assert.ErrorIs(t, c.VerifyES384(&key.PublicKey), ErrBadSignature, "95 bytes")
}

func TestECDSAToJWSRefuses(t *testing.T) {
	for name, der := range map[string][]byte{
		"not ASN.1":      {1, 2, 3},
		"trailing bytes": {0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x00},
		"zero r":         {0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x01},
		"negative s":     {0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0xff},
		"r too long":     append([]byte{0x30, 0x36, 0x02, 0x31, 0x01}, append(make([]byte, 48), 0x02, 0x01, 0x01)...),
	} {
		_, err := ECDSAToJWS(der, 48)
		assert.Error(t, err, name)
	}
}

func TestAssertionJWKCrossCheckedWithJWX(t *testing.T) {
	key := p384Key(t)
	data, err := AssertionJWK(&key.PublicKey, "ec-1", "ES384")
	require.NoError(t, err)
	parsed, err := jwk.ParseKey(data)
	require.NoError(t, err, "jwx reads our EC JWK")
	var raw ecdsa.PublicKey
	require.NoError(t, parsed.Raw(&raw))
	assert.True(t, key.PublicKey.Equal(&raw))

	pub, kid, alg, err := ParseAssertionJWK(data, 2048)
	require.NoError(t, err)
	assert.True(t, key.PublicKey.Equal(pub))
	assert.Equal(t, []string{"ec-1", "ES384"}, []string{kid, alg})

	// A JWK jwx writes for the same key reads back too.
	fromJWX, err := jwk.FromRaw(&key.PublicKey)
	require.NoError(t, err)
	require.NoError(t, fromJWX.Set(jwk.KeyIDKey, "x"))
	require.NoError(t, fromJWX.Set(jwk.AlgorithmKey, jwa.ES384))
	require.NoError(t, fromJWX.Set(jwk.KeyUsageKey, jwk.ForSignature))
	js, err := json.Marshal(fromJWX)
	require.NoError(t, err)
	pub, _, _, err = ParseAssertionJWK(js, 2048)
	require.NoError(t, err)
	assert.True(t, key.PublicKey.Equal(pub))

	for name, bad := range map[string]string{
		"private":    `{"kty":"EC","crv":"P-384","d":"AAAA","kid":"k","alg":"ES384","use":"sig"}`,
		"no kid":     `{"kty":"EC","crv":"P-384","alg":"ES384","use":"sig","x":"","y":""}`,
		"enc":        `{"kty":"EC","crv":"P-384","alg":"ES384","use":"enc","kid":"k"}`,
		"P-256":      `{"kty":"EC","crv":"P-256","alg":"ES256","use":"sig","kid":"k"}`,
		"RS384":      `{"kty":"RSA","alg":"RS384","use":"sig","kid":"k","n":"AQAB","e":"AQAB"}`,
		"small RSA":  `{"kty":"RSA","alg":"RS256","use":"sig","kid":"k","n":"AQAB","e":"AQAB"}`,
		"not a JSON": `{`,
	} {
		_, _, _, err := ParseAssertionJWK([]byte(bad), 2048)
		assert.Error(t, err, name)
		assert.NotContains(t, err.Error(), "AAAA")
	}
}

// TestECDSAToJWSPads: short r and s (as 1 in 256 signatures have) are
// left-padded to 48 bytes each; a signer's ASN.1 form never is.
func TestECDSAToJWSPads(t *testing.T) {
	der := []byte{0x30, 0x07, 0x02, 0x01, 0x01, 0x02, 0x02, 0x01, 0x02} // r = 1, s = 0x0102
	got, err := ECDSAToJWS(der, 48)
	require.NoError(t, err)
	want := make([]byte, 96)
	want[47], want[94], want[95] = 1, 1, 2
	assert.Equal(t, want, got)
}

// TestParseAssertionJWKRefusesLineBreaks: encoding/base64 skips CR and LF,
// so a JWK member with a line break inside decoded as if it had none.
func TestParseAssertionJWKRefusesLineBreaks(t *testing.T) {
	k := enginetest.NewFastKey()
	data, err := AssertionJWK(k.Public(), "k1", "RS256")
	require.NoError(t, err)
	_, _, _, err = ParseAssertionJWK(data, 2048)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(data, &m))
	n := m["n"].(string)
	m["n"] = n[:40] + "\r\n" + n[40:]
	broken, err := json.Marshal(m)
	require.NoError(t, err)
	_, _, _, err = ParseAssertionJWK(broken, 2048)
	assert.Error(t, err)
}
