package qsjwt

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
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
