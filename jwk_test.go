package qsjwt

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPublicJWK(t *testing.T) {
	key := testKey(t)
	for _, kid := range []string{"kid-1", `a "quoted" <kid> & ünïcode`, ""} {
		t.Run(kid, func(t *testing.T) {
			data, err := PublicJWK(&key.PublicKey, kid)
			require.NoError(t, err)

			// Read with encoding/json and check n and e with math/big,
			// independently of jwx and of ParseJWK.
			var members map[string]string
			require.NoError(t, json.Unmarshal(data, &members))
			want := kid
			if kid == "" {
				want, err = Thumbprint(&key.PublicKey)
				require.NoError(t, err)
			}
			n, err := base64.RawURLEncoding.DecodeString(members["n"])
			require.NoError(t, err)
			e, err := base64.RawURLEncoding.DecodeString(members["e"])
			require.NoError(t, err)
			assert.Equal(t, 0, key.N.Cmp(new(big.Int).SetBytes(n)), "n is the key's modulus")
			assert.Equal(t, int64(key.E), new(big.Int).SetBytes(e).Int64(), "e is the key's exponent")
			fromJWK := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
			digest := sha256.Sum256([]byte("header.payload"))
			sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest[:])
			require.NoError(t, err)
			assert.NoError(t, rsa.VerifyPKCS1v15(fromJWK, crypto.SHA256, digest[:], sig), "crypto/rsa verifies with the JWK's n and e")
			delete(members, "n")
			delete(members, "e")
			assert.Equal(t, map[string]string{"kty": "RSA", "kid": want, "alg": "RS256", "use": "sig"}, members, "no other member, none private")

			pub, err := ParseJWK(data)
			require.NoError(t, err)
			assert.True(t, key.PublicKey.Equal(pub), "ParseJWK reads it back")
		})
	}
}

func TestPublicJWKRefusals(t *testing.T) {
	key := testKey(t)
	ec, err := ParsePrivateKey(fixture(t, "ec-p256-sec1.pem"))
	require.NoError(t, err)

	_, err = PublicJWK(key, "kid")
	requireKeyError(t, err, []error{errNotPublicKey}, []string{"key.Public()"}, nil)
	_, err = PublicJWK(ec.Public(), "kid")
	requireKeyError(t, err, nil, []string{"ECDSA"}, nil)
	_, err = PublicJWK(&rsa.PublicKey{N: new(big.Int).Lsh(big.NewInt(1), 1023), E: 65537}, "kid")
	requireKeyError(t, err, nil, []string{"1024 bits"}, nil)
	_, err = PublicJWK(&key.PublicKey, "bad \xff kid")
	requireKeyError(t, err, nil, []string{"UTF-8"}, nil)
	_, err = PublicJWK(nil, "kid")
	requireKeyError(t, err, nil, nil, nil)
	_, err = PublicJWK((*rsa.PublicKey)(nil), "kid")
	requireKeyError(t, err, nil, []string{"empty"}, nil)
}

// TestParseJWKKeyTypes pins what ParseJWK gives for each key type a JWK can
// hold, as it gave while jwx read JWKs: an RSA key Qlik accepts; an EC
// (P-256, P-384, P-521), Ed25519 or X25519 public key, returned for the
// verifiers to refuse (X25519 is now a *ecdh.PublicKey, where jwx had a type
// of its own); an error for curves qsjwt does not read.
func TestParseJWKKeyTypes(t *testing.T) {
	publicOf := func(name string) crypto.PublicKey {
		key, err := ParsePrivateKey(fixture(t, name))
		require.NoError(t, err, name)
		return key.Public()
	}
	xkey, err := ecdh.X25519().GenerateKey(rand.Reader)
	require.NoError(t, err)
	ecJWK := func(crv string, pub crypto.PublicKey) string {
		raw, err := pub.(*ecdsa.PublicKey).Bytes()
		require.NoError(t, err)
		size := (len(raw) - 1) / 2
		return fmt.Sprintf(`{"kty":"EC","crv":%q,"x":%q,"y":%q}`, crv, b64(raw[1:1+size]), b64(raw[1+size:]))
	}
	rsaPub := &testKey(t).PublicKey
	for _, tc := range []struct {
		name, jwk string
		want      crypto.PublicKey
	}{
		{"RSA", fmt.Sprintf(`{"kty":"RSA","n":%q,"e":"AQAB"}`, b64(rsaPub.N.Bytes())), rsaPub},
		{"P-256", ecJWK("P-256", publicOf("ec-p256-pkcs8.pem")), publicOf("ec-p256-pkcs8.pem")},
		{"P-384", ecJWK("P-384", publicOf("ec-p384-pkcs8.pem")), publicOf("ec-p384-pkcs8.pem")},
		{"P-521", ecJWK("P-521", publicOf("ec-p521-pkcs8.pem")), publicOf("ec-p521-pkcs8.pem")},
		{"Ed25519", fmt.Sprintf(`{"kty":"OKP","crv":"Ed25519","x":%q}`, b64(publicOf("ed25519-pkcs8.pem").(ed25519.PublicKey))), publicOf("ed25519-pkcs8.pem")},
		{"X25519", fmt.Sprintf(`{"kty":"OKP","crv":"X25519","x":%q}`, b64(xkey.PublicKey().Bytes())), xkey.PublicKey()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pub, err := ParseJWK([]byte(tc.jwk))
			require.NoError(t, err)
			assert.IsType(t, tc.want, pub)
			assert.True(t, tc.want.(interface{ Equal(crypto.PublicKey) bool }).Equal(pub))
			_, err = NewCloudVerifier(pub, WithIssuer("tenant.eu.qlikcloud.com"), WithKeyID("k"))
			if tc.name == "RSA" {
				assert.NoError(t, err)
			} else {
				assert.True(t, hasOption(unjoin(err), "key"), "a verifier refuses it: %v", err)
			}
		})
	}
	for name, jwk := range map[string]string{
		"secp256k1":   `{"kty":"EC","crv":"secp256k1","x":"` + b64(make([]byte, 32)) + `","y":"` + b64(make([]byte, 32)) + `"}`,
		"Ed448":       `{"kty":"OKP","crv":"Ed448","x":"` + b64(make([]byte, 57)) + `"}`,
		"X448":        `{"kty":"OKP","crv":"X448","x":"` + b64(make([]byte, 56)) + `"}`,
		"unknown kty": `{"kty":"AKP","x":"AQAB"}`,
	} {
		_, err := ParseJWK([]byte(jwk))
		requireKeyError(t, err, []error{errMalformedKey}, nil, nil)
		assert.NotErrorIs(t, err, ErrUnsupportedKey, name)
	}
}
