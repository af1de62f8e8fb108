package engine

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestVerifyAllowList(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tok := rawToken(t, key, `{"alg":"RS256"}`, `{"sub":"a"}`)

	payload, err := Verify(tok, "RS256", []string{"RS256"}, &key.PublicKey)
	require.NoError(t, err)
	assert.Equal(t, `{"sub":"a"}`, string(payload))

	for _, tc := range []struct {
		name    string
		alg     string
		allowed []string
		key     crypto.PublicKey
		token   string
	}{
		{"not in the allow-list", "RS256", []string{"RS512"}, &key.PublicKey, tok},
		{"empty allow-list", "RS256", nil, &key.PublicKey, tok},
		{"none, even when allowed", "none", []string{"none"}, &key.PublicKey, tok},
		{"HS256 keyed with the public key, even when allowed", "HS256", []string{"HS256"}, &key.PublicKey, tok},
		{"EC key for RS256", "RS256", []string{"RS256"}, &ec.PublicKey, tok},
		{"private key", "RS256", []string{"RS256"}, key, tok},
		{"nil key", "RS256", []string{"RS256"}, (*rsa.PublicKey)(nil), tok},
		{"wrong hash", "RS384", []string{"RS384"}, &key.PublicKey, tok},
		{"JSON serialization", "RS256", []string{"RS256"}, &key.PublicKey, `{"payload":"a.b","signatures":[]}`},
		{"JWE", "RS256", []string{"RS256"}, &key.PublicKey, tok + ".a.b"},
		{"tampered", "RS256", []string{"RS256"}, &key.PublicKey, strings.Replace(tok, ".", ".e30", 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			payload, err := Verify(tc.token, tc.alg, tc.allowed, tc.key)
			assert.Error(t, err)
			assert.Nil(t, payload)
		})
	}
}
