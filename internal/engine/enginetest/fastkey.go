// Package enginetest gives qsjwt's tests what they need to check tokens
// cheaply and independently: [FastKey], an RSA-2048 key that signs in
// microseconds, and jwx as a second verifier ([JWXVerify], [JWXClaims]), so
// that jwx is imported only inside internal/engine. Only tests import this
// package; nothing of it reaches the library or the qs-jwt binary.
package enginetest

import (
	"crypto"
	"crypto/rsa"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
	"math/bits"
	"math/rand/v2"
	"slices"
	"sync"
)

// FastKey is an RSA key whose modulus has 2048 bits but is the product of 32
// primes of 64 bits. Its public half is an ordinary RSA-2048 key with
// e = 65537: crypto/rsa, jwx and qsjwt's verifiers check its signatures as
// any other's, and qsjwt's builders accept it. Its private operation works
// modulo each 64-bit prime in machine words and joins the results (the
// Chinese remainder theorem), so a PKCS #1 v1.5 signature costs tens of
// microseconds where a two-prime key costs milliseconds. That makes a fuzz
// target that signs every input fast without weakening any check of the
// signature.
//
// Anyone can factor its modulus in seconds: it is for tests only. It is
// made from a fixed seed, so every process has the same key and a fuzz
// input reproduces byte for byte. A FastKey is safe for concurrent use.
type FastKey struct {
	pub    rsa.PublicKey
	primes []uint64
	exps   []uint64   // d mod (p-1) for each prime p
	coeffs []*big.Int // (N/p) * ((N/p)^-1 mod p): 1 mod p, 0 mod every other prime
}

// NewFastKey returns the process's FastKey, made once.
func NewFastKey() *FastKey { return fastKey() }

var fastKey = sync.OnceValue(func() *FastKey { return makeFastKey(seeded()) })

// seeded returns the generator the FastKey is drawn from: a fixed seed.
func seeded() *rand.Rand {
	return rand.New(rand.NewChaCha8([32]byte([]byte("qsjwt enginetest FastKey seed 01"))))
}

// makeFastKey draws 32 distinct primes p from [2^64 - 2^58, 2^64) with
// gcd(e, p-1) = 1: their product N is at least 2^2048 * (1 - 2^-6)^32 >
// 2^2047, so N has exactly 2048 bits.
func makeFastKey(r *rand.Rand) *FastKey {
	const e = 65537
	k := &FastKey{pub: rsa.PublicKey{N: big.NewInt(1), E: e}}
	for len(k.primes) < 32 {
		p := r.Uint64() | 0xfc<<56 | 1
		if (p-1)%e == 0 || slices.Contains(k.primes, p) || !new(big.Int).SetUint64(p).ProbablyPrime(20) {
			continue
		}
		k.primes = append(k.primes, p)
		k.pub.N.Mul(k.pub.N, new(big.Int).SetUint64(p))
	}
	for _, p := range k.primes {
		bp := new(big.Int).SetUint64(p)
		d := new(big.Int).ModInverse(big.NewInt(e), new(big.Int).SetUint64(p-1))
		k.exps = append(k.exps, d.Uint64())
		m := new(big.Int).Quo(k.pub.N, bp)
		inv := new(big.Int).ModInverse(new(big.Int).Mod(m, bp), bp)
		k.coeffs = append(k.coeffs, m.Mul(m, inv))
	}
	return k
}

// Public returns the *rsa.PublicKey: 2048 bits, e = 65537.
func (k *FastKey) Public() crypto.PublicKey { return &k.pub }

// PublicKey returns the public half as its concrete type.
func (k *FastKey) PublicKey() *rsa.PublicKey { return &k.pub }

// digestInfo is the DER prefix PKCS #1 v1.5 puts before a digest (RFC 8017,
// section 9.2, note 1).
var digestInfo = map[crypto.Hash][]byte{
	crypto.SHA256: {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
	crypto.SHA384: {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30},
	crypto.SHA512: {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40},
}

// Sign makes the RSA PKCS #1 v1.5 signature of digest, hashed with
// opts.HashFunc() (SHA-256, SHA-384 or SHA-512), as rsa.SignPKCS1v15 would:
// deterministic, 256 bytes. It implements crypto.Signer; rand is not used.
func (k *FastKey) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if _, pss := opts.(*rsa.PSSOptions); pss {
		return nil, errors.New("enginetest: FastKey signs PKCS #1 v1.5 only")
	}
	h := opts.HashFunc()
	prefix, ok := digestInfo[h]
	if !ok || len(digest) != h.Size() {
		return nil, fmt.Errorf("enginetest: FastKey cannot sign a %d-byte digest of %v", len(digest), h)
	}
	size := k.pub.Size()
	// EM = 0x00 0x01 0xff...0xff 0x00 DigestInfo digest.
	em := make([]byte, size)
	em[1] = 1
	t := size - len(prefix) - len(digest)
	for i := 2; i < t-1; i++ {
		em[i] = 0xff
	}
	copy(em[t:], prefix)
	copy(em[t+len(prefix):], digest)
	s := new(big.Int)
	var term, si big.Int
	for i, p := range k.primes {
		// em mod p, 64 bits at a time (each step's high word is below p).
		var r uint64
		for j := 0; j < len(em); j += 8 {
			_, r = bits.Div64(r, binary.BigEndian.Uint64(em[j:]), p)
		}
		si.SetUint64(powMod(r, k.exps[i], p))
		s.Add(s, term.Mul(&si, k.coeffs[i]))
	}
	s.Mod(s, k.pub.N)
	return s.FillBytes(make([]byte, size)), nil
}

// powMod returns x^y mod p for x < p.
func powMod(x, y, p uint64) uint64 {
	r := uint64(1)
	for ; y > 0; y >>= 1 {
		if y&1 == 1 {
			r = mulMod(r, x, p)
		}
		x = mulMod(x, x, p)
	}
	return r
}

// mulMod returns a*b mod p for a, b < p.
func mulMod(a, b, p uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	_, r := bits.Div64(hi, lo, p)
	return r
}
