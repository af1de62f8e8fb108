package engine

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"math/big"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rawToken signs header and payload JSON with crypto/rsa, without jwx.
func rawToken(t testing.TB, key *rsa.PrivateKey, header, payload string) string {
	t.Helper()
	input := b64(header) + "." + b64(payload)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	require.NoError(t, err)
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// malleable returns the two tokens of issue 10.3 made from a valid one: the
// same header JSON with spaces around it, re-encoded, and CR LF inserted into
// the payload segment. Both keep the original signature.
func malleable(tok string) (respaced, crlf string) {
	parts := strings.SplitN(tok, ".", 3)
	hdr, _ := base64.RawURLEncoding.DecodeString(parts[0])
	respaced = b64(" "+string(hdr)+" ") + "." + parts[1] + "." + parts[2]
	crlf = parts[0] + "." + parts[1][:8] + "\r\n" + parts[1][8:] + "." + parts[2]
	return respaced, crlf
}

func TestParseCompactVerifiesExactBytes(t *testing.T) {
	key := benchKey(t)
	tok := rawToken(t, key, `{"alg":"RS256"}`, `{"sub":"a"}`)
	c, err := ParseCompact(tok)
	require.NoError(t, err)
	require.NoError(t, c.VerifyRSA("RS256", []string{"RS256"}, &key.PublicKey))
	assert.Equal(t, `{"alg":"RS256"}`, string(c.Header))
	assert.Equal(t, `{"sub":"a"}`, string(c.Payload))
	assert.Equal(t, tok[:strings.LastIndexByte(tok, '.')], string(c.SigningInput))

	respaced, crlf := malleable(tok)
	// The re-encoded header decodes to JSON that means the same, but the
	// signature does not cover those bytes.
	c, err = ParseCompact(respaced)
	require.NoError(t, err)
	assert.ErrorIs(t, c.VerifyRSA("RS256", []string{"RS256"}, &key.PublicKey), ErrBadSignature)
	_, err = ParseCompact(crlf)
	assert.ErrorIs(t, err, ErrMalformed)
	assert.Contains(t, err.Error(), "carriage return")

	// A token really signed over a header with spaces verifies, and the
	// header returned is the one signed, spaces included.
	spaced := rawToken(t, key, ` {"alg":"RS256"} `, `{"sub":"a"}`)
	c, err = ParseCompact(spaced)
	require.NoError(t, err)
	require.NoError(t, c.VerifyRSA("RS256", []string{"RS256"}, &key.PublicKey))
	assert.Equal(t, ` {"alg":"RS256"} `, string(c.Header))
}

func TestParseCompactRefuses(t *testing.T) {
	key := benchKey(t)
	tok := rawToken(t, key, `{"alg":"RS256"}`, `{"sub":"a"}`)
	parts := strings.Split(tok, ".")
	// "e30" is {}; "e31" spells the same bytes with non-zero unused bits.
	for name, bad := range map[string]string{
		"CR LF in the header":     parts[0][:4] + "\r\n" + parts[0][4:] + "." + parts[1] + "." + parts[2],
		"LF in the signature":     parts[0] + "." + parts[1] + "." + parts[2][:10] + "\n" + parts[2][10:],
		"space":                   parts[0] + " ." + parts[1] + "." + parts[2],
		"leading space":           " " + tok,
		"trailing newline":        tok + "\n",
		"padding":                 parts[0] + "==." + parts[1] + "." + parts[2],
		"standard base64 +":       parts[0] + "." + parts[1] + "+." + parts[2],
		"standard base64 /":       parts[0] + "." + parts[1] + "/." + parts[2],
		"two segments":            parts[0] + "." + parts[1],
		"four segments":           tok + ".e30",
		"JWE":                     "eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d",
		"JSON serialization":      `{"payload":"e30","signatures":[]}`,
		"empty header":            "." + parts[1] + "." + parts[2],
		"empty payload":           parts[0] + ".." + parts[2],
		"empty signature":         parts[0] + "." + parts[1] + ".",
		"impossible length":       parts[0] + "." + parts[1] + "AA." + parts[2],
		"non-canonical last char": parts[0] + ".e31." + parts[2],
		"empty":                   "",
		"Bearer prefix":           "Bearer " + tok,
		"NUL":                     tok[:5] + "\x00" + tok[5:],
	} {
		t.Run(name, func(t *testing.T) {
			c, err := ParseCompact(bad)
			require.ErrorIs(t, err, ErrMalformed)
			assert.Nil(t, c.Payload)
		})
	}
	// The canonical spelling of the same payload parses.
	_, err := ParseCompact(parts[0] + ".e30." + parts[2])
	assert.NoError(t, err)
}

func TestVerifyRSAAllowList(t *testing.T) {
	key := benchKey(t)
	c, err := ParseCompact(rawToken(t, key, `{"alg":"RS256"}`, `{"sub":"a"}`))
	require.NoError(t, err)
	require.NoError(t, c.VerifyRSA("RS256", []string{"RS512", "RS256"}, &key.PublicKey))
	for name, tc := range map[string]struct {
		alg     string
		allowed []string
		key     *rsa.PublicKey
	}{
		"not allowed":         {"RS256", []string{"RS512"}, &key.PublicKey},
		"no allow-list":       {"RS256", nil, &key.PublicKey},
		"none, allowed":       {"none", []string{"none"}, &key.PublicKey},
		"HS256, allowed":      {"HS256", []string{"HS256"}, &key.PublicKey},
		"ES384, allowed":      {"ES384", []string{"ES384"}, &key.PublicKey},
		"nil key":             {"RS256", []string{"RS256"}, nil},
		"wrong hash":          {"RS384", []string{"RS384"}, &key.PublicKey},
		"the other hash too":  {"RS512", []string{"RS512"}, &key.PublicKey},
		"another key":         {"RS256", []string{"RS256"}, otherKey(t)},
		"alg in another case": {"rs256", []string{"rs256"}, &key.PublicKey},
	} {
		t.Run(name, func(t *testing.T) { assert.Error(t, c.VerifyRSA(tc.alg, tc.allowed, tc.key)) })
	}
}

func otherKey(t testing.TB) *rsa.PublicKey {
	k := benchKey(t)
	n := new(rsa.PublicKey)
	*n = k.PublicKey
	n.N = new(big.Int).Add(k.N, big.NewInt(2)) // a different modulus of the same size
	return n
}
