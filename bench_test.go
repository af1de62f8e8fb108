package qsjwt

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"strings"
	"sync"
	"testing"
)

// The benchmarks compare qsjwt's Sign with the raw RSA signature it wraps, in
// the same run: scripts/bench.sh prints the table and the ratios. Nothing
// here asserts on time.

var (
	benchKeysOnce sync.Once
	benchKeys     map[int]*rsa.PrivateKey
)

// benchKey returns an RSA key of the given size: the committed 2048-bit test
// key, or one generated once per run (generation is outside the timings).
func benchKey(b *testing.B, bits int) *rsa.PrivateKey {
	b.Helper()
	benchKeysOnce.Do(func() {
		benchKeys = map[int]*rsa.PrivateKey{2048: testKey(b)}
		for _, n := range []int{3072, 4096} {
			k, err := rsa.GenerateKey(rand.Reader, n)
			if err != nil {
				b.Fatal(err)
			}
			benchKeys[n] = k
		}
	})
	return benchKeys[bits]
}

// benchInput is a signing input of the size of a real token: a Qlik Cloud
// token's header and claims are about 400 bytes of base64url.
var benchInput = []byte(strings.Repeat("eyJhbGciOiJSUzI1NiIsImtpZCI6ImtpZCIsInR5cCI6IkpXVCJ9", 8))

func benchmarkRaw(b *testing.B, bits int, h crypto.Hash) {
	key := benchKey(b, bits)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		var sum []byte
		switch h {
		case crypto.SHA256:
			s := sha256.Sum256(benchInput)
			sum = s[:]
		case crypto.SHA384:
			s := sha512.Sum384(benchInput)
			sum = s[:]
		case crypto.SHA512:
			s := sha512.Sum512(benchInput)
			sum = s[:]
		}
		if _, err := rsa.SignPKCS1v15(nil, key, h, sum); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRawRSA is the floor: rsa.SignPKCS1v15 over the hash of a
// token-sized input, what any JWT library must at least spend.
func BenchmarkRawRSA(b *testing.B) {
	b.Run("RS256-2048", func(b *testing.B) { benchmarkRaw(b, 2048, crypto.SHA256) })
	b.Run("RS256-3072", func(b *testing.B) { benchmarkRaw(b, 3072, crypto.SHA256) })
	b.Run("RS256-4096", func(b *testing.B) { benchmarkRaw(b, 4096, crypto.SHA256) })
	b.Run("RS384-2048", func(b *testing.B) { benchmarkRaw(b, 2048, crypto.SHA384) })
	b.Run("RS512-2048", func(b *testing.B) { benchmarkRaw(b, 2048, crypto.SHA512) })
}

func benchQSEoW(b *testing.B, bits int, alg Algorithm) *QSEoW {
	s, err := SignerFromCrypto(benchKey(b, bits))
	if err != nil {
		b.Fatal(err)
	}
	q, err := NewQSEoW(WithSigner(s), WithAlgorithm(alg), WithAudience("hdJh34wkK"), WithClock(fixedClock))
	if err != nil {
		b.Fatal(err)
	}
	return q
}

var benchQSEoWUser = QSEoWUser{UserDirectory: "GRUSGRUS", UserID: "anna", Name: "Anna Andersson",
	Email: "anna@example.com", Groups: []string{"g1", "group 2"}}

var benchCloudUser = CloudUser{Subject: "anna-42", Name: "Anna Andersson", Email: "anna@example.com",
	EmailVerified: true, Groups: []string{"g1"}}

func benchCloud(b *testing.B, s Signer) *Cloud {
	c, err := NewCloud(WithSigner(s), WithIssuer("tenant.eu.qlikcloud.com"), WithKeyID("kid"), WithClock(fixedClock))
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func BenchmarkQSEoWSign(b *testing.B) {
	for _, tc := range []struct {
		name string
		bits int
		alg  Algorithm
	}{{"RS256-2048", 2048, RS256}, {"RS256-3072", 3072, RS256}, {"RS256-4096", 4096, RS256}, {"RS384-2048", 2048, RS384}, {"RS512-2048", 2048, RS512}} {
		b.Run(tc.name, func(b *testing.B) {
			q := benchQSEoW(b, tc.bits, tc.alg)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := q.Sign(ctx, benchQSEoWUser); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkCloudSign(b *testing.B) {
	key := benchKey(b, 2048)
	s, err := SignerFromCrypto(key)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		signer Signer
	}{
		{"RS256-2048", s},
		// An opaque signer: what a KMS or HSM adapter looks like to qsjwt.
		{"RS256-2048-SignerFunc", SignerFunc(key.Public(), func(_ context.Context, digest []byte, h crypto.Hash) ([]byte, error) {
			return key.Sign(nil, digest, h)
		})},
	} {
		b.Run(tc.name, func(b *testing.B) {
			c := benchCloud(b, tc.signer)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := c.Sign(ctx, benchCloudUser); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParallel runs the raw signature and Sign on every core
// (b.RunParallel); compare with the serial figures for the scaling.
func BenchmarkParallel(b *testing.B) {
	key := benchKey(b, 2048)
	b.Run("RawRSA-RS256-2048", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				sum := sha256.Sum256(benchInput)
				if _, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:]); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("CloudSign-RS256-2048", func(b *testing.B) {
		s, err := SignerFromCrypto(key)
		if err != nil {
			b.Fatal(err)
		}
		c := benchCloud(b, s)
		ctx := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := c.Sign(ctx, benchCloudUser); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
