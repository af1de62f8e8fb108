package enginetest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"math/big"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The FastKey's signatures verify with crypto/rsa, its public half is an
// RSA-2048 key with e = 65537, and it is the same key in every process.
func TestFastKeySignsAsCryptoRSAVerifies(t *testing.T) {
	k := NewFastKey()
	pub := k.PublicKey()
	assert.Equal(t, 2048, pub.N.BitLen())
	assert.Equal(t, 65537, pub.E)
	assert.Len(t, k.primes, 32)
	prod := big.NewInt(1)
	for _, p := range k.primes {
		prod.Mul(prod, new(big.Int).SetUint64(p))
	}
	assert.Zero(t, prod.Cmp(pub.N), "the primes make the modulus")
	assert.Zero(t, pub.N.Cmp(makeFastKey(seeded()).pub.N), "deterministic")

	msg := make([]byte, 100)
	for i := range 50 {
		_, err := rand.Read(msg)
		require.NoError(t, err)
		for h, d := range map[crypto.Hash][]byte{crypto.SHA256: sum256(msg), crypto.SHA384: sum384(msg), crypto.SHA512: sum512(msg)} {
			sig, err := k.Sign(nil, d, h)
			require.NoError(t, err)
			require.Len(t, sig, 256)
			require.NoError(t, rsa.VerifyPKCS1v15(pub, h, d, sig), "round %d, %v", i, h)
			d[0] ^= 1
			require.Error(t, rsa.VerifyPKCS1v15(pub, h, d, sig), "another digest fails")
		}
	}
	_, err := k.Sign(nil, sum256(msg)[:31], crypto.SHA256)
	assert.Error(t, err, "a digest of the wrong length")
	_, err = k.Sign(nil, sum256(msg), &rsa.PSSOptions{Hash: crypto.SHA256})
	assert.Error(t, err, "PSS")
	_, err = k.Sign(nil, sum256(msg), crypto.SHA1)
	assert.Error(t, err, "SHA-1")
}

func sum256(b []byte) []byte { s := sha256.Sum256(b); return s[:] }
func sum384(b []byte) []byte { s := sha512.Sum384(b); return s[:] }
func sum512(b []byte) []byte { s := sha512.Sum512(b); return s[:] }

func BenchmarkFastKeySign(b *testing.B) {
	k := NewFastKey()
	d := sum256([]byte("x"))
	for b.Loop() {
		if _, err := k.Sign(nil, d, crypto.SHA256); err != nil {
			b.Fatal(err)
		}
	}
}
