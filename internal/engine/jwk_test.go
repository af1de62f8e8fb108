package engine

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/big"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/x25519"
	"github.com/qsjwt/qsjwt/internal/engine/enginetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fixturePublicKey reads the public key of a PEM fixture in the module's
// testdata: a PUBLIC KEY, an RSA PUBLIC KEY or a PKCS #8 PRIVATE KEY.
func fixturePublicKey(t testing.TB, name string) crypto.PublicKey {
	t.Helper()
	return readPublicKey(t, "../../testdata/test-only-"+name)
}

// readPublicKey reads the public key of a PEM file: a PUBLIC KEY, an RSA
// PUBLIC KEY or a PKCS #8 PRIVATE KEY.
func readPublicKey(t testing.TB, name string) crypto.PublicKey {
	t.Helper()
	data, err := os.ReadFile(name)
	require.NoError(t, err)
	block, _ := pem.Decode(data)
	require.NotNil(t, block, "no PEM block in %s", name)
	switch block.Type {
	case "PUBLIC KEY":
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		require.NoError(t, err, name)
		return pub
	case "RSA PUBLIC KEY":
		pub, err := x509.ParsePKCS1PublicKey(block.Bytes)
		require.NoError(t, err, name)
		return pub
	case "PRIVATE KEY":
		key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		require.NoError(t, err, name)
		return key.(crypto.Signer).Public()
	}
	t.Fatalf("%s: PEM block %q", name, block.Type)
	return nil
}

// publicJWKCase is one input of PublicJWK whose output is pinned.
type publicJWKCase struct {
	name string
	pub  *rsa.PublicKey
	kid  string
}

// publicJWKCases are the fixture keys, the FastKey and exponents from 1 to
// the largest int, each with key IDs that need JSON escaping.
func publicJWKCases(t testing.TB) []publicJWKCase {
	rsa2048 := fixturePublicKey(t, "rsa2048-public.pem").(*rsa.PublicKey)
	keys := []struct {
		name string
		pub  *rsa.PublicKey
	}{
		{"rsa2048", rsa2048},
		{"rsa2048-pkcs1", fixturePublicKey(t, "rsa2048-public-pkcs1.pem").(*rsa.PublicKey)},
		{"rsa1024", fixturePublicKey(t, "rsa1024-pkcs8.pem").(*rsa.PublicKey)},
		{"fastkey", enginetest.NewFastKey().PublicKey()},
	}
	for _, e := range []int{1, 3, 65535, 1<<31 - 1, 1<<32 + 1, math.MaxInt64} {
		keys = append(keys, struct {
			name string
			pub  *rsa.PublicKey
		}{fmt.Sprintf("rsa2048-e%d", e), &rsa.PublicKey{N: rsa2048.N, E: e}})
	}
	keys = append(keys, struct {
		name string
		pub  *rsa.PublicKey
	}{"n1", &rsa.PublicKey{N: big.NewInt(1), E: 65537}})
	var cases []publicJWKCase
	for _, k := range keys {
		kids := []string{"kid-1"}
		if k.name == "rsa2048" {
			kids = append(kids, "", `a "quoted" <kid> & ünïcode`, "\u2028\u2029", "\x00\x1f\x7f", "bad \xff kid", `\/`, "\U0001F600")
		}
		for _, kid := range kids {
			cases = append(cases, publicJWKCase{name: fmt.Sprintf("%s kid=%q", k.name, kid), pub: k.pub, kid: kid})
		}
	}
	return cases
}

var updatePublicJWK = flag.Bool("update-publicjwk", false, "rewrite testdata/publicjwk.golden from PublicJWK")

// TestPublicJWKPinned pins PublicJWK's output byte for byte: the golden
// file was written by the jwx-based PublicJWK (jwk.FromRaw, Set, json.Marshal)
// before it was rewritten on the standard library, so the JWKs qs-jwt writes
// stay what they were. Do not regenerate it to make a change pass.
func TestPublicJWKPinned(t *testing.T) {
	const golden = "testdata/publicjwk.golden"
	var out bytes.Buffer
	for _, c := range publicJWKCases(t) {
		data, err := PublicJWK(c.pub, c.kid)
		require.NoError(t, err, c.name)
		fmt.Fprintf(&out, "%s\t%s\n", c.name, data)
	}
	if *updatePublicJWK {
		require.NoError(t, os.WriteFile(golden, out.Bytes(), 0o644))
		return
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	wantLines := readLines(t, want)
	gotLines := readLines(t, out.Bytes())
	require.Equal(t, len(wantLines), len(gotLines), "cases")
	for i := range wantLines {
		assert.Equal(t, wantLines[i], gotLines[i])
	}
}

func readLines(t testing.TB, data []byte) []string {
	var lines []string
	s := bufio.NewScanner(bytes.NewReader(data))
	s.Buffer(nil, 1<<20)
	for s.Scan() {
		lines = append(lines, s.Text())
	}
	require.NoError(t, s.Err())
	return lines
}

// jwxParseJWK reads data as ParseJWK did before it was rewritten: the one
// key of a JWK Set, or the JWK, through jwk.ParseKey and Raw. It is the
// independent reader every JWK ParseJWK accepts must parse in, to the same
// key.
func jwxParseJWK(data []byte) (any, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, err
	}
	if set.Keys != nil {
		if len(set.Keys) != 1 {
			return nil, fmt.Errorf("%d keys", len(set.Keys))
		}
		data = set.Keys[0]
	}
	key, err := jwk.ParseKey(bytes.Clone(data))
	if err != nil {
		return nil, err
	}
	var raw any
	if err := key.Raw(&raw); err != nil {
		return nil, err
	}
	return raw, nil
}

// sameKey reports whether ours, a key ParseJWK returned, is the key jwx
// read: equal by the key's Equal method, or, for X25519, for which jwx has
// its own type, equal bytes.
func sameKey(ours crypto.PublicKey, theirs any) bool {
	switch k := ours.(type) {
	case *ecdh.PublicKey:
		x, ok := theirs.(x25519.PublicKey)
		return ok && k.Curve() == ecdh.X25519() && bytes.Equal(k.Bytes(), x)
	case interface{ Equal(crypto.PublicKey) bool }:
		return k.Equal(theirs)
	}
	return false
}

// TestPublicJWKParsesInJWX: every JWK PublicJWK writes is the JWK jwx
// writes for the key (jwk.FromRaw, the same members, json.Marshal), parses
// in jwx to the same key and key ID, and reads back in ParseJWK.
func TestPublicJWKParsesInJWX(t *testing.T) {
	for _, c := range publicJWKCases(t) {
		t.Run(c.name, func(t *testing.T) {
			data, err := PublicJWK(c.pub, c.kid)
			require.NoError(t, err)

			written, err := jwk.FromRaw(c.pub)
			require.NoError(t, err)
			require.NoError(t, written.Set(jwk.KeyIDKey, c.kid))
			require.NoError(t, written.Set(jwk.AlgorithmKey, jwa.RS256))
			require.NoError(t, written.Set(jwk.KeyUsageKey, jwk.ForSignature))
			want, err := json.Marshal(written)
			require.NoError(t, err)
			assert.Equal(t, string(want), string(data), "the JWK jwx writes")

			parsed, err := jwk.ParseKey(data)
			require.NoError(t, err)
			var raw rsa.PublicKey
			require.NoError(t, parsed.Raw(&raw))
			assert.True(t, c.pub.Equal(&raw), "jwx reads the same key")
			if utf8.ValidString(c.kid) {
				assert.Equal(t, c.kid, parsed.KeyID())
			}
			for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"} {
				assert.NotContains(t, string(data), `"`+private+`":`)
			}

			pub, err := ParseJWK(data)
			if c.pub.E > 1<<31-1 {
				assert.ErrorIs(t, err, ErrUnsupportedJWK, "crypto/rsa verifies with no exponent over 2^31-1")
				return
			}
			require.NoError(t, err)
			assert.True(t, c.pub.Equal(pub), "ParseJWK reads it back")
		})
	}
	t.Run("refused", func(t *testing.T) {
		for _, pub := range []*rsa.PublicKey{nil, {}, {N: big.NewInt(0), E: 3}, {N: big.NewInt(-5), E: 3}, {N: big.NewInt(5), E: 0}, {N: big.NewInt(5), E: -3}} {
			_, err := PublicJWK(pub, "kid")
			assert.Error(t, err, "%v", pub)
		}
	})
}

// jwxWritten returns the JWK jwx writes for key with the members given.
func jwxWritten(t testing.TB, key any, members map[string]any) []byte {
	t.Helper()
	k, err := jwk.FromRaw(key)
	require.NoError(t, err)
	for name, value := range members {
		require.NoError(t, k.Set(name, value))
	}
	data, err := json.Marshal(k)
	require.NoError(t, err)
	return data
}

// TestJWXJWKsParseHere: the JWKs jwx writes for RSA 2048, 3072 and 4096,
// EC P-256, P-384 and P-521, Ed25519 and X25519 public keys, bare, with a
// kid, alg and use, and in a JWK Set, read here to the key jwx reads; what
// ParseJWK refuses of them, it refused before the rewrite too (a private
// key, an algorithm Qlik does not verify with).
func TestJWXJWKsParseHere(t *testing.T) {
	xpub, xpriv, err := x25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	keys := map[string]crypto.PublicKey{
		"RSA-2048": fixturePublicKey(t, "rsa2048-public.pem"),
		"RSA-3072": readPublicKey(t, "testdata/test-only-rsa3072-public.pem"),
		"RSA-4096": readPublicKey(t, "testdata/test-only-rsa4096-public.pem"),
		"P-256":    fixturePublicKey(t, "ec-p256-pkcs8.pem"),
		"P-384":    fixturePublicKey(t, "ec-p384-pkcs8.pem"),
		"P-521":    fixturePublicKey(t, "ec-p521-pkcs8.pem"),
		"Ed25519":  fixturePublicKey(t, "ed25519-pkcs8.pem"),
		"X25519":   xpub,
	}
	for name, pub := range keys {
		t.Run(name, func(t *testing.T) {
			variants := map[string][]byte{
				"bare":      jwxWritten(t, pub, nil),
				"kid, use":  jwxWritten(t, pub, map[string]any{jwk.KeyIDKey: "k1", jwk.KeyUsageKey: jwk.ForSignature}),
				"key_ops":   jwxWritten(t, pub, map[string]any{jwk.KeyOpsKey: jwk.KeyOperationList{jwk.KeyOpVerify}}),
				"alg RS256": jwxWritten(t, pub, map[string]any{jwk.AlgorithmKey: jwa.RS256}),
			}
			set := jwk.NewSet()
			k, err := jwk.ParseKey(variants["kid, use"])
			require.NoError(t, err)
			require.NoError(t, set.AddKey(k))
			variants["set"], err = json.Marshal(set)
			require.NoError(t, err)
			for variant, data := range variants {
				theirs, err := jwxParseJWK(data)
				require.NoError(t, err, "%s: jwx reads what it wrote", variant)
				ours, err := ParseJWK(data)
				require.NoError(t, err, variant)
				assert.True(t, sameKey(ours, theirs), "%s: %T", variant, ours)
				if x, ok := ours.(*ecdh.PublicKey); ok {
					assert.Equal(t, []byte(xpub), x.Bytes())
				} else {
					assert.True(t, ours.(interface{ Equal(crypto.PublicKey) bool }).Equal(pub))
				}
			}
			// An algorithm of the key's own type: Qlik verifies RS256,
			// RS384 and RS512 only, before and after the rewrite.
			own := map[string]jwa.SignatureAlgorithm{"P-256": jwa.ES256, "P-384": jwa.ES384, "P-521": jwa.ES512, "Ed25519": jwa.EdDSA}[name]
			if own != "" {
				_, err := ParseJWK(jwxWritten(t, pub, map[string]any{jwk.AlgorithmKey: own}))
				assert.ErrorIs(t, err, ErrUnsupportedJWK)
			}
			_, err = ParseJWK(jwxWritten(t, pub, map[string]any{jwk.KeyUsageKey: jwk.ForEncryption}))
			assert.ErrorIs(t, err, ErrUnsupportedJWK)
		})
	}
	t.Run("private keys", func(t *testing.T) {
		for name, file := range map[string]string{"RSA": "rsa2048-pkcs8.pem", "EC": "ec-p256-pkcs8.pem", "Ed25519": "ed25519-pkcs8.pem"} {
			data, err := os.ReadFile("../../testdata/test-only-" + file)
			require.NoError(t, err)
			block, _ := pem.Decode(data)
			priv, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			require.NoError(t, err)
			js := jwxWritten(t, priv, nil)
			_, err = ParseJWK(js)
			assert.ErrorIs(t, err, ErrPrivateJWK, name)
			assertNoMaterial(t, err, js)
		}
		js := jwxWritten(t, xpriv, nil)
		_, err = ParseJWK(js)
		assert.ErrorIs(t, err, ErrPrivateJWK, "X25519")
		js = jwxWritten(t, []byte("a shared secret of 32 bytes, ok"), nil)
		_, err = ParseJWK(js)
		assert.ErrorIs(t, err, ErrPrivateJWK, "oct")
		assertNoMaterial(t, err, js)
	})
}

// jwkMaterialMembers are the members whose values are key material.
var jwkMaterialMembers = []string{"n", "e", "x", "y", "d", "p", "q", "dp", "dq", "qi", "k", "x5c"}

// assertNoMaterial checks that err repeats no key material of the JWK (or
// JWK Set) data: no value of a member of jwkMaterialMembers, unless the
// same text is also a member name or the kty, crv, use or alg, which errors
// may name.
func assertNoMaterial(t testing.TB, err error, data []byte) {
	t.Helper()
	if err == nil {
		return
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	objects := []json.RawMessage{data}
	if json.Unmarshal(data, &set) == nil {
		objects = append(objects, set.Keys...)
	}
	named := map[string]bool{}
	var material []string
	for _, o := range objects {
		var m map[string]json.RawMessage
		if json.Unmarshal(o, &m) != nil {
			continue
		}
		for name, v := range m {
			named[name] = true
			var s string
			if json.Unmarshal(v, &s) != nil {
				continue
			}
			switch name {
			case "kty", "crv", "use", "alg":
				named[s] = true
			}
			for _, mm := range jwkMaterialMembers {
				if name == mm && len(s) >= 8 {
					material = append(material, s)
				}
			}
		}
	}
	for _, s := range material {
		if !named[s] && !strings.Contains(fmt.Sprint(named), s) {
			assert.NotContains(t, err.Error(), s, "key material in the error")
		}
	}
}

// TestParseJWKStricterThanJWX: the JWKs jwx v2 read and ParseJWK refuses
// (see its doc), and those both refuse, each with the error class ParseJWK
// gives; none of the errors repeats key material.
func TestParseJWKStricterThanJWX(t *testing.T) {
	b64 := jwkB64.EncodeToString
	rsaPub := fixturePublicKey(t, "rsa2048-public.pem").(*rsa.PublicKey)
	n := b64(rsaPub.N.Bytes())
	rsaJWK := func(extra string) string { return `{"kty":"RSA","n":"` + n + `","e":"AQAB"` + extra + `}` }
	ec := fixturePublicKey(t, "ec-p256-pkcs8.pem").(*ecdsa.PublicKey)
	raw, err := ec.Bytes()
	require.NoError(t, err)
	x, y := raw[1:33], raw[33:]
	ecJWK := func(x, y string) string { return `{"kty":"EC","crv":"P-256","x":"` + x + `","y":"` + y + `"}` }
	offCurve := bytes.Clone(y)
	offCurve[31] ^= 1
	certPEM, err := os.ReadFile("../../testdata/test-only-rsa2048.cer")
	require.NoError(t, err)
	block, _ := pem.Decode(certPEM)
	cert := base64.StdEncoding.EncodeToString(block.Bytes)
	otherCert, err := os.ReadFile("../../testdata/test-only-ed448.cer")
	require.NoError(t, err)
	block, _ = pem.Decode(otherCert)
	ed448Cert := base64.StdEncoding.EncodeToString(block.Bytes)

	var (
		malformed   = errors.New("malformed")
		unsupported = ErrUnsupportedJWK
		private     = ErrPrivateJWK
	)
	cases := []struct {
		name    string
		jwk     string
		want    error
		jwxRead bool // jwx v2 read a key from it
	}{
		{"padded n", `{"kty":"RSA","n":"` + base64.URLEncoding.EncodeToString(rsaPub.N.Bytes()) + `","e":"AQAB"}`, malformed, true},
		{"standard base64 n", `{"kty":"RSA","n":"` + base64.StdEncoding.EncodeToString(rsaPub.N.Bytes()) + `","e":"AQAB"}`, malformed, true},
		{"line break in n", `{"kty":"RSA","n":"` + n[:40] + `\n` + n[40:] + `","e":"AQAB"}`, malformed, true},
		{"line break in x5c", rsaJWK(`,"x5c":["` + cert[:64] + `\r\n` + cert[64:] + `"]`), malformed, true},
		{"line break in x", ecJWK(b64(x)+`\r`, b64(y)), malformed, true},
		{"e zero", `{"kty":"RSA","n":"` + n + `","e":"AA"}`, malformed, true},
		{"e empty", `{"kty":"RSA","n":"` + n + `","e":""}`, malformed, true},
		{"e over 2^31-1", `{"kty":"RSA","n":"` + n + `","e":"gAAAAQ"}`, unsupported, true},
		{"e of 65 bits", `{"kty":"RSA","n":"` + n + `","e":"AQAAAAAAAAAB"}`, unsupported, true},
		{"n twice", rsaJWK(`,"n":"AQAB"`), malformed, true},
		{"KTY", `{"KTY":"RSA","n":"` + n + `","e":"AQAB"}`, malformed, true},
		{"use enc and USE sig", rsaJWK(`,"use":"enc","USE":"sig"`), malformed, true},
		{"Use enc", rsaJWK(`,"Use":"enc"`), unsupported, true},
		{"alg null", rsaJWK(`,"alg":null`), malformed, true},
		{"kid null", rsaJWK(`,"kid":null`), malformed, true},
		{"key_ops twice", rsaJWK(`,"key_ops":["verify","verify"]`), malformed, true},
		{"x5c not base64", rsaJWK(`,"x5c":["junk"]`), malformed, true},
		{"x5c url-safe", rsaJWK(`,"x5c":["` + strings.NewReplacer("+", "-", "/", "_").Replace(cert) + `"]`), malformed, true},
		{"x5c of another key", rsaJWK(`,"x5c":["` + ed448Cert + `"]`), malformed, true},
		{"x5t not a SHA-1", rsaJWK(`,"x5t":"AQAB"`), malformed, true},
		{"p without d", rsaJWK(`,"p":"AQAB"`), private, true},
		{"oth", rsaJWK(`,"oth":[]`), private, true},
		{"padded x", ecJWK(base64.URLEncoding.EncodeToString(x), base64.URLEncoding.EncodeToString(y)), malformed, true},
		{"short x", ecJWK(b64(x[1:]), b64(y)), malformed, true},
		{"point off the curve", ecJWK(b64(x), b64(offCurve)), malformed, true},
		{"point at zero", ecJWK(b64(make([]byte, 32)), b64(make([]byte, 32))), malformed, true},
		{"short Ed25519", `{"kty":"OKP","crv":"Ed25519","x":"` + b64(make([]byte, 31)) + `"}`, malformed, true},
		{"short X25519", `{"kty":"OKP","crv":"X25519","x":"` + b64(make([]byte, 31)) + `"}`, malformed, true},
		// Refused before the rewrite too: jwx read "oct" and "d" as the
		// private keys they are.
		{"secp256k1", `{"kty":"EC","crv":"secp256k1","x":"` + b64(x) + `","y":"` + b64(y) + `"}`, malformed, false},
		{"Ed448", `{"kty":"OKP","crv":"Ed448","x":"` + b64(make([]byte, 57)) + `"}`, malformed, false},
		{"oct", `{"kty":"oct","k":"c2VjcmV0"}`, private, true},
		{"d", rsaJWK(`,"d":"` + n + `"`), private, true},
		{"two keys", `{"keys":[` + rsaJWK("") + `,` + rsaJWK("") + `]}`, malformed, false},
		{"kid a number", rsaJWK(`,"kid":5`), malformed, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, jwxErr := jwxParseJWK([]byte(c.jwk))
			assert.Equal(t, c.jwxRead, jwxErr == nil, "jwx read it: %v", jwxErr)
			pub, err := ParseJWK([]byte(c.jwk))
			assert.Nil(t, pub)
			require.Error(t, err)
			if c.want == malformed {
				assert.False(t, errors.Is(err, ErrPrivateJWK) || errors.Is(err, ErrUnsupportedJWK), "%v", err)
			} else {
				assert.ErrorIs(t, err, c.want)
			}
			assertNoMaterial(t, err, []byte(c.jwk))
			assert.NotContains(t, err.Error(), n[:20])
		})
	}
	t.Run("leading zero octets", func(t *testing.T) {
		for _, jwk := range []string{
			`{"kty":"RSA","n":"` + b64(append([]byte{0}, rsaPub.N.Bytes()...)) + `","e":"AQAB"}`,
			`{"kty":"RSA","n":"` + n + `","e":"AAEAAQ"}`,
		} {
			pub, err := ParseJWK([]byte(jwk))
			require.NoError(t, err)
			assert.True(t, rsaPub.Equal(pub))
			_, jwxErr := jwxParseJWK([]byte(jwk))
			assert.NoError(t, jwxErr, "jwx reads it too")
		}
	})
	t.Run("x5c of the key", func(t *testing.T) {
		for _, extra := range []string{`,"x5c":["` + cert + `"]`, `,"x5c":["` + cert + `","` + ed448Cert + `"]`, `,"x5c":[]`} {
			pub, err := ParseJWK([]byte(rsaJWK(extra)))
			require.NoError(t, err)
			assert.True(t, rsaPub.Equal(pub))
		}
	})
}
