package engine

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// signRSA makes a token with the encoder and crypto/rsa: the engine path
// qsjwt's signToken takes, without the root package.
func signRSA(key *rsa.PrivateKey, alg, kid string, claims []Claim) (string, error) {
	input, err := AppendSigningInput(make([]byte, 0, TokenSize(kid, claims, key.Size())), alg, kid, claims)
	if err != nil {
		return "", err
	}
	h := Hash(alg).New()
	h.Write(input)
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, Hash(alg), h.Sum(nil))
	if err != nil {
		return "", err
	}
	return string(AppendSignature(input, sig)), nil
}

// crossClaims are claims that need every kind of escaping the encoder does,
// in names as much as in values.
var crossClaims = []Claim{
	{Name: "iss", Value: "tenant.eu.qlikcloud.com"},
	{Name: "aud", Value: "qlik.api/login/jwt-session"},
	{Name: "sub", Value: `anna","userId":"admin`},
	{Name: `x":"1","userId`, Value: "smuggled?"},
	{Name: "back\\slash", Value: "a\\b"},
	{Name: "ctl\x00\x01\x1f\x7f", Value: "line\nfeed\rreturn\ttab"},
	{Name: "avdelning-ä", Value: "Försäljning <&> \u2028\u2029 😀"},
	{Name: "group", Value: []string{"g1", `g"2`, ""}},
	{Name: "empty", Value: []string{}},
	{Name: "email_verified", Value: true},
	{Name: "off", Value: false},
	{Name: "int", Value: int64(-42)},
	{Name: "uint", Value: uint32(7)},
	{Name: "small", Value: 1e-7},
	{Name: "float", Value: 3.25},
	{Name: "float32", Value: float32(0.1)},
	{Name: "big", Value: 1e21},
	{Name: "null", Value: nil},
	{Name: "map", Value: map[string]any{"k": "v", "n": 1}},
	{Name: "iat", Value: time.Unix(1795953600, 999_999_999)},
	{Name: "exp", Value: time.Unix(1795957200, 0)},
}

// wantJSON is what the claims mean as JSON, by encoding/json: times as whole
// seconds, everything else as it is.
func wantJSON(t testing.TB, claims []Claim) map[string]any {
	t.Helper()
	m := map[string]any{}
	for _, c := range claims {
		v := c.Value
		if tm, ok := v.(time.Time); ok {
			v = tm.Unix()
		}
		b, err := json.Marshal(v)
		require.NoError(t, err)
		var back any
		require.NoError(t, json.Unmarshal(b, &back))
		m[c.Name] = back
	}
	return m
}

// jwxClaims parses token with jwx (jws.Verify, then jwt.Parse with the key)
// and returns its claims as JSON, through jwx's own serialization.
func jwxClaims(t testing.TB, token string, alg string, pub *rsa.PublicKey) map[string]any {
	t.Helper()
	payload, err := jws.Verify([]byte(token), jws.WithKey(jwa.SignatureAlgorithm(alg), pub))
	require.NoError(t, err, "jws.Verify")
	tok, err := jwt.Parse([]byte(token), jwt.WithKey(jwa.SignatureAlgorithm(alg), pub), jwt.WithValidate(false))
	require.NoError(t, err, "jwt.Parse")
	m, err := tok.AsMap(t.Context())
	require.NoError(t, err)
	for k, v := range m {
		switch v := v.(type) {
		case time.Time:
			m[k] = float64(v.Unix())
		case []string: // jwx reads "aud" as a list, always
			if k == "aud" && len(v) == 1 {
				var p map[string]any
				require.NoError(t, json.Unmarshal(payload, &p))
				if _, isString := p["aud"].(string); isString {
					m[k] = v[0]
					continue
				}
			}
			l := make([]any, len(v))
			for i, s := range v {
				l[i] = s
			}
			m[k] = l
		}
	}
	return m
}

func TestEncoderTokensVerifyInJWX(t *testing.T) {
	key := benchKey(t)
	for _, alg := range []string{"RS256", "RS384", "RS512"} {
		tok, err := signRSA(key, alg, `kid"with\quote`, crossClaims)
		require.NoError(t, err)
		assert.Equal(t, wantJSON(t, crossClaims), jwxClaims(t, tok, alg, &key.PublicKey), alg)

		// And through our own verifier, which returns the very bytes signed.
		c, err := ParseCompact(tok)
		require.NoError(t, err)
		require.NoError(t, c.VerifyRSA(alg, []string{alg}, &key.PublicKey))
		var hdr map[string]any
		require.NoError(t, json.Unmarshal(c.Header, &hdr))
		assert.Equal(t, map[string]any{"alg": alg, "kid": `kid"with\quote`, "typ": "JWT"}, hdr)
		var got map[string]any
		require.NoError(t, json.Unmarshal(c.Payload, &got))
		assert.Equal(t, wantJSON(t, crossClaims), got)
	}
}

// TestJWXTokensVerifyInEngine signs the same claims with jwx alone and
// requires our verifier to accept them with the claims intact.
func TestJWXTokensVerifyInEngine(t *testing.T) {
	key := benchKey(t)
	for _, alg := range []string{"RS256", "RS384", "RS512"} {
		tok := jwxSign(t, key, alg, "kid", crossClaims)
		c, err := ParseCompact(tok)
		require.NoError(t, err)
		require.NoError(t, c.VerifyRSA(alg, []string{alg}, &key.PublicKey), alg)
		var got map[string]any
		require.NoError(t, json.Unmarshal(c.Payload, &got))
		want := wantJSON(t, crossClaims)
		// jwx writes private claim names unescaped (the reason this encoder
		// exists), so only names that need no escaping are compared.
		for name := range want {
			if needsEscape(name) {
				delete(want, name)
				delete(got, name)
			}
		}
		assert.Equal(t, want, got, alg)
	}
}

// jwxSign signs claims with jwx's documented API, with an *rsa.PrivateKey or
// any crypto.Signer of an RSA key.
func jwxSign(t testing.TB, key crypto.Signer, alg, kid string, claims []Claim) string {
	t.Helper()
	tok := jwt.New()
	for _, c := range claims {
		if needsEscape(c.Name) {
			continue // jwx would write invalid or smuggling JSON
		}
		require.NoError(t, tok.Set(c.Name, c.Value), c.Name)
	}
	tok.Options().Enable(jwt.FlattenAudience)
	hdr := jws.NewHeaders()
	require.NoError(t, hdr.Set(jws.KeyIDKey, kid))
	raw, err := jwt.Sign(tok, jwt.WithKey(jwa.SignatureAlgorithm(alg), key, jws.WithProtectedHeaders(hdr)))
	require.NoError(t, err)
	return string(raw)
}

func TestEncoderRefuses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		alg    string
		kid    string
		claims []Claim
		claim  string
	}{
		{"NaN", "RS256", "", []Claim{{Name: "n", Value: math.NaN()}}, "n"},
		{"+Inf", "RS256", "", []Claim{{Name: "n", Value: math.Inf(1)}}, "n"},
		{"-Inf float32", "RS256", "", []Claim{{Name: "n", Value: float32(math.Inf(-1))}}, "n"},
		{"invalid UTF-8 value", "RS256", "", []Claim{{Name: "sub", Value: "M\xfcller"}}, "sub"},
		{"invalid UTF-8 in a list", "RS256", "", []Claim{{Name: "groups", Value: []string{"ok", "M\xf6ller"}}}, "groups"},
		{"invalid UTF-8 name", "RS256", "", []Claim{{Name: "a\xff", Value: "v"}}, "a\xff"},
		{"invalid UTF-8 kid", "RS256", "k\xff", nil, "kid"},
		{"a channel", "RS256", "", []Claim{{Name: "c", Value: make(chan int)}}, "c"},
		{"unknown alg", "HS256", "", nil, ""},
		{"none", "none", "", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := []byte("keep")
			out, err := AppendSigningInput(dst, tc.alg, tc.kid, tc.claims)
			require.Error(t, err)
			assert.Equal(t, "keep", string(out), "dst is returned unchanged")
			var ce *ClaimError
			if tc.claim == "" {
				assert.False(t, errors.As(err, &ce))
				return
			}
			require.True(t, errors.As(err, &ce), "%v", err)
			assert.Equal(t, tc.claim, ce.Claim)
			assert.NotContains(t, ce.Reason, "ller", "the reason does not repeat the value")
		})
	}
}

// TestEncoderMatchesEncodingJSON: strings and numbers are written byte for
// byte as encoding/json writes them (without its HTML escaping).
func TestEncoderMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `"`, `\`, "\x00\x1f\x7f", "<&>", "\u2028\u2029", "ä😀", "\t\n\r\b\f"} {
		assert.Equal(t, stdJSON(t, s), string(appendString(nil, s)), "%q", s)
	}
	for _, f := range []float64{0, -0.0, 1, -1.5, 1e-6, 1e-7, 123456789e-15, 1e20, 1e21, 1.7976931348623157e308, 5e-324, 0.1, 100} {
		got, err := appendFloat(nil, f, 64)
		require.NoError(t, err)
		assert.Equal(t, stdJSON(t, f), string(got), "%v", f)
		if math.IsInf(float64(float32(f)), 0) {
			continue
		}
		got, err = appendFloat(nil, float64(float32(f)), 32)
		require.NoError(t, err)
		assert.Equal(t, stdJSON(t, float32(f)), string(got), "float32 %v", f)
	}
}

// stdJSON is v as encoding/json writes it with HTML escaping off.
func stdJSON(t testing.TB, v any) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(v))
	return strings.TrimSuffix(b.String(), "\n")
}

// needsEscape reports whether a JSON string must escape part of name: jwx v2
// writes private claim names as they are.
func needsEscape(name string) bool {
	return strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == '"' || r == '\\' })
}
