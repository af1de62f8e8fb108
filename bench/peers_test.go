package main

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/qsjwt/qsjwt/internal/engine"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCandidatesCompareLikeWithLike: every signer makes a token that
// crypto/rsa verifies, with the Cloud claims; every verifier accepts the
// shared token and refuses it with one byte of the payload changed.
func TestCandidatesCompareLikeWithLike(t *testing.T) {
	s, err := newSetup()
	require.NoError(t, err)
	pub := &s.key.PublicKey
	js, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: s.key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", keyID))
	require.NoError(t, err)
	for name, sign := range map[string]func() (string, error){
		"engine":     func() (string, error) { return engineSign(s.key) },
		"golang-jwt": func() (string, error) { return golangJWTSign(s.key) },
		"jwx":        func() (string, error) { return jwxSign(s.key) },
		"go-jose":    func() (string, error) { return joseSign(js) },
		"qsjwt":      func() (string, error) { return s.token, nil },
	} {
		tok, err := sign()
		require.NoError(t, err, name)
		cp, err := engine.ParseCompact(tok)
		require.NoError(t, err, name)
		sum := sha256.Sum256(cp.SigningInput)
		require.NoError(t, rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], cp.Signature), name)
		var got map[string]any
		require.NoError(t, json.Unmarshal(cp.Payload, &got), name)
		want := cloudMap()
		assert.Len(t, got, len(want), name)
		for k := range want {
			assert.Contains(t, got, k, name)
		}
		assert.Equal(t, audience, got["aud"], "%s writes aud as a string", name)
	}
	_, cands, err := signers(s)
	require.NoError(t, err)
	for _, cand := range cands {
		assert.NoError(t, cand.run(), cand.name)
	}

	_, vs, err := verifiers(s)
	require.NoError(t, err)
	parts := strings.Split(s.token, ".")
	p := []byte(parts[1])
	p[5] ^= 1
	tampered := parts[0] + "." + string(p) + "." + parts[2]
	for _, v := range vs {
		assert.NoError(t, v.run(), v.name)
		if v.name == "raw again (control)" { // checks the signing input setup holds, not the token
			continue
		}
		orig := s.token
		s.token = tampered
		_, again, err := verifiers(s)
		require.NoError(t, err)
		for _, w := range again {
			if w.name == v.name {
				assert.Error(t, w.run(), "%s accepts a tampered token", v.name)
			}
		}
		s.token = orig
	}
}
