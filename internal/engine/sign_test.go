package engine

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// jwx v2 does not escape private claim names: these names would smuggle a
// second "userId" into the token. Sign must refuse them.
func TestSignRefusesClaimNamesThatNeedEscaping(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	for _, name := range []string{`zz":"1","userId`, `a"`, `\`, "a\nb", "\x7f", "\xff"} {
		raw, err := Sign("RS256", key, "", []Claim{{Name: "userId", Value: "anna"}, {Name: name, Value: "admin"}})
		assert.Error(t, err, "%q", name)
		assert.Nil(t, raw)
	}
	// Names that are plain text (Unicode included) sign, and come out once.
	raw, err := Sign("RS256", key, `kid"with\quote`, []Claim{{Name: "userId", Value: `anna","x":"y`}, {Name: "avdelning-ä", Value: "v"}})
	require.NoError(t, err)
	parts := strings.Split(string(raw), ".")
	for _, p := range parts[:2] {
		b, err := base64.RawURLEncoding.DecodeString(p)
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(b, &m), "%s", b)
		if _, ok := m["alg"]; ok {
			assert.Equal(t, `kid"with\quote`, m["kid"], "header values are escaped")
			continue
		}
		assert.Equal(t, map[string]any{"userId": `anna","x":"y`, "avdelning-ä": "v"}, m, "claim values are escaped")
	}
}
