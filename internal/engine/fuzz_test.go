package engine

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/qsjwt/qsjwt/internal/engine/enginetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fuzzAlgs are the algorithms FuzzEncode picks from.
var fuzzAlgs = [...]string{"RS256", "RS384", "RS512"}

// fastSign makes a token with the encoder and the FastKey: the path of
// qsjwt's signToken, at a cost that lets a fuzz target sign every input.
func fastSign(alg, kid string, claims []Claim) (string, error) {
	key := enginetest.NewFastKey()
	input, err := AppendSigningInput(make([]byte, 0, TokenSize(kid, claims, key.PublicKey().Size())), alg, kid, claims)
	if err != nil {
		return "", err
	}
	h := Hash(alg).New()
	h.Write(input)
	sig, err := key.Sign(nil, h.Sum(nil), Hash(alg))
	if err != nil {
		return "", err
	}
	return string(AppendSignature(input, sig)), nil
}

// FuzzEncode: whatever names, values and key ID the encoder accepts, the
// token it writes verifies in jwx and in our verifier (crypto/rsa over the
// exact bytes), with exactly the header and claims given; what it refuses is
// invalid UTF-8 or a number JSON cannot hold, as a *ClaimError. And the other
// way: jwx signs the same claims and our verifier reads them back. Both sign
// with the FastKey, so every input is signed twice in well under a
// millisecond.
func FuzzEncode(f *testing.F) {
	f.Add("sub", "anna", `x":"1","userId`, "admin", 1.5, int64(7), true, uint8(0), "kid-1")
	f.Add("", "", "\\", "\x00", math.Inf(1), int64(-1), false, uint8(1), "")
	f.Add("\u2028", "\xff", "a", "\u00e4", 1e21, int64(math.MinInt64), true, uint8(2), "k\xff")
	key := enginetest.NewFastKey()
	pub := key.PublicKey()
	f.Fuzz(func(t *testing.T, n1, v1, n2, v2 string, fl float64, i int64, b bool, algIndex uint8, kid string) {
		alg := fuzzAlgs[int(algIndex)%len(fuzzAlgs)]
		claims := []Claim{{Name: n1, Value: v1}, {Name: n2, Value: []string{v2}}, {Name: "f", Value: fl}, {Name: "i", Value: i}, {Name: "b", Value: b}}
		for _, n := range []string{n1, n2} {
			switch n {
			case "iat", "nbf", "exp", "iss", "sub", "jti":
				t.Skip("a registered claim of another type: jwt.Parse refuses it, rightly")
			}
		}
		seen := map[string]bool{}
		for _, c := range claims {
			if seen[c.Name] {
				t.Skip("a name given twice: the caller's to refuse")
			}
			seen[c.Name] = true
		}
		tok, err := fastSign(alg, kid, claims)
		valid := utf8.ValidString(n1) && utf8.ValidString(v1) && utf8.ValidString(n2) && utf8.ValidString(v2) &&
			utf8.ValidString(kid) && !math.IsNaN(fl) && !math.IsInf(fl, 0)
		if !valid {
			var ce *ClaimError
			require.True(t, errors.As(err, &ce), "refused with a *ClaimError: %v", err)
			return
		}
		require.NoError(t, err)
		want := wantJSON(t, claims)
		assert.Equal(t, want, jwxClaims(t, tok, alg, pub))
		c, err := ParseCompact(tok)
		require.NoError(t, err)
		require.NoError(t, c.VerifyRSA(alg, []string{alg}, pub))
		dot := strings.LastIndexByte(tok, '.')
		h := Hash(alg).New()
		h.Write([]byte(tok[:dot]))
		require.NoError(t, rsa.VerifyPKCS1v15(pub, Hash(alg), h.Sum(nil), c.Signature), "crypto/rsa over the exact bytes")
		wantHeader := map[string]any{"alg": alg, "typ": "JWT"}
		if kid != "" {
			wantHeader["kid"] = kid
		}
		var hdr, got map[string]any
		require.NoError(t, json.Unmarshal(c.Header, &hdr))
		assert.Equal(t, wantHeader, hdr)
		require.NoError(t, json.Unmarshal(c.Payload, &got))
		assert.Equal(t, want, got)
		fs, err := appendFloat(nil, fl, 64)
		require.NoError(t, err)
		assert.Equal(t, stdJSON(t, fl), string(fs))

		// The other way: jwx signs the same claims, our verifier accepts the
		// token and reads the same claims (but names jwx would write
		// unescaped, which it cannot sign safely).
		jtok := jwxSign(t, key, alg, kid, claims)
		jc, err := ParseCompact(jtok)
		require.NoError(t, err)
		require.NoError(t, jc.VerifyRSA(alg, []string{alg}, pub))
		var fromJWX map[string]any
		require.NoError(t, json.Unmarshal(jc.Payload, &fromJWX))
		for name := range want {
			if needsEscape(name) {
				delete(want, name)
			}
		}
		assert.Equal(t, want, fromJWX)
	})
}

// FuzzVerifyCompact: ParseCompact never panics; what it accepts is canonical
// (re-encoding the decoded segments gives back the token, byte for byte), and
// what VerifyRSA accepts verifies with crypto/rsa over the token's own bytes.
// Its seeds in testdata/fuzz include the malleable tokens of issue 10.3,
// signed with the committed key.
func FuzzVerifyCompact(f *testing.F) {
	key := benchKey(f)
	tok := rawToken(f, key, `{"alg":"RS256"}`, `{"sub":"a"}`)
	respaced, crlf := malleable(tok)
	for _, s := range []string{tok, respaced, crlf, tok + ".e30", "a.b.c", "..", "e30.e31.AA"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		c, err := ParseCompact(token)
		if err != nil {
			require.True(t, errors.Is(err, ErrMalformed), "%v", err)
			return
		}
		enc := base64.RawURLEncoding
		require.Equal(t, token, enc.EncodeToString(c.Header)+"."+enc.EncodeToString(c.Payload)+"."+enc.EncodeToString(c.Signature))
		if c.VerifyRSA("RS256", []string{"RS256"}, &key.PublicKey) != nil {
			return
		}
		dot := strings.LastIndexByte(token, '.')
		sum := sha256.Sum256([]byte(token[:dot]))
		sig, err := enc.DecodeString(token[dot+1:])
		require.NoError(t, err)
		require.NoError(t, rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, sum[:], sig))
	})
}

// FuzzParseJWK: ParseJWK never panics, its errors repeat no key material,
// and whatever it accepts, jwx reads (the JWK, or the one key of a JWK Set,
// through jwk.ParseKey and Raw) to an equal public key. ParseJWK is
// stricter than jwx (its doc says where), so jwx may read what it refuses,
// never the other way.
func FuzzParseJWK(f *testing.F) {
	b64 := jwkB64.EncodeToString
	rsaPub := fixturePublicKey(f, "rsa2048-public.pem").(*rsa.PublicKey)
	n := b64(rsaPub.N.Bytes())
	rsaJWK := `{"kty":"RSA","n":"` + n + `","e":"AQAB","kid":"k1","alg":"RS256","use":"sig"}`
	f.Add(rsaJWK)
	f.Add(`{"keys":[` + rsaJWK + `]}`)
	f.Add(`{"keys":[` + rsaJWK + `,` + rsaJWK + `]}`)
	for _, file := range []string{"ec-p256-pkcs8.pem", "ec-p384-pkcs8.pem", "ec-p521-pkcs8.pem", "ed25519-pkcs8.pem"} {
		f.Add(string(jwxWritten(f, fixturePublicKey(f, file), map[string]any{"kid": "k"})))
	}
	f.Add(`{"kty":"OKP","crv":"X25519","x":"` + b64(bytes.Repeat([]byte{9}, 32)) + `"}`)
	for _, file := range []string{"rsa2048-pkcs8.pem", "ec-p384-pkcs8.pem", "ed25519-pkcs8.pem"} {
		data, err := os.ReadFile("../../testdata/test-only-" + file)
		require.NoError(f, err)
		block, _ := pem.Decode(data)
		priv, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		require.NoError(f, err)
		f.Add(string(jwxWritten(f, priv, nil)))
	}
	f.Add(`{"kty":"oct","k":"c2VjcmV0"}`)
	f.Add(`{"kty":"RSA","n":"` + base64.URLEncoding.EncodeToString(rsaPub.N.Bytes()) + `","e":"AQAB"}`)
	f.Add(`{"kty":"RSA","n":"` + base64.StdEncoding.EncodeToString(rsaPub.N.Bytes()) + `","e":"AQAB="}`)
	f.Add(`{"kty":"RSA","n":"` + b64(append([]byte{0}, rsaPub.N.Bytes()...)) + `","e":"AQAAAAAAAAAB"}`)
	f.Add(`{"kty":"EC","crv":"P-256","x":"` + b64(make([]byte, 32)) + `","y":"` + b64(make([]byte, 32)) + `"}`)
	f.Add(`{"kty":"EC","crv":"P-256","x":"AQAB","y":"AQAB"}`)
	f.Add(`{"kty":"RSA","n":"` + n[:64] + `\r\n` + n[64:] + `","e":"AQAB"}`)
	f.Add(`{"KTY":"RSA","kty":"EC","n":"` + n + `","e":"AQAB","Use":"enc"}`)
	certPEM, err := os.ReadFile("../../testdata/test-only-rsa2048.cer")
	require.NoError(f, err)
	block, _ := pem.Decode(certPEM)
	f.Add(`{"kty":"RSA","n":"` + n + `","e":"AQAB","x5c":["` + base64.StdEncoding.EncodeToString(block.Bytes) + `"],"key_ops":["verify"]}`)
	f.Fuzz(func(t *testing.T, data string) {
		pub, err := ParseJWK([]byte(data))
		if err != nil {
			require.Nil(t, pub)
			assertNoMaterial(t, err, []byte(data))
			return
		}
		switch k := pub.(type) {
		case *rsa.PublicKey:
			require.True(t, k.N.Sign() > 0 && k.E > 0 && k.E <= 1<<31-1, "RSA key with N of %d bits, E %d", k.N.BitLen(), k.E)
		case *ecdsa.PublicKey, ed25519.PublicKey, *ecdh.PublicKey:
		default:
			t.Fatalf("ParseJWK returned a %T", pub)
		}
		theirs, err := jwxParseJWK([]byte(data))
		require.NoError(t, err, "ParseJWK accepted what jwx does not read")
		require.True(t, sameKey(pub, theirs), "jwx reads another key: %T", theirs)
	})
}
